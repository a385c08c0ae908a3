package perfobs

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/perfobs/perfobs-go/perfobs/internal/otlpenv"
)

// TracingConfig configures OpenTelemetry tracing. Tracing is on when Config.TracerProvider is set,
// or else when the OTEL_* variables ask for it: OTEL_TRACES_EXPORTER=otlp,
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT (or Endpoint here). The
// Observer then builds an SDK TracerProvider that batches spans to an OTLP exporter, samples with
// the sampler OTEL_TRACES_SAMPLER names (default parentbased_always_on) and describes the service
// with the resolved service name, version and environment. Shutdown flushes and stops it. With
// neither, no span is started and no header is read: tracing costs nothing.
type TracingConfig struct {
	// Disabled turns tracing off even when the variables ask for it (a given
	// Config.TracerProvider is still used).
	Disabled bool
	// Endpoint is the OTLP traces endpoint URL, such as "http://collector:4318/v1/traces" or
	// "http://collector:4317" for grpc. Empty: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else
	// OTEL_EXPORTER_OTLP_ENDPOINT (with /v1/traces appended for http/protobuf), else the OTLP
	// default on localhost.
	Endpoint string
	// Protocol is "http/protobuf" or "grpc". Empty: OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, else
	// OTEL_EXPORTER_OTLP_PROTOCOL, else http/protobuf.
	Protocol string
	// Sampler samples the spans of the built provider. Nil: OTEL_TRACES_SAMPLER and
	// OTEL_TRACES_SAMPLER_ARG (always_on, always_off, traceidratio, parentbased_always_on,
	// parentbased_always_off, parentbased_traceidratio), else parentbased_always_on.
	Sampler sdktrace.Sampler
	// Propagator carries trace context and baggage in headers. Nil: W3C trace context and W3C
	// baggage.
	Propagator propagation.TextMapPropagator
}

// tracing is the running tracing of an Observer.
type tracing struct {
	provider  trace.TracerProvider     // what the middleware uses
	owned     *sdktrace.TracerProvider // built by the Observer, shut down by it; nil when given
	exporter  sdktrace.SpanExporter    // owned's exporter; nil when given
	transport *http.Transport          // the http/protobuf exporter's; nil for grpc
}

// startTracing returns nil when tracing is off.
func startTracing(ctx context.Context, given trace.TracerProvider, cfg TracingConfig, rc *resolved) (*tracing, error) {
	if given != nil {
		return &tracing{provider: given}, nil
	}
	lookup := rc.LookupEnv
	if cfg.Disabled || otlpenv.True(lookup, otlpenv.EnvOTelSDKDisabled) {
		return nil, nil
	}
	exporter, _ := lookup(otlpenv.EnvOTelTracesExporter)
	exporter = strings.TrimSpace(exporter)
	switch exporter {
	case "", "otlp":
	case "none":
		return nil, nil
	default:
		return nil, fmt.Errorf("%s %q: only otlp and none are supported", otlpenv.EnvOTelTracesExporter, exporter)
	}
	_, anyEndpoint := otlpenv.LookupNonEmpty(lookup, otlpenv.EnvOTLPEndpoint)
	_, tracesEndpoint := otlpenv.LookupNonEmpty(lookup, otlpenv.EnvOTLPTracesEndpoint)
	if exporter == "" && cfg.Endpoint == "" && !anyEndpoint && !tracesEndpoint {
		return nil, nil
	}
	target, err := otlpenv.Resolve(otlpenv.Signal{Name: "Tracing", Env: "TRACES", Path: "/v1/traces"}, cfg.Endpoint, cfg.Protocol, lookup)
	if err != nil {
		return nil, err
	}
	sampler := cfg.Sampler
	if sampler == nil {
		if sampler, err = otlpenv.SamplerFromEnv(lookup); err != nil {
			return nil, err
		}
	}
	exp, transport, err := otlpenv.NewTraceExporter(ctx, target)
	if err != nil {
		return nil, err
	}
	res, err := otelResource(ctx, rc)
	if err != nil {
		return nil, err
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithSampler(sampler), sdktrace.WithResource(res))
	return &tracing{provider: tp, owned: tp, exporter: exp, transport: transport}, nil
}

// shutdown flushes and stops a provider the Observer built; a given one is the caller's to stop.
// When ctx ends first (a collector that does not answer), the provider's Shutdown is still
// waiting for its export; stopping the exporter cancels that upload and its retries, so that
// nothing keeps running after shutdown. It then closes the exporter's idle connections.
func (t *tracing) shutdown(ctx context.Context) error {
	if t == nil || t.owned == nil {
		return nil
	}
	err := t.owned.Shutdown(ctx)
	if err != nil && ctx.Err() != nil {
		stopCtx, cancel := context.WithTimeout(context.Background(), otlpenv.StopGrace)
		_ = t.exporter.Shutdown(stopCtx) // its error is ctx's again
		cancel()
	}
	if t.transport != nil {
		t.transport.CloseIdleConnections()
	}
	return err
}

// otelResource describes the service to OpenTelemetry backends: OTEL_RESOURCE_ATTRIBUTES, then
// the resolved service name, version and environment, and the SDK's own attributes.
func otelResource(ctx context.Context, rc *resolved) (*resource.Resource, error) {
	attrs := make([]attribute.KeyValue, 0, len(rc.resource)+3)
	for _, k := range slices.Sorted(maps.Keys(rc.resource)) {
		attrs = append(attrs, attribute.String(k, rc.resource[k]))
	}
	attrs = append(attrs, semconv.ServiceName(rc.Service))
	if rc.Version != "" {
		attrs = append(attrs, semconv.ServiceVersion(rc.Version))
	}
	if rc.Environment != "" {
		attrs = append(attrs, semconv.DeploymentEnvironmentName(rc.Environment))
	}
	res, err := resource.New(ctx, resource.WithTelemetrySDK(), resource.WithAttributes(attrs...))
	if err != nil {
		return nil, fmt.Errorf("OpenTelemetry resource: %w", err)
	}
	return res, nil
}
