package loadtest

import (
	"fmt"
	"strings"
	"time"
)

// SpikeOptions tune how a burst's recovery is measured.
type SpikeOptions struct {
	// Window is the length of the sliding window over which p99 is recomputed after a burst
	// (default 1s); windows slide by a tenth of it.
	Window time.Duration `json:"window"`
	// Threshold is the p99 a window must be back within. Zero: the budget's whole-run p99
	// limit when it has one, else twice the p99 before the burst.
	Threshold time.Duration `json:"threshold"`
}

// Spike is how the service took one burst.
type Spike struct {
	At       time.Duration `json:"at"`
	Duration time.Duration `json:"duration"`
	Rate     float64       `json:"rate"`
	// Before is the p99 of the answered requests sent between the previous burst (or the
	// start) and this one.
	Before time.Duration `json:"before_p99"`
	// During has the figures of the requests sent during the burst.
	During SpikeFigures `json:"during"`
	// Threshold is the p99 the windows after the burst had to be back within, and
	// ThresholdFrom where it came from.
	Threshold     time.Duration `json:"threshold"`
	ThresholdFrom string        `json:"threshold_from"`
	Window        time.Duration `json:"window"`
	// Recovered tells whether p99 came back within Threshold before the next burst or the
	// end of the run; Recovery is how long after the burst ended: from then on, every
	// window's p99 stayed within Threshold.
	Recovered bool          `json:"recovered"`
	Recovery  time.Duration `json:"recovery"`
	// Unmeasured is true when no window fits between the burst and the next one (or the
	// end of the run): the recovery is unknown, not failed.
	Unmeasured bool `json:"unmeasured,omitempty"`
}

// SpikeFigures are the client-side figures of part of a run.
type SpikeFigures struct {
	Requests  int           `json:"requests"`
	ErrorRate float64       `json:"error_rate"`
	P50       time.Duration `json:"p50"`
	P99       time.Duration `json:"p99"`
	Max       time.Duration `json:"max"`
}

func figures(recs []record) SpikeFigures {
	st := collect(recs)
	f := SpikeFigures{Requests: st.requests, ErrorRate: st.errorRate()}
	f.P50, _ = st.quantile(0.5)
	f.P99, _ = st.quantile(0.99)
	if n := len(st.lats); n > 0 {
		f.Max = st.lats[n-1]
	}
	return f
}

// analyzeSpikes fills r.Spikes from the bursts of the profile.
func (r *Report) analyzeSpikes(bursts []Burst, o SpikeOptions, budget Budget) {
	if o.Window <= 0 {
		o.Window = time.Second
	}
	total := r.runSpan()
	r.Spikes = nil
	for i, b := range bursts {
		if b.At >= total {
			break
		}
		prevEnd := time.Duration(0)
		if i > 0 {
			prevEnd = bursts[i-1].At + bursts[i-1].Duration
		}
		nextStart := total
		if i+1 < len(bursts) {
			nextStart = bursts[i+1].At
		}
		end := b.At + b.Duration
		sp := &Spike{At: b.At, Duration: b.Duration, Rate: b.Rate, Window: o.Window}
		before := collect(span(r.recs, prevEnd, b.At))
		sp.Before, _ = before.quantile(0.99)
		sp.During = figures(span(r.recs, b.At, end))
		switch {
		case o.Threshold > 0:
			sp.Threshold, sp.ThresholdFrom = o.Threshold, "spike.threshold"
		case budgetP99(budget) > 0:
			sp.Threshold, sp.ThresholdFrom = budgetP99(budget), "the budget's p99 limit"
		default:
			sp.Threshold, sp.ThresholdFrom = max(2*sp.Before, time.Millisecond), fmt.Sprintf("twice the p99 before the burst (%s)", fmtDur(sp.Before))
		}
		// The last window after the burst that breaks the threshold: recovery is the start
		// of the window after it.
		step := windowStep(o.Window)
		lastBad, lastStart := time.Duration(-1), time.Duration(-1)
		for s := end; s+o.Window <= nextStart+step/2; s += step {
			st := collect(span(r.recs, s, s+o.Window))
			if st.requests == 0 {
				continue
			}
			lastStart = s
			p99, ok := st.quantile(0.99)
			if !ok || p99 > sp.Threshold {
				lastBad = s
			}
		}
		switch {
		case lastStart < 0:
			sp.Unmeasured = true
		case lastBad < 0:
			sp.Recovered = true
		case lastBad < lastStart:
			sp.Recovered, sp.Recovery = true, lastBad+step-end
		}
		r.Spikes = append(r.Spikes, sp)
	}
}

// budgetP99 is the whole-run p99 limit of a budget, zero without one.
func budgetP99(b Budget) time.Duration {
	for _, l := range b {
		if l.Metric == "p99" && l.Window == 0 {
			return l.Latency
		}
	}
	return 0
}

func (l Limit) evalRecovery(r *Report) (verdict, string) {
	if len(r.Spikes) == 0 {
		return verdictUndecided, "the run had no burst"
	}
	var worst []string
	st := verdictMet
	for i, sp := range r.Spikes {
		switch {
		case sp.Unmeasured:
			if st == verdictMet {
				st = verdictUndecided
			}
			worst = append(worst, fmt.Sprintf("burst %d (at %s): no %s window fits after it to measure the recovery", i+1, sp.At, sp.Window))
		case !sp.Recovered:
			st = verdictBroken
			worst = append(worst, fmt.Sprintf("burst %d (at %s) did not recover within %s before %s", i+1, sp.At, fmtDur(sp.Threshold), nextLabel(i, r)))
		case !cmp(l.Op, float64(sp.Recovery), float64(l.Latency)):
			st = verdictBroken
			worst = append(worst, fmt.Sprintf("burst %d (at %s) took %s", i+1, sp.At, fmtDur(sp.Recovery)))
		default:
			worst = append(worst, fmt.Sprintf("burst %d recovered in %s", i+1, fmtDur(sp.Recovery)))
		}
	}
	return st, strings.Join(worst, "; ")
}

func nextLabel(i int, r *Report) string {
	if i+1 < len(r.Spikes) {
		return "the next burst"
	}
	return "the end of the run"
}

func (sp *Spike) summary() string {
	rec := "did NOT recover before the next burst or the end of the run"
	switch {
	case sp.Unmeasured:
		rec = fmt.Sprintf("recovery not measured: no %s window fits before the next burst or the end of the run", sp.Window)
	case sp.Recovered:
		rec = "recovered in " + fmtDur(sp.Recovery)
		if sp.Recovery == 0 {
			rec = "recovered at once"
		}
	}
	return fmt.Sprintf("burst at %s for %s at %g req/s: before p99 %s; during %d requests, errors %s, p50 %s, p99 %s, max %s; %s (p99 over %s windows back within %s, %s)",
		sp.At, sp.Duration, sp.Rate, fmtDur(sp.Before), sp.During.Requests, fmtPct(sp.During.ErrorRate), fmtDur(sp.During.P50),
		fmtDur(sp.During.P99), fmtDur(sp.During.Max), rec, sp.Window, fmtDur(sp.Threshold), sp.ThresholdFrom)
}
