package grpcmw_test

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/perfobs/perfobs-go/middleware"
	"github.com/perfobs/perfobs-go/middleware/grpcmw"
)

// With a tracer provider, each call gets a server span named by its method, continuing the
// trace of the caller's traceparent metadata, and its duration observation carries the span as
// an exemplar.
func ExampleRecorder_tracing() {
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	defer tp.Shutdown(context.Background())

	reg := prometheus.NewRegistry()
	rec, err := grpcmw.New(middleware.WithRegisterer(reg), middleware.WithTracerProvider(tp))
	if err != nil {
		panic(err)
	}
	// What a server's transport hands the interceptor for a call from a traced client.
	ctx := metadata.NewIncomingContext(context.Background(),
		metadata.Pairs("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))
	info := &grpc.UnaryServerInfo{FullMethod: "/shop.Checkout/Pay"}
	grpcmw.UnaryServerInterceptor(rec)(ctx, nil, info, func(context.Context, any) (any, error) { return "paid", nil })

	span := sr.Ended()[0]
	fmt.Println(span.Name(), span.SpanKind(), span.SpanContext().TraceID(), "parent", span.Parent().SpanID())
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() != "rpc_server_call_duration_seconds" {
			continue
		}
		for _, b := range mf.GetMetric()[0].GetHistogram().GetBucket() {
			if e := b.GetExemplar(); e != nil {
				for _, l := range e.GetLabel() {
					if l.GetName() == "trace_id" {
						fmt.Println("exemplar trace_id", l.GetValue())
					}
				}
			}
		}
	}
	// Output:
	// shop.Checkout/Pay server 4bf92f3577b34da6a3ce929d0e0e4736 parent 00f067aa0ba902b7
	// exemplar trace_id 4bf92f3577b34da6a3ce929d0e0e4736
}
