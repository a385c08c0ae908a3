package dashboards

import (
	"strings"
	"testing"

	"github.com/perfobs/perfobs-go/alerts"
	"github.com/perfobs/perfobs-go/catalog"
)

// nativeModel is the default spec in native mode.
func nativeModel(t *testing.T) *alerts.Model {
	t.Helper()
	spec, err := alerts.ParseSpec(alerts.DefaultSpecName, alerts.DefaultSpec())
	if err != nil {
		t.Fatal(err)
	}
	spec.Histograms = alerts.HistogramsNative
	m, err := alerts.NewModel(spec)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestNativeRED checks the native forms of the RED queries, and that no panel or variable of
// the native RED dashboard reads a classic series of the request histograms.
func TestNativeRED(t *testing.T) {
	files, err := buildBoards(nativeModel(t))
	if err != nil {
		t.Fatal(err)
	}
	if files[0].Name != REDFile {
		t.Fatalf("first file %s, want %s", files[0].Name, REDFile)
	}
	red := files[0].Dashboard
	const (
		h   = catalog.HTTPServerDuration
		sel = `{job="$job",instance=~"$instance",http_route=~"$route"}`
	)
	tests := []struct{ panel, want string }{
		{"Request rate", `sum(histogram_count(rate(` + h + sel + `[$__rate_interval])))`},
		{"Error ratio", `(sum(histogram_count(rate(` + h + `{job="$job",instance=~"$instance",http_route=~"$route",error_type!=""}[$__rate_interval]))) or ` +
			`sum(histogram_count(rate(` + h + sel + `[$__rate_interval]))) * 0) / sum(histogram_count(rate(` + h + sel + `[$__rate_interval])))`},
		{"p99 latency", `histogram_quantile(0.99, sum(rate(` + h + sel + `[$__rate_interval])))`},
		{"p99 latency by route", `histogram_quantile(0.99, sum by (http_route) (rate(` + h + sel + `[$__rate_interval])))`},
		{"Latency distribution", `sum(rate(` + h + sel + `[$__rate_interval]))`},
		{"RPC rate by method", `sum by (rpc_method) (histogram_count(rate(` + catalog.RPCServerDuration +
			`{job="$job",instance=~"$instance",rpc_method=~"$method"}[$__rate_interval])))`},
	}
	for _, tt := range tests {
		t.Run(tt.panel, func(t *testing.T) {
			qs := promTargets(t, panelByTitle(t, red, tt.panel))
			if len(qs) == 0 || qs[0].Expr != tt.want {
				t.Errorf("query = %v\nwant    %s", qs, tt.want)
			}
		})
	}
	var texts []string
	for _, p := range panels(red) {
		for _, q := range promTargets(t, p) {
			texts = append(texts, q.Expr)
		}
	}
	for _, v := range red.Templating.List {
		if v.Query != nil && v.Query.String != nil {
			texts = append(texts, *v.Query.String)
		}
	}
	for _, text := range texts {
		for _, name := range []string{catalog.HTTPServerDuration, catalog.RPCServerDuration} {
			for _, suffix := range []string{"_count", "_bucket", "_sum"} {
				if strings.Contains(text, name+suffix) {
					t.Errorf("native RED reads the classic series %s: %s", name+suffix, text)
				}
			}
		}
	}
	if want := `label_values({__name__=~"` + catalog.HTTPServerDuration + `|` + catalog.RPCServerDuration + `"}, job)`; !strings.Contains(strings.Join(texts, "\n"), want) {
		t.Errorf("variables lack %s", want)
	}

	// The classic dashboards are unchanged by the mode of another model.
	classic, err := serviceRED()
	if err != nil {
		t.Fatal(err)
	}
	if q := promTargets(t, panelByTitle(t, classic, "Request rate"))[0].Expr; !strings.Contains(q, h+"_count{") {
		t.Errorf("classic request rate = %s, want the _count series", q)
	}
	opt, err := serviceRED(WithNativeHistograms())
	if err != nil {
		t.Fatal(err)
	}
	if q := promTargets(t, panelByTitle(t, opt, "Request rate"))[0].Expr; q != tests[0].want {
		t.Errorf("serviceRED(WithNativeHistograms()) request rate = %s, want %s", q, tests[0].want)
	}
}
