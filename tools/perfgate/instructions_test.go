package perfgate

import (
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const hotpathVar = "github.com/perfobs/perfobs-go/tools/perfgate/testdata/hotpath.ExtraPerThousand"

// needValgrind fails (never skips) when valgrind is missing: the instruction gate is part of CI.
func needValgrind(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("valgrind"); err != nil {
		t.Fatal("valgrind is not installed: run scripts/install-tools (Debian package valgrind)")
	}
}

// buildHotpath builds the hot-path fixture with extra requests per thousand operations.
func buildHotpath(t *testing.T, extra string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "hotpath"+extra+".test")
	if err := BuildTest(t.Context(), "", "testdata/hotpath", bin, "-ldflags=-X="+hotpathVar+"="+extra); err != nil {
		t.Fatal(err)
	}
	return bin
}

// TestInstructionGate is the instruction gate's proof on the middleware's hot path: 40 extra
// requests per thousand (a 3% slowdown of the instructions per operation, measured) fail it,
// and the same binary against itself (pure noise) passes. Time on this shared runner cannot
// show either (its spread is tens of percent); instruction counts can.
func TestInstructionGate(t *testing.T) {
	needValgrind(t)
	base, slow := buildHotpath(t, "0"), buildHotpath(t, "40")
	in := &Instructions{}
	run := func(t *testing.T, newBin string) *Report {
		pair, err := RunBinaries(t.Context(), Binaries{Base: base, New: newBin, Dir: "testdata/hotpath", Count: 8, Instructions: in})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := Compare(pair.Base, pair.New, Config{Rules: []Rule{{Match: "^BenchmarkMiddlewareHTTP$", Unit: InstructionsUnit, Threshold: 0.015}}})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	t.Run("a planted 3% slowdown fails", func(t *testing.T) {
		rep := run(t, slow)
		r := row(t, rep, "BenchmarkMiddlewareHTTP", InstructionsUnit)
		t.Logf("planted: %s -> %s instructions/op, %+.2f%%, p %.4f", fmtNum(r.Old.Center), fmtNum(r.New.Center), 100*float64(r.Delta), r.P)
		if r.Verdict != Fail || float64(r.Delta) < 0.02 || float64(r.Delta) > 0.045 {
			t.Errorf("verdict %s delta %+.2f%% p %.3f (%s), want FAIL near +3%%", r.Verdict, 100*float64(r.Delta), r.P, r.Note)
		}
		if r.New.N != 8 || r.Old.N != 8 {
			t.Errorf("samples %d and %d, want 8 each", r.Old.N, r.New.N)
		}
	})
	t.Run("pure noise passes", func(t *testing.T) {
		rep := run(t, base)
		r := row(t, rep, "BenchmarkMiddlewareHTTP", InstructionsUnit)
		t.Logf("A/A: %s -> %s instructions/op, %+.2f%%, p %.4f", fmtNum(r.Old.Center), fmtNum(r.New.Center), 100*float64(r.Delta), r.P)
		if r.Verdict != Pass || rep.Failed() || rep.Inconclusive() {
			t.Errorf("verdict %s delta %+.2f%% p %.3f: %s", r.Verdict, 100*float64(r.Delta), r.P, r.Note)
		}
	})
}

func TestInstructionsErrors(t *testing.T) {
	in := Instructions{Valgrind: "/no/such/valgrind"}
	if _, err := in.MeasureInstructions(t.Context(), "/bin/true", "", "."); !errors.Is(err, ErrNoValgrind) {
		t.Errorf("missing valgrind: %v", err)
	}
}

func TestParseCallgrindTotal(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		err  string
	}{
		{"# callgrind format\nversion: 1\nevents: Ir\nsummary: 12345\ntotals: 12345\n", 12345, ""},
		{"version: 1\nevents: Ir\ntotals: 77\n", 77, ""},
		{"# callgrind format\nversion: 1\nsummary: -3\n", 0, "cg.out:3: instruction count \"-3\""},
		{"# callgrind format\nversion: 1\nevents: Ir\n", 0, "no summary: or totals: line in 3 lines"},
		{"hello\n", 0, "not a callgrind output file"},
		{"", 0, "not a callgrind output file"},
	}
	for _, tt := range tests {
		got, err := ParseCallgrindTotal(strings.NewReader(tt.in), "cg.out")
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q: %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

func TestBenchPattern(t *testing.T) {
	if got := benchPattern("BenchmarkA/size=1.5"); got != `^BenchmarkA$/^size=1\.5$` {
		t.Errorf("pattern %q", got)
	}
}

func FuzzParseCallgrind(f *testing.F) {
	f.Add([]byte("# callgrind format\nversion: 1\nevents: Ir\nfn=(1) main.f\n3 10\ncfn=(2) runtime.getitab\ncalls=1 0\n3 5\nfn=(2)\n0 5\nsummary: 15\n"))
	f.Add([]byte("version: 1\nfn=a\n+1 3\n* 4\ntotals: 7\n"))
	f.Add([]byte("fn=(3)\n1 1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseCallgrind(bytes.NewReader(data), "cg.out")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "cg.out") {
				t.Errorf("error does not name the file: %v", err)
			}
			return
		}
		if s := c.Steady(); s > c.Total {
			t.Errorf("steady %d above the total %d", s, c.Total)
		}
		if _, err := ParseCallgrindTotal(bytes.NewReader(data), "cg.out"); err != nil {
			t.Errorf("ParseCallgrind accepts what ParseCallgrindTotal refuses: %v", err)
		}
	})
}

func TestParseCallgrindSelfCosts(t *testing.T) {
	in := "# callgrind format\nversion: 1\nevents: Ir\nfn=(1) main.f\n3 10\ncfn=(2) runtime.getitab\ncalls=1 0\n3 5\nfn=(2)\n0 5\nsummary: 15\n"
	c, err := ParseCallgrind(strings.NewReader(in), "cg.out")
	if err != nil {
		t.Fatal(err)
	}
	if c.Total != 15 || c.Self["main.f"] != 10 || c.Self["runtime.getitab"] != 5 || c.Steady() != 10 {
		t.Errorf("total %d self %v steady %d", c.Total, c.Self, c.Steady())
	}
	if _, err := ParseCallgrind(strings.NewReader("version: 1\nfn=(9)\n1 1\nsummary: 1\n"), "cg.out"); err == nil || !strings.Contains(err.Error(), "cg.out:2: compression id (9) used before it is defined") {
		t.Errorf("undefined id: %v", err)
	}
}
