package perfgate

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"

	"golang.org/x/perf/benchfmt"
)

// maxSyntaxErrors bounds how many unparsable lines one parse reports.
const maxSyntaxErrors = 10

// Results holds benchmark measurements read from one or more sources, grouped by full
// benchmark name (including sub-benchmark parts and the -GOMAXPROCS suffix) and unit.
// Units are benchfmt's tidied base units: "sec/op", "B/op", "allocs/op", custom units as written.
type Results struct {
	names   []string // in order of first appearance
	benches map[string]*benchmark
}

type benchmark struct {
	file  string
	line  int
	units []string // in order of first appearance
	vals  map[string][]float64
}

// NewResults returns an empty Results to fill with Read.
func NewResults() *Results {
	return &Results{benches: make(map[string]*benchmark)}
}

// Parse reads Go benchmark output (the text `go test -bench` prints) from r. fileName is used
// in errors. Lines that are not benchmark results (test logs, PASS, ok) are ignored; a
// benchmark line that cannot be parsed is an error naming file and line, and so is input with
// no benchmark result at all.
func Parse(r io.Reader, fileName string) (*Results, error) {
	res := NewResults()
	lines, err := res.read(r, fileName)
	if err != nil {
		return nil, err
	}
	if res.Len() == 0 {
		if lines == 0 {
			return nil, fmt.Errorf("%s: empty file: no benchmark results", fileName)
		}
		return nil, fmt.Errorf("%s: no benchmark results in %d lines (want lines like \"BenchmarkX-8  1000  123 ns/op\")", fileName, lines)
	}
	return res, nil
}

// ParseFile is Parse on the named file.
func ParseFile(path string) (*Results, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Parse(f, path)
}

// Read adds the benchmark results read from r to res. Unlike Parse it accepts input without
// results, so several runs can be merged.
func (res *Results) Read(r io.Reader, fileName string) error {
	_, err := res.read(r, fileName)
	return err
}

func (res *Results) read(r io.Reader, fileName string) (lines int, err error) {
	cr := &lineCounter{r: r}
	br := benchfmt.NewReader(cr, fileName)
	var errs []error
	for br.Scan() {
		switch rec := br.Result().(type) {
		case *benchfmt.SyntaxError:
			if len(errs) < maxSyntaxErrors {
				errs = append(errs, rec)
			}
		case *benchfmt.Result:
			if err := checkFinite(rec); err != nil {
				if len(errs) < maxSyntaxErrors {
					errs = append(errs, err)
				}
				continue
			}
			res.add(rec)
		}
	}
	if err := br.Err(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return cr.lines(), fmt.Errorf("unparsable benchmark output: %w", errors.Join(errs...))
	}
	return cr.lines(), nil
}

// checkFinite refuses NaN and infinite measurements, which no statistic can use.
func checkFinite(r *benchfmt.Result) error {
	for _, v := range r.Values {
		if math.IsNaN(v.Value) || math.IsInf(v.Value, 0) {
			file, line := r.Pos()
			return &benchfmt.SyntaxError{FileName: file, Line: line, Msg: fmt.Sprintf("Benchmark%s: %v %s is not a finite number", r.Name, v.OrigValue, v.OrigUnit)}
		}
	}
	return nil
}

func (res *Results) add(r *benchfmt.Result) {
	// benchfmt drops the "Benchmark" prefix; keep it, as go test prints it and users match it.
	name := "Benchmark" + r.Name.String()
	b := res.benches[name]
	if b == nil {
		file, line := r.Pos()
		b = &benchmark{file: file, line: line, vals: make(map[string][]float64)}
		res.benches[name] = b
		res.names = append(res.names, name)
	}
	for _, v := range r.Values {
		if _, ok := b.vals[v.Unit]; !ok {
			b.units = append(b.units, v.Unit)
		}
		b.vals[v.Unit] = append(b.vals[v.Unit], v.Value)
	}
}

// Len is the number of distinct benchmarks.
func (res *Results) Len() int { return len(res.names) }

// Names lists the benchmarks in the order they first appeared.
func (res *Results) Names() []string { return slices.Clone(res.names) }

// Units lists the units a benchmark reported, in the order they first appeared.
func (res *Results) Units(name string) []string {
	if b := res.benches[name]; b != nil {
		return slices.Clone(b.units)
	}
	return nil
}

// Values returns the measurements of one benchmark in one unit, in the order read.
func (res *Results) Values(name, unit string) []float64 {
	if b := res.benches[name]; b != nil {
		return slices.Clone(b.vals[unit])
	}
	return nil
}

// Pos returns where a benchmark first appeared: its file name and line.
func (res *Results) Pos(name string) (file string, line int) {
	if b := res.benches[name]; b != nil {
		return b.file, b.line
	}
	return "", 0
}

// lineCounter counts the lines passing through it, so an input without results can say how
// long it was.
type lineCounter struct {
	r       io.Reader
	n       int
	last    byte
	started bool
}

func (c *lineCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for _, b := range p[:n] {
		if b == '\n' {
			c.n++
		}
	}
	if n > 0 {
		c.last, c.started = p[n-1], true
	}
	return n, err
}

func (c *lineCounter) lines() int {
	if c.started && c.last != '\n' {
		return c.n + 1
	}
	return c.n
}
