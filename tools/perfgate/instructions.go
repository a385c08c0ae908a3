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
	// Low and High are the two iteration counts; zero means 1 and 5000.
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
		in.High = in.Low + 4999
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
// names (sub-benchmarks included, -GOMAXPROCS suffix stripped) that match bench, in order,
// and the configuration lines go test printed (goos, goarch, pkg, cpu), so that instruction
// results name the same machine as timed ones.
func listBenchmarks(ctx context.Context, bin, dir, bench string) ([]string, string, error) {
	cmd := exec.CommandContext(ctx, bin, "-test.run=^$", "-test.bench="+bench, "-test.benchtime=1x", "-test.count=1")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, "", fmt.Errorf("%s: listing benchmarks: %w\n%s", filepath.Base(bin), err, tail(out, 2000))
	}
	var names []string
	var header strings.Builder
	seen := map[string]bool{}
	br := benchfmt.NewReader(bytes.NewReader(out), filepath.Base(bin))
	for br.Scan() {
		if r, ok := br.Result().(*benchfmt.Result); ok {
			if len(names) == 0 {
				for _, k := range []string{"goos", "goarch", "pkg", "cpu"} {
					if v := r.GetConfig(k); v != "" {
						fmt.Fprintf(&header, "%s: %s\n", k, v)
					}
				}
			}
			n := baseName("Benchmark" + r.Name.String())
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	return names, header.String(), nil
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

// callgrindOnce runs one benchmark at n iterations under callgrind and returns the
// instructions the program retired, summed over its threads. Callgrind counts each thread
// apart (--separate-threads): the sum is steadier than its single count, whose run-to-run
// spread was 20 times larger on this project's hot path.
func (in Instructions) callgrindOnce(ctx context.Context, bin, dir, name string, n int) (uint64, error) {
	tmp, err := os.MkdirTemp("", "perfgate-callgrind-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	args := []string{"--tool=callgrind", "--separate-threads=yes", "--callgrind-out-file=" + filepath.Join(tmp, "cg.%p"),
		bin, "-test.run=^$", "-test.bench=" + benchPattern(name), "-test.count=1",
		"-test.benchtime=" + strconv.Itoa(n) + "x"}
	cmd := exec.CommandContext(ctx, in.Valgrind, args...)
	cmd.Dir = dir
	// asyncpreemptoff: the runtime's preemption signals depend on time and change the
	// instruction stream. One P keeps idle threads from spinning. GOGC=off: when a collection
	// runs, and how much of it, depends on time; allocations are gated exactly by allocs/op.
	cmd.Env = append(os.Environ(), "GODEBUG=asyncpreemptoff=1", "GOMAXPROCS=1", "GOGC=off")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("valgrind %s -test.bench=%s: %w\n%s", filepath.Base(bin), benchPattern(name), err, tail(msg, 2000))
	}
	files, err := filepath.Glob(filepath.Join(tmp, "cg.*"))
	if err != nil {
		return 0, err
	}
	var total uint64
	for _, p := range files {
		if st, err := os.Stat(p); err == nil && st.Size() == 0 {
			continue // callgrind leaves the file of the process itself empty when it splits threads
		}
		f, err := os.Open(p)
		if err != nil {
			return 0, err
		}
		costs, err := ParseCallgrind(f, p)
		f.Close()
		if err != nil {
			return 0, err
		}
		total += costs.Steady()
	}
	if total == 0 {
		return 0, fmt.Errorf("%s: callgrind wrote no instruction count for %s", filepath.Base(bin), name)
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
	names, header, err := listBenchmarks(ctx, bin, dir, bench)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(header)
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

// noisyRuntime lists the Go runtime functions whose instruction counts change from one run of
// the same binary to the next: the per-call-site caches of type assertions and switches are
// filled through a per-process random number generator, so the same code misses them once or
// twice per operation depending on the seed. Measured on the middleware hot path, these made
// the spread of instructions/op ±1.5%; without them it is a fraction of that.
var noisyRuntime = []string{
	"runtime.typeAssert",
	"runtime.interfaceSwitch",
	"runtime.getitab",
	"runtime.(*itabTableType).",
	"runtime.itabAdd",
	"runtime.cheaprand",
	"internal/runtime/maps.rand", // map seeds and iteration order
	"runtime.rand",
}

// isLeakCheck reports whether fn is the goroutine leak check that test binaries run after
// their tests (leaktest.VerifyTestMain, goleak): it retries until lingering goroutines exit,
// so its cost depends on time. Its calls' inclusive costs are left out of the count.
func isLeakCheck(fn string) bool {
	return strings.HasPrefix(fn, "go.uber.org/goleak.") || strings.HasPrefix(fn, "go.uber.org/goleak/") ||
		strings.HasSuffix(fn, "/leaktest.find")
}

func isNoisy(fn string) bool {
	for _, p := range noisyRuntime {
		if strings.HasPrefix(fn, p) {
			return true
		}
	}
	return false
}

// CallgrindCosts is what ParseCallgrind reads from a callgrind output file.
type CallgrindCosts struct {
	// Total is the program's instruction count (the summary: or totals: line).
	Total uint64
	// Self is the exclusive instruction count of each function, by name.
	Self map[string]uint64
	// Calls is the inclusive instruction count of the calls from one function to another.
	Calls map[[2]string]uint64
}

// ParseCallgrind reads a callgrind output file with its per-function exclusive costs (the
// first event, Ir). fileName is used in errors, which name the line.
func ParseCallgrind(r io.Reader, fileName string) (*CallgrindCosts, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4<<20)
	c := &CallgrindCosts{Self: map[string]uint64{}, Calls: map[[2]string]uint64{}}
	names := map[string]string{} // compressed id "(12)" -> name
	cur, callee := "", ""
	skipNext := false // the cost line after calls= is the call's inclusive cost
	header, haveTotal := false, false
	line := 0
	resolve := func(v string) (string, error) {
		v = strings.TrimSpace(v)
		if strings.HasPrefix(v, "(") {
			end := strings.IndexByte(v, ')')
			if end < 0 {
				return "", fmt.Errorf("%s:%d: name %q: unclosed compression id", fileName, line, v)
			}
			id, rest := v[:end+1], strings.TrimSpace(v[end+1:])
			if rest != "" {
				names[id] = rest
				return rest, nil
			}
			n, ok := names[id]
			if !ok {
				return "", fmt.Errorf("%s:%d: compression id %s used before it is defined", fileName, line, id)
			}
			return n, nil
		}
		return v, nil
	}
	for sc.Scan() {
		line++
		text := sc.Text()
		if text == "" || text[0] == '#' {
			header = header || strings.HasPrefix(text, "# callgrind format")
			continue
		}
		switch ch := text[0]; {
		case ch >= '0' && ch <= '9', ch == '+', ch == '-', ch == '*':
			f := strings.Fields(text)
			if skipNext {
				skipNext = false
				if len(f) >= 2 {
					if v, err := strconv.ParseUint(f[1], 10, 64); err == nil {
						c.Calls[[2]string{cur, callee}] += v
					}
				}
				continue
			}
			if len(f) < 2 {
				continue // a position without costs
			}
			v, err := strconv.ParseUint(f[1], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: cost %q: not a non-negative integer", fileName, line, f[1])
			}
			if cur == "" {
				return nil, fmt.Errorf("%s:%d: cost line before any fn= line", fileName, line)
			}
			c.Self[cur] += v
			continue
		}
		key, val, ok := strings.Cut(text, "=")
		if ok && !strings.Contains(key, ":") {
			switch key {
			case "fn":
				n, err := resolve(val)
				if err != nil {
					return nil, err
				}
				cur = n
			case "cfn":
				n, err := resolve(val)
				if err != nil {
					return nil, err
				}
				callee = n
			case "calls":
				skipNext = true
			}
			continue
		}
		key, val, ok = strings.Cut(text, ":")
		if !ok {
			continue
		}
		switch key {
		case "version":
			header = true
		case "summary", "totals":
			if key == "totals" && haveTotal {
				continue
			}
			n, err := parseCount(val, fileName, line)
			if err != nil {
				return nil, err
			}
			c.Total, haveTotal = n, true
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", fileName, err)
	}
	if !header {
		return nil, fmt.Errorf("%s: not a callgrind output file (no \"# callgrind format\" or \"version:\" header)", fileName)
	}
	if !haveTotal {
		return nil, fmt.Errorf("%s: no summary: or totals: line in %d lines", fileName, line)
	}
	return c, nil
}

// Steady is the total without the functions of noisyRuntime and without the calls into the
// leak check made from outside it.
func (c *CallgrindCosts) Steady() uint64 {
	t := c.Total
	sub := func(v uint64) {
		t -= min(v, t)
	}
	for fn, v := range c.Self {
		if isNoisy(fn) {
			sub(v)
		}
	}
	for edge, v := range c.Calls {
		if isLeakCheck(edge[1]) && !isLeakCheck(edge[0]) {
			sub(v)
		}
	}
	return t
}
