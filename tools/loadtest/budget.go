package loadtest

import (
	"errors"
	"fmt"
	"math"
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

	quantile float64 // for pNN metrics, in (0, 1)
	text     string
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
	if val == "" {
		return Limit{}, fmt.Errorf("%s%s: missing bound", name, op)
	}
	l := Limit{Metric: name, Op: op, text: name + op + val}
	upper := op[0] == '<'
	switch {
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
		return Limit{}, fmt.Errorf("unknown metric %q: want p50, p90, p99, p99.9 (any pNN), max, mean, errors, success or throughput", name)
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

func (v Violation) String() string { return fmt.Sprintf("%s broken: %s", v.Rule, v.Got) }

// Check returns the limits r broke, in budget order; none means the budget was met. A report
// without requests breaks every limit.
func (b Budget) Check(r *Report) []Violation {
	var out []Violation
	for _, l := range b {
		ok, got := l.check(r)
		if !ok {
			out = append(out, Violation{Limit: l, Rule: l.text, Got: got})
		}
	}
	return out
}

func (l Limit) check(r *Report) (ok bool, got string) {
	if r.Requests == 0 {
		return false, "no request completed"
	}
	var v, bound float64
	switch l.Metric {
	case "errors":
		v, bound, got = r.ErrorRate, l.Value, fmtPct(r.ErrorRate)
	case "success":
		v, bound, got = 1-r.ErrorRate, l.Value, fmtPct(1-r.ErrorRate)
	case "throughput":
		v, bound, got = r.Throughput, l.Value, fmt.Sprintf("%.1f req/s", r.Throughput)
	default:
		d := r.latency(l)
		v, bound, got = float64(d), float64(l.Latency), l.Metric+" "+fmtDur(d)
	}
	switch l.Op {
	case "<":
		ok = v < bound
	case "<=":
		ok = v <= bound
	case ">":
		ok = v > bound
	case ">=":
		ok = v >= bound
	}
	return ok, got
}
