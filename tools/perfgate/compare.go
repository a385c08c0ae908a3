package perfgate

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchmath"
)

// Verdict is the outcome for one benchmark and unit.
type Verdict string

// Verdicts, from best to worst.
const (
	Pass    Verdict = "PASS"     // no regression beyond the warn level, or not significant
	Missing Verdict = "MISSING"  // present on one side only (allowed by WithAllowMissing)
	Accept  Verdict = "ACCEPTED" // a regression listed in Config.Accepted
	Warn    Verdict = "WARN"     // borderline, or an advisory regression
	// Inconclusive: the statistics cannot decide (too few samples). It fails the gate with
	// its own exit status unless Config.AcceptInconclusive accepts it.
	Inconclusive Verdict = "INCONCLUSIVE"
	Fail         Verdict = "FAIL" // a significant regression over the threshold
)

// Summary is one side of a comparison: a center (the median, or the exact value for exact
// units) with its confidence interval and the number of samples.
type Summary struct {
	Center float64 `json:"center"`
	Lo     float64 `json:"lo"`
	Hi     float64 `json:"hi"`
	N      int     `json:"n"`
}

// Row is the comparison of one benchmark in one unit.
type Row struct {
	Benchmark string  `json:"benchmark"`
	Unit      string  `json:"unit"`
	Old       Summary `json:"old"`
	New       Summary `json:"new"`
	// Delta is the relative change of the centers, new/old - 1 (+0.30 for 30% larger);
	// +Inf when old is zero and new is not.
	Delta Fraction `json:"delta"`
	// P is the p-value of the Mann-Whitney U test; 0 for exact units.
	P float64 `json:"p"`
	// Exact is true when the unit was compared exactly.
	Exact bool `json:"exact"`
	// Significant is true when P < Alpha (always for exact units that differ).
	Significant bool `json:"significant"`
	// Threshold and WarnAt are the regression levels applied to this row.
	Threshold   float64     `json:"threshold"`
	WarnAt      float64     `json:"warn"`
	Criticality Criticality `json:"criticality"`
	Verdict     Verdict     `json:"verdict"`
	// Note explains a verdict other than PASS, or warnings from the statistics.
	Note string `json:"note,omitempty"`

	cmp benchmath.Comparison
}

// Fraction is a ratio that encodes as null in JSON when it is not finite.
type Fraction float64

// MarshalJSON implements json.Marshaler.
func (f Fraction) MarshalJSON() ([]byte, error) {
	if math.IsInf(float64(f), 0) || math.IsNaN(float64(f)) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(f))
}

// Report is the result of a comparison.
type Report struct {
	Base  string  `json:"base"`
	New   string  `json:"new"`
	Alpha float64 `json:"alpha"`
	Rows  []Row   `json:"rows"`
	// Notes are remarks about the whole comparison (missing benchmarks, a missing base).
	Notes []string `json:"notes,omitempty"`
}

// Failed reports whether any row failed.
func (r *Report) Failed() bool {
	for _, row := range r.Rows {
		if row.Verdict == Fail {
			return true
		}
	}
	return false
}

// Inconclusive reports whether any row is inconclusive: the gate cannot say the change is
// safe, so it must not pass silently.
func (r *Report) Inconclusive() bool { return r.Count(Inconclusive) > 0 }

// Count returns how many rows have the verdict v.
func (r *Report) Count(v Verdict) int {
	n := 0
	for _, row := range r.Rows {
		if row.Verdict == v {
			n++
		}
	}
	return n
}

// CompareOption tunes Compare.
type CompareOption interface{ apply(*compareOpts) }

type compareOpts struct {
	allowMissing bool
	baseName     string
	newName      string
}

type optionFunc func(*compareOpts)

func (f optionFunc) apply(o *compareOpts) { f(o) }

// WithAllowMissing reports a benchmark or unit present on one side only as MISSING (and
// passes) instead of returning an error. A new benchmark has no base to compare with.
func WithAllowMissing() CompareOption {
	return optionFunc(func(o *compareOpts) { o.allowMissing = true })
}

// WithNames names the two sides in the report (file names, revisions).
func WithNames(base, new string) CompareOption {
	return optionFunc(func(o *compareOpts) { o.baseName, o.newName = base, new })
}

// ErrMismatch is wrapped by the error Compare returns when the two sides do not hold the same
// benchmarks and units.
var ErrMismatch = errors.New("benchmark sets differ")

// Compare compares every benchmark and unit of base with new under cfg. Without
// WithAllowMissing, a benchmark or unit present on one side only is an error naming the file
// and line where it appears.
func Compare(base, new *Results, cfg Config, opts ...CompareOption) (*Report, error) {
	var o compareOpts
	for _, opt := range opts {
		opt.apply(&o)
	}
	// Validate compiles patterns into the rules: work on copies, so that one Config can serve
	// concurrent comparisons.
	cfg.Rules, cfg.Accepted = slices.Clone(cfg.Rules), slices.Clone(cfg.Accepted)
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	alpha := cfg.Alpha
	if alpha == 0 {
		alpha = DefaultAlpha
	}
	rep := &Report{Base: o.baseName, New: o.newName, Alpha: alpha}
	if err := checkSets(base, new, o.allowMissing, rep); err != nil {
		return nil, err
	}
	th := benchmath.Thresholds{CompareAlpha: alpha}
	for _, name := range new.names {
		if base.benches[name] == nil {
			for _, unit := range new.benches[name].units {
				rep.Rows = append(rep.Rows, missingRow(name, unit, "new benchmark: no base result"))
			}
			continue
		}
		for _, unit := range new.benches[name].units {
			ov, nv := base.benches[name].vals[unit], new.benches[name].vals[unit]
			if len(ov) == 0 {
				rep.Rows = append(rep.Rows, missingRow(name, unit, "unit absent from the base"))
				continue
			}
			rep.Rows = append(rep.Rows, compareOne(name, unit, ov, nv, &cfg, &th))
		}
		for _, unit := range base.benches[name].units {
			if len(new.benches[name].vals[unit]) == 0 {
				rep.Rows = append(rep.Rows, missingRow(name, unit, "unit absent from the new results"))
			}
		}
	}
	for _, name := range base.names {
		if new.benches[name] == nil {
			for _, unit := range base.benches[name].units {
				rep.Rows = append(rep.Rows, missingRow(name, unit, "benchmark gone: no new result"))
			}
		}
	}
	return rep, nil
}

// checkSets returns an error naming file and line for the first benchmark or unit present on
// one side only, unless allowMissing.
func checkSets(base, new *Results, allowMissing bool, rep *Report) error {
	var errs []error
	only := func(a, b *Results, aSide, bSide string) {
		for _, name := range a.names {
			ab := a.benches[name]
			bb := b.benches[name]
			if bb == nil {
				errs = append(errs, fmt.Errorf("%s:%d: %s is in the %s results but not in the %s results", ab.file, ab.line, name, aSide, bSide))
				continue
			}
			for _, unit := range ab.units {
				if len(bb.vals[unit]) == 0 {
					errs = append(errs, fmt.Errorf("%s:%d: %s reports %s in the %s results but not in the %s results", ab.file, ab.line, name, unit, aSide, bSide))
				}
			}
		}
	}
	only(base, new, "base", "new")
	only(new, base, "new", "base")
	if len(errs) == 0 {
		return nil
	}
	if allowMissing {
		for _, err := range errs {
			rep.Notes = append(rep.Notes, err.Error())
		}
		return nil
	}
	if len(errs) > maxSyntaxErrors {
		errs = append(errs[:maxSyntaxErrors], fmt.Errorf("and %d more", len(errs)-maxSyntaxErrors))
	}
	return fmt.Errorf("%w (rerun with the same -bench pattern, or allow missing benchmarks):\n%w", ErrMismatch, errors.Join(errs...))
}

func missingRow(name, unit, note string) Row {
	return Row{Benchmark: name, Unit: unit, Delta: Fraction(math.NaN()), Verdict: Missing, Note: note}
}

// compareOne applies the statistics and the thresholds to one benchmark and unit.
func compareOne(name, unit string, ov, nv []float64, cfg *Config, th *benchmath.Thresholds) Row {
	base := baseName(name)
	threshold, warn, crit := cfg.levels(base, unit)
	row := Row{Benchmark: name, Unit: unit, Threshold: threshold, WarnAt: warn, Criticality: crit}
	os, ns := benchmath.NewSample(ov, th), benchmath.NewSample(nv, th)
	var notes []string
	if cfg.isExact(unit) {
		row.Exact = true
		osum, nsum := benchmath.AssumeExact.Summary(os, 1), benchmath.AssumeExact.Summary(ns, 1)
		row.Old, row.New = summary(osum, len(ov)), summary(nsum, len(nv))
		row.cmp = benchmath.AssumeExact.Compare(os, ns)
		row.Significant = osum.Center != nsum.Center
		notes = appendWarnings(notes, osum.Warnings, "base")
		notes = appendWarnings(notes, nsum.Warnings, "new")
	} else {
		osum := benchmath.AssumeNothing.Summary(os, 0.95)
		nsum := benchmath.AssumeNothing.Summary(ns, 0.95)
		row.Old, row.New = summary(osum, len(ov)), summary(nsum, len(nv))
		row.cmp = benchmath.AssumeNothing.Compare(os, ns)
		row.P = row.cmp.P
		row.Significant = row.cmp.P < th.CompareAlpha
	}
	row.Delta = Fraction(relDelta(row.Old.Center, row.New.Center))
	worse := float64(row.Delta)
	if cfg.higherIsBetter(unit) {
		worse = -worse
	}

	switch {
	case row.Exact && worse > 0:
		row.Verdict = Fail
		notes = append([]string{fmt.Sprintf("%s gated exactly: %s -> %s", unit, fmtNum(row.Old.Center), fmtNum(row.New.Center))}, notes...)
	case row.Exact:
		row.Verdict = Pass
	case !row.Significant:
		row.Verdict = Pass
		if need := SamplesNeeded(th.CompareAlpha); len(ov) < need || len(nv) < need {
			// Not significant only because the test cannot reach alpha with so few samples:
			// a 2x slowdown would look the same, so this is no pass.
			row.Verdict = Inconclusive
			notes = append(notes, fmt.Sprintf("too few samples: have %d base and %d new, need at least %d of each to detect a difference at alpha %g (run with -count %d or more)",
				len(ov), len(nv), need, th.CompareAlpha, need))
			if cfg.AcceptInconclusive {
				row.Verdict = Warn
				notes = append(notes, "inconclusive accepted by the configuration")
			}
		}
	case worse > threshold:
		row.Verdict = Fail
		notes = append(notes, fmt.Sprintf("%s worse than the %s threshold", pct(worse), pct(threshold)))
	case worse > warn:
		row.Verdict = Warn
		notes = append(notes, fmt.Sprintf("%s worse: past the %s warn level, under the %s threshold", pct(worse), pct(warn), pct(threshold)))
	default:
		row.Verdict = Pass
	}
	if row.Verdict == Fail && crit == Advisory {
		row.Verdict = Warn
		notes = append(notes, "advisory benchmark: does not fail the gate")
	}
	if row.Verdict == Fail {
		if acc, ok := cfg.accepted(base, unit); ok {
			row.Verdict = Accept
			notes = append(notes, "accepted: "+acc.Reason)
		}
	}
	row.Note = strings.Join(notes, "; ")
	return row
}

func appendWarnings(notes []string, warns []error, side string) []string {
	for _, w := range warns {
		notes = append(notes, side+": "+w.Error())
	}
	return notes
}

func summary(s benchmath.Summary, n int) Summary {
	return Summary{Center: s.Center, Lo: s.Lo, Hi: s.Hi, N: n}
}

func relDelta(old, new float64) float64 {
	switch {
	case old == new:
		return 0
	case old == 0:
		return math.Inf(1)
	}
	return new/old - 1
}

// levels returns the threshold, warn level and criticality for a benchmark base name in a unit.
func (c *Config) levels(name, unit string) (threshold, warn float64, crit Criticality) {
	threshold, warn, crit = c.Threshold, c.Warn, Critical
	if threshold == 0 {
		threshold = DefaultThreshold
	}
	for _, r := range c.Rules {
		if r.re.MatchString(name) && (r.Unit == "" || r.Unit == unit) {
			if r.Threshold != 0 {
				threshold = r.Threshold
				warn = r.Warn
			}
			if r.Warn != 0 {
				warn = r.Warn
			}
			if r.Criticality != "" {
				crit = r.Criticality
			}
			break
		}
	}
	if warn == 0 || warn > threshold {
		warn = threshold / 2
	}
	return threshold, warn, crit
}

func (c *Config) isExact(unit string) bool {
	if c.ExactUnits == nil {
		return unit == "allocs/op" || unit == "B/op"
	}
	return slices.Contains(c.ExactUnits, unit)
}

func (c *Config) higherIsBetter(unit string) bool {
	return strings.HasSuffix(unit, "/s") || slices.Contains(c.HigherIsBetter, unit)
}

func (c *Config) accepted(name, unit string) (Accepted, bool) {
	for _, a := range c.Accepted {
		if a.re.MatchString(name) && (a.Unit == "" || a.Unit == unit) {
			return a, true
		}
	}
	return Accepted{}, false
}

// baseName strips the -GOMAXPROCS suffix from a full benchmark name.
func baseName(full string) string {
	base, parts := benchfmt.Name(strings.TrimPrefix(full, "Benchmark")).Parts()
	var b strings.Builder
	if strings.HasPrefix(full, "Benchmark") {
		b.WriteString("Benchmark")
	}
	b.Write(base)
	for _, p := range parts {
		if len(p) > 0 && p[0] == '-' {
			continue
		}
		b.Write(p)
	}
	return b.String()
}

// SamplesNeeded returns how many samples each side needs before the Mann-Whitney U test can
// report a difference at level alpha, found by asking benchmath about two fully separated
// samples of growing size. It returns 0 when even 50 samples are not enough.
func SamplesNeeded(alpha float64) int {
	th := benchmath.Thresholds{CompareAlpha: alpha}
	for n := 2; n <= 50; n++ {
		a, b := make([]float64, n), make([]float64, n)
		for i := range a {
			a[i], b[i] = float64(i), float64(n+i)
		}
		c := benchmath.AssumeNothing.Compare(benchmath.NewSample(a, &th), benchmath.NewSample(b, &th))
		if c.P < alpha {
			return n
		}
	}
	return 0
}

func pct(f float64) string {
	if math.IsInf(f, 1) {
		return "+Inf%"
	}
	return fmt.Sprintf("%.1f%%", f*100)
}
