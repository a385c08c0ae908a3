package perfobs

import (
	"context"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// Standard OpenTelemetry variables that tracing and the OTLP metrics push read when the matching
// Config field is empty.
const (
	EnvOTelSDKDisabled          = "OTEL_SDK_DISABLED"
	EnvOTelTracesExporter       = "OTEL_TRACES_EXPORTER"
	EnvOTelTracesSampler        = "OTEL_TRACES_SAMPLER"
	EnvOTelTracesSamplerArg     = "OTEL_TRACES_SAMPLER_ARG"
	EnvOTLPEndpoint             = "OTEL_EXPORTER_OTLP_ENDPOINT"
	EnvOTLPProtocol             = "OTEL_EXPORTER_OTLP_PROTOCOL"
	EnvOTLPHeaders              = "OTEL_EXPORTER_OTLP_HEADERS"
	EnvOTLPTracesEndpoint       = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	EnvOTLPTracesProtocol       = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
	EnvOTLPTracesHeaders        = "OTEL_EXPORTER_OTLP_TRACES_HEADERS"
	EnvOTelMetricsExporter      = "OTEL_METRICS_EXPORTER"
	EnvOTLPMetricsEndpoint      = "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"
	EnvOTLPMetricsProtocol      = "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL"
	EnvOTLPMetricsHeaders       = "OTEL_EXPORTER_OTLP_METRICS_HEADERS"
	EnvOTelMetricExportInterval = "OTEL_METRIC_EXPORT_INTERVAL"
	defaultOTLPProtocol         = protocolHTTP
	protocolHTTP                = "http/protobuf"
	protocolGRPC                = "grpc"
	defaultOTLPHTTPEndpoint     = "http://localhost:4318"
	defaultOTLPGRPCEndpoint     = "http://localhost:4317"
	defaultTracesSampler        = "parentbased_always_on"
)

const (
	// otlpExportTimeout bounds one OTLP export, retries included: an exporter gives up a batch
	// rather than retry for the exporters' default minute.
	otlpExportTimeout = 10 * time.Second
	// otlpStopGrace is how long shutdown gives an exporter to cancel its upload once the shutdown
	// context is done.
	otlpStopGrace = time.Second
	// The OTLP exporters retry with their default backoff, within otlpExportTimeout in all.
	otlpRetryInitial = 5 * time.Second
	otlpRetryMax     = 30 * time.Second
)

// newOTLPHTTPClient returns an HTTP client of the SDK's own for an OTLP exporter, so that
// shutdown can close its idle connections (the exporters' Shutdown drops their client without
// closing them).
func newOTLPHTTPClient() (*http.Client, *http.Transport) {
	dialer := &net.Dialer{Timeout: otlpExportTimeout, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   otlpExportTimeout,
		MaxIdleConns:          10,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{Transport: tr, Timeout: otlpExportTimeout}, tr
}

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
	if cfg.Disabled || envTrue(lookup, EnvOTelSDKDisabled) {
		return nil, nil
	}
	exporter, _ := lookup(EnvOTelTracesExporter)
	exporter = strings.TrimSpace(exporter)
	switch exporter {
	case "", "otlp":
	case "none":
		return nil, nil
	default:
		return nil, fmt.Errorf("%s %q: only otlp and none are supported", EnvOTelTracesExporter, exporter)
	}
	_, anyEndpoint := lookupNonEmpty(lookup, EnvOTLPEndpoint)
	_, tracesEndpoint := lookupNonEmpty(lookup, EnvOTLPTracesEndpoint)
	if exporter == "" && cfg.Endpoint == "" && !anyEndpoint && !tracesEndpoint {
		return nil, nil
	}
	target, err := resolveOTLP(otlpSignal{name: "Tracing", env: "TRACES", path: "/v1/traces"}, cfg.Endpoint, cfg.Protocol, lookup)
	if err != nil {
		return nil, err
	}
	sampler := cfg.Sampler
	if sampler == nil {
		if sampler, err = samplerFromEnv(lookup); err != nil {
			return nil, err
		}
	}
	var exp sdktrace.SpanExporter
	var transport *http.Transport
	switch target.protocol {
	case protocolGRPC:
		opts := []otlptracegrpc.Option{otlptracegrpc.WithEndpointURL(target.url),
			otlptracegrpc.WithTimeout(otlpExportTimeout),
			otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: true,
				InitialInterval: otlpRetryInitial, MaxInterval: otlpRetryMax, MaxElapsedTime: otlpExportTimeout})}
		if len(target.headers) > 0 {
			opts = append(opts, otlptracegrpc.WithHeaders(target.headers))
		}
		exp, err = otlptracegrpc.New(ctx, opts...)
	default:
		var client *http.Client
		client, transport = newOTLPHTTPClient()
		opts := []otlptracehttp.Option{otlptracehttp.WithEndpointURL(target.url),
			otlptracehttp.WithHTTPClient(client), otlptracehttp.WithTimeout(otlpExportTimeout),
			otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: true,
				InitialInterval: otlpRetryInitial, MaxInterval: otlpRetryMax, MaxElapsedTime: otlpExportTimeout})}
		if len(target.headers) > 0 {
			opts = append(opts, otlptracehttp.WithHeaders(target.headers))
		}
		exp, err = otlptracehttp.New(ctx, opts...)
	}
	if err != nil {
		return nil, fmt.Errorf("OTLP trace exporter for %s: %w", target.url, err)
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
		stopCtx, cancel := context.WithTimeout(context.Background(), otlpStopGrace)
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

// otlpSignal names one OTLP signal: the Config struct that configures it, the infix of its
// variables, and the URL path its http/protobuf endpoint has under a base endpoint.
type otlpSignal struct{ name, env, path string }

// otlpTarget is a resolved OTLP destination.
type otlpTarget struct {
	url      string
	protocol string
	headers  map[string]string
}

// resolveOTLP applies the OTLP exporter variables of one signal under the Config fields
// endpoint and protocol. Errors name the field or variable that holds the bad value.
func resolveOTLP(sig otlpSignal, endpoint, protocol string, lookup func(string) (string, bool)) (otlpTarget, error) {
	var t otlpTarget
	protoSource := sig.name + ".Protocol"
	if protocol == "" {
		for _, name := range []string{"OTEL_EXPORTER_OTLP_" + sig.env + "_PROTOCOL", EnvOTLPProtocol} {
			if v, ok := lookupNonEmpty(lookup, name); ok {
				protocol, protoSource = v, name
				break
			}
		}
	}
	switch protocol {
	case "":
		t.protocol = defaultOTLPProtocol
	case protocolHTTP, protocolGRPC:
		t.protocol = protocol
	case "http/json":
		return t, fmt.Errorf("%s %q: not supported by the Go OTLP exporters; use http/protobuf or grpc", protoSource, protocol)
	default:
		return t, fmt.Errorf("%s %q: want http/protobuf or grpc", protoSource, protocol)
	}

	source := sig.name + ".Endpoint"
	switch {
	case endpoint != "":
	case envSet(lookup, "OTEL_EXPORTER_OTLP_"+sig.env+"_ENDPOINT"):
		source = "OTEL_EXPORTER_OTLP_" + sig.env + "_ENDPOINT"
		endpoint, _ = lookupNonEmpty(lookup, source)
	case envSet(lookup, EnvOTLPEndpoint):
		source = EnvOTLPEndpoint
		endpoint, _ = lookupNonEmpty(lookup, source)
		if t.protocol == protocolHTTP {
			endpoint = strings.TrimSuffix(endpoint, "/") + sig.path
		}
	case t.protocol == protocolGRPC:
		endpoint = defaultOTLPGRPCEndpoint
	default:
		endpoint = defaultOTLPHTTPEndpoint + sig.path
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return t, fmt.Errorf("%s %q: want an http or https URL such as http://collector:4318", source, endpoint)
	}
	t.url = endpoint

	for _, name := range []string{EnvOTLPHeaders, "OTEL_EXPORTER_OTLP_" + sig.env + "_HEADERS"} {
		v, ok := lookupNonEmpty(lookup, name)
		if !ok {
			continue
		}
		h, err := ParseResourceAttributes(v) // the same key=value,... format
		if err != nil {
			return t, fmt.Errorf("%s: %w", name, err)
		}
		if t.headers == nil {
			t.headers = map[string]string{}
		}
		maps.Copy(t.headers, h)
	}
	return t, nil
}

// samplerFromEnv builds the sampler OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG name.
func samplerFromEnv(lookup func(string) (string, bool)) (sdktrace.Sampler, error) {
	name, ok := lookupNonEmpty(lookup, EnvOTelTracesSampler)
	if !ok {
		name = defaultTracesSampler
	}
	ratio := func() (float64, error) {
		arg, ok := lookupNonEmpty(lookup, EnvOTelTracesSamplerArg)
		if !ok {
			return 1, nil
		}
		r, err := strconv.ParseFloat(arg, 64)
		if err != nil || r < 0 || r > 1 {
			return 0, fmt.Errorf("%s %q: want a ratio from 0 to 1 for %s=%s", EnvOTelTracesSamplerArg, arg, EnvOTelTracesSampler, name)
		}
		return r, nil
	}
	switch name {
	case "always_on":
		return sdktrace.AlwaysSample(), nil
	case "always_off":
		return sdktrace.NeverSample(), nil
	case "parentbased_always_on":
		return sdktrace.ParentBased(sdktrace.AlwaysSample()), nil
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample()), nil
	case "traceidratio", "parentbased_traceidratio":
		r, err := ratio()
		if err != nil {
			return nil, err
		}
		if name == "traceidratio" {
			return sdktrace.TraceIDRatioBased(r), nil
		}
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(r)), nil
	}
	return nil, fmt.Errorf("%s %q: want always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio", EnvOTelTracesSampler, name)
}

// lookupNonEmpty returns a variable's trimmed value and whether it is set and not blank.
func lookupNonEmpty(lookup func(string) (string, bool), name string) (string, bool) {
	v, ok := lookup(name)
	v = strings.TrimSpace(v)
	return v, ok && v != ""
}

func envSet(lookup func(string) (string, bool), name string) bool {
	_, ok := lookupNonEmpty(lookup, name)
	return ok
}

func envTrue(lookup func(string) (string, bool), name string) bool {
	v, _ := lookupNonEmpty(lookup, name)
	return strings.EqualFold(v, "true")
}
