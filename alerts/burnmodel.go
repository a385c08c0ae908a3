package alerts

import (
	"math"
	"time"
)

// This file is the independent burn-rate model that the generated promtool tests take their
// expected alerts from. It never reads a rule or an expression: it simulates the counters a
// service exposes, minute by minute, computes error ratios over windows the way a counter's
// increase is defined (resets included), and applies the workbook's alerting conditions, which it
// states again here on purpose. A wrong factor or window in the rules therefore makes the
// generated tests fail (TestMutatedRulesFailTheirTests shows it).

// modelCondition is one multi-window condition of the SRE workbook, stated as a budget share.
type modelCondition struct {
	severity    string
	long, short int     // minutes
	budgetShare float64 // share of the period's budget consumed over long at the alerting burn rate
}

// workbookConditions: page at 2% of the budget in 1h or 5% in 6h, ticket at 10% in 1d or in 3d;
// short windows are a twelfth of the long ones.
var workbookConditions = [...]modelCondition{
	{severity: "page", long: 60, short: 5, budgetShare: 0.02},
	{severity: "page", long: 360, short: 30, budgetShare: 0.05},
	{severity: "ticket", long: 1440, short: 120, budgetShare: 0.10},
	{severity: "ticket", long: 4320, short: 360, budgetShare: 0.10},
}

// burnFactor is the burn rate at which a condition consumes its budget share over its long window.
func (c modelCondition) burnFactor(period time.Duration) float64 {
	return c.budgetShare * period.Minutes() / float64(c.long)
}

// counters is a simulated service: per-minute samples of its request counter and its bad-event
// counter (errors, or requests slower than the threshold). present[i] is false while the service
// is not scraped.
type counters struct {
	total, bad []float64
	present    []bool
}

// increase returns how much counter c grew over [i-w, i] (minutes), counting a drop as a reset,
// and whether at least two samples fall in the window (what rate() needs).
func (k *counters) increase(c []float64, i, w int) (float64, bool) {
	inc, prev, n := 0.0, 0.0, 0
	for j := max(0, i-w); j <= i; j++ {
		if !k.present[j] {
			continue
		}
		if n > 0 {
			if c[j] >= prev {
				inc += c[j] - prev
			} else {
				inc += c[j]
			}
		}
		prev = c[j]
		n++
	}
	return inc, n >= 2
}

// alertState is what the model expects of one alert at one minute.
type alertState struct {
	firing bool
	value  float64 // burn rate over the long window of the first condition that holds
}

// ambiguousKey marks, in modelBurn's result, a minute where some quantity sits on its
// threshold: floating-point rounding decides there, so the tests do not check that minute.
const ambiguousKey = "ambiguous"

// modelBurn returns, for minute i, the state of the page and ticket alerts.
func modelBurn(k *counters, i int, budget, minRequests float64, period time.Duration) map[string]alertState {
	out := map[string]alertState{}
	near := func(v, thr float64) bool { return math.Abs(v-thr) <= 1e-9*math.Abs(thr) }
	for _, c := range workbookConditions {
		f := c.burnFactor(period)
		totL, okL := k.increase(k.total, i, c.long)
		badL, _ := k.increase(k.bad, i, c.long)
		totS, okS := k.increase(k.total, i, c.short)
		badS, _ := k.increase(k.bad, i, c.short)
		if !okL || !okS || totL <= 0 || totS <= 0 {
			continue
		}
		burnL, burnS := badL/totL/budget, badS/totS/budget
		if near(burnL, f) || near(burnS, f) || minRequests > 0 && near(totL, minRequests) {
			out[ambiguousKey] = alertState{firing: true}
		}
		if out[c.severity].firing {
			continue
		}
		if burnL > f && burnS > f && (minRequests <= 0 || totL >= minRequests) {
			out[c.severity] = alertState{firing: true, value: burnL}
		}
	}
	return out
}

// modelNoData reports whether, at minute i, the service's last sample is more than 10 minutes
// old but still within the SLO window: a service gone for hours stays reported, one that
// restarts within a few minutes never is.
func modelNoData(k *counters, i int, period time.Duration) bool {
	for j := i; j >= 0; j-- {
		if k.present[j] {
			return i-j > 10 && float64(i-j) < period.Minutes()
		}
	}
	return false // never seen: nothing to miss
}

// phase is a stretch of simulated traffic.
type phase struct {
	minutes   int
	perMinute float64 // requests per minute
	badPerMin float64 // bad events per minute
	down      bool    // not scraped; counters restart from 0 afterwards
}

// simulate turns phases into counters with one sample per minute, starting at 0 at minute 0.
func simulate(phases []phase) *counters {
	k := &counters{}
	tot, bad, restart := 0.0, 0.0, false
	for _, p := range phases {
		for range p.minutes {
			if p.down {
				k.total, k.bad, k.present = append(k.total, 0), append(k.bad, 0), append(k.present, false)
				restart = true
				continue
			}
			if restart {
				tot, bad, restart = 0, 0, false
			}
			k.total, k.bad, k.present = append(k.total, tot), append(k.bad, bad), append(k.present, true)
			tot += p.perMinute
			bad += p.badPerMin
		}
	}
	if !restart {
		k.total, k.bad, k.present = append(k.total, tot), append(k.bad, bad), append(k.present, true)
	}
	return k
}
