package tracing

import (
	"context"
	"net/http"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the instrumentation scope of every span this SDK starts.
const ScopeName = "github.com/perfobs/perfobs-go"

// DefaultPropagator is W3C trace context plus W3C baggage, the OpenTelemetry default.
func DefaultPropagator() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
}

// Tracer starts and ends the SDK's spans.
type Tracer struct {
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
	// The span kinds as options, boxed once rather than on every span.
	server, client trace.SpanStartOption
}

// New returns a Tracer on tp, or nil when tp is nil (tracing off). A nil prop is
// DefaultPropagator.
func New(tp trace.TracerProvider, prop propagation.TextMapPropagator) *Tracer {
	if tp == nil {
		return nil
	}
	if prop == nil {
		prop = DefaultPropagator()
	}
	return &Tracer{
		tracer: tp.Tracer(ScopeName, trace.WithSchemaURL(semconv.SchemaURL)),
		prop:   prop,
		server: trace.WithSpanKind(trace.SpanKindServer),
		client: trace.WithSpanKind(trace.SpanKindClient),
	}
}

// Propagator returns the propagator the Tracer extracts and injects with.
func (t *Tracer) Propagator() propagation.TextMapPropagator { return t.prop }

// StartServer extracts the remote context from carrier (headers, gRPC metadata) into ctx and
// starts a server span named name, child of the remote span when there is one.
func (t *Tracer) StartServer(ctx context.Context, carrier propagation.TextMapCarrier, name string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	ctx = t.prop.Extract(ctx, carrier)
	return t.tracer.Start(ctx, name, t.server, trace.WithAttributes(attrs...))
}

// StartClient starts a client span named name and injects its context into carrier, so that the
// server continues the trace.
func (t *Tracer) StartClient(ctx context.Context, carrier propagation.TextMapCarrier, name string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	ctx, span := t.tracer.Start(ctx, name, t.client, trace.WithAttributes(attrs...))
	t.prop.Inject(ctx, carrier)
	return ctx, span
}

// Fail marks span as failed: error.type is errorType, the status is Error with description, and
// err, when not nil, is recorded as an exception event.
func Fail(span trace.Span, errorType, description string, err error) {
	span.SetAttributes(semconv.ErrorTypeKey.String(errorType))
	if err != nil {
		span.RecordError(err)
	}
	span.SetStatus(codes.Error, description)
}

// ExemplarIDs returns the trace and span id of span for an exemplar, and whether it is sampled:
// only sampled spans reach a trace backend, so only they make exemplars worth following.
func ExemplarIDs(span trace.Span) (traceID [16]byte, spanID [8]byte, ok bool) {
	sc := span.SpanContext()
	if !sc.IsSampled() {
		return traceID, spanID, false
	}
	return sc.TraceID(), sc.SpanID(), true
}

// MultiMapCarrier adapts a map of lists (gRPC's metadata.MD, whose keys are lower case) to
// propagation.TextMapCarrier: tracing.MultiMapCarrier(md).
type MultiMapCarrier map[string][]string

// Get returns the first value of key.
func (c MultiMapCarrier) Get(key string) string {
	if v := c[strings.ToLower(key)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Set replaces the values of key with value.
func (c MultiMapCarrier) Set(key, value string) { c[strings.ToLower(key)] = []string{value} }

// Keys lists the keys.
func (c MultiMapCarrier) Keys() []string {
	out := make([]string, 0, len(c))
	for k := range c {
		out = append(out, k)
	}
	return out
}

// HeaderCarrier adapts http.Header to propagation.TextMapCarrier like propagation.HeaderCarrier,
// but finds the W3C headers (traceparent, tracestate, baggage) without canonicalising their names
// on every request, which allocates.
type HeaderCarrier http.Header

// canonical returns the canonical form of the W3C header names without allocating.
func canonical(key string) string {
	switch key {
	case "traceparent":
		return "Traceparent"
	case "tracestate":
		return "Tracestate"
	case "baggage":
		return "Baggage"
	}
	return http.CanonicalHeaderKey(key)
}

// Get returns the first value of key.
func (c HeaderCarrier) Get(key string) string {
	if v := c[canonical(key)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Set replaces the values of key with value.
func (c HeaderCarrier) Set(key, value string) { c[canonical(key)] = []string{value} }

// Keys lists the header names.
func (c HeaderCarrier) Keys() []string {
	out := make([]string, 0, len(c))
	for k := range c {
		out = append(out, k)
	}
	return out
}
