package canary

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Format is an output format of a report.
type Format string

// Formats.
const (
	FormatText     Format = "text"
	FormatMarkdown Format = "markdown"
	FormatJSON     Format = "json"
)

// ParseFormat checks a --format value.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case FormatText, FormatMarkdown, FormatJSON:
		return f, nil
	}
	return "", fmt.Errorf("format %q: must be text, markdown or json", s)
}

// Write renders the report in the format.
func (r *Report) Write(w io.Writer, f Format) error {
	switch f {
	case FormatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case FormatMarkdown:
		return r.writeMarkdown(w)
	default:
		return r.writeText(w)
	}
}

func (r *Report) header() string {
	s := fmt.Sprintf("canary verdict: %s (score %.1f, alpha %.3g", strings.ToUpper(string(r.Verdict)), r.Score, r.Alpha)
	if r.Look > 0 {
		s += fmt.Sprintf(", look %d", r.Look)
		if r.Final {
			s += ", final"
		}
	}
	return s + ")"
}

func (r *Report) writeText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintln(&b, r.header())
	fmt.Fprintf(&b, "window %s .. %s\n", r.Start.UTC().Format("2006-01-02T15:04:05Z"), r.End.UTC().Format("2006-01-02T15:04:05Z"))
	fmt.Fprintf(&b, "baseline %s: %s\n", r.Baseline.Selector, strings.Join(r.Baseline.Instances, ", "))
	fmt.Fprintf(&b, "canary   %s: %s\n", r.Canary.Selector, strings.Join(r.Canary.Instances, ", "))
	for _, reason := range r.Reasons {
		fmt.Fprintf(&b, "  - %s\n", reason)
	}
	if len(r.Results) > 0 {
		fmt.Fprintln(&b)
		tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "STATUS\tSCOPE\tMETRIC\tADJ P\tEFFECT")
		for _, res := range r.Results {
			eff := res.Effect
			if res.Note != "" {
				eff = strings.TrimSpace(eff + " [" + res.Note + "]")
			}
			crit := ""
			if res.Critical {
				crit = "*"
			}
			fmt.Fprintf(tw, "%s%s\t%s\t%s\t%s\t%s\n", strings.ToUpper(string(res.Status)), crit, res.Scope, res.Metric, fmtP(res), eff)
		}
		tw.Flush()
		fmt.Fprintln(&b, "(* critical)")
	}
	for _, res := range r.Failing() {
		for _, e := range res.Exemplars {
			fmt.Fprintf(&b, "slow canary request %s %s: %s trace_id=%s\n", res.Scope, res.Metric, fmtSeconds(e.Value), e.TraceID)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func fmtP(r Result) string {
	if r.Status == StatusNoData {
		return "-"
	}
	return fmt.Sprintf("%.3g", r.AdjustedP)
}

func (r *Report) writeMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s\n\n", r.header())
	fmt.Fprintf(&b, "Window %s .. %s; baseline `%s` (%d targets), canary `%s` (%d targets).\n\n",
		r.Start.UTC().Format("2006-01-02T15:04:05Z"), r.End.UTC().Format("2006-01-02T15:04:05Z"),
		r.Baseline.Selector, len(r.Baseline.Instances), r.Canary.Selector, len(r.Canary.Instances))
	for _, reason := range r.Reasons {
		fmt.Fprintf(&b, "- %s\n", mdEscape(reason))
	}
	if len(r.Reasons) > 0 {
		fmt.Fprintln(&b)
	}
	if len(r.Results) > 0 {
		fmt.Fprintln(&b, "| status | scope | metric | adjusted p | effect |")
		fmt.Fprintln(&b, "|---|---|---|---|---|")
		for _, res := range r.Results {
			st := string(res.Status)
			if res.Critical {
				st += " (critical)"
			}
			eff := res.Effect
			if res.Note != "" {
				eff = strings.TrimSpace(eff + " — " + res.Note)
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", st, mdEscape(res.Scope), res.Metric, fmtP(res), mdEscape(eff))
		}
	}
	for _, res := range r.Failing() {
		for _, e := range res.Exemplars {
			fmt.Fprintf(&b, "\n- slow canary request on %s: %s, trace `%s`", mdEscape(res.Scope), fmtSeconds(e.Value), e.TraceID)
		}
	}
	fmt.Fprintln(&b)
	_, err := io.WriteString(w, b.String())
	return err
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
