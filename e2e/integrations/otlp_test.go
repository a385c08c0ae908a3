package integrations_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/internal/promtest"
	"github.com/perfobs/perfobs-go/perfobs"
)

// otlpSpec: the service pushes as OTEL_SERVICE_NAME=pushsvc, which Prometheus's OTLP receiver
// turns into job="pushsvc".
const otlpSpec = `version: 1
service: pushsvc
runtime: {disabled: true}
slos:
  - name: availability
    kind: availability
    objective: 99
  - name: latency-250ms
    kind: latency
    threshold: 250ms
    objective: 99
`

// dashboardMetrics returns every metric name the shipped dashboards query, from their JSON.
func dashboardMetrics(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob("../../dashboards/json/*.json")
	if err != nil || len(paths) < 3 {
		t.Fatalf("shipped dashboards: %v %v", paths, err)
	}
	name := regexp.MustCompile(`\b(?:http|rpc|go|process)_[a-z0-9_]+`)
	seen := map[string]bool{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var exprs []string
		var walk func(v any)
		walk = func(v any) {
			switch x := v.(type) {
			case map[string]any:
				for k, e := range x {
					if s, ok := e.(string); ok && (k == "expr" || k == "query") {
						exprs = append(exprs, s)
					}
					walk(e)
				}
			case []any:
				for _, e := range x {
					walk(e)
				}
			}
		}
		var doc any
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		walk(doc)
		for _, e := range exprs {
			for _, m := range name.FindAllString(e, -1) {
				switch {
				case strings.HasPrefix(m, "http_request_method"), strings.HasPrefix(m, "http_route"),
					strings.HasPrefix(m, "http_response_status"), strings.HasPrefix(m, "rpc_method"),
					strings.HasPrefix(m, "rpc_system"), strings.HasPrefix(m, "rpc_response"):
					continue // a label, not a metric
				}
				seen[m] = true
			}
		}
	}
	return slices.Sorted(func(yield func(string) bool) {
		for k := range seen {
			if !yield(k) {
				return
			}
		}
	})
}

// otlpOutcome is what one translation strategy does to the SDK's metrics.
type otlpOutcome struct {
	strategy      string
	names         []string // metric names of job="pushsvc"
	rulesRecord   bool     // every SLO recording of the generated rules returns data
	missingPanels []string // HTTP server, Go and process metric names the dashboards query that the push lacks
}

// TestOTLPPushIntoPrometheus3 pushes the facade's metrics over OTLP (OTEL_METRICS_EXPORTER=otlp,
// the endpoint Prometheus 3's OTLP receiver) under each translation strategy, with the rules
// generated from otlpSpec loaded, and reports which strategies keep the rules and the dashboards'
// metric names working unchanged.
func TestOTLPPushIntoPrometheus3(t *testing.T) {
	t.Parallel()
	rules := writeRules(t, "otlp.yaml", otlpSpec)
	panels := dashboardMetrics(t)
	strategies := []string{promtest.OTLPUnderscoreEscapingWithSuffixes, promtest.OTLPUnderscoreEscapingWithoutSuffixes,
		promtest.OTLPNoUTF8EscapingWithSuffixes, promtest.OTLPNoTranslation}
	var mu sync.Mutex
	outcomes := map[string]otlpOutcome{}
	t.Cleanup(func() {
		for _, s := range strategies {
			o := outcomes[s]
			t.Logf("OTLP %-36s rules record: %-5v dashboard names missing: %v; names: %v", s, o.rulesRecord, o.missingPanels, o.names)
		}
	})
	for _, strategy := range strategies {
		t.Run(strategy, func(t *testing.T) {
			t.Parallel()
			o := pushOTLP(t, strategy, rules, panels)
			mu.Lock()
			outcomes[strategy] = o
			mu.Unlock()
			if !o.rulesRecord {
				t.Errorf("%s: the generated rules record nothing from the pushed metrics; names: %v", strategy, o.names)
			}
			// The default strategy rewrites counter names: it drops a "total" inside the name and
			// adds _total once, so go_cpu_classes_gc_total_cpu_seconds_total arrives as
			// go_cpu_classes_gc_cpu_seconds_total and the runtime panels and alerts lose it. The
			// other strategies keep the SDK's names, which are Prometheus names already.
			if strategy == promtest.OTLPUnderscoreEscapingWithSuffixes {
				if !slices.Contains(o.missingPanels, catalog.GoCPUGCTotal) {
					t.Errorf("%s: expected %s to be renamed (the finding docs/integrations.md reports); missing: %v", strategy, catalog.GoCPUGCTotal, o.missingPanels)
				}
				return
			}
			if len(o.missingPanels) > 0 {
				t.Errorf("%s: the dashboards query names the push lacks: %v", strategy, o.missingPanels)
			}
		})
	}
}

func pushOTLP(t *testing.T, strategy string, rules, panels []string) otlpOutcome {
	prom := promtest.Start(t, promtest.WithVersion(promtest.Prometheus3), promtest.WithOTLPReceiver(strategy),
		promtest.WithRuleFiles(rules...))
	ctx := context.Background()
	obs, err := perfobs.Start(ctx, perfobs.Config{LookupEnv: envOf(map[string]string{
		"OTEL_SERVICE_NAME":                   "pushsvc",
		"OTEL_METRICS_EXPORTER":               "otlp",
		"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": prom.OTLPMetricsURL(),
		"OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": "http/protobuf",
		"OTEL_METRIC_EXPORT_INTERVAL":         "1000",
	})})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := obs.Shutdown(sctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	mux := http.NewServeMux()
	n := 0
	var mu sync.Mutex
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		fail := n%20 == 1
		mu.Unlock()
		if fail {
			http.Error(w, "injected", http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "item")
	})
	srv := httptest.NewServer(obs.HTTP(mux))
	t.Cleanup(srv.Close)
	s := &shop{srv: srv, client: srv.Client()}
	t.Cleanup(s.client.CloseIdleConnections)
	s.load(t, 3*time.Millisecond, "GET /items/1", "GET /items/2")

	prom.WaitForData(t, `{job="pushsvc"}`, 20*time.Second)
	time.Sleep(3 * time.Second) // a few pushes, so that rate() has two samples
	o := otlpOutcome{strategy: strategy, rulesRecord: true}
	res, err := prom.Query(ctx, `group by (__name__) ({job="pushsvc"})`)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, r := range res {
		o.names = append(o.names, r.Metric["__name__"])
		have[r.Metric["__name__"]] = true
	}
	slices.Sort(o.names)
	for _, p := range panels {
		// The push carries the HTTP server, Go runtime and process metrics; the dashboards'
		// gRPC and client names need a gRPC server and a client.
		pushed := strings.HasPrefix(p, "http_server_") && !strings.Contains(p, "body_size") ||
			strings.HasPrefix(p, "go_") || strings.HasPrefix(p, "process_")
		if pushed && !have[p] {
			o.missingPanels = append(o.missingPanels, p)
		}
	}
	for _, slo := range []string{"availability", "latency-250ms"} {
		for _, rec := range []string{catalog.SLORequestsRate + "5m", catalog.SLOErrorRatioRate + "5m", catalog.SLOLastSeen} {
			q := rec + `{service="pushsvc",slo="` + slo + `"}`
			if !eventually(ctx, prom, q, 10*time.Second) {
				o.rulesRecord = false
			}
		}
	}
	return o
}

// eventually reports whether expr returns data within timeout.
func eventually(ctx context.Context, prom *promtest.Server, expr string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if res, err := prom.Query(ctx, expr); err == nil && len(res) > 0 {
			return true
		}
		time.Sleep(250 * time.Millisecond)
	}
	return false
}
