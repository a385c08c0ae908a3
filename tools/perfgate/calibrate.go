package perfgate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"text/tabwriter"

	"go.yaml.in/yaml/v3"
	"golang.org/x/perf/benchmath"
)

// DefaultSpreadFactor is the brief's rule: the threshold is twice the measured spread.
const DefaultSpreadFactor = 2

// Calibration is the noise of one benchmark in one unit, measured by running the same code
// A/A, and the threshold it implies.
type Calibration struct {
	Benchmark string  `json:"benchmark"` // without the -GOMAXPROCS suffix
	Unit      string  `json:"unit"`
	Runs      int     `json:"runs"` // samples per side
	Median    float64 `json:"median"`
	// Spread is half the width of the central 90% of the samples (both sides pooled),
	// relative to the median: most runs lie within +-Spread of the median.
	Spread float64 `json:"spread"`
	// Threshold is Factor times Spread, rounded up to 0.1% (and at least 0.1%).
	Threshold float64 `json:"threshold"`
	Factor    float64 `json:"factor"`
	// Windows is how many A/A comparisons of Count runs per side were made from the runs
	// (sliding windows, both directions); FalsePositives how many of them the gate at
	// Threshold would have failed, and Significant how many had p < alpha at all.
	Count          int `json:"count"`
	Windows        int `json:"windows"`
	FalsePositives int `json:"false_positives"`
	Significant    int `json:"significant"`
}

// FalsePositiveRate is FalsePositives/Windows.
func (c Calibration) FalsePositiveRate() float64 {
	if c.Windows == 0 {
		return math.NaN()
	}
	return float64(c.FalsePositives) / float64(c.Windows)
}

// Calibrate measures the noise of every benchmark and unit that the gate compares statistically
// in an A/A pair (the same code on both sides, run interleaved), sets each threshold at factor
// times its spread, and counts the false positives that threshold gives on the A/A data:
// every window of count consecutive rounds is compared, base against new and new against
// base, as the gate would compare a change. It needs at least count+1 rounds; fewer is an error,
// since a threshold from too little data would be a guess.
func Calibrate(aa *Pair, cfg Config, factor float64, count int) ([]Calibration, error) {
	if factor <= 0 {
		factor = DefaultSpreadFactor
	}
	need := SamplesNeeded(orDefault(cfg.Alpha, DefaultAlpha))
	if count <= 0 {
		count = max(need, 6)
	}
	if count < need {
		return nil, fmt.Errorf("calibrate: --count %d: the U test needs at least %d samples per side", count, need)
	}
	var out []Calibration
	for _, name := range aa.New.Names() {
		for _, unit := range aa.New.Units(name) {
			if cfg.isExact(unit) {
				continue
			}
			a, b := aa.Base.Values(name, unit), aa.New.Values(name, unit)
			if len(a) != len(b) || len(a) < count+1 {
				return nil, fmt.Errorf("calibrate: %s %s: %d and %d runs: need at least %d per side for windows of %d", name, unit, len(a), len(b), count+1, count)
			}
			all := append(slices.Clone(a), b...)
			slices.Sort(all)
			med := median(all)
			spread := (quantile(all, 0.95) - quantile(all, 0.05)) / 2 / math.Abs(med)
			if med == 0 {
				spread = 0
			}
			th := math.Max(0.001, math.Ceil(factor*spread*1000)/1000)
			c := Calibration{Benchmark: baseName(name), Unit: unit, Runs: len(a), Median: med, Spread: spread,
				Threshold: th, Factor: factor, Count: count}
			wcfg := cfg
			wcfg.Rules = append([]Rule{{Match: "^" + regexp.QuoteMeta(c.Benchmark) + "$", Unit: unit, Threshold: th}}, cfg.Rules...)
			wcfg.AcceptInconclusive = false
			for i := 0; i+count <= len(a); i++ {
				for _, sides := range [][2][]float64{{a[i : i+count], b[i : i+count]}, {b[i : i+count], a[i : i+count]}} {
					row := compareValues(name, unit, sides[0], sides[1], &wcfg)
					c.Windows++
					if row.Significant {
						c.Significant++
					}
					if row.Verdict == Fail {
						c.FalsePositives++
					}
				}
			}
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("calibrate: no benchmark unit to calibrate (only exact units such as allocs/op)")
	}
	return out, nil
}

// compareValues compares two samples as Compare does.
func compareValues(name, unit string, ov, nv []float64, cfg *Config) Row {
	alpha := orDefault(cfg.Alpha, DefaultAlpha)
	cp := *cfg
	cp.Rules, cp.Accepted = slices.Clone(cfg.Rules), nil
	_ = cp.Validate()
	th := benchmath.Thresholds{CompareAlpha: alpha}
	return compareOne(name, unit, ov, nv, &cp, &th)
}

func orDefault(v, d float64) float64 {
	if v == 0 {
		return d
	}
	return v
}

// quantile of sorted values, linear between ranks.
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	pos := q * float64(len(sorted)-1)
	i := int(pos)
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	f := pos - float64(i)
	return sorted[i]*(1-f) + sorted[i+1]*f
}

// WriteCalibration prints the calibration as a table.
func WriteCalibration(w io.Writer, cals []Calibration, alpha float64) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BENCHMARK\tUNIT\tRUNS\tMEDIAN\tSPREAD\tTHRESHOLD\tA/A WINDOWS\tP<ALPHA\tFALSE POSITIVES")
	for _, c := range cals {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t±%.2f%%\t%.1f%%\t%d (%d runs/side)\t%d\t%d (%.1f%%)\n", c.Benchmark, c.Unit, c.Runs, fmtNum(c.Median),
			c.Spread*100, c.Threshold*100, c.Windows, c.Count, c.Significant, c.FalsePositives, 100*c.FalsePositiveRate())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "thresholds are %gx the spread; the U test alone bounds false positives at alpha %g, the threshold lowers them further: the last column counts them on these A/A runs\n",
		cals[0].Factor, orDefault(alpha, DefaultAlpha))
	return err
}

// ApplyCalibration writes the calibrated thresholds into a gate configuration (YAML text, as
// ParseConfig reads it), keeping its comments and other settings: each benchmark gets a rule
// "match: ^Name$" limited to the calibrated unit, placed first so that it wins, with a comment
// saying what was measured. A rule of the same match and unit is updated in place.
func ApplyCalibration(data []byte, cals []Calibration, fileName string) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, yamlError(fileName, err)
	}
	if doc.Kind == 0 {
		doc = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode}}}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
			*root = yaml.Node{Kind: yaml.MappingNode}
		} else {
			return nil, fmt.Errorf("%s: the configuration must be a mapping", fileName)
		}
	}
	var rules *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "benchmarks" {
			rules = root.Content[i+1]
		}
	}
	if rules == nil || rules.Kind != yaml.SequenceNode {
		seq := &yaml.Node{Kind: yaml.SequenceNode}
		if rules == nil {
			root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "benchmarks"}, seq)
		} else {
			*rules = *seq
		}
		rules = seq
		for i := 0; i+1 < len(root.Content); i += 2 {
			if root.Content[i].Value == "benchmarks" {
				rules = root.Content[i+1]
			}
		}
	}
	scalar := func(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: v} }
	var fresh []*yaml.Node
	for _, c := range cals {
		match := "^" + regexp.QuoteMeta(c.Benchmark) + "$"
		comment := fmt.Sprintf("calibrated: spread ±%.2f%% over %d A/A runs per side, threshold %gx; %d of %d A/A comparisons of %d runs failed",
			c.Spread*100, c.Runs, c.Factor, c.FalsePositives, c.Windows, c.Count)
		th := strconv.FormatFloat(c.Threshold*100, 'f', -1, 64) + "%"
		var found *yaml.Node
		for _, r := range rules.Content {
			if r.Kind == yaml.MappingNode && mapGet(r, "match") == match && mapGet(r, "unit") == c.Unit {
				found = r
			}
		}
		if found == nil {
			found = &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{scalar("match"), scalar(match), scalar("unit"), scalar(c.Unit)}}
			fresh = append(fresh, found)
		}
		found.HeadComment = comment
		mapSet(found, "threshold", th)
	}
	rules.Content = append(fresh, rules.Content...)
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	if _, err := ParseConfig(out.Bytes(), fileName); err != nil {
		return nil, fmt.Errorf("calibrated configuration does not parse: %w", err)
	}
	return out.Bytes(), nil
}

func mapGet(m *yaml.Node, key string) string {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1].Value
		}
	}
	return ""
}

func mapSet(m *yaml.Node, key, val string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = &yaml.Node{Kind: yaml.ScalarNode, Value: val}
			return
		}
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, &yaml.Node{Kind: yaml.ScalarNode, Value: val})
}
