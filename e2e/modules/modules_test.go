// Package modules checks what a service's module graph gains from importing this SDK: scratch consumers of
// middleware alone and of perfobs alone are built against this checkout, and their `go list -m all` is
// compared with a consumer of client_golang's promhttp plus the OpenTelemetry trace API.
package modules

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/perfobs/perfobs-go/leaktest"
)

func TestMain(m *testing.M) { leaktest.VerifyTestMain(m) }

const project = "github.com/perfobs/perfobs-go"

// Versions of the peers' modules the SDK itself requires, so that the baseline resolves the same ones.
const (
	clientGolang = "github.com/prometheus/client_golang v1.25.0"
	otel         = "go.opentelemetry.io/otel v1.47.0"
	otelTrace    = "go.opentelemetry.io/otel/trace v1.47.0"
)

// The project's modules, by path under the repository root.
var ourModules = map[string]string{
	project:                        ".",
	project + "/perfobs":           "perfobs",
	project + "/middleware/grpcmw": "middleware/grpcmw",
	project + "/dashboards":        "dashboards",
	project + "/tools":             "tools",
}

// Modules that only the tools need: none may reach a service's graph.
var toolModules = []string{
	project + "/tools", project + "/dashboards", project + "/bench", project + "/e2e",
	"github.com/tsenart/vegeta", "golang.org/x/perf", "github.com/grafana/grafana-foundation-sdk",
	"github.com/VictoriaMetrics/metricsql", "github.com/google/pprof",
	"github.com/chromedp/chromedp", "github.com/go-rod/rod",
}

// consumerModules builds a scratch module importing pkgs and returns its `go list -m all` module paths.
func consumerModules(t *testing.T, pkgs []string, requires ...string) []string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var mod strings.Builder
	mod.WriteString("module example.com/consumer\n\ngo 1.26.0\n\nrequire (\n")
	for _, r := range requires {
		mod.WriteString("\t" + r + "\n")
	}
	mod.WriteString(")\n")
	for path, sub := range ourModules {
		mod.WriteString("replace " + path + " => " + filepath.Join(root, sub) + "\n")
	}
	var src strings.Builder
	src.WriteString("package main\n\nimport (\n")
	for _, p := range pkgs {
		src.WriteString("\t_ \"" + p + "\"\n")
	}
	src.WriteString(")\n\nfunc main() {}\n")
	write(t, filepath.Join(dir, "go.mod"), mod.String())
	write(t, filepath.Join(dir, "main.go"), src.String())
	run(t, dir, "go", "mod", "tidy")
	out := run(t, dir, "go", "list", "-m", "-f", "{{.Path}}", "all")
	mods := strings.Fields(out)[1:] // the consumer itself comes first
	sort.Strings(mods)
	return mods
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func run(t *testing.T, dir string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s in %s: %v\n%s", name, strings.Join(args, " "), dir, err, out)
	}
	return string(out)
}

func ours(m string) bool { return m == project || strings.HasPrefix(m, project+"/") }

func noToolModule(t *testing.T, who string, mods []string) {
	t.Helper()
	for _, m := range mods {
		for _, tool := range toolModules {
			if m == tool || strings.HasPrefix(m, tool+"/") {
				t.Errorf("a consumer of %s has the tool module %s", who, m)
			}
		}
	}
}

func TestMiddlewareConsumerAddsNothingToPromhttpAndOTel(t *testing.T) {
	base := consumerModules(t, []string{
		"github.com/prometheus/client_golang/prometheus/promhttp", "go.opentelemetry.io/otel/trace",
	}, clientGolang, otel, otelTrace)
	mw := consumerModules(t, []string{project + "/middleware"}, project+" v0.0.0-00010101000000-000000000000")
	noToolModule(t, "middleware", mw)
	inBase := map[string]bool{}
	for _, m := range base {
		inBase[m] = true
	}
	var extra []string
	for _, m := range mw {
		if !inBase[m] && !ours(m) {
			extra = append(extra, m)
		}
	}
	if len(extra) > 0 {
		t.Errorf("a consumer of middleware has %d modules that a consumer of promhttp and the OTel trace API lacks: %v",
			len(extra), extra)
	}
	if len(mw) < 10 {
		t.Fatalf("the middleware consumer lists only %d modules: %v (the check proves nothing)", len(mw), mw)
	}
	t.Logf("middleware consumer: %d modules; promhttp + OTel trace consumer: %d", len(mw), len(base))
}

func TestPerfobsConsumerHasNoToolModule(t *testing.T) {
	mods := consumerModules(t, []string{project + "/perfobs"},
		project+" v0.0.0-00010101000000-000000000000", project+"/perfobs v0.0.0-00010101000000-000000000000")
	noToolModule(t, "perfobs", mods)
	for _, want := range []string{"github.com/grafana/pyroscope-go", "go.opentelemetry.io/otel/sdk"} {
		found := false
		for _, m := range mods {
			found = found || m == want
		}
		if !found {
			t.Errorf("a consumer of perfobs lacks %s: the scratch build did not resolve the facade", want)
		}
	}
	t.Logf("perfobs consumer: %d modules", len(mods))
}
