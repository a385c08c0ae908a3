package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Target is one request of the load; a run cycles through its targets in order.
type Target struct {
	Method string // GET when empty
	URL    string
	Header http.Header
	Body   []byte
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
	timeout    time.Duration
	output     io.Writer
	metricsURL string
	progress   io.Writer
	client     *http.Client
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

// WithMetricsURL scrapes the service's Prometheus endpoint before and after each run and
// reports its own RED figures beside the client's (Report.Server).
func WithMetricsURL(url string) Option {
	return optionFunc(func(c *config) { c.metricsURL = url })
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

// Run sends requests to targets at a constant rate (requests per second) for d, without
// waiting for earlier answers, then reports the latency distribution, throughput and errors.
// It returns early, with what it measured so far, when ctx is done.
func Run(ctx context.Context, targets []Target, rate float64, d time.Duration, opts ...Option) (*Report, error) {
	c := newConfig(opts)
	return c.run(ctx, targets, rate, d, "")
}

func (c *config) run(ctx context.Context, targets []Target, rate float64, d time.Duration, prefix string) (*Report, error) {
	if len(targets) == 0 {
		return nil, errors.New("load: no target")
	}
	if !(rate > 0) || rate > 1e7 {
		return nil, fmt.Errorf("load: rate %v: want a positive number of requests per second", rate)
	}
	if d <= 0 {
		return nil, fmt.Errorf("load: duration %v: want a positive duration", d)
	}
	vts := make([]vegeta.Target, len(targets))
	for i, t := range targets {
		m := t.Method
		if m == "" {
			m = http.MethodGet
		}
		vts[i] = vegeta.Target{Method: m, URL: t.URL, Header: t.Header, Body: t.Body}
	}

	client, transport := c.client, (*http.Transport)(nil)
	if client == nil {
		transport = &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         (&net.Dialer{Timeout: c.timeout, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConnsPerHost: 10000,
		}
		client = &http.Client{Transport: transport}
		defer transport.CloseIdleConnections()
	}
	client.Timeout = c.timeout

	var before *Snapshot
	if c.metricsURL != "" {
		s, err := Scrape(ctx, client, c.metricsURL)
		if err != nil {
			return nil, fmt.Errorf("load: before the run: %w", err)
		}
		before = s
	}

	var enc vegeta.Encoder
	if c.output != nil {
		enc = vegeta.NewEncoder(c.output)
	}
	attacker := vegeta.NewAttacker(vegeta.Client(client))
	name := fmt.Sprintf("rate=%g", rate)
	results := attacker.Attack(vegeta.NewStaticTargeter(vts...), pacer(rate), d, name)

	stopped := make(chan struct{})
	defer close(stopped)
	go func() {
		select {
		case <-ctx.Done():
			attacker.Stop()
		case <-stopped:
		}
	}()

	var tick <-chan time.Time
	if c.progress != nil {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		tick = t.C
	}
	start := time.Now()
	var m vegeta.Metrics
	var failed uint64
	var encErr error
loop:
	for {
		select {
		case r, ok := <-results:
			if !ok {
				break loop
			}
			m.Add(r)
			if r.Error != "" || r.Code < 200 || r.Code >= 400 {
				failed++
			}
			if enc != nil && encErr == nil {
				encErr = enc.Encode(r)
			}
		case <-tick:
			fmt.Fprintf(c.progress, "%s  %s/%s: %d responses, %d errors\n", prefix,
				time.Since(start).Round(time.Second), d, m.Requests, failed)
		}
	}
	m.Close()
	rep := newReport(&m, rate)
	if before != nil {
		after, err := Scrape(context.WithoutCancel(ctx), client, c.metricsURL)
		if err != nil {
			return rep, fmt.Errorf("load: after the run: %w", err)
		}
		rep.Server = Diff(before, after)
	}
	if encErr != nil {
		return rep, fmt.Errorf("load: writing results: %w", encErr)
	}
	if err := ctx.Err(); err != nil {
		return rep, fmt.Errorf("load: interrupted: %w", err)
	}
	return rep, nil
}

// pacer paces rate requests per second; fractional rates keep their precision.
func pacer(rate float64) vegeta.Pacer {
	if rate == math.Trunc(rate) {
		return vegeta.ConstantPacer{Freq: int(rate), Per: time.Second}
	}
	return vegeta.ConstantPacer{Freq: int(math.Round(rate * 1000)), Per: 1000 * time.Second}
}
