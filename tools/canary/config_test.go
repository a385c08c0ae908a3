package canary

import (
	"strings"
	"testing"
	"time"
)

func TestParseConfig(t *testing.T) {
	good := `
alpha: 0.01
min_requests: 500
min_points: 20
step: 15s
pass_score: 90
marginal_score: 60
latency: {mode: mannwhitney, quantile: 0.95, tolerance: 0.1, critical: true, weight: 2}
errors: {ratio_tolerance: 1, absolute_tolerance: 0.005}
cost: {tolerance: 0.3, weight: 0.5}
ignore_routes: ["^/healthz$"]
metrics:
  - name: db_latency
    query: sum(rate(db_seconds_sum{ {{selector}} }[1m])) / sum(rate(db_seconds_count{ {{selector}} }[1m]))
    direction: increase
    critical: true
`
	c, err := ParseConfig([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if c.Alpha != 0.01 || c.MinRequests != 500 || c.Step != 15*time.Second || c.Latency.Mode != "mannwhitney" ||
		c.Latency.Weight != 2 || !c.Metrics[0].critical(false) || c.Errors.AbsoluteTolerance != 0.005 {
		t.Fatalf("parsed %+v", c)
	}
	if !c.ignored("/healthz") || c.ignored("/orders") {
		t.Error("ignore_routes not applied")
	}
	d := Config{}.withDefaults()
	if d.Alpha != DefaultAlpha || d.MinRequests != DefaultMinRequests || d.Latency.Mode != "buckets" || !d.Latency.critical(true) {
		t.Fatalf("defaults %+v", d)
	}

	bad := []struct{ in, want string }{
		{"alpha: 0.7", "alpha 0.7: must be in (0, 0.5)"},
		{"alhpa: 0.1", "field alhpa not found"},
		{"min_requests: -1", "min_requests -1"},
		{"pass_score: 50\nmarginal_score: 80", "marginal_score 80: must not exceed pass_score 50"},
		{"pass_score: 101", "pass_score 101"},
		{"latency: {mode: fast}", `latency.mode "fast"`},
		{"latency: {quantile: 1}", "latency.quantile 1"},
		{"errors: {absolute_tolerance: 2}", "errors.absolute_tolerance 2"},
		{"cost: {weight: -1}", "cost.weight -1"},
		{"metrics: [{query: 'up'}]", "metrics[0].name: required"},
		{"metrics: [{name: a, query: 'up'}]", "must contain {{selector}}"},
		{"metrics: [{name: a, query: 'up{ {{selector}} }', direction: sideways}]", `direction "sideways"`},
		{"metrics: [{name: a, query: 'x{ {{selector}} }'}, {name: a, query: 'x{ {{selector}} }'}]", `metrics[1].name "a": duplicate`},
		{"ignore_routes: ['(']", "ignore_routes[0]"},
		{"step: -1s", "step -1s"},
		{"latency: [1]", "line 1"},
	}
	for _, b := range bad {
		_, err := ParseConfig([]byte(b.in))
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%q: error %v, want one containing %q", b.in, err, b.want)
		}
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte("alpha: 0.01\nlatency: {mode: buckets}\n"))
	f.Add([]byte("metrics: [{name: a, query: 'up{ {{selector}} }'}]"))
	f.Add([]byte("ignore_routes: ['^/x']\ncost: {disabled: true}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConfig(b)
		if err != nil {
			return
		}
		d := c.withDefaults()
		if d.Alpha <= 0 || d.Alpha >= 0.5 || d.MarginalScore > d.PassScore {
			t.Fatalf("accepted config gives defaults %+v", d)
		}
	})
}
