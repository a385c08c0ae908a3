//lint:file-ignore SA1019 the v1 dashboard schema (dashboard.Dashboard) is what Grafana 10 and 11 import; dashboardv2 needs Grafana 12

package dashboards

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/units"
	"go.yaml.in/yaml/v3"

	"github.com/perfobs/perfobs-go/alerts"
	"github.com/perfobs/perfobs-go/catalog"
)

// builtDashboards is every dashboard of the default options, by name.
func builtDashboards(t *testing.T, opts ...Option) []namedBoard {
	t.Helper()
	files, err := defaultBoards(opts...)
	if err != nil {
		t.Fatalf("Defaults: %v", err)
	}
	return files
}

func TestUIDsAndTitlesAreStable(t *testing.T) {
	want := map[string][2]string{
		"service-red.json": {REDUID, "Service RED"},
		"go-runtime.json":  {RuntimeUID, "Go runtime"},
		"slo.json":         {"perfobs-slo", "SLOs and error budgets"},
	}
	files := builtDashboards(t)
	if len(files) != len(want) {
		t.Fatalf("Defaults gave %d dashboards, want %d", len(files), len(want))
	}
	for _, f := range files {
		t.Run(f.Name, func(t *testing.T) {
			w, ok := want[f.Name]
			if !ok {
				t.Fatalf("unexpected file %q", f.Name)
			}
			if got := deref(f.Dashboard.Uid); got != w[0] {
				t.Errorf("uid = %q, want %q", got, w[0])
			}
			if len(w[0]) > 40 {
				t.Errorf("uid %q longer than Grafana's 40 characters", w[0])
			}
			if got := deref(f.Dashboard.Title); got != w[1] {
				t.Errorf("title = %q, want %q", got, w[1])
			}
		})
	}
}

// TestLayout checks that panels tile the 24-column grid: inside it, not overlapping, ids unique,
// each row header full width above its panels.
func TestLayout(t *testing.T) {
	for _, f := range builtDashboards(t) {
		t.Run(f.Name, func(t *testing.T) {
			type cell struct{ x, y uint32 }
			used := map[cell]string{}
			ids := map[uint32]string{}
			var maxY uint32
			for _, item := range f.Dashboard.Panels {
				var id *uint32
				var title string
				var gp *dashboard.GridPos
				switch {
				case item.RowPanel != nil:
					id, title, gp = &item.RowPanel.Id, deref(item.RowPanel.Title), item.RowPanel.GridPos
					if gp == nil || gp.W != gridWidth || gp.H != 1 || gp.X != 0 {
						t.Errorf("row %q: gridPos %+v, want full width, height 1", title, gp)
					}
					if len(item.RowPanel.Panels) != 0 || item.RowPanel.Collapsed {
						t.Errorf("row %q is collapsed or nests panels; rows here are open", title)
					}
				case item.Panel != nil:
					id, title, gp = item.Panel.Id, deref(item.Panel.Title), item.Panel.GridPos
				}
				if id == nil || *id == 0 {
					t.Fatalf("panel %q has no id", title)
				}
				if prev, dup := ids[*id]; dup {
					t.Errorf("panels %q and %q share id %d", prev, title, *id)
				}
				ids[*id] = title
				if gp == nil || gp.W == 0 || gp.H == 0 || gp.X+gp.W > gridWidth {
					t.Fatalf("panel %q: gridPos %+v outside the %d-column grid", title, gp, gridWidth)
				}
				if gp.Y < maxY && item.RowPanel != nil {
					t.Errorf("row %q at y=%d above panels that end at %d", title, gp.Y, maxY)
				}
				for x := gp.X; x < gp.X+gp.W; x++ {
					for y := gp.Y; y < gp.Y+gp.H; y++ {
						if other, taken := used[cell{x, y}]; taken {
							t.Fatalf("panels %q and %q overlap at (%d,%d)", other, title, x, y)
						}
						used[cell{x, y}] = title
					}
				}
				maxY = max(maxY, gp.Y+gp.H)
			}
			// No holes: each grid line up to the bottom is filled edge to edge.
			for y := uint32(0); y < maxY; y++ {
				for x := uint32(0); x < gridWidth; x++ {
					if _, ok := used[cell{x, y}]; !ok {
						t.Errorf("hole in the grid at (%d,%d)", x, y)
						return
					}
				}
			}
		})
	}
}

func TestVariables(t *testing.T) {
	want := map[string][]string{
		"service-red.json": {"datasource", "job", "instance", "route", "method"},
		"go-runtime.json":  {"datasource", "job", "instance"},
		"slo.json":         {"datasource", "service"},
	}
	for _, f := range builtDashboards(t) {
		t.Run(f.Name, func(t *testing.T) {
			var names []string
			for _, v := range f.Dashboard.Templating.List {
				names = append(names, v.Name)
				switch v.Name {
				case "datasource":
					if v.Type != "datasource" || v.Query == nil || deref(v.Query.String) != "prometheus" {
						t.Errorf("datasource variable: type %q query %+v, want a prometheus datasource", v.Type, v.Query)
					}
				default:
					if v.Type != "query" || v.Datasource == nil || deref(v.Datasource.Uid) != "${datasource}" {
						t.Errorf("variable %s: type %q datasource %+v, want a query on ${datasource}", v.Name, v.Type, v.Datasource)
					}
					q := deref(v.Query.String)
					if !strings.HasPrefix(q, "label_values(") {
						t.Errorf("variable %s: query %q, want label_values(...)", v.Name, q)
					}
					multi := v.Name != "job" && v.Name != "service"
					if deref(v.Multi) != multi || deref(v.IncludeAll) != multi {
						t.Errorf("variable %s: multi=%v includeAll=%v, want %v", v.Name, deref(v.Multi), deref(v.IncludeAll), multi)
					}
					if multi && deref(v.AllValue) != ".*" {
						t.Errorf("variable %s: allValue %q, want .*", v.Name, deref(v.AllValue))
					}
				}
			}
			if !slices.Equal(names, want[f.Name]) {
				t.Errorf("variables %v, want %v", names, want[f.Name])
			}
		})
	}
}

// TestPanelsAreComplete checks units, thresholds, legends and the datasource of every panel,
// and that every multi-series query names its series.
func TestPanelsAreComplete(t *testing.T) {
	for _, f := range builtDashboards(t) {
		for _, p := range panels(f.Dashboard) {
			if p.Type == "row" {
				continue
			}
			t.Run(f.Name+"/"+deref(p.Title), func(t *testing.T) {
				if deref(p.Description) == "" {
					t.Error("no description")
				}
				if p.Datasource == nil || deref(p.Datasource.Uid) != "${datasource}" || deref(p.Datasource.Type) != "prometheus" {
					t.Errorf("datasource %+v, want prometheus ${datasource}", p.Datasource)
				}
				if p.Type != "heatmap" {
					d := p.FieldConfig.Defaults
					if deref(d.Unit) == "" {
						t.Error("no unit")
					}
					if d.Thresholds == nil || len(d.Thresholds.Steps) == 0 {
						t.Error("no thresholds")
					}
				}
				qs := promTargets(t, p)
				if len(qs) == 0 {
					t.Fatal("no query")
				}
				for _, q := range qs {
					if strings.TrimSpace(q.Expr) == "" {
						t.Errorf("%s: empty expression", deref(q.RefId))
					}
					if p.Type == "timeseries" && deref(q.LegendFormat) == "" {
						t.Errorf("%s: no legend format", deref(q.RefId))
					}
				}
			})
		}
	}
}

// TestThresholdUnits pins the units and thresholds of the panels whose colours mean something.
func TestThresholdUnits(t *testing.T) {
	red, err := serviceRED()
	if err != nil {
		t.Fatal(err)
	}
	rt, err := goRuntime()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		d         dashboard.Dashboard
		title     string
		unit      string
		threshold []float64
	}{
		{red, "Request rate", units.RequestsPerSecond, nil},
		{red, "Error ratio", units.PercentUnit, []float64{0.01, 0.05}},
		{red, "p99 latency", units.Seconds, []float64{0.25, 1}},
		{red, "RPC error ratio by method", units.PercentUnit, []float64{0.01, 0.05}},
		{rt, "GC CPU share", units.PercentUnit, []float64{0.10, 0.25}},
		{rt, "Heap against GOMEMLIMIT", units.BytesIEC, nil},
		{rt, "File descriptors in use", units.PercentUnit, []float64{0.7, 0.9}},
	}
	for _, c := range cases {
		t.Run(c.title, func(t *testing.T) {
			p := panelByTitle(t, c.d, c.title)
			if got := deref(p.FieldConfig.Defaults.Unit); got != c.unit {
				t.Errorf("unit %q, want %q", got, c.unit)
			}
			var got []float64
			for _, s := range p.FieldConfig.Defaults.Thresholds.Steps[1:] {
				got = append(got, deref(s.Value))
			}
			if !slices.Equal(got, c.threshold) {
				t.Errorf("thresholds %v, want %v", got, c.threshold)
			}
		})
	}
}

func panelByTitle(t *testing.T, d dashboard.Dashboard, title string) dashboard.Panel {
	t.Helper()
	for _, p := range panels(d) {
		if deref(p.Title) == title {
			return p
		}
	}
	t.Fatalf("%s: no panel %q", deref(d.Title), title)
	return dashboard.Panel{}
}

// TestExemplarsOnLatencyPanels: every latency graph and heatmap of the RED dashboard asks for
// exemplars, and no other panel does (a stat panel cannot show them).
func TestExemplarsOnLatencyPanels(t *testing.T) {
	red, err := serviceRED()
	if err != nil {
		t.Fatal(err)
	}
	latency := 0
	for _, p := range panels(red) {
		if p.Type == "row" {
			continue
		}
		isLatency := p.Type == "timeseries" && deref(p.FieldConfig.Defaults.Unit) == units.Seconds || p.Type == "heatmap"
		exemplar := false
		for _, q := range promTargets(t, p) {
			exemplar = exemplar || deref(q.Exemplar)
		}
		if isLatency {
			latency++
		}
		if isLatency != exemplar {
			t.Errorf("panel %q: latency %v, exemplars %v", deref(p.Title), isLatency, exemplar)
		}
	}
	if latency != 5 {
		t.Errorf("%d latency panels, want 5", latency)
	}
}

// TestProfilesLink reads the JSON the way Grafana does and checks the profile data links on
// every latency time series and the dashboard link, for the default and a custom template.
func TestProfilesLink(t *testing.T) {
	custom := "https://grafana.example.com/a/grafana-pyroscope-app/explore?var-serviceName=${job}&from=${__from}&to=${__to}"
	cases := []struct {
		name string
		opts []Option
		want string
	}{
		{"default", nil, DefaultProfilesURL},
		{"custom", []Option{WithProfilesURL(custom)}, custom},
		{"grafana path", []Option{WithProfilesURL("/explore?left=${job}")}, "/explore?left=${job}"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := serviceRED(c.opts...)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Links []struct {
					Title, URL, Type string
					TargetBlank      bool
				}
				Panels []struct {
					Title       string
					Type        string
					FieldConfig struct {
						Defaults struct {
							Unit  string
							Links []struct {
								Title, URL  string
								TargetBlank bool
							}
						}
					}
				}
			}
			if err := json.Unmarshal(raw, &doc); err != nil {
				t.Fatal(err)
			}
			if len(doc.Links) != 1 || doc.Links[0].Title != "Profiles" || doc.Links[0].URL != c.want ||
				doc.Links[0].Type != "link" || !doc.Links[0].TargetBlank {
				t.Errorf("dashboard links %+v, want one Profiles link to %q", doc.Links, c.want)
			}
			linked := 0
			for _, p := range doc.Panels {
				links := p.FieldConfig.Defaults.Links
				latencyGraph := p.Type == "timeseries" && p.FieldConfig.Defaults.Unit == units.Seconds
				if !latencyGraph {
					if len(links) > 0 {
						t.Errorf("panel %q has data links, only latency graphs should", p.Title)
					}
					continue
				}
				if len(links) != 1 || links[0].Title != "Profiles" || links[0].URL != c.want || !links[0].TargetBlank {
					t.Errorf("panel %q: data links %+v, want one Profiles link to %q", p.Title, links, c.want)
				}
				linked++
			}
			if linked != 4 {
				t.Errorf("%d latency graphs link to profiles, want 4", linked)
			}
		})
	}
}

func TestOptionErrors(t *testing.T) {
	cases := []struct {
		name     string
		template string
		want     string
	}{
		{"empty", "", "non-empty"},
		{"spaces", " http://x/ ", "non-empty"},
		{"relative", "explore?x=1", "must start with"},
		{"scheme", "ftp://host/x", "must start with"},
		{"no host", "http:///x", "no host"},
		{"protocol relative", "//host/x", "must start with"},
		{"bad escape", "http://host/%zz", "invalid URL escape"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := serviceRED(WithProfilesURL(c.template))
			if err == nil {
				t.Fatalf("WithProfilesURL(%q) accepted", c.template)
			}
			if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), fmt.Sprintf("WithProfilesURL %q", c.template)) {
				t.Errorf("error %q, want it to name the option, the value and %q", err, c.want)
			}
			if _, err := defaultBoards(WithProfilesURL(c.template)); err == nil {
				t.Error("Defaults accepted the bad option")
			}
		})
	}
	if _, err := goRuntime(nil); err == nil || !strings.Contains(err.Error(), "nil Option") {
		t.Errorf("nil option: %v", err)
	}
}

// TestMetricNamesComeFromTheCatalog parses every query and checks each metric it reads against
// the catalogue, so a name typed by hand, or one the catalogue renamed, fails here.
func TestMetricNamesComeFromTheCatalog(t *testing.T) {
	known := map[string]bool{}
	for _, m := range catalog.Metrics() {
		known[m.Name] = true
		if m.Type == "histogram" {
			for _, s := range []string{"_bucket", "_count", "_sum"} {
				known[m.Name+s] = true
			}
		}
	}
	for _, n := range catalog.RuntimeMetricNames() {
		known[n] = true
	}
	known[catalog.GoSchedLatencies+"_bucket"] = true
	for _, n := range recordingRuleNames(t) {
		known[n] = true
	}
	for _, f := range builtDashboards(t) {
		for _, p := range panels(f.Dashboard) {
			for _, q := range promTargets(t, p) {
				sels, err := vectorSelectors(substitute(q.Expr, testVars("job", "instance")))
				if err != nil {
					t.Fatalf("%s/%s: %v", f.Name, deref(p.Title), err)
				}
				for _, s := range sels {
					if !known[s.metric] {
						t.Errorf("%s/%s: metric %q is not in the catalogue", f.Name, deref(p.Title), s.metric)
					}
				}
			}
		}
	}
}

// recordingRuleNames lists the recordings in the rule files alerts generates for the default
// spec.
func recordingRuleNames(t *testing.T) []string {
	t.Helper()
	m, err := alerts.DefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	files, err := alerts.Generate(m)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		if strings.HasSuffix(f.Name, "_test.yaml") {
			continue
		}
		var rf struct {
			Groups []struct {
				Rules []struct{ Record string }
			}
		}
		if err := yaml.Unmarshal(f.Data, &rf); err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		for _, g := range rf.Groups {
			for _, r := range g.Rules {
				if r.Record != "" {
					names = append(names, r.Record)
				}
			}
		}
	}
	if len(names) == 0 {
		t.Fatal("alerts generates no recording rule for the default spec")
	}
	return names
}
