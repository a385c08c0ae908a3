package middleware_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/perfobs/perfobs-go/flightrecorder"
	"github.com/perfobs/perfobs-go/middleware"
)

func newFlightRecorder(t testing.TB, budget time.Duration) *flightrecorder.Recorder {
	t.Helper()
	fr, err := flightrecorder.New(flightrecorder.Config{Budget: budget, Cooldown: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fr.Stop(context.Background()) })
	return fr
}

func waitSnapshot(t *testing.T, fr *flightrecorder.Recorder) flightrecorder.Snapshot {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if s := fr.Snapshots(); len(s) > 0 {
			return s[0]
		}
	}
	t.Fatal("no snapshot within 10 s")
	return flightrecorder.Snapshot{}
}

func TestFlightRecorderSnapshotsSlowRequests(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /fast", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("GET /slow/{id}", func(w http.ResponseWriter, r *http.Request) { time.Sleep(40 * time.Millisecond) })
	// A router other than ServeMux: the task is named by the method, the route logged at the end.
	other := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(40 * time.Millisecond)
		middleware.SetRoute(w, "/custom/{x}")
	})
	for _, tc := range []struct {
		name    string
		h       http.Handler
		path    string
		route   string
		inTrace []string
	}{
		{"ServeMux", mux, "/slow/7", "/slow/{id}", []string{"/slow/{id}"}},
		{"other router", other, "/custom/1", "/custom/{x}", []string{"GET", "/custom/{x}"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fr := newFlightRecorder(t, 20*time.Millisecond) // stopped when the subtest ends
			h := middleware.HTTP(tc.h, middleware.WithRegisterer(prometheus.NewRegistry()), middleware.WithFlightRecorder(fr))
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/fast", nil))
			if n := len(fr.Snapshots()); n != 0 {
				t.Fatalf("%d snapshots after a fast request", n)
			}
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", tc.path, nil))
			s := waitSnapshot(t, fr)
			if s.Route != tc.route || s.Duration < 40*time.Millisecond || s.Budget != 20*time.Millisecond {
				t.Errorf("snapshot of %q after %v (budget %v), want %q, at least 40ms", s.Route, s.Duration, s.Budget, tc.route)
			}
			f, err := fr.Open(s.ID)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(f)
			f.Close()
			for _, want := range tc.inTrace {
				if !bytes.Contains(data, []byte(want)) {
					t.Errorf("the snapshot does not mention %q (the task's name or logged route)", want)
				}
			}
		})
	}
}

func TestWithFlightRecorderNil(t *testing.T) {
	_, err := middleware.New(middleware.WithRegisterer(prometheus.NewRegistry()), middleware.WithFlightRecorder(nil))
	if err == nil || !strings.Contains(err.Error(), "WithFlightRecorder: recorder is nil") {
		t.Errorf("New(WithFlightRecorder(nil)): %v; want an error naming the option", err)
	}
}

// BenchmarkMiddlewareHTTPFlightRecorder is BenchmarkMiddlewareHTTP with flight recording on: the
// runtime's tracer runs, and each request has a task, two log events and a route lookup.
func BenchmarkMiddlewareHTTPFlightRecorder(b *testing.B) {
	fr := newFlightRecorder(b, time.Hour)
	benchServe(b, middleware.HTTP(benchMux(), middleware.WithRegisterer(prometheus.NewRegistry()), middleware.WithFlightRecorder(fr)))
}

// BenchmarkMiddlewareHTTPTracerOn is BenchmarkMiddlewareHTTP while the service's flight
// recorder runs without the option: the cost of the runtime's tracer alone.
func BenchmarkMiddlewareHTTPTracerOn(b *testing.B) {
	newFlightRecorder(b, time.Hour)
	benchServe(b, middleware.HTTP(benchMux(), middleware.WithRegisterer(prometheus.NewRegistry())))
}

// BenchmarkMiddlewareHTTPFlightRecorderNoMux is BenchmarkMiddlewareHTTPFlightRecorder when the
// middleware cannot see the ServeMux (a wrapped handler): the task is named by the method and the
// route logged at the end, so the comparison gives the cost of the route lookup.
func BenchmarkMiddlewareHTTPFlightRecorderNoMux(b *testing.B) {
	fr := newFlightRecorder(b, time.Hour)
	mux := benchMux()
	benchServe(b, middleware.HTTP(http.HandlerFunc(mux.ServeHTTP), middleware.WithRegisterer(prometheus.NewRegistry()), middleware.WithFlightRecorder(fr)))
}
