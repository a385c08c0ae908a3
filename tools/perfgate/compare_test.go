package perfgate

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func mustParse(t *testing.T, file string) *Results {
	t.Helper()
	res, err := ParseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// fullName finds a benchmark by its name without the -GOMAXPROCS suffix.
func fullName(res *Results, base string) string {
	for _, n := range res.Names() {
		if baseName(n) == base {
			return n
		}
	}
	return base
}

func verdicts(rep *Report) map[string]Verdict {
	m := make(map[string]Verdict)
	for _, r := range rep.Rows {
		m[r.Benchmark+" "+r.Unit] = r.Verdict
	}
	return m
}

func row(t *testing.T, rep *Report, bench, unit string) Row {
	t.Helper()
	for _, r := range rep.Rows {
		if baseName(r.Benchmark) == bench && r.Unit == unit {
			return r
		}
	}
	t.Fatalf("no row %s %s", bench, unit)
	return Row{}
}

// TestCompareRealOutputs proves both directions on real benchmark output (see
// testdata/README.md): a planted 30% slowdown and one extra allocation fail, pure noise passes.
func TestCompareRealOutputs(t *testing.T) {
	base := mustParse(t, "testdata/base.txt")
	tests := []struct {
		name, file string
		failed     bool
		want       map[string]Verdict
	}{
		{"pure noise (the same code twice) passes", "testdata/noise.txt", false, map[string]Verdict{
			"BenchmarkWork sec/op": Pass, "BenchmarkWork B/op": Pass, "BenchmarkWork allocs/op": Pass,
			"BenchmarkAlloc sec/op": Pass, "BenchmarkAlloc B/op": Pass, "BenchmarkAlloc allocs/op": Pass,
		}},
		{"a planted 30% slowdown fails", "testdata/slow.txt", true, map[string]Verdict{
			"BenchmarkWork sec/op": Fail, "BenchmarkWork B/op": Pass, "BenchmarkWork allocs/op": Pass,
			"BenchmarkAlloc sec/op": Pass, "BenchmarkAlloc B/op": Pass, "BenchmarkAlloc allocs/op": Pass,
		}},
		{"one extra allocation fails exactly", "testdata/alloc.txt", true, map[string]Verdict{
			"BenchmarkWork sec/op": Pass, "BenchmarkWork B/op": Pass, "BenchmarkWork allocs/op": Pass,
			"BenchmarkAlloc sec/op": Fail, "BenchmarkAlloc B/op": Fail, "BenchmarkAlloc allocs/op": Fail,
		}},
		{"too few samples are inconclusive and say how many are needed", "testdata/few.txt", false, map[string]Verdict{
			"BenchmarkWork sec/op": Inconclusive, "BenchmarkWork B/op": Pass, "BenchmarkWork allocs/op": Pass,
			"BenchmarkAlloc sec/op": Inconclusive, "BenchmarkAlloc B/op": Pass, "BenchmarkAlloc allocs/op": Pass,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := Compare(base, mustParse(t, tt.file), Config{})
			if err != nil {
				t.Fatal(err)
			}
			got := verdicts(rep)
			if len(got) != len(tt.want) {
				t.Errorf("got %d rows, want %d: %v", len(got), len(tt.want), got)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s: verdict %s, want %s", k, got[k], v)
				}
			}
			if rep.Failed() != tt.failed {
				t.Errorf("Failed() = %v, want %v", rep.Failed(), tt.failed)
			}
		})
	}

	t.Run("the slowdown is measured near 30%", func(t *testing.T) {
		rep, _ := Compare(base, mustParse(t, "testdata/slow.txt"), Config{})
		r := row(t, rep, "BenchmarkWork", "sec/op")
		if r.Delta < 0.20 || r.Delta > 0.40 || r.P >= 0.05 {
			t.Errorf("delta %.3f p %.4f, want about +0.30 and p < 0.05", r.Delta, r.P)
		}
	})
	t.Run("the extra allocation is one allocation", func(t *testing.T) {
		rep, _ := Compare(base, mustParse(t, "testdata/alloc.txt"), Config{})
		r := row(t, rep, "BenchmarkAlloc", "allocs/op")
		if r.Old.Center != 1 || r.New.Center != 2 || !strings.Contains(r.Note, "allocs/op gated exactly: 1 -> 2") {
			t.Errorf("old %v new %v note %q", r.Old.Center, r.New.Center, r.Note)
		}
	})
	t.Run("a 2x slowdown with one new sample is inconclusive, never a pass", func(t *testing.T) {
		one := NewResults()
		if err := one.Read(strings.NewReader("BenchmarkWork  1000  2742 ns/op  0 B/op  0 allocs/op\n"), "one.txt"); err != nil {
			t.Fatal(err)
		}
		rep, err := Compare(base, one, Config{}, WithAllowMissing())
		if err != nil {
			t.Fatal(err)
		}
		r := row(t, rep, "BenchmarkWork", "sec/op")
		if r.Verdict != Inconclusive || !rep.Inconclusive() || rep.Failed() {
			t.Errorf("verdict %s, report inconclusive %v failed %v", r.Verdict, rep.Inconclusive(), rep.Failed())
		}
		rep, _ = Compare(base, one, Config{AcceptInconclusive: true}, WithAllowMissing())
		if r := row(t, rep, "BenchmarkWork", "sec/op"); r.Verdict != Warn || !strings.Contains(r.Note, "inconclusive accepted") {
			t.Errorf("accepted: verdict %s note %q", r.Verdict, r.Note)
		}
	})
	t.Run("the too-few message names the count", func(t *testing.T) {
		rep, _ := Compare(base, mustParse(t, "testdata/few.txt"), Config{})
		r := row(t, rep, "BenchmarkWork", "sec/op")
		want := "too few samples: have 10 base and 3 new, need at least 4 of each"
		if !strings.Contains(r.Note, want) {
			t.Errorf("note %q does not contain %q", r.Note, want)
		}
	})
}

func TestCompareConfig(t *testing.T) {
	base, slow := mustParse(t, "testdata/base.txt"), mustParse(t, "testdata/slow.txt")
	tests := []struct {
		name   string
		cfg    Config
		want   Verdict
		failed bool
		note   string
	}{
		{"default threshold fails the 30% slowdown", Config{}, Fail, true, "worse than the 10.0% threshold"},
		{"a 50% threshold with a 20% warn level warns", Config{Rules: []Rule{{Match: "^BenchmarkWork$", Threshold: 0.5, Warn: 0.2}}}, Warn, false, "past the 20.0% warn level"},
		{"a 50% threshold with a 45% warn level passes", Config{Rules: []Rule{{Match: "Work", Threshold: 0.5, Warn: 0.45}}}, Pass, false, ""},
		{"an advisory benchmark only warns", Config{Rules: []Rule{{Match: "Work", Criticality: Advisory}}}, Warn, false, "advisory"},
		{"a 5% user-facing threshold fails", Config{Threshold: 0.2, Rules: []Rule{{Match: "Work", Threshold: 0.05}}}, Fail, true, "5.0% threshold"},
		{"an accepted regression is reported with its reason", Config{Accepted: []Accepted{{Benchmark: "^BenchmarkWork$", Unit: "sec/op", Reason: "bigger work unit, see #12"}}}, Accept, false, "accepted: bigger work unit, see #12"},
		{"an acceptance for another unit does not apply", Config{Accepted: []Accepted{{Benchmark: "Work", Unit: "allocs/op", Reason: "r"}}}, Fail, true, ""},
		{"sec/op can be declared higher-is-better", Config{HigherIsBetter: []string{"sec/op"}}, Pass, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := Compare(base, slow, tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			r := row(t, rep, "BenchmarkWork", "sec/op")
			if r.Verdict != tt.want {
				t.Errorf("verdict %s, want %s (note %q)", r.Verdict, tt.want, r.Note)
			}
			if rep.Failed() != tt.failed {
				t.Errorf("Failed() = %v, want %v", rep.Failed(), tt.failed)
			}
			if !strings.Contains(r.Note, tt.note) {
				t.Errorf("note %q does not contain %q", r.Note, tt.note)
			}
		})
	}
	t.Run("exact units can be turned off", func(t *testing.T) {
		rep, err := Compare(base, mustParse(t, "testdata/noise.txt"), Config{ExactUnits: []string{}})
		if err != nil {
			t.Fatal(err)
		}
		if r := row(t, rep, "BenchmarkAlloc", "allocs/op"); r.Exact {
			t.Error("allocs/op compared exactly with ExactUnits empty")
		}
	})
	t.Run("an invalid config is an error", func(t *testing.T) {
		_, err := Compare(base, slow, Config{Rules: []Rule{{Match: "("}}})
		if err == nil || !strings.Contains(err.Error(), `match "("`) {
			t.Errorf("error %v", err)
		}
	})
}

func TestCompareMismatch(t *testing.T) {
	base, partial := mustParse(t, "testdata/base.txt"), mustParse(t, "testdata/mismatch.txt")
	t.Run("mismatched sets are an error naming file and line", func(t *testing.T) {
		_, err := Compare(base, partial, Config{})
		if !errors.Is(err, ErrMismatch) {
			t.Fatalf("error %v, want ErrMismatch", err)
		}
		want := "testdata/base.txt:6: BenchmarkAlloc is in the base results but not in the new results"
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	})
	t.Run("a new benchmark names the new file", func(t *testing.T) {
		_, err := Compare(partial, base, Config{})
		want := "testdata/base.txt:6: BenchmarkAlloc is in the new results but not in the base results"
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not contain %q", err, want)
		}
	})
	t.Run("allowed, missing benchmarks are reported and pass", func(t *testing.T) {
		rep, err := Compare(partial, base, Config{}, WithAllowMissing())
		if err != nil {
			t.Fatal(err)
		}
		if rep.Failed() || rep.Count(Missing) != 3 || len(rep.Notes) != 1 {
			t.Errorf("failed %v, %d missing rows, notes %q", rep.Failed(), rep.Count(Missing), rep.Notes)
		}
		if r := row(t, rep, "BenchmarkAlloc", "allocs/op"); r.Note != "new benchmark: no base result" {
			t.Errorf("note %q", r.Note)
		}
	})
}

func TestSamplesNeeded(t *testing.T) {
	for _, tt := range []struct {
		alpha float64
		want  int
	}{{0.05, 4}, {0.01, 5}, {0.001, 7}} {
		if got := SamplesNeeded(tt.alpha); got != tt.want {
			t.Errorf("SamplesNeeded(%v) = %d, want %d", tt.alpha, got, tt.want)
		}
	}
}

func TestReportWrite(t *testing.T) {
	rep, err := Compare(mustParse(t, "testdata/base.txt"), mustParse(t, "testdata/alloc.txt"), Config{}, WithNames("base.txt", "alloc.txt"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		format Format
		want   []string
	}{
		{Table, []string{"BENCHMARK", "BenchmarkAlloc  allocs/op  1", "+100.00%", "exact", "FAIL (3 fail, 3 pass; alpha 0.05)"}},
		{Markdown, []string{"### Benchmark gate: FAIL", "| benchmark | unit | old | new | delta | p | verdict | note |", "| `BenchmarkAlloc` | allocs/op | 1 | 2 | +100.00% | exact | **FAIL** |"}},
		{JSON, []string{`"verdict": "FAIL"`, `"base": "base.txt"`, `"unit": "allocs/op"`}},
	}
	for _, tt := range tests {
		t.Run(string(tt.format), func(t *testing.T) {
			var buf bytes.Buffer
			if err := rep.Write(&buf, tt.format); err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(buf.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, buf.String())
				}
			}
		})
	}
	t.Run("json round-trips", func(t *testing.T) {
		var buf bytes.Buffer
		if err := rep.Write(&buf, JSON); err != nil {
			t.Fatal(err)
		}
		var back Report
		if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
			t.Fatal(err)
		}
		if len(back.Rows) != 6 || back.Count(Fail) != 3 {
			t.Errorf("decoded %d rows, %d failed", len(back.Rows), back.Count(Fail))
		}
	})
	t.Run("unknown format", func(t *testing.T) {
		if _, err := ParseFormat("html"); err == nil {
			t.Error("no error")
		}
	})
}
