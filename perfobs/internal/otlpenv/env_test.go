package otlpenv

import (
	"fmt"
	"strings"
	"testing"

	"github.com/perfobs/perfobs-go/leaktest"
)

func TestMain(m *testing.M) { leaktest.VerifyTestMain(m) }

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestResolveOTLP(t *testing.T) {
	traces := Signal{Name: "Tracing", Env: "TRACES", Path: "/v1/traces"}
	tests := []struct {
		name               string
		endpoint, protocol string
		vars               map[string]string
		url, proto         string
		headers            map[string]string
		err                string
	}{
		{"defaults", "", "", nil, "http://localhost:4318/v1/traces", "http/protobuf", nil, ""},
		{"grpc default", "", "", map[string]string{EnvOTLPProtocol: "grpc"}, "http://localhost:4317", "grpc", nil, ""},
		{"base endpoint gets the path", "", "", map[string]string{EnvOTLPEndpoint: "https://otel:4318/"}, "https://otel:4318/v1/traces", "http/protobuf", nil, ""},
		{"signal endpoint is used as is", "", "", map[string]string{EnvOTLPEndpoint: "http://a:4318", EnvOTLPTracesEndpoint: "http://b:9999/custom"}, "http://b:9999/custom", "http/protobuf", nil, ""},
		{"grpc base endpoint has no path", "", "", map[string]string{EnvOTLPEndpoint: "http://otel:4317", EnvOTLPTracesProtocol: "grpc", EnvOTLPProtocol: "http/protobuf"}, "http://otel:4317", "grpc", nil, ""},
		{"config wins", "http://cfg:1/x", "grpc", map[string]string{EnvOTLPTracesEndpoint: "http://b:2/y", EnvOTLPProtocol: "http/protobuf"}, "http://cfg:1/x", "grpc", nil, ""},
		{"headers merge, signal wins", "", "", map[string]string{EnvOTLPHeaders: "api-key=a%20b,tenant=x", EnvOTLPTracesHeaders: "tenant=y"}, "http://localhost:4318/v1/traces", "http/protobuf", map[string]string{"api-key": "a b", "tenant": "y"}, ""},
		{"json protocol", "", "", map[string]string{EnvOTLPProtocol: "http/json"}, "", "", nil, `OTEL_EXPORTER_OTLP_PROTOCOL "http/json": not supported`},
		{"unknown protocol", "", "udp", nil, "", "", nil, `Tracing.Protocol "udp": want http/protobuf or grpc`},
		{"endpoint without scheme", "", "", map[string]string{EnvOTLPTracesEndpoint: "collector:4318"}, "", "", nil, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT "collector:4318": want an http or https URL`},
		{"bad headers", "", "", map[string]string{EnvOTLPHeaders: "novalue"}, "", "", nil, `OTEL_EXPORTER_OTLP_HEADERS: pair 1 "novalue": want key=value`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Resolve(traces, tt.endpoint, tt.protocol, env(tt.vars))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.URL != tt.url || got.Protocol != tt.proto || !mapsEqual(got.Headers, tt.headers) {
				t.Errorf("got %+v, want url %s protocol %s headers %v", got, tt.url, tt.proto, tt.headers)
			}
		})
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestSamplerFromEnvironment(t *testing.T) {
	tests := []struct {
		vars map[string]string
		want string // the sampler's Description, or the error
	}{
		{nil, "ParentBased{root:AlwaysOnSampler,remoteParentSampled:AlwaysOnSampler,remoteParentNotSampled:AlwaysOffSampler,localParentSampled:AlwaysOnSampler,localParentNotSampled:AlwaysOffSampler}"},
		{map[string]string{EnvOTelTracesSampler: "always_off"}, "AlwaysOffSampler"},
		{map[string]string{EnvOTelTracesSampler: "always_on"}, "AlwaysOnSampler"},
		{map[string]string{EnvOTelTracesSampler: "traceidratio", EnvOTelTracesSamplerArg: "0.25"}, "TraceIDRatioBased{0.25}"},
		{map[string]string{EnvOTelTracesSampler: "parentbased_traceidratio", EnvOTelTracesSamplerArg: "0.5"}, "ParentBased{root:TraceIDRatioBased{0.5},"},
		{map[string]string{EnvOTelTracesSampler: "parentbased_always_off"}, "ParentBased{root:AlwaysOffSampler,"},
		{map[string]string{EnvOTelTracesSampler: "traceidratio", EnvOTelTracesSamplerArg: "1.5"}, `OTEL_TRACES_SAMPLER_ARG "1.5": want a ratio from 0 to 1`},
		{map[string]string{EnvOTelTracesSampler: "jaeger_remote"}, `OTEL_TRACES_SAMPLER "jaeger_remote": want always_on`},
	}
	for _, tt := range tests {
		t.Run(tt.vars[EnvOTelTracesSampler]+tt.vars[EnvOTelTracesSamplerArg], func(t *testing.T) {
			s, err := SamplerFromEnv(env(tt.vars))
			got := ""
			if err != nil {
				got = err.Error()
			} else {
				got = s.Description()
			}
			if !strings.HasPrefix(got, tt.want) && !strings.Contains(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseKeyValues(t *testing.T) {
	got, err := ParseKeyValues(" a=1 , b = x%2Cy ,, c=")
	if err != nil {
		t.Fatal(err)
	}
	if got["a"] != "1" || got["b"] != "x,y" || got["c"] != "" || len(got) != 3 {
		t.Fatalf("got %v", got)
	}
}

func FuzzParseKeyValues(f *testing.F) {
	for _, s := range []string{"service.name=a", "a=1,b=2", "=x", "k=%2", "k=v,,", "ä=ö%C3%A4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseKeyValues(s)
		if err != nil {
			if got != nil {
				t.Fatal("non-nil map with an error")
			}
			return
		}
		for k := range got {
			if k == "" || strings.ContainsAny(k, ",=") {
				t.Fatalf("%q gave key %q", s, k)
			}
		}
	})
}

// ExampleResolve: the traces endpoint under a base endpoint, with headers from the environment.
func ExampleResolve() {
	t, err := Resolve(Signal{Name: "Tracing", Env: "TRACES", Path: "/v1/traces"}, "", "", env(map[string]string{
		EnvOTLPEndpoint: "http://collector:4318",
		EnvOTLPHeaders:  "api-key=s3cret",
	}))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(t.URL, t.Protocol, t.Headers)
	// Output: http://collector:4318/v1/traces http/protobuf map[api-key:s3cret]
}
