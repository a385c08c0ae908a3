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
		promtest.WithFeatures("exemplar-storage"))

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

func TestStartFailsWithoutBinary(t *testing.T) {
	t.Setenv("PROMETHEUS", filepath.Join(t.TempDir(), "no-such-prometheus"))
	f := &fakeTB{TB: t}
	func() {
		defer func() {
			if r := recover(); r != nil && r != f {
				panic(r)
			}
		}()
		promtest.Start(f)
	}()
	if !strings.Contains(f.fatal, "no-such-prometheus") {
		t.Fatalf("Start without a binary: fatal = %q, want it to name the binary", f.fatal)
	}
}
