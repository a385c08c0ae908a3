package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/perfobs/perfobs-go/alerts"
	"github.com/perfobs/perfobs-go/dashboards"
)

// outputGenerator writes further files for a checked spec, such as dashboards, under outDir.
type outputGenerator func(m *alerts.Model, outDir string, stdout io.Writer) error

// outputGenerators are run by generate after the alert rules, in order: the Grafana dashboards
// (service RED, Go runtime, and the SLO dashboard of the spec) go to outDir/dashboards/.
func outputGenerators(profilesURL string) []outputGenerator {
	return []outputGenerator{func(m *alerts.Model, outDir string, stdout io.Writer) error {
		var opts []dashboards.Option
		if profilesURL != "" {
			opts = append(opts, dashboards.WithProfilesURL(profilesURL))
		}
		files, err := dashboards.Build(m, opts...)
		if err != nil {
			return fmt.Errorf("dashboards: %w", err)
		}
		return writeGenerated(filepath.Join(outDir, "dashboards"), files, "wrote ", stdout)
	}}
}

// runGenerate implements `perfobs generate --spec FILE --out DIR [--format prometheus|operator]`.
func runGenerate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("perfobs generate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	spec := fs.String("spec", "", "SLO spec `file`; without it, the shipped default rules are written")
	out := fs.String("out", "", "output `dir`: rules go to DIR/alerts/ (required)")
	profilesURL := fs.String("profiles-url", "", "URL `template` of the service's profiles for the dashboards' Profiles links (default: Pyroscope on localhost:4040)")
	format := fs.String("format", string(alerts.FormatPrometheus), "rule file `format`: prometheus (rule files and their promtool tests) or operator (PrometheusRule manifests)")
	histograms := fs.String("histograms", "", "`mode` of the duration histograms the rules and dashboards read: classic or native "+
		"(middleware.WithNativeHistograms, Prometheus with --enable-feature=native-histograms); overrides the spec's histograms field")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: perfobs generate [--spec FILE] --out DIR [--format prometheus|operator] [--histograms classic|native]")
		fmt.Fprintln(stderr, "\nWrites DIR/alerts/*.yaml: SLO burn-rate and Go runtime alert rules, each with a *_test.yaml")
		fmt.Fprintln(stderr, "for `promtool test rules` (prometheus format), and DIR/dashboards/*.json: Grafana dashboards.")
		fmt.Fprintln(stderr, "With native histograms the SLO rules come without *_test.yaml: promtool 2.42 cannot write")
		fmt.Fprintln(stderr, "native histogram input series (perfobs's end-to-end tests prove those rules instead).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "perfobs generate: unexpected arguments %q\n", fs.Args())
		return exitUsage
	}
	if *out == "" {
		fmt.Fprintln(stderr, "perfobs generate: --out is required")
		fs.Usage()
		return exitUsage
	}
	var (
		m      *alerts.Model
		source string
		code   int
	)
	switch alerts.HistogramMode(*histograms) {
	case "":
		m, source, code = loadSpec(*spec, stderr, "generate")
	case alerts.HistogramsClassic, alerts.HistogramsNative:
		m, source, code = loadSpecHistograms(*spec, alerts.HistogramMode(*histograms), stderr)
	default:
		fmt.Fprintf(stderr, "perfobs generate: --histograms %q: want classic or native\n", *histograms)
		return exitUsage
	}
	if code != exitOK {
		return code
	}
	files, err := alerts.Generate(m, alerts.WithFormat(alerts.Format(*format)), alerts.WithSource(source))
	if errors.Is(err, alerts.ErrFormat) {
		fmt.Fprintf(stderr, "perfobs generate: --format: %v\n", err)
		return exitUsage
	}
	if err != nil {
		fmt.Fprintf(stderr, "perfobs generate: %v\n", err)
		return exitFail
	}
	dir := filepath.Join(*out, "alerts")
	if err := writeGenerated(dir, files, "", stdout); err != nil {
		fmt.Fprintf(stderr, "perfobs generate: %v\n", err)
		return exitFail
	}
	for _, g := range outputGenerators(*profilesURL) {
		if err := g(m, *out, stdout); err != nil {
			fmt.Fprintf(stderr, "perfobs generate: %v\n", err)
			return exitFail
		}
	}
	return exitOK
}

// loadSpec reads and checks a spec, or the default spec when path is empty. It prints problems
// and returns the exit code to use when the code is not exitOK.
func loadSpec(path string, stderr io.Writer, cmd string) (*alerts.Model, string, int) {
	if path == "" {
		m, err := alerts.DefaultModel()
		if err != nil {
			fmt.Fprintf(stderr, "perfobs %s: default spec: %v\n", cmd, err)
			return nil, "", exitFail
		}
		return m, alerts.DefaultSpecName, exitOK
	}
	data, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(stderr, "perfobs %s: %v\n", cmd, err)
		return nil, "", exitUsage
	}
	m, err := alerts.Load(path, data)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return nil, "", exitFail
	}
	return m, filepath.Base(path), exitOK
}

// loadSpecHistograms is loadSpec with the spec's histograms field set to mode (--histograms), so
// that the default spec, or any spec, can be generated for native histograms without editing it.
// The mode is checked with the rest of the spec: a native spec's latency thresholds must be native
// bucket boundaries. The source names the override, so the files' headers tell how they were made.
func loadSpecHistograms(path string, mode alerts.HistogramMode, stderr io.Writer) (*alerts.Model, string, int) {
	name, data := alerts.DefaultSpecName, alerts.DefaultSpec()
	if path != "" {
		var err error
		if data, err = os.ReadFile(path); err != nil {
			fmt.Fprintf(stderr, "perfobs generate: %v\n", err)
			return nil, "", exitUsage
		}
		name = path
	}
	s, err := alerts.ParseSpec(name, data)
	if err == nil {
		s.Histograms = mode
		var m *alerts.Model
		if m, err = alerts.NewModel(s); err == nil {
			source := name
			if path != "" {
				source = filepath.Base(path)
			}
			return m, source + " with --histograms " + string(mode), exitOK
		}
	}
	fmt.Fprintln(stderr, err)
	return nil, "", exitFail
}

// writeGenerated writes files into dir with alerts.WriteFiles, printing each path after prefix,
// and each file a previous run generated there that this run no longer writes, which it removes.
func writeGenerated(dir string, files []alerts.File, prefix string, stdout io.Writer) error {
	written, removed, err := alerts.WriteFiles(dir, files)
	for _, p := range written {
		fmt.Fprintf(stdout, "%s%s\n", prefix, p)
	}
	for _, p := range removed {
		fmt.Fprintf(stdout, "removed %s\n", p)
	}
	return err
}
