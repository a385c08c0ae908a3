package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/perfobs/perfobs-go/middleware"
)

// The tracing comparison: perfobs with sampled tracing and exemplars against otelhttp with the
// same tracer provider (every span sampled and recorded, then dropped by a processor that keeps
// nothing, so exporting costs neither) and an SDK meter provider for its metrics.

// countingProcessor drops ended spans, counting them, so that the tests can check that each
// stack really traced.
type countingProcessor struct{ ended int }

func (p *countingProcessor) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (p *countingProcessor) OnEnd(sdktrace.ReadOnlySpan)                     { p.ended++ }
func (p *countingProcessor) Shutdown(context.Context) error                  { return nil }
func (p *countingProcessor) ForceFlush(context.Context) error                { return nil }

func sampledProvider() (*sdktrace.TracerProvider, *countingProcessor) {
	p := &countingProcessor{}
	return sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.AlwaysSample())), sdktrace.WithSpanProcessor(p)), p
}

type tracingStack struct {
	name   string
	h      http.Handler
	spans  *countingProcessor
	reg    *prometheus.Registry     // perfobs
	reader *sdkmetric.ManualReader  // otelhttp
	tp     *sdktrace.TracerProvider // shut down by the caller
}

func tracingStacks() []tracingStack {
	ptp, pspans := sampledProvider()
	reg := prometheus.NewRegistry()
	otp, ospans := sampledProvider()
	reader := sdkmetric.NewManualReader()
	return []tracingStack{
		{name: "Bare", h: newMux()},
		{name: "Perfobs", h: middleware.HTTP(newMux(), middleware.WithRegisterer(reg), middleware.WithTracerProvider(ptp)),
			spans: pspans, reg: reg, tp: ptp},
		{name: "Otelhttp", h: otelhttp.NewHandler(newMux(), "server", otelhttp.WithTracerProvider(otp),
			otelhttp.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)))),
			spans: ospans, reader: reader, tp: otp},
	}
}

// TestTracingStacksRecord: both stacks end one sampled span per request and record its duration;
// perfobs attaches the span's trace id as an exemplar.
func TestTracingStacksRecord(t *testing.T) {
	for _, s := range tracingStacks() {
		if s.spans == nil {
			continue
		}
		t.Run(s.name, func(t *testing.T) {
			defer s.tp.Shutdown(context.Background())
			for range 3 {
				s.h.ServeHTTP(&discardWriter{h: http.Header{}}, httptest.NewRequest("GET", "/users/42", nil))
			}
			if s.spans.ended != 3 {
				t.Fatalf("%d spans ended, want 3", s.spans.ended)
			}
			switch {
			case s.reg != nil:
				w := httptest.NewRecorder()
				req := httptest.NewRequest("GET", "/metrics", nil)
				req.Header.Set("Accept", "application/openmetrics-text; version=1.0.0")
				promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{EnableOpenMetrics: true}).ServeHTTP(w, req)
				if !strings.Contains(w.Body.String(), `_count{error_type="",http_request_method="GET",http_response_status_code="200",http_route="/users/{id}",url_scheme="http"} 3`) ||
					!strings.Contains(w.Body.String(), `# {span_id="`) || !strings.Contains(w.Body.String(), `",trace_id="`) {
					t.Errorf("perfobs exposition lacks the count or the exemplar:\n%s", w.Body.String())
				}
			case s.reader != nil:
				var rm metricdata.ResourceMetrics
				if err := s.reader.Collect(context.Background(), &rm); err != nil {
					t.Fatal(err)
				}
				if n := otelCount(rm, "http.server.request.duration"); n != 3 {
					t.Errorf("otelhttp recorded %d requests, want 3", n)
				}
			}
		})
	}
}

// BenchmarkHTTPTracing runs one sampled request through each stack, serially.
func BenchmarkHTTPTracing(b *testing.B) {
	for _, s := range tracingStacks() {
		b.Run(s.name, func(b *testing.B) {
			if s.tp != nil {
				defer s.tp.Shutdown(context.Background())
			}
			req := httptest.NewRequest("GET", "/users/42", nil)
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				s.h.ServeHTTP(w, req)
			}
			reportCPU(b, cpu) // runtime_test.go: CPU time per request, steadier than wall time here
		})
	}
}
