package canary

import (
	"context"
	"fmt"
	"time"
)

// WatchOptions configures Watch.
type WatchOptions struct {
	// Interval between looks.
	Interval time.Duration
	// Deadline is when the last look happens; the analysis covers Request.Start to each look.
	Deadline time.Time
	// OnLook, when set, receives every look's report.
	OnLook func(Report)
	// Now and Sleep replace the clock in tests; nil means time.Now and a context-aware sleep.
	Now   func() time.Time
	Sleep func(context.Context, time.Duration) error
}

// SequentialMethod names the method Watch uses, for reports.
const SequentialMethod = "alpha spending (Lan-DeMets, O'Brien-Fleming shape), each look at its increment of alpha"

// Watch looks again every Interval, on the window from req.Start to the look, until a look
// fails the canary or the deadline passes; it returns the last report.
//
// Looking repeatedly at a growing window with a fixed alpha inflates the false-positive rate (five
// looks at 5% reject a true null about 14% of the time). Watch spends alpha instead: by information
// fraction t (elapsed time over the whole analysis) it may have spent at most
// a(t) = 2 - 2 Phi(z_{1-alpha/2} / sqrt(t)), and each look tests at the increment a(t_k) - a(t_k-1).
// The increments sum to alpha, so by the union bound the family-wise false-positive rate over every
// look and metric is at most alpha, whatever the correlation between looks and however many looks
// there are. The O'Brien-Fleming shape spends almost nothing early (a blatant regression still
// fails at once) and keeps nearly all of alpha for the deadline, where the data are richest.
//
// Only Fail stops early: a pass before the deadline would leave the rest of the analysis unseen.
// At the deadline the verdict is final, Pass included.
func Watch(ctx context.Context, q Querier, req Request, opt WatchOptions) (Report, error) {
	if opt.Interval <= 0 {
		return Report{}, fmt.Errorf("%w: watch interval %v must be positive", ErrInput, opt.Interval)
	}
	if !opt.Deadline.After(req.Start) {
		return Report{}, fmt.Errorf("%w: watch deadline %s is not after the start %s", ErrInput, opt.Deadline.Format(time.RFC3339), req.Start.Format(time.RFC3339))
	}
	now := opt.Now
	if now == nil {
		now = time.Now
	}
	sleep := opt.Sleep
	if sleep == nil {
		sleep = func(ctx context.Context, d time.Duration) error {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-t.C:
				return nil
			}
		}
	}
	alpha := req.Config.withDefaults().Alpha
	total := opt.Deadline.Sub(req.Start)
	spent := 0.0
	for look := 1; ; look++ {
		t := now()
		final := !t.Before(opt.Deadline)
		if final {
			t = opt.Deadline
		}
		frac := float64(t.Sub(req.Start)) / float64(total)
		cum := obrienFleming(frac, alpha)
		if final {
			cum = alpha
		}
		r := req
		r.End = t
		r.Config.Alpha = cum - spent
		var rep Report
		var err error
		if r.Config.Alpha <= 0 || !r.End.After(r.Start) {
			rep = Report{Verdict: Inconclusive, Reasons: []string{"no alpha to spend yet"}}
		} else {
			spent = cum
			rep, err = Judge(ctx, q, r)
			if err != nil {
				return rep, fmt.Errorf("look %d: %w", look, err)
			}
		}
		rep.Look, rep.Final, rep.Sequential = look, final, SequentialMethod
		if !final && rep.Verdict != Fail && len(rep.Reasons) == 0 || !final && (rep.Verdict == Pass || rep.Verdict == Marginal) {
			// Not decisive before the deadline: a pass now could still turn into a fail.
			rep.Reasons = append(rep.Reasons, fmt.Sprintf("%s so far; only a fail is decisive before the deadline %s", rep.Verdict, opt.Deadline.UTC().Format(time.RFC3339)))
			rep.Verdict = Inconclusive
		}
		if opt.OnLook != nil {
			opt.OnLook(rep)
		}
		if rep.Verdict == Fail || final {
			return rep, nil
		}
		wait := opt.Interval
		if left := opt.Deadline.Sub(now()); left < wait {
			wait = max(left, 0)
		}
		if err := sleep(ctx, wait); err != nil {
			return rep, err
		}
	}
}
