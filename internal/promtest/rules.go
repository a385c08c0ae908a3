package promtest

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Recording is one recording rule of a rule file: the series name it records and its labels.
type Recording struct {
	Record string
	Labels map[string]string // never nil: a test may add the labels a scrape would give
}

// Recordings returns the recording rules of a Prometheus rule file, in file order.
func Recordings(ruleFile []byte) ([]Recording, error) {
	var rf struct {
		Groups []struct {
			Rules []struct {
				Record string            `yaml:"record"`
				Labels map[string]string `yaml:"labels"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(ruleFile, &rf); err != nil {
		return nil, err
	}
	var out []Recording
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Record == "" {
				continue
			}
			l := maps.Clone(r.Labels)
			if l == nil {
				l = map[string]string{}
			}
			out = append(out, Recording{Record: r.Record, Labels: l})
		}
	}
	return out, nil
}

// Selector is the vector selector of exactly this recorded series: name{label="value",...}, the
// labels sorted.
func (r Recording) Selector() string {
	var sel []string
	for _, k := range slices.Sorted(maps.Keys(r.Labels)) {
		sel = append(sel, k+"="+strconv.Quote(r.Labels[k]))
	}
	return r.Record + "{" + strings.Join(sel, ",") + "}"
}
