package main

import (
	"strings"
	"testing"

	"github.com/perfobs/perfobs-go/leaktest"
)

func TestMain(m *testing.M) { leaktest.VerifyTestMain(m) }

func TestOverheadTable(t *testing.T) {
	var in strings.Builder
	in.WriteString("goos: linux\ngoarch: amd64\n")
	for i := 0; i < 6; i++ {
		in.WriteString("BenchmarkHTTP/Bare-2   1000  100 ns/op  16 B/op  1 allocs/op\n")
		in.WriteString("BenchmarkHTTP/Perfobs-2   1000  150 ns/op  16 B/op  1 allocs/op\n")
		in.WriteString("BenchmarkHTTP/Promhttp-2   1000  600 ns/op  700 B/op  7 allocs/op\n")
	}
	var out strings.Builder
	if err := run(strings.NewReader(in.String()), &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| Perfobs | 150 [150, 150] | 1 | 50 | - |", "| Promhttp | 600 [600, 600] | 7 | 500 | 0.10 (1/10.0) |"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if err := run(strings.NewReader("BenchmarkX-2 1 1 ns/op\n"), &out); err == nil {
		t.Error("want an error when no group/stack results are given")
	}
}
