package perfgate

import (
	"os"
	"strings"
	"testing"
)

func TestParseConfig(t *testing.T) {
	good := `# accepted regressions and thresholds
alpha: 0.01
threshold: 10%
warn: 4%
exact_units: [allocs/op]
higher_is_better: [ops/s]
benchmarks:
  - match: ^BenchmarkHandler
    threshold: 5%
    criticality: critical
  - match: Cache
    threshold: 20%
    criticality: advisory
accepted:
  - benchmark: ^BenchmarkCache$
    unit: sec/op
    reason: "bounded memory costs 8% (#123)"
`
	cfg, err := ParseConfig([]byte(good), "gate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Alpha != 0.01 || cfg.Threshold != 0.10 || cfg.Warn != 0.04 {
		t.Errorf("alpha %v threshold %v warn %v", cfg.Alpha, cfg.Threshold, cfg.Warn)
	}
	if len(cfg.Rules) != 2 || cfg.Rules[0].Threshold != 0.05 || cfg.Rules[1].Criticality != Advisory {
		t.Errorf("rules %+v", cfg.Rules)
	}
	if len(cfg.Accepted) != 1 || cfg.Accepted[0].Reason != "bounded memory costs 8% (#123)" {
		t.Errorf("accepted %+v", cfg.Accepted)
	}
	if th, warn, crit := cfg.levels("BenchmarkHandler/route", "sec/op"); th != 0.05 || warn != 0.025 || crit != Critical {
		t.Errorf("levels(handler) = %v %v %v, want 0.05 0.025 critical", th, warn, crit)
	}
	if th, warn, crit := cfg.levels("BenchmarkOther", "sec/op"); th != 0.10 || warn != 0.04 || crit != Critical {
		t.Errorf("levels(other) = %v %v %v, want 0.1 0.04 critical", th, warn, crit)
	}

	bad := []struct {
		name, yaml, want string
	}{
		{"unknown top-level field", "alpha: 0.05\nthresold: 10%\n", "gate.yaml: line 2: field thresold not found"},
		{"a bare number is not a percentage", "threshold: 10\n", "gate.yaml: line 1: \"10\": write a percentage such as 5%"},
		{"a bad percentage", "warn: ten%\n", "line 1: \"ten%\": not a percentage"},
		{"a bad regexp names its line", "benchmarks:\n  - match: Handler\n  - match: \"(\"\n", "gate.yaml:3: benchmarks: match \"(\""},
		{"a bad criticality", "benchmarks:\n  - match: X\n    criticality: urgent\n", "gate.yaml:2: benchmarks: criticality \"urgent\""},
		{"an unknown rule field", "benchmarks:\n  - match: X\n    treshold: 5%\n", "gate.yaml: line 3: field treshold not found (known: match, unit, threshold, warn, criticality)"},
		{"an acceptance needs a reason", "accepted:\n  - benchmark: X\n", "gate.yaml:2: accepted: benchmark \"X\": reason: required"},
		{"an acceptance needs a benchmark", "accepted:\n  - reason: because\n", "gate.yaml:2: accepted: benchmark: required"},
		{"alpha out of range", "alpha: 1.5\n", "gate.yaml: alpha 1.5: must be in (0, 1)"},
		{"not yaml", "benchmarks: [\n", "gate.yaml: "},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tt.yaml), "gate.yaml")
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestShippedGateYAML(t *testing.T) {
	// The repository's own gate.yaml must stay valid.
	if _, err := LoadConfig("../../gate.yaml"); err != nil {
		t.Fatal(err)
	}
}

func TestEmptyConfigIsZero(t *testing.T) {
	for _, doc := range []string{"", "# only a comment\n", "accepted: []\n"} {
		cfg, err := ParseConfig([]byte(doc), "gate.yaml")
		if err != nil {
			t.Fatalf("%q: %v", doc, err)
		}
		if cfg.Alpha != 0 || cfg.Threshold != 0 || len(cfg.Accepted) != 0 || cfg.ExactUnits != nil {
			t.Errorf("%q: %+v", doc, cfg)
		}
	}
}

func TestParsePercent(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want float64
		ok   bool
	}{{"5%", 0.05, true}, {" 2.5 % ", 0.025, true}, {"0%", 0, true}, {"5", 0, false}, {"-1%", 0, false}, {"NaN%", 0, false}, {"%", 0, false}} {
		got, err := ParsePercent(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParsePercent(%q) = %v, %v", tt.in, got, err)
		}
	}
}

// FuzzParseConfig checks that no configuration makes the parser panic. Seeds: testdata/*.yaml.
func FuzzParseConfig(f *testing.F) {
	for _, name := range []string{"testdata/gate-example.yaml", "../../gate.yaml"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseConfig(data, "fuzz.yaml")
		if err != nil {
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Errorf("parsed config does not validate: %v", err)
		}
	})
}

func TestRuleUnit(t *testing.T) {
	cfg, err := ParseConfig([]byte("benchmarks:\n  - match: ^BenchmarkA$\n    unit: instructions/op\n    threshold: 2%\n  - match: ^BenchmarkA$\n    unit: sec/op\n    criticality: advisory\n"), "gate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if th, _, crit := cfg.levels("BenchmarkA", InstructionsUnit); th != 0.02 || crit != Critical {
		t.Errorf("instructions: %v %v", th, crit)
	}
	if th, _, crit := cfg.levels("BenchmarkA", "sec/op"); th != DefaultThreshold || crit != Advisory {
		t.Errorf("time: %v %v, want the default threshold, advisory", th, crit)
	}
}

func TestApplyCalibrationKeepsTheFile(t *testing.T) {
	in := []byte("# top comment\nalpha: 0.05\nbenchmarks:\n  - match: ^BenchmarkA$\n    unit: sec/op\n    threshold: 50%\n")
	cals := []Calibration{{Benchmark: "BenchmarkA", Unit: "sec/op", Runs: 20, Spread: 0.1, Threshold: 0.2, Factor: 2, Count: 10, Windows: 22}}
	out, err := ApplyCalibration(in, cals, "gate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	if !strings.Contains(s, "# top comment") || !strings.Contains(s, "threshold: 20%") || strings.Contains(s, "50%") || strings.Count(s, "match:") != 1 {
		t.Errorf("calibrated:\n%s", s)
	}
	cfg, err := ParseConfig(out, "gate.yaml")
	if err != nil || cfg.Alpha != 0.05 {
		t.Errorf("reparse: %v %v", cfg.Alpha, err)
	}
}
