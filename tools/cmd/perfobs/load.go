package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/perfobs/perfobs-go/tools/loadtest"
)

const loadUsage = `usage:
  perfobs load --target URL [--target URL...] --rate R --duration D [--budget B] [flags]
  perfobs load --target URL --ramp FROM:TO:STEP/INTERVAL --budget B [--min-rate R] [flags]
  perfobs load report [--budget B] [--format text|json] FILE...

Drives constant-rate, open-model HTTP load (requests leave on schedule, whether or not
earlier ones answered) and reports latency (p50 p90 p99 p99.9 max), throughput and errors.
A target is a URL or "METHOD URL"; several targets are used in turn.
A budget is a comma-separated list such as 'p99<200ms,errors<1%' (also p50, p99.9, max,
mean, success>=99%, throughput>=500).
--ramp raises the rate step by step, stops at the first step that breaks the budget, and
reports the highest rate that met it and how the service failed past it.
report merges result files written with --output (vegeta's encoding, from one machine or
several) into one distribution.

Exit status: 0 the budget was met (or none was given), 1 the budget was broken (with --ramp:
no step met it, or the highest rate meeting it is below --min-rate), 2 usage or input error.

flags:
`

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ", ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// runLoad implements `perfobs load` and `perfobs load report`.
func runLoad(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "report" {
		return runLoadReport(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("perfobs load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, loadUsage)
		fs.PrintDefaults()
	}
	var targets, headers listFlag
	fs.Var(&targets, "target", "`URL` or \"METHOD URL\" to load (repeatable)")
	fs.Var(&headers, "header", "request header \"Name: value\" (repeatable)")
	var (
		rate       = fs.Float64("rate", 0, "requests per second (constant-rate mode)")
		duration   = fs.Duration("duration", 10*time.Second, "how long to send requests (constant-rate mode)")
		rampSpec   = fs.String("ramp", "", "stress mode: FROM:TO:STEP/INTERVAL, such as 50:500:50/10s")
		budgetSpec = fs.String("budget", "", "limits such as 'p99<200ms,errors<1%'")
		minRate    = fs.Float64("min-rate", 0, "with --ramp: fail unless the budget holds at least at this rate")
		timeout    = fs.Duration("timeout", 30*time.Second, "per-request timeout")
		metricsURL = fs.String("metrics", "", "the service's Prometheus `URL` (its /metrics), scraped before and after for server-side RED")
		output     = fs.String("output", "", "write raw results to `FILE` in vegeta's encoding (for perfobs load report or vegeta)")
		format     = fs.String("format", "text", "output format: text or json")
	)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "perfobs load: "+format+"\n", a...)
		fmt.Fprintln(stderr, "run 'perfobs load -h' for usage")
		return exitUsage
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected arguments %s", strings.Join(fs.Args(), " "))
	}
	if *format != "text" && *format != "json" {
		return usageErr("--format %q: must be text or json", *format)
	}
	if len(targets) == 0 {
		return usageErr("need at least one --target URL")
	}
	hdr := http.Header{}
	for _, h := range headers {
		k, v, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(k) == "" {
			return usageErr("--header %q: want \"Name: value\"", h)
		}
		hdr.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	var tgts []loadtest.Target
	for _, s := range targets {
		t, err := loadtest.ParseTarget(s)
		if err != nil {
			return usageErr("--target: %v", err)
		}
		t.Header = hdr
		tgts = append(tgts, t)
	}
	var budget loadtest.Budget
	if *budgetSpec != "" {
		b, err := loadtest.ParseBudget(*budgetSpec)
		if err != nil {
			return usageErr("--%v", err)
		}
		budget = b
	}
	opts := []loadtest.Option{loadtest.WithTimeout(*timeout), loadtest.WithProgress(stderr)}
	if *metricsURL != "" {
		opts = append(opts, loadtest.WithMetricsURL(*metricsURL))
	}
	var outFile *os.File
	if *output != "" {
		f, err := os.Create(*output)
		if err != nil {
			fmt.Fprintf(stderr, "perfobs load: --output: %v\n", err)
			return exitUsage
		}
		outFile = f
		defer f.Close()
		opts = append(opts, loadtest.WithOutput(f))
	}
	closeOutput := func() int {
		if outFile != nil {
			if err := outFile.Close(); err != nil {
				fmt.Fprintf(stderr, "perfobs load: --output: %v\n", err)
				return exitUsage
			}
		}
		return exitOK
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	if *rampSpec != "" {
		if *rate != 0 {
			return usageErr("--ramp sets the rates: drop --rate")
		}
		ramp, err := loadtest.ParseRamp(*rampSpec)
		if err != nil {
			return usageErr("--%v", err)
		}
		if len(budget) == 0 {
			return usageErr("--ramp needs --budget: the breaking point is where the budget breaks")
		}
		res, err := loadtest.Stress(ctx, tgts, ramp, budget, opts...)
		if err != nil {
			fmt.Fprintf(stderr, "perfobs load: %v\n", err)
			return exitUsage
		}
		if code := closeOutput(); code != exitOK {
			return code
		}
		if *format == "json" {
			err = res.WriteJSON(stdout)
		} else {
			err = res.WriteText(stdout)
		}
		if err != nil {
			fmt.Fprintf(stderr, "perfobs load: %v\n", err)
			return exitUsage
		}
		switch {
		case res.Highest == 0:
			return exitFail
		case *minRate > 0 && res.Highest < *minRate:
			fmt.Fprintf(stdout, "FAIL: the budget held only up to %g req/s, below --min-rate %g\n", res.Highest, *minRate)
			return exitFail
		}
		return exitOK
	}

	if *minRate != 0 {
		return usageErr("--min-rate needs --ramp")
	}
	if !(*rate > 0) {
		return usageErr("need --rate R (requests per second) or --ramp FROM:TO:STEP/INTERVAL")
	}
	rep, err := loadtest.Run(ctx, tgts, *rate, *duration, opts...)
	if err != nil {
		fmt.Fprintf(stderr, "perfobs load: %v\n", err)
		return exitUsage
	}
	if code := closeOutput(); code != exitOK {
		return code
	}
	return finishReport(rep, budget, *format, stdout, stderr)
}

// finishReport checks the budget, prints the report and returns the exit status.
func finishReport(rep *loadtest.Report, budget loadtest.Budget, format string, stdout, stderr io.Writer) int {
	rep.Violations = budget.Check(rep)
	var err error
	if format == "json" {
		err = rep.WriteJSON(stdout)
	} else {
		err = rep.WriteText(stdout)
		if err == nil && len(budget) > 0 {
			if len(rep.Violations) == 0 {
				_, err = fmt.Fprintf(stdout, "budget      %s: met\n", budget)
			} else {
				parts := make([]string, len(rep.Violations))
				for i, v := range rep.Violations {
					parts[i] = v.String()
				}
				_, err = fmt.Fprintf(stdout, "budget      %s: BROKEN: %s\n", budget, strings.Join(parts, "; "))
			}
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "perfobs load: %v\n", err)
		return exitUsage
	}
	if len(rep.Violations) > 0 {
		return exitFail
	}
	return exitOK
}

// runLoadReport implements `perfobs load report FILE...`.
func runLoadReport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("perfobs load report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, loadUsage)
		fs.PrintDefaults()
	}
	budgetSpec := fs.String("budget", "", "limits such as 'p99<200ms,errors<1%'")
	format := fs.String("format", "text", "output format: text or json")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if *format != "text" && *format != "json" {
		fmt.Fprintf(stderr, "perfobs load report: --format %q: must be text or json\n", *format)
		return exitUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "perfobs load report: need one or more result files (written with --output)")
		return exitUsage
	}
	var budget loadtest.Budget
	if *budgetSpec != "" {
		b, err := loadtest.ParseBudget(*budgetSpec)
		if err != nil {
			fmt.Fprintf(stderr, "perfobs load report: --%v\n", err)
			return exitUsage
		}
		budget = b
	}
	var res loadtest.Results
	for _, path := range fs.Args() {
		if err := res.ReadFile(path); err != nil {
			fmt.Fprintf(stderr, "perfobs load report: %v\n", err)
			return exitUsage
		}
	}
	if *format == "text" {
		fmt.Fprintf(stdout, "merged      %d results from %d files\n", res.Len(), fs.NArg())
	}
	return finishReport(res.Report(), budget, *format, stdout, stderr)
}
