package perfgate

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"math"
	"strings"
	"text/tabwriter"
)

var historyHeader = []string{"benchmark", "unit", "machine", "kind", "commits", "before", "after", "delta", "95% CI", "p", "verdict", "note"}

func (r *HistoryReport) cells(c Change) []string {
	commits := fmt.Sprintf("%.12s", r.Commits[c.First].Hash)
	if c.Last != c.First {
		commits += fmt.Sprintf("..%.12s (%d commits)", r.Commits[c.Last].Hash, c.Last-c.First+1)
	}
	p := "exact"
	if c.P != 0 {
		p = fmt.Sprintf("p=%.3f", c.P)
	}
	return []string{c.Benchmark, c.Unit, c.Machine, string(c.Kind), commits, fmtNum(c.Before), fmtNum(c.After),
		fmt.Sprintf("%+.2f%%", float64(c.Delta)*100), fmt.Sprintf("[%+.2f%%, %+.2f%%]", float64(c.Lo)*100, float64(c.Hi)*100), p, string(c.Verdict), c.Note}
}

// Verdict is the overall verdict: FAIL, INCONCLUSIVE or PASS.
func (r *HistoryReport) Verdict() Verdict {
	switch {
	case r.Failed():
		return Fail
	case r.IsInconclusive():
		return Inconclusive
	}
	return Pass
}

func (r *HistoryReport) summaryLine() string {
	gated := 0
	for _, c := range r.Changes {
		if c.Last >= r.Gated {
			gated++
		}
	}
	return fmt.Sprintf("%s (%d change points in %d series over %d commits, %d at or after commit %.12s; alpha %g)",
		r.Verdict(), len(r.Changes), len(r.Series), len(r.Commits), gated, r.Commits[r.Gated].Hash, r.Alpha)
}

// Write prints the report: every change point as a table, markdown (for a pull request: only
// the significant changes, which change points are by construction) or JSON.
func (r *HistoryReport) Write(w io.Writer, f Format) error {
	switch f {
	case JSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case Markdown:
		return r.writeMarkdown(w)
	case Table, "":
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		if len(r.Changes) > 0 {
			fmt.Fprintln(tw, strings.ToUpper(strings.Join(historyHeader, "\t")))
		}
		for _, c := range r.Changes {
			fmt.Fprintln(tw, strings.Join(r.cells(c), "\t"))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		for _, n := range r.Inconclusive {
			fmt.Fprintf(w, "inconclusive: %s\n", n)
		}
		for _, n := range r.Notes {
			fmt.Fprintf(w, "note: %s\n", n)
		}
		_, err := fmt.Fprintln(w, r.summaryLine())
		return err
	}
	return fmt.Errorf("format %q: must be table, markdown or json", f)
}

func (r *HistoryReport) writeMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "### Benchmark history: %s\n\n", r.summaryLine())
	if len(r.Changes) == 0 {
		b.WriteString("No significant change.\n")
	} else {
		b.WriteString("| " + strings.Join(historyHeader, " | ") + " |\n")
		b.WriteString("|" + strings.Repeat(" --- |", len(historyHeader)) + "\n")
		for _, c := range r.Changes {
			cells := r.cells(c)
			for i := range cells {
				cells[i] = strings.ReplaceAll(cells[i], "|", `\|`)
			}
			cells[0] = "`" + cells[0] + "`"
			if c.Verdict == Fail {
				cells[10] = "**" + cells[10] + "**"
			}
			b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
		}
	}
	for _, n := range r.Inconclusive {
		b.WriteString("\n- inconclusive: " + n)
	}
	for _, n := range r.Notes {
		b.WriteString("\n- " + n)
	}
	if len(r.Inconclusive)+len(r.Notes) > 0 {
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteHTML writes a self-contained HTML page (inline SVG, no script, no external file): one
// chart per series, each commit's samples as dots and its median as a line, the change points
// marked at their first commit (red for a regression, green for an improvement) with the
// commits of a drift shaded.
func (r *HistoryReport) WriteHTML(w io.Writer) error {
	var b strings.Builder
	b.WriteString(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Benchmark history</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
h2{font-size:1.05em;margin:1.6em 0 .3em}
.note{color:#555;font-size:.9em}
table{border-collapse:collapse;font-size:.85em}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}
.fail{color:#b00;font-weight:bold}
svg text{font-size:11px;fill:#333}
</style></head><body>
`)
	fmt.Fprintf(&b, "<h1>Benchmark history</h1>\n<p>%s</p>\n", html.EscapeString(r.summaryLine()))
	for _, n := range r.Inconclusive {
		fmt.Fprintf(&b, "<p class=\"note\">inconclusive: %s</p>\n", html.EscapeString(n))
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "<p class=\"note\">note: %s</p>\n", html.EscapeString(n))
	}
	if len(r.Changes) > 0 {
		b.WriteString("<table><tr>")
		for _, h := range historyHeader {
			fmt.Fprintf(&b, "<th>%s</th>", html.EscapeString(h))
		}
		b.WriteString("</tr>\n")
		for _, c := range r.Changes {
			cls := ""
			if c.Verdict == Fail {
				cls = ` class="fail"`
			}
			fmt.Fprintf(&b, "<tr%s>", cls)
			for _, cell := range r.cells(c) {
				fmt.Fprintf(&b, "<td>%s</td>", html.EscapeString(cell))
			}
			b.WriteString("</tr>\n")
		}
		b.WriteString("</table>\n")
	}
	for _, s := range r.Series {
		fmt.Fprintf(&b, "<h2>%s · %s · %s</h2>\n", html.EscapeString(s.Benchmark), html.EscapeString(s.Unit), html.EscapeString(s.Machine))
		r.svg(&b, s)
	}
	b.WriteString("</body></html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func (r *HistoryReport) svg(b *strings.Builder, s *Series) {
	const W, H, left, right, top, bottom = 760.0, 220.0, 70.0, 20.0, 14.0, 40.0
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range s.Points {
		for _, v := range p.Values {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if hi == lo {
		lo, hi = lo*0.99-1e-12, hi*1.01+1e-12
	}
	pad := (hi - lo) * 0.08
	lo, hi = lo-pad, hi+pad
	n := len(r.Commits)
	x := func(i int) float64 {
		if n == 1 {
			return left + (W-left-right)/2
		}
		return left + float64(i)*(W-left-right)/float64(n-1)
	}
	y := func(v float64) float64 { return top + (hi-v)/(hi-lo)*(H-top-bottom) }
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" role="img">`+"\n", W, H, W, H)
	fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#fafafa" stroke="#ccc"/>`+"\n", left, top, W-left-right, H-top-bottom)
	for _, c := range r.Changes {
		if c.Machine != s.Machine || c.Benchmark != s.Benchmark || c.Unit != s.Unit {
			continue
		}
		color := "#c00"
		if !c.Regression {
			color = "#080"
		}
		if c.Last > c.First {
			fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" fill-opacity="0.08"/>`+"\n",
				x(c.First), top, x(c.Last)-x(c.First), H-top-bottom, color)
		}
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-dasharray="4 3"><title>%s</title></line>`+"\n",
			x(c.First), top, x(c.First), H-bottom, color, html.EscapeString(fmt.Sprintf("%s %+.1f%% from %.12s", c.Kind, float64(c.Delta)*100, r.Commits[c.First].Hash)))
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" fill="%s">%s %+.1f%%</text>`+"\n", x(c.First)+3, top+11, color, c.Kind, float64(c.Delta)*100)
	}
	var path strings.Builder
	for k, p := range s.Points {
		cmd := "L"
		if k == 0 {
			cmd = "M"
		}
		fmt.Fprintf(&path, "%s%.1f,%.1f ", cmd, x(p.Commit), y(median(p.Values)))
		for _, v := range p.Values {
			fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="1.8" fill="#58a" fill-opacity="0.6"/>`+"\n", x(p.Commit), y(v))
		}
	}
	fmt.Fprintf(b, `<path d="%s" fill="none" stroke="#236" stroke-width="1.5"/>`+"\n", strings.TrimSpace(path.String()))
	for _, v := range []float64{lo + pad, (lo + hi) / 2, hi - pad} {
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="end">%s</text>`+"\n", left-4, y(v)+4, html.EscapeString(fmtNum(v)))
	}
	step := max(1, n/8)
	for i := 0; i < n; i += step {
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle">%.7s</text>`+"\n", x(i), H-bottom+14, html.EscapeString(r.Commits[i].Hash))
	}
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle">commit (oldest to newest)</text>`+"\n", left+(W-left-right)/2, H-6)
	b.WriteString("</svg>\n")
}
