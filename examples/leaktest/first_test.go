package leakexample_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	leakexample "github.com/perfobs/perfobs-go/examples/leaktest"
	"github.com/perfobs/perfobs-go/leaktest"
)

// Once all tests ran, nothing may be left: this catches leaks of tests that do not call Check.
func TestMain(m *testing.M) { leaktest.VerifyTestMain(m) }

// backends starts one fast backend and n slow ones, closed when the test ends, and returns their URLs.
func backends(t *testing.T, slow int) []string {
	t.Helper()
	serve := func(delay time.Duration, body string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
			_, _ = io.WriteString(w, body)
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	urls := []string{serve(0, "fast")}
	for range slow {
		urls = append(urls, serve(50*time.Millisecond, "slow"))
	}
	return urls
}

func TestFirst(t *testing.T) {
	leaktest.Check(t) // fails this test if First leaves a goroutine behind

	tests := []struct {
		name string
		slow int
	}{
		{name: "one backend", slow: 0},
		{name: "one fast, three slow", slow: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leaktest.Check(t)
			got, err := leakexample.First(context.Background(), http.DefaultClient, backends(t, tt.slow))
			if err != nil || got != "fast" {
				t.Fatalf("First = %q, %v; want fast", got, err)
			}
		})
	}
}

func TestFirstAllFail(t *testing.T) {
	leaktest.Check(t)
	srv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	_, err := leakexample.First(context.Background(), http.DefaultClient, []string{srv.URL, srv.URL})
	if err == nil || strings.Count(err.Error(), "status 404") != 2 {
		t.Fatalf("err = %v, want two 404 errors", err)
	}
}

// TestFirstLeakyLeaks shows what the check reports for the leaky version. It uses Find, not Check, so that it can
// assert on the report and then end the leaked goroutines (by cancelling their context) and pass.
func TestFirstLeakyLeaks(t *testing.T) {
	urls := backends(t, 3)
	before := leaktest.IgnoreCurrent()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	got, err := leakexample.FirstLeaky(ctx, http.DefaultClient, urls)
	if err != nil || got != "fast" {
		t.Fatalf("FirstLeaky = %q, %v; want fast", got, err)
	}

	err = leaktest.Find(before, leaktest.WithTimeout(500*time.Millisecond))
	var leak *leaktest.LeakError
	if !errors.As(err, &leak) {
		t.Fatalf("Find = %v, want a *LeakError", err)
	}
	if leak.Count() != 3 || leak.Groups() != 1 {
		t.Errorf("%d goroutines in %d groups, want the 3 slow senders in 1 group:\n%v", leak.Count(), leak.Groups(), err)
	}
	for _, want := range []string{
		"3 goroutines leaked (1 distinct stack)",
		"3 goroutines [select]",
		"created by github.com/perfobs/perfobs-go/examples/leaktest.FirstLeaky in goroutine",
		"examples/leaktest/first.go:",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("report lacks %q:\n%v", want, err)
		}
	}

	cancel() // what a request-scoped context would do; First needs no such help
	if err := leaktest.Find(before); err != nil {
		t.Fatalf("goroutines left after cancel: %v", err)
	}
}

func ExampleFirst() {
	fast := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "fast")
	}))
	defer fast.Close()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(time.Second):
			_, _ = io.WriteString(w, "slow")
		case <-r.Context().Done(): // First cancels the request it no longer needs
		}
	}))
	defer slow.Close()

	body, err := leakexample.First(context.Background(), http.DefaultClient, []string{fast.URL, slow.URL})
	fmt.Println(body, err)
	// Output: fast <nil>
}
