package perfobs_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/perfobs/perfobs-go/perfobs"
)

// With a TracerProvider (or OTEL_EXPORTER_OTLP_ENDPOINT set, for one the Observer builds), every
// request is a span, and MetricsHandler's OpenMetrics output links each latency bucket to a
// trace through its exemplar.
func ExampleConfig_tracerProvider() {
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	defer tp.Shutdown(context.Background())

	ctx := context.Background()
	obs, err := perfobs.Start(ctx, perfobs.Config{Service: "checkout", TracerProvider: tp, DisableRuntimeMetrics: true,
		LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		panic(err)
	}
	defer obs.Shutdown(ctx)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {})
	obs.HTTP(mux).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/orders/7", nil))

	span := sr.Ended()[0]
	fmt.Println("span:", span.Name())
	w := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.Header.Set("Accept", "application/openmetrics-text; version=1.0.0")
	obs.MetricsHandler().ServeHTTP(w, req)
	body, _ := io.ReadAll(w.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if strings.Contains(line, `trace_id="`+span.SpanContext().TraceID().String()+`"`) {
			fmt.Println("exemplar on:", line[:strings.Index(line, "{")])
		}
	}
	// Output:
	// span: GET /orders/{id}
	// exemplar on: http_server_request_duration_seconds_bucket
}
