package leaktest

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// LabelKey is the pprof label Check puts on the test's goroutine. Every goroutine the test starts, directly or
// through others, inherits it, which is how a check tells a test's goroutines from its neighbours'.
const LabelKey = "leaktest.test"

// VerifyTestMain runs the tests of m and then, when they passed, fails the test binary (exit status 1, with a
// report on stderr) if goroutines are left. Call it from TestMain:
//
//	func TestMain(m *testing.M) { leaktest.VerifyTestMain(m) }
//
// Before running the tests it turns on GODEBUG=tracebacklabels=1 (unless GODEBUG already sets it), so that stack
// dumps carry pprof labels: that is how Check attributes goroutines to tests, and how this report names the test
// that started each leaked goroutine. The setting only adds labels to the headers of goroutine dumps.
func VerifyTestMain(m *testing.M, opts ...Option) {
	os.Exit(verifyTestMain(m, os.Stderr, opts...))
}

// runner is the part of *testing.M that verifyTestMain uses.
type runner interface {
	Run() int
}

func verifyTestMain(m runner, stderr io.Writer, opts ...Option) int {
	enableTracebackLabels()
	code := m.Run()
	if code != 0 {
		return code
	}
	if err := find(newConfig(opts), ""); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

// enableTracebackLabels sets GODEBUG=tracebacklabels=1, keeping the rest of GODEBUG, unless it is set already.
func enableTracebackLabels() {
	godebug := os.Getenv("GODEBUG")
	for _, kv := range strings.Split(godebug, ",") {
		if strings.HasPrefix(strings.TrimSpace(kv), "tracebacklabels=") {
			return
		}
	}
	if godebug != "" {
		godebug += ","
	}
	_ = os.Setenv("GODEBUG", godebug+"tracebacklabels=1") // cannot fail for this key and value
}

// Check, called at the top of a test, checks for leaked goroutines when the test ends (through t.Cleanup, after
// the test's other cleanups, so a server closed with t.Cleanup is closed first). It blames the test only for
// goroutines started after Check was called, and not for those carrying another test's label (see the package
// documentation on parallel tests).
func Check(t testing.TB, opts ...Option) {
	t.Helper()
	check(t, opts...)
}

// tb is the part of testing.TB that check uses.
type tb interface {
	Helper()
	Name() string
	Cleanup(func())
	Error(args ...any)
}

func check(t tb, opts ...Option) {
	t.Helper()
	cfg := newConfig(opts)
	name := t.Name()
	cfg.goleakOpts = append(cfg.goleakOpts, goleak.IgnoreCurrent())
	pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(), pprof.Labels(LabelKey, name)))
	t.Cleanup(func() {
		t.Helper()
		if err := find(cfg, name); err != nil {
			t.Error(err)
		}
	})
}

// Find looks for leaked goroutines now: it closes idle HTTP connections and looks again until nothing is left or
// the timeout (WithTimeout, default DefaultTimeout) passes, then returns a *LeakError describing what is left,
// or nil. It considers every goroutine but its caller; pass IgnoreCurrent, created earlier, to ignore those that
// existed then.
func Find(opts ...Option) error {
	return find(newConfig(opts), "")
}

// find runs goleak.Find until nothing that belongs to test is left or the deadline passes. test is empty for a
// check of the whole binary.
func find(cfg *config, test string) error {
	gopts := append(cfg.goleakOptions(), goleak.IgnoreAnyFunction(nameOf(closeIdleWhile)))
	deadline := time.Now().Add(cfg.timeout)
	for {
		// goleak.Find looks again and again for about 0.4 s before it gives up; connections that become idle
		// meanwhile (a response body read to the end just now) are closed while it looks.
		stop, done := make(chan struct{}), make(chan struct{})
		go closeIdleWhile(cfg.closers, stop, done)
		err := goleak.Find(gopts...)
		close(stop)
		<-done
		if err == nil {
			return nil
		}
		ids := leakedIDs(err.Error())
		if len(ids) == 0 {
			// goleak refused an option, or its message changed: pass it on as it is.
			return fmt.Errorf("leaktest: %s: %w", orBinary(test), err)
		}
		all, perr := allGoroutines()
		left := cfg.blame(all, ids, test)
		if len(left) == 0 && perr == nil {
			return nil // what goleak saw has ended, or belongs to a neighbour
		}
		if time.Now().After(deadline) {
			if perr != nil && len(left) == 0 {
				return fmt.Errorf("leaktest: %s: reading goroutine stacks: %w\n%w", orBinary(test), perr, err)
			}
			return &LeakError{Test: test, goroutines: left}
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// closeIdleWhile closes the idle connections of closers at once, then every few milliseconds until stop is
// closed; it closes done when it returns.
func closeIdleWhile(closers []IdleCloser, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		for _, c := range closers {
			c.CloseIdleConnections()
		}
		select {
		case <-stop:
			return
		case <-tick.C:
		}
	}
}

// nameOf is the name a stack dump prints for the function fn.
func nameOf(fn any) string {
	return runtime.FuncForPC(reflect.ValueOf(fn).Pointer()).Name()
}

// goleakOptions turns the config into goleak options.
func (c *config) goleakOptions() []goleak.Option {
	opts := make([]goleak.Option, 0, len(c.ignoreTop)+len(c.ignoreAny)+len(c.goleakOpts))
	for _, fn := range c.ignoreTop {
		opts = append(opts, goleak.IgnoreTopFunction(fn))
	}
	for _, fn := range c.ignoreAny {
		opts = append(opts, goleak.IgnoreAnyFunction(fn))
	}
	return append(opts, c.goleakOpts...)
}

// blame keeps the goroutines goleak reported (ids) that this config does not ignore and that belong to test:
// those that carry test's label or a subtest's, or no label at all (they cannot be told apart from the test's
// own, so they are blamed rather than hidden). Goroutines labelled by another test are its business.
func (c *config) blame(all []goroutine, ids map[int]bool, test string) []goroutine {
	var out []goroutine
	for _, g := range all {
		if !ids[g.id] || c.ignores(g) {
			continue
		}
		if test != "" {
			if owner, ok := g.labels[LabelKey]; ok && owner != test && !strings.HasPrefix(owner, test+"/") {
				continue
			}
		}
		out = append(out, g)
	}
	return out
}

// ignores applies IgnoreTopFunction and IgnoreAnyFunction the way goleak does.
func (c *config) ignores(g goroutine) bool {
	for _, fn := range c.ignoreTop {
		if g.topFunction() == fn {
			return true
		}
	}
	for _, fn := range c.ignoreAny {
		if g.hasFunction(fn) {
			return true
		}
	}
	return false
}

var leakedIDPattern = regexp.MustCompile(`Goroutine (\d+) in state `)

// leakedIDs reads the goroutine ids out of goleak.Find's error ("Goroutine 7 in state chan receive, with ...").
func leakedIDs(msg string) map[int]bool {
	ids := map[int]bool{}
	for _, m := range leakedIDPattern.FindAllStringSubmatch(msg, -1) {
		if id, err := strconv.Atoi(m[1]); err == nil {
			ids[id] = true
		}
	}
	return ids
}

// orBinary names the test, or the test binary when the check covers all of its tests.
func orBinary(test string) string {
	if test != "" {
		return test
	}
	return "after all tests of " + filepath.Base(os.Args[0])
}
