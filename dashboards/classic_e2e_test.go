package dashboards

import (
	"context"
	"fmt"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/perfobs/perfobs-go/alerts"
	"github.com/perfobs/perfobs-go/internal/promtest"
	"github.com/perfobs/perfobs-go/middleware"
)

const jobClassic = "e2e-classic"

// TestClassicEndToEnd proves the classic naming mode against a real Prometheus: a service
// instrumented with middleware.WithClassicNames under load with errors, the rules generated from a
// spec with naming: classic, and every variable and every selector of every query of the
// dashboards built from that spec returning series.
func TestClassicEndToEnd(t *testing.T) {
	// A memory limit, so that the runtime dashboard's GOMEMLIMIT series has a value.
	prev := debug.SetMemoryLimit(64 << 30)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })
	model, err := alerts.Load("classic.yaml", []byte(`version: 1
service_label: job
naming: classic
runtime: {disabled: true}
slos:
  - {name: availability, kind: availability, objective: 99.9}
  - {name: latency, kind: latency, threshold: 250ms, objective: 99}
  - {name: grpc-availability, kind: availability, protocol: grpc, objective: 99.9}
`))
	if err != nil {
		t.Fatal(err)
	}
	boards, err := buildBoards(model)
	if err != nil {
		t.Fatal(err)
	}
	svc := startService(t, jobClassic, true, middleware.WithClassicNames())
	ctx, stop := context.WithCancel(context.Background())
	transport := &http.Transport{MaxIdleConnsPerHost: 8}
	client := &http.Client{Transport: transport, Timeout: 10 * time.Second}
	var loader sync.WaitGroup
	loader.Go(func() { load(ctx, svc, client) })
	t.Cleanup(func() { stop(); loader.Wait(); transport.CloseIdleConnections() })

	prom := promtest.Start(t, promtest.WithVersion(promtest.Versions()[0]),
		promtest.WithTarget(jobClassic, svc.instance()),
		promtest.WithRuleFiles(writeRules(t, model)...))
	qctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	vars := varsFor(svc)
	checkAll := func() []string {
		var failed []string
		for _, f := range boards {
			for _, v := range f.Dashboard.Templating.List {
				if v.Type != "query" {
					continue
				}
				if err := checkVariable(qctx, prom, substitute(deref(v.Query.String), vars)); err != nil {
					failed = append(failed, fmt.Sprintf("%s / variable %s: %v", f.Name, v.Name, err))
				}
			}
			for _, pq := range queriesOf(t, f) {
				expr := substitute(pq.expr, vars)
				res, err := checkQuery(qctx, prom, expr)
				switch {
				case err != nil:
					failed = append(failed, fmt.Sprintf("%s: %v", pq.where, err))
				case len(res) == 0:
					failed = append(failed, fmt.Sprintf("%s: %s returns nothing", pq.where, expr))
				}
			}
		}
		return failed
	}
	deadline := time.Now().Add(90 * time.Second)
	for attempt := 1; ; attempt++ {
		failed := checkAll()
		if len(failed) == 0 {
			t.Logf("every query of %d classic-mode dashboards returns data after %d rounds", len(boards), attempt)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d checks still fail after %d rounds:\n%s", len(failed), attempt, strings.Join(failed, "\n"))
		}
		time.Sleep(time.Second)
	}
}
