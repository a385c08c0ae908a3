package alerts

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"go.yaml.in/yaml/v3"
)

// FuzzLoad feeds arbitrary documents to the spec parser and checker, seeded with testdata/specs.
// Load must never panic; every error is a *SpecError whose problems name the file; every spec it
// accepts must generate rule files that are valid YAML.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "specs", "*.yaml"))
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add(DefaultSpec())
	f.Add([]byte("version: 1\nservice: a\nwindow: 0d\nslos: [{name: x, kind: latency, threshold: 0s, objective: 1e-300}]\n"))
	f.Add([]byte("version: 1\nservice: a\nslos:\n  - &a {name: x}\n  - *a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Load("fuzz.yaml", data)
		if err != nil {
			var se *SpecError
			if !errors.As(err, &se) || len(se.Problems) == 0 {
				t.Fatalf("error %v is not a *SpecError with problems", err)
			}
			for _, p := range se.Problems {
				if p.File != "fuzz.yaml" || p.Err == nil {
					t.Fatalf("problem %+v lacks its file or error", p)
				}
			}
			return
		}
		for _, s := range m.SLOs {
			var rf promRuleFile
			out, err := yaml.Marshal(renderSLORules(m, s))
			if err != nil {
				t.Fatal(err)
			}
			if err := yaml.Unmarshal(out, &rf); err != nil || len(rf.Groups) != 1 {
				t.Fatalf("rules of %q do not read back: %v", s.Name, err)
			}
		}
	})
}
