package alerts

import (
	"bytes"
	"errors"
	"fmt"

	"go.yaml.in/yaml/v3"
)

// Format selects how rule files are written.
type Format string

// Formats of Generate.
const (
	// FormatPrometheus writes plain rule files, each with its promtool test file.
	FormatPrometheus Format = "prometheus"
	// FormatOperator writes each rule file as a Prometheus Operator PrometheusRule manifest
	// (monitoring.coreos.com/v1). Its spec.groups are those of the plain file, which the
	// prometheus format tests; no test files are written.
	FormatOperator Format = "operator"
)

// Option configures Generate.
type Option interface{ apply(*genConfig) }

type genConfig struct {
	format Format
	source string
}

type optionFunc func(*genConfig)

func (f optionFunc) apply(c *genConfig) { f(c) }

// WithFormat selects the output format (default FormatPrometheus).
func WithFormat(f Format) Option { return optionFunc(func(c *genConfig) { c.format = f }) }

// WithSource names the spec in the "Code generated" header of every file (default "the default spec").
func WithSource(name string) Option { return optionFunc(func(c *genConfig) { c.source = name }) }

// ErrFormat is returned for an unknown Format.
var ErrFormat = errors.New("unknown format")

// File is one generated file: a name relative to the alerts output directory, and its content.
type File struct {
	Name string
	Data []byte
}

// Generate renders the rule files of m and, in the prometheus format, their promtool tests:
// <service>-slo-<name>.yaml for each SLO and <service>-go-runtime.yaml, with _test.yaml files
// beside them (without the "<service>-" prefix when the spec sets service_label). Files come back
// in a fixed order.
//
// With histograms: native the SLO rule files come without test files: promtool 2.42 (Debian 12's,
// the one CI runs) cannot write native histogram samples in input_series. The native rules are
// proven instead by an end-to-end test against a real Prometheus with native histograms on
// (dashboards.TestNativeEndToEnd); the runtime rules, which read no request histogram, keep
// their tests.
func Generate(m *Model, opts ...Option) ([]File, error) {
	cfg := genConfig{format: FormatPrometheus, source: "the default spec"}
	for _, o := range opts {
		o.apply(&cfg)
	}
	if cfg.format != FormatPrometheus && cfg.format != FormatOperator {
		return nil, fmt.Errorf("format %q: %w (want %s or %s)", cfg.format, ErrFormat, FormatPrometheus, FormatOperator)
	}
	prefix := ""
	if m.Service != "" {
		prefix = m.Service + "-"
	}
	var files []File
	add := func(base string, rules promRuleFile, tests func(ruleFile string) promtoolFile) error {
		if len(rules.Groups) == 0 {
			return nil
		}
		name := prefix + base + ".yaml"
		var data []byte
		var err error
		if cfg.format == FormatOperator {
			data, err = encode(cfg.source, operatorManifest(prefix+base, rules))
		} else {
			data, err = encode(cfg.source, rules)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		files = append(files, File{Name: name, Data: data})
		if cfg.format == FormatOperator || tests == nil {
			return nil
		}
		tname := prefix + base + "_test.yaml"
		data, err = encode(cfg.source, tests(name))
		if err != nil {
			return fmt.Errorf("%s: %w", tname, err)
		}
		files = append(files, File{Name: tname, Data: data})
		return nil
	}
	for _, s := range m.SLOs {
		tests := func(rf string) promtoolFile { return renderSLOTests(m, s, rf) }
		if m.Native() {
			tests = nil // promtool 2.42 cannot write native histograms in input_series
		}
		if err := add("slo-"+s.Name, renderSLORules(m, s), tests); err != nil {
			return nil, err
		}
	}
	if err := add("go-runtime", renderRuntimeRules(m), func(rf string) promtoolFile { return renderRuntimeTests(m, rf) }); err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, errors.New("the spec yields no rules: add an SLO or enable the runtime alerts")
	}
	return files, nil
}

// operatorRule is a Prometheus Operator PrometheusRule manifest.
type operatorRule struct {
	APIVersion string       `yaml:"apiVersion"`
	Kind       string       `yaml:"kind"`
	Metadata   operatorMeta `yaml:"metadata"`
	Spec       promRuleFile `yaml:"spec"`
}

// operatorMeta is the metadata of a PrometheusRule.
type operatorMeta struct {
	Name   string            `yaml:"name"`
	Labels map[string]string `yaml:"labels"`
}

func operatorManifest(name string, rules promRuleFile) operatorRule {
	return operatorRule{
		APIVersion: "monitoring.coreos.com/v1",
		Kind:       "PrometheusRule",
		Metadata: operatorMeta{
			Name:   "perfobs-" + name,
			Labels: map[string]string{"app.kubernetes.io/managed-by": "perfobs"},
		},
		Spec: rules,
	}
}

// encode writes v as YAML with two-space indents under a "Code generated" header.
func encode(source string, v any) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s from %s. DO NOT EDIT.\n", generatedHeader, source)
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Load parses and checks a spec: ParseSpec, then NewModel.
func Load(file string, data []byte) (*Model, error) {
	s, err := ParseSpec(file, data)
	if err != nil {
		return nil, err
	}
	return NewModel(s)
}
