package perfgate

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchmath"
	"golang.org/x/perf/benchseries"
)

// ChangeKind says how a change arrived.
type ChangeKind string

// Kinds of change.
const (
	// Step: one commit moved the benchmark past the reporting level on its own.
	Step ChangeKind = "step"
	// Drift: several commits, none past the level alone, moved it past the level together.
	Drift ChangeKind = "drift"
)

// Change is a change point of one series: the benchmark's level before and after.
type Change struct {
	Machine   string     `json:"machine"`
	Benchmark string     `json:"benchmark"`
	Unit      string     `json:"unit"`
	Kind      ChangeKind `json:"kind"`
	// First is the first commit of the change; Last the commit where it is complete (First
	// for a step). Both index History.Commits.
	First int `json:"first"`
	Last  int `json:"last"`
	// Before and After are the medians of the segment's baseline commit and of Last.
	Before float64 `json:"before"`
	After  float64 `json:"after"`
	// Delta is After/Before - 1; Lo and Hi its 95% bootstrap confidence interval (x/perf's
	// benchseries); equal to Delta for exact units.
	Delta Fraction `json:"delta"`
	Lo    Fraction `json:"lo"`
	Hi    Fraction `json:"hi"`
	// P is the Mann-Whitney U p-value of Last against the baseline commit (0 for exact units).
	P          float64 `json:"p"`
	Regression bool    `json:"regression"`
	// Verdict is FAIL for a critical regression past the threshold, WARN for a smaller or
	// advisory one, ACCEPTED when the config accepts it, PASS for an improvement.
	Verdict Verdict `json:"verdict"`
	Note    string  `json:"note,omitempty"`
}

// HistoryReport is the result of AnalyzeHistory.
type HistoryReport struct {
	Alpha   float64   `json:"alpha"`
	Commits []Commit  `json:"commits"`
	Series  []*Series `json:"series"`
	Changes []Change  `json:"changes"`
	// Gated is the index of the first commit whose changes gate: changes completed at or
	// after it decide Failed; older ones are history.
	Gated int `json:"gated"`
	// Inconclusive lists the series whose newest commit has too few samples to decide.
	Inconclusive []string `json:"inconclusive,omitempty"`
	Notes        []string `json:"notes,omitempty"`
	// AcceptInconclusive is copied from the config.
	AcceptInconclusive bool `json:"accept_inconclusive,omitempty"`
}

// HistoryOptions tunes AnalyzeHistory.
type HistoryOptions struct {
	// Since is the commit (hash or unique prefix) from which changes gate; empty means the
	// newest commit only: the gate asks whether the newest commit made things worse.
	Since string
	// Bootstrap is the number of bootstrap resamples; zero means 1000.
	Bootstrap int
}

// AnalyzeHistory finds the change points of every series of h. Walking each series in commit
// order, it compares every commit with the baseline commit of the current segment (the first
// commit, then the last change): a change is a difference that is significant (U test p below
// alpha, and the bootstrap confidence interval of the ratio excludes 1) and larger than the
// benchmark's warn level (config rules, else half the threshold). A step is a change that
// the commit makes on its own, against its predecessor; otherwise the change is a drift that
// began after the last commit still indistinguishable from the baseline, and it extends while
// the following commits keep moving the same way past its confidence interval. Exact units
// (allocs/op, B/op) change when their medians differ.
//
// A commit with fewer samples than the U test needs is left out of the comparisons (noted);
// when it is the newest commit of a series, that series is inconclusive.
func AnalyzeHistory(h *History, cfg Config, opts HistoryOptions) (*HistoryReport, error) {
	cfg.Rules, cfg.Accepted = slices.Clone(cfg.Rules), slices.Clone(cfg.Accepted)
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	alpha := cfg.Alpha
	if alpha == 0 {
		alpha = DefaultAlpha
	}
	if opts.Bootstrap <= 0 {
		opts.Bootstrap = 1000
	}
	rep := &HistoryReport{Alpha: alpha, Commits: h.Commits, Series: h.Series, Notes: slices.Clone(h.Notes),
		Gated: len(h.Commits) - 1, AcceptInconclusive: cfg.AcceptInconclusive}
	if opts.Since != "" {
		idx := -1
		for i, c := range h.Commits {
			if strings.HasPrefix(c.Hash, opts.Since) {
				if idx >= 0 {
					return nil, fmt.Errorf("--since %s: ambiguous: commits %.12s and %.12s", opts.Since, h.Commits[idx].Hash, c.Hash)
				}
				idx = i
			}
		}
		if idx < 0 {
			return nil, fmt.Errorf("--since %s: no such commit in the history", opts.Since)
		}
		rep.Gated = idx
	}
	need := SamplesNeeded(alpha)
	a := analyzer{cfg: &cfg, alpha: alpha, need: need, boot: opts.Bootstrap}
	for _, s := range h.Series {
		var usable []Point
		var thin []string
		for _, p := range s.Points {
			if len(p.Values) < need && !cfg.isExact(s.Unit) {
				thin = append(thin, fmt.Sprintf("%.12s (%d)", h.Commits[p.Commit].Hash, len(p.Values)))
				continue
			}
			usable = append(usable, p)
		}
		if len(thin) > 0 {
			rep.Notes = append(rep.Notes, fmt.Sprintf("%s %s on %s: commits with fewer than %d samples left out: %s",
				s.Benchmark, s.Unit, s.Machine, need, strings.Join(thin, ", ")))
		}
		last := s.Points[len(s.Points)-1]
		if last.Commit == len(h.Commits)-1 && len(last.Values) < need && !cfg.isExact(s.Unit) {
			rep.Inconclusive = append(rep.Inconclusive, fmt.Sprintf("%s %s on %s: the newest commit %.12s has %d samples, need at least %d (run with -count %d or more)",
				s.Benchmark, s.Unit, s.Machine, h.Commits[last.Commit].Hash, len(last.Values), need, need))
		}
		for _, c := range a.series(s, usable) {
			c.Machine, c.Benchmark, c.Unit = s.Machine, s.Benchmark, s.Unit
			rep.Changes = append(rep.Changes, c)
		}
	}
	return rep, nil
}

type analyzer struct {
	cfg   *Config
	alpha float64
	need  int
	boot  int
}

// cmp is one comparison of a candidate commit with a baseline commit.
type cmp struct {
	delta, lo, hi, p float64
	significant      bool
}

func (a *analyzer) compare(unit string, base, cand []float64) cmp {
	ob, nb := median(base), median(cand)
	d := relDelta(ob, nb)
	if a.cfg.isExact(unit) {
		return cmp{delta: d, lo: d, hi: d, significant: ob != nb}
	}
	th := benchmath.Thresholds{CompareAlpha: a.alpha}
	c := benchmath.AssumeNothing.Compare(benchmath.NewSample(base, &th), benchmath.NewSample(cand, &th))
	center, lo, hi := bootstrapRatio(base, cand, a.boot)
	r := cmp{delta: d, lo: lo - 1, hi: hi - 1, p: c.P}
	_ = center
	r.significant = c.P < a.alpha && (lo > 1 || hi < 1)
	return r
}

// beyond reports whether the comparison is a change past the level, in either direction.
func beyond(c cmp, level float64) bool {
	return c.significant && math.Abs(c.delta) > level
}

func (a *analyzer) series(s *Series, pts []Point) []Change {
	if len(pts) < 2 {
		return nil
	}
	name := baseName(s.Benchmark)
	threshold, warn, crit := a.cfg.levels(name, s.Unit)
	level := warn
	if a.cfg.isExact(s.Unit) {
		level = 0
	}
	var out []Change
	seg := 0
	for j := 1; j < len(pts); j++ {
		c := a.compare(s.Unit, pts[seg].Values, pts[j].Values)
		if !beyond(c, level) {
			continue
		}
		ch := Change{Kind: Step, First: pts[j].Commit, Last: pts[j].Commit}
		if j-1 > seg {
			if cons := a.compare(s.Unit, pts[j-1].Values, pts[j].Values); !beyond(cons, level) || math.Signbit(cons.delta) != math.Signbit(c.delta) {
				ch.Kind = Drift
				// The drift began after the last commit still like the baseline.
				start := seg + 1
				for i := j - 1; i > seg; i-- {
					ci := a.compare(s.Unit, pts[seg].Values, pts[i].Values)
					if !ci.significant || math.Signbit(ci.delta) != math.Signbit(c.delta) {
						start = i + 1
						break
					}
				}
				ch.First = pts[start].Commit
				// It goes on while each next commit moves further the same way, significantly.
				for j+1 < len(pts) {
					step := a.compare(s.Unit, pts[j].Values, pts[j+1].Values)
					if !step.significant || math.Signbit(step.delta) != math.Signbit(c.delta) {
						break
					}
					j++
					c = a.compare(s.Unit, pts[seg].Values, pts[j].Values)
				}
				ch.Last = pts[j].Commit
			}
		}
		ch.Before, ch.After = median(pts[seg].Values), median(pts[j].Values)
		ch.Delta, ch.Lo, ch.Hi, ch.P = Fraction(c.delta), Fraction(c.lo), Fraction(c.hi), c.p
		worse := c.delta
		if a.cfg.higherIsBetter(s.Unit) {
			worse = -worse
		}
		ch.Regression = worse > 0
		var notes []string
		switch {
		case !ch.Regression:
			ch.Verdict = Pass
			notes = append(notes, "improvement")
		case a.cfg.isExact(s.Unit):
			ch.Verdict = Fail
			notes = append(notes, fmt.Sprintf("%s gated exactly: %s -> %s", s.Unit, fmtNum(ch.Before), fmtNum(ch.After)))
		case worse > threshold:
			ch.Verdict = Fail
			notes = append(notes, fmt.Sprintf("%s worse than the %s threshold", pct(worse), pct(threshold)))
		default:
			ch.Verdict = Warn
			notes = append(notes, fmt.Sprintf("%s worse: past the %s warn level, under the %s threshold", pct(worse), pct(warn), pct(threshold)))
		}
		if ch.Verdict == Fail && crit == Advisory {
			ch.Verdict = Warn
			notes = append(notes, "advisory benchmark: does not fail the gate")
		}
		if ch.Verdict == Fail {
			if acc, ok := a.cfg.accepted(name, s.Unit); ok {
				ch.Verdict = Accept
				notes = append(notes, "accepted: "+acc.Reason)
			}
		}
		ch.Note = strings.Join(notes, "; ")
		out = append(out, ch)
		seg = j
	}
	return out
}

// Failed reports whether a change completed at or after the gated commit fails.
func (r *HistoryReport) Failed() bool {
	for _, c := range r.Changes {
		if c.Verdict == Fail && c.Last >= r.Gated {
			return true
		}
	}
	return false
}

// IsInconclusive reports whether the newest commit of some series cannot be decided and the
// config does not accept that.
func (r *HistoryReport) IsInconclusive() bool {
	return len(r.Inconclusive) > 0 && !r.AcceptInconclusive
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// bootstrapRatio returns the median ratio cand/base and its 95% confidence interval, from
// benchseries' bootstrap of the ratio of medians. benchseries compares a baseline and an
// experiment over a series of commits; one comparison is one series point here.
func bootstrapRatio(base, cand []float64, n int) (center, lo, hi float64) {
	opts := benchseries.DefaultBuilderOptions()
	opts.Warn = func(string, ...any) {}
	b, err := benchseries.NewBuilder(opts)
	if err != nil {
		return math.NaN(), math.Inf(-1), math.Inf(1)
	}
	stamp := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339)
	add := func(role, commit string, vals []float64) {
		for _, v := range vals {
			r := &benchfmt.Result{Name: benchfmt.Name("X"), Iters: 1,
				Values: []benchfmt.Value{{Value: v, Unit: "u"}}}
			r.SetConfig("toolchain", role)
			r.SetConfig("runstamp", stamp)
			r.SetConfig("experiment-commit-time", stamp)
			r.SetConfig("experiment-commit", "cand")
			r.SetConfig("baseline-commit", "base")
			b.Add(r)
		}
	}
	add("baseline", "base", base)
	add("experiment", "cand", cand)
	css, err := b.AllComparisonSeries(nil, benchseries.DUPE_REPLACE)
	if err != nil || len(css) != 1 {
		return math.NaN(), math.Inf(-1), math.Inf(1)
	}
	css[0].AddSummaries(0.95, n)
	if len(css[0].Summaries) != 1 || len(css[0].Summaries[0]) != 1 || !css[0].Summaries[0][0].Defined() {
		return math.NaN(), math.Inf(-1), math.Inf(1)
	}
	sum := css[0].Summaries[0][0]
	return sum.Center, sum.Low, sum.High
}
