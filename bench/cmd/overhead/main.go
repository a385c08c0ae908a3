// Command overhead turns `go test -bench -count N` output of the side-by-side benchmarks into a
// table of each stack's overhead over the uninstrumented baseline and its ratio to the peers',
// with medians and 95% confidence intervals from golang.org/x/perf/benchmath (benchstat's
// statistics).
//
//	cd bench && go test -run '^$' -bench 'HTTP' -count 10 . | go run ./cmd/overhead
//
// A benchmark group is the name before the last '/', the stack the name after it; the stack
// named Bare is the baseline, and Perfobs is compared with every other stack.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchmath"
)

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "overhead:", err)
		os.Exit(1)
	}
}

type samples struct {
	ns, allocs []float64
}

func run(in io.Reader, out io.Writer) error {
	groups := map[string]map[string]*samples{}
	reader := benchfmt.NewReader(in, "stdin")
	for reader.Scan() {
		res, ok := reader.Result().(*benchfmt.Result)
		if !ok {
			continue
		}
		name := string(res.Name.Full())
		if i := strings.LastIndex(name, "-"); i > 0 { // drop the -GOMAXPROCS suffix
			name = name[:i]
		}
		i := strings.LastIndex(name, "/")
		if i < 0 {
			continue
		}
		group, stack := name[:i], name[i+1:]
		if groups[group] == nil {
			groups[group] = map[string]*samples{}
		}
		s := groups[group][stack]
		if s == nil {
			s = &samples{}
			groups[group][stack] = s
		}
		if v, ok := res.Value("sec/op"); ok {
			s.ns = append(s.ns, v*1e9)
		}
		if v, ok := res.Value("allocs/op"); ok {
			s.allocs = append(s.allocs, v)
		}
	}
	if err := reader.Err(); err != nil {
		return err
	}
	if len(groups) == 0 {
		return fmt.Errorf("no benchmark results of the form BenchmarkGroup/Stack on stdin")
	}
	var names []string
	for g := range groups {
		names = append(names, g)
	}
	sort.Strings(names)
	for _, g := range names {
		if err := table(out, g, groups[g]); err != nil {
			return err
		}
	}
	return nil
}

func summary(v []float64) benchmath.Summary {
	return benchmath.AssumeNothing.Summary(benchmath.NewSample(append([]float64(nil), v...), &benchmath.DefaultThresholds), 0.95)
}

func table(out io.Writer, group string, stacks map[string]*samples) error {
	bare, ok := stacks["Bare"]
	if !ok {
		return fmt.Errorf("%s: no Bare baseline", group)
	}
	ours, ok := stacks["Perfobs"]
	if !ok {
		return fmt.Errorf("%s: no Perfobs stack", group)
	}
	base := summary(bare.ns).Center
	oursOver := summary(ours.ns).Center - base
	fmt.Fprintf(out, "\n%s (n=%d runs each; median ns/op [95%% CI]; overhead = median - Bare's median)\n\n", group, len(bare.ns))
	fmt.Fprintln(out, "| stack | ns/op | allocs/op | overhead ns | perfobs overhead / this overhead |")
	fmt.Fprintln(out, "|---|---|---|---|---|")
	var keys []string
	for k := range stacks {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return summary(stacks[keys[i]].ns).Center < summary(stacks[keys[j]].ns).Center })
	for _, k := range keys {
		s := summary(stacks[k].ns)
		allocs := 0.0
		if len(stacks[k].allocs) > 0 {
			allocs = summary(stacks[k].allocs).Center
		}
		over := s.Center - base
		ratio := "-"
		if k != "Bare" && k != "Perfobs" && over > 0 {
			ratio = fmt.Sprintf("%.2f (1/%.1f)", oursOver/over, over/oursOver)
		}
		overS := "-"
		if k != "Bare" {
			overS = fmt.Sprintf("%.0f", over)
		}
		fmt.Fprintf(out, "| %s | %.0f [%.0f, %.0f] | %.0f | %s | %s |\n", k, s.Center, s.Lo, s.Hi, allocs, overS, ratio)
	}
	return nil
}
