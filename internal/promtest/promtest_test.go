package promtest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/perfobs/perfobs-go/internal/promtest"
	"github.com/perfobs/perfobs-go/leaktest"
)

func TestMain(m *testing.M) { leaktest.VerifyTestMain(m) }

// metricsServer serves one counter that grows by one per scrape.
func metricsServer(t testing.TB) string {
	t.Helper()
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		fmt.Fprintf(w, "# TYPE promtest_hits_total counter\npromtest_hits_total{kind=\"a\"} %d\n", n)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func TestStartScrapesAndEvaluatesRules(t *testing.T) {
	for _, v := range promtest.Versions() {
		t.Run(v.String(), func(t *testing.T) {
			t.Parallel()
			testStartScrapesAndEvaluatesRules(t, v)
		})
	}
}

func testStartScrapesAndEvaluatesRules(t *testing.T, v promtest.Version) {
	addr := metricsServer(t)
	rules := filepath.Join(t.TempDir(), "rules.yaml")
	const rule = `groups:
  - name: promtest
    rules:
      - record: job:promtest_hits:sum
        expr: sum by (job) (promtest_hits_total)
`
	if err := os.WriteFile(rules, []byte(rule), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := promtest.Start(t, promtest.WithTarget("app", addr), promtest.WithRuleFiles(rules),
		promtest.WithFeatures("exemplar-storage"), promtest.WithVersion(v))
	if srv.Version != v {
		t.Errorf("Server.Version = %v, want %v", srv.Version, v)
	}

	got := srv.WaitForData(t, `promtest_hits_total{job="app"}`, 20*time.Second)
	if len(got) != 1 || got[0].Metric["kind"] != "a" || got[0].Value < 1 {
		t.Fatalf("scraped sample = %+v, want one sample kind=a value>=1", got)
	}
	rec := srv.WaitForData(t, `job:promtest_hits:sum`, 20*time.Second)
	if rec[0].Metric["job"] != "app" || rec[0].Value < 1 {
		t.Fatalf("recorded sample = %+v, want job=app value>=1", rec)
	}

	raw, err := srv.API(context.Background(), "/api/v1/rules", nil)
	if err != nil {
		t.Fatal(err)
	}
	var rs struct {
		Groups []struct {
			Name string `json:"name"`
		} `json:"groups"`
	}
	if err := json.Unmarshal(raw, &rs); err != nil {
		t.Fatal(err)
	}
	if len(rs.Groups) != 1 || rs.Groups[0].Name != "promtest" {
		t.Fatalf("rule groups = %+v, want one group promtest", rs.Groups)
	}
}

func TestQuery(t *testing.T) {
	srv := promtest.Start(t)
	tests := []struct {
		name    string
		expr    string
		want    float64
		wantLen int
		wantErr string
	}{
		{name: "scalar", expr: `42`, want: 42, wantLen: 1},
		{name: "vector", expr: `vector(7)`, want: 7, wantLen: 1},
		{name: "empty vector", expr: `absent_metric_xyz`, wantLen: 0},
		{name: "syntax error", expr: `sum(`, wantErr: "parse error"},
		{name: "string result", expr: `"x"`, wantErr: `result type "string"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := srv.Query(context.Background(), tt.expr)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Query(%q) error = %v, want it to contain %q", tt.expr, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.wantLen {
				t.Fatalf("Query(%q) = %+v, want %d samples", tt.expr, got, tt.wantLen)
			}
			if tt.wantLen > 0 && got[0].Value != tt.want {
				t.Fatalf("Query(%q) value = %v, want %v", tt.expr, got[0].Value, tt.want)
			}
		})
	}
}

// fakeTB records Fatalf instead of stopping the goroutine, to test failure paths.
type fakeTB struct {
	testing.TB
	fatal string
}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.fatal = fmt.Sprintf(format, args...)
	panic(f)
}

// fatalOf runs f with a fakeTB and returns the message it failed with ("" if none).
func fatalOf(t *testing.T, f func(tb testing.TB)) string {
	fk := &fakeTB{TB: t}
	func() {
		defer func() {
			if r := recover(); r != nil && r != fk {
				panic(r)
			}
		}()
		f(fk)
	}()
	return fk.fatal
}

func TestStartFailsWithoutBinary(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-binary")
	tests := []struct {
		env   string
		start func(testing.TB)
	}{
		{"PROMETHEUS", func(tb testing.TB) { promtest.Start(tb) }},
		{"PROMETHEUS3", func(tb testing.TB) { promtest.Start(tb, promtest.WithVersion(promtest.Prometheus3)) }},
		{"ALERTMANAGER", func(tb testing.TB) { promtest.StartAlertmanager(tb, "") }},
		{"JAEGER", func(tb testing.TB) { promtest.StartJaeger(tb) }},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			t.Setenv(tt.env, missing)
			fatal := fatalOf(t, tt.start)
			if !strings.Contains(fatal, "no-such-binary") || !strings.Contains(fatal, "scripts/install-tools") {
				t.Fatalf("fatal = %q, want it to name the binary and scripts/install-tools", fatal)
			}
		})
	}
}

func TestPrometheus2RefusesPrometheus3Settings(t *testing.T) {
	for name, opt := range map[string]promtest.Option{
		"always_scrape_classic_histograms": promtest.WithAlwaysScrapeClassicHistograms(),
		"OTLP receiver":                    promtest.WithOTLPReceiver(""),
	} {
		fatal := fatalOf(t, func(tb testing.TB) { promtest.Start(tb, opt) })
		if !strings.Contains(fatal, "Prometheus 3") {
			t.Errorf("%s on 2.42: fatal = %q, want it to ask for Prometheus 3", name, fatal)
		}
	}
}

// TestAlertmanagerToWebhook posts an alert to a real Alertmanager and reads it back from the API
// and from the webhook receiver it routes to.
func TestAlertmanagerToWebhook(t *testing.T) {
	t.Parallel()
	hook := promtest.StartWebhook(t)
	am := promtest.StartAlertmanager(t, `route:
  receiver: hook
  group_wait: 0s
  group_interval: 1s
receivers:
  - name: hook
    webhook_configs:
      - url: `+hook.URL+`/hook
`)
	body := `[{"labels":{"alertname":"PromtestAlert","severity":"page"},"annotations":{"summary":"hello"}}]`
	resp, err := http.Post(am.URL+"/api/v2/alerts", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /api/v2/alerts: HTTP %d", resp.StatusCode)
	}
	n := hook.WaitFor(t, "for PromtestAlert", func(n promtest.Notification) bool {
		return n.CommonLabels["alertname"] == "PromtestAlert"
	}, 20*time.Second)
	if n.Path != "/hook" || n.Receiver != "hook" || n.Status != "firing" || n.CommonAnnotations["summary"] != "hello" {
		t.Errorf("notification = %+v, want path /hook, receiver hook, firing, summary hello", n)
	}
	got, err := am.Alerts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Labels["severity"] != "page" || got[0].Status.State != "active" {
		t.Errorf("alerts = %+v, want one active page", got)
	}
}

// TestJaegerStarts checks the fixture's ports: the query API answers and both receivers listen.
func TestJaegerStarts(t *testing.T) {
	t.Parallel()
	j := promtest.StartJaeger(t)
	for _, u := range []string{j.OTLPHTTP, j.OTLPGRPC, j.QueryURL} {
		if !strings.HasPrefix(u, "http://127.0.0.1:") {
			t.Errorf("endpoint %q, want a loopback URL", u)
		}
	}
	// An OTLP/HTTP request with an empty body is a valid empty export.
	resp, err := http.Post(j.OTLPHTTP+"/v1/traces", "application/x-protobuf", strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("POST /v1/traces: HTTP %d, want 200", resp.StatusCode)
	}
	if _, err := j.Trace(context.Background(), "0123456789abcdef0123456789abcdef"); err == nil {
		t.Error("Trace of an unknown id: no error")
	}
}

func TestRecordings(t *testing.T) {
	file := []byte(`groups:
- name: g
  rules:
  - record: a:rate5m
    expr: sum(rate(x[5m]))
    labels: {slo: web, service: shop}
  - alert: A
    expr: up == 0
  - record: b:ratio
    expr: vector(1)
`)
	got, err := promtest.Recordings(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d recordings, want 2 (the alert is not one): %+v", len(got), got)
	}
	got[1].Labels["job"] = "shop" // the labels of a rule without any can be added to
	want := []string{`a:rate5m{service="shop",slo="web"}`, `b:ratio{job="shop"}`}
	for i, r := range got {
		if s := r.Selector(); s != want[i] {
			t.Errorf("selector %d = %s, want %s", i, s, want[i])
		}
	}
	if _, err := promtest.Recordings([]byte("groups: [")); err == nil {
		t.Error("a broken rule file parsed")
	}
}
