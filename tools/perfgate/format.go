package perfgate

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"golang.org/x/perf/benchunit"
)

// Format is an output format for a Report.
type Format string

// Output formats.
const (
	Table    Format = "table"    // aligned columns for a terminal
	Markdown Format = "markdown" // a table for pull-request comments
	JSON     Format = "json"     // the Report as JSON, for machines
)

// ParseFormat checks a format name.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case Table, Markdown, JSON:
		return f, nil
	}
	return "", fmt.Errorf("format %q: must be table, markdown or json", s)
}

// Write prints the report in format f.
func (r *Report) Write(w io.Writer, f Format) error {
	switch f {
	case JSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case Markdown:
		return r.writeMarkdown(w)
	case Table, "":
		return r.writeTable(w)
	}
	return fmt.Errorf("format %q: must be table, markdown or json", f)
}

var header = []string{"benchmark", "unit", "old", "new", "delta", "p", "verdict", "note"}

func (r *Report) cells(row Row) []string {
	old, nw := "-", "-"
	if row.Verdict != Missing || row.Old.N > 0 {
		old = fmtSummary(row.Old, row.Exact)
	}
	if row.Verdict != Missing || row.New.N > 0 {
		nw = fmtSummary(row.New, row.Exact)
	}
	delta, p := "", ""
	if row.Verdict != Missing {
		delta = fmtDelta(row)
		p = fmtP(row)
	}
	return []string{row.Benchmark, row.Unit, old, nw, delta, p, string(row.Verdict), row.Note}
}

func (r *Report) writeTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.ToUpper(strings.Join(header, "\t")))
	for _, row := range r.Rows {
		fmt.Fprintln(tw, strings.Join(r.cells(row), "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	_, err := fmt.Fprintln(w, r.summaryLine())
	return err
}

func (r *Report) writeMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "### Benchmark gate: %s\n\n", r.summaryLine())
	shown := 0
	for _, row := range r.Rows {
		if row.Verdict != Pass || row.Significant {
			shown++
		}
	}
	if shown > 0 {
		b.WriteString("| " + strings.Join(header, " | ") + " |\n")
		b.WriteString("|" + strings.Repeat(" --- |", len(header)) + "\n")
	}
	hidden := 0
	for _, row := range r.Rows {
		// A pull request comment lists what changed: a passing row without a significant
		// difference is noise, counted below but not shown.
		if row.Verdict == Pass && !row.Significant {
			hidden++
			continue
		}
		c := r.cells(row)
		for i := range c {
			c[i] = strings.ReplaceAll(c[i], "|", `\|`)
		}
		c[0] = "`" + c[0] + "`"
		if row.Verdict == Fail {
			c[6] = "**" + c[6] + "**"
		}
		b.WriteString("| " + strings.Join(c, " | ") + " |\n")
	}
	switch {
	case shown == 0:
		fmt.Fprintf(&b, "No significant change (%d rows).\n", hidden)
	case hidden > 0:
		fmt.Fprintf(&b, "\n%d more without a significant change.\n", hidden)
	}
	for _, n := range r.Notes {
		b.WriteString("\n- " + n)
	}
	if len(r.Notes) > 0 {
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (r *Report) summaryLine() string {
	verdict := "PASS"
	switch {
	case r.Failed():
		verdict = "FAIL"
	case r.Inconclusive():
		verdict = "INCONCLUSIVE"
	}
	parts := []string{}
	for _, v := range []Verdict{Fail, Inconclusive, Warn, Accept, Missing, Pass} {
		if n := r.Count(v); n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, strings.ToLower(string(v))))
		}
	}
	return fmt.Sprintf("%s (%s; alpha %g)", verdict, strings.Join(parts, ", "), r.Alpha)
}

func fmtSummary(s Summary, exact bool) string {
	v := fmtNum(s.Center)
	if exact || s.N == 0 {
		return v
	}
	if math.IsInf(s.Lo, 0) || math.IsInf(s.Hi, 0) {
		return v + " ±∞"
	}
	if s.Center == 0 {
		return v
	}
	return fmt.Sprintf("%s ±%.0f%%", v, 100*math.Max(s.Hi/s.Center-1, 1-s.Lo/s.Center))
}

func fmtNum(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e6 {
		return fmt.Sprintf("%.0f", v)
	}
	return benchunit.Scale(v, benchunit.Decimal)
}

func fmtDelta(row Row) string {
	if !row.Significant {
		return "~"
	}
	d := float64(row.Delta)
	if math.IsInf(d, 1) {
		return "+Inf%"
	}
	return fmt.Sprintf("%+.2f%%", d*100)
}

func fmtP(row Row) string {
	if row.Exact {
		return "exact"
	}
	return row.cmp.String()
}
