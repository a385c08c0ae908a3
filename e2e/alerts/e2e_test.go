package alerts_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"
	testpb "google.golang.org/grpc/interop/grpc_testing"

	"github.com/perfobs/perfobs-go/alerts"
	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/internal/promtest"
	"github.com/perfobs/perfobs-go/internal/testkit/grpctest"
	"github.com/perfobs/perfobs-go/middleware"
	"github.com/perfobs/perfobs-go/middleware/grpcmw"
	"github.com/perfobs/perfobs-go/runtimemetrics"
)

// startService runs an HTTP and a gRPC service instrumented by the middleware, with /metrics, and
// drives load at both until the test ends. It returns the address Prometheus scrapes.
func startService(t *testing.T, job string) string {
	t.Helper()
	reg := prometheus.NewRegistry()
	if err := runtimemetrics.Register(reg); err != nil {
		t.Fatal(err)
	}
	opts := []middleware.Option{middleware.WithRegisterer(reg)}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Duration(rand.IntN(4)) * time.Millisecond)
		fmt.Fprintln(w, "item", r.PathValue("id"))
	})
	var orders atomic.Int64
	mux.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) {
		if orders.Add(1)%20 == 0 {
			http.Error(w, "out of stock", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusCreated)
	})
	outer := http.NewServeMux()
	outer.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true}))
	outer.Handle("/", middleware.HTTP(mux, opts...))
	srv := httptest.NewServer(outer)
	t.Cleanup(srv.Close)

	rpc := grpctest.Start(t, grpctest.Config{
		Server: []grpc.ServerOption{grpc.ChainUnaryInterceptor(grpcmw.UnaryServerInterceptor(opts...))},
	}).Client

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	client := srv.Client()
	t.Cleanup(client.CloseIdleConnections)
	wg.Add(2)
	go func() { // about 200 HTTP requests a second
		defer wg.Done()
		for i := 0; ctx.Err() == nil; i++ {
			method, path := http.MethodGet, "/items/"+strconv.Itoa(i%50)
			if i%4 == 0 {
				method, path = http.MethodPost, "/orders"
			}
			req, _ := http.NewRequestWithContext(ctx, method, srv.URL+path, nil)
			if resp, err := client.Do(req); err == nil {
				resp.Body.Close()
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	go func() { // about 100 gRPC calls a second
		defer wg.Done()
		for i := 1; ctx.Err() == nil; i++ {
			cmd := "" // one call in ten fails
			if i%10 == 0 {
				cmd = grpctest.Fail
			}
			rpc.UnaryCall(ctx, &testpb.SimpleRequest{Payload: &testpb.Payload{Body: []byte(cmd)}})
			time.Sleep(10 * time.Millisecond)
		}
	}()
	return strings.TrimPrefix(srv.URL, "http://")
}

// alertsDir is the alerts package's folder, which holds the specs and the shipped rules.
const alertsDir = "../../alerts"

// TestEndToEnd runs, on Prometheus 2.42 and on Prometheus 3, a real Prometheus that scrapes an instrumented HTTP and gRPC service under
// load and loads the rules generated from testdata/specs/e2e.yaml and the shipped defaults: every
// recording rule must return data, the metrics the runtime alerts read must exist, the error
// burn must page, and no no-data alert may fire.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join(alertsDir, "testdata", "specs", "e2e.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := alerts.Load("e2e.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	files, err := alerts.Generate(m)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var ruleFiles []string
	var recordings []string
	addRules := func(name string, data []byte) {
		if strings.HasSuffix(name, "_test.yaml") {
			return
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		ruleFiles = append(ruleFiles, p)
		recs, err := promtest.Recordings(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, r := range recs {
			if _, ok := r.Labels[catalog.LabelService]; !ok {
				r.Labels["job"] = "shop" // a shipped per-job rule
			}
			recordings = append(recordings, r.Selector())
		}
	}
	for _, f := range files {
		addRules(f.Name, f.Data)
	}
	shipped, _ := filepath.Glob(filepath.Join(alertsDir, "rules", "slo-*.yaml"))
	for _, p := range shipped {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		addRules("shipped-"+filepath.Base(p), data)
	}
	if len(recordings) < 5*15 {
		t.Fatalf("only %d recording rules found", len(recordings))
	}

	if len(shipped) < 4 {
		t.Fatalf("shipped rules: %d files in %s/rules, want 4", len(shipped), alertsDir)
	}

	// One service under load, scraped by one Prometheus of each version.
	addr := startService(t, "shop")
	for _, v := range promtest.Versions() {
		t.Run(v.String(), func(t *testing.T) {
			t.Parallel()
			prom := promtest.Start(t, promtest.WithVersion(v), promtest.WithTarget("shop", addr), promtest.WithRuleFiles(ruleFiles...))
			checkEndToEnd(t, prom, recordings)
		})
	}
}

func checkEndToEnd(t *testing.T, prom *promtest.Server, recordings []string) {
	start := time.Now()
	for _, q := range recordings {
		smp := prom.WaitForData(t, q, 45*time.Second)
		if len(smp) != 1 {
			t.Errorf("%s returned %d series, want 1: %v", q, len(smp), smp)
		}
	}
	t.Logf("all %d recording rules returned data %v after the first check began", len(recordings), time.Since(start).Round(time.Second))

	for _, name := range []string{catalog.GoGoroutines, catalog.GoMemoryTotal, catalog.GoMemoryHeapReleased,
		catalog.GoGCMemLimit, catalog.GoGCHeapLive, catalog.GoCPUGCTotal, catalog.GoCPUTotal, catalog.GoSchedLatencies + "_bucket"} {
		prom.WaitForData(t, name+`{job="shop"}`, 10*time.Second)
	}

	// One POST in 20 fails and POSTs are a quarter of the requests: an error ratio of 1/80, a burn
	// rate of 12.5 for the 99.9% objective. That is over the slow page factor (6x over 6h and 30m)
	// and under the fast one (14.4x): the page must fire.
	ratio := prom.WaitForData(t, `perfobs_slo:error_ratio:rate5m{slo="availability",service="shop"}`, 10*time.Second)
	// A few seconds into a series' life rate() extrapolates the young error series generously,
	// so the bounds are loose.
	if r := ratio[0].Value; r < 0.005 || r > 0.05 {
		t.Errorf("availability error ratio = %v, want about 1/80", r)
	}
	prom.WaitForData(t, `ALERTS{alertname="SLOErrorBudgetBurn",slo="availability",service="shop",severity="page",alertstate="firing"}`, 15*time.Second)
	noData, err := prom.Query(context.Background(), `ALERTS{alertname="SLONoData"}`)
	if err != nil || len(noData) > 0 {
		t.Errorf("no-data alerts = %v (%v), want none", noData, err)
	}
}
