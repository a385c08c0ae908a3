package dashboards

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/perfobs/perfobs-go/alerts"
	"github.com/perfobs/perfobs-go/internal/promql"
)

func loadModel(t *testing.T, spec string) *alerts.Model {
	t.Helper()
	m, err := alerts.Load("spec.yaml", []byte(spec))
	if err != nil {
		t.Fatalf("spec: %v", err)
	}
	return m
}

// TestSLOForOneService: a spec with a fixed service gets its own uid, a service variable on the
// service label the rules write, and its SLOs' rows.
func TestSLOForOneService(t *testing.T) {
	cases := []struct {
		service, uid string
	}{
		{"checkout", "perfobs-slo-checkout"},
		{"Shop.Cart v2", "perfobs-slo-Shop-Cart-v2"},
		{strings.Repeat("a", 50), "perfobs-slo-" + strings.Repeat("a", 28)},
	}
	for _, c := range cases {
		t.Run(c.service, func(t *testing.T) {
			m := loadModel(t, `version: 1
service: "`+c.service+`"
match: {job: shop}
window: 28d
slos:
  - name: rpc-errors
    kind: availability
    protocol: grpc
    objective: 99.5
    methods: ["shop.Cart/Add"]
`)
			d, err := sloDashboard(m)
			if err != nil {
				t.Fatal(err)
			}
			if got := deref(d.Uid); got != c.uid || len(got) > 40 {
				t.Errorf("uid %q, want %q (at most 40 characters)", got, c.uid)
			}
			vars := d.Templating.List
			if len(vars) != 2 || vars[1].Name != "service" ||
				deref(vars[1].Query.String) != `label_values(perfobs_slo:requests:rate5m{slo=~"rpc-errors"}, service)` {
				t.Fatalf("variables %+v", vars)
			}
			s := summary(t, d)
			for _, want := range []string{
				"## SLO rpc-errors: 99.5% of gRPC calls to shop.Cart/Add succeed over 28d",
				`perfobs_slo:error_budget_remaining:ratio{slo="rpc-errors",service="$service"}`,
				// 28 days: the factors are recomputed (0.02 x 28d / 1h = 13.44).
				`"Burn rate 1h / 5m (page at 13.44x)"`,
				`perfobs_slo:error_ratio:rate3d{slo="rpc-errors",service="$service"} / 0.005`,
				`"SLI over 28d"`,
			} {
				if !strings.Contains(s, want) {
					t.Errorf("dashboard lacks %q:\n%s", want, s)
				}
			}
		})
	}
}

// TestBurnRateThresholdsAreTheRules: each burn-rate stat turns red at the factor of its alert
// window, the factor Model.Windows gives the rules.
func TestBurnRateThresholdsAreTheRules(t *testing.T) {
	m, err := alerts.DefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	d, err := sloDashboard(m)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, p := range panels(d) {
		for _, w := range m.Windows {
			if !strings.HasPrefix(deref(p.Title), "Burn rate "+promql.Duration(w.Long)+" / ") {
				continue
			}
			seen++
			st := p.FieldConfig.Defaults.Thresholds.Steps
			if len(st) != 2 || deref(st[1].Value) != w.Factor || st[1].Color != "red" {
				t.Errorf("%q: thresholds %+v, want red from %g", deref(p.Title), st, w.Factor)
			}
			qs := promTargets(t, p)
			if len(qs) != 2 || !strings.Contains(qs[0].Expr, "rate"+promql.Duration(w.Long)+"{") ||
				!strings.Contains(qs[1].Expr, "rate"+promql.Duration(w.Short)+"{") {
				t.Errorf("%q: queries %v, want the %s and %s windows", deref(p.Title), qs, promql.Duration(w.Long), promql.Duration(w.Short))
			}
		}
	}
	if want := len(m.SLOs) * len(m.Windows); seen != want {
		t.Errorf("%d burn-rate stats, want %d", seen, want)
	}
}

func TestBuildErrors(t *testing.T) {
	noSLO := loadModel(t, "version: 1\nservice: x\n")
	cases := []struct {
		name string
		run  func() error
		want string
	}{
		{"nil model", func() error { _, err := Build(nil); return err }, "nil model"},
		{"SLO of nil", func() error { _, err := sloDashboard(nil); return err }, "nil model"},
		{"no SLO", func() error { _, err := sloDashboard(noSLO); return err }, "no SLO"},
		{"no windows", func() error { _, err := sloDashboard(&alerts.Model{SLOs: []alerts.SLO{{Name: "a"}}}); return err }, "no alert windows"},
		{"bad option", func() error { _, err := Build(noSLO, WithProfilesURL("x")); return err }, "WithProfilesURL"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.run()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// TestWriteAll: a spec without SLOs still gets RED and runtime; the files are marshal's bytes,
// and alerts.WriteFiles writes them.
func TestWriteAll(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out", "dashboards")
	files, err := Build(loadModel(t, "version: 1\nservice: x\n"))
	if err != nil {
		t.Fatal(err)
	}
	paths, _, err := alerts.WriteFiles(dir, files)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 2 || filepath.Base(paths[0]) != REDFile || filepath.Base(paths[1]) != RuntimeFile {
		t.Fatalf("paths %v", paths)
	}
	red, err := serviceRED()
	if err != nil {
		t.Fatal(err)
	}
	want, _ := marshal(red)
	got, err := os.ReadFile(paths[0])
	if err != nil || string(got) != string(want) {
		t.Errorf("%s does not hold marshal(serviceRED()): %v", paths[0], err)
	}
}
