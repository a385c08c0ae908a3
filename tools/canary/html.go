package canary

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"
)

// WriteHTML draws, for each failing latency result, the baseline's and the canary's latency
// CDFs side by side as inline SVG: a self-contained page with no script and no network access.
// A report without failing latency says so on the page.
func (r *Report) WriteHTML(w io.Writer) error {
	type chart struct {
		Title, Effect string
		SVG           template.HTML
		Exemplars     []Exemplar
	}
	var charts []chart
	for _, res := range r.Failing() {
		if res.Metric != "latency" || res.BaselineLatency == nil || res.CanaryLatency == nil {
			continue
		}
		charts = append(charts, chart{Title: res.Scope, Effect: res.Effect, SVG: template.HTML(cdfSVG(*res.BaselineLatency, *res.CanaryLatency)), Exemplars: res.Exemplars})
	}
	return htmlPage.Execute(w, struct {
		Header  string
		Reasons []string
		Charts  []chart
	}{r.header(), r.Reasons, charts})
}

var htmlPage = template.Must(template.New("canary").Funcs(template.FuncMap{"sec": fmtSeconds}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>perfobs canary</title>
<style>body{font:14px sans-serif;margin:2em}svg{background:#fff;border:1px solid #ccc}.b{stroke:#1f77b4}.c{stroke:#d62728}
.chart{display:inline-block;margin:0 2em 2em 0;vertical-align:top}</style></head><body>
<h1>{{.Header}}</h1>
<ul>{{range .Reasons}}<li>{{.}}</li>{{end}}</ul>
{{if not .Charts}}<p id="none">No failing latency metric.</p>{{end}}
{{range .Charts}}<div class="chart"><h2>{{.Title}}</h2><p>{{.Effect}}</p>{{.SVG}}
{{if .Exemplars}}<p>Slow canary requests:</p><ul>{{range .Exemplars}}<li>{{sec .Value}} trace_id {{.TraceID}}</li>{{end}}</ul>{{end}}</div>
{{end}}</body></html>
`))

// cdfSVG plots the fraction of requests at or below each bucket boundary, on a log latency axis.
func cdfSVG(b, c Histogram) string {
	const W, H, L, B = 560.0, 320.0, 60.0, 40.0
	var finite []float64
	for _, x := range b.Bounds {
		if !math.IsInf(x, 1) && x > 0 {
			finite = append(finite, x)
		}
	}
	if len(finite) < 2 {
		return `<svg width="560" height="60"><text x="10" y="30">too few buckets to draw</text></svg>`
	}
	lo, hi := math.Log10(finite[0]), math.Log10(finite[len(finite)-1])
	x := func(v float64) float64 { return L + (W-L-20)*(math.Log10(v)-lo)/(hi-lo) }
	y := func(f float64) float64 { return H - B - (H-B-20)*f }
	line := func(h Histogram, class, name string) string {
		n := h.Total()
		var pts []string
		for i, le := range h.Bounds {
			if math.IsInf(le, 1) || le <= 0 {
				continue
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(le), y(h.Cumulative[i]/n)))
		}
		return fmt.Sprintf(`<polyline class="%s" data-side="%s" fill="none" stroke-width="2" points="%s"/>`, class, name, strings.Join(pts, " "))
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg width="%.0f" height="%.0f" role="img">`, W, H)
	fmt.Fprintf(&sb, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#000"/>`, L, H-B, W-20, H-B)
	fmt.Fprintf(&sb, `<line x1="%.0f" y1="20" x2="%.0f" y2="%.0f" stroke="#000"/>`, L, L, H-B)
	for _, f := range []float64{0, 0.5, 0.9, 0.99, 1} {
		fmt.Fprintf(&sb, `<text x="%.0f" y="%.1f" font-size="10" text-anchor="end">%g</text>`, L-4, y(f)+3, f)
	}
	for _, le := range finite {
		fmt.Fprintf(&sb, `<text x="%.1f" y="%.0f" font-size="9" text-anchor="middle">%s</text>`, x(le), H-B+14, fmtSeconds(le))
	}
	sb.WriteString(line(b, "b", "baseline"))
	sb.WriteString(line(c, "c", "canary"))
	fmt.Fprintf(&sb, `<text x="%.0f" y="14" font-size="12" fill="#1f77b4">baseline (%.0f requests)</text>`, L, b.Total())
	fmt.Fprintf(&sb, `<text x="%.0f" y="14" font-size="12" fill="#d62728">canary (%.0f requests)</text>`, L+220, c.Total())
	sb.WriteString(`</svg>`)
	return sb.String()
}
