package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Target is one request of the load; a run cycles through its targets in order, or, when
// they have weights, in a smooth weighted round robin (a target of weight 3 is picked three
// times as often as one of weight 1, interleaved).
type Target struct {
	Method string // GET when empty
	URL    string
	Header http.Header
	Body   []byte
	// Name labels the target in reports (a scenario's targets have one).
	Name string
	// Weight is the share of the requests that go to this target; zero counts as 1.
	Weight float64
	// Budget applies to this target's requests alone.
	Budget Budget
}

// ParseTarget reads "URL" or "METHOD URL" (as in "POST http://127.0.0.1:8080/checkout").
func ParseTarget(s string) (Target, error) {
	t := Target{Method: http.MethodGet, URL: strings.TrimSpace(s)}
	if m, u, ok := strings.Cut(t.URL, " "); ok {
		t.Method, t.URL = strings.ToUpper(m), strings.TrimSpace(u)
	}
	u, err := url.Parse(t.URL)
	if err != nil {
		return Target{}, fmt.Errorf("target %q: want an http:// or https:// URL: %w", s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return Target{}, fmt.Errorf("target %q: want an http:// or https:// URL with a host", s)
	}
	return t, nil
}

// Option tunes Run and Stress.
type Option interface{ apply(*config) }

type config struct {
	timeout        time.Duration
	output         io.Writer
	metricsURL     string
	progress       io.Writer
	client         *http.Client
	maxWorkers     uint64
	sampleInterval time.Duration
	trends         int // 0 auto, 1 on, -1 off
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

func newConfig(opts []Option) config {
	c := config{timeout: 30 * time.Second}
	for _, o := range opts {
		o.apply(&c)
	}
	return c
}

// WithTimeout bounds each request (default 30s); a request that takes longer is an error.
func WithTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d > 0 {
			c.timeout = d
		}
	})
}

// WithOutput writes every result to w in vegeta's binary encoding, which `vegeta report`,
// ReadResults and `perfobs load report` read.
func WithOutput(w io.Writer) Option {
	return optionFunc(func(c *config) { c.output = w })
}

// WithMetricsURL scrapes the service's Prometheus endpoint before, during and after each run:
// the service's own RED figures go beside the client's (Report.Server), and its runtime
// series (goroutines, live heap, open file descriptors, resident memory) are fitted for
// trends (Report.Trends).
func WithMetricsURL(url string) Option {
	return optionFunc(func(c *config) { c.metricsURL = url })
}

// WithSampleInterval sets how often /metrics is scraped during a run (default: the run's
// duration / 120, at least 1s).
func WithSampleInterval(d time.Duration) Option {
	return optionFunc(func(c *config) { c.sampleInterval = d })
}

// WithTrends forces the soak trend fits on (true) or off (false). By default they are on
// for runs of a minute or longer with WithMetricsURL, where WithDefaults also adds "no
// significant growth" of goroutines and live heap to the budget.
func WithTrends(on bool) Option {
	return optionFunc(func(c *config) {
		c.trends = -1
		if on {
			c.trends = 1
		}
	})
}

// WithProgress writes progress lines to w while the load runs: once a second during a run,
// and one line per step of a ramp.
func WithProgress(w io.Writer) Option {
	return optionFunc(func(c *config) { c.progress = w })
}

// WithTransport sends requests through rt instead of a transport of the package's own
// (keep-alive, up to 10000 idle connections per host).
func WithTransport(rt http.RoundTripper) Option {
	return optionFunc(func(c *config) { c.client = &http.Client{Transport: rt} })
}

// WithMaxWorkers caps the requests in flight at once (default: no cap, as many as the
// schedule needs). A capped generator that runs out of workers falls behind its schedule,
// and the report says so (Report.Generator).
func WithMaxWorkers(n uint64) Option {
	return optionFunc(func(c *config) { c.maxWorkers = n })
}

// TrendsOn tells whether a run of duration d with these options fits trends.
func TrendsOn(d time.Duration, opts ...Option) bool {
	c := newConfig(opts)
	return c.trendsOn(d)
}

func (c *config) trendsOn(d time.Duration) bool {
	if c.metricsURL == "" {
		return false
	}
	switch c.trends {
	case 1:
		return true
	case -1:
		return false
	}
	return d >= time.Minute
}

// Run sends requests to targets at a constant rate (requests per second) for d, without
// waiting for earlier answers, then reports the latency distribution, throughput and errors.
// It returns early, with what it measured so far, when ctx is done.
func Run(ctx context.Context, targets []Target, rate float64, d time.Duration, opts ...Option) (*Report, error) {
	c := newConfig(opts)
	return c.run(ctx, targets, rate, d, "")
}

// RunProfile sends requests to targets following an arrival profile (stages, sine, bursts;
// constant or Poisson arrivals).
func RunProfile(ctx context.Context, targets []Target, p Profile, opts ...Option) (*Report, error) {
	c := newConfig(opts)
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	return c.execute(ctx, profilePlan(p), targets, "")
}

func (c *config) run(ctx context.Context, targets []Target, rate float64, d time.Duration, prefix string) (*Report, error) {
	if !(rate > 0) || rate > 1e7 {
		return nil, fmt.Errorf("load: rate %v: want a positive number of requests per second", rate)
	}
	if d <= 0 {
		return nil, fmt.Errorf("load: duration %v: want a positive duration", d)
	}
	return c.execute(ctx, profilePlan(ConstantProfile(rate, d)), targets, prefix)
}

// plan is what a run sends and when.
type plan struct {
	next     func() (time.Duration, bool) // arrival offsets
	rate     func(time.Duration) float64  // offered rate at an offset
	duration time.Duration
	mean     float64 // offered requests per second on average
	pick     func(n int) func() int
}

func profilePlan(p Profile) plan {
	mean := 0.0
	if d := p.Duration(); d > 0 {
		mean = p.expected() / d.Seconds()
	}
	return plan{next: p.arrivals(), rate: p.Rate, duration: p.Duration(), mean: mean}
}

// weightedPicker picks targets by smooth weighted round robin: deterministic, exact shares,
// interleaved.
func weightedPicker(targets []Target) func() int {
	var mu sync.Mutex
	w := make([]float64, len(targets))
	cur := make([]float64, len(targets))
	total := 0.0
	for i, t := range targets {
		w[i] = t.Weight
		if w[i] <= 0 {
			w[i] = 1
		}
		total += w[i]
	}
	return func() int {
		mu.Lock()
		defer mu.Unlock()
		best := 0
		for i := range cur {
			cur[i] += w[i]
			if cur[i] > cur[best] {
				best = i
			}
		}
		cur[best] -= total
		return best
	}
}

// inflight counts the requests in flight through a transport.
type inflight struct {
	rt       http.RoundTripper
	now, top atomic.Int64
}

func (f *inflight) RoundTrip(req *http.Request) (*http.Response, error) {
	n := f.now.Add(1)
	for {
		t := f.top.Load()
		if n <= t || f.top.CompareAndSwap(t, n) {
			break
		}
	}
	defer f.now.Add(-1)
	return f.rt.RoundTrip(req)
}

func (c *config) execute(ctx context.Context, p plan, targets []Target, prefix string) (*Report, error) {
	if len(targets) == 0 {
		return nil, errors.New("load: no target")
	}
	targets = slices.Clone(targets) // defaults are filled in below
	keys := map[string]int32{}
	for i, t := range targets {
		if t.Method == "" {
			targets[i].Method = http.MethodGet
		}
		k := targets[i].Method + " " + t.URL
		if _, dup := keys[k]; !dup {
			keys[k] = int32(i)
		}
	}
	pick := weightedPicker(targets)
	if p.pick != nil {
		pick = p.pick(len(targets))
	}
	targeter := func(tgt *vegeta.Target) error {
		t := &targets[pick()]
		*tgt = vegeta.Target{Method: t.Method, URL: t.URL, Header: t.Header, Body: t.Body}
		return nil
	}

	client := c.client
	if client == nil {
		transport := &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         (&net.Dialer{Timeout: c.timeout, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConnsPerHost: 10000,
		}
		client = &http.Client{Transport: transport}
		defer transport.CloseIdleConnections()
	}
	rt := client.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	flight := &inflight{rt: rt}
	attackClient := &http.Client{Transport: flight, Timeout: c.timeout}
	scrapeClient := &http.Client{Transport: rt, Timeout: max(c.timeout, 10*time.Second)}

	trends := c.trendsOn(p.duration)
	var before *Snapshot
	if c.metricsURL != "" {
		s, err := Scrape(ctx, scrapeClient, c.metricsURL)
		if err != nil {
			return nil, fmt.Errorf("load: before the run: %w", err)
		}
		before = s
	}

	var enc vegeta.Encoder
	if c.output != nil {
		enc = vegeta.NewEncoder(c.output)
	}
	aopts := []func(*vegeta.Attacker){vegeta.Client(attackClient)}
	if c.maxWorkers > 0 {
		aopts = append(aopts, vegeta.MaxWorkers(c.maxWorkers), vegeta.Workers(min(c.maxWorkers, vegeta.DefaultWorkers)))
	}
	attacker := vegeta.NewAttacker(aopts...)
	pacer := newSchedPacer(p.next, p.rate)
	cpu0, wall0 := cpuTime(), time.Now()
	results := attacker.Attack(targeter, pacer, 0, fmt.Sprintf("perfobs-%g", p.mean))

	stopped := make(chan struct{})
	var wg sync.WaitGroup
	defer func() { close(stopped); wg.Wait() }()
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-ctx.Done():
			attacker.Stop()
		case <-stopped:
		}
	}()

	// The sampler scrapes /metrics during the run.
	var (
		smu     sync.Mutex
		snaps   []*Snapshot
		sfailed int
	)
	interval := c.sampleInterval
	if interval <= 0 {
		interval = max(time.Second, p.duration/120)
	}
	samplerDone := make(chan struct{})
	if before != nil {
		snaps = append(snaps, before)
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(interval)
			defer t.Stop()
			for {
				select {
				case <-samplerDone:
					return
				case <-stopped:
					return
				case <-t.C:
					s, err := Scrape(ctx, scrapeClient, c.metricsURL)
					smu.Lock()
					if err != nil {
						sfailed++
					} else {
						snaps = append(snaps, s)
					}
					smu.Unlock()
				}
			}
		}()
	}

	var tick <-chan time.Time
	if c.progress != nil {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		tick = t.C
	}
	start := time.Now()
	var (
		recs     []record
		failed   uint64
		encErr   error
		errs     []string
		errSeen  = map[string]bool{}
		received uint64
		began    time.Time
	)
loop:
	for {
		select {
		case r, ok := <-results:
			if !ok {
				break loop
			}
			received++
			if began.IsZero() {
				began = pacer.start() // set by the first Pace, before the first request
			}
			rec := record{at: r.Timestamp.Sub(began), lat: r.Latency, code: r.Code, target: -1,
				failed: r.Error != "" || r.Code < 200 || r.Code >= 400}
			if planned, ok := pacer.plannedAt(r.Seq); ok {
				rec.late = max(rec.at-planned, 0)
			}
			if i, ok := keys[r.Method+" "+r.URL]; ok {
				rec.target = i
			}
			recs = append(recs, rec)
			if r.Error != "" || r.Code < 200 || r.Code >= 400 {
				failed++
			}
			if r.Error != "" && !errSeen[r.Error] && len(errSeen) < 100 {
				errSeen[r.Error] = true
				errs = append(errs, r.Error)
			}
			if enc != nil && encErr == nil {
				encErr = enc.Encode(r)
			}
		case <-tick:
			fmt.Fprintf(c.progress, "%s  %s/%s: %d responses, %d errors\n", prefix,
				time.Since(start).Round(time.Second), p.duration, received, failed)
		}
	}
	cpu, wall := cpuTime()-cpu0, time.Since(wall0)
	close(samplerDone)

	if began.IsZero() {
		began = pacer.start()
	}
	slices.SortFunc(recs, func(a, b record) int { return cmpDur(a.at, b.at) })
	rep := newReport(recs, p.mean, errs)
	rep.planned, rep.offered, rep.targets = p.duration, p.rate, targets
	if p.duration > 0 && ctx.Err() == nil {
		// The run lasted as planned: rates are over its whole length, not between the first
		// and the last send.
		rep.Duration = p.duration
		rep.Sent = float64(rep.Requests) / p.duration.Seconds()
	}
	rep.Generator = generatorHealth(rep, flight.top.Load(), c.maxWorkers, cpu, wall)
	rep.buildTimeline()
	rep.Generator.since(rep)
	rep.targetReports()
	if before != nil {
		after, err := Scrape(context.WithoutCancel(ctx), scrapeClient, c.metricsURL)
		if err != nil {
			return rep, fmt.Errorf("load: after the run: %w", err)
		}
		rep.Server = Diff(before, after)
		smu.Lock()
		all := append(snaps, after)
		smu.Unlock()
		for _, s := range all {
			rep.samples = append(rep.samples, sample{at: max(s.at.Sub(began), 0), snap: s})
		}
		if trends {
			rep.Trends = rep.fitTrends(interval, sfailed)
		}
	}
	if encErr != nil {
		return rep, fmt.Errorf("load: writing results: %w", encErr)
	}
	if err := ctx.Err(); err != nil {
		return rep, fmt.Errorf("load: interrupted: %w", err)
	}
	return rep, nil
}

func cmpDur(a, b time.Duration) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// targetReports fills r.Targets when the run had more than one target or named ones.
func (r *Report) targetReports() {
	if len(r.targets) < 2 && (len(r.targets) == 0 || r.targets[0].Name == "") {
		return
	}
	by := make([][]record, len(r.targets))
	for _, rec := range r.recs {
		if rec.target >= 0 {
			by[rec.target] = append(by[rec.target], rec)
		}
	}
	r.Targets = nil
	for i, t := range r.targets {
		st := collect(by[i])
		name := t.Name
		if name == "" {
			name = t.Method + " " + t.URL
		}
		tr := TargetReport{Name: name, Method: t.Method, URL: t.URL, Requests: st.requests, ErrorRate: st.errorRate()}
		tr.P50, _ = st.quantile(0.5)
		tr.P99, _ = st.quantile(0.99)
		if len(t.Budget) > 0 {
			tr.Budget = t.Budget.String()
		}
		r.Targets = append(r.Targets, tr)
	}
}

// targetReport returns the records of target i as a report of their own.
func (r *Report) targetReport(i int) *Report {
	var recs []record
	for _, rec := range r.recs {
		if rec.target == int32(i) {
			recs = append(recs, rec)
		}
	}
	s := newReport(recs, 0, nil)
	s.planned = r.planned
	return s
}
