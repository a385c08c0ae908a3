package tracing_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/prometheus/client_golang/prometheus"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/perfobs/perfobs-go/middleware"
)

// With a tracer provider, each request gets a server span named by its route, continuing the
// caller's trace, and its duration observation carries the span as an exemplar.
func ExampleWithTracerProvider() {
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	defer tp.Shutdown(context.Background())

	reg := prometheus.NewRegistry()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {})
	handler := middleware.HTTP(mux, middleware.WithRegisterer(reg), middleware.WithTracerProvider(tp))

	req := httptest.NewRequest("GET", "/users/42", nil)
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	handler.ServeHTTP(httptest.NewRecorder(), req)

	span := sr.Ended()[0]
	fmt.Println(span.Name(), span.SpanContext().TraceID())
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == "http_server_request_duration_seconds" {
			for _, b := range mf.GetMetric()[0].GetHistogram().GetBucket() {
				if e := b.GetExemplar(); e != nil {
					for _, l := range e.GetLabel() { // sorted by name: span_id, trace_id
						if l.GetName() == "trace_id" {
							fmt.Println("exemplar", l.GetName(), l.GetValue())
						}
					}
				}
			}
		}
	}
	// Output:
	// GET /users/{id} 4bf92f3577b34da6a3ce929d0e0e4736
	// exemplar trace_id 4bf92f3577b34da6a3ce929d0e0e4736
}
