package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/perfobs/perfobs-go/alerts"
	"github.com/perfobs/perfobs-go/internal/promtest"
	"github.com/perfobs/perfobs-go/middleware"
)

const liveGoodSpec = `version: 1
service: shop
match: {job: shop}
runtime: {disabled: true}
slos:
  - name: availability
    kind: availability
    objective: 99.9
  - name: latency
    kind: latency
    threshold: 250ms
    objective: 99
`

// liveBadSpec: a route the service does not serve, a threshold its buckets lack, SLOs whose rules
// Prometheus does not load.
const liveBadSpec = `version: 1
service: shop
match: {job: shop}
buckets: [0.1, 0.3, 1]
runtime: {disabled: true}
slos:
  - name: orders-availability
    kind: availability
    routes: ["/nope"]
    objective: 99.9
  - name: latency-300ms
    kind: latency
    threshold: 300ms
    objective: 99
`

// brokenRules has the group of the good spec's availability SLO with a recording that cannot be
// evaluated: two series that the rule's name override makes identical.
const brokenRules = `groups:
  - name: perfobs-shop-slo-availability
    rules:
      - record: perfobs_slo:requests:rate5m
        expr: '{__name__=~"up|scrape_duration_seconds",job="shop"}'
`

func TestValidateLive(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good, bad := write("good.yaml", liveGoodSpec), write("bad.yaml", liveBadSpec)
	m, err := alerts.Load("good.yaml", []byte(liveGoodSpec))
	if err != nil {
		t.Fatal(err)
	}
	files, err := alerts.Generate(m)
	if err != nil {
		t.Fatal(err)
	}
	var rules []string
	for _, f := range files {
		if !strings.HasSuffix(f.Name, "_test.yaml") {
			rules = append(rules, write(filepath.Base(f.Name), string(f.Data)))
		}
	}
	broken := write("broken.yaml", brokenRules)

	reg := prometheus.NewRegistry()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "item") })
	outer := http.NewServeMux()
	outer.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	outer.Handle("/", middleware.HTTP(mux, middleware.WithRegisterer(reg)))
	svc := httptest.NewServer(outer)
	t.Cleanup(svc.Close) // after the parallel subtests, unlike a defer
	client := svc.Client()
	t.Cleanup(client.CloseIdleConnections)
	for range 20 {
		resp, err := client.Get(svc.URL + "/items/1")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	addr := strings.TrimPrefix(svc.URL, "http://")

	for _, v := range promtest.Versions() {
		t.Run(v.String(), func(t *testing.T) {
			t.Parallel()
			ok := promtest.Start(t, promtest.WithVersion(v), promtest.WithTarget("shop", addr),
				promtest.WithRuleFiles(rules...), promtest.WithRetention(30*24*time.Hour))
			short := promtest.Start(t, promtest.WithVersion(v), promtest.WithTarget("shop", addr),
				promtest.WithRuleFiles(broken), promtest.WithRetention(7*24*time.Hour))
			ok.WaitForData(t, `http_server_request_duration_seconds_count{job="shop"}`, 20*time.Second)
			short.WaitForData(t, `http_server_request_duration_seconds_count{job="shop"}`, 20*time.Second)

			// The good spec against the good server: ok once every rule has been evaluated
			// (inconclusive before, never a failure).
			deadline := time.Now().Add(20 * time.Second)
			for {
				code, stdout, stderr := runCLI(t, "validate", "--spec", good, "--prometheus", ok.URL)
				if code == exitOK {
					for _, want := range []string{"retention 30d covers the SLO window 30d",
						`slo availability: http_server_request_duration_seconds_count{job="shop"} selects`,
						"slo latency: a bucket holds the threshold 0.25s", "rules: 38 generated rules checked", ok.URL + ": ok"} {
						if !strings.Contains(stdout, want) {
							t.Errorf("good: stdout lacks %q:\n%s", want, stdout)
						}
					}
					break
				}
				if code != exitInconclusive || time.Now().After(deadline) {
					t.Fatalf("good spec, good server: exit %d, want 0\n%s%s", code, stdout, stderr)
				}
				time.Sleep(500 * time.Millisecond)
			}

			code, stdout, stderr := runCLI(t, "validate", "--spec", bad, "--prometheus", short.URL)
			if code != exitFail {
				t.Errorf("bad spec, short retention: exit %d, want 1\n%s%s", code, stdout, stderr)
			}
			for _, want := range []string{
				"FAIL  retention: 7d is shorter than the SLO window 30d",
				`FAIL  slo orders-availability: http_server_request_duration_seconds_count{job="shop",http_route=~"/nope"} selects no series`,
				"FAIL  slo latency-300ms: no bucket at the latency threshold 0.3s",
				"FAIL  rules: group perfobs-shop-slo-orders-availability (shop-slo-orders-availability.yaml) is not loaded",
				"FAIL  rules: group perfobs-shop-slo-latency-300ms (shop-slo-latency-300ms.yaml) is not loaded",
				short.URL + ": 5 finding(s)",
			} {
				if !strings.Contains(stdout, want) {
					t.Errorf("bad: stdout lacks %q:\n%s", want, stdout)
				}
			}

			// The good spec against the server with the broken group: its rule fails to evaluate.
			deadline = time.Now().Add(20 * time.Second)
			for {
				code, stdout, _ = runCLI(t, "validate", "--spec", good, "--prometheus", short.URL)
				if strings.Contains(stdout, "FAIL  rules: group perfobs-shop-slo-availability, perfobs_slo:requests:rate5m fails to evaluate") {
					if code != exitFail {
						t.Errorf("broken rule: exit %d, want 1", code)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("broken rule not reported:\n%s", stdout)
				}
				time.Sleep(500 * time.Millisecond)
			}
		})
	}

	t.Run("unreachable server", func(t *testing.T) {
		code, _, stderr := runCLI(t, "validate", "--spec", good, "--prometheus", "http://127.0.0.1:1")
		if code != exitUsage || !strings.Contains(stderr, "runtime info") {
			t.Errorf("exit %d, stderr %q: want 2 naming the failed request", code, stderr)
		}
	})
}

func TestRetentionCheck(t *testing.T) {
	const month = 30 * 24 * time.Hour
	tests := []struct {
		retention string
		finding   string // "" for none
		ok        string
	}{
		{"15d", "retention: 15d is shorter than the SLO window 30d", ""},
		{"30d", "", "retention 30d covers the SLO window 30d"},
		{"90d or 10GiB", "", "a size limit may drop data"},
		{"10GiB", "", "a size limit may drop data"},
		{"", `retention: Prometheus reports ""`, ""},
	}
	for _, tt := range tests {
		r := &liveReport{}
		retentionCheck(r, tt.retention, month)
		got := strings.Join(r.findings, "\n")
		if tt.finding == "" && got != "" || !strings.Contains(got, tt.finding) {
			t.Errorf("retention %q: findings %q, want %q", tt.retention, got, tt.finding)
		}
		if tt.ok != "" && !strings.Contains(strings.Join(r.ok, "\n"), tt.ok) {
			t.Errorf("retention %q: ok %q, want %q", tt.retention, r.ok, tt.ok)
		}
	}
}
