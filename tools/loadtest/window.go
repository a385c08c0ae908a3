package loadtest

import (
	"fmt"
	"time"
)

// WindowResult is how a sliding-window limit fared: the windows it saw and the worst one.
type WindowResult struct {
	Limit  string        `json:"limit"`
	Window time.Duration `json:"window"`
	// Windows is how many windows were checked (they slide by a tenth of their length);
	// Broken how many broke the limit.
	Windows int `json:"windows"`
	Broken  int `json:"broken"`
	// Worst is the worst window: its start (from the start of the run) and its figure.
	WorstStart time.Duration `json:"worst_start"`
	Worst      string        `json:"worst"`
}

// runSpan is the time the run covered: planned, or (for merged files) up to the last send.
func (r *Report) runSpan() time.Duration {
	if r.planned > 0 {
		return r.planned
	}
	if r.Requests > 1 {
		return r.st.last + r.Duration/time.Duration(r.Requests-1)
	}
	return r.st.last
}

// windowStep is how far windows of length w slide.
func windowStep(w time.Duration) time.Duration { return max(w/10, 10*time.Millisecond) }

// sub summarizes the records sent in [from, to) as a report of their own.
func (r *Report) sub(from, to time.Duration) *Report {
	s := newReport(span(r.recs, from, to), 0, nil)
	if to > from {
		s.Throughput = float64(s.st.requests-s.st.failed) / (to - from).Seconds()
	}
	return s
}

// value is the figure a limit bounds in a report, and false when there is none (no
// answered request for a latency limit).
func (l Limit) value(r *Report) (float64, bool) {
	switch l.Metric {
	case "errors":
		return r.ErrorRate, true
	case "success":
		return 1 - r.ErrorRate, true
	case "throughput":
		return r.Throughput, true
	}
	d, ok := r.latency(l)
	return float64(d), ok
}

func (l Limit) format(v float64) string {
	switch l.Metric {
	case "errors", "success":
		return fmtPct(v)
	case "throughput":
		return fmt.Sprintf("%.1f req/s", v)
	}
	return l.Metric + " " + fmtDur(time.Duration(v))
}

func (l Limit) evalWindows(r *Report) (verdict, string) {
	w := l.Window
	total := r.runSpan()
	if len(r.recs) == 0 {
		if r.Requests == 0 {
			return verdictBroken, "no request completed"
		}
		return verdictUndecided, "the per-request results are gone (merged vegeta files keep them: rerun the report)"
	}
	if total < w {
		return verdictUndecided, fmt.Sprintf("the run (%s) is shorter than the window", total.Round(time.Millisecond))
	}
	res := WindowResult{Limit: l.text, Window: w}
	upper := l.Op[0] == '<'
	var worst float64
	worstSet, worstNoAnswer := false, false
	step := windowStep(w)
	for s := time.Duration(0); s+w <= total+step/2; s += step {
		sub := r.sub(s, s+w)
		if sub.Requests == 0 {
			continue // nothing was planned here
		}
		res.Windows++
		v, ok := l.value(sub)
		if !ok {
			// A window without an answer is the worst there is: the first one stays.
			res.Broken++
			if !worstNoAnswer {
				res.WorstStart, res.Worst = s, fmt.Sprintf("no request answered (%d sent)", sub.Requests)
				worstSet, worstNoAnswer = true, true
			}
			continue
		}
		if !cmp(l.Op, v, l.boundValue()) {
			res.Broken++
		}
		if worstNoAnswer {
			continue
		}
		if !worstSet || (upper && v > worst) || (!upper && v < worst) {
			worst, worstSet = v, true
			res.WorstStart, res.Worst = s, l.format(v)
		}
	}
	r.addWindow(res)
	if res.Windows == 0 {
		return verdictUndecided, "no window had a request"
	}
	got := fmt.Sprintf("%d of %d windows of %s broke it; worst %s in the window at %s-%s", res.Broken, res.Windows, w,
		res.Worst, res.WorstStart.Round(time.Millisecond), (res.WorstStart + w).Round(time.Millisecond))
	if res.Broken > 0 {
		return verdictBroken, got
	}
	return verdictMet, got
}

func (r *Report) addWindow(w WindowResult) {
	for i := range r.Windows {
		if r.Windows[i].Limit == w.Limit {
			r.Windows[i] = w
			return
		}
	}
	r.Windows = append(r.Windows, w)
}

// boundValue is the bound of the limit in the unit of value.
func (l Limit) boundValue() float64 {
	switch l.Metric {
	case "errors", "success", "throughput":
		return l.Value
	}
	return float64(l.Latency)
}

// Point is one bucket of a run's timeline, by send time.
type Point struct {
	// T is the start of the bucket, from the start of the run; the bucket lasts the
	// report's Timeline step (the gap between two points).
	T time.Duration `json:"t"`
	// Offered is the planned rate, Sent the rate requests left at, Achieved the rate of
	// successful responses (all in requests per second).
	Offered  float64 `json:"offered"`
	Sent     float64 `json:"sent"`
	Achieved float64 `json:"achieved"`
	// Errors counts failed requests; ErrorRate is their share.
	Errors    int     `json:"errors"`
	ErrorRate float64 `json:"error_rate"`
	// Latency quantiles of the answered requests; zero without one.
	P50 time.Duration `json:"p50"`
	P90 time.Duration `json:"p90"`
	P99 time.Duration `json:"p99"`
	// LateP99 is the 99th percentile of how late requests left (the generator's lag).
	LateP99 time.Duration `json:"late_p99"`
}

// timelineStep picks a bucket width giving at most about 200 points.
func timelineStep(total time.Duration) time.Duration {
	for _, s := range []time.Duration{100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond, time.Second,
		2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second, time.Minute,
		2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 30 * time.Minute, time.Hour} {
		if total/s <= 200 {
			return s
		}
	}
	return total / 200
}

// buildTimeline fills r.Timeline.
func (r *Report) buildTimeline() {
	total := r.runSpan()
	if total <= 0 || len(r.recs) == 0 {
		return
	}
	step := timelineStep(total)
	r.Timeline = nil
	for t := time.Duration(0); t < total; t += step {
		end := min(t+step, total)
		recs := span(r.recs, t, end)
		st := collect(recs)
		secs := (end - t).Seconds()
		p := Point{T: t, Sent: float64(st.requests) / secs, Achieved: float64(st.requests-st.failed) / secs, Errors: st.failed, ErrorRate: st.errorRate()}
		if r.offered != nil {
			p.Offered = r.offered(t + (end-t)/2)
		}
		p.P50, _ = st.quantile(0.5)
		p.P90, _ = st.quantile(0.9)
		p.P99, _ = st.quantile(0.99)
		late := make([]time.Duration, len(recs))
		for i := range recs {
			late[i] = recs[i].late
		}
		p.LateP99 = sortedQuantile(late, 0.99)
		r.Timeline = append(r.Timeline, p)
	}
}
