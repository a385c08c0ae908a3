package middleware_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/perfobs/perfobs-go/middleware"
)

// discardWriter is the cheapest possible ResponseWriter, so that benchmarks measure the
// middleware rather than httptest.ResponseRecorder's buffers.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}
func (w *discardWriter) Flush()                      {}

var hello = []byte("hello")

// benchMux is the handler used by every HTTP benchmark: a ServeMux with a path parameter.
func benchMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) { w.Write(hello) })
	return mux
}

func benchServe(b *testing.B, h http.Handler) {
	req := httptest.NewRequest("GET", "/users/42", nil)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h.ServeHTTP(w, req)
	}
}

func benchServeParallel(b *testing.B, h http.Handler) {
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		req := httptest.NewRequest("GET", "/users/42", nil)
		w := &discardWriter{h: http.Header{}}
		for pb.Next() {
			h.ServeHTTP(w, req)
		}
	})
}

// BenchmarkMiddlewareBare is the uninstrumented baseline of BenchmarkMiddlewareHTTP.
func BenchmarkMiddlewareBare(b *testing.B) { benchServe(b, benchMux()) }

// BenchmarkMiddlewareHTTP is one request through the instrumented mux with default options.
func BenchmarkMiddlewareHTTP(b *testing.B) {
	benchServe(b, middleware.HTTP(benchMux(), middleware.WithRegisterer(prometheus.NewRegistry())))
}

// BenchmarkMiddlewareBareParallel is the uninstrumented baseline across all Ps.
func BenchmarkMiddlewareBareParallel(b *testing.B) { benchServeParallel(b, benchMux()) }

// BenchmarkMiddlewareHTTPParallel hits one route from every P: the case that stops histograms
// with one shared set of atomics from scaling.
func BenchmarkMiddlewareHTTPParallel(b *testing.B) {
	benchServeParallel(b, middleware.HTTP(benchMux(), middleware.WithRegisterer(prometheus.NewRegistry())))
}

// BenchmarkMiddlewareTransport is one client round trip through the instrumented transport.
func BenchmarkMiddlewareTransport(b *testing.B) {
	rt := middleware.Transport(roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
	}), middleware.WithRegisterer(prometheus.NewRegistry()))
	req := httptest.NewRequest("GET", "http://api.internal:8080/x", nil)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		resp, _ := rt.RoundTrip(req)
		io.Copy(io.Discard, resp.Body)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestNoAllocationPerRequest: in steady state the middleware adds no allocation over the same
// handler, writer and mux uninstrumented.
func TestNoAllocationPerRequest(t *testing.T) {
	req := httptest.NewRequest("GET", "/users/42", nil)
	w := &discardWriter{h: http.Header{}}
	bare := benchMux()
	inst := middleware.HTTP(benchMux(), middleware.WithRegisterer(prometheus.NewRegistry()), middleware.WithBodySizes())
	inst.ServeHTTP(w, req) // first request creates the series
	base := testing.AllocsPerRun(1000, func() { bare.ServeHTTP(w, req) })
	got := testing.AllocsPerRun(1000, func() { inst.ServeHTTP(w, req) })
	if got != base {
		t.Fatalf("instrumented request allocates %v times, bare %v: the middleware must add 0", got, base)
	}
	rt := middleware.Transport(roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
	}), middleware.WithRegisterer(prometheus.NewRegistry()))
	creq := httptest.NewRequest("GET", "http://api.internal:8080/x", nil)
	rt.RoundTrip(creq)
	// The fake base transport allocates its *http.Response: that is the only allocation allowed.
	if got := testing.AllocsPerRun(1000, func() { rt.RoundTrip(creq) }); got != 1 {
		t.Fatalf("instrumented round trip allocates %v times, want only the fake response's 1", got)
	}
}
