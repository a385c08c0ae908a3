package perfgate

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/perf/benchfmt"
)

// InstructionsUnit is the unit of the instruction counts measured under callgrind.
const InstructionsUnit = "instructions/op"

// Instructions configures instruction counting: each benchmark runs alone under valgrind's
// callgrind, which simulates the CPU and counts the instructions the program retires, so that
// the load of a shared runner does not change the result. The count of one run includes the
// program's start, the testing package's N=1 probe run and the benchmark's own setup; running
// the benchmark at two fixed iteration counts (-test.benchtime=Lowx and Highx) and dividing
// the difference by High-Low cancels that fixed part and leaves the cost of one operation.
type Instructions struct {
	// Valgrind is the valgrind command; empty means "valgrind" from PATH.
	Valgrind string
	// Low and High are the two iteration counts; zero means 1 and 1000.
	Low, High int
}

func (in Instructions) withDefaults() Instructions {
	if in.Valgrind == "" {
		in.Valgrind = "valgrind"
	}
	if in.Low <= 0 {
		in.Low = 1
	}
	if in.High <= in.Low {
		in.High = in.Low + 999
	}
	return in
}

// ErrNoValgrind is wrapped by the error of an instruction measurement when valgrind cannot run.
var ErrNoValgrind = errors.New("valgrind is not installed (run scripts/install-tools, or apt-get install valgrind)")

// checkValgrind reports whether the valgrind command runs.
func (in Instructions) check(ctx context.Context) error {
	in = in.withDefaults()
	if out, err := exec.CommandContext(ctx, in.Valgrind, "--version").CombinedOutput(); err != nil {
		return fmt.Errorf("%s --version: %w: %w\n%s", in.Valgrind, ErrNoValgrind, err, tail(out, 500))
	}
	return nil
}

// listBenchmarks runs bin once natively at one iteration per benchmark and returns the full
// names (sub-benchmarks included, -GOMAXPROCS suffix stripped) that match bench, in order.
func listBenchmarks(ctx context.Context, bin, dir, bench string) ([]string, error) {
	cmd := exec.CommandContext(ctx, bin, "-test.run=^$", "-test.bench="+bench, "-test.benchtime=1x", "-test.count=1")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%s: listing benchmarks: %w\n%s", filepath.Base(bin), err, tail(out, 2000))
	}
	var names []string
	seen := map[string]bool{}
	br := benchfmt.NewReader(bytes.NewReader(out), filepath.Base(bin))
	for br.Scan() {
		if r, ok := br.Result().(*benchfmt.Result); ok {
			n := baseName("Benchmark" + r.Name.String())
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	return names, nil
}

// benchPattern turns a full benchmark name into a -test.bench pattern that matches it alone,
// level by level ("BenchmarkA/b=1" -> "^BenchmarkA$/^b=1$").
func benchPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

// callgrindOnce runs one benchmark at n iterations under callgrind and returns the instructions
// counted inside its top-level function (callgrind's --toggle-collect), which leaves out the
// program's start and the runtime's other threads.
func (in Instructions) callgrindOnce(ctx context.Context, bin, dir, name string, n int) (uint64, error) {
	out, err := os.CreateTemp("", "perfgate-callgrind-*.out")
	if err != nil {
		return 0, err
	}
	outPath := out.Name()
	out.Close()
	defer os.Remove(outPath)
	top, _, _ := strings.Cut(name, "/")
	args := []string{"--tool=callgrind", "--callgrind-out-file=" + outPath,
		"--toggle-collect=*." + top,
		bin, "-test.run=^$", "-test.bench=" + benchPattern(name), "-test.count=1",
		"-test.benchtime=" + strconv.Itoa(n) + "x"}
	cmd := exec.CommandContext(ctx, in.Valgrind, args...)
	cmd.Dir = dir
	// asyncpreemptoff: the runtime's preemption signals change the instruction stream; one P
	// keeps the scheduler from spinning on idle threads, whose cost depends on time.
	cmd.Env = append(os.Environ(), "GODEBUG=asyncpreemptoff=1", "GOMAXPROCS=1")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("valgrind %s -test.bench=%s: %w\n%s", filepath.Base(bin), benchPattern(name), err, tail(msg, 2000))
	}
	f, err := os.Open(outPath)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	total, err := ParseCallgrindTotal(f, outPath)
	if err != nil {
		return 0, err
	}
	if total == 0 {
		return 0, fmt.Errorf("%s: callgrind counted no instruction inside %s: is it a benchmark function of this binary?", filepath.Base(bin), top)
	}
	return total, nil
}

// measureInstructions runs one sample of one benchmark: the instructions per operation from
// the runs at Low and High iterations.
func (in Instructions) measure(ctx context.Context, bin, dir, name string) (float64, error) {
	in = in.withDefaults()
	lo, err := in.callgrindOnce(ctx, bin, dir, name, in.Low)
	if err != nil {
		return 0, err
	}
	hi, err := in.callgrindOnce(ctx, bin, dir, name, in.High)
	if err != nil {
		return 0, err
	}
	if hi < lo {
		return 0, fmt.Errorf("%s: %d instructions at %dx but %d at %dx: the benchmark does not scale with b.N", name, hi, in.High, lo, in.Low)
	}
	return float64(hi-lo) / float64(in.High-in.Low), nil
}

// MeasureInstructions runs every benchmark of the test binary bin that matches bench under
// callgrind (see Instructions) and returns one sample of instructions/op per benchmark, as Go
// benchmark format lines ("BenchmarkX-1  1000  12345 instructions/op").
func (in Instructions) MeasureInstructions(ctx context.Context, bin, dir, bench string) ([]byte, error) {
	in = in.withDefaults()
	if err := in.check(ctx); err != nil {
		return nil, err
	}
	names, err := listBenchmarks(ctx, bin, dir, bench)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	for _, name := range names {
		v, err := in.measure(ctx, bin, dir, name)
		if err != nil {
			return nil, err
		}
		// GOMAXPROCS=1: go test prints no suffix then; keep the names as the native runs print them at 1.
		fmt.Fprintf(&b, "%s %d %.2f %s\n", name, in.High-in.Low, v, InstructionsUnit)
	}
	return b.Bytes(), nil
}

// ParseCallgrindTotal reads a callgrind output file and returns its total instruction count
// (the "summary:" line, or "totals:" when there is no summary). fileName is used in errors.
func ParseCallgrindTotal(r io.Reader, fileName string) (uint64, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	line := 0
	var totals string
	totalsLine := 0
	header := false
	for sc.Scan() {
		line++
		text := sc.Text()
		if line == 1 || strings.HasPrefix(text, "version:") || strings.HasPrefix(text, "creator:") {
			header = header || strings.HasPrefix(text, "# callgrind format") || strings.HasPrefix(text, "version:")
		}
		key, val, ok := strings.Cut(text, ":")
		if !ok {
			continue
		}
		switch key {
		case "summary":
			return parseCount(val, fileName, line)
		case "totals":
			totals, totalsLine = val, line
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("%s: %w", fileName, err)
	}
	if totalsLine > 0 {
		return parseCount(totals, fileName, totalsLine)
	}
	if !header {
		return 0, fmt.Errorf("%s: not a callgrind output file (no \"# callgrind format\" or \"version:\" header)", fileName)
	}
	return 0, fmt.Errorf("%s: no summary: or totals: line in %d lines", fileName, line)
}

func parseCount(val, fileName string, line int) (uint64, error) {
	fields := strings.Fields(val)
	if len(fields) == 0 {
		return 0, fmt.Errorf("%s:%d: empty instruction count", fileName, line)
	}
	// The first event is Ir, instructions retired (callgrind's default and only event here).
	n, err := strconv.ParseUint(fields[0], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s:%d: instruction count %q: not a non-negative integer", fileName, line, fields[0])
	}
	return n, nil
}
