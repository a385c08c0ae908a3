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

// cdfSVG plots the fraction of requests at or below each bucket boundary (the CDF, left) and
// the fraction slower than it on a log scale (the tail, right, where a p99 regression shows), both
// over a log latency axis.
func cdfSVG(b, c Histogram) string {
	var finite []float64
	for _, x := range b.Bounds {
		if !math.IsInf(x, 1) && x > 0 {
			finite = append(finite, x)
		}
	}
	if len(finite) < 2 || b.Total() == 0 || c.Total() == 0 {
		return `<svg width="560" height="60"><text x="10" y="30">too few buckets to draw</text></svg>`
	}
	// The tail panel's floor: one request in the larger side, at most 1e-4.
	floor := math.Min(1e-4, 1/math.Max(b.Total(), c.Total()))
	var sb strings.Builder
	sb.WriteString(`<svg width="1160" height="340" role="img">`)
	panel(&sb, "cdf", 0, finite, b, c, "fraction of requests at or below", func(f float64) float64 { return f }, []float64{0, 0.25, 0.5, 0.75, 0.9, 1}, false)
	panel(&sb, "tail", 580, finite, b, c, "fraction slower than (log)",
		func(f float64) float64 {
			return (math.Log10(math.Max(1-f, floor)) - math.Log10(floor)) / -math.Log10(floor)
		},
		[]float64{floor, 0.001, 0.01, 0.1, 1}, true)
	fmt.Fprintf(&sb, `<text x="60" y="14" font-size="12" fill="#1f77b4">baseline (%.0f requests)</text>`, b.Total())
	fmt.Fprintf(&sb, `<text x="280" y="14" font-size="12" fill="#d62728">canary (%.0f requests)</text>`, c.Total())
	sb.WriteString(`</svg>`)
	return sb.String()
}

// panel draws one chart at x offset dx; ymap maps a cumulative fraction to [0, 1] of the height,
// ticks are in the panel's own terms (cumulative fractions, or tail fractions when tail is set).
func panel(sb *strings.Builder, id string, dx float64, finite []float64, b, c Histogram, title string, ymap func(float64) float64, ticks []float64, tail bool) {
	const W, H, L, B, T = 560.0, 340.0, 60.0, 40.0, 30.0
	lo, hi := math.Log10(finite[0]), math.Log10(finite[len(finite)-1])
	x := func(v float64) float64 { return dx + L + (W-L-20)*(math.Log10(v)-lo)/(hi-lo) }
	y := func(f float64) float64 { return H - B - (H-B-T)*ymap(f) }
	fmt.Fprintf(sb, `<g id="%s">`, id)
	fmt.Fprintf(sb, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#000"/>`, dx+L, H-B, dx+W-20, H-B)
	fmt.Fprintf(sb, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#000"/>`, dx+L, T, dx+L, H-B)
	fmt.Fprintf(sb, `<text x="%.0f" y="%.0f" font-size="11">%s</text>`, dx+L+4, T-4, title)
	for _, tk := range ticks {
		f := tk
		if tail {
			f = 1 - tk
		}
		fmt.Fprintf(sb, `<text x="%.0f" y="%.1f" font-size="10" text-anchor="end">%g</text>`, dx+L-4, y(f)+3, tk)
		fmt.Fprintf(sb, `<line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" stroke="#eee"/>`, dx+L, y(f), dx+W-20, y(f))
	}
	for i, le := range finite {
		if len(finite) > 8 && i%2 == 1 {
			continue // every other label when they would overlap
		}
		fmt.Fprintf(sb, `<text x="%.1f" y="%.0f" font-size="9" text-anchor="middle">%s</text>`, x(le), H-B+14, fmtSeconds(le))
	}
	fmt.Fprintf(sb, `<text x="%.0f" y="%.0f" font-size="11" text-anchor="middle">latency (log)</text>`, dx+W/2, H-8)
	for _, side := range []struct {
		h           Histogram
		class, name string
	}{{b, "b", "baseline"}, {c, "c", "canary"}} {
		n := side.h.Total()
		var pts []string
		for i, le := range side.h.Bounds {
			if math.IsInf(le, 1) || le <= 0 {
				continue
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(le), y(side.h.Cumulative[i]/n)))
		}
		fmt.Fprintf(sb, `<polyline class="%s" data-side="%s" fill="none" stroke-width="2" points="%s"/>`, side.class, side.name, strings.Join(pts, " "))
	}
	sb.WriteString(`</g>`)
}
