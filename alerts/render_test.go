package alerts

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/perfobs/perfobs-go/internal/promql"
)

var update = flag.Bool("update", false, "rewrite the shipped rules in alerts/rules/ from the generator")

// regenerate is the command that rewrites alerts/rules/.
const regenerate = "go test ./alerts -run TestShippedRulesUpToDate -update"

func TestPolicyFactors(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		period time.Duration
		want   []float64
	}{
		{30 * day, []float64{14.4, 6, 3, 1}},
		{28 * day, []float64{13.44, 5.6, 2.8, 0.9333}},
		{7 * day, []float64{3.36, 1.4, 0.7, 0.2333}},
		{90 * day, []float64{43.2, 18, 9, 3}},
	}
	for _, tt := range tests {
		t.Run(promql.Duration(tt.period), func(t *testing.T) {
			ws := policy(tt.period)
			var got []float64
			for _, w := range ws {
				got = append(got, w.Factor)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("factors = %v, want %v", got, tt.want)
			}
			want := []string{"page 1h 5m", "page 6h 30m", "ticket 1d 2h", "ticket 3d 6h"}
			for i, w := range ws {
				if g := fmt.Sprintf("%s %s %s", w.Severity, promql.Duration(w.Long), promql.Duration(w.Short)); g != want[i] {
					t.Errorf("window %d = %s, want %s", i, g, want[i])
				}
			}
		})
	}
}

// TestLeRegexMatchesBothPrometheusVersions checks the le matcher against the label values that
// Prometheus 2 and 3 write for the same bucket.
func TestLeRegexMatchesBothPrometheusVersions(t *testing.T) {
	tests := []struct {
		threshold float64
		match     []string
		noMatch   []string
	}{
		{1, []string{"1", "1.0", "1e+00"}, []string{"10", "1.5", "0.1", "11.0"}},
		{0.25, []string{"0.25", "2.5e-01"}, []string{"0.2", "0.255", "0.25.0"}},
		{10, []string{"10", "10.0"}, []string{"1", "100"}},
		{0.005, []string{"0.005", "5e-03"}, []string{"0.05"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.threshold), func(t *testing.T) {
			re := regexp.MustCompile("^(?:" + leRegex(tt.threshold) + ")$") // PromQL anchors regexes
			for _, s := range tt.match {
				if !re.MatchString(s) {
					t.Errorf("le regex %q does not match %q", leRegex(tt.threshold), s)
				}
			}
			for _, s := range tt.noMatch {
				if re.MatchString(s) {
					t.Errorf("le regex %q matches %q", leRegex(tt.threshold), s)
				}
			}
		})
	}
}

func loadTestSpec(t testing.TB, name string) *Model {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "specs", name))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Load(name, data)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRenderedRules(t *testing.T) {
	m := loadTestSpec(t, "checkout.yaml")
	tests := []struct {
		slo      int
		contains []string
	}{
		{0, []string{
			`sum (rate(http_server_request_duration_seconds_count{job="checkout",error_type!=""}[5m]))`,
			`perfobs_slo:error_ratio:rate1h{slo="availability",service="checkout"} / 0.001 > 13.44`,
			`perfobs_slo:error_ratio:rate5m{slo="availability",service="checkout"} / 0.001 > 13.44`,
			`perfobs_slo:requests:rate1h{slo="availability",service="checkout"} * 3600 >= 100`,
			`perfobs_slo:error_ratio:rate3d{slo="availability",service="checkout"} / 0.001 > 0.9333`,
			`sum_over_time(perfobs_slo:errors:rate5m{slo="availability",service="checkout"}[28d])`,
			`max (timestamp(http_server_request_duration_seconds_count{job="checkout"}))`,
			`max (last_over_time(perfobs_slo:last_seen:timestamp_seconds{slo="availability",service="checkout"}[1h]) > time() - 2419200)`,
			`time() - max (perfobs_slo:last_seen:timestamp_seconds{slo="availability",service="checkout"}) > 600`,
			`severity: page`, `severity: ticket`, `tier: "1"`, `team: payments`, `slo: availability`, `service: checkout`,
			`runbook_url: https://runbooks.example.com/checkout/availability`,
			`{{ printf "%.1f" $value }}x faster`,
		}},
		{1, []string{
			`http_server_request_duration_seconds_bucket{job="checkout",http_route=~"/cart|/cart/\\{id\\}",le=~"0\\.25|2\\.5e-01"}[1h]`,
			`clamp_min(`,
			`/ 0.01 > 5.6`,
			`of HTTP requests to /cart, /cart/{id} finish within 250ms over 28d`,
		}},
		{2, []string{
			`rpc_server_call_duration_seconds_count{job="checkout",rpc_method="shop.Orders/Place",error_type!=""}[30m]`,
			`/ 0.005 > 5.6`,
			`max (timestamp(rpc_server_call_duration_seconds_count{job="checkout"}))`,
		}},
	}
	for _, tt := range tests {
		s := m.SLOs[tt.slo]
		t.Run(s.Name, func(t *testing.T) {
			data, err := yaml.Marshal(renderSLORules(m, s))
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range tt.contains {
				if !strings.Contains(string(data), c) {
					t.Errorf("rules of %s lack %q", s.Name, c)
				}
			}
			if strings.Contains(string(data), "avg_over_time") {
				t.Errorf("rules of %s average ratios", s.Name)
			}
		})
	}
}

func TestRenderedRulesPerJob(t *testing.T) {
	m, err := DefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	data, err := yaml.Marshal(renderSLORules(m, m.SLOs[0]))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{
		`sum by (job) (rate(http_server_request_duration_seconds_count{}[5m]))`,
		`perfobs_slo:error_ratio:rate1h{slo="http-availability",job!=""} / 0.001 > 14.4`,
		`service: '{{ $labels.job }}'`,
		`max by (job) (timestamp(http_server_request_duration_seconds_count{}))`,
		`time() - max by (job) (perfobs_slo:last_seen:timestamp_seconds{slo="http-availability",job!=""}) > 600`,
	} {
		if !strings.Contains(string(data), c) {
			t.Errorf("per-job rules lack %q", c)
		}
	}
}

func TestGenerateFiles(t *testing.T) {
	m := loadTestSpec(t, "checkout.yaml")
	tests := []struct {
		format Format
		want   []string
	}{
		{FormatPrometheus, []string{
			"checkout-slo-availability.yaml", "checkout-slo-availability_test.yaml",
			"checkout-slo-cart-latency.yaml", "checkout-slo-cart-latency_test.yaml",
			"checkout-slo-grpc-orders.yaml", "checkout-slo-grpc-orders_test.yaml",
			"checkout-go-runtime.yaml", "checkout-go-runtime_test.yaml",
		}},
		{FormatOperator, []string{
			"checkout-slo-availability.yaml", "checkout-slo-cart-latency.yaml",
			"checkout-slo-grpc-orders.yaml", "checkout-go-runtime.yaml",
		}},
	}
	for _, tt := range tests {
		t.Run(string(tt.format), func(t *testing.T) {
			files, err := Generate(m, WithFormat(tt.format), WithSource("checkout.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, f := range files {
				names = append(names, f.Name)
				if !strings.HasPrefix(string(f.Data), "# Code generated by perfobs generate from checkout.yaml. DO NOT EDIT.\n") {
					t.Errorf("%s lacks the generated-code header", f.Name)
				}
			}
			if !slices.Equal(names, tt.want) {
				t.Errorf("files = %v, want %v", names, tt.want)
			}
		})
	}
	if _, err := Generate(m, WithFormat("json")); err == nil || !strings.Contains(err.Error(), `format "json"`) {
		t.Errorf("Generate with an unknown format: error = %v", err)
	}
}

// TestOperatorManifestHoldsThePlainRules checks that a PrometheusRule's spec is exactly the plain
// rule file that the promtool tests cover.
func TestOperatorManifestHoldsThePlainRules(t *testing.T) {
	m := loadTestSpec(t, "checkout.yaml")
	plain, err := Generate(m)
	if err != nil {
		t.Fatal(err)
	}
	op, err := Generate(m, WithFormat(FormatOperator))
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string][]byte{}
	for _, f := range plain {
		byName[f.Name] = f.Data
	}
	for _, f := range op {
		var pr operatorRule
		if err := yaml.Unmarshal(f.Data, &pr); err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		if pr.APIVersion != "monitoring.coreos.com/v1" || pr.Kind != "PrometheusRule" || pr.Metadata.Name != "perfobs-"+strings.TrimSuffix(f.Name, ".yaml") {
			t.Errorf("%s: header = %s %s %s", f.Name, pr.APIVersion, pr.Kind, pr.Metadata.Name)
		}
		var rf promRuleFile
		if err := yaml.Unmarshal(byName[f.Name], &rf); err != nil {
			t.Fatal(err)
		}
		a, _ := yaml.Marshal(pr.Spec)
		b, _ := yaml.Marshal(rf)
		if string(a) != string(b) {
			t.Errorf("%s: PrometheusRule spec differs from the plain rule file", f.Name)
		}
	}
}

// promtool runs promtool (or $PROMTOOL) and returns its combined output.
func promtool(t testing.TB, dir string, args ...string) (string, error) {
	t.Helper()
	bin := os.Getenv("PROMTOOL")
	if bin == "" {
		bin = "/usr/bin/promtool"
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("promtool: %v (install the Debian package prometheus)", err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func writeFiles(t testing.TB, dir string, files []File) {
	t.Helper()
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.Name), f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestShippedRulesUpToDate(t *testing.T) {
	m, err := DefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	files, err := Generate(m, WithSource(DefaultSpecName))
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		old, _ := filepath.Glob(filepath.Join("rules", "*.yaml"))
		for _, f := range old {
			os.Remove(f)
		}
		writeFiles(t, "rules", files)
	}
	want := map[string]bool{}
	for _, f := range files {
		want[f.Name] = true
		got, err := os.ReadFile(filepath.Join("rules", f.Name))
		if err != nil || string(got) != string(f.Data) {
			t.Errorf("alerts/rules/%s differs from the generator's output; run: %s", f.Name, regenerate)
		}
	}
	have, _ := filepath.Glob(filepath.Join("rules", "*.yaml"))
	for _, h := range have {
		if !want[filepath.Base(h)] {
			t.Errorf("alerts/rules/%s is not generated any more; run: %s", filepath.Base(h), regenerate)
		}
	}
}

// TestPromtoolShippedRules runs `promtool check rules` and `promtool test rules` on the shipped
// defaults, one test file at a time in parallel.
func TestPromtoolShippedRules(t *testing.T) {
	t.Parallel()
	tests, _ := filepath.Glob(filepath.Join("rules", "*_test.yaml"))
	if len(tests) == 0 {
		t.Fatalf("no test files in alerts/rules; run: %s", regenerate)
	}
	for _, tf := range tests {
		rf := strings.TrimSuffix(tf, "_test.yaml") + ".yaml"
		t.Run(filepath.Base(rf), func(t *testing.T) {
			t.Parallel()
			if out, err := promtool(t, ".", "check", "rules", rf); err != nil {
				t.Fatalf("promtool check rules %s: %v\n%s", rf, err, out)
			}
			if out, err := promtool(t, ".", "test", "rules", tf); err != nil {
				t.Fatalf("promtool test rules %s: %v\n%s", tf, err, out)
			}
		})
	}
}

// TestMutatedRulesFailTheirTests renders rules from a policy with one factor or window changed and
// runs the tests generated for the correct policy against them: promtool must report alerts at
// the wrong times, not merely different annotations.
func TestMutatedRulesFailTheirTests(t *testing.T) {
	t.Parallel()
	m := loadTestSpec(t, "minimal.yaml")
	tests := []struct {
		name   string
		mutate func(ws []AlertWindow)
		fail   bool
		group  int // the scenario that catches the mutation: 0 fast burn, 1 slow burn
	}{
		{"unchanged rules pass the fast burn", func([]AlertWindow) {}, false, 0},
		{"unchanged rules pass the slow burn", func([]AlertWindow) {}, false, 1},
		{"fast page factor 14.4 -> 12", func(ws []AlertWindow) { ws[0].Factor = 12 }, true, 0},
		{"fast page long window 1h -> 2h", func(ws []AlertWindow) { ws[0].Long = 2 * time.Hour }, true, 0},
		{"slow page factor 6 -> 4", func(ws []AlertWindow) { ws[1].Factor = 4 }, true, 0},
		{"slow ticket factor 1 -> 2", func(ws []AlertWindow) { ws[3].Factor = 2 }, true, 1},
	}
	var mu sync.Mutex // promtool runs in parallel; t.Fatal paths only
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			mm := *m
			mm.Windows = slices.Clone(m.Windows)
			tt.mutate(mm.Windows)
			s := m.SLOs[0]
			tf := renderSLOTests(m, s, "rules.yaml") // from the correct Policy
			tf.Tests = tf.Tests[tt.group : tt.group+1]
			rules, err := encode("test", renderSLORules(&mm, s))
			if err != nil {
				t.Fatal(err)
			}
			tests, err := encode("test", tf)
			if err != nil {
				t.Fatal(err)
			}
			writeFiles(t, dir, []File{{"rules.yaml", rules}, {"rules_test.yaml", tests}})
			out, err := promtool(t, dir, "test", "rules", "rules_test.yaml")
			mu.Lock()
			defer mu.Unlock()
			if !tt.fail {
				if err != nil {
					t.Fatalf("promtool test rules failed on unchanged rules: %v\n%s", err, out)
				}
				return
			}
			if err == nil {
				t.Fatalf("promtool test rules passed on mutated rules:\n%s", out)
			}
			if !firingTimesDiffer(out) {
				t.Errorf("promtool failed, but not on firing times:\n%s", out)
			}
		})
	}
}

// firingTimesDiffer reports whether promtool's failure output has a check where the expected and
// the actual alerts differ in number: an alert fired when it should not have, or did not fire.
func firingTimesDiffer(out string) bool {
	for _, block := range strings.Split(out, "exp:[")[1:] {
		exp, got, ok := strings.Cut(block, "got:[")
		if !ok {
			continue
		}
		if end := strings.Index(got, "alertname:"); end >= 0 {
			got = got[:end]
		}
		if strings.Count(exp, "Labels:") != strings.Count(got, "Labels:") {
			return true
		}
	}
	return false
}
