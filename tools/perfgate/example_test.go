package perfgate_test

import (
	"fmt"
	"os"
	"strings"

	"github.com/perfobs/perfobs-go/tools/perfgate"
)

// Compare two runs of `go test -bench . -benchmem -count 5`: the new code allocates once more.
func ExampleCompare() {
	old := strings.Repeat("BenchmarkParse-8  1000000  1020 ns/op  64 B/op  1 allocs/op\n", 5)
	new := strings.Repeat("BenchmarkParse-8  1000000  1025 ns/op  80 B/op  2 allocs/op\n", 5)
	base, err := perfgate.Parse(strings.NewReader(old), "old.txt")
	if err != nil {
		fmt.Println(err)
		return
	}
	head, err := perfgate.Parse(strings.NewReader(new), "new.txt")
	if err != nil {
		fmt.Println(err)
		return
	}
	rep, err := perfgate.Compare(base, head, perfgate.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, row := range rep.Rows {
		fmt.Printf("%s %s: %s\n", row.Benchmark, row.Unit, row.Verdict)
	}
	fmt.Println("failed:", rep.Failed())
	_ = rep.Write(os.Stdout, perfgate.Markdown)
	// Output:
	// BenchmarkParse-8 sec/op: PASS
	// BenchmarkParse-8 B/op: FAIL
	// BenchmarkParse-8 allocs/op: FAIL
	// failed: true
	// ### Benchmark gate: FAIL (2 fail, 1 pass; alpha 0.05)
	//
	// | benchmark | unit | old | new | delta | p | verdict | note |
	// | --- | --- | --- | --- | --- | --- | --- | --- |
	// | `BenchmarkParse-8` | sec/op | 1.020µ ±∞ | 1.025µ ±∞ | +0.49% | p=0.008 n=5 | PASS |  |
	// | `BenchmarkParse-8` | B/op | 64 | 80 | +25.00% | exact | **FAIL** | B/op gated exactly: 64 -> 80 |
	// | `BenchmarkParse-8` | allocs/op | 1 | 2 | +100.00% | exact | **FAIL** | allocs/op gated exactly: 1 -> 2 |
}

// Find the change points of a benchmark history: each file is one commit's run, written by
// perfobs gate record. Here five commits of 2% each drift the benchmark by 10%, then one
// commit steps it up by 15%.
func ExampleAnalyzeHistory() {
	h, err := perfgate.ReadHistory("testdata/history/series")
	if err != nil {
		fmt.Println(err)
		return
	}
	rep, err := perfgate.AnalyzeHistory(h, perfgate.Config{}, perfgate.HistoryOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range rep.Changes {
		fmt.Printf("%s %s from commit %.6s to %.6s: %+.0f%%\n", c.Benchmark, c.Kind, h.Commits[c.First].Hash, h.Commits[c.Last].Hash, 100*float64(c.Delta))
	}
	fmt.Println("newest commit:", rep.Verdict())
	// Output:
	// BenchmarkHot-2 drift from commit 040404 to 080808: +10%
	// BenchmarkHot-2 step from commit 101010 to 101010: +15%
	// newest commit: PASS
}
