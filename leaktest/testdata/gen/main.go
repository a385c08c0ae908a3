// Command gen writes the goroutine dumps under leaktest/testdata from a real program, so the parser and the
// default ignore list are tested against what the runtime and the libraries really print. Run from this
// directory (it is its own module, so the SDK's go.mod never requires opencensus or glog):
//
//	go run . ..
package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/golang/glog"
	"go.opencensus.io/stats/view"
)

func main() {
	if os.Getenv("GEN_CHILD") != "" {
		child()
		return
	}
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run . OUTDIR")
		os.Exit(2)
	}
	self, err := os.Executable()
	if err != nil {
		fail(err)
	}
	for name, godebug := range map[string]string{
		"daemons.txt":   "tracebacklabels=1",
		"ancestors.txt": "tracebacklabels=1,tracebackancestors=3",
	} {
		cmd := exec.Command(self)
		cmd.Env = append(os.Environ(), "GEN_CHILD=1", "GODEBUG="+godebug)
		out, err := cmd.Output()
		if err != nil {
			fail(err)
		}
		if err := os.WriteFile(filepath.Join(os.Args[1], name), out, 0o644); err != nil {
			fail(err)
		}
	}
}

// child starts the goroutines the fixtures show, then prints every goroutine's stack.
func child() {
	_ = view.Find("none") // the opencensus worker runs from init; use the package so it is linked
	glog.Flush()          // the glog flush daemon too

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "hello")
	}))
	resp, err := http.Get(srv.URL) // the classic leak: the body is never closed
	if err != nil {
		fail(err)
	}
	_ = resp

	stop := make(chan struct{})
	pprof.Do(context.Background(), pprof.Labels("leaktest.test", "TestLabelled", "quote\"d", "a\tb"),
		func(context.Context) { startWorkers(3, stop) })
	startWorkers(2, stop)
	time.Sleep(100 * time.Millisecond)

	buf := make([]byte, 1<<20)
	os.Stdout.Write(buf[:runtime.Stack(buf, true)])
}

func startWorkers(n int, stop chan struct{}) {
	for range n {
		go worker(stop)
	}
}

func worker(stop chan struct{}) {
	select {
	case <-stop:
	case <-time.After(time.Hour):
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
