package otlpenv

import (
	"fmt"
	"maps"
	"net/url"
	"strconv"
	"strings"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Standard OpenTelemetry variables the facade reads when the matching Config field is empty.
const (
	EnvOTelServiceName          = "OTEL_SERVICE_NAME"
	EnvOTelResourceAttributes   = "OTEL_RESOURCE_ATTRIBUTES"
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
	defaultOTLPProtocol         = ProtocolHTTP
	// ProtocolHTTP and ProtocolGRPC are the OTLP protocols the Go exporters speak.
	ProtocolHTTP            = "http/protobuf"
	ProtocolGRPC            = "grpc"
	defaultOTLPHTTPEndpoint = "http://localhost:4318"
	defaultOTLPGRPCEndpoint = "http://localhost:4317"
	defaultTracesSampler    = "parentbased_always_on"
)

const (
	// ExportTimeout bounds one OTLP export, retries included: an exporter gives up a batch
	// rather than retry for the exporters' default minute.
	ExportTimeout = 10 * time.Second
	// StopGrace is how long shutdown gives an exporter to cancel its upload once the shutdown
	// context is done.
	StopGrace = time.Second
	// The OTLP exporters retry with their default backoff, within ExportTimeout in all.
	RetryInitial = 5 * time.Second
	RetryMax     = 30 * time.Second
)

// Signal names one OTLP signal: the Config struct that configures it, the infix of its
// variables, and the URL path its http/protobuf endpoint has under a base endpoint.
type Signal struct{ Name, Env, Path string }

// Target is a resolved OTLP destination.
type Target struct {
	URL      string
	Protocol string
	Headers  map[string]string
}

// Resolve applies the OTLP exporter variables of one signal under the Config fields
// endpoint and protocol. Errors name the field or variable that holds the bad value.
func Resolve(sig Signal, endpoint, protocol string, lookup func(string) (string, bool)) (Target, error) {
	var t Target
	protoSource := sig.Name + ".Protocol"
	if protocol == "" {
		for _, name := range []string{"OTEL_EXPORTER_OTLP_" + sig.Env + "_PROTOCOL", EnvOTLPProtocol} {
			if v, ok := LookupNonEmpty(lookup, name); ok {
				protocol, protoSource = v, name
				break
			}
		}
	}
	switch protocol {
	case "":
		t.Protocol = defaultOTLPProtocol
	case ProtocolHTTP, ProtocolGRPC:
		t.Protocol = protocol
	case "http/json":
		return t, fmt.Errorf("%s %q: not supported by the Go OTLP exporters; use http/protobuf or grpc", protoSource, protocol)
	default:
		return t, fmt.Errorf("%s %q: want http/protobuf or grpc", protoSource, protocol)
	}

	source := sig.Name + ".Endpoint"
	switch {
	case endpoint != "":
	case Set(lookup, "OTEL_EXPORTER_OTLP_"+sig.Env+"_ENDPOINT"):
		source = "OTEL_EXPORTER_OTLP_" + sig.Env + "_ENDPOINT"
		endpoint, _ = LookupNonEmpty(lookup, source)
	case Set(lookup, EnvOTLPEndpoint):
		source = EnvOTLPEndpoint
		endpoint, _ = LookupNonEmpty(lookup, source)
		if t.Protocol == ProtocolHTTP {
			endpoint = strings.TrimSuffix(endpoint, "/") + sig.Path
		}
	case t.Protocol == ProtocolGRPC:
		endpoint = defaultOTLPGRPCEndpoint
	default:
		endpoint = defaultOTLPHTTPEndpoint + sig.Path
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return t, fmt.Errorf("%s %q: want an http or https URL such as http://collector:4318", source, endpoint)
	}
	t.URL = endpoint

	for _, name := range []string{EnvOTLPHeaders, "OTEL_EXPORTER_OTLP_" + sig.Env + "_HEADERS"} {
		v, ok := LookupNonEmpty(lookup, name)
		if !ok {
			continue
		}
		h, err := ParseKeyValues(v) // the same key=value,... format
		if err != nil {
			return t, fmt.Errorf("%s: %w", name, err)
		}
		if t.Headers == nil {
			t.Headers = map[string]string{}
		}
		maps.Copy(t.Headers, h)
	}
	return t, nil
}

// SamplerFromEnv builds the sampler OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG name.
func SamplerFromEnv(lookup func(string) (string, bool)) (sdktrace.Sampler, error) {
	name, ok := LookupNonEmpty(lookup, EnvOTelTracesSampler)
	if !ok {
		name = defaultTracesSampler
	}
	ratio := func() (float64, error) {
		arg, ok := LookupNonEmpty(lookup, EnvOTelTracesSamplerArg)
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

// LookupNonEmpty returns a variable's trimmed value and whether it is set and not blank.
func LookupNonEmpty(lookup func(string) (string, bool), name string) (string, bool) {
	v, ok := lookup(name)
	v = strings.TrimSpace(v)
	return v, ok && v != ""
}

// Set reports whether a variable is set and not blank.
func Set(lookup func(string) (string, bool), name string) bool {
	_, ok := LookupNonEmpty(lookup, name)
	return ok
}

// True reports whether a variable says true (in any case).
func True(lookup func(string) (string, bool), name string) bool {
	v, _ := LookupNonEmpty(lookup, name)
	return strings.EqualFold(v, "true")
}

// ParseKeyValues parses the value of OTEL_RESOURCE_ATTRIBUTES and the OTLP header variables:
// comma-separated key=value pairs, values percent-encoded (W3C Baggage octet rules). An empty
// value gives an empty map. A malformed pair is an error naming it and its position.
func ParseKeyValues(s string) (map[string]string, error) {
	out := map[string]string{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for i, pair := range strings.Split(s, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("pair %d %q: want key=value", i+1, pair)
		}
		value, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("pair %d %q: value is not percent-encoded correctly: %w", i+1, pair, err)
		}
		out[k] = value
	}
	return out, nil
}
