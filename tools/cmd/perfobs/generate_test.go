package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const exampleSpec = "../../../examples/slo/checkout.yaml"

func promtool(t *testing.T, dir string, args ...string) {
	t.Helper()
	bin := os.Getenv("PROMTOOL")
	if bin == "" {
		bin = "/usr/bin/promtool"
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestGenerateExampleSpec generates the example spec's rules and runs `promtool check rules` and
// `promtool test rules` on every file, as CI does.
func TestGenerateExampleSpec(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, "generate", "--spec", exampleSpec, "--out", out)
	if code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	dir := filepath.Join(out, "alerts")
	want := []string{
		"checkout-go-runtime.yaml", "checkout-go-runtime_test.yaml",
		"checkout-slo-availability.yaml", "checkout-slo-availability_test.yaml",
		"checkout-slo-cart-latency.yaml", "checkout-slo-cart-latency_test.yaml",
		"checkout-slo-orders-availability.yaml", "checkout-slo-orders-availability_test.yaml",
	}
	if got := listDir(t, dir); !slices.Equal(got, want) {
		t.Fatalf("files = %v, want %v", got, want)
	}
	dashboards := []string{"go-runtime.json", "service-red.json", "slo.json"}
	if got := listDir(t, filepath.Join(out, "dashboards")); !slices.Equal(got, dashboards) {
		t.Fatalf("dashboards = %v, want %v", got, dashboards)
	}
	slo, err := os.ReadFile(filepath.Join(out, "dashboards", "slo.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"cart-latency", "orders-availability"} {
		if !bytes.Contains(slo, []byte(name)) {
			t.Errorf("the SLO dashboard does not show the spec's SLO %s", name)
		}
	}
	if n := strings.Count(stdout, "\n"); n != len(want)+len(dashboards) {
		t.Errorf("stdout lists %d files, want %d:\n%s", n, len(want)+len(dashboards), stdout)
	}
	for _, f := range want {
		if !strings.HasSuffix(f, "_test.yaml") {
			continue
		}
		t.Run(f, func(t *testing.T) {
			t.Parallel()
			promtool(t, dir, "check", "rules", strings.TrimSuffix(f, "_test.yaml")+".yaml")
			promtool(t, dir, "test", "rules", f)
		})
	}
}

// TestGenerateProfilesURL passes --profiles-url to the dashboards and rejects a bad template.
func TestGenerateProfilesURL(t *testing.T) {
	out := t.TempDir()
	code, _, stderr := runCLI(t, "generate", "--spec", exampleSpec, "--out", out, "--profiles-url", "https://pyroscope.example/explore?app=${job}")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	red, err := os.ReadFile(filepath.Join(out, "dashboards", "service-red.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(red, []byte("https://pyroscope.example/explore?app=${job}")) {
		t.Error("service-red.json lacks the profiles URL given with --profiles-url")
	}
	code, _, stderr = runCLI(t, "generate", "--spec", exampleSpec, "--out", t.TempDir(), "--profiles-url", "::bad")
	if code != exitFail || !strings.Contains(stderr, "WithProfilesURL") {
		t.Fatalf("bad --profiles-url: exit %d, stderr %q", code, stderr)
	}
}

// TestGenerateDefaultsEqualShipped checks that generate without --spec writes the shipped rules.
func TestGenerateDefaultsEqualShipped(t *testing.T) {
	out := t.TempDir()
	if code, _, stderr := runCLI(t, "generate", "--out", out); code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	dir := filepath.Join(out, "alerts")
	shipped := listDir(t, "../../../alerts/rules")
	if got := listDir(t, dir); !slices.Equal(got, shipped) {
		t.Fatalf("files = %v, want the shipped %v", got, shipped)
	}
	for _, f := range shipped {
		a, _ := os.ReadFile(filepath.Join(dir, f))
		b, _ := os.ReadFile(filepath.Join("../../../alerts/rules", f))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs from alerts/rules/%s", f, f)
		}
	}
}

func TestGenerateOperatorFormat(t *testing.T) {
	out := t.TempDir()
	code, _, stderr := runCLI(t, "generate", "--spec", exampleSpec, "--out", out, "--format", "operator")
	if code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	dir := filepath.Join(out, "alerts")
	want := []string{"checkout-go-runtime.yaml", "checkout-slo-availability.yaml", "checkout-slo-cart-latency.yaml", "checkout-slo-orders-availability.yaml"}
	if got := listDir(t, dir); !slices.Equal(got, want) {
		t.Fatalf("files = %v, want %v", got, want)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "checkout-slo-availability.yaml"))
	for _, s := range []string{"apiVersion: monitoring.coreos.com/v1", "kind: PrometheusRule", "name: perfobs-checkout-slo-availability", "alert: SLOErrorBudgetBurn"} {
		if !strings.Contains(string(data), s) {
			t.Errorf("manifest lacks %q", s)
		}
	}
}

// TestGenerateRemovesStaleFiles checks that a rerun removes the files of an SLO that is gone, and
// keeps files it did not generate.
func TestGenerateRemovesStaleFiles(t *testing.T) {
	out := t.TempDir()
	dir := filepath.Join(out, "alerts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, "checkout-slo-old.yaml")
	mine := filepath.Join(dir, "handwritten.yaml")
	os.WriteFile(stale, []byte("# Code generated by perfobs generate from x. DO NOT EDIT.\ngroups: []\n"), 0o644)
	os.WriteFile(mine, []byte("groups: []\n"), 0o644)
	code, stdout, stderr := runCLI(t, "generate", "--spec", exampleSpec, "--out", out, "--format", "operator")
	if code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale generated file kept")
	}
	if _, err := os.Stat(mine); err != nil {
		t.Errorf("hand-written file removed: %v", err)
	}
	if !strings.Contains(stdout, "removed "+stale) {
		t.Errorf("stdout does not report the removal:\n%s", stdout)
	}
}

func TestGenerateErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("version: 1\nservice: x\nwindow: 3d\nslos: []\n"), 0o644)
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no --out", []string{"generate", "--spec", exampleSpec}, exitUsage, "--out is required"},
		{"unknown flag", []string{"generate", "--out", "x", "--colour"}, exitUsage, "flag provided but not defined: -colour"},
		{"extra argument", []string{"generate", "--out", "x", "spec.yaml"}, exitUsage, "unexpected arguments"},
		{"unknown format", []string{"generate", "--out", t.TempDir(), "--format", "json"}, exitUsage, `--format: format "json": unknown format`},
		{"missing spec", []string{"generate", "--out", t.TempDir(), "--spec", "nope.yaml"}, exitUsage, "open nope.yaml"},
		{"invalid spec", []string{"generate", "--out", t.TempDir(), "--spec", bad}, exitFail, bad + ":3: window: 3d: must be from 7d"},
		{"help", []string{"generate", "--help"}, exitOK, "usage: perfobs generate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, tt.code, tt.stderr)
			}
		})
	}
}

// TestGenerateNativeHistograms generates the default spec for native histograms: native rules
// and RED dashboard, no promtool tests for the SLO rules (promtool 2.42 has no native input
// series), the runtime rules with theirs; promtool checks every rule file.
func TestGenerateNativeHistograms(t *testing.T) {
	out := t.TempDir()
	code, _, stderr := runCLI(t, "generate", "--out", out, "--histograms", "native")
	if code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	dir := filepath.Join(out, "alerts")
	want := []string{"go-runtime.yaml", "go-runtime_test.yaml", "slo-grpc-availability.yaml", "slo-grpc-latency.yaml",
		"slo-http-availability.yaml", "slo-http-latency.yaml"}
	if got := listDir(t, dir); !slices.Equal(got, want) {
		t.Fatalf("files = %v, want %v", got, want)
	}
	latency, err := os.ReadFile(filepath.Join(dir, "slo-http-latency.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		"# Code generated by perfobs generate from alerts/default-spec.yaml with --histograms native. DO NOT EDIT.",
		"histogram_fraction(0, 1, sum by (job) (rate(http_server_request_duration_seconds{}[5m])))",
	} {
		if !strings.Contains(string(latency), s) {
			t.Errorf("slo-http-latency.yaml lacks %q", s)
		}
	}
	if strings.Contains(string(latency), "_bucket") {
		t.Error("native slo-http-latency.yaml reads _bucket series")
	}
	red, err := os.ReadFile(filepath.Join(out, "dashboards", "service-red.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(red, []byte("histogram_count(rate(http_server_request_duration_seconds{")) ||
		bytes.Contains(red, []byte("http_server_request_duration_seconds_count")) {
		t.Error("service-red.json is not the native RED dashboard")
	}
	promtool(t, dir, "check", "rules", "go-runtime.yaml", "slo-grpc-availability.yaml", "slo-grpc-latency.yaml",
		"slo-http-availability.yaml", "slo-http-latency.yaml")
	promtool(t, dir, "test", "rules", "go-runtime_test.yaml")

	// The example spec's 250ms is a native boundary (2^-2 s); a 300ms threshold is not.
	if code, _, stderr := runCLI(t, "generate", "--spec", exampleSpec, "--out", t.TempDir(), "--histograms", "native"); code != exitOK {
		t.Errorf("example spec in native mode: exit %d, stderr:\n%s", code, stderr)
	}
	spec := filepath.Join(t.TempDir(), "slow.yaml")
	os.WriteFile(spec, []byte("version: 1\nservice: x\nslos:\n  - {name: a, kind: latency, threshold: 300ms, objective: 99}\n"), 0o644)
	code, _, stderr = runCLI(t, "generate", "--spec", spec, "--out", t.TempDir(), "--histograms", "native")
	if code != exitFail || !strings.Contains(stderr, spec+":4: slos[0].threshold: 300ms: with histograms: native") ||
		!strings.Contains(stderr, "the nearest are 297.301779ms and 324.209889ms") {
		t.Errorf("300ms in native mode: exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = runCLI(t, "generate", "--out", t.TempDir(), "--histograms", "sparse")
	if code != exitUsage || !strings.Contains(stderr, `--histograms "sparse": want classic or native`) {
		t.Errorf("--histograms sparse: exit %d, stderr %q", code, stderr)
	}
}
