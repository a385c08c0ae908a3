package leaktest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { VerifyTestMain(m) }

// fakeTB is the smallest stand-in for testing.TB that check needs: it records errors instead of failing.
type fakeTB struct {
	name     string
	errs     []error
	cleanups []func()
}

func (f *fakeTB) Helper()           {}
func (f *fakeTB) Name() string      { return f.name }
func (f *fakeTB) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }
func (f *fakeTB) Error(args ...any) {
	if err, ok := args[0].(error); ok && len(args) == 1 {
		f.errs = append(f.errs, err)
		return
	}
	f.errs = append(f.errs, errors.New(fmt.Sprint(args...)))
}

// finish runs the cleanups the way the testing package does at the end of a test: last registered first.
func (f *fakeTB) finish() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
	// check labelled the calling goroutine with the fake test's name: give it back its real test's identity.
	pprof.SetGoroutineLabels(context.Background())
}

// blockers starts n goroutines from one go statement; each waits for stop.
func blockers(n int, stop <-chan struct{}) {
	for range n {
		go func() { <-stop }()
	}
}

// selecter starts one goroutine that waits for stop in a select.
func selecter(stop <-chan struct{}) {
	go func() {
		select {
		case <-stop:
		case <-time.After(time.Hour):
		}
	}()
}

func TestCheckReportsDeliberateLeak(t *testing.T) {
	stop := make(chan struct{})
	defer close(stop)

	fake := &fakeTB{name: "TestLeaky"}
	check(fake, WithTimeout(100*time.Millisecond))
	blockers(3, stop)
	selecter(stop)
	fake.finish()

	if len(fake.errs) != 1 {
		t.Fatalf("check reported %d errors, want 1: %v", len(fake.errs), fake.errs)
	}
	var le *LeakError
	if !errors.As(fake.errs[0], &le) {
		t.Fatalf("error is %T, want *LeakError: %v", fake.errs[0], fake.errs[0])
	}
	if le.Test != "TestLeaky" || le.Count() != 4 || le.Groups() != 2 {
		t.Errorf("LeakError{Test: %q, Count: %d, Groups: %d}, want TestLeaky, 4, 2", le.Test, le.Count(), le.Groups())
	}
	msg := le.Error()
	for _, want := range []string{
		"leaktest: TestLeaky: 4 goroutines leaked (2 distinct stacks)\n",
		"\n3 goroutines [chan receive] (ids ",
		"  created by github.com/perfobs/perfobs-go/leaktest.blockers in goroutine ",
		"leaktest/leaktest_test.go:",
		"  stack, top first:\n    github.com/perfobs/perfobs-go/leaktest.blockers.func1\n",
		"\n1 goroutine [select] (id ",
		"  created by github.com/perfobs/perfobs-go/leaktest.selecter in goroutine ",
		"GODEBUG=tracebackancestors=",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("report lacks %q:\n%s", want, msg)
		}
	}
	// The bigger group comes first.
	if i, j := strings.Index(msg, "3 goroutines"), strings.Index(msg, "1 goroutine "); i < 0 || j < i {
		t.Errorf("groups not ordered biggest first:\n%s", msg)
	}
	// A per-test report does not repeat the test for each group.
	if strings.Contains(msg, "started during") {
		t.Errorf("per-test report names tests per group:\n%s", msg)
	}
}

func TestCheckPassesWhenGoroutinesEnd(t *testing.T) {
	fake := &fakeTB{name: "TestTidy"}
	check(fake, WithTimeout(time.Second))
	stop := make(chan struct{})
	blockers(5, stop)
	var wg sync.WaitGroup
	wg.Go(func() { time.Sleep(50 * time.Millisecond) }) // still running when the check starts looking
	close(stop)
	fake.finish()
	if len(fake.errs) != 0 {
		t.Fatalf("check failed a test whose goroutines all end: %v", fake.errs)
	}
	wg.Wait()
}

// persistConns counts the client connection goroutines of net/http.
func persistConns(t *testing.T) int {
	t.Helper()
	gs, err := allGoroutines()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range gs {
		if g.hasFunction("net/http.(*persistConn).readLoop") {
			n++
		}
	}
	return n
}

func TestCheckHTTPKeepAlive(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "hello")
	}))
	defer srv.Close()
	own := &http.Transport{}
	defer own.CloseIdleConnections()

	tests := []struct {
		name      string
		client    *http.Client
		opts      []Option
		closeBody bool
		wantLeak  bool
	}{
		{name: "idle keep-alive connection of http.DefaultTransport passes", client: http.DefaultClient, closeBody: true},
		{name: "idle keep-alive connection of a registered transport passes", client: &http.Client{Transport: own},
			opts: []Option{CloseIdleConnections(own)}, closeBody: true},
		{name: "unclosed response body fails", client: http.DefaultClient, closeBody: false, wantLeak: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeTB{name: "TestHTTP"}
			check(fake, append(tt.opts, WithTimeout(300*time.Millisecond))...)
			resp, err := tt.client.Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			if tt.closeBody {
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
			}
			// Make sure there is a kept-alive connection for the check to deal with.
			deadline := time.Now().Add(time.Second)
			for persistConns(t) == 0 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			if persistConns(t) == 0 {
				t.Fatal("no client connection goroutine before the check: the test proves nothing")
			}
			fake.finish()

			if !tt.wantLeak {
				if len(fake.errs) != 0 {
					t.Fatalf("check failed on an idle keep-alive connection: %v", fake.errs)
				}
				return
			}
			_ = resp.Body.Close()
			if len(fake.errs) != 1 {
				t.Fatalf("check reported %d errors on an unclosed body, want 1", len(fake.errs))
			}
			msg := fake.errs[0].Error()
			for _, want := range []string{
				"leaktest: TestHTTP: ",
				"net/http.(*persistConn).readLoop",
				"net/http.(*persistConn).writeLoop",
				"created by net/http.(*Transport).dialConn",
			} {
				if !strings.Contains(msg, want) {
					t.Errorf("report lacks %q:\n%s", want, msg)
				}
			}
		})
	}
}

func TestCheckConnectionBecomingIdleWhileLooking(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "hello")
	}))
	defer srv.Close()

	fake := &fakeTB{name: "TestLate"}
	check(fake, WithTimeout(200*time.Millisecond))
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		// The body is read and closed only after the check has started looking (and closed idle connections
		// once): the connection becomes idle in the middle of the look, and must be closed then.
		time.Sleep(100 * time.Millisecond)
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	})
	fake.finish()
	wg.Wait()
	if len(fake.errs) != 0 {
		t.Fatalf("check failed on a connection that became idle while it looked: %v", fake.errs)
	}
}

func TestCheckParallelNeighbours(t *testing.T) {
	tests := []struct {
		name            string
		neighbourChecks bool // the neighbour calls Check, so its goroutines carry its label
		beforeCheck     bool // the neighbour starts its goroutines before the checked test calls Check
		wantBlamed      bool
	}{
		{name: "goroutines a neighbour started earlier are not blamed", beforeCheck: true, wantBlamed: false},
		{name: "goroutines of a neighbour that calls Check are not blamed", neighbourChecks: true, wantBlamed: false},
		// The limit: goroutines without a label, started during the check, cannot be told apart from the
		// checked test's own.
		{name: "goroutines of a neighbour without Check started meanwhile are blamed", wantBlamed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkStarted := make(chan struct{})
			neighbourStarted := make(chan struct{})
			checkedDone := make(chan struct{})
			var fake *fakeTB
			t.Run("group", func(t *testing.T) {
				t.Run("neighbour", func(t *testing.T) {
					t.Parallel()
					if tt.neighbourChecks {
						Check(t)
					}
					if !tt.beforeCheck {
						<-checkStarted
					}
					release := make(chan struct{})
					blockers(2, release) // alive when the other test ends
					close(neighbourStarted)
					<-checkedDone
					close(release)
				})
				t.Run("checked", func(t *testing.T) {
					t.Parallel()
					if tt.beforeCheck {
						<-neighbourStarted
					}
					fake = &fakeTB{name: t.Name()}
					check(fake, WithTimeout(100*time.Millisecond))
					close(checkStarted)
					<-neighbourStarted
					stop := make(chan struct{})
					blockers(3, stop) // its own goroutines, which end in time
					close(stop)
					fake.finish()
					close(checkedDone)
				})
			})
			if blamed := len(fake.errs) > 0; blamed != tt.wantBlamed {
				t.Fatalf("neighbour's goroutines blamed: %v, want %v; errors: %v", blamed, tt.wantBlamed, fake.errs)
			}
			if tt.wantBlamed && !strings.Contains(fake.errs[0].Error(), "2 goroutines [chan receive]") {
				t.Errorf("report does not show the neighbour's 2 goroutines:\n%v", fake.errs[0])
			}
		})
	}
}

func TestCheckSubtestGoroutinesBelongToParent(t *testing.T) {
	stop := make(chan struct{})
	defer close(stop)
	fake := &fakeTB{name: t.Name()}
	check(fake, WithTimeout(100*time.Millisecond))
	t.Run("sub", func(t *testing.T) {
		Check(t, IgnoreTopFunction("github.com/perfobs/perfobs-go/leaktest.blockers.func1")) // the subtest accepts them
		blockers(2, stop)
	})
	fake.finish()
	if len(fake.errs) != 1 {
		t.Fatalf("parent check reported %d errors, want 1 for the subtest's goroutines: %v", len(fake.errs), fake.errs)
	}
	for _, want := range []string{"2 goroutines [chan receive]", "  started during " + t.Name() + "/sub\n"} {
		if !strings.Contains(fake.errs[0].Error(), want) {
			t.Errorf("report lacks %q:\n%v", want, fake.errs[0])
		}
	}
}

func TestVerifyTestMainReportsTests(t *testing.T) {
	labelled := func(name string, f func()) {
		pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(), pprof.Labels(LabelKey, name)))
		defer pprof.SetGoroutineLabels(context.Background())
		f()
	}
	tests := []struct {
		name     string
		run      func(stop chan struct{}) int
		wantCode int
		want     []string
	}{
		{name: "clean run passes", run: func(chan struct{}) int { return 0 }, wantCode: 0},
		{name: "failed run keeps its code and is not checked", run: func(stop chan struct{}) int {
			blockers(1, stop)
			return 3
		}, wantCode: 3},
		{name: "leak names the tests that started it", run: func(stop chan struct{}) int {
			labelled("TestStarter", func() { blockers(2, stop) })
			labelled("TestOther", func() { blockers(1, stop) })
			blockers(1, stop)
			return 0
		}, wantCode: 1, want: []string{
			"leaktest: after all tests of leaktest.test: 4 goroutines leaked (1 distinct stack)\n",
			"4 goroutines [chan receive] (ids ",
			"  started during an unknown test (call leaktest.Check(t) in each test to name it) (1), " +
				"TestOther (1), TestStarter (2)\n",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stop := make(chan struct{})
			defer close(stop)
			var stderr bytes.Buffer
			code := verifyTestMain(runFunc(func() int { return tt.run(stop) }), &stderr,
				IgnoreCurrent(), WithTimeout(100*time.Millisecond))
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tt.wantCode, &stderr)
			}
			if len(tt.want) == 0 && stderr.Len() > 0 {
				t.Errorf("unexpected report:\n%s", &stderr)
			}
			for _, want := range tt.want {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("report lacks %q:\n%s", want, &stderr)
				}
			}
		})
	}
}

func TestFindRefusesGoleakCleanup(t *testing.T) {
	err := Find(Goleak(goleak.Cleanup(func(int) {})))
	if err == nil || !strings.Contains(err.Error(), "Cleanup can only be passed to VerifyNone or VerifyTestMain") {
		t.Fatalf("Find with goleak.Cleanup = %v, want goleak's refusal", err)
	}
}

func BenchmarkFindClean(b *testing.B) {
	before := IgnoreCurrent()
	for b.Loop() {
		if err := Find(before); err != nil {
			b.Fatal(err)
		}
	}
}

// runFunc is a stand-in for *testing.M.
type runFunc func() int

func (f runFunc) Run() int { return f() }

// TestHelperProcess is not a test: the subprocess tests below run the test binary on it, with
// LEAKTEST_HELPER naming what it should do. Without the variable it returns at once.
func TestHelperProcess(t *testing.T) {
	switch os.Getenv("LEAKTEST_HELPER") {
	case "check":
		never := make(chan struct{})
		Check(t, WithTimeout(100*time.Millisecond))
		blockers(3, never)
		selecter(never)
	case "main":
		blockers(2, make(chan struct{}))
	}
}

func TestDeliberateLeakFailsTestBinary(t *testing.T) {
	tests := []struct {
		mode string
		want []string
	}{
		{mode: "check", want: []string{
			"--- FAIL: TestHelperProcess",
			"leaktest: TestHelperProcess: 4 goroutines leaked (2 distinct stacks)",
			"3 goroutines [chan receive]",
			"created by github.com/perfobs/perfobs-go/leaktest.blockers in goroutine",
			"1 goroutine [select]",
		}},
		{mode: "main", want: []string{
			"leaktest: after all tests of leaktest.test: 2 goroutines leaked (1 distinct stack)",
			"created by github.com/perfobs/perfobs-go/leaktest.blockers in goroutine",
			"started during an unknown test",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
			cmd.Env = append(os.Environ(), "LEAKTEST_HELPER="+tt.mode)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Fatalf("helper exited with %v, want exit status 1; output:\n%s", err, out)
			}
			for _, want := range tt.want {
				if !bytes.Contains(out, []byte(want)) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
		})
	}
}
