package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	bad := write("bad.yaml", "version: 1\nservice: x\nwindow: 3d\nslos:\n  - name: a\n    kind: latency\n    threshold: 300ms\n    objective: 100\n")
	unknown := write("unknown.yaml", "version: 1\nservice: x\nslos:\n  - name: a\n    kind: availability\n    objective: 99\n    colour: red\n")
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr []string
	}{
		{"example spec", []string{"validate", "--spec", exampleSpec}, exitOK,
			exampleSpec + ": ok: service checkout, window 28d, 3 SLOs (availability, cart-latency, orders-availability), runtime alerts on", nil},
		{"every problem with its line", []string{"validate", "--spec", bad}, exitFail, "", []string{
			bad + ":3: window: 3d: must be from 7d",
			bad + ":7: slos[0].threshold: 300ms: the latency threshold must be one of the buckets [0.005s",
			bad + ":8: slos[0].objective: 100: must be in (0, 100)",
		}},
		{"unknown field", []string{"validate", "--spec", unknown}, exitFail, "", []string{unknown + ":7: slos[0].colour: unknown field"}},
		{"missing file", []string{"validate", "--spec", filepath.Join(dir, "nope.yaml")}, exitUsage, "", []string{"no such file"}},
		{"no --spec", []string{"validate"}, exitUsage, "", []string{"--spec FILE is required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.code, stderr)
			}
			if !strings.Contains(stdout, tt.stdout) {
				t.Errorf("stdout %q, want %q", stdout, tt.stdout)
			}
			for _, s := range tt.stderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr %q lacks %q", stderr, s)
				}
			}
		})
	}
}
