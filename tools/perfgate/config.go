package perfgate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Defaults used where a Config leaves a field zero.
const (
	DefaultAlpha     = 0.05 // significance level of the Mann-Whitney U test
	DefaultThreshold = 0.10 // a significant regression larger than this fails
)

// Criticality says what a regression past its threshold does.
type Criticality string

const (
	// Critical regressions fail the gate. It is the default.
	Critical Criticality = "critical"
	// Advisory regressions are reported as WARN and never fail the gate.
	Advisory Criticality = "advisory"
)

// Config tunes the gate. The zero Config gates every benchmark at DefaultThreshold with
// DefaultAlpha, warns from half the threshold, and compares allocs/op and B/op exactly.
type Config struct {
	// Alpha is the significance level: a difference counts only when p < Alpha. Zero means DefaultAlpha.
	Alpha float64
	// Threshold is the relative regression (0.10 for 10%) above which a significant
	// regression fails. Zero means DefaultThreshold.
	Threshold float64
	// Warn is the relative regression above which a significant regression warns.
	// Zero means half of the threshold in force.
	Warn float64
	// ExactUnits are compared exactly, without statistics: any increase fails. Nil means
	// allocs/op and B/op; an empty non-nil slice compares every unit statistically.
	ExactUnits []string
	// HigherIsBetter lists units where a larger value is better. Units ending in "/s"
	// (throughput, such as B/s after tidying MB/s) always are.
	HigherIsBetter []string
	// Rules give benchmarks their own threshold and criticality; the first rule whose
	// pattern matches a benchmark applies.
	Rules []Rule
	// Accepted lists regressions the team has accepted: they are reported, never failed.
	Accepted []Accepted
	// AcceptInconclusive turns an inconclusive result (too few samples to decide) into a
	// warning. By default it fails the gate with its own exit status: a regression the
	// statistics cannot see is no pass.
	AcceptInconclusive bool
}

// Rule sets the threshold and criticality of the benchmarks whose name matches Match.
type Rule struct {
	// Match is a regular expression matched against the benchmark name without its
	// -GOMAXPROCS suffix, for example "^BenchmarkMiddleware" or "Cache/".
	Match string
	// Unit limits the rule to one unit ("instructions/op"); empty means every unit. A
	// threshold calibrated on instruction counts must not gate time.
	Unit string
	// Threshold overrides Config.Threshold when non-zero.
	Threshold float64
	// Warn overrides Config.Warn when non-zero.
	Warn float64
	// Criticality is Critical when empty.
	Criticality Criticality

	re *regexp.Regexp
}

// Accepted records a regression that the team accepted, and why.
type Accepted struct {
	// Benchmark is a regular expression matched like Rule.Match.
	Benchmark string
	// Unit limits the acceptance to one unit ("sec/op", "allocs/op"); empty means every unit.
	Unit string
	// Reason says why the regression is accepted. It is required.
	Reason string

	re *regexp.Regexp
}

// fileConfig is the YAML shape of a Config.
type fileConfig struct {
	Alpha          *float64       `yaml:"alpha"`
	Threshold      *percent       `yaml:"threshold"`
	Warn           *percent       `yaml:"warn"`
	ExactUnits     *[]string      `yaml:"exact_units"`
	HigherIsBetter []string       `yaml:"higher_is_better"`
	Benchmarks     []fileRule     `yaml:"benchmarks"`
	Accepted       []fileAccepted `yaml:"accepted"`
	// AcceptInconclusive is Config.AcceptInconclusive.
	AcceptInconclusive bool `yaml:"accept_inconclusive"`
}

type fileRule struct {
	Line        int         `yaml:"-"`
	Match       string      `yaml:"match"`
	Unit        string      `yaml:"unit"`
	Threshold   *percent    `yaml:"threshold"`
	Warn        *percent    `yaml:"warn"`
	Criticality Criticality `yaml:"criticality"`
}

type fileAccepted struct {
	Line      int    `yaml:"-"`
	Benchmark string `yaml:"benchmark"`
	Unit      string `yaml:"unit"`
	Reason    string `yaml:"reason"`
}

func (r *fileRule) UnmarshalYAML(n *yaml.Node) error {
	type plain fileRule
	r.Line = n.Line
	if err := checkKeys(n, "match", "unit", "threshold", "warn", "criticality"); err != nil {
		return err
	}
	return n.Decode((*plain)(r))
}

func (a *fileAccepted) UnmarshalYAML(n *yaml.Node) error {
	type plain fileAccepted
	a.Line = n.Line
	if err := checkKeys(n, "benchmark", "unit", "reason"); err != nil {
		return err
	}
	return n.Decode((*plain)(a))
}

// checkKeys refuses a mapping key that is not one of known, naming its line.
func checkKeys(n *yaml.Node, known ...string) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: want a mapping with %s", n.Line, strings.Join(known, ", "))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if !slices.Contains(known, k.Value) {
			return fmt.Errorf("line %d: field %s not found (known: %s)", k.Line, k.Value, strings.Join(known, ", "))
		}
	}
	return nil
}

// yamlError flattens yaml's errors into one line per problem, prefixed by the file name.
func yamlError(fileName string, err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs := make([]string, len(te.Errors))
		for i, m := range te.Errors {
			if j := strings.Index(m, " in type "); j >= 0 {
				m = m[:j]
			}
			msgs[i] = fileName + ": " + m
		}
		return errors.New(strings.Join(msgs, "\n"))
	}
	return fmt.Errorf("%s: %s", fileName, strings.TrimPrefix(err.Error(), "yaml: "))
}

// percent is a YAML value written as a percentage, such as "5%".
type percent struct{ v float64 }

func (p *percent) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParsePercent(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	p.v = v
	return nil
}

// ParsePercent parses a percentage such as "5%" or "2.5%" into a fraction (0.05, 0.025).
func ParsePercent(s string) (float64, error) {
	num, ok := strings.CutSuffix(strings.TrimSpace(s), "%")
	if !ok {
		return 0, fmt.Errorf("%q: write a percentage such as 5%%", s)
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || v < 0 || v > 1000 || v != v {
		return 0, fmt.Errorf("%q: not a percentage between 0%% and 1000%%", s)
	}
	return v / 100, nil
}

// LoadConfig reads a gate configuration file (see ParseConfig).
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	return ParseConfig(data, path)
}

// ParseConfig parses a gate configuration in YAML. fileName is used in errors. An empty
// document is the zero Config. The format:
//
//	alpha: 0.05                       # significance level
//	threshold: 10%                    # default regression threshold
//	warn: 5%                          # default warn level (half the threshold when absent)
//	exact_units: [allocs/op, B/op]    # units compared exactly
//	higher_is_better: [ops/s]         # units where larger is better (besides */s)
//	benchmarks:                       # first match wins
//	  - match: ^BenchmarkHandler      # regexp on the name without -GOMAXPROCS
//	    unit: instructions/op         # optional: every unit when absent
//	    threshold: 5%
//	    criticality: critical         # or advisory: warn only
//	accept_inconclusive: false        # true: too few samples warns instead of failing (exit 3)
//	accepted:
//	  - benchmark: ^BenchmarkCache$
//	    unit: sec/op                  # optional: every unit when absent
//	    reason: "trades 8% speed for bounded memory (#123)"
func ParseConfig(data []byte, fileName string) (Config, error) {
	var fc fileConfig
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&fc); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, yamlError(fileName, err)
	}
	cfg := Config{HigherIsBetter: fc.HigherIsBetter, AcceptInconclusive: fc.AcceptInconclusive}
	if fc.Alpha != nil {
		cfg.Alpha = *fc.Alpha
	}
	if fc.Threshold != nil {
		cfg.Threshold = fc.Threshold.v
	}
	if fc.Warn != nil {
		cfg.Warn = fc.Warn.v
	}
	if fc.ExactUnits != nil {
		cfg.ExactUnits = append([]string{}, *fc.ExactUnits...)
	}
	for _, r := range fc.Benchmarks {
		rule := Rule{Match: r.Match, Unit: r.Unit, Criticality: r.Criticality}
		if r.Threshold != nil {
			rule.Threshold = r.Threshold.v
		}
		if r.Warn != nil {
			rule.Warn = r.Warn.v
		}
		if err := rule.compile(); err != nil {
			return Config{}, fmt.Errorf("%s:%d: benchmarks: %w", fileName, r.Line, err)
		}
		cfg.Rules = append(cfg.Rules, rule)
	}
	for _, a := range fc.Accepted {
		acc := Accepted{Benchmark: a.Benchmark, Unit: a.Unit, Reason: a.Reason}
		if err := acc.compile(); err != nil {
			return Config{}, fmt.Errorf("%s:%d: accepted: %w", fileName, a.Line, err)
		}
		cfg.Accepted = append(cfg.Accepted, acc)
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", fileName, err)
	}
	return cfg, nil
}

// Validate checks the configuration and compiles its patterns.
func (c *Config) Validate() error {
	if c.Alpha < 0 || c.Alpha >= 1 || c.Alpha != c.Alpha {
		return fmt.Errorf("alpha %v: must be in (0, 1)", c.Alpha)
	}
	if c.Threshold < 0 {
		return fmt.Errorf("threshold %v: must not be negative", c.Threshold)
	}
	if c.Warn < 0 {
		return fmt.Errorf("warn %v: must not be negative", c.Warn)
	}
	for i := range c.Rules {
		if err := c.Rules[i].compile(); err != nil {
			return fmt.Errorf("benchmarks[%d]: %w", i, err)
		}
	}
	for i := range c.Accepted {
		if err := c.Accepted[i].compile(); err != nil {
			return fmt.Errorf("accepted[%d]: %w", i, err)
		}
	}
	return nil
}

func (r *Rule) compile() error {
	if r.Match == "" {
		return errors.New("match: required (a regexp on the benchmark name)")
	}
	re, err := regexp.Compile(r.Match)
	if err != nil {
		return fmt.Errorf("match %q: %w", r.Match, err)
	}
	switch r.Criticality {
	case "", Critical, Advisory:
	default:
		return fmt.Errorf("criticality %q: must be %q or %q", r.Criticality, Critical, Advisory)
	}
	if r.Threshold < 0 || r.Warn < 0 {
		return fmt.Errorf("match %q: threshold and warn must not be negative", r.Match)
	}
	r.re = re
	return nil
}

func (a *Accepted) compile() error {
	if a.Benchmark == "" {
		return errors.New("benchmark: required (a regexp on the benchmark name)")
	}
	re, err := regexp.Compile(a.Benchmark)
	if err != nil {
		return fmt.Errorf("benchmark %q: %w", a.Benchmark, err)
	}
	if strings.TrimSpace(a.Reason) == "" {
		return fmt.Errorf("benchmark %q: reason: required (say why the regression is accepted)", a.Benchmark)
	}
	a.re = re
	return nil
}
