package perfgate

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/perf/benchfmt"
)

func TestParseFile(t *testing.T) {
	res, err := ParseFile("testdata/base.txt")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(res.Names(), ","), "BenchmarkWork,BenchmarkAlloc"; got != want {
		t.Errorf("names = %s, want %s", got, want)
	}
	if got, want := strings.Join(res.Units("BenchmarkWork"), ","), "sec/op,B/op,allocs/op"; got != want {
		t.Errorf("units = %s, want %s", got, want)
	}
	vals := res.Values("BenchmarkWork", "sec/op")
	if len(vals) != 10 {
		t.Fatalf("got %d samples, want 10", len(vals))
	}
	if vals[0] != 1381e-9 {
		t.Errorf("first sample = %v, want 1.381e-06 (1381 ns/op tidied to seconds)", vals[0])
	}
	if got := res.Values("BenchmarkAlloc", "allocs/op"); got[0] != 1 {
		t.Errorf("allocs/op = %v, want 1", got[0])
	}
	if file, line := res.Pos("BenchmarkAlloc"); file != "testdata/base.txt" || line != 6 {
		t.Errorf("Pos = %s:%d, want testdata/base.txt:6", file, line)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, file string
		want       []string
		syntax     bool
	}{
		{"an empty file says so", "testdata/empty.txt", []string{"testdata/empty.txt: empty file"}, false},
		{"a file without results says how long it was", "testdata/notbench.txt", []string{"testdata/notbench.txt: no benchmark results in 4 lines"}, false},
		{"an unparsable benchmark line names file and line", "testdata/bad-line.txt", []string{"testdata/bad-line.txt:9:", "iteration count"}, true},
		{"a missing file names it", "testdata/nosuch.txt", []string{"testdata/nosuch.txt"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseFile(tt.file)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			var se *benchfmt.SyntaxError
			if got := errors.As(err, &se); got != tt.syntax {
				t.Errorf("errors.As(SyntaxError) = %v, want %v", got, tt.syntax)
			}
		})
	}
}

func TestReadMergesRuns(t *testing.T) {
	res := NewResults()
	for _, f := range []string{"testdata/base.txt", "testdata/noise.txt", "testdata/notbench.txt"} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := res.Read(strings.NewReader(string(data)), filepath.Base(f)); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(res.Values("BenchmarkWork", "sec/op")); got != 20 {
		t.Errorf("merged %d samples, want 20", got)
	}
}

// FuzzParse checks that no input makes the parser panic, and that whatever it accepts is
// consistent. Seeds: every benchmark file in testdata/ and testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.txt")
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Parse(strings.NewReader(string(data)), "fuzz.txt")
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.txt") {
				t.Errorf("error %q does not name the file", err)
			}
			return
		}
		if res.Len() == 0 {
			t.Fatal("accepted input without results")
		}
		for _, name := range res.Names() {
			if !strings.HasPrefix(name, "Benchmark") {
				t.Errorf("name %q lacks the Benchmark prefix", name)
			}
			if _, line := res.Pos(name); line <= 0 {
				t.Errorf("%s: line %d", name, line)
			}
			for _, u := range res.Units(name) {
				if len(res.Values(name, u)) == 0 {
					t.Errorf("%s %s: no values", name, u)
				}
			}
		}
		// Comparing a set with itself never fails on exact units and never errors.
		rep, err := Compare(res, res, Config{})
		if err != nil {
			t.Fatalf("Compare(self): %v", err)
		}
		for _, row := range rep.Rows {
			if row.Exact && row.Verdict == Fail {
				t.Errorf("self comparison failed %s %s", row.Benchmark, row.Unit)
			}
		}
	})
}
