package promtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// Jaeger is a running Jaeger (v2, the all-in-one binary): OTLP in, the query API out, traces
// kept in memory.
type Jaeger struct {
	// OTLPHTTP is the base URL of the OTLP/HTTP receiver, for OTEL_EXPORTER_OTLP_ENDPOINT with
	// http/protobuf (the exporter appends /v1/traces).
	OTLPHTTP string
	// OTLPGRPC is the URL of the OTLP/gRPC receiver, for OTEL_EXPORTER_OTLP_ENDPOINT with grpc.
	OTLPGRPC string
	// QueryURL is the base URL of the query API (/api/traces/{id}, /api/services).
	QueryURL string
	// Dir holds the configuration.
	Dir string

	client *http.Client
}

// jaegerConfig is the all-in-one pipeline with every listener on a port of the test's choosing:
// OTLP receivers, the memory store, the query extension; Jaeger's own telemetry is off, so no
// fixed port (8888) is taken.
const jaegerConfig = `service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: []
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  jaeger_storage:
    backends:
      mem:
        memory:
          max_traces: 100000
  jaeger_query:
    storage:
      traces: mem
    http:
      endpoint: %s
    grpc:
      endpoint: %s
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: %s
      http:
        endpoint: %s
exporters:
  jaeger_storage_exporter:
    trace_storage: mem
`

// StartJaeger runs $JAEGER, else jaeger in ToolsDir, on free ports and returns once its query API
// answers; it stops in t.Cleanup.
func StartJaeger(t TB) *Jaeger {
	t.Helper()
	bin := os.Getenv("JAEGER")
	if bin == "" {
		bin = filepath.Join(ToolsDir(), "jaeger")
	}
	bin, err := executable("Jaeger", bin)
	if err != nil {
		t.Fatalf("promtest: %v", err)
	}
	var addrs [4]string
	for i := range addrs {
		if addrs[i], err = freeAddr(); err != nil {
			t.Fatalf("promtest: free port: %v", err)
		}
	}
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "jaeger.yaml")
	if err := os.WriteFile(cfgPath, fmt.Appendf(nil, jaegerConfig, addrs[0], addrs[1], addrs[2], addrs[3]), 0o644); err != nil {
		t.Fatalf("promtest: %v", err)
	}
	j := &Jaeger{QueryURL: "http://" + addrs[0], OTLPGRPC: "http://" + addrs[2], OTLPHTTP: "http://" + addrs[3],
		Dir: dir, client: &http.Client{Timeout: 10 * time.Second}}
	t.Cleanup(j.client.CloseIdleConnections)
	runProcess(t, "Jaeger", bin, []string{"--config=file:" + cfgPath}, func() bool {
		// The query API answers before the receivers listen: wait for both.
		return httpOK(j.client, j.QueryURL+"/api/services") && dialOK(addrs[2]) && dialOK(addrs[3])
	}, 60*time.Second)
	return j
}

// JaegerSpan is one span of a trace from the query API.
type JaegerSpan struct {
	TraceID       string `json:"traceID"`
	SpanID        string `json:"spanID"`
	OperationName string `json:"operationName"`
	References    []struct {
		RefType string `json:"refType"`
		TraceID string `json:"traceID"`
		SpanID  string `json:"spanID"`
	} `json:"references"`
	ProcessID string `json:"processID"`
	Tags      []struct {
		Key   string `json:"key"`
		Value any    `json:"value"`
	} `json:"tags"`
	Duration int64 `json:"duration"` // microseconds
}

// Tag returns the value of the span's tag key as text, and whether the span has it.
func (s JaegerSpan) Tag(key string) (string, bool) {
	for _, t := range s.Tags {
		if t.Key == key {
			return fmt.Sprint(t.Value), true
		}
	}
	return "", false
}

// JaegerTrace is one trace from the query API.
type JaegerTrace struct {
	TraceID   string       `json:"traceID"`
	Spans     []JaegerSpan `json:"spans"`
	Processes map[string]struct {
		ServiceName string `json:"serviceName"`
	} `json:"processes"`
}

// Service returns the service name of span s.
func (tr JaegerTrace) Service(s JaegerSpan) string { return tr.Processes[s.ProcessID].ServiceName }

// Trace reads one trace by its hex id; a trace Jaeger does not hold is an error.
func (j *Jaeger) Trace(ctx context.Context, traceID string) (JaegerTrace, error) {
	var out []JaegerTrace
	if err := j.get(ctx, "/api/traces/"+url.PathEscape(traceID), nil, &out); err != nil {
		return JaegerTrace{}, err
	}
	if len(out) != 1 {
		return JaegerTrace{}, fmt.Errorf("jaeger: trace %s: %d traces in the answer", traceID, len(out))
	}
	return out[0], nil
}

// Traces searches the traces of service (the query API's /api/traces?service=...).
func (j *Jaeger) Traces(ctx context.Context, service string, params url.Values) ([]JaegerTrace, error) {
	p := url.Values{"service": {service}, "limit": {"1000"}, "lookback": {"1h"}}
	for k, v := range params {
		p[k] = v
	}
	var out []JaegerTrace
	err := j.get(ctx, "/api/traces", p, &out)
	return out, err
}

// WaitForTrace polls Trace until the trace holds at least minSpans spans, and fails the test
// after timeout.
func (j *Jaeger) WaitForTrace(t TB, traceID string, minSpans int, timeout time.Duration) JaegerTrace {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var last error
	for {
		tr, err := j.Trace(ctx, traceID)
		if err == nil && len(tr.Spans) >= minSpans {
			return tr
		}
		if err != nil {
			last = err
		} else {
			last = fmt.Errorf("%d spans, want %d", len(tr.Spans), minSpans)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("promtest: Jaeger has no trace %s after %v: %v", traceID, timeout, last)
			return JaegerTrace{}
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (j *Jaeger) get(ctx context.Context, path string, params url.Values, v any) error {
	u := j.QueryURL + path
	if len(params) > 0 {
		u += "?" + params.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := j.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("jaeger %s: HTTP %d: %.200s", path, resp.StatusCode, body)
	}
	var env struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Msg string `json:"msg"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("jaeger %s: %w", path, err)
	}
	if len(env.Errors) > 0 {
		return fmt.Errorf("jaeger %s: %s", path, env.Errors[0].Msg)
	}
	return json.Unmarshal(env.Data, v)
}
