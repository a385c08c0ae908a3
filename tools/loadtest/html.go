package loadtest

import (
	"encoding/json"
	"fmt"
	"html"
	"html/template"
	"io"
	"math"
	"strings"
	"time"
)

// The HTML report is one self-contained file: inline SVG drawn here, the data embedded as
// JSON, a few lines of script for tooltips; nothing is fetched.

type xy struct{ X, Y float64 }

type series struct {
	Name  string
	Color string
	Pts   []xy
}

type mark struct {
	X     float64
	Label string
}

type chartSpec struct {
	ID, Title, Subtitle, XLabel, YLabel string
	YFormat                             func(float64) string
	XFormat                             func(float64) string
	Series                              []series
	Marks                               []mark
}

var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"}

func svgChart(c chartSpec) template.HTML {
	const W, H, L, R, T, B = 760.0, 260.0, 70.0, 20.0, 30.0, 40.0
	xmin, xmax, ymax := math.Inf(1), math.Inf(-1), 0.0
	n := 0
	for _, s := range c.Series {
		for _, p := range s.Pts {
			xmin, xmax, ymax = math.Min(xmin, p.X), math.Max(xmax, p.X), math.Max(ymax, p.Y)
			n++
		}
	}
	for _, m := range c.Marks {
		xmin, xmax = math.Min(xmin, m.X), math.Max(xmax, m.X)
	}
	if n == 0 {
		xmin, xmax = 0, 1
	}
	if xmax <= xmin {
		xmax = xmin + 1
	}
	if ymax <= 0 || math.IsNaN(ymax) || math.IsInf(ymax, 0) {
		ymax = 1
	}
	ymax *= 1.1
	px := func(x float64) float64 { return L + (x-xmin)/(xmax-xmin)*(W-L-R) }
	py := func(y float64) float64 { return H - B - y/ymax*(H-T-B) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" id="chart-%s" data-chart="%s" data-points="%d" viewBox="0 0 %g %g" width="%g" height="%g" xmlns="http://www.w3.org/2000/svg" role="img">`,
		c.ID, c.ID, n, W, H, W, H)
	fmt.Fprintf(&b, `<text x="%g" y="14" class="title">%s</text>`, L, html.EscapeString(c.Title))
	if c.Subtitle != "" {
		fmt.Fprintf(&b, `<text x="%g" y="26" class="subtitle">%s</text>`, L, html.EscapeString(c.Subtitle))
	}
	fmt.Fprintf(&b, `<line x1="%g" y1="%g" x2="%g" y2="%g" class="axis"/>`, L, H-B, W-R, H-B)
	fmt.Fprintf(&b, `<line x1="%g" y1="%g" x2="%g" y2="%g" class="axis"/>`, L, T, L, H-B)
	for i := 0; i <= 4; i++ {
		y := ymax * float64(i) / 4
		fmt.Fprintf(&b, `<line x1="%g" y1="%.1f" x2="%g" y2="%.1f" class="grid"/><text x="%g" y="%.1f" class="ytick">%s</text>`,
			L, py(y), W-R, py(y), L-6, py(y)+4, html.EscapeString(c.YFormat(y)))
		x := xmin + (xmax-xmin)*float64(i)/4
		fmt.Fprintf(&b, `<text x="%.1f" y="%g" class="xtick">%s</text>`, px(x), H-B+16, html.EscapeString(c.XFormat(x)))
	}
	fmt.Fprintf(&b, `<text x="%g" y="%g" class="xlabel">%s</text>`, (L+W-R)/2, H-6, html.EscapeString(c.XLabel))
	fmt.Fprintf(&b, `<text x="14" y="%g" class="ylabel" transform="rotate(-90 14 %g)">%s</text>`, (T+H-B)/2, (T+H-B)/2, html.EscapeString(c.YLabel))
	for i, m := range c.Marks {
		// Labels near the right edge go to the left of their line; they step down so that
		// close marks stay legible.
		lx, anchor := px(m.X)+4, "start"
		if px(m.X) > W-R-120 {
			lx, anchor = px(m.X)-4, "end"
		}
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%g" x2="%.1f" y2="%g" class="mark" data-mark="%s" data-x="%g"/><text x="%.1f" y="%g" class="marklabel" text-anchor="%s">%s</text>`,
			px(m.X), T, px(m.X), H-B, html.EscapeString(m.Label), m.X, lx, T+12+float64(12*(i%3)), anchor, html.EscapeString(m.Label))
	}
	for i, s := range c.Series {
		color := s.Color
		if color == "" {
			color = palette[i%len(palette)]
		}
		var pts []string
		for _, p := range s.Pts {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(p.X), py(p.Y)))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`, color, strings.Join(pts, " "))
		for _, p := range s.Pts {
			fmt.Fprintf(&b, `<circle class="pt" r="2.5" fill="%s" cx="%.1f" cy="%.1f" data-series="%s" data-x="%g" data-y="%g"><title>%s: %s at %s</title></circle>`,
				color, px(p.X), py(p.Y), html.EscapeString(s.Name), p.X, p.Y, html.EscapeString(s.Name), html.EscapeString(c.YFormat(p.Y)), html.EscapeString(c.XFormat(p.X)))
		}
		if len(c.Series) > 1 {
			fmt.Fprintf(&b, `<rect x="%g" y="%d" width="10" height="10" fill="%s"/><text x="%g" y="%d" class="legend">%s</text>`,
				W-R-110, 4+13*i, color, W-R-96, 13+13*i, html.EscapeString(s.Name))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func fmtSecs(x float64) string {
	return (time.Duration(x * float64(time.Second))).Round(100 * time.Millisecond).String()
}

func fmtMs(y float64) string { return fmtDur(time.Duration(y * float64(time.Millisecond))) }

func fmtNum(y float64) string {
	switch {
	case y >= 1e9:
		return fmt.Sprintf("%.2fG", y/1e9)
	case y >= 1e6:
		return fmt.Sprintf("%.2fM", y/1e6)
	case y >= 1e3:
		return fmt.Sprintf("%.1fk", y/1e3)
	}
	return fmt.Sprintf("%.3g", y)
}

func fmtRate(y float64) string { return fmtNum(y) + "/s" }

func fmtPctChart(y float64) string { return fmt.Sprintf("%.1f%%", y*100) }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// charts returns the charts of one run.
func (r *Report) charts() []template.HTML {
	var out []template.HTML
	tl := r.Timeline
	pts := func(get func(Point) (float64, bool)) []xy {
		var xs []xy
		for _, p := range tl {
			if y, ok := get(p); ok {
				xs = append(xs, xy{p.T.Seconds(), y})
			}
		}
		return xs
	}
	answered := func(d time.Duration) (float64, bool) { return ms(d), d > 0 }
	var marks []mark
	for i, sp := range r.Spikes {
		marks = append(marks, mark{sp.At.Seconds(), fmt.Sprintf("burst %d", i+1)})
		if sp.Recovered {
			marks = append(marks, mark{(sp.At + sp.Duration + sp.Recovery).Seconds(), fmt.Sprintf("recovered %d", i+1)})
		}
	}
	if g := r.Generator; g != nil && g.Bound {
		marks = append(marks, mark{g.Since.Seconds(), "generator fell behind"})
	}
	out = append(out, svgChart(chartSpec{ID: "latency", Title: "Latency of answered requests, by send time", XLabel: "time (s)", YLabel: "latency",
		XFormat: fmtSecs, YFormat: fmtMs, Marks: marks, Series: []series{
			{Name: "p50", Pts: pts(func(p Point) (float64, bool) { return answered(p.P50) })},
			{Name: "p90", Pts: pts(func(p Point) (float64, bool) { return answered(p.P90) })},
			{Name: "p99", Pts: pts(func(p Point) (float64, bool) { return answered(p.P99) })},
		}}))
	out = append(out, svgChart(chartSpec{ID: "rate", Title: "Rate offered, sent and achieved (successful)", XLabel: "time (s)", YLabel: "requests/s",
		XFormat: fmtSecs, YFormat: fmtRate, Series: []series{
			{Name: "offered", Pts: pts(func(p Point) (float64, bool) { return p.Offered, true })},
			{Name: "sent", Pts: pts(func(p Point) (float64, bool) { return p.Sent, true })},
			{Name: "achieved", Pts: pts(func(p Point) (float64, bool) { return p.Achieved, true })},
		}}))
	out = append(out, svgChart(chartSpec{ID: "errors", Title: "Errors (share of requests sent)", XLabel: "time (s)", YLabel: "errors",
		XFormat: fmtSecs, YFormat: fmtPctChart, Series: []series{
			{Name: "error rate", Color: "#d62728", Pts: pts(func(p Point) (float64, bool) { return p.ErrorRate, true })},
		}}))
	out = append(out, svgChart(chartSpec{ID: "late", Title: "Load generator: how late requests left (p99)", XLabel: "time (s)", YLabel: "lateness",
		XFormat: fmtSecs, YFormat: fmtMs, Series: []series{
			{Name: "late p99", Color: "#7f7f7f", Pts: pts(func(p Point) (float64, bool) { return ms(p.LateP99), true })},
		}}))
	if len(r.samples) > 0 {
		sp := r.serverTimeline()
		get := func(f func(ServerPoint) float64, skipFirst bool) []xy {
			var xs []xy
			for i, p := range sp {
				if skipFirst && i == 0 {
					continue
				}
				if y := f(p); !math.IsNaN(y) {
					xs = append(xs, xy{p.T.Seconds(), y})
				}
			}
			return xs
		}
		out = append(out, svgChart(chartSpec{ID: "server-rate", Title: "Server (from /metrics): request rate", XLabel: "time (s)", YLabel: "requests/s",
			XFormat: fmtSecs, YFormat: fmtRate, Series: []series{{Name: "server rate", Pts: get(func(p ServerPoint) float64 { return p.Rate }, true)}}}))
		out = append(out, svgChart(chartSpec{ID: "server-errors", Title: "Server (from /metrics): error ratio", XLabel: "time (s)", YLabel: "errors",
			XFormat: fmtSecs, YFormat: fmtPctChart, Series: []series{{Name: "server errors", Color: "#d62728", Pts: get(func(p ServerPoint) float64 { return p.ErrorRate }, true)}}}))
		out = append(out, svgChart(chartSpec{ID: "server-latency", Title: "Server p99 (histogram) and client p99, per scrape interval", XLabel: "time (s)", YLabel: "latency",
			XFormat: fmtSecs, YFormat: fmtMs, Series: []series{
				{Name: "server p99", Pts: get(func(p ServerPoint) float64 { return ms(p.P99) }, true)},
				{Name: "client p99", Pts: get(func(p ServerPoint) float64 { return ms(p.ClientP99) }, true)},
			}}))
		for _, rt := range []struct {
			id, title string
			f         func(ServerPoint) float64
			format    func(float64) string
		}{
			{"goroutines", "Runtime: goroutines", func(p ServerPoint) float64 { return p.Goroutines }, fmtNum},
			{"heap", "Runtime: live heap (bytes)", func(p ServerPoint) float64 { return p.Heap }, fmtNum},
			{"fds", "Runtime: open file descriptors", func(p ServerPoint) float64 { return p.FDs }, fmtNum},
			{"rss", "Runtime: resident memory (bytes)", func(p ServerPoint) float64 { return p.RSS }, fmtNum},
		} {
			xs := get(rt.f, false)
			if len(xs) == 0 {
				continue
			}
			sub := ""
			if r.Trends != nil {
				for _, t := range r.Trends.Series {
					if t.Metric == rt.id {
						sub = "Theil-Sen trend: " + t.describe()
					}
				}
			}
			out = append(out, svgChart(chartSpec{ID: rt.id, Title: rt.title, Subtitle: sub, XLabel: "time (s)", YLabel: rt.id, XFormat: fmtSecs, YFormat: rt.format,
				Series: []series{{Name: rt.id, Pts: xs}}}))
		}
	}
	return out
}

var pageTmpl = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 24px; color: #222; }
pre { background: #f6f6f6; padding: 12px; overflow-x: auto; }
.chart { display: block; margin: 12px 0; border: 1px solid #ddd; background: #fff; }
.chart .axis { stroke: #444; } .chart .grid { stroke: #eee; }
.chart .title { font-weight: bold; font-size: 13px; } .chart .subtitle { font-size: 10px; fill: #555; } .chart text { font-size: 11px; fill: #333; }
.chart .ytick { text-anchor: end; } .chart .xtick, .chart .xlabel, .chart .ylabel { text-anchor: middle; }
.chart .mark { stroke: #000; stroke-dasharray: 4 3; }
.verdict-met { color: #2ca02c; } .verdict-broken { color: #d62728; } .verdict-inconclusive { color: #ff7f0e; }
#tip { position: fixed; pointer-events: none; background: #222; color: #fff; padding: 3px 6px; border-radius: 3px; font-size: 12px; display: none; }
</style></head><body>
<h1>{{.Title}}</h1>
<p class="verdict-{{.VerdictClass}}" id="verdict">{{.Verdict}}</p>
<pre id="summary">{{.Text}}</pre>
{{range .Charts}}{{.}}
{{end}}
<div id="tip"></div>
<script type="application/json" id="report-data">{{.Data}}</script>
<script>
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var tip = document.getElementById("tip");
  var total = 0;
  document.querySelectorAll("svg.chart").forEach(function (svg) {
    total += svg.querySelectorAll("circle.pt").length;
  });
  document.body.setAttribute("data-rendered-points", String(total));
  document.body.setAttribute("data-kind", data.kind);
  document.querySelectorAll("circle.pt").forEach(function (c) {
    c.addEventListener("mouseenter", function (e) {
      tip.textContent = c.querySelector("title").textContent;
      tip.style.left = (e.clientX + 10) + "px";
      tip.style.top = (e.clientY + 10) + "px";
      tip.style.display = "block";
    });
    c.addEventListener("mouseleave", function () { tip.style.display = "none"; });
  });
})();
</script>
</body></html>
`))

type page struct {
	Title, Verdict, VerdictClass, Text string
	Charts                             []template.HTML
	Data                               template.JS
}

func verdictText(o Outcome, line string) (string, string) {
	switch o {
	case Broken:
		return "broken", line
	case Inconclusive:
		return "inconclusive", line
	}
	return "met", line
}

func writePage(w io.Writer, p page, data any) error {
	js, err := json.Marshal(data)
	if err != nil {
		return err
	}
	// </script> cannot appear inside the JSON: json.Marshal escapes < as \u003c.
	p.Data = template.JS(js)
	return pageTmpl.Execute(w, p)
}

// WriteHTML writes the report as one self-contained HTML page: the text summary, latency
// percentiles over time, rate offered, sent and achieved, errors, the generator's lateness,
// and with /metrics the server's RED and runtime series. verdict is the budget line
// (WriteVerdict), o its outcome.
func (r *Report) WriteHTML(w io.Writer, title string, o Outcome, verdict string) error {
	var text strings.Builder
	if err := r.WriteText(&text); err != nil {
		return err
	}
	class, v := verdictText(o, verdict)
	return writePage(w, page{Title: title, Verdict: v, VerdictClass: class, Text: text.String(), Charts: r.charts()},
		map[string]any{"kind": "run", "report": r})
}

// WriteHTML writes a stress run as one self-contained HTML page: p50 and p99 against the
// offered rate with the knee and the breaking point marked, and each step's figures.
func (s *StressResult) WriteHTML(w io.Writer, title string) error {
	var text strings.Builder
	if err := s.WriteText(&text); err != nil {
		return err
	}
	var p50, p99, tput []xy
	for _, st := range s.Steps {
		if st.Report.Answered > 0 {
			p50 = append(p50, xy{st.Rate, ms(st.Report.Latency.P50)})
			p99 = append(p99, xy{st.Rate, ms(st.Report.Latency.P99)})
		}
		tput = append(tput, xy{st.Rate, st.Report.Throughput})
	}
	var marks []mark
	if s.Knee > 0 {
		marks = append(marks, mark{s.Knee, "knee"})
	}
	if s.Breaking > 0 && s.Breaking != s.Knee {
		marks = append(marks, mark{s.Breaking, "breaking point"})
	}
	if s.GeneratorLimit > 0 {
		marks = append(marks, mark{s.GeneratorLimit, "generator limit"})
	}
	charts := []template.HTML{
		svgChart(chartSpec{ID: "ramp", Title: "Latency against the offered rate", XLabel: "offered rate (requests/s)", YLabel: "latency",
			XFormat: fmtNum, YFormat: fmtMs, Marks: marks, Series: []series{{Name: "p50", Pts: p50}, {Name: "p99", Pts: p99}}}),
		svgChart(chartSpec{ID: "ramp-throughput", Title: "Throughput against the offered rate", XLabel: "offered rate (requests/s)", YLabel: "requests/s",
			XFormat: fmtNum, YFormat: fmtRate, Marks: marks, Series: []series{{Name: "throughput", Pts: tput}}}),
	}
	class, v := "met", fmt.Sprintf("highest rate meeting the budget: %g req/s", s.Highest)
	switch {
	case s.GeneratorLimit > 0:
		class, v = "inconclusive", fmt.Sprintf("the load generator fell behind at %g req/s; highest rate meeting the budget: %g req/s", s.GeneratorLimit, s.Highest)
	case s.Highest == 0:
		class, v = "broken", "no rate met the budget"
	}
	return writePage(w, page{Title: title, Verdict: v, VerdictClass: class, Text: text.String(), Charts: charts},
		map[string]any{"kind": "ramp", "stress": s})
}
