package tracing_test

import (
	"context"
	"fmt"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/perfobs/perfobs-go/internal/tracing"
)

// A gRPC interceptor's use: extract from incoming metadata (a map of lists), start a server
// span, take the exemplar ids of a sampled span.
func ExampleTracer_StartServer() {
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	defer tp.Shutdown(context.Background())
	tr := tracing.New(tp, nil)

	md := map[string][]string{"traceparent": {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}}
	_, span := tr.StartServer(context.Background(), tracing.MultiMapCarrier(md), "pkg.Service/Method")
	span.End()
	traceID, _, sampled := tracing.ExemplarIDs(span)
	fmt.Printf("%s sampled=%v trace=%x\n", sr.Ended()[0].Name(), sampled, traceID)
	// Output: pkg.Service/Method sampled=true trace=4bf92f3577b34da6a3ce929d0e0e4736
}
