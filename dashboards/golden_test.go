//lint:file-ignore SA1019 the v1 dashboard schema (dashboard.Dashboard) is what Grafana 10 and 11 import; dashboardv2 needs Grafana 12

package dashboards

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/heatmap"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	"github.com/perfobs/perfobs-go/alerts"
)

var update = flag.Bool("update", false, "rewrite dashboards/json/*.json and testdata/*.golden from the generator")

const regenerate = "go test ./dashboards -run 'TestShippedDefaults|TestGolden' -update"

// TestShippedDefaults fails when a file in dashboards/json/ differs from what the generator
// writes for the default options, or when the directory holds a file the generator does not.
func TestShippedDefaults(t *testing.T) {
	files := builtDashboards(t)
	if *update {
		data, err := marshalAll(files)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := alerts.WriteFiles("json", data); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]bool{}
	for _, f := range files {
		want[f.Name] = true
		t.Run(f.Name, func(t *testing.T) {
			gen, err := marshal(f.Dashboard)
			if err != nil {
				t.Fatal(err)
			}
			shipped, err := os.ReadFile(filepath.Join("json", f.Name))
			if err != nil {
				t.Fatalf("%v; regenerate with: %s", err, regenerate)
			}
			if !bytes.Equal(gen, shipped) {
				t.Errorf("dashboards/json/%s differs from the generator's output (%s); regenerate with: %s",
					f.Name, firstDiff(shipped, gen), regenerate)
			}
		})
	}
	entries, err := os.ReadDir("json")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !want[e.Name()] {
			t.Errorf("dashboards/json/%s is not generated any more: delete it", e.Name())
		}
	}
}

func firstDiff(a, b []byte) string {
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := 0; i < max(len(al), len(bl)); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("line %d: shipped %q, generated %q", i+1, strings.TrimSpace(x), strings.TrimSpace(y))
		}
	}
	return "no line differs"
}

// summary renders what a reviewer needs to see of a dashboard: variables, rows, panels with
// their type, unit and place, and every query with its legend.
func summary(t *testing.T, d dashboard.Dashboard) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s (uid %s)\n", deref(d.Title), deref(d.Uid))
	for _, l := range d.Links {
		fmt.Fprintf(&b, "link %q -> %s\n", l.Title, deref(l.Url))
	}
	for _, v := range d.Templating.List {
		q := ""
		if v.Query != nil {
			q = deref(v.Query.String)
		}
		fmt.Fprintf(&b, "var %s (%s): %s\n", v.Name, v.Type, q)
	}
	for _, item := range d.Panels {
		if r := item.RowPanel; r != nil {
			fmt.Fprintf(&b, "\n## %s\n", deref(r.Title))
			continue
		}
		p := *item.Panel
		gp := p.GridPos
		fmt.Fprintf(&b, "%s %q [%s] %dx%d at %d,%d\n", p.Type, deref(p.Title), deref(p.FieldConfig.Defaults.Unit), gp.W, gp.H, gp.X, gp.Y)
		for _, l := range p.FieldConfig.Defaults.Links {
			fmt.Fprintf(&b, "  link %q -> %s\n", l.Title, deref(l.Url))
		}
		for _, q := range promTargets(t, p) {
			extra := ""
			if deref(q.Exemplar) {
				extra += " exemplars"
			}
			if deref(q.Instant) {
				extra += " instant"
			}
			fmt.Fprintf(&b, "  %s: %s\n     legend %q%s\n", deref(q.RefId), q.Expr, deref(q.LegendFormat), extra)
		}
	}
	return b.String()
}

// TestGolden pins every panel title and query: a change to a dashboard is a visible diff in
// testdata/*.golden.
func TestGolden(t *testing.T) {
	for _, f := range builtDashboards(t) {
		t.Run(f.Name, func(t *testing.T) {
			got := summary(t, f.Dashboard)
			path := filepath.Join("testdata", strings.TrimSuffix(f.Name, ".json")+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v; regenerate with: %s", err, regenerate)
			}
			if got != string(want) {
				t.Errorf("%s differs (%s); review the change and regenerate with: %s",
					path, firstDiff(want, []byte(got)), regenerate)
			}
		})
	}
}

// registerSDKTypes tells the SDK's decoder about the panel and query types the dashboards use,
// as Grafana's own plugins registry would.
func registerSDKTypes() {
	rt := cog.NewRuntime()
	rt.RegisterDataqueryVariant(prometheus.VariantConfig())
	rt.RegisterPanelcfgVariant(timeseries.VariantConfig())
	rt.RegisterPanelcfgVariant(stat.VariantConfig())
	rt.RegisterPanelcfgVariant(heatmap.VariantConfig())
}

// TestRoundTrip decodes each dashboard's JSON into the SDK's own types and encodes it again:
// the bytes must not change, and every panel and query must come back typed.
func TestRoundTrip(t *testing.T) {
	registerSDKTypes()
	for _, f := range builtDashboards(t) {
		t.Run(f.Name, func(t *testing.T) {
			first, err := marshal(f.Dashboard)
			if err != nil {
				t.Fatal(err)
			}
			var back dashboard.Dashboard
			if err := json.Unmarshal(first, &back); err != nil {
				t.Fatalf("decode: %v", err)
			}
			second, err := marshal(back)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(first, second) {
				t.Fatalf("round trip changed the JSON: %s", firstDiff(first, second))
			}
			if len(panels(back)) != len(panels(f.Dashboard)) {
				t.Fatalf("%d panels after the round trip, want %d", len(panels(back)), len(panels(f.Dashboard)))
			}
			for _, p := range panels(back) {
				for _, q := range p.Targets {
					if _, ok := q.(*prometheus.Dataquery); !ok {
						t.Errorf("panel %q: query decoded as %T, want *prometheus.Dataquery", deref(p.Title), q)
					}
				}
				switch p.Type {
				case "row":
				case "timeseries":
					if _, ok := p.Options.(*timeseries.Options); !ok {
						t.Errorf("panel %q: options decoded as %T", deref(p.Title), p.Options)
					}
				case "stat":
					if _, ok := p.Options.(*stat.Options); !ok {
						t.Errorf("panel %q: options decoded as %T", deref(p.Title), p.Options)
					}
				case "heatmap":
					if _, ok := p.Options.(*heatmap.Options); !ok {
						t.Errorf("panel %q: options decoded as %T", deref(p.Title), p.Options)
					}
				default:
					t.Errorf("panel %q: unexpected type %q", deref(p.Title), p.Type)
				}
			}
		})
	}
}
