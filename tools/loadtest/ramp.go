package loadtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Ramp raises the rate from From to To (requests per second) by Step, holding each rate
// for Interval.
type Ramp struct {
	From, To, Step float64
	Interval       time.Duration
}

// ParseRamp reads FROM:TO:STEP/INTERVAL, as in "50:500:50/10s".
func ParseRamp(s string) (Ramp, error) {
	bad := func(format string, a ...any) (Ramp, error) {
		return Ramp{}, fmt.Errorf("ramp %q: "+format+" (want FROM:TO:STEP/INTERVAL, as in 50:500:50/10s)", append([]any{s}, a...)...)
	}
	rates, interval, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return bad("no /INTERVAL")
	}
	parts := strings.Split(rates, ":")
	if len(parts) != 3 {
		return bad("want three rates separated by colons, got %d", len(parts))
	}
	var v [3]float64
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || !(f > 0) || f > 1e7 {
			return bad("%s %q: want a positive number of requests per second", [3]string{"FROM", "TO", "STEP"}[i], p)
		}
		v[i] = f
	}
	d, err := time.ParseDuration(strings.TrimSpace(interval))
	if err != nil || d <= 0 {
		return bad("INTERVAL %q: want a positive duration", interval)
	}
	r := Ramp{From: v[0], To: v[1], Step: v[2], Interval: d}
	if r.To < r.From {
		return bad("TO %g is below FROM %g", r.To, r.From)
	}
	if n := r.steps(); n > 1000 {
		return bad("%d steps: at most 1000", n)
	}
	return r, nil
}

// steps returns how many rates the ramp visits.
func (r Ramp) steps() int {
	return int((r.To-r.From)/r.Step+1e-9) + 1
}

// rate returns the i-th rate of the ramp.
func (r Ramp) rate(i int) float64 { return r.From + float64(i)*r.Step }

// String returns the ramp in ParseRamp's syntax.
func (r Ramp) String() string {
	return fmt.Sprintf("%g:%g:%g/%s", r.From, r.To, r.Step, r.Interval)
}

// Step is one rate of a stress run.
type Step struct {
	Rate   float64 `json:"rate"`
	Report *Report `json:"report"`
	// Met is true when the step met the budget.
	Met bool `json:"met"`
	// GeneratorBound is true when the load generator, not the service, could not keep up
	// at this step (Report.Generator says how): its figures are not the service's.
	GeneratorBound bool `json:"generator_bound,omitempty"`
}

// StressResult is the outcome of a stress run.
type StressResult struct {
	Budget string  `json:"budget"`
	Steps  []*Step `json:"steps"`
	// Highest is the highest rate that met the budget; zero when the first step broke it.
	Highest float64 `json:"highest_rate"`
	// Breaking is the first rate that broke the budget; zero when every step met it.
	Breaking float64 `json:"breaking_rate"`
	// GeneratorLimit is the rate at which the load generator fell behind its schedule (the
	// ramp stops there, since the service's figures are no longer its own); zero if never.
	GeneratorLimit float64 `json:"generator_limit,omitempty"`
	// Knee is the rate at the knee of p99 against the offered rate (Kneedle), or the
	// breaking rate with fewer than three steps; zero when neither.
	Knee float64 `json:"knee"`
	// Diagnosis says how the service failed past Highest: which limits broke, the latency
	// knee, saturated throughput, errors.
	Diagnosis []string `json:"diagnosis"`
}

// Stress runs the ramp step by step, checks each step against the budget, and stops at the
// first step that breaks it: the service is past its breaking point there, and pushing harder
// teaches nothing. Steps start fresh: every response of a step is in before the next begins.
func Stress(ctx context.Context, targets []Target, ramp Ramp, budget Budget, opts ...Option) (*StressResult, error) {
	if len(budget) == 0 {
		return nil, errors.New("stress: a budget is required to find the breaking point")
	}
	if ramp.Step <= 0 || ramp.Interval <= 0 || ramp.From <= 0 || ramp.To < ramp.From {
		return nil, fmt.Errorf("stress: ramp %s: invalid", ramp)
	}
	c := newConfig(opts)
	budget = budget.WithDefaults(false)
	res := &StressResult{Budget: budget.String()}
	n := ramp.steps()
	for i := range n {
		rate := ramp.rate(i)
		prefix := fmt.Sprintf("step %d/%d %g req/s", i+1, n, rate)
		if c.progress != nil {
			fmt.Fprintf(c.progress, "%s for %s ...\n", prefix, ramp.Interval)
		}
		rep, err := c.run(ctx, targets, rate, ramp.Interval, prefix)
		if err != nil {
			if rep != nil {
				res.Steps = append(res.Steps, &Step{Rate: rate, Report: rep})
			}
			return res, err
		}
		rep.Violations, rep.Inconclusive = budget.Evaluate(rep)
		step := &Step{Rate: rate, Report: rep, Met: len(rep.Violations) == 0 && len(rep.Inconclusive) == 0}
		step.GeneratorBound = rep.Generator != nil && rep.Generator.Bound
		res.Steps = append(res.Steps, step)
		if c.progress != nil {
			fmt.Fprintf(c.progress, "%s: %s\n", prefix, stepLine(step))
		}
		if step.GeneratorBound {
			res.GeneratorLimit = rate
			break
		}
		if !step.Met {
			res.Breaking = rate
			break
		}
		res.Highest = rate
	}
	res.Diagnosis = res.diagnose(ramp)
	res.Knee = res.knee()
	return res, nil
}

// knee finds the knee of p99 against the offered rate with Kneedle (Satopää et al., 2011):
// with both axes scaled to [0, 1], the step farthest below the diagonal from the first step
// to the last, the last rate before latency climbs steeply. Fewer than three steps of the
// service's own (not generator-bound): the breaking rate.
func (s *StressResult) knee() float64 {
	var xs, ys []float64
	for _, st := range s.Steps {
		if !st.GeneratorBound && st.Report.Answered > 0 {
			xs, ys = append(xs, st.Rate), append(ys, float64(st.Report.Latency.P99))
		}
	}
	n := len(xs)
	if n < 3 || xs[n-1] == xs[0] || ys[n-1] <= ys[0] {
		return s.Breaking
	}
	best, at := 0.0, 0.0
	for i := range n {
		d := (xs[i]-xs[0])/(xs[n-1]-xs[0]) - (ys[i]-ys[0])/(ys[n-1]-ys[0])
		if d > best {
			best, at = d, xs[i]
		}
	}
	if at == 0 {
		return s.Breaking
	}
	return at
}

func stepLine(s *Step) string {
	r := s.Report
	verdict := "met the budget"
	switch {
	case s.GeneratorBound:
		verdict = "GENERATOR-BOUND: the load generator fell behind (" + strings.Join(r.Generator.Reasons, "; ") + "); this step says nothing of the service"
	case len(r.Violations) == 0 && len(r.Inconclusive) > 0:
		verdict = "INCONCLUSIVE: " + strings.Join(r.Inconclusive, "; ")
	case !s.Met:
		v := make([]string, len(r.Violations))
		for i, x := range r.Violations {
			v[i] = x.String()
		}
		verdict = "BROKE the budget: " + strings.Join(v, "; ")
	}
	return fmt.Sprintf("p50 %s p99 %s max %s, errors %s, throughput %.1f req/s: %s",
		fmtDur(r.Latency.P50), fmtDur(r.Latency.P99), fmtDur(r.Latency.Max), fmtPct(r.ErrorRate), r.Throughput, verdict)
}

// diagnose describes how the service failed at the breaking step, compared with the last
// step that met the budget.
func (s *StressResult) diagnose(ramp Ramp) []string {
	if s.GeneratorLimit > 0 {
		g := s.Steps[len(s.Steps)-1].Report.Generator
		return []string{fmt.Sprintf("at %g req/s the load generator fell behind its schedule (%s): the service's breaking point is above %g req/s, if any; use a bigger or second load machine",
			s.GeneratorLimit, strings.Join(g.Reasons, "; "), s.Highest)}
	}
	if s.Breaking == 0 {
		return []string{fmt.Sprintf("the budget held at every rate up to %g req/s: raise TO to find the breaking point", ramp.To)}
	}
	brk := s.Steps[len(s.Steps)-1]
	r := brk.Report
	var d []string
	for _, v := range r.Violations {
		d = append(d, fmt.Sprintf("at %g req/s %s", brk.Rate, v))
	}
	if s.Highest == 0 {
		d = append(d, fmt.Sprintf("the first step (%g req/s) already broke the budget: lower FROM", brk.Rate))
	}
	if len(s.Steps) >= 2 {
		prev := s.Steps[len(s.Steps)-2].Report
		rise := func(name string, a, b time.Duration) (string, bool) {
			if a <= 0 || b <= 2*a {
				return "", false
			}
			return fmt.Sprintf("%s rose %.1fx (%s -> %s)", name, float64(b)/float64(a), fmtDur(a), fmtDur(b)), true
		}
		var rises []string
		if m, ok := rise("p50", prev.Latency.P50, r.Latency.P50); ok {
			rises = append(rises, m)
		}
		if m, ok := rise("p99", prev.Latency.P99, r.Latency.P99); ok {
			rises = append(rises, m)
		}
		if len(rises) > 0 {
			d = append(d, fmt.Sprintf("latency knee: from %g to %g req/s (%.2fx the rate) %s",
				s.Highest, brk.Rate, brk.Rate/s.Highest, strings.Join(rises, " and ")))
		}
	}
	if r.Requests > 0 && r.Throughput < 0.9*brk.Rate {
		d = append(d, fmt.Sprintf("saturation: throughput %.1f req/s fell short of the offered %g req/s", r.Throughput, brk.Rate))
	}
	if r.ErrorRate > 0 {
		d = append(d, fmt.Sprintf("errors: %s of requests failed%s", fmtPct(r.ErrorRate), r.statusSummary()))
		for _, e := range r.Errors {
			d = append(d, "  "+e)
		}
	}
	return d
}

// WriteText prints the stress result: one line per step, the breaking point and the diagnosis.
func (s *StressResult) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "budget      %s\n", s.Budget)
	for _, st := range s.Steps {
		fmt.Fprintf(&b, "%8g req/s  %s\n", st.Rate, stepLine(st))
		if st.Report.Server != nil {
			fmt.Fprintf(&b, "              server: %s\n", st.Report.Server.summary())
		}
	}
	if s.Highest > 0 {
		fmt.Fprintf(&b, "highest rate meeting the budget: %g req/s\n", s.Highest)
	} else {
		fmt.Fprintln(&b, "no rate met the budget")
	}
	if s.Breaking > 0 {
		fmt.Fprintf(&b, "breaking point: %g req/s\n", s.Breaking)
	}
	if s.GeneratorLimit > 0 {
		fmt.Fprintf(&b, "generator limit: %g req/s (the load generator, not the service, fell behind)\n", s.GeneratorLimit)
	}
	for _, line := range s.Diagnosis {
		fmt.Fprintf(&b, "  %s\n", line)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON prints the stress result as JSON.
func (s *StressResult) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}
