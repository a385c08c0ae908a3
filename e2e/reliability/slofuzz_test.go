package reliability

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/perfobs/perfobs-go/alerts"
)

// FuzzSLOSpecPromtool feeds arbitrary SLO specs to the alerts generator: every spec that
// alerts.Load accepts must generate rule files that `promtool check rules` accepts. (alerts'
// own FuzzLoad checks that Load never panics and that the rules are YAML; this one asks
// Prometheus's own checker, which also parses every PromQL expression.) Seeds: alerts.
// testdata/specs and the default spec; .ci/extra fuzzes it for a bounded time.
func FuzzSLOSpecPromtool(f *testing.F) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		f.Fatalf("promtool is needed (Debian package prometheus: apt-get install -y prometheus): %v", err)
	}
	seeds, _ := filepath.Glob(filepath.Join("..", "..", "alerts", "testdata", "specs", "*.yaml"))
	if len(seeds) == 0 {
		f.Fatal("no seed specs in ../../alerts/testdata/specs")
	}
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add(alerts.DefaultSpec())
	f.Fuzz(func(t *testing.T, spec []byte) {
		m, err := alerts.Load("fuzz.yaml", spec)
		if err != nil {
			return // refusing is fine; alerts.FuzzLoad checks how
		}
		files, err := alerts.Generate(m)
		if err != nil {
			t.Fatalf("an accepted spec does not generate: %v\n%s", err, spec)
		}
		dir := t.TempDir()
		var rules []string
		for _, file := range files {
			path := filepath.Join(dir, filepath.Base(file.Name))
			if err := os.WriteFile(path, file.Data, 0o644); err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(file.Name, "_test.yaml") {
				rules = append(rules, path)
			}
		}
		if len(rules) == 0 {
			t.Fatalf("an accepted spec generated no rule file:\n%s", spec)
		}
		var out bytes.Buffer
		cmd := exec.Command(promtool, append([]string{"check", "rules"}, rules...)...)
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("promtool check rules refuses the rules of an accepted spec: %v\n%s\nspec:\n%s", err, out.String(), spec)
		}
	})
}
