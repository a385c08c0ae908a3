package main

import (
	"encoding/json"
	"os"
	"path/filepath"
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
		{"too few samples are inconclusive: exit 3 with the count needed", []string{"--base", gateData + "base.txt", "--new", gateData + "few.txt"}, exitInconclusive,
			[]string{"INCONCLUSIVE", "need at least 4 of each"}, []string{"inconclusive: too few samples"}, nil},
		{"inconclusive may be accepted by flag", []string{"--accept-inconclusive", "--base", gateData + "base.txt", "--new", gateData + "few.txt"}, exitOK,
			[]string{"WARN", "inconclusive accepted"}, nil, []string{"INCONCLUSIVE"}},
		{"inconclusive may be accepted by config", []string{"--config", gateData + "accept-inconclusive.yaml", "--base", gateData + "base.txt", "--new", gateData + "few.txt"}, exitOK,
			[]string{"inconclusive accepted"}, nil, nil},
		{"--instructions needs head-to-head", []string{"--instructions", "--base", gateData + "base.txt", "--new", gateData + "noise.txt"}, exitUsage,
			nil, []string{"--instructions measures"}, nil},
		{"history: a drift and a step, the newest commit passes", []string{"history", gateData + "history/series"}, exitOK,
			[]string{"drift  040404040404..080808080808 (5 commits)", "step   101010101010", "PASS (2 change points in 1 series over 11 commits, 0 at or after commit 111111111111"}, nil, nil},
		{"history: a regression since a commit fails", []string{"history", "--since", "1010101010", gateData + "history/series"}, exitFail,
			[]string{"FAIL (2 change points"}, nil, nil},
		{"history: markdown lists only the changes", []string{"history", "--format", "markdown", gateData + "history/series"}, exitOK,
			[]string{"### Benchmark history: PASS", "| `BenchmarkHot-2` | instructions/op |"}, nil, []string{"030303030303"}},
		{"history: a file without commit: names file and line", []string{"history", gateData + "history/no-commit.txt"}, exitUsage,
			nil, []string{`history/no-commit.txt:5: BenchmarkHot-2: no "commit:" configuration line`}, nil},
		{"history: mixed machines are noted, never compared", []string{"history", gateData + "history/mixed.txt"}, exitOK,
			[]string{"note: the history mixes 2 machines", "PASS (0 change points in 2 series"}, nil, nil},
		{"history: a rename is noted", []string{"history", gateData + "history/renamed.txt"}, exitOK,
			[]string{"renamed?"}, nil, nil},
		{"history: too few samples at the newest commit is exit 3", []string{"history", gateData + "history/series", gateData + "history/thin-newest.txt"}, exitInconclusive,
			[]string{"inconclusive: BenchmarkHot-2 instructions/op"}, []string{"has 1 samples, need at least 4"}, nil},
		{"history: no argument", []string{"history"}, exitUsage, nil, []string{"need history files"}, nil},
		{"calibrate from A/A files", []string{"calibrate", "--count", "6", "--base", gateData + "base.txt", "--new", gateData + "noise.txt"}, exitOK,
			[]string{"BenchmarkWork", "sec/op", "thresholds are 2x the spread"}, nil, nil},
		{"calibrate refuses too few runs", []string{"calibrate", "--count", "10", "--base", gateData + "base.txt", "--new", gateData + "noise.txt"}, exitUsage,
			nil, []string{"need at least 11 per side"}, nil},
		{"record needs --history", []string{"record", gateData + "base.txt"}, exitUsage, nil, []string{"--history DIR: required"}, nil},
		{"markdown for pull requests", []string{"--format", "markdown", "--base", gateData + "base.txt", "--new", gateData + "alloc.txt"}, exitFail,
			[]string{"### Benchmark gate: FAIL", "| `BenchmarkAlloc` | allocs/op | 1 | 2 |"}, nil, nil},
		{"the repository's gate.yaml loads", []string{"--config", "../../../gate.yaml", "--base", gateData + "base.txt", "--new", gateData + "noise.txt"}, exitOK,
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

func TestGateRecordThenHistory(t *testing.T) {
	dir := t.TempDir()
	for i, f := range []string{"base.txt", "noise.txt", "slow.txt"} {
		var stdout, stderr strings.Builder
		args := []string{"gate", "record", "--history", dir, "--commit", strings.Repeat(string(rune('a'+i)), 40),
			"--commit-time", "2026-05-0" + string(rune('1'+i)) + "T00:00:00Z", "--branch", "main", gateData + f}
		if code := run(args, &stdout, &stderr); code != exitOK || !strings.Contains(stdout.String(), "recorded "+dir) {
			t.Fatalf("record %s: exit %d\n%s%s", f, code, stdout.String(), stderr.String())
		}
	}
	var stdout, stderr strings.Builder
	again := []string{"gate", "record", "--history", dir, "--commit", strings.Repeat("a", 40), "--commit-time", "2026-05-01T00:00:00Z", gateData + "base.txt"}
	if code := run(again, &stdout, &stderr); code != exitUsage || !strings.Contains(stderr.String(), "recorded already") {
		t.Errorf("recording one commit twice: exit %d: %s", code, stderr.String())
	}
	stdout.Reset()
	stderr.Reset()
	html := filepath.Join(t.TempDir(), "h.html")
	code := run([]string{"gate", "history", "--html", html, dir}, &stdout, &stderr)
	// The newest commit is the planted 30% slowdown of BenchmarkWork: a step that fails.
	if code != exitFail || !strings.Contains(stdout.String(), "BenchmarkWork") || !strings.Contains(stdout.String(), "step") {
		t.Errorf("history: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	page, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"<svg", "BenchmarkWork", "step +", "<circle"} {
		if !strings.Contains(string(page), w) {
			t.Errorf("HTML lacks %q", w)
		}
	}
	if strings.Contains(string(page), "<script") || strings.Contains(string(page), "http://") && !strings.Contains(string(page), "http://www.w3.org/2000/svg") {
		t.Error("HTML is not self-contained")
	}
}

func TestGateCalibrateWrite(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "gate.yaml")
	if err := os.WriteFile(cfg, []byte("# keep me\naccepted: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr strings.Builder
	code := run([]string{"gate", "calibrate", "--count", "6", "--write", cfg, "--base", gateData + "base.txt", "--new", gateData + "noise.txt"}, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	data, _ := os.ReadFile(cfg)
	for _, w := range []string{"# keep me", "- match: ^BenchmarkWork$", "unit: sec/op", "threshold: ", "# calibrated: spread"} {
		if !strings.Contains(string(data), w) {
			t.Errorf("gate.yaml lacks %q:\n%s", w, data)
		}
	}
	// The written file gates: pure noise passes under the calibrated thresholds.
	stdout.Reset()
	if code := run([]string{"gate", "--config", cfg, "--base", gateData + "base.txt", "--new", gateData + "noise.txt"}, &stdout, &stderr); code != exitOK {
		t.Errorf("gate with the calibrated config: exit %d\n%s", code, stdout.String())
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
