package tracing

import (
	"context"
	"runtime/pprof"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"
)

// Names that tie spans and profiles together, as Grafana's Pyroscope and Tempo read them.
const (
	// ProfileIDKey is the span attribute holding the id under which the span's CPU samples are
	// found: the span id.
	ProfileIDKey = attribute.Key("pyroscope.profile.id")
	// LabelSpanID and LabelSpanName are the pprof labels on the samples taken while a span runs.
	LabelSpanID   = "span_id"
	LabelSpanName = "span_name"
)

// WithProfileLabels wraps tp so that each sampled local root span (one without a parent in this
// process: a server span, or the first span of a background job) labels its goroutine with
// span_id and span_name while it runs, and carries ProfileIDKey. CPU profiles then attribute
// their samples to the span; goroutines the span starts inherit the labels. The labels are set
// when the span starts, so span_name is the name it started with (an HTTP server span's method).
// It costs a label set per root span and nothing for child spans.
func WithProfileLabels(tp trace.TracerProvider) trace.TracerProvider {
	return &profiledProvider{tp: tp}
}

type profiledProvider struct {
	embedded.TracerProvider
	tp trace.TracerProvider
}

// Tracer implements trace.TracerProvider.
func (p *profiledProvider) Tracer(name string, opts ...trace.TracerOption) trace.Tracer {
	return &profiledTracer{tr: p.tp.Tracer(name, opts...)}
}

type profiledTracer struct {
	embedded.Tracer
	tr trace.Tracer
}

// Start implements trace.Tracer.
func (t *profiledTracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	parent := trace.SpanContextFromContext(ctx)
	ctx, span := t.tr.Start(ctx, name, opts...)
	sc := span.SpanContext()
	if !sc.IsSampled() || (parent.IsValid() && !parent.IsRemote()) {
		return ctx, span
	}
	id := sc.SpanID().String()
	span.SetAttributes(ProfileIDKey.String(id))
	labelled := pprof.WithLabels(ctx, pprof.Labels(LabelSpanID, id, LabelSpanName, name))
	pprof.SetGoroutineLabels(labelled)
	return labelled, &profiledSpan{Span: span, restore: ctx}
}

// profiledSpan puts the goroutine's labels back as they were in the caller's context when the
// span ends.
type profiledSpan struct {
	trace.Span
	restore context.Context
}

// End implements trace.Span.
func (s *profiledSpan) End(opts ...trace.SpanEndOption) {
	s.Span.End(opts...)
	pprof.SetGoroutineLabels(s.restore)
}
