package perfobs

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/perfobs/perfobs-go/middleware"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestZeroConfigWorks(t *testing.T) {
	obs, err := Start(context.Background(), Config{LookupEnv: env(nil)})
	if err != nil {
		t.Fatal(err)
	}
	defer obs.Shutdown(context.Background())
	if !strings.HasPrefix(obs.Service(), "unknown_service:") {
		t.Errorf("service %q, want the OpenTelemetry default unknown_service:<exe>", obs.Service())
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello/{name}", func(w http.ResponseWriter, r *http.Request) {})
	obs.HTTP(mux).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/hello/x", nil))
	body := scrape(t, obs.MetricsHandler(), "")
	for _, want := range []string{
		`http_server_request_duration_seconds_count{error_type="",http_request_method="GET",http_response_status_code="200",http_route="/hello/{name}",url_scheme="http"} 1`,
		"go_goroutines ",
		"target_info{",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	// The facade never touches the global registry.
	mfs, _ := prometheus.DefaultGatherer.Gather()
	for _, mf := range mfs {
		if strings.HasPrefix(mf.GetName(), "http_server_") {
			t.Errorf("global registry has %s", mf.GetName())
		}
	}
}

func TestServiceFromEnvironment(t *testing.T) {
	tests := []struct {
		name                   string
		cfg                    Config
		vars                   map[string]string
		service, version, envr string
	}{
		{"OTEL_SERVICE_NAME", Config{}, map[string]string{"OTEL_SERVICE_NAME": "cart"}, "cart", "", ""},
		{"resource attributes", Config{}, map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "service.name=pay,service.version=2.0.1,deployment.environment.name=prod%20eu"}, "pay", "2.0.1", "prod eu"},
		{"service name variable beats attributes", Config{}, map[string]string{"OTEL_SERVICE_NAME": "a", "OTEL_RESOURCE_ATTRIBUTES": "service.name=b"}, "a", "", ""},
		{"config beats environment", Config{Service: "cfg", Version: "9", Environment: "dev"}, map[string]string{"OTEL_SERVICE_NAME": "env", "OTEL_RESOURCE_ATTRIBUTES": "service.version=1,deployment.environment=prod"}, "cfg", "9", "dev"},
		{"older environment key", Config{}, map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "service.name=s,deployment.environment=stage"}, "s", "", "stage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.LookupEnv = env(tt.vars)
			obs, err := Start(context.Background(), tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer obs.Shutdown(context.Background())
			if obs.cfg.Service != tt.service || obs.cfg.Version != tt.version || obs.cfg.Environment != tt.envr {
				t.Fatalf("got service=%q version=%q env=%q", obs.cfg.Service, obs.cfg.Version, obs.cfg.Environment)
			}
			body := scrape(t, obs.MetricsHandler(), "")
			if !strings.Contains(body, `service_name="`+tt.service+`"`) {
				t.Errorf("target_info does not carry service_name=%q", tt.service)
			}
		})
	}
}

func TestBadConfigIsAClearError(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"malformed resource attributes", Config{LookupEnv: env(map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "service.name=a,oops"})}, `OTEL_RESOURCE_ATTRIBUTES: pair 2 "oops": want key=value`},
		{"bad percent encoding", Config{LookupEnv: env(map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "k=%zz"})}, `OTEL_RESOURCE_ATTRIBUTES: pair 1 "k=%zz"`},
		{"invalid middleware option", Config{LookupEnv: env(nil), Middleware: []middleware.Option{middleware.WithDurationBuckets(2, 1)}}, "Config.Middleware: invalid middleware options: WithDurationBuckets"},
		{"nil middleware option", Config{LookupEnv: env(nil), Middleware: []middleware.Option{nil}}, "Config.Middleware[0]: option is nil"},
		{"bad profiling address", Config{LookupEnv: env(nil), Profiling: ProfilingConfig{ServerAddress: "::not a url"}}, "Config.Profiling"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obs, err := Start(context.Background(), tt.cfg)
			if err == nil {
				obs.Shutdown(context.Background())
				t.Fatal("want an error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestMetricsHandlerNegotiates(t *testing.T) {
	obs, err := Start(context.Background(), Config{Service: "neg", LookupEnv: env(nil)})
	if err != nil {
		t.Fatal(err)
	}
	defer obs.Shutdown(context.Background())
	obs.HTTP(http.NotFoundHandler()).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	tests := []struct {
		accept, wantType string
	}{
		{"", "text/plain; version=0.0.4"},
		{"application/openmetrics-text;version=1.0.0", "application/openmetrics-text; version=1.0.0"},
		{"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited", "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"},
	}
	for _, tt := range tests {
		req := httptest.NewRequest("GET", "/metrics", nil)
		if tt.accept != "" {
			req.Header.Set("Accept", tt.accept)
		}
		w := httptest.NewRecorder()
		obs.MetricsHandler().ServeHTTP(w, req)
		if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, tt.wantType) {
			t.Errorf("Accept %q: Content-Type %q, want %q", tt.accept, ct, tt.wantType)
		}
		format := expfmt.ResponseFormat(w.Header())
		if format.FormatType() == expfmt.TypeOpenMetrics {
			// prometheus/common's OpenMetrics decoder takes seconds on a full scrape: read the text.
			body := w.Body.String()
			if !strings.Contains(body, "# TYPE http_server_request_duration_seconds histogram") || !strings.HasSuffix(body, "# EOF\n") {
				t.Errorf("Accept %q: not an OpenMetrics exposition with the duration histogram", tt.accept)
			}
			continue
		}
		dec := expfmt.NewDecoder(bytes.NewReader(w.Body.Bytes()), format)
		found := false
		for {
			var mf dto.MetricFamily
			if err := dec.Decode(&mf); err != nil {
				break
			}
			if mf.GetName() == "http_server_request_duration_seconds" {
				found = true
			}
		}
		if !found {
			t.Errorf("Accept %q: the response lacks the duration histogram", tt.accept)
		}
	}
}

func TestRegistererServesTheServicesCollectors(t *testing.T) {
	obs, err := Start(context.Background(), Config{Service: "own", LookupEnv: env(nil), DisableRuntimeMetrics: true})
	if err != nil {
		t.Fatal(err)
	}
	defer obs.Shutdown(context.Background())
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "orders_placed_total", Help: "Orders."})
	obs.Registerer().MustRegister(c)
	c.Add(3)
	body := scrape(t, obs.MetricsHandler(), "")
	if !strings.Contains(body, "orders_placed_total 3") {
		t.Fatalf("service collector missing:\n%s", body)
	}
	if strings.Contains(body, "go_goroutines") {
		t.Error("DisableRuntimeMetrics left the Go collector on")
	}
}

func TestShutdownIsIdempotentAndBounded(t *testing.T) {
	obs, err := Start(context.Background(), Config{Service: "s", LookupEnv: env(nil)})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		start := time.Now()
		if err := obs.Shutdown(context.Background()); err != nil {
			t.Fatalf("shutdown %d: %v", i, err)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("shutdown %d took %v", i, d)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := obs.Shutdown(ctx); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("shutdown after done with a cancelled context: %v", err)
	}
}

func TestMiddlewareOptionsRecordIntoTheObserver(t *testing.T) {
	obs, err := Start(context.Background(), Config{Service: "s", LookupEnv: env(nil), DisableRuntimeMetrics: true,
		Middleware: []middleware.Option{middleware.WithSkipPaths("/healthz")}})
	if err != nil {
		t.Fatal(err)
	}
	defer obs.Shutdown(context.Background())
	h := middleware.HTTP(http.NotFoundHandler(), obs.MiddlewareOptions()...)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/healthz", nil))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/x", nil))
	body := scrape(t, obs.MetricsHandler(), "")
	if strings.Count(body, "http_server_request_duration_seconds_count{") != 1 || !strings.Contains(body, `http_route="_unmatched",url_scheme="http"} 1`) {
		t.Fatalf("want the one unskipped request recorded on the observer's registry:\n%s", body)
	}
}

func scrape(t *testing.T, h http.Handler, accept string) string {
	t.Helper()
	req := httptest.NewRequest("GET", "/metrics", nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != 200 {
		t.Fatalf("/metrics status %d: %s", w.Code, w.Body)
	}
	return w.Body.String()
}
