package canary

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

var (
	t0 = time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC)
	t1 = t0.Add(30 * time.Minute)
)

func steady(n int, v float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v * (1 + 0.01*float64(i%7))
	}
	return out
}

func healthyJob(version string) *fakeJob {
	return &fakeJob{
		version: version,
		http: map[Group]*Traffic{
			{Kind: "http", Route: "/orders", Method: "POST"}: {Latency: hist(1000, 3000, 4000, 1500, 400, 80, 20), Errors: 10},
		},
		grpc: map[Group]*Traffic{
			{Kind: "grpc", Method: "shop.Cart/Add"}: {Latency: hist(5000, 2000, 100), Errors: 0},
		},
		series: map[string][]float64{
			"process_cpu_seconds_total":            steady(60, 0.002),
			"go_memory_classes_heap_objects_bytes": steady(60, 4e6),
			"go_goroutines":                        steady(60, 40),
			"go_cpu_classes_gc_total":              steady(60, 0.01),
		},
	}
}

func mustSel(t *testing.T, s string) Selector {
	t.Helper()
	sel, err := ParseSelector(s)
	if err != nil {
		t.Fatal(err)
	}
	return sel
}

func judgeFake(t *testing.T, f *fakeProm, base, can string, cfg Config) (Report, error) {
	t.Helper()
	srv := f.serve(t)
	return Judge(context.Background(), &Client{URL: srv.URL}, Request{Baseline: mustSel(t, base), Canary: mustSel(t, can), Start: t0, End: t1, Config: cfg})
}

func TestJudgePassAndFail(t *testing.T) {
	slow := healthyJob("1.1.0")
	slow.http[Group{Kind: "http", Route: "/orders", Method: "POST"}] = &Traffic{Latency: hist(1000, 3000, 3500, 1500, 500, 300, 200), Errors: 10}
	slow.slow = []Exemplar{{TraceID: "0af7651916cd43dd8448eb211c80319c", Value: 0.2}, {TraceID: "fast", Value: 0.001}}
	f := &fakeProm{jobs: map[string]*fakeJob{"base": healthyJob("1.0.0"), "same": healthyJob("1.0.0"), "slow": slow}}

	rep, err := judgeFake(t, f, `job="base"`, `job="same"`, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != Pass || rep.Score != 100 {
		t.Fatalf("identical sides: %s score %v: %v", rep.Verdict, rep.Score, rep.Reasons)
	}
	wantMetrics := map[string]bool{"latency": true, "errors": true, "cpu_per_request": true, "heap_bytes": true, "goroutines": true, "gc_cpu_share": true}
	for _, r := range rep.Results {
		delete(wantMetrics, r.Metric)
		if r.Status == StatusNoData {
			t.Errorf("%s %s: no data: %s", r.Scope, r.Metric, r.Note)
		}
	}
	if len(wantMetrics) > 0 {
		t.Errorf("metrics not compared: %v", wantMetrics)
	}

	rep, err = judgeFake(t, f, `job="base"`, `job="slow"`, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != Fail {
		t.Fatalf("slow canary: %s: %v", rep.Verdict, rep.Reasons)
	}
	var got *Result
	for _, r := range rep.Failing() {
		if r.Scope == "POST /orders" && r.Metric == "latency" {
			got = &r
		}
	}
	if got == nil {
		t.Fatalf("POST /orders latency not failing: %v", rep.Reasons)
	}
	if len(got.Exemplars) != 1 || got.Exemplars[0].TraceID != "0af7651916cd43dd8448eb211c80319c" {
		t.Errorf("exemplars %+v, want only the slow one", got.Exemplars)
	}
	if !strings.Contains(strings.Join(rep.Reasons, "\n"), "POST /orders latency is worse on the canary") {
		t.Errorf("reasons %q do not name the route and metric", rep.Reasons)
	}
}

func TestJudgeNeverFalsePass(t *testing.T) {
	noGRPC := healthyJob("1.0.0")
	noGRPC.grpc = nil
	noRuntime := healthyJob("1.0.0")
	noRuntime.series = nil
	tiny := healthyJob("1.0.0")
	tiny.http = map[Group]*Traffic{{Kind: "http", Route: "/orders", Method: "POST"}: {Latency: hist(10, 20)}}
	tiny.grpc = nil
	f := &fakeProm{jobs: map[string]*fakeJob{"base": healthyJob("1.0.0"), "nogrpc": noGRPC, "noruntime": noRuntime, "tiny": tiny, "tiny2": tiny}}
	tests := []struct {
		name, base, can string
		want            string
	}{
		{"selector matches nothing", `job="base"`, `job="missing"`, `the canary selector job="missing" matches no scraped target`},
		{"metric missing on one side", `job="base"`, `job="nogrpc"`, `service (grpc): missing on the canary (job="nogrpc")`},
		{"runtime metrics missing on one side", `job="base"`, `job="noruntime"`, `instance cpu_per_request: missing on the canary (job="noruntime")`},
		{"too little traffic", `job="tiny"`, `job="tiny2"`, "too little traffic: 30 requests on the baseline, 30 on the canary"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := judgeFake(t, f, tt.base, tt.can, Config{})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Verdict != Inconclusive {
				t.Fatalf("verdict %s, want inconclusive: %v", rep.Verdict, rep.Reasons)
			}
			if !strings.Contains(strings.Join(rep.Reasons, "\n"), tt.want) {
				t.Fatalf("reasons %q lack %q", rep.Reasons, tt.want)
			}
		})
	}
}

func TestJudgeErrors(t *testing.T) {
	f := &fakeProm{jobs: map[string]*fakeJob{"base": healthyJob("1.0.0"), "can": healthyJob("1.1.0")}, fail: "rpc_server_call_duration_seconds_bucket"}
	_, err := judgeFake(t, f, `job="base"`, `job="can"`, Config{})
	var qe *QueryError
	if !errors.As(err, &qe) || !strings.Contains(qe.Query, "rpc_server_call_duration_seconds_bucket") || !strings.Contains(err.Error(), "query timed out") {
		t.Fatalf("error %v, want a QueryError naming the failing query", err)
	}

	f = &fakeProm{jobs: map[string]*fakeJob{"base": healthyJob("1.0.0")}}
	_, err = judgeFake(t, f, `job="base"`, `job=~"base|other"`, Config{})
	if !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), "matches both") {
		t.Fatalf("overlapping selectors: %v", err)
	}

	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	c := &Client{URL: srv.URL}
	if _, err := c.Query(context.Background(), "up", t1); err == nil || !strings.Contains(err.Error(), "HTTP 404") {
		t.Fatalf("non-API response: %v", err)
	}
	_, err = Judge(context.Background(), c, Request{Baseline: mustSel(t, "1"), Canary: mustSel(t, "2"), Start: t1, End: t0})
	if !errors.Is(err, ErrInput) {
		t.Fatalf("reversed window: %v", err)
	}
}

func TestJudgeVersionJoin(t *testing.T) {
	f := &fakeProm{jobs: map[string]*fakeJob{"checkout-a": healthyJob("1.0.0"), "checkout-b": healthyJob("1.1.0")}}
	rep, err := judgeFake(t, f, `1.0.0`, `service_version="1.1.0"`, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != Pass || len(rep.Canary.Instances) != 1 || rep.Canary.Instances[0] != "checkout-b/checkout-b:80" {
		t.Fatalf("verdict %s, canary instances %v: %v", rep.Verdict, rep.Canary.Instances, rep.Reasons)
	}
	pinned := false
	for _, q := range f.queries {
		pinned = pinned || strings.Contains(q, `job=~"checkout-b", instance=~"checkout-b:80"`)
	}
	if !pinned {
		t.Fatalf("no query pinned to the canary's targets: %q", f.queries)
	}
}

func TestMannWhitneyMode(t *testing.T) {
	base := healthyJob("1.0.0")
	can := healthyJob("1.1.0")
	base.series["histogram_quantile"] = steady(60, 0.1)
	can.series["histogram_quantile"] = steady(60, 0.15)
	f := &fakeProm{jobs: map[string]*fakeJob{"base": base, "can": can}}
	rep, err := judgeFake(t, f, `job="base"`, `job="can"`, Config{Latency: LatencyConfig{Mode: "mannwhitney"}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != Fail {
		t.Fatalf("verdict %s: %v", rep.Verdict, rep.Reasons)
	}
	if !strings.Contains(strings.Join(rep.Reasons, "\n"), "Hodges-Lehmann shift +50.0%") {
		t.Fatalf("reasons %q lack the Hodges-Lehmann shift", rep.Reasons)
	}
}
