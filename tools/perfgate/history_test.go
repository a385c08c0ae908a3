package perfgate

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// synthHistory writes one history file per commit into a temporary directory, through Record:
// BenchmarkHot's level per commit is levels[i] times 1000 ns/op, each sample with up to
// +-noise relative noise (seeded, so the test is deterministic), count samples per commit.
func synthHistory(t *testing.T, levels []float64, noise float64, count int) string {
	t.Helper()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, lv := range levels {
		var in bytes.Buffer
		in.WriteString("goos: linux\ngoarch: amd64\npkg: example.com/hot\ncpu: Test CPU\n")
		for range count {
			v := 1000 * lv * (1 + noise*(2*rng.Float64()-1))
			fmt.Fprintf(&in, "BenchmarkHot-2 \t 1000000 \t %.2f ns/op \t 0 B/op \t 0 allocs/op\n", v)
		}
		info := RunInfo{Commit: fmt.Sprintf("%040x", i+1), CommitTime: t0.Add(time.Duration(i) * time.Hour), Branch: "main"}
		var out bytes.Buffer
		if err := Record(&out, &in, "run.txt", info); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, HistoryFileName(info, "")), out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func analyze(t *testing.T, cfg Config, paths ...string) *HistoryReport {
	t.Helper()
	h, err := ReadHistory(paths...)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := AnalyzeHistory(h, cfg, HistoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func changesOf(rep *HistoryReport, unit string) []Change {
	var out []Change
	for _, c := range rep.Changes {
		if c.Unit == unit {
			out = append(out, c)
		}
	}
	return out
}

func TestHistoryStepAndDrift(t *testing.T) {
	// Commits 0-3 flat, 4-8 drift by 2% each (none past the 5% warn level alone), 9-11 flat,
	// 12 a 15% step, 13-14 flat. Noise +-0.5%.
	levels := []float64{1, 1, 1, 1}
	lv := 1.0
	for range 5 {
		lv *= 1.02
		levels = append(levels, lv)
	}
	levels = append(levels, lv, lv, lv, lv*1.15, lv*1.15, lv*1.15)
	rep := analyze(t, Config{}, synthHistory(t, levels, 0.005, 6))
	ch := changesOf(rep, "sec/op")
	if len(ch) != 2 {
		t.Fatalf("%d changes, want a drift and a step: %+v", len(ch), ch)
	}
	d, s := ch[0], ch[1]
	if d.Kind != Drift || d.First != 4 || d.Last != 8 || math.Abs(float64(d.Delta)-0.104) > 0.02 || !d.Regression {
		t.Errorf("drift: %+v, want commits 4..8, about +10.4%%", d)
	}
	if d.Verdict != Fail || !(float64(d.Lo) > 0.05 && float64(d.Hi) < 0.2) {
		t.Errorf("drift verdict %s interval [%v, %v]", d.Verdict, d.Lo, d.Hi)
	}
	if s.Kind != Step || s.First != 12 || s.Last != 12 || math.Abs(float64(s.Delta)-0.15) > 0.02 {
		t.Errorf("step: %+v, want commit 12, about +15%%", s)
	}
	// The newest commit (14) completed no change: the gate passes; from commit 12 it fails.
	if rep.Failed() || rep.IsInconclusive() {
		t.Errorf("failed %v inconclusive %v, want a pass at the newest commit", rep.Failed(), rep.IsInconclusive())
	}
	h, _ := ReadHistory(synthHistory(t, levels, 0.005, 6))
	since, err := AnalyzeHistory(h, Config{}, HistoryOptions{Since: h.Commits[12].Hash})
	if err != nil || !since.Failed() {
		t.Errorf("since commit 12: failed %v, err %v", since != nil && since.Failed(), err)
	}
	for _, c := range changesOf(rep, "allocs/op") {
		t.Errorf("allocs/op never changed, got %+v", c)
	}
}

func TestHistoryNoiseHasNoChangePoint(t *testing.T) {
	levels := make([]float64, 20)
	for i := range levels {
		levels[i] = 1
	}
	rep := analyze(t, Config{}, synthHistory(t, levels, 0.05, 6))
	if len(rep.Changes) != 0 {
		t.Errorf("pure noise gave change points: %+v", rep.Changes)
	}
}

func TestHistoryNewestStepFails(t *testing.T) {
	rep := analyze(t, Config{}, synthHistory(t, []float64{1, 1, 1, 1.3}, 0.01, 6))
	if !rep.Failed() {
		t.Errorf("a 30%% step at the newest commit passes: %+v", rep.Changes)
	}
	rep = analyze(t, Config{}, synthHistory(t, []float64{1, 1, 1, 0.7}, 0.01, 6))
	if rep.Failed() || len(rep.Changes) != 1 || rep.Changes[0].Regression {
		t.Errorf("an improvement: %+v", rep.Changes)
	}
	acc := Config{Accepted: []Accepted{{Benchmark: "^BenchmarkHot$", Reason: "bigger buffers (#1)"}}}
	rep = analyze(t, acc, synthHistory(t, []float64{1, 1, 1, 1.3}, 0.01, 6))
	if rep.Failed() || rep.Changes[0].Verdict != Accept {
		t.Errorf("accepted: %+v", rep.Changes)
	}
}

func TestHistoryTooFewSamplesIsInconclusive(t *testing.T) {
	dir := synthHistory(t, []float64{1, 1, 1}, 0.01, 6)
	more := synthHistory(t, []float64{1, 1, 1, 2}, 0.01, 1) // commit 4 has one sample, 2x slower
	files, _ := filepath.Glob(filepath.Join(more, "*.txt"))
	last := files[len(files)-1]
	data, _ := os.ReadFile(last)
	if err := os.WriteFile(filepath.Join(dir, filepath.Base(last)), data, 0o644); err != nil {
		t.Fatal(err)
	}
	rep := analyze(t, Config{}, dir)
	if !rep.IsInconclusive() || rep.Failed() {
		t.Fatalf("inconclusive %v failed %v: %v", rep.IsInconclusive(), rep.Failed(), rep.Inconclusive)
	}
	if !strings.Contains(rep.Inconclusive[0], "has 1 samples, need at least 4") {
		t.Errorf("message %q", rep.Inconclusive[0])
	}
	if rep := analyze(t, Config{AcceptInconclusive: true}, dir); rep.IsInconclusive() {
		t.Error("accept_inconclusive did not accept")
	}
}

func TestHistoryBadInput(t *testing.T) {
	tests := []struct {
		file string
		want string
	}{
		{"no-commit.txt", "no-commit.txt:5: BenchmarkHot-2: no \"commit:\" configuration line"},
		{"no-time.txt", "no-time.txt:6: BenchmarkHot-2: commit 1111111111111111111111111111111111111111 has no \"commit-time:\""},
		{"bad-time.txt", `bad-time.txt:7: commit-time "yesterday": not an RFC 3339 time`},
		{"two-times.txt", "commit 1111111111111111111111111111111111111111 has commit-time 2026-01-02T00:00:00Z here but 2026-01-01T00:00:00Z at testdata/history/two-times.txt:7"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, err := ReadHistory(filepath.Join("testdata/history", tt.file))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
	if _, err := ReadHistory(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no *.txt history files") {
		t.Errorf("empty directory: %v", err)
	}
}

func TestHistoryMixedMachinesAndRename(t *testing.T) {
	h, err := ReadHistory("testdata/history/mixed.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Notes) == 0 || !strings.Contains(h.Notes[0], "mixes 2 machines") {
		t.Errorf("notes %q", h.Notes)
	}
	rep, _ := AnalyzeHistory(h, Config{}, HistoryOptions{})
	// The second machine is 2x slower: mixed, that would be a 100% step. Apart, no change.
	if len(rep.Changes) != 0 {
		t.Errorf("machines compared with each other: %+v", rep.Changes)
	}
	h, err = ReadHistory("testdata/history/renamed.txt")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, n := range h.Notes {
		found = found || strings.Contains(n, "BenchmarkOld-2 stops at commit 222222222222 and BenchmarkNew-2 starts at commit 333333333333: renamed?")
	}
	if !found {
		t.Errorf("notes %q", h.Notes)
	}
	rep, _ = AnalyzeHistory(h, Config{}, HistoryOptions{})
	if len(rep.Changes) != 0 {
		t.Errorf("a change point across the rename: %+v", rep.Changes)
	}
}

func TestRecordRefusesBadInput(t *testing.T) {
	info := RunInfo{Commit: "abc", CommitTime: time.Now()}
	if err := Record(&bytes.Buffer{}, strings.NewReader("PASS\n"), "x.txt", info); err == nil || !strings.Contains(err.Error(), "no benchmark results") {
		t.Errorf("no results: %v", err)
	}
	if err := Record(&bytes.Buffer{}, strings.NewReader("BenchmarkX 1 2 ns/op\n"), "x.txt", RunInfo{CommitTime: time.Now()}); err == nil || !strings.Contains(err.Error(), "commit: required") {
		t.Errorf("no commit: %v", err)
	}
	if err := Record(&bytes.Buffer{}, strings.NewReader("commit: x\nBenchmarkX 1 2 ns/op\n"), "x.txt", info); err == nil || !strings.Contains(err.Error(), "x.txt:2: the input already has a commit: line") {
		t.Errorf("recorded twice: %v", err)
	}
	var out bytes.Buffer
	if err := Record(&out, strings.NewReader("goos: linux\ngoarch: arm64\ncpu: X\nBenchmarkX-4 10 2 ns/op\n"), "x.txt", info); err != nil {
		t.Fatal(err)
	}
	want := "commit: abc\ncommit-time: " + info.CommitTime.UTC().Format(time.RFC3339) + "\ngoos: linux\ngoarch: arm64\ncpu: X\n"
	if !strings.HasPrefix(out.String(), want) || !strings.Contains(out.String(), "BenchmarkX-4 10 2 ns/op") {
		t.Errorf("recorded:\n%s\nwant prefix:\n%s", out.String(), want)
	}
}

func FuzzParseHistory(f *testing.F) {
	for _, name := range []string{"series/20260301T120000Z-010101010101.txt", "mixed.txt", "renamed.txt", "no-commit.txt", "bad-time.txt", "two-times.txt", "thin-newest.txt"} {
		data, err := os.ReadFile(filepath.Join("testdata/history", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ParseHistory(bytes.NewReader(data), "fuzz.txt")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "history: ") {
				t.Errorf("error without the history prefix: %v", err)
			}
			return
		}
		if len(h.Commits) == 0 || len(h.Series) == 0 {
			t.Fatalf("no error but %d commits and %d series", len(h.Commits), len(h.Series))
		}
		rep, err := AnalyzeHistory(h, Config{}, HistoryOptions{Bootstrap: 50})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range rep.Changes {
			if c.First > c.Last || c.Last >= len(h.Commits) {
				t.Fatalf("change out of range: %+v", c)
			}
		}
		var out bytes.Buffer
		if err := rep.WriteHTML(&out); err != nil {
			t.Fatal(err)
		}
	})
}
