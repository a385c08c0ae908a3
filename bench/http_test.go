package bench

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	slokprom "github.com/slok/go-http-metrics/metrics/prometheus"
	slokmw "github.com/slok/go-http-metrics/middleware"
	slokstd "github.com/slok/go-http-metrics/middleware/std"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/perfobs/perfobs-go/middleware"
)

// The HTTP comparison: the same ServeMux, route, request and writer through each stack, in one
// run. "Bare" is the uninstrumented mux; each stack's overhead is its time minus Bare's.

// discardWriter is the cheapest ResponseWriter, so that the stacks' costs are not hidden by
// httptest.ResponseRecorder's buffering.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

var hello = []byte("hello")

func newMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) { w.Write(hello) })
	return mux
}

// stacks builds each instrumented handler around a fresh mux, each on its own registry or
// meter provider.
func stacks() []struct {
	name string
	h    http.Handler
} {
	return []struct {
		name string
		h    http.Handler
	}{
		{"Bare", newMux()},
		{"Perfobs", middleware.HTTP(newMux(), middleware.WithRegisterer(prometheus.NewRegistry()))},
		{"Promhttp", promhttpChain(newMux(), prometheus.NewRegistry())},
		{"SlokGoHTTPMetrics", slokstd.Handler("/users/{id}", slokmw.New(slokmw.Config{
			Recorder:           slokprom.NewRecorder(slokprom.Config{Registry: prometheus.NewRegistry()}),
			DisableMeasureSize: true, // perfobs records no body sizes by default either
		}), newMux())},
		{"Otelhttp", otelhttp.NewHandler(newMux(), "server",
			otelhttp.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))),
			otelhttp.WithTracerProvider(noop.NewTracerProvider()))},
	}
}

// promhttpChain is client_golang's documented instrumentation: in-flight gauge, duration
// histogram and request counter, with code and method labels.
func promhttpChain(next http.Handler, reg *prometheus.Registry) http.Handler {
	inFlight := prometheus.NewGauge(prometheus.GaugeOpts{Name: "in_flight_requests", Help: "In flight."})
	counter := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "api_requests_total", Help: "Requests."}, []string{"code", "method"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "request_duration_seconds", Help: "Duration.",
		Buckets: prometheus.DefBuckets}, []string{"code", "method"})
	reg.MustRegister(inFlight, counter, duration)
	return promhttp.InstrumentHandlerInFlight(inFlight,
		promhttp.InstrumentHandlerDuration(duration,
			promhttp.InstrumentHandlerCounter(counter, next)))
}

// BenchmarkHTTP runs one request through each stack, serially.
func BenchmarkHTTP(b *testing.B) {
	for _, s := range stacks() {
		b.Run(s.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/users/42", nil)
			w := &discardWriter{h: http.Header{}}
			s.h.ServeHTTP(w, req)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				s.h.ServeHTTP(w, req)
			}
		})
	}
}

// BenchmarkHTTPParallel runs requests through each stack from every P, all on one route: the
// contended case.
func BenchmarkHTTPParallel(b *testing.B) {
	for _, s := range stacks() {
		b.Run(s.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				req := httptest.NewRequest("GET", "/users/42", nil)
				w := &discardWriter{h: http.Header{}}
				for pb.Next() {
					s.h.ServeHTTP(w, req)
				}
			})
		})
	}
}
