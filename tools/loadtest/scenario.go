package loadtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Scenario is a load test read from YAML (ParseScenario): stages of arrival rate, an arrival
// process, bursts, weighted targets, and the budgets the run must meet.
//
//	name: checkout
//	arrival: poisson          # constant (default) or poisson
//	seed: 7                   # of the Poisson process
//	start_rate: 0             # where the first stage's ramp starts
//	stages:
//	  - {duration: 30s, target: 100}   # ramp linearly to 100 req/s
//	  - {duration: 5m, rate: 100}      # hold 100 req/s
//	sine: {period: 2m, amplitude: 0.5} # a diurnal curve scaled to minutes
//	bursts:
//	  - {at: 1m, duration: 10s, rate: 500}
//	spike: {window: 1s, threshold: 50ms}
//	timeout: 5s
//	base: http://127.0.0.1:8080        # prefix of targets written as paths
//	budget: "p99<200ms,errors<1%,p99<300ms over 30s,recovery<5s"
//	targets:
//	  - name: list
//	    url: /items
//	    weight: 8
//	  - name: buy
//	    method: POST
//	    url: /checkout
//	    headers: {Content-Type: application/json}
//	    body: '{"item": 1}'
//	    weight: 1
//	    budget: "p99<300ms"
type Scenario struct {
	Name    string
	Profile Profile
	Spike   SpikeOptions
	Timeout time.Duration
	Budget  Budget
	Targets []Target
}

type rawScenario struct {
	Name      string      `yaml:"name"`
	Arrival   string      `yaml:"arrival"`
	Seed      uint64      `yaml:"seed"`
	StartRate *float64    `yaml:"start_rate"`
	Stages    []rawStage  `yaml:"stages"`
	Sine      *rawSine    `yaml:"sine"`
	Bursts    []rawBurst  `yaml:"bursts"`
	Spike     *rawSpike   `yaml:"spike"`
	Timeout   string      `yaml:"timeout"`
	Base      string      `yaml:"base"`
	Budget    string      `yaml:"budget"`
	Targets   []rawTarget `yaml:"targets"`
}

type rawStage struct {
	Duration string   `yaml:"duration"`
	Target   *float64 `yaml:"target"`
	Rate     *float64 `yaml:"rate"`
}

type rawSine struct {
	Period    string  `yaml:"period"`
	Amplitude float64 `yaml:"amplitude"`
}

type rawBurst struct {
	At       string  `yaml:"at"`
	Duration string  `yaml:"duration"`
	Rate     float64 `yaml:"rate"`
}

type rawSpike struct {
	Window    string `yaml:"window"`
	Threshold string `yaml:"threshold"`
}

type rawTarget struct {
	Name    string            `yaml:"name"`
	Method  string            `yaml:"method"`
	URL     string            `yaml:"url"`
	Headers map[string]string `yaml:"headers"`
	Body    string            `yaml:"body"`
	Weight  *float64          `yaml:"weight"`
	Budget  string            `yaml:"budget"`
}

// ReadScenario reads a scenario file; base, when not empty, replaces the file's base.
func ReadScenario(path, base string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseScenario(data, path, base)
}

// ParseScenario parses a scenario; name is used in errors, base (when not empty) replaces
// the scenario's base URL. Errors name the field (stages[1].duration) or the YAML line.
func ParseScenario(data []byte, name, base string) (*Scenario, error) {
	var raw rawScenario
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty scenario", name)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	sc, err := raw.build(base)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return sc, nil
}

func parseDur(field, s string, zeroOK bool) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		if zeroOK {
			return 0, nil
		}
		return 0, fmt.Errorf("%s: missing (want a duration such as 30s)", field)
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 || (d == 0 && !zeroOK) {
		return 0, fmt.Errorf("%s %q: want a positive duration such as 30s", field, s)
	}
	return d, nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func (raw *rawScenario) build(baseOverride string) (*Scenario, error) {
	sc := &Scenario{Name: raw.Name}
	p := &sc.Profile
	switch strings.ToLower(strings.TrimSpace(raw.Arrival)) {
	case "", "constant":
		p.Process = "constant"
	case "poisson":
		p.Process = "poisson"
	default:
		return nil, fmt.Errorf("arrival %q: want constant or poisson (sine and bursts are fields of their own)", raw.Arrival)
	}
	p.Seed = raw.Seed
	if len(raw.Stages) == 0 {
		return nil, errors.New("stages: none (want at least one, such as {duration: 1m, rate: 100})")
	}
	prev := 0.0
	if raw.StartRate != nil {
		prev = *raw.StartRate
	}
	for i, s := range raw.Stages {
		field := fmt.Sprintf("stages[%d]", i)
		d, err := parseDur(field+".duration", s.Duration, false)
		if err != nil {
			return nil, err
		}
		var st Stage
		switch {
		case s.Rate != nil && s.Target != nil:
			return nil, fmt.Errorf("%s: both rate (hold) and target (ramp): give one", field)
		case s.Rate != nil:
			if i == 0 && raw.StartRate == nil {
				prev = *s.Rate
			}
			if *s.Rate != prev {
				// A hold at a new rate: a step, done as an instant ramp.
				p.Stages = append(p.Stages, Stage{Duration: time.Nanosecond, Target: *s.Rate})
				d -= time.Nanosecond
			}
			st = Stage{Duration: d, Target: *s.Rate}
		case s.Target != nil:
			st = Stage{Duration: d, Target: *s.Target}
		default:
			return nil, fmt.Errorf("%s: no rate: give rate (hold) or target (ramp to), in requests per second", field)
		}
		if !finite(st.Target) || st.Target < 0 || st.Target > 1e7 {
			return nil, fmt.Errorf("%s: rate %v: want 0 to 1e7 requests per second", field, st.Target)
		}
		p.Stages = append(p.Stages, st)
		prev = st.Target
	}
	if raw.StartRate != nil {
		p.StartRate = *raw.StartRate
	} else if raw.Stages[0].Rate != nil {
		p.StartRate = *raw.Stages[0].Rate
	}
	if raw.Sine != nil {
		d, err := parseDur("sine.period", raw.Sine.Period, false)
		if err != nil {
			return nil, err
		}
		p.Sine = &Sine{Period: d, Amplitude: raw.Sine.Amplitude}
	}
	for i, b := range raw.Bursts {
		field := fmt.Sprintf("bursts[%d]", i)
		at, err := parseDur(field+".at", b.At, true)
		if err != nil {
			return nil, err
		}
		d, err := parseDur(field+".duration", b.Duration, false)
		if err != nil {
			return nil, err
		}
		p.Bursts = append(p.Bursts, Burst{At: at, Duration: d, Rate: b.Rate})
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	for i, b := range p.Bursts {
		if b.At >= p.Duration() {
			return nil, fmt.Errorf("bursts[%d].at %v: after the stages end (%v)", i, b.At, p.Duration())
		}
	}
	if raw.Spike != nil {
		var err error
		if sc.Spike.Window, err = parseDur("spike.window", raw.Spike.Window, true); err != nil {
			return nil, err
		}
		if sc.Spike.Threshold, err = parseDur("spike.threshold", raw.Spike.Threshold, true); err != nil {
			return nil, err
		}
	}
	var err error
	if sc.Timeout, err = parseDur("timeout", raw.Timeout, true); err != nil {
		return nil, err
	}
	if strings.TrimSpace(raw.Budget) != "" {
		if sc.Budget, err = ParseBudget(raw.Budget); err != nil {
			return nil, fmt.Errorf("budget: %w", err)
		}
	}
	base := raw.Base
	if baseOverride != "" {
		base = baseOverride
	}
	if len(raw.Targets) == 0 {
		return nil, errors.New("targets: none (want at least one, such as {url: http://127.0.0.1:8080/})")
	}
	names := map[string]bool{}
	keys := map[string]string{}
	for i, rt := range raw.Targets {
		field := fmt.Sprintf("targets[%d]", i)
		u := strings.TrimSpace(rt.URL)
		if strings.HasPrefix(u, "/") {
			if base == "" {
				return nil, fmt.Errorf("%s.url %q: a path needs base (in the file, or --base URL)", field, u)
			}
			u = strings.TrimRight(base, "/") + u
		}
		method := strings.ToUpper(strings.TrimSpace(rt.Method))
		if method == "" {
			method = http.MethodGet
		}
		if strings.ContainsAny(method, " \t/") {
			return nil, fmt.Errorf("%s.method %q: not an HTTP method", field, rt.Method)
		}
		t, err := ParseTarget(method + " " + u)
		if err != nil {
			return nil, fmt.Errorf("%s.url: %w", field, err)
		}
		t.Name = rt.Name
		if t.Name == "" {
			t.Name = method + " " + u
		}
		if names[t.Name] {
			return nil, fmt.Errorf("%s.name %q: used twice", field, t.Name)
		}
		names[t.Name] = true
		t.Weight = 1
		if rt.Weight != nil {
			if !finite(*rt.Weight) || *rt.Weight <= 0 || *rt.Weight > 1e6 {
				return nil, fmt.Errorf("%s.weight %v: want a positive number", field, *rt.Weight)
			}
			t.Weight = *rt.Weight
		}
		if len(rt.Headers) > 0 {
			t.Header = http.Header{}
			for k, v := range rt.Headers {
				if strings.TrimSpace(k) == "" || strings.ContainsAny(k, " :\r\n") || strings.ContainsAny(v, "\r\n") {
					return nil, fmt.Errorf("%s.headers %q: not a header name and value", field, k)
				}
				t.Header.Set(k, v)
			}
		}
		if rt.Body != "" {
			t.Body = []byte(rt.Body)
		}
		if strings.TrimSpace(rt.Budget) != "" {
			if t.Budget, err = ParseBudget(rt.Budget); err != nil {
				return nil, fmt.Errorf("%s.budget: %w", field, err)
			}
			for _, l := range t.Budget {
				if isTrend(l.Metric) || l.Metric == "recovery" {
					return nil, fmt.Errorf("%s.budget: %s is a limit of the whole service, not of one target", field, l.Metric)
				}
			}
		}
		k := method + " " + t.URL
		if prev, dup := keys[k]; dup && (len(t.Budget) > 0 || len(sc.Targets[indexOf(sc.Targets, prev)].Budget) > 0) {
			return nil, fmt.Errorf("%s: same method and URL as %q: targets with a budget need a method and URL of their own", field, prev)
		}
		keys[k] = t.Name
		sc.Targets = append(sc.Targets, t)
	}
	return sc, nil
}

func indexOf(ts []Target, name string) int {
	for i, t := range ts {
		if t.Name == name {
			return i
		}
	}
	return 0
}

// RunScenario runs a scenario and measures the recovery from each of its bursts (against
// the scenario's budget, or the given one when not nil).
func RunScenario(ctx context.Context, sc *Scenario, opts ...Option) (*Report, error) {
	if sc.Timeout > 0 {
		opts = append([]Option{WithTimeout(sc.Timeout)}, opts...)
	}
	rep, err := RunProfile(ctx, sc.Targets, sc.Profile, opts...)
	if rep != nil && len(sc.Profile.Bursts) > 0 {
		rep.analyzeSpikes(sc.Profile.Bursts, sc.Spike, sc.Budget)
	}
	return rep, err
}
