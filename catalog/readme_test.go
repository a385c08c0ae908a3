package catalog_test

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/leaktest"
)

var update = flag.Bool("update", false, "rewrite the README's metric table from the catalogue")

func TestMain(m *testing.M) { leaktest.VerifyTestMain(m) }

const (
	readme = "../README.md"
	begin  = "<!-- metrics:begin"
	end    = "<!-- metrics:end -->"
)

// metricTable renders the README's metric reference from the catalogue.
func metricTable() string {
	var b strings.Builder
	b.WriteString("| metric | type | labels | when |\n|---|---|---|---|\n")
	for _, m := range catalog.Metrics() {
		when := "always"
		if m.OptIn != "" {
			when = "with `" + m.OptIn + "`"
		}
		b.WriteString("| `" + m.Name + "` | " + m.Type + " | " + strings.Join(m.Labels, ", ") + " | " + when + " |\n")
	}
	b.WriteString("| `go_*`, `process_*`, `" + catalog.TargetInfo + "` | runtime | see `catalog/runtime.go` | " +
		"`perfobs.Start`, or `runtimemetrics.Register` |\n")
	return b.String()
}

// TestREADMEMetricTable keeps the README's metric table equal to the catalogue the code writes from.
func TestREADMEMetricTable(t *testing.T) {
	raw, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	i := strings.Index(text, begin)
	j := strings.Index(text, end)
	if i < 0 || j < i {
		t.Fatalf("README lacks the %q ... %q markers", begin, end)
	}
	i += strings.Index(text[i:], "\n") + 1
	want := metricTable()
	if text[i:j] == want {
		return
	}
	if *update {
		if err := os.WriteFile(readme, []byte(text[:i]+want+text[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("README metric table differs from catalog; run:\n\tgo test ./catalog -run TestREADME -update\nwant:\n%s\ngot:\n%s", want, text[i:j])
}
