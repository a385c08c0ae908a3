package canary

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Defaults used where a Config leaves a field zero.
const (
	DefaultAlpha         = 0.02 // family-wise, over every metric (Kayenta's 98% confidence, but for the family)
	DefaultMinRequests   = 1000 // per side, for each latency and error comparison
	DefaultMinPoints     = 50   // per side, for step-sampled comparisons (Kayenta's minimum)
	DefaultPassScore     = 95
	DefaultMarginalScore = 75

	DefaultLatencyRatioTolerance = 0.20  // the canary may have 20% more requests beyond a boundary...
	DefaultLatencyAbsTolerance   = 0.002 // ...or 0.2 percentage points more, whichever is larger
	DefaultErrorRatioTolerance   = 0.50  // 1.5 times the baseline's error ratio...
	DefaultErrorAbsTolerance     = 0.001 // ...or 0.1 percentage points more
	DefaultCostTolerance         = 0.25  // Hodges-Lehmann shift relative to the baseline's median
)

// Direction says which change of a metric is worse; only a worse change fails.
type Direction string

// Directions.
const (
	Increase Direction = "increase" // higher is worse (latency, errors, cost)
	Decrease Direction = "decrease" // lower is worse (throughput, cache hit ratio)
	Either   Direction = "either"   // any significant change beyond tolerance is worse
)

// Config tunes the judge. Its zero value is usable: every field says what zero means.
type Config struct {
	// Alpha is the family-wise significance level over all metrics (Holm). Zero: DefaultAlpha.
	Alpha float64 `yaml:"alpha"`
	// MinRequests is the fewest requests each side needs for a latency or error comparison.
	// Zero: DefaultMinRequests.
	MinRequests float64 `yaml:"min_requests"`
	// MinPoints is the fewest step samples each side needs in step-sampled comparisons.
	// Zero: DefaultMinPoints.
	MinPoints int `yaml:"min_points"`
	// Step is the sampling step of step-sampled comparisons. Zero: the window / 60, at least 10s.
	Step time.Duration `yaml:"step"`
	// PassScore and MarginalScore are the score thresholds (0-100): a score at or above
	// PassScore passes, at or above MarginalScore is marginal, below fails. Zero: 95 and 75.
	PassScore     float64 `yaml:"pass_score"`
	MarginalScore float64 `yaml:"marginal_score"`

	Latency LatencyConfig `yaml:"latency"`
	Errors  ErrorConfig   `yaml:"errors"`
	Cost    CostConfig    `yaml:"cost"`
	// Metrics are extra PromQL metrics, compared step-sampled.
	Metrics []MetricConfig `yaml:"metrics"`
	// IgnoreRoutes are regular expressions of HTTP routes and gRPC methods left out (health checks).
	IgnoreRoutes []string `yaml:"ignore_routes"`

	ignore []*regexp.Regexp
}

// Judged holds the fields every compared metric shares.
type Judged struct {
	// Critical metrics fail the verdict on their own. Nil: true for latency and errors, false
	// for cost and extra metrics.
	Critical *bool `yaml:"critical"`
	// Weight counts in the score. Zero: 1.
	Weight float64 `yaml:"weight"`
}

// LatencyConfig tunes the latency comparisons.
type LatencyConfig struct {
	Judged `yaml:",inline"`
	// Mode is "buckets" (the default: per-boundary exceedance fractions) or "mannwhitney"
	// (Kayenta: Mann-Whitney U over step-sampled quantiles).
	Mode string `yaml:"mode"`
	// RatioTolerance and AbsoluteTolerance: a boundary's canary exceedance fraction must beyond
	// both (1+RatioTolerance) times and AbsoluteTolerance more than the baseline's to fail.
	RatioTolerance    float64 `yaml:"ratio_tolerance"`
	AbsoluteTolerance float64 `yaml:"absolute_tolerance"`
	// Quantile of the step-sampled series in mannwhitney mode. Zero: 0.99.
	Quantile float64 `yaml:"quantile"`
	// Tolerance of the Hodges-Lehmann shift in mannwhitney mode. Zero: DefaultCostTolerance.
	Tolerance float64 `yaml:"tolerance"`
}

// ErrorConfig tunes the error-ratio comparisons.
type ErrorConfig struct {
	Judged            `yaml:",inline"`
	RatioTolerance    float64 `yaml:"ratio_tolerance"`
	AbsoluteTolerance float64 `yaml:"absolute_tolerance"`
}

// CostConfig tunes the cost and saturation comparisons (per instance, step-sampled).
type CostConfig struct {
	Judged `yaml:",inline"`
	// Disabled leaves them out.
	Disabled bool `yaml:"disabled"`
	// Tolerance of the Hodges-Lehmann shift relative to the baseline's median. Zero: 0.25.
	Tolerance float64 `yaml:"tolerance"`
}

// MetricConfig is an extra metric: a PromQL expression evaluated for each side at every step.
type MetricConfig struct {
	Judged `yaml:",inline"`
	// Name identifies the metric in the report.
	Name string `yaml:"name"`
	// Query is PromQL in which {{selector}} stands for the side's label matchers, for example
	// sum(rate(db_query_seconds_sum{{{selector}}}[1m])) / sum(rate(db_query_seconds_count{{{selector}}}[1m])).
	Query string `yaml:"query"`
	// Direction: increase (default), decrease or either.
	Direction Direction `yaml:"direction"`
	// Tolerance of the relative Hodges-Lehmann shift. Zero: DefaultCostTolerance.
	Tolerance float64 `yaml:"tolerance"`
}

// LoadConfig reads a YAML config file. Unknown fields are errors with their line.
func LoadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	c, err := ParseConfig(b)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ParseConfig parses and validates a YAML config.
func ParseConfig(b []byte) (Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, err
	}
	if err := c.validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

func bad(field string, v any, why string) error {
	return fmt.Errorf("%s %v: %s", field, v, why)
}

func checkFraction(field string, v float64) error {
	if math.IsNaN(v) || v < 0 || v >= 1 {
		return bad(field, v, "must be in [0, 1)")
	}
	return nil
}

func checkNonNeg(field string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return bad(field, v, "must be a finite number >= 0")
	}
	return nil
}

func (j Judged) validate(field string) error {
	return checkNonNeg(field+".weight", j.Weight)
}

// validate checks every field and compiles the route patterns.
func (c *Config) validate() error {
	if c.Alpha != 0 && (math.IsNaN(c.Alpha) || c.Alpha <= 0 || c.Alpha >= 0.5) {
		return bad("alpha", c.Alpha, "must be in (0, 0.5)")
	}
	if err := checkNonNeg("min_requests", c.MinRequests); err != nil {
		return err
	}
	if c.MinPoints < 0 {
		return bad("min_points", c.MinPoints, "must be >= 0")
	}
	if c.Step < 0 {
		return bad("step", c.Step, "must be >= 0")
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"pass_score", c.PassScore}, {"marginal_score", c.MarginalScore}} {
		if math.IsNaN(f.v) || f.v < 0 || f.v > 100 {
			return bad(f.name, f.v, "must be in [0, 100]")
		}
	}
	if c.PassScore != 0 && c.MarginalScore != 0 && c.MarginalScore > c.PassScore {
		return bad("marginal_score", c.MarginalScore, fmt.Sprintf("must not exceed pass_score %v", c.PassScore))
	}
	switch c.Latency.Mode {
	case "", "buckets", "mannwhitney":
	default:
		return bad("latency.mode", fmt.Sprintf("%q", c.Latency.Mode), `must be "buckets" or "mannwhitney"`)
	}
	if c.Latency.Quantile != 0 && (c.Latency.Quantile <= 0 || c.Latency.Quantile >= 1) {
		return bad("latency.quantile", c.Latency.Quantile, "must be in (0, 1)")
	}
	checks := []error{
		c.Latency.validate("latency"), c.Errors.validate("errors"), c.Cost.validate("cost"),
		checkNonNeg("latency.ratio_tolerance", c.Latency.RatioTolerance),
		checkFraction("latency.absolute_tolerance", c.Latency.AbsoluteTolerance),
		checkNonNeg("latency.tolerance", c.Latency.Tolerance),
		checkNonNeg("errors.ratio_tolerance", c.Errors.RatioTolerance),
		checkFraction("errors.absolute_tolerance", c.Errors.AbsoluteTolerance),
		checkNonNeg("cost.tolerance", c.Cost.Tolerance),
	}
	for _, err := range checks {
		if err != nil {
			return err
		}
	}
	seen := map[string]bool{}
	for i, m := range c.Metrics {
		f := fmt.Sprintf("metrics[%d]", i)
		if m.Name == "" {
			return fmt.Errorf("%s.name: required", f)
		}
		if seen[m.Name] {
			return fmt.Errorf("%s.name %q: duplicate", f, m.Name)
		}
		seen[m.Name] = true
		if !strings.Contains(m.Query, "{{selector}}") {
			return fmt.Errorf("%s (%s).query %q: must contain {{selector}}, where each side's matchers go", f, m.Name, m.Query)
		}
		switch m.Direction {
		case "", Increase, Decrease, Either:
		default:
			return fmt.Errorf("%s (%s).direction %q: must be increase, decrease or either", f, m.Name, m.Direction)
		}
		if err := m.validate(f); err != nil {
			return err
		}
		if err := checkNonNeg(f+".tolerance", m.Tolerance); err != nil {
			return err
		}
	}
	c.ignore = c.ignore[:0]
	for i, p := range c.IgnoreRoutes {
		re, err := regexp.Compile(p)
		if err != nil {
			return fmt.Errorf("ignore_routes[%d] %q: %w", i, p, err)
		}
		c.ignore = append(c.ignore, re)
	}
	return nil
}

// withDefaults returns c with every zero field replaced by its default.
func (c Config) withDefaults() Config {
	def := func(p *float64, d float64) {
		if *p == 0 {
			*p = d
		}
	}
	def(&c.Alpha, DefaultAlpha)
	def(&c.MinRequests, DefaultMinRequests)
	def(&c.PassScore, DefaultPassScore)
	def(&c.MarginalScore, DefaultMarginalScore)
	if c.MarginalScore > c.PassScore {
		c.MarginalScore = c.PassScore
	}
	if c.MinPoints == 0 {
		c.MinPoints = DefaultMinPoints
	}
	if c.Latency.Mode == "" {
		c.Latency.Mode = "buckets"
	}
	def(&c.Latency.RatioTolerance, DefaultLatencyRatioTolerance)
	def(&c.Latency.AbsoluteTolerance, DefaultLatencyAbsTolerance)
	def(&c.Latency.Quantile, 0.99)
	def(&c.Latency.Tolerance, DefaultCostTolerance)
	def(&c.Errors.RatioTolerance, DefaultErrorRatioTolerance)
	def(&c.Errors.AbsoluteTolerance, DefaultErrorAbsTolerance)
	def(&c.Cost.Tolerance, DefaultCostTolerance)
	for i := range c.Metrics {
		if c.Metrics[i].Direction == "" {
			c.Metrics[i].Direction = Increase
		}
		def(&c.Metrics[i].Tolerance, DefaultCostTolerance)
	}
	if c.ignore == nil && len(c.IgnoreRoutes) > 0 {
		_ = c.validate() // compiles the patterns of a Config built in code
	}
	return c
}

func (j Judged) critical(def bool) bool {
	if j.Critical == nil {
		return def
	}
	return *j.Critical
}

func (j Judged) weight() float64 {
	if j.Weight == 0 {
		return 1
	}
	return j.Weight
}

func (c Config) ignored(route string) bool {
	for _, re := range c.ignore {
		if re.MatchString(route) {
			return true
		}
	}
	return false
}
