package integrations_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	testpb "google.golang.org/grpc/interop/grpc_testing"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/internal/promtest"
	"github.com/perfobs/perfobs-go/middleware/grpcmw"
	"github.com/perfobs/perfobs-go/perfobs"
)

// envOf is a LookupEnv over a fixed set of variables.
func envOf(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

type rpcBackend struct {
	testpb.UnimplementedTestServiceServer
}

func (rpcBackend) UnaryCall(context.Context, *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	return &testpb.SimpleResponse{}, nil
}

// slowRoute sleeps past the 0.25s bucket, so that its exemplars sit in a slow bucket.
const slowFor = 300 * time.Millisecond

// TestTracesInJaeger runs two services built with the facade, their OTEL_* variables pointed at
// a real Jaeger (the backend exports over OTLP/HTTP, the frontend over OTLP/gRPC). The frontend
// calls the backend over HTTP and gRPC; Prometheus 2.42 and 3 scrape the backend with exemplar
// storage. Jaeger must hold the server spans named by route and by method, each in the trace of
// the frontend's client span; and the trace id of the exemplar Prometheus returns for the slow
// bucket must be a trace in Jaeger with the slow request's span.
func TestTracesInJaeger(t *testing.T) {
	t.Parallel()
	j := promtest.StartJaeger(t)
	ctx := context.Background()

	back, err := perfobs.Start(ctx, perfobs.Config{LookupEnv: envOf(map[string]string{
		"OTEL_SERVICE_NAME":           "backend",
		"OTEL_TRACES_EXPORTER":        "otlp",
		"OTEL_EXPORTER_OTLP_ENDPOINT": j.OTLPHTTP,
		"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
	})})
	if err != nil {
		t.Fatal(err)
	}
	front, err := perfobs.Start(ctx, perfobs.Config{LookupEnv: envOf(map[string]string{
		"OTEL_SERVICE_NAME":           "frontend",
		"OTEL_TRACES_EXPORTER":        "otlp",
		"OTEL_EXPORTER_OTLP_ENDPOINT": j.OTLPGRPC,
		"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
	})})
	if err != nil {
		t.Fatal(err)
	}
	shutdown := func(o *perfobs.Observer) {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := o.Shutdown(sctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	}
	defer shutdown(front)
	defer shutdown(back)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /slow/{id}", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(slowFor)
		fmt.Fprintln(w, "slow", r.PathValue("id"))
	})
	outer := http.NewServeMux()
	outer.Handle("GET /metrics", back.MetricsHandler())
	outer.Handle("/", back.HTTP(mux))
	web := httptest.NewServer(outer)
	defer web.Close()

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer(grpc.ChainUnaryInterceptor(grpcmw.UnaryServerInterceptor(back.MiddlewareOptions()...)))
	testpb.RegisterTestServiceServer(gs, rpcBackend{})
	go gs.Serve(lis)
	defer gs.Stop()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithChainUnaryInterceptor(grpcmw.UnaryClientInterceptor(front.MiddlewareOptions()...)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	proms := map[promtest.Version]*promtest.Server{}
	for _, v := range promtest.Versions() {
		proms[v] = promtest.Start(t, promtest.WithVersion(v), promtest.WithFeatures("exemplar-storage"),
			promtest.WithTarget("backend", strings.TrimPrefix(web.URL, "http://")))
	}

	client := &http.Client{Transport: front.Transport(http.DefaultTransport), Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	rpc := testpb.NewTestServiceClient(conn)
	// A request and a call every 100ms for 3 seconds: the scrapes see exemplars of both.
	for i := range 30 {
		resp, err := client.Get(web.URL + "/slow/" + strconv.Itoa(i))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if _, err := rpc.UnaryCall(ctx, &testpb.SimpleRequest{}); err != nil {
			t.Fatal(err)
		}
	}

	// The exemplars of the slow bucket, on each Prometheus.
	exemplarTraces := map[promtest.Version]string{}
	for v, prom := range proms {
		id := slowBucketExemplar(t, prom)
		exemplarTraces[v] = id
		t.Logf("%v: the slow bucket's exemplar is trace %s", v, id)
	}
	// Export every span before reading Jaeger.
	shutdown(back)
	shutdown(front)

	for v, id := range exemplarTraces {
		tr := j.WaitForTrace(t, id, 2, 20*time.Second)
		server, client := spanOf(tr, "backend", "GET /slow/{id}"), spanOf(tr, "frontend", "")
		if server == nil || client == nil {
			t.Errorf("%v: trace %s of the exemplar lacks the backend's span GET /slow/{id} or the frontend's client span: %s", v, id, describe(tr))
			continue
		}
		if !childOf(*server, client.SpanID) {
			t.Errorf("%v: the server span is not a child of the client span: %s", v, describe(tr))
		}
		if route, _ := server.Tag("http.route"); route != "/slow/{id}" {
			t.Errorf("%v: server span tag http.route = %q, want /slow/{id}", v, route)
		}
		if server.Duration < slowFor.Microseconds() {
			t.Errorf("%v: server span lasted %dµs, want at least %v", v, server.Duration, slowFor)
		}
	}

	// The gRPC hop: a backend span named by the method, in the trace of a frontend span.
	traces, err := j.Traces(ctx, "backend", url.Values{"operation": {"grpc.testing.TestService/UnaryCall"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(traces) != 30 {
		t.Errorf("Jaeger holds %d traces of the backend's gRPC method, want 30", len(traces))
	}
	for _, tr := range traces {
		server := spanOf(tr, "backend", "grpc.testing.TestService/UnaryCall")
		client := spanOf(tr, "frontend", "grpc.testing.TestService/UnaryCall")
		if server == nil || client == nil || !childOf(*server, client.SpanID) {
			t.Errorf("gRPC trace %s: want a frontend client span and its backend child, both named by the method: %s", tr.TraceID, describe(tr))
			break
		}
	}
}

// slowBucketExemplar returns the trace id of an exemplar Prometheus holds for a bucket of the
// slow route above 0.25s.
func slowBucketExemplar(t *testing.T, prom *promtest.Server) string {
	t.Helper()
	q := catalog.HTTPServerDuration + `_bucket{job="backend",http_route="/slow/{id}"}`
	deadline := time.Now().Add(20 * time.Second)
	for {
		raw, err := prom.API(context.Background(), "/api/v1/query_exemplars", url.Values{
			"query": {q},
			"start": {strconv.FormatInt(time.Now().Add(-time.Hour).Unix(), 10)},
			"end":   {strconv.FormatInt(time.Now().Add(time.Minute).Unix(), 10)},
		})
		if err != nil {
			t.Fatal(err)
		}
		var res []struct {
			SeriesLabels map[string]string `json:"seriesLabels"`
			Exemplars    []struct {
				Labels map[string]string `json:"labels"`
				Value  string            `json:"value"`
			} `json:"exemplars"`
		}
		if err := json.Unmarshal(raw, &res); err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			le, err := strconv.ParseFloat(r.SeriesLabels["le"], 64)
			if err != nil || le <= 0.25 {
				continue
			}
			for _, e := range r.Exemplars {
				v, _ := strconv.ParseFloat(e.Value, 64)
				if id := e.Labels["trace_id"]; id != "" && v >= slowFor.Seconds() {
					return id
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no exemplar with a trace_id in a bucket above 0.25s for %s: %s", q, raw)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// spanOf returns the first span of service named name ("" for any name), or nil.
func spanOf(tr promtest.JaegerTrace, service, name string) *promtest.JaegerSpan {
	for i, s := range tr.Spans {
		if tr.Service(s) == service && (name == "" || s.OperationName == name) {
			return &tr.Spans[i]
		}
	}
	return nil
}

func childOf(s promtest.JaegerSpan, parent string) bool {
	for _, r := range s.References {
		if r.RefType == "CHILD_OF" && r.SpanID == parent && r.TraceID == s.TraceID {
			return true
		}
	}
	return false
}

func describe(tr promtest.JaegerTrace) string {
	var parts []string
	for _, s := range tr.Spans {
		parts = append(parts, fmt.Sprintf("%s:%q(%s)", tr.Service(s), s.OperationName, s.SpanID))
	}
	return strings.Join(parts, " ")
}
