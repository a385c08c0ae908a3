package loadtest

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Latency is the client-side latency distribution of a run.
type Latency struct {
	P50  time.Duration `json:"p50"`
	P90  time.Duration `json:"p90"`
	P99  time.Duration `json:"p99"`
	P999 time.Duration `json:"p99_9"`
	Max  time.Duration `json:"max"`
	Mean time.Duration `json:"mean"`
}

// Report summarizes one run (or the merged results of several).
type Report struct {
	// Rate is the offered rate in requests per second, averaged over the run (for merged
	// files: the rate achieved).
	Rate float64 `json:"rate"`
	// Sent is the rate at which requests actually left.
	Sent float64 `json:"sent_rate"`
	// Duration is the time over which requests were sent.
	Duration time.Duration `json:"duration"`
	// Requests counts every request; Throughput is successful responses per second, counting
	// the wait for the last responses.
	Requests   uint64  `json:"requests"`
	Throughput float64 `json:"throughput"`
	// Answered counts the requests that got an HTTP response, whatever its status; the others
	// (refused connections, timeouts) count in StatusCodes["0"].
	Answered uint64 `json:"answered"`
	// ErrorRate is the fraction of requests that failed: a transport error, a timeout, or a
	// status outside 200-399.
	ErrorRate float64 `json:"error_rate"`
	// Latency is the distribution over answered requests only: a refused connection fails
	// fast, and counting it would make a dead service look quick. Zero without an answer.
	Latency Latency `json:"latency"`
	// StatusCodes counts responses by status; "0" counts requests without a response.
	StatusCodes map[string]int `json:"status_codes"`
	// Errors lists distinct error messages (at most 5).
	Errors []string `json:"errors,omitempty"`
	// Server holds the service's own RED figures when its /metrics was scraped.
	Server *RED `json:"server,omitempty"`
	// Targets has the figures of each target of a scenario.
	Targets []TargetReport `json:"targets,omitempty"`
	// Timeline has the figures of the run in consecutive time buckets (by send time).
	Timeline []Point `json:"timeline,omitempty"`
	// Spikes has the figures of each burst of the run.
	Spikes []*Spike `json:"spikes,omitempty"`
	// Trends are the robust fits of the service's runtime series (with --metrics).
	Trends *Trends `json:"trends,omitempty"`
	// Generator says whether the load generator kept its schedule.
	Generator *Generator `json:"generator,omitempty"`
	// Windows has the worst window of each sliding-window limit.
	Windows []WindowResult `json:"windows,omitempty"`
	// Violations are the budget limits this run broke.
	Violations []Violation `json:"violations,omitempty"`
	// Inconclusive lists the limits the run could not decide (too little data, a generator
	// that fell behind).
	Inconclusive []string `json:"inconclusive,omitempty"`
	// Verdict is set by Judge: met, broken or inconclusive.
	Verdict string `json:"verdict,omitempty"`

	recs    []record
	st      stats
	planned time.Duration
	offered func(time.Duration) float64
	targets []Target
	samples []sample
}

// TargetReport is the share of one target in a run.
type TargetReport struct {
	Name      string        `json:"name"`
	Method    string        `json:"method"`
	URL       string        `json:"url"`
	Requests  int           `json:"requests"`
	ErrorRate float64       `json:"error_rate"`
	P50       time.Duration `json:"p50"`
	P99       time.Duration `json:"p99"`
	Budget    string        `json:"budget,omitempty"`
}

const maxErrors = 5

// newReport summarizes the records of a run (ordered by send time); rate is the offered
// average rate.
func newReport(recs []record, rate float64, errs []string) *Report {
	st := collect(recs)
	r := &Report{
		Rate: rate, Requests: uint64(st.requests), Answered: uint64(st.answered),
		StatusCodes: st.codes, ErrorRate: st.errorRate(), recs: recs, st: st,
	}
	r.Duration = st.last - st.first
	if r.Duration > 0 {
		r.Sent = float64(st.requests) / r.Duration.Seconds()
	}
	if w := st.end - st.first; w > 0 {
		r.Throughput = float64(st.requests-st.failed) / w.Seconds()
	}
	if len(st.lats) > 0 {
		q := func(p float64) time.Duration { d, _ := st.quantile(p); return d }
		r.Latency = Latency{P50: q(0.5), P90: q(0.9), P99: q(0.99), P999: q(0.999), Max: st.lats[len(st.lats)-1], Mean: st.mean()}
	}
	r.Errors = errs
	if len(r.Errors) > maxErrors {
		r.Errors = r.Errors[:maxErrors]
	}
	return r
}

// latency returns the latency a limit bounds, and false when no request was answered.
func (r *Report) latency(l Limit) (time.Duration, bool) {
	if r.Answered == 0 {
		return 0, false
	}
	switch {
	case l.Metric == "max":
		return r.Latency.Max, true
	case l.Metric == "mean":
		return r.Latency.Mean, true
	case len(r.st.lats) > 0:
		return r.st.quantile(l.quantile)
	}
	switch l.quantile {
	case 0.5:
		return r.Latency.P50, true
	case 0.9:
		return r.Latency.P90, true
	case 0.99:
		return r.Latency.P99, true
	case 0.999:
		return r.Latency.P999, true
	}
	return r.Latency.Max, true // a conservative stand-in when the distribution is gone
}

// WriteText prints the report for a terminal.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "rate        %.1f req/s offered, %.1f req/s sent, for %s\n", r.Rate, r.Sent, r.Duration.Round(time.Millisecond))
	fmt.Fprintf(&b, "requests    %d, throughput %.1f req/s\n", r.Requests, r.Throughput)
	fmt.Fprintf(&b, "errors      %s%s\n", fmtPct(r.ErrorRate), r.statusSummary())
	for _, e := range r.Errors {
		fmt.Fprintf(&b, "            %s\n", e)
	}
	l := r.Latency
	if r.Answered == 0 {
		fmt.Fprintf(&b, "latency     none: no request was answered (%d failed without a response)\n", r.Requests)
	} else {
		fmt.Fprintf(&b, "latency     p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  mean %s",
			fmtDur(l.P50), fmtDur(l.P90), fmtDur(l.P99), fmtDur(l.P999), fmtDur(l.Max), fmtDur(l.Mean))
		if r.Answered < r.Requests {
			fmt.Fprintf(&b, " (of %d answered; %d without a response apart)", r.Answered, r.Requests-r.Answered)
		}
		b.WriteString("\n")
	}
	for _, t := range r.Targets {
		fmt.Fprintf(&b, "target      %s: %d requests, errors %s, p50 %s, p99 %s\n", t.Name, t.Requests, fmtPct(t.ErrorRate), fmtDur(t.P50), fmtDur(t.P99))
	}
	if s := r.Server; s != nil {
		fmt.Fprintf(&b, "server      %s\n", s.summary())
	}
	for _, sp := range r.Spikes {
		fmt.Fprintf(&b, "spike       %s\n", sp.summary())
	}
	for _, wr := range r.Windows {
		fmt.Fprintf(&b, "window      %s: %d of %d windows broke it; worst %s at %s\n", wr.Limit, wr.Broken, wr.Windows, wr.Worst, wr.WorstStart.Round(time.Millisecond))
	}
	if r.Trends != nil {
		r.Trends.writeText(&b)
	}
	if g := r.Generator; g != nil {
		fmt.Fprintf(&b, "generator   %s\n", g.summary())
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Outcome is the verdict of a run against its budget.
type Outcome int

const (
	// Met: every limit held.
	Met Outcome = iota
	// Broken: a limit broke.
	Broken
	// Inconclusive: no limit broke, but some could not be decided, or the load generator
	// was the bottleneck (then even a broken limit may not be the service's).
	Inconclusive
)

// Judge checks the report against b (the whole run) and each target's own budget, fills
// Violations and Inconclusive, and returns the outcome. A generator that fell behind makes
// the run inconclusive: the service did not get the load the budget speaks of.
func (r *Report) Judge(b Budget) Outcome {
	r.Violations, r.Inconclusive = b.Evaluate(r)
	for i, t := range r.targets {
		if len(t.Budget) == 0 {
			continue
		}
		v, inc := t.Budget.Evaluate(r.targetReport(i))
		for _, x := range v {
			x.Rule = "target " + t.Name + ": " + x.Rule
			r.Violations = append(r.Violations, x)
		}
		for _, x := range inc {
			r.Inconclusive = append(r.Inconclusive, "target "+t.Name+": "+x)
		}
	}
	o := Met
	switch {
	case r.Generator != nil && r.Generator.Bound:
		r.Inconclusive = append(r.Inconclusive, "the load generator was the bottleneck ("+strings.Join(r.Generator.Reasons, "; ")+"): the figures are not the service's alone")
		o = Inconclusive
	case len(r.Violations) > 0:
		o = Broken
	case len(r.Inconclusive) > 0:
		o = Inconclusive
	}
	r.Verdict = o.String()
	return o
}

func (o Outcome) String() string {
	switch o {
	case Broken:
		return "broken"
	case Inconclusive:
		return "inconclusive"
	}
	return "met"
}

// WriteVerdict prints one line naming each broken limit (or the undecided ones) of b.
func (r *Report) WriteVerdict(w io.Writer, b Budget, o Outcome) error {
	var line string
	switch {
	case o == Inconclusive && (r.Generator == nil || !r.Generator.Bound || len(r.Violations) == 0):
		line = fmt.Sprintf("budget      %s: INCONCLUSIVE: %s", b, strings.Join(r.Inconclusive, "; "))
		if len(r.Violations) > 0 {
			line += "; broken: " + joinViolations(r.Violations)
		}
	case o == Inconclusive:
		line = fmt.Sprintf("budget      %s: INCONCLUSIVE: %s; broken, but not necessarily by the service: %s", b, strings.Join(r.Inconclusive, "; "), joinViolations(r.Violations))
	case o == Broken:
		line = fmt.Sprintf("budget      %s: BROKEN: %s", b, joinViolations(r.Violations))
	default:
		line = fmt.Sprintf("budget      %s: met", b)
	}
	_, err := fmt.Fprintln(w, line)
	return err
}

func joinViolations(vs []Violation) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = v.String()
	}
	return strings.Join(parts, "; ")
}

// WriteJSON prints the report as JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func (r *Report) statusSummary() string {
	codes := make([]string, 0, len(r.StatusCodes))
	for c := range r.StatusCodes {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	parts := make([]string, len(codes))
	for i, c := range codes {
		name := c
		if c == "0" {
			name = "no response"
		}
		parts[i] = fmt.Sprintf("%s x%d", name, r.StatusCodes[c])
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func fmtPct(f float64) string {
	return fmt.Sprintf("%.2f%%", f*100)
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return sig3(d.Seconds()) + "s"
	case d >= time.Millisecond:
		return sig3(float64(d)/float64(time.Millisecond)) + "ms"
	case d >= time.Microsecond:
		return sig3(float64(d)/float64(time.Microsecond)) + "µs"
	}
	return d.String()
}

// sig3 formats v (at least 1) with up to three significant digits and no exponent.
func sig3(v float64) string {
	prec := 2
	switch {
	case v >= 100:
		prec = 0
	case v >= 10:
		prec = 1
	}
	s := strconv.FormatFloat(v, 'f', prec, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}
