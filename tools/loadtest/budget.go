package loadtest

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Budget is a set of limits a load test must meet, parsed from text such as
// "p99<200ms,p99.9<1s,errors<1%,throughput>=90".
type Budget []Limit

// Limit is one clause of a Budget.
type Limit struct {
	// Metric is "p50", "p99.9" (any latency quantile), "max", "mean", "errors", "success" or
	// "throughput".
	Metric string
	// Op is "<", "<=", ">" or ">=".
	Op string
	// Latency is the bound of a latency metric.
	Latency time.Duration
	// Value is the bound of the other metrics: a fraction for errors and success (0.01 for
	// 1%), requests per second for throughput.
	Value float64

	// Window, when set, applies the limit to every window of that length sliding over the
	// run ("p99<200ms over 30s"), not to the run as a whole.
	Window time.Duration
	// Default marks a limit added by WithDefaults rather than written.
	Default bool

	quantile float64 // for pNN metrics, in (0, 1)
	text     string
	auto     bool // a default trend limit: broken by any significant growth
}

// String returns the clause as written, normalized (no spaces).
func (l Limit) String() string { return l.text }

// String returns the budget in the syntax ParseBudget reads.
func (b Budget) String() string {
	parts := make([]string, len(b))
	for i, l := range b {
		parts[i] = l.text
	}
	return strings.Join(parts, ",")
}

// ParseBudget parses a comma-separated list of limits. Latency limits take a Go duration
// ("p99<200ms", "max<=2s"); errors and success take a percentage ("errors<1%",
// "success>=99.9%"); throughput takes requests per second ("throughput>=500"). Latency and
// errors are upper bounds (< or <=), success and throughput lower bounds (> or >=).
//
// A limit followed by "over DURATION" holds in every window of that length sliding over the
// run ("p99<200ms over 30s"). Growth limits bound the trends of a soak (they need the
// service's /metrics): goroutines, heap (live heap), fds (open file descriptors), rss
// (resident memory) and p99-drift take a rate per hour, minute or second ("goroutines<100/h",
// "heap<50MB/h", "p99-drift<10ms/h"). recovery bounds the time a spike takes to recover
// ("recovery<5s").
func ParseBudget(s string) (Budget, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("budget: empty (want limits such as p99<200ms,errors<1%)")
	}
	var b Budget
	for i, clause := range strings.Split(s, ",") {
		l, err := parseLimit(strings.TrimSpace(clause))
		if err != nil {
			return nil, fmt.Errorf("budget %q: clause %d %q: %w", s, i+1, strings.TrimSpace(clause), err)
		}
		b = append(b, l)
	}
	return b, nil
}

func parseLimit(c string) (Limit, error) {
	if c == "" {
		return Limit{}, errors.New("empty clause")
	}
	i := strings.IndexAny(c, "<>")
	if i < 0 {
		return Limit{}, errors.New("no comparison: want a metric, < <= > or >=, and a bound, as in p99<200ms")
	}
	name := strings.TrimSpace(c[:i])
	op := c[i : i+1]
	rest := c[i+1:]
	if strings.HasPrefix(rest, "=") {
		op += "="
		rest = rest[1:]
	}
	val := strings.TrimSpace(rest)
	var window time.Duration
	if v, w, ok := strings.Cut(val, " over "); ok {
		d, err := time.ParseDuration(strings.TrimSpace(w))
		if err != nil || d <= 0 || d > 31*24*time.Hour {
			return Limit{}, fmt.Errorf("window %q: want a positive duration such as 30s", strings.TrimSpace(w))
		}
		val, window = strings.TrimSpace(v), d
	}
	if val == "" {
		return Limit{}, fmt.Errorf("%s%s: missing bound", name, op)
	}
	l := Limit{Metric: name, Op: op, text: name + op + val, Window: window}
	if window > 0 {
		l.text += " over " + window.String()
	}
	upper := op[0] == '<'
	if window > 0 && (isTrend(name) || name == "recovery") {
		return Limit{}, fmt.Errorf("%s: a growth or recovery limit has no window", name)
	}
	switch {
	case isTrend(name):
		if !upper {
			return Limit{}, fmt.Errorf("%s is an upper bound: use < or <=", name)
		}
		v, err := parseGrowth(name, val)
		if err != nil {
			return Limit{}, err
		}
		l.Value = v
	case name == "recovery":
		if !upper {
			return Limit{}, errors.New("recovery is an upper bound: use < or <=")
		}
		d, err := time.ParseDuration(val)
		if err != nil || d <= 0 {
			return Limit{}, fmt.Errorf("recovery bound %q: want a positive duration such as 5s", val)
		}
		l.Latency = d
	case name == "errors" || name == "success":
		if name == "errors" && !upper {
			return Limit{}, errors.New("errors is an upper bound: use < or <=")
		}
		if name == "success" && upper {
			return Limit{}, errors.New("success is a lower bound: use > or >=")
		}
		num, ok := strings.CutSuffix(val, "%")
		if !ok {
			return Limit{}, fmt.Errorf("%s bound %q: write a percentage such as 1%%", name, val)
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err != nil || v < 0 || v > 100 || v != v {
			return Limit{}, fmt.Errorf("%s bound %q: not a percentage between 0%% and 100%%", name, val)
		}
		l.Value = v / 100
	case name == "throughput" || name == "rps":
		if upper {
			return Limit{}, errors.New("throughput is a lower bound: use > or >=")
		}
		num := strings.TrimSuffix(strings.TrimSuffix(val, "/s"), "rps")
		v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err != nil || v <= 0 || v != v || v > 1e9 {
			return Limit{}, fmt.Errorf("throughput bound %q: want requests per second, such as 500", val)
		}
		l.Metric, l.Value = "throughput", v
	case name == "max" || name == "mean" || isQuantile(name):
		if !upper {
			return Limit{}, fmt.Errorf("%s is an upper bound: use < or <=", name)
		}
		if isQuantile(name) {
			q, err := strconv.ParseFloat(name[1:], 64)
			if err != nil || q <= 0 || q >= 100 {
				return Limit{}, fmt.Errorf("quantile %q: want p50, p99, p99.9 (between p0 and p100)", name)
			}
			l.quantile = math.Round(q*1e7) / 1e9 // 99.9 -> 0.999 exactly
		}
		d, err := time.ParseDuration(val)
		if err != nil || d <= 0 {
			return Limit{}, fmt.Errorf("%s bound %q: want a positive duration such as 200ms", name, val)
		}
		l.Latency = d
	default:
		return Limit{}, fmt.Errorf("unknown metric %q: want p50, p90, p99, p99.9 (any pNN), max, mean, errors, success, throughput, recovery, goroutines, heap, fds, rss or p99-drift", name)
	}
	return l, nil
}

func isQuantile(name string) bool {
	return len(name) > 1 && name[0] == 'p' && (name[1] >= '0' && name[1] <= '9')
}

// Violation is a limit a report broke.
type Violation struct {
	Limit Limit  `json:"-"`
	Rule  string `json:"limit"`
	Got   string `json:"got"`
}

func (v Violation) String() string {
	s := fmt.Sprintf("%s broken: %s", v.Rule, v.Got)
	if v.Limit.Default && v.Limit.Metric == "errors" {
		s += " (the default error budget, applied when the budget bounds neither errors nor success)"
	}
	return s
}

// Check returns the limits r broke, in budget order; none means the budget was not broken
// (Evaluate also tells the limits that could not be decided). A report without requests
// breaks every limit, and one without an answered request breaks every latency limit.
func (b Budget) Check(r *Report) []Violation {
	v, _ := b.Evaluate(r)
	return v
}

// Evaluate returns the limits r broke and, apart, the limits it could not decide: a window
// longer than the run, a trend from too few samples or with an interval straddling its
// bound, a growth limit without /metrics.
func (b Budget) Evaluate(r *Report) (broken []Violation, inconclusive []string) {
	for _, l := range b {
		st, got := l.evaluate(r)
		switch st {
		case verdictBroken:
			broken = append(broken, Violation{Limit: l, Rule: l.text, Got: got})
		case verdictUndecided:
			inconclusive = append(inconclusive, l.text+": "+got)
		}
	}
	return broken, inconclusive
}

type verdict int

const (
	verdictMet verdict = iota
	verdictBroken
	verdictUndecided
)

func (l Limit) evaluate(r *Report) (verdict, string) {
	switch {
	case isTrend(l.Metric):
		return l.evalTrend(r)
	case l.Metric == "recovery":
		return l.evalRecovery(r)
	case l.Window > 0:
		return l.evalWindows(r)
	}
	if r.Requests == 0 {
		return verdictBroken, "no request completed"
	}
	ok, got := l.compare(r)
	if ok {
		return verdictMet, got
	}
	return verdictBroken, got
}

// compare checks the limit against a whole report (or a window's).
func (l Limit) compare(r *Report) (ok bool, got string) {
	var v, bound float64
	switch l.Metric {
	case "errors":
		v, bound, got = r.ErrorRate, l.Value, fmtPct(r.ErrorRate)
	case "success":
		v, bound, got = 1-r.ErrorRate, l.Value, fmtPct(1-r.ErrorRate)
	case "throughput":
		v, bound, got = r.Throughput, l.Value, fmt.Sprintf("%.1f req/s", r.Throughput)
	default:
		d, answered := r.latency(l)
		if !answered {
			return false, fmt.Sprintf("no request answered (%d sent, all failed)", r.Requests)
		}
		v, bound, got = float64(d), float64(l.Latency), l.Metric+" "+fmtDur(d)
	}
	return cmp(l.Op, v, bound), got
}

func cmp(op string, v, bound float64) bool {
	switch op {
	case "<":
		return v < bound
	case "<=":
		return v <= bound
	case ">":
		return v > bound
	case ">=":
		return v >= bound
	}
	return false
}

// DefaultErrorBudget is added by WithDefaults when a budget bounds neither errors nor
// success: a run whose requests fail must not pass on fast failures.
const DefaultErrorBudget = "errors<1%"

// WithDefaults returns b with the limits a run needs even when unwritten: DefaultErrorBudget
// when b bounds neither errors nor success, and, when trends is true (a soak with /metrics),
// "no significant growth" of goroutines and live heap unless b bounds them: broken when the
// 95% interval of the slope is above zero and its lower end adds up, over the run, to at
// least 2 goroutines, or 1 MiB and 5% of the median heap.
func (b Budget) WithDefaults(trends bool) Budget {
	has := map[string]bool{}
	for _, l := range b {
		if l.Window == 0 {
			has[l.Metric] = true
		}
	}
	out := slices.Clone(b)
	if !has["errors"] && !has["success"] {
		l, _ := parseLimit(DefaultErrorBudget)
		l.Default = true
		out = append(out, l)
	}
	if trends {
		for _, m := range []string{"goroutines", "heap"} {
			if !has[m] {
				out = append(out, Limit{Metric: m, Op: "<=", Default: true, auto: true, text: m + " growth not significant"})
			}
		}
	}
	return out
}

// trendMetrics are the series a soak fits, by budget name.
var trendMetrics = []string{"goroutines", "heap", "fds", "rss", "p99-drift"}

func isTrend(name string) bool { return slices.Contains(trendMetrics, name) }

// parseGrowth reads a growth rate such as 100/h, 50MB/h or 10ms/h and returns it per hour
// (bytes for heap and rss, seconds for p99-drift).
func parseGrowth(name, val string) (float64, error) {
	bad := func(why string) (float64, error) {
		return 0, fmt.Errorf("%s bound %q: %s (want a growth per hour such as %s)", name, val, why,
			map[string]string{"goroutines": "100/h", "fds": "10/h", "heap": "50MB/h", "rss": "100MB/h", "p99-drift": "10ms/h"}[name])
	}
	num, per, ok := strings.Cut(val, "/")
	if !ok {
		return bad("no /h")
	}
	var perHour float64
	switch strings.TrimSpace(per) {
	case "h":
		perHour = 1
	case "min", "m":
		perHour = 60
	case "s":
		perHour = 3600
	default:
		return bad("per " + per + ": use /h, /min or /s")
	}
	num = strings.TrimSpace(num)
	scale := 1.0
	switch name {
	case "heap", "rss":
		units := []struct {
			suffix string
			scale  float64
		}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}
		found := false
		for _, u := range units {
			if n, ok := strings.CutSuffix(num, u.suffix); ok {
				num, scale, found = strings.TrimSpace(n), u.scale, true
				break
			}
		}
		if !found {
			return bad("no unit: use B, KB, MB, GB, KiB, MiB or GiB")
		}
	case "p99-drift":
		d, err := time.ParseDuration(num)
		if err != nil || d < 0 {
			return bad("not a duration")
		}
		return d.Seconds() * perHour, nil
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 || v > 1e15 || v != v {
		return bad("not a non-negative number")
	}
	return v * scale * perHour, nil
}
