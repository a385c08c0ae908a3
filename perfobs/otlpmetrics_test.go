package perfobs

import (
	"context"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	metricpb "go.opentelemetry.io/proto/otlp/metrics/v1"

	"github.com/perfobs/perfobs-go/leaktest"
	"github.com/perfobs/perfobs-go/middleware"
	"github.com/perfobs/perfobs-go/perfobs/internal/otlpenv"
)

// TestOTLPMetricsPush: the registry reaches an OTLP/HTTP collector through the Prometheus bridge
// when the Observer shuts down: the duration histogram with its labels as attributes, and the
// service in the resource.
func TestOTLPMetricsPush(t *testing.T) {
	tests := []struct {
		name   string
		cfg    func(url string) OTLPMetricsConfig
		vars   func(url string) map[string]string
		native bool
	}{
		{"config endpoint", func(url string) OTLPMetricsConfig {
			return OTLPMetricsConfig{Endpoint: url + "/v1/metrics", Interval: time.Hour}
		}, func(string) map[string]string { return nil }, false},
		{"metrics endpoint variable, native histograms", func(string) OTLPMetricsConfig { return OTLPMetricsConfig{} },
			func(url string) map[string]string {
				return map[string]string{otlpenv.EnvOTLPMetricsEndpoint: url + "/v1/metrics", otlpenv.EnvOTelMetricExportInterval: "3600000"}
			}, true},
		{"exporter variable and base endpoint", func(string) OTLPMetricsConfig { return OTLPMetricsConfig{} },
			func(url string) map[string]string {
				return map[string]string{otlpenv.EnvOTelMetricsExporter: "otlp", otlpenv.EnvOTLPEndpoint: url, otlpenv.EnvOTelTracesExporter: "none"}
			}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leaktest.Check(t)
			col := newFakeCollector(t)
			vars := tt.vars(col.URL)
			if vars == nil {
				vars = map[string]string{}
			}
			vars[otlpenv.EnvOTelServiceName] = "checkout"
			var mw []middleware.Option
			if tt.native {
				mw = append(mw, middleware.WithNativeHistograms())
			}
			obs, err := Start(context.Background(), Config{OTLPMetrics: tt.cfg(col.URL), LookupEnv: env(vars), Middleware: mw})
			if err != nil {
				t.Fatal(err)
			}
			if obs.push == nil {
				t.Fatal("OTLP metrics push is off")
			}
			obs.HTTP(usersMux()).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/users/7", nil))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := obs.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			col.mu.Lock()
			defer col.mu.Unlock()
			if len(col.metrics) == 0 {
				t.Fatal("collector received no metrics")
			}
			if svc := attrMap(col.metrics[0].Resource.Attributes)["service.name"]; svc != "checkout" {
				t.Errorf("resource service.name %q, want checkout", svc)
			}
			var found *metricpb.Metric
			names := map[string]bool{}
			for _, rm := range col.metrics {
				for _, sm := range rm.ScopeMetrics {
					for _, m := range sm.Metrics {
						names[m.Name] = true
						if m.Name == "http_server_request_duration_seconds" {
							found = m
						}
					}
				}
			}
			if found == nil {
				t.Fatalf("no http_server_request_duration_seconds among %d metrics", len(names))
			}
			if !names["go_goroutines"] {
				t.Error("runtime metrics missing from the push")
			}
			var attrs map[string]string
			var count uint64
			switch {
			case found.GetHistogram() != nil && !tt.native:
				dp := found.GetHistogram().DataPoints[0]
				attrs, count = attrMap(dp.Attributes), dp.Count
			case found.GetExponentialHistogram() != nil && tt.native:
				dp := found.GetExponentialHistogram().DataPoints[0]
				attrs, count = attrMap(dp.Attributes), dp.Count
				if dp.Scale != 3 {
					t.Errorf("exponential histogram scale %d, want 3", dp.Scale)
				}
			default:
				t.Fatalf("metric data %T, want a histogram (native %v)", found.Data, tt.native)
			}
			want := map[string]string{"http_request_method": "GET", "http_route": "/users/{id}", "http_response_status_code": "200", "url_scheme": "http", "error_type": ""}
			for k, v := range want {
				if attrs[k] != v {
					t.Errorf("attribute %s = %q, want %q (all %v)", k, attrs[k], v, attrs)
				}
			}
			if count != 1 {
				t.Errorf("count %d, want 1", count)
			}
		})
	}
}

func TestOTLPMetricsConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  OTLPMetricsConfig
		vars map[string]string
		err  string
	}{
		{"bad interval variable", OTLPMetricsConfig{}, map[string]string{otlpenv.EnvOTLPMetricsEndpoint: "http://127.0.0.1:1/v1/metrics", otlpenv.EnvOTelMetricExportInterval: "10s"}, `OTEL_METRIC_EXPORT_INTERVAL "10s": want a positive number of milliseconds`},
		{"negative interval", OTLPMetricsConfig{Endpoint: "http://127.0.0.1:1", Interval: -time.Second}, nil, "Config.OTLPMetrics: OTLPMetrics.Interval -1s: must not be negative"},
		{"bad endpoint field", OTLPMetricsConfig{Endpoint: "collector"}, nil, `OTLPMetrics.Endpoint "collector": want an http or https URL`},
		{"unsupported exporter", OTLPMetricsConfig{}, map[string]string{otlpenv.EnvOTelMetricsExporter: "console"}, `OTEL_METRICS_EXPORTER "console"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obs, err := Start(context.Background(), Config{OTLPMetrics: tt.cfg, LookupEnv: env(tt.vars), DisableRuntimeMetrics: true})
			if err == nil {
				obs.Shutdown(context.Background())
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("err %v, want %q", err, tt.err)
			}
		})
	}
}

// TestOTLPMetricsOffByDefault: OTEL_EXPORTER_OTLP_ENDPOINT alone turns tracing on, not the push.
func TestOTLPMetricsOffByDefault(t *testing.T) {
	obs, err := Start(context.Background(), Config{DisableRuntimeMetrics: true, LookupEnv: env(map[string]string{otlpenv.EnvOTLPEndpoint: "http://127.0.0.1:1"})})
	if err != nil {
		t.Fatal(err)
	}
	defer obs.Shutdown(context.Background())
	if obs.push != nil || obs.tracing == nil {
		t.Fatalf("push on %v, tracing on %v: want only tracing", obs.push != nil, obs.tracing != nil)
	}
}

// connCounter is an OTLP/HTTP receiver that answers every export with an empty 200 and counts
// the connections open to it.
type connCounter struct {
	*httptest.Server
	mu          sync.Mutex
	open        map[net.Conn]bool
	opened, req int
}

func newConnCounter(t *testing.T) *connCounter {
	c := &connCounter{open: map[net.Conn]bool{}}
	c.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		c.mu.Lock()
		c.req++
		c.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	c.Server.Config.ConnState = func(conn net.Conn, s http.ConnState) {
		c.mu.Lock()
		defer c.mu.Unlock()
		switch s {
		case http.StateNew:
			c.open[conn] = true
			c.opened++
		case http.StateClosed, http.StateHijacked:
			delete(c.open, conn)
		}
	}
	c.Start()
	t.Cleanup(c.Close)
	return c
}

func (c *connCounter) counts() (open, opened, requests int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.open), c.opened, c.req
}

// TestOTLPClosesConnectionsOnShutdown: after Shutdown, the OTLP exporters have closed every
// connection they opened to the collector, while the collector is still up (the exporters' own
// Shutdown drops their HTTP client and leaves its keep-alive connections open).
func TestOTLPClosesConnectionsOnShutdown(t *testing.T) {
	tests := []struct {
		name string
		vars map[string]string
	}{
		{"traces", map[string]string{otlpenv.EnvOTelTracesExporter: "otlp", otlpenv.EnvOTelMetricsExporter: "none"}},
		{"metrics", map[string]string{otlpenv.EnvOTelTracesExporter: "none", otlpenv.EnvOTelMetricsExporter: "otlp"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leaktest.Check(t)
			col := newConnCounter(t)
			vars := map[string]string{otlpenv.EnvOTLPEndpoint: col.URL}
			maps.Copy(vars, tt.vars)
			obs, err := Start(context.Background(), Config{Service: "checkout", DisableRuntimeMetrics: true, LookupEnv: env(vars)})
			if err != nil {
				t.Fatal(err)
			}
			obs.HTTP(usersMux()).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/users/7", nil))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := obs.Shutdown(ctx); err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
			deadline := time.Now().Add(2 * time.Second)
			for {
				open, opened, requests := col.counts()
				if requests == 0 || opened == 0 {
					t.Fatalf("%d exports over %d connections reached the collector: the test proves nothing", requests, opened)
				}
				if open == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d of %d connections to the collector still open 2s after Shutdown", open, opened)
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}
