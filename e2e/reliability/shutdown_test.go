package reliability

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/perfobs/perfobs-go/internal/deadend"
	"github.com/perfobs/perfobs-go/leaktest"
	"github.com/perfobs/perfobs-go/perfobs"
)

// load sends requests through an app until stopped and keeps count of them, their errors and the
// slowest.
type load struct {
	stop     chan struct{}
	done     chan struct{}
	ok, bad  atomic.Int64
	mu       sync.Mutex
	slowest  time.Duration
	firstErr error
}

func startLoad(a *app) *load {
	l := &load{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		for {
			select {
			case <-l.stop:
				return
			default:
			}
			start := time.Now()
			err := a.drive(1)
			d := time.Since(start)
			l.mu.Lock()
			if d > l.slowest {
				l.slowest = d
			}
			if err != nil && l.firstErr == nil {
				l.firstErr = err
			}
			l.mu.Unlock()
			if err != nil {
				l.bad.Add(1)
			} else {
				l.ok.Add(1)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	return l
}

func (l *load) end() {
	close(l.stop)
	<-l.done
}

// TestShutdownBoundedWhenBackendsHang points profiling, tracing and the OTLP metrics push at
// servers that accept connections and never answer. Shutdown with a 2 s context returns within
// 2.5 s with the context's error; a second Shutdown returns within its own context, and once the
// first one's cleanup ended, at once with the first's error; the service answered every request
// meanwhile, none slowly; nothing panicked, and no goroutine is left in the end.
func TestShutdownBoundedWhenBackendsHang(t *testing.T) {
	leaktest.Check(t, leaktest.WithTimeout(15*time.Second))
	pyroscope, otlp := deadend.NewBlackHole(t), deadend.NewBlackHole(t)
	obs, err := perfobs.Start(context.Background(), everyFeature("hang", "http://"+pyroscope.Addr(), "http://"+otlp.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	a, err := startApp(obs)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	l := startLoad(a)
	time.Sleep(1500 * time.Millisecond) // an upload and a push are stuck by now
	if pyroscope.Accepted() == 0 || otlp.Accepted() == 0 {
		t.Errorf("the black holes accepted %d (pyroscope) and %d (OTLP) connections: nothing was stuck",
			pyroscope.Accepted(), otlp.Accepted())
	}

	servedBefore := l.ok.Load()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	err = obs.Shutdown(ctx)
	took := time.Since(start)
	servedDuring := l.ok.Load() - servedBefore
	t.Logf("Shutdown took %v: %v", took, err)
	if took > 2500*time.Millisecond {
		t.Errorf("Shutdown(2 s context) took %v, want at most 2.5 s", took)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v, want an error that is context.DeadlineExceeded", err)
	}

	// A second call returns within its own context even while the cleanup the first one left
	// running (bounded by the profiler's one-second grace) goes on; once that ends, every later
	// call returns the first's result at once.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel2()
	start = time.Now()
	err2 := obs.Shutdown(ctx2)
	again := time.Since(start)
	t.Logf("second Shutdown took %v: %v", again, err2)
	if again > 300*time.Millisecond {
		t.Errorf("second Shutdown(200 ms context) took %v", again)
	}
	if err2 == nil {
		t.Error("second Shutdown = nil, want the first's error or its own context's")
	}
	ctx3, cancel3 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel3()
	if err := obs.Shutdown(ctx3); errors.Is(err, context.DeadlineExceeded) && ctx3.Err() != nil {
		t.Errorf("the cleanup of the first Shutdown still runs 5 s later: %v", err)
	}
	start = time.Now()
	err4 := obs.Shutdown(context.Background())
	if took := time.Since(start); took > 50*time.Millisecond || err4 == nil {
		t.Errorf("a Shutdown after the cleanup ended took %v and returned %v, want the first's error at once", took, err4)
	}

	l.end()
	t.Logf("load: %d requests answered (%d during Shutdown), %d failed, slowest %v", l.ok.Load(), servedDuring, l.bad.Load(), l.slowest)
	if l.bad.Load() != 0 {
		t.Errorf("%d requests failed, first: %v", l.bad.Load(), l.firstErr)
	}
	if servedDuring == 0 {
		t.Error("the service answered no request during Shutdown")
	}
	if l.slowest > 500*time.Millisecond {
		t.Errorf("slowest request took %v", l.slowest)
	}
}

// TestShutdownLeavesNothingRunningWhenBackendsHang is TestShutdownBoundedWhenBackendsHang with
// the leak check made while the backends still hang, 3 s after Shutdown returned.
// TracerProvider.Shutdown waits for the batch span processor's export before it stops the
// exporter, and only stopping the exporter cancels that upload and its retries: perfobs stops the
// exporter itself when Shutdown's context ends, and bounds the retries.
func TestShutdownLeavesNothingRunningWhenBackendsHang(t *testing.T) {
	leaktest.Check(t, leaktest.WithTimeout(15*time.Second))
	pyroscope, otlp := deadend.NewBlackHole(t), deadend.NewBlackHole(t)
	before := leaktest.IgnoreCurrent() // the black holes' own goroutines
	obs, err := perfobs.Start(context.Background(), everyFeature("hang", "http://"+pyroscope.Addr(), "http://"+otlp.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	a, err := startApp(obs)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.drive(10); err != nil {
		t.Fatal(err)
	}
	a.close()
	time.Sleep(1500 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = obs.Shutdown(ctx)
	time.Sleep(time.Second)
	if err := leaktest.Find(before, leaktest.WithTimeout(2*time.Second)); err != nil {
		t.Errorf("3 s after Shutdown, the backends still hanging:\n%v", err)
	}
}
