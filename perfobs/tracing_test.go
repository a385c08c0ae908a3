package perfobs

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	colmetricpb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricpb "go.opentelemetry.io/proto/otlp/metrics/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/perfobs/perfobs-go/internal/promtest"
	"github.com/perfobs/perfobs-go/internal/recorder"
	"github.com/perfobs/perfobs-go/leaktest"
	"github.com/perfobs/perfobs-go/middleware"
	"github.com/perfobs/perfobs-go/perfobs/internal/otlpenv"
)

// fakeCollector is a loopback OTLP/HTTP receiver: it decodes the protobuf requests of
// /v1/traces and /v1/metrics and keeps them.
type fakeCollector struct {
	*httptest.Server
	t *testing.T

	mu      sync.Mutex
	spans   []*tracepb.ResourceSpans
	metrics []*metricpb.ResourceMetrics
	headers []http.Header
}

func newFakeCollector(t *testing.T) *fakeCollector {
	c := &fakeCollector{t: t}
	c.Server = httptest.NewServer(http.HandlerFunc(c.receive))
	t.Cleanup(c.Close)
	return c
}

func (c *fakeCollector) receive(w http.ResponseWriter, r *http.Request) {
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	raw, err := io.ReadAll(body)
	if err != nil || r.Header.Get("Content-Type") != "application/x-protobuf" {
		c.t.Errorf("fake collector: %s %s: content type %q, read error %v", r.Method, r.URL.Path, r.Header.Get("Content-Type"), err)
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.headers = append(c.headers, r.Header.Clone())
	switch r.URL.Path {
	case "/v1/traces":
		var req coltracepb.ExportTraceServiceRequest
		if err := proto.Unmarshal(raw, &req); err != nil {
			c.t.Errorf("fake collector: traces: %v", err)
		}
		c.spans = append(c.spans, req.ResourceSpans...)
		out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(out)
	case "/v1/metrics":
		var req colmetricpb.ExportMetricsServiceRequest
		if err := proto.Unmarshal(raw, &req); err != nil {
			c.t.Errorf("fake collector: metrics: %v", err)
		}
		c.metrics = append(c.metrics, req.ResourceMetrics...)
		out, _ := proto.Marshal(&colmetricpb.ExportMetricsServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(out)
	default:
		c.t.Errorf("fake collector: unexpected path %s", r.URL.Path)
		http.NotFound(w, r)
	}
}

func attrMap(kvs []*commonpb.KeyValue) map[string]string {
	out := map[string]string{}
	for _, kv := range kvs {
		out[kv.GetKey()] = kv.GetValue().GetStringValue()
	}
	return out
}

// usersMux is the service every facade test serves.
func usersMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hi") })
	return mux
}

// TestTracingOnlyWhenAsked: without a provider or OTEL_* variables asking, the Observer builds
// no tracing; each way of asking turns it on; bad values fail Start naming the variable.
func TestTracingOnlyWhenAsked(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		vars map[string]string
		on   bool
		err  string
	}{
		{"nothing", Config{}, nil, false, ""},
		{"exporter otlp", Config{}, map[string]string{otlpenv.EnvOTelTracesExporter: "otlp"}, true, ""},
		{"base endpoint", Config{}, map[string]string{otlpenv.EnvOTLPEndpoint: "http://127.0.0.1:1"}, true, ""},
		{"traces endpoint, grpc", Config{}, map[string]string{otlpenv.EnvOTLPTracesEndpoint: "http://127.0.0.1:1", otlpenv.EnvOTLPProtocol: "grpc"}, true, ""},
		{"config endpoint", Config{Tracing: TracingConfig{Endpoint: "http://127.0.0.1:1/v1/traces"}}, nil, true, ""},
		{"exporter none", Config{}, map[string]string{otlpenv.EnvOTelTracesExporter: "none", otlpenv.EnvOTLPEndpoint: "http://127.0.0.1:1"}, false, ""},
		{"sdk disabled", Config{}, map[string]string{otlpenv.EnvOTelSDKDisabled: "true", otlpenv.EnvOTLPEndpoint: "http://127.0.0.1:1"}, false, ""},
		{"config disabled", Config{Tracing: TracingConfig{Disabled: true}}, map[string]string{otlpenv.EnvOTLPEndpoint: "http://127.0.0.1:1"}, false, ""},
		{"unsupported exporter", Config{}, map[string]string{otlpenv.EnvOTelTracesExporter: "zipkin"}, false, `Config.Tracing: OTEL_TRACES_EXPORTER "zipkin": only otlp and none`},
		{"bad sampler", Config{}, map[string]string{otlpenv.EnvOTelTracesExporter: "otlp", otlpenv.EnvOTelTracesSampler: "sometimes"}, false, `OTEL_TRACES_SAMPLER "sometimes"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.LookupEnv = env(tt.vars)
			tt.cfg.DisableRuntimeMetrics = true
			obs, err := Start(context.Background(), tt.cfg)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer obs.Shutdown(context.Background())
			if on := obs.tracing != nil; on != tt.on {
				t.Fatalf("tracing on %v, want %v", on, tt.on)
			}
			if tt.on && obs.tracing.owned == nil {
				t.Fatal("the Observer built no SDK provider")
			}
		})
	}
}

// TestTracingExportsOnShutdown: a provider built from the variables exports the server span,
// with the service's resource, to an OTLP/HTTP collector when the Observer shuts down.
func TestTracingExportsOnShutdown(t *testing.T) {
	leaktest.Check(t)
	col := newFakeCollector(t)
	obs, err := Start(context.Background(), Config{DisableRuntimeMetrics: true, LookupEnv: env(map[string]string{
		otlpenv.EnvOTLPEndpoint:           col.URL,
		otlpenv.EnvOTLPHeaders:            "x-team=checkout",
		otlpenv.EnvOTelServiceName:        "checkout",
		otlpenv.EnvOTelResourceAttributes: "service.version=1.4.2,region=eu",
	})})
	if err != nil {
		t.Fatal(err)
	}
	obs.HTTP(usersMux()).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/users/7", nil))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := obs.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	col.mu.Lock()
	defer col.mu.Unlock()
	if len(col.spans) != 1 || len(col.spans[0].ScopeSpans) != 1 || len(col.spans[0].ScopeSpans[0].Spans) != 1 {
		t.Fatalf("collector got %d resource spans, want one with one span", len(col.spans))
	}
	res := attrMap(col.spans[0].Resource.Attributes)
	for k, v := range map[string]string{"service.name": "checkout", "service.version": "1.4.2", "region": "eu", "telemetry.sdk.language": "go"} {
		if res[k] != v {
			t.Errorf("resource %s = %q, want %q", k, res[k], v)
		}
	}
	s := col.spans[0].ScopeSpans[0].Spans[0]
	if s.Name != "GET /users/{id}" || s.Kind != tracepb.Span_SPAN_KIND_SERVER || attrMap(s.Attributes)["http.route"] != "/users/{id}" {
		t.Errorf("span %q kind %v attributes %v", s.Name, s.Kind, attrMap(s.Attributes))
	}
	if got := col.headers[0].Get("x-team"); got != "checkout" {
		t.Errorf("header x-team %q, want checkout (OTEL_EXPORTER_OTLP_HEADERS)", got)
	}
}

// TestGivenProviderIsTheCallers: Shutdown leaves a given provider running, and the middleware
// and TracerProvider use it.
func TestGivenProviderIsTheCallers(t *testing.T) {
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	defer tp.Shutdown(context.Background())
	obs, err := Start(context.Background(), Config{TracerProvider: tp, DisableRuntimeMetrics: true, LookupEnv: env(nil)})
	if err != nil {
		t.Fatal(err)
	}
	obs.HTTP(usersMux()).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/users/7", nil))
	if err := obs.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, span := obs.TracerProvider().Tracer("test").Start(context.Background(), "after shutdown")
	span.End()
	var names []string
	for _, s := range sr.Ended() {
		names = append(names, s.Name())
	}
	if !slices.Equal(names, []string{"GET /users/{id}", "after shutdown"}) {
		t.Fatalf("spans %q: want the request's and one after Shutdown (the provider is the caller's)", names)
	}
}

// TestExemplarsInPrometheus: a real Prometheus with exemplar storage scrapes MetricsHandler
// (OpenMetrics) and its exemplars API answers with trace ids that the span recorder saw.
func TestExemplarsInPrometheus(t *testing.T) {
	t.Parallel()
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	defer tp.Shutdown(context.Background())
	obs, err := Start(context.Background(), Config{TracerProvider: tp, LookupEnv: env(nil)})
	if err != nil {
		t.Fatal(err)
	}
	defer obs.Shutdown(context.Background())
	mux := usersMux()
	mux.Handle("GET /metrics", obs.MetricsHandler())
	srv := httptest.NewServer(obs.HTTP(mux))
	defer srv.Close()
	prom := promtest.Start(t, promtest.WithTarget("svc", strings.TrimPrefix(srv.URL, "http://")), promtest.WithFeatures("exemplar-storage"))

	const sel = `http_server_request_duration_seconds_bucket{http_route="/users/{id}"}`
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	for {
		resp, err := http.Get(srv.URL + "/users/1")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		now := time.Now()
		raw, err := prom.API(ctx, "/api/v1/query_exemplars", url.Values{"query": {sel},
			"start": {now.Add(-time.Minute).Format(time.RFC3339)}, "end": {now.Add(time.Minute).Format(time.RFC3339)}})
		if err != nil {
			t.Fatal(err)
		}
		var data []struct {
			Exemplars []struct {
				Labels map[string]string `json:"labels"`
			} `json:"exemplars"`
		}
		if err := json.Unmarshal(raw, &data); err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, s := range sr.Ended() {
			seen[s.SpanContext().TraceID().String()+"/"+s.SpanContext().SpanID().String()] = true
		}
		for _, series := range data {
			for _, e := range series.Exemplars {
				if !seen[e.Labels["trace_id"]+"/"+e.Labels["span_id"]] {
					t.Fatalf("Prometheus has exemplar %v, which no recorded span has", e.Labels)
				}
				return // found, and it is one of ours
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no exemplar in Prometheus for %s", sel)
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// TestNativeHistogramsInPrometheus: a Prometheus 2.x with native histograms on scrapes the
// protobuf exposition; it keeps the native series only, histogram_count counts every request and
// histogram_quantile answers within one bucket of the true quantile.
func TestNativeHistogramsInPrometheus(t *testing.T) {
	t.Parallel()
	obs, err := Start(context.Background(), Config{LookupEnv: env(nil), DisableRuntimeMetrics: true,
		Middleware: []middleware.Option{middleware.WithNativeHistograms()}})
	if err != nil {
		t.Fatal(err)
	}
	defer obs.Shutdown(context.Background())
	// Known values for the quantiles, in a native vec of the recorder the middleware uses.
	known, err := recorder.NewHistogramVec[string]("known_seconds", "Known durations.", nil,
		recorder.Shape{Bounds: []float64{0.1, 1}, Scale: 1e-9, Native: true})
	if err != nil {
		t.Fatal(err)
	}
	obs.Registerer().MustRegister(known)
	h := known.GetOrCreate("", func() []string { return nil })
	rng := rand.New(rand.NewPCG(1, 2))
	var values []float64
	for i := range 2000 {
		ns := int64(math.Exp(math.Log(1e6) + rng.Float64()*math.Log(1e3))) // 1 ms to 1 s, log-uniform
		known.Observe(h, i, ns)
		values = append(values, float64(ns)*1e-9)
	}
	slices.Sort(values)

	mux := usersMux()
	mux.Handle("GET /metrics", obs.MetricsHandler())
	srv := httptest.NewServer(obs.HTTP(mux))
	defer srv.Close()
	for range 5 {
		resp, err := http.Get(srv.URL + "/users/1")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	prom := promtest.Start(t, promtest.WithTarget("svc", strings.TrimPrefix(srv.URL, "http://")), promtest.WithFeatures("native-histograms"))
	got := prom.WaitForData(t, `histogram_count(http_server_request_duration_seconds{http_route="/users/{id}"})`, 30*time.Second)
	if got[0].Value != 5 {
		t.Errorf("histogram_count = %v, want 5", got[0].Value)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if classic, err := prom.Query(ctx, `http_server_request_duration_seconds_count`); err != nil || len(classic) != 0 {
		t.Errorf("classic _count series %v (err %v): Prometheus 2.x with native histograms should keep only the native series", classic, err)
	}
	// histogram_fraction, the native form of a latency SLO, is exact at a power of two: 0.25 s is
	// a bucket boundary of schema 3.
	below := 0
	for _, v := range values {
		if v <= 0.25 {
			below++
		}
	}
	if smp, err := prom.Query(ctx, "histogram_fraction(0, 0.25, known_seconds)"); err != nil || len(smp) != 1 ||
		math.Abs(smp[0].Value-float64(below)/float64(len(values))) > 1e-9 {
		t.Errorf("histogram_fraction(0, 0.25) = %v (err %v), want %v", smp, err, float64(below)/float64(len(values)))
	}
	const growth = 1.0905077326652577 // 2^(1/8): one bucket of schema 3
	for _, q := range []float64{0.5, 0.9, 0.99} {
		want := values[int(math.Ceil(q*float64(len(values))))-1]
		smp, err := prom.Query(ctx, "histogram_quantile("+strconv.FormatFloat(q, 'g', -1, 64)+", known_seconds)")
		if err != nil || len(smp) != 1 {
			t.Fatalf("q%v: %v %v", q, smp, err)
		}
		if got := smp[0].Value; got < want/growth || got > want*growth {
			t.Errorf("histogram_quantile(%v) = %v, true quantile %v: more than one bucket apart", q, got, want)
		}
	}
}

// TestShutdownBoundedWithHangingCollector: a collector that never answers holds neither the
// spans' nor the metrics' flush past Shutdown's context, and leaves no goroutine behind.
func TestShutdownBoundedWithHangingCollector(t *testing.T) {
	leaktest.Check(t)
	addr := blackHole(t)
	before := leaktest.IgnoreCurrent() // the black hole's own goroutines
	obs, err := Start(context.Background(), Config{DisableRuntimeMetrics: true, LookupEnv: env(map[string]string{
		otlpenv.EnvOTLPEndpoint: addr, otlpenv.EnvOTelMetricsExporter: "otlp",
	})})
	if err != nil {
		t.Fatal(err)
	}
	if obs.tracing == nil || obs.push == nil {
		t.Fatal("tracing or the metrics push is off")
	}
	obs.HTTP(usersMux()).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/users/7", nil))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = obs.Shutdown(ctx)
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("Shutdown took %v with a 300ms context", took)
	}
	if err == nil {
		t.Fatal("Shutdown reported no error although nothing could be exported")
	}
	// With the collector still hanging: the exporters' uploads and retries are cancelled, not
	// left running for their retry budget.
	if err := leaktest.Find(before, leaktest.WithTimeout(3*time.Second)); err != nil {
		t.Errorf("3s after Shutdown, the collector still hanging:\n%v", err)
	}
}
