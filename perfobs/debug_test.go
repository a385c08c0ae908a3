package perfobs

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/perfobs/perfobs-go/leaktest"
	"github.com/perfobs/perfobs-go/middleware"
)

func debugGet(t testing.TB, h http.Handler, path string) (int, string) {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
	return w.Code, w.Body.String()
}

// TestDebugHandler: pprof, the page, the JSON API and the flight-recorder routes on one
// handler; the API's counts are the requests the middleware recorded.
func TestDebugHandler(t *testing.T) {
	leaktest.Check(t)
	obs, err := Start(context.Background(), Config{Service: "checkout", LookupEnv: env(nil)})
	if err != nil {
		t.Fatal(err)
	}
	defer obs.Shutdown(context.Background())
	svc := obs.HTTP(usersMux())
	for i := range 25 {
		svc.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", fmt.Sprintf("/users/%d", i), nil))
	}
	dh := obs.DebugHandler()
	if obs.DebugHandler() != dh {
		t.Error("DebugHandler returns a new handler on each call")
	}
	for _, tt := range []struct {
		path     string
		status   int
		contains string
	}{
		{"/debug/pprof/", 200, `href="goroutine?debug=1"`},
		{"/debug/pprof/goroutine?debug=1", 200, "goroutine profile: total"},
		{"/debug/perfobs/", 200, `data-name="GET /users/{id}" data-window="start"`},
		{"/debug/perfobs", http.StatusTemporaryRedirect, `href="/debug/perfobs/"`},
		{"/debug/perfobs/api/red", 200, `"name": "GET /users/{id}"`},
		{"/debug/perfobs/api/runtime", 200, `"goroutines"`},
		{"/debug/perfobs/api/profiling", 200, `"enabled": false`},
		{"/debug/perfobs/api/traces", 200, "["},
		{"/metrics", 404, ""},
	} {
		code, body := debugGet(t, dh, tt.path)
		if code != tt.status || !strings.Contains(body, tt.contains) {
			t.Errorf("%s: status %d, want %d containing %q:\n%.300s", tt.path, code, tt.status, tt.contains, body)
		}
	}
	_, body := debugGet(t, dh, "/debug/perfobs/api/red")
	var rep struct {
		Rows []struct {
			Name    string
			Windows map[string]struct{ Requests, Errors uint64 }
		}
	}
	if err := json.Unmarshal([]byte(body), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 1 || rep.Rows[0].Windows["start"].Requests != 25 || rep.Rows[0].Windows["1m"].Requests != 25 {
		t.Fatalf("api/red rows %+v, want GET /users/{id} with 25 requests", rep.Rows)
	}
	// The service's own handler serves none of it.
	w := httptest.NewRecorder()
	svc.ServeHTTP(w, httptest.NewRequest("GET", "/debug/perfobs/", nil))
	if w.Code != 404 {
		t.Errorf("the service's handler answers /debug/perfobs/ with %d", w.Code)
	}
}

// TestDebugHandlerStopsWithShutdown: the sampler a look started ends with Shutdown.
func TestDebugHandlerStopsWithShutdown(t *testing.T) {
	leaktest.Check(t)
	obs, err := Start(context.Background(), Config{Service: "s", DisableRuntimeMetrics: true, LookupEnv: env(nil)})
	if err != nil {
		t.Fatal(err)
	}
	debugGet(t, obs.DebugHandler(), "/debug/perfobs/")
	if !obs.status.Sampling() {
		t.Fatal("no sampler after a look")
	}
	if err := obs.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if obs.status.Sampling() {
		t.Fatal("the sampler runs after Shutdown")
	}
}

// discardWriter is the cheapest ResponseWriter, so that the hot-path measures see the
// middleware only.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

var hello = []byte("hello")

func hotPath(t testing.TB) (*Observer, http.Handler) {
	obs, err := Start(context.Background(), Config{Service: "bench", DisableRuntimeMetrics: true, LookupEnv: env(nil),
		Logger: quietLogger(), Middleware: []middleware.Option{}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) { w.Write(hello) })
	return obs, obs.HTTP(mux)
}

// TestStatusPageAddsNoAllocation: with the status page open (its sampler running), a request
// through the middleware allocates exactly what it does without it. (The one allocation of
// both is ServeMux's, for the {id} path value: the bare mux makes it too.)
func TestStatusPageAddsNoAllocation(t *testing.T) {
	obs, h := hotPath(t)
	defer obs.Shutdown(context.Background())
	req := httptest.NewRequest("GET", "/users/42", nil)
	w := &discardWriter{h: http.Header{}}
	serve := func() { h.ServeHTTP(w, req) }
	serve()
	before := testing.AllocsPerRun(2000, serve)
	debugGet(t, obs.DebugHandler(), "/debug/perfobs/") // starts the sampler
	if !obs.status.Sampling() {
		t.Fatal("no sampler after a look")
	}
	after := testing.AllocsPerRun(2000, serve)
	if after != before || before > 1 {
		t.Fatalf("allocations per request: %v without the page, %v with it open; want the same, at most ServeMux's 1", before, after)
	}
}

// BenchmarkHotPathStatusPage is one request through the middleware: with no DebugHandler, with
// the page open (its sampler running), and with the page's API polled every 100 ms from another
// goroutine, a looker far busier than a person (the page refreshes every 15 s).
func BenchmarkHotPathStatusPage(b *testing.B) {
	for _, mode := range []string{"closed", "open", "polled"} {
		b.Run("page="+mode, func(b *testing.B) {
			obs, h := hotPath(b)
			defer obs.Shutdown(context.Background())
			var wg sync.WaitGroup
			stop := make(chan struct{})
			if mode != "closed" {
				dh := obs.DebugHandler()
				debugGet(b, dh, "/debug/perfobs/")
				if mode == "polled" {
					wg.Go(func() {
						t := time.NewTicker(100 * time.Millisecond)
						defer t.Stop()
						for {
							select {
							case <-stop:
								return
							case <-t.C:
								w := httptest.NewRecorder()
								dh.ServeHTTP(w, httptest.NewRequest("GET", "/debug/perfobs/api/red", nil))
								io.Copy(io.Discard, w.Body)
							}
						}
					})
				}
			}
			req := httptest.NewRequest("GET", "/users/42", nil)
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				h.ServeHTTP(w, req)
			}
			b.StopTimer()
			close(stop)
			wg.Wait()
		})
	}
}
