package main

import (
	"encoding/json"
	"strings"
	"testing"
)

const gateData = "../../perfgate/testdata/"

func TestGate(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		code      int
		stdout    []string
		stderr    []string
		notStdout []string
	}{
		{"pure noise passes", []string{"--base", gateData + "base.txt", "--new", gateData + "noise.txt"}, exitOK,
			[]string{"PASS (6 pass; alpha 0.05)"}, nil, []string{"FAIL"}},
		{"a 30% slowdown fails", []string{"--base", gateData + "base.txt", "--new", gateData + "slow.txt"}, exitFail,
			[]string{"BenchmarkWork   sec/op", "FAIL", "worse than the 10.0% threshold"}, nil, nil},
		{"one extra allocation fails", []string{"--base", gateData + "base.txt", "--new", gateData + "alloc.txt"}, exitFail,
			[]string{"allocs/op gated exactly: 1 -> 2"}, nil, nil},
		{"a 40% threshold lets the slowdown warn", []string{"--threshold", "40%", "--base", gateData + "base.txt", "--new", gateData + "slow.txt"}, exitOK,
			[]string{"WARN", "past the 20.0% warn level"}, nil, nil},
		{"too few samples warns with the count needed", []string{"--base", gateData + "base.txt", "--new", gateData + "few.txt"}, exitOK,
			[]string{"need at least 4 of each"}, nil, nil},
		{"markdown for pull requests", []string{"--format", "markdown", "--base", gateData + "base.txt", "--new", gateData + "alloc.txt"}, exitFail,
			[]string{"### Benchmark gate: FAIL", "| `BenchmarkAlloc` | allocs/op | 1 | 2 |"}, nil, nil},
		{"the repository's gate.yaml loads", []string{"--config", "../../gate.yaml", "--base", gateData + "base.txt", "--new", gateData + "noise.txt"}, exitOK,
			[]string{"PASS"}, nil, nil},
		{"an empty file is an input error naming it", []string{"--base", gateData + "empty.txt", "--new", gateData + "noise.txt"}, exitUsage,
			nil, []string{"perfgate/testdata/empty.txt: empty file"}, nil},
		{"an unparsable line names file and line", []string{"--base", gateData + "base.txt", "--new", gateData + "bad-line.txt"}, exitUsage,
			nil, []string{"perfgate/testdata/bad-line.txt:9:"}, nil},
		{"mismatched sets name file and line", []string{"--base", gateData + "base.txt", "--new", gateData + "mismatch.txt"}, exitUsage,
			nil, []string{"perfgate/testdata/base.txt:6: BenchmarkAlloc is in the base results but not in the new results"}, nil},
		{"mismatched sets may be allowed", []string{"--allow-missing", "--base", gateData + "base.txt", "--new", gateData + "mismatch.txt"}, exitOK,
			[]string{"MISSING", "benchmark gone"}, nil, nil},
		{"a missing --new is a usage error", []string{"--base", gateData + "base.txt"}, exitUsage,
			nil, []string{"need --base OLD.txt and --new NEW.txt"}, nil},
		{"a bad format is a usage error", []string{"--format", "html", "--base", gateData + "base.txt", "--new", gateData + "noise.txt"}, exitUsage,
			nil, []string{`format "html"`}, nil},
		{"a bad threshold is a usage error", []string{"--threshold", "10", "--base", gateData + "base.txt", "--new", gateData + "noise.txt"}, exitUsage,
			nil, []string{"--threshold \"10\": write a percentage"}, nil},
		{"a bad config names file and line", []string{"--config", gateData + "bad-gate.yaml", "--base", gateData + "base.txt", "--new", gateData + "noise.txt"}, exitUsage,
			nil, []string{"perfgate/testdata/bad-gate.yaml:3: accepted: benchmark \"X\": reason: required"}, nil},
		{"head-to-head without a base revision is a usage error", []string{"--head-to-head"}, exitUsage,
			nil, []string{"--head-to-head needs --base-rev REV"}, nil},
		{"a missing base revision is an input error", []string{"--head-to-head", "--base-rev", "no-such-rev-for-perfgate", "."}, exitUsage,
			nil, []string{`revision "no-such-rev-for-perfgate"`, "no base to compare with"}, nil},
		{"a missing base revision passes when allowed", []string{"--head-to-head", "--allow-missing", "--base-rev", "no-such-rev-for-perfgate", "."}, exitOK,
			[]string{"nothing to compare, passing"}, nil, nil},
		{"unknown flag", []string{"--frobnicate"}, exitUsage, nil, []string{"flag provided but not defined"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr strings.Builder
			code := run(append([]string{"gate"}, tt.args...), &stdout, &stderr)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout.String(), stderr.String())
			}
			for _, w := range tt.stdout {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout.String())
				}
			}
			for _, w := range tt.notStdout {
				if strings.Contains(stdout.String(), w) {
					t.Errorf("stdout has %q:\n%s", w, stdout.String())
				}
			}
			for _, w := range tt.stderr {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr.String())
				}
			}
		})
	}
}

func TestGateJSON(t *testing.T) {
	var stdout, stderr strings.Builder
	code := run([]string{"gate", "--format", "json", "--base", gateData + "base.txt", "--new", gateData + "slow.txt"}, &stdout, &stderr)
	if code != exitFail {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var rep struct {
		Rows []struct {
			Benchmark, Unit, Verdict string
			Delta                    float64
		}
	}
	if err := json.Unmarshal([]byte(stdout.String()), &rep); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range rep.Rows {
		if r.Benchmark == "BenchmarkWork" && r.Unit == "sec/op" {
			found = true
			if r.Verdict != "FAIL" || r.Delta < 0.2 {
				t.Errorf("sec/op row: %+v", r)
			}
		}
	}
	if !found || len(rep.Rows) != 6 {
		t.Errorf("rows: %+v", rep.Rows)
	}
}
