// Package oteltest is the one in-memory OpenTelemetry setup of this project's tests: a tracer
// provider that samples as the specification's default does and records the ended spans.
package oteltest

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// New returns a provider that samples every span its parent does not mark unsampled (the
// specification's default sampler, parentbased_always_on) and a recorder of its spans; the provider shuts
// down when the test ends.
func New(t testing.TB) (*sdktrace.TracerProvider, *tracetest.SpanRecorder) {
	t.Helper()
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.AlwaysSample())), sdktrace.WithSpanProcessor(sr))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp, sr
}
