//lint:file-ignore SA1019 the v1 dashboard schema (dashboard.Dashboard) is what Grafana 10 and 11 import; dashboardv2 needs Grafana 12

package dashboards

import (
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
)

// panels returns every panel of d, rows included, in order: top-level panels and the panels
// nested in collapsed rows.
func panels(d dashboard.Dashboard) []dashboard.Panel {
	var out []dashboard.Panel
	for _, p := range d.Panels {
		switch {
		case p.Panel != nil:
			out = append(out, *p.Panel)
		case p.RowPanel != nil:
			out = append(out, p.RowPanel.Panels...)
		}
	}
	return out
}

// promTargets returns the Prometheus queries of a panel, failing the test on any other kind.
func promTargets(t testing.TB, p dashboard.Panel) []prometheus.Dataquery {
	t.Helper()
	var out []prometheus.Dataquery
	for _, q := range p.Targets {
		switch v := q.(type) {
		case prometheus.Dataquery:
			out = append(out, v)
		case *prometheus.Dataquery:
			out = append(out, *v)
		default:
			t.Fatalf("panel %q: target of type %T, want a Prometheus query", deref(p.Title), q)
		}
	}
	return out
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
