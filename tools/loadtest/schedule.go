package loadtest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"
)

// Profile is an offered arrival rate over time: stages of constant or linearly ramping
// rate, optionally shaped by a sine (a diurnal curve scaled down to minutes) and
// interrupted by bursts. It is open-model: arrivals follow the profile whatever the service
// answers.
type Profile struct {
	// Stages follow one another; each ramps linearly from the rate the previous one ended
	// at (StartRate for the first) to its Target.
	StartRate float64
	Stages    []Stage
	// Sine multiplies the rate by 1 + Amplitude*sin(2πt/Period - π/2): a trough at the start,
	// a peak half a period later.
	Sine *Sine
	// Bursts replace the rate with their own while they last.
	Bursts []Burst
	// Process is "constant" (evenly spaced arrivals, the default) or "poisson" (independent
	// arrivals with exponential gaps, as many independent users would make).
	Process string
	// Seed seeds the Poisson process; runs with the same seed send at the same times.
	Seed uint64
}

// Stage is one segment of a Profile.
type Stage struct {
	Duration time.Duration `json:"duration"`
	Target   float64       `json:"target"`
}

// Sine shapes a Profile.
type Sine struct {
	Period    time.Duration `json:"period"`
	Amplitude float64       `json:"amplitude"`
}

// Burst is a sudden change of rate: from At for Duration, the rate is Rate.
type Burst struct {
	At       time.Duration `json:"at"`
	Duration time.Duration `json:"duration"`
	Rate     float64       `json:"rate"`
}

// ConstantProfile is rate requests per second for d.
func ConstantProfile(rate float64, d time.Duration) Profile {
	return Profile{StartRate: rate, Stages: []Stage{{Duration: d, Target: rate}}}
}

// Duration is the length of the profile.
func (p *Profile) Duration() time.Duration {
	var d time.Duration
	for _, s := range p.Stages {
		d += s.Duration
	}
	return d
}

// Rate is the offered rate at t, in requests per second.
func (p *Profile) Rate(t time.Duration) float64 {
	for _, b := range p.Bursts {
		if t >= b.At && t < b.At+b.Duration {
			return b.Rate
		}
	}
	from, start := p.StartRate, time.Duration(0)
	base := from
	for _, s := range p.Stages {
		if t < start+s.Duration {
			base = from + (s.Target-from)*float64(t-start)/float64(s.Duration)
			break
		}
		from, start, base = s.Target, start+s.Duration, s.Target
	}
	if p.Sine != nil && p.Sine.Period > 0 {
		base *= 1 + p.Sine.Amplitude*math.Sin(2*math.Pi*float64(t)/float64(p.Sine.Period)-math.Pi/2)
	}
	return max(base, 0)
}

// Validate reports the first field that makes the profile unusable.
func (p *Profile) Validate() error {
	if len(p.Stages) == 0 {
		return fmt.Errorf("stages: none (want at least one stage with a duration and a rate)")
	}
	if !(p.StartRate >= 0) || p.StartRate > 1e7 {
		return fmt.Errorf("start_rate %v: want 0 to 1e7 requests per second", p.StartRate)
	}
	for i, s := range p.Stages {
		if s.Duration <= 0 {
			return fmt.Errorf("stages[%d].duration %v: want a positive duration", i, s.Duration)
		}
		if !(s.Target >= 0) || s.Target > 1e7 {
			return fmt.Errorf("stages[%d] rate %v: want 0 to 1e7 requests per second", i, s.Target)
		}
	}
	if d := p.Duration(); d > 31*24*time.Hour {
		return fmt.Errorf("stages: total duration %v: at most 31 days", d)
	}
	if p.Sine != nil {
		if p.Sine.Period <= 0 {
			return fmt.Errorf("sine.period %v: want a positive duration", p.Sine.Period)
		}
		if !(p.Sine.Amplitude >= 0 && p.Sine.Amplitude <= 1) {
			return fmt.Errorf("sine.amplitude %v: want 0 to 1", p.Sine.Amplitude)
		}
	}
	for i, b := range p.Bursts {
		if b.At < 0 || b.Duration <= 0 {
			return fmt.Errorf("bursts[%d]: at %v duration %v: want at >= 0 and a positive duration", i, b.At, b.Duration)
		}
		if !(b.Rate >= 0) || b.Rate > 1e7 {
			return fmt.Errorf("bursts[%d].rate %v: want 0 to 1e7 requests per second", i, b.Rate)
		}
		if i > 0 && b.At < p.Bursts[i-1].At+p.Bursts[i-1].Duration {
			return fmt.Errorf("bursts[%d]: starts at %v, before bursts[%d] ends: list bursts in order, without overlap", i, b.At, i-1)
		}
	}
	switch p.Process {
	case "", "constant", "poisson":
	default:
		return fmt.Errorf("arrival %q: want constant or poisson", p.Process)
	}
	if p.expected() > 5e8 {
		return fmt.Errorf("stages: about %.0f requests planned: at most 5e8", p.expected())
	}
	return nil
}

// expected is the planned number of requests (the integral of the rate, by the midpoint
// rule over at most 100000 steps).
func (p *Profile) expected() float64 {
	d := p.Duration()
	step := max(10*time.Millisecond, d/100000)
	var n float64
	for t := time.Duration(0); t < d; t += step {
		w := min(step, d-t)
		n += p.Rate(t+w/2) * w.Seconds()
	}
	return n
}

// arrivals returns a generator of arrival offsets following the profile: each call returns
// the next one, false once the profile is over. Arrival k of a constant process is where the
// integral of the rate reaches k+1/2 (so a rate r over d sends r*d requests); a Poisson
// process steps the integral by exponential variates instead. The integral advances by the
// trapezoid rule in steps of 1ms, longer where the rate is low and steady (up to 1s), never
// across a stage's or a burst's edge.
func (p *Profile) arrivals() func() (time.Duration, bool) {
	end := p.Duration()
	var (
		t      time.Duration // start of the current step
		t1     time.Duration // its end
		lam    float64       // integral of the rate up to t
		inc    = -1.0        // integral over the current step; < 0: not computed
		target = 0.5
		rng    *rand.Rand
	)
	if p.Process == "poisson" {
		rng = rand.New(rand.NewPCG(p.Seed, p.Seed^0x9e3779b97f4a7c15))
		target = rng.ExpFloat64()
	}
	return func() (time.Duration, bool) {
		for {
			if t >= end {
				return 0, false
			}
			if inc < 0 {
				t1 = min(t+p.step(t), p.nextEdge(t), end)
				inc = (p.Rate(t) + p.Rate(t1-1)) / 2 * (t1 - t).Seconds()
			}
			if lam+inc >= target && inc > 0 {
				at := t + time.Duration((target-lam)/inc*float64(t1-t))
				if rng != nil {
					target += rng.ExpFloat64()
				} else {
					target++
				}
				return at, true
			}
			lam += inc
			t, inc = t1, -1
		}
	}
}

// step is the integration step at t: 1ms, or up to 1s where fewer than 0.01 arrivals fall
// in it and the rate changes by less than half over it.
func (p *Profile) step(t time.Duration) time.Duration {
	const fine = time.Millisecond
	r0 := p.Rate(t)
	if r0 >= 10 {
		return fine
	}
	dt := time.Second
	if r0 > 0 {
		dt = min(dt, time.Duration(0.01/r0*float64(time.Second)))
	}
	if p.Sine != nil {
		dt = min(dt, p.Sine.Period/1000)
	}
	for dt > fine {
		r1 := p.Rate(t + dt)
		if r1*dt.Seconds() < 0.01 && math.Abs(r1-r0) <= 0.5*max(r0, r1)+1e-9 || r1 == r0 {
			break
		}
		dt /= 2
	}
	return max(dt, fine)
}

// nextEdge is the first stage end or burst edge after t.
func (p *Profile) nextEdge(t time.Duration) time.Duration {
	e := time.Duration(math.MaxInt64)
	var at time.Duration
	for _, s := range p.Stages {
		at += s.Duration
		if at > t {
			e = min(e, at)
			break
		}
	}
	for _, b := range p.Bursts {
		if b.At > t {
			e = min(e, b.At)
		}
		if b.At+b.Duration > t {
			e = min(e, b.At+b.Duration)
		}
	}
	return e
}

// schedPacer paces vegeta by a list of arrival offsets, generated as they are needed. It
// keeps the planned offsets so that each request's lateness can be measured.
type schedPacer struct {
	next func() (time.Duration, bool)
	rate func(time.Duration) float64

	mu      sync.Mutex
	began   time.Time
	planned []time.Duration
	done    bool
}

func newSchedPacer(next func() (time.Duration, bool), rate func(time.Duration) float64) *schedPacer {
	return &schedPacer{next: next, rate: rate}
}

// Pace implements vegeta.Pacer.
func (p *schedPacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.began.IsZero() {
		p.began = time.Now().Add(-elapsed)
	}
	for uint64(len(p.planned)) <= hits {
		if p.done {
			return 0, true
		}
		at, ok := p.next()
		if !ok {
			p.done = true
			return 0, true
		}
		p.planned = append(p.planned, at)
	}
	return p.planned[hits] - elapsed, false
}

// Rate implements vegeta.Pacer.
func (p *schedPacer) Rate(elapsed time.Duration) float64 { return p.rate(elapsed) }

// plannedAt returns the planned offset of the i-th request.
func (p *schedPacer) plannedAt(i uint64) (time.Duration, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if i < uint64(len(p.planned)) {
		return p.planned[i], true
	}
	return 0, false
}

func (p *schedPacer) start() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.began
}
