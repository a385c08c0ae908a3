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
  perfobs load --scenario FILE [--base URL] [--budget B] [flags]
  perfobs load --replay ACCESS_LOG --base URL [--speed F] [--budget B] [flags]
  perfobs load --replay VEGETA_TARGETS --rate R --duration D [--budget B] [flags]
  perfobs load --target URL --ramp FROM:TO:STEP/INTERVAL --budget B [--min-rate R] [flags]
  perfobs load report [--budget B] [--format text|json] [--html FILE] FILE...

Drives open-model HTTP load (requests leave on schedule, whether or not earlier ones
answered) and reports latency (p50 p90 p99 p99.9 max, over answered requests only),
throughput and errors. A target is a URL or "METHOD URL"; several targets are used in turn.
--scenario reads stages of arrival rate (constant or Poisson arrivals, linear ramps, a sine,
bursts), weighted targets and per-target budgets from YAML (docs/load.md; --budget replaces
the file's budget); a burst's report gives the time until p99 over a sliding window is back
within the budget.
--replay sends the requests of an access log (Common or Combined Log Format) at their
original pacing, sped up by --speed, or uses vegeta's targets format as the targets.
A budget is a comma-separated list such as 'p99<200ms,errors<1%' (also p50, p99.9, max,
mean, success>=99%, throughput>=500, 'p99<200ms over 30s' for every sliding 30s window,
recovery<5s, and growth per hour: goroutines<100/h, heap<50MB/h, fds<10/h, rss<100MB/h,
p99-drift<10ms/h). Without an errors or success limit, errors<1% applies. With --metrics,
a run of a minute or longer fits the service's goroutines, live heap, open fds, resident
memory and p99 over time (Theil-Sen, 95% interval) and fails on significant growth of
goroutines or heap unless the budget bounds them.
--ramp raises the rate step by step, stops at the first step that breaks the budget, and
reports the highest rate that met it and how the service failed past it.
report merges result files written with --output (vegeta's encoding, from one machine or
several) into one distribution.

Exit status: 0 the budget was met, 1 the budget was broken (with --ramp: no step met it, or
the highest rate meeting it is below --min-rate), 2 usage or input error, 3 inconclusive (the
load generator fell behind its schedule, a window longer than the run, a trend from too
few samples).

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
		metricsURL = fs.String("metrics", "", "the service's Prometheus `URL` (its /metrics), scraped during the run for server-side RED and runtime trends")
		output     = fs.String("output", "", "write raw results to `FILE` in vegeta's encoding (for perfobs load report or vegeta)")
		format     = fs.String("format", "text", "output format: text or json")
		scenario   = fs.String("scenario", "", "run the YAML scenario `FILE` (stages, arrival, bursts, weighted targets, budgets)")
		base       = fs.String("base", "", "base `URL` for a scenario's or an access log's paths")
		htmlOut    = fs.String("html", "", "write a self-contained HTML report with charts to `FILE`")
		replay     = fs.String("replay", "", "replay an access log (Common/Combined Log Format) or use vegeta targets from `FILE`")
		speed      = fs.Float64("speed", 1, "with an access log: replay this many times faster than recorded")
		arrival    = fs.String("arrival", "constant", "with --rate: constant or poisson arrivals")
		seed       = fs.Uint64("seed", 1, "seed of the Poisson arrivals")
		maxWorkers = fs.Uint64("max-workers", 0, "cap the requests in flight (0: as many as the schedule needs)")
		sampleIvl  = fs.Duration("sample-interval", 0, "with --metrics: time between scrapes (default duration/120, at least 1s)")
		trendsMode = fs.String("trends", "auto", "with --metrics: fit runtime trends: auto (runs of 1m or longer), on or off")
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
	if *arrival != "constant" && *arrival != "poisson" {
		return usageErr("--arrival %q: must be constant or poisson", *arrival)
	}
	if *trendsMode != "auto" && *trendsMode != "on" && *trendsMode != "off" {
		return usageErr("--trends %q: must be auto, on or off", *trendsMode)
	}
	var (
		sc        *loadtest.Scenario
		accessLog *loadtest.AccessLog
	)
	if *scenario != "" && *replay != "" {
		return usageErr("--scenario and --replay: give one")
	}
	if *scenario != "" {
		if len(targets) > 0 || *rate != 0 || *rampSpec != "" {
			return usageErr("--scenario sets the targets and the rates: drop --target, --rate and --ramp")
		}
		s, err := loadtest.ReadScenario(*scenario, *base)
		if err != nil {
			fmt.Fprintf(stderr, "perfobs load: --scenario: %v\n", err)
			return exitUsage
		}
		sc = s
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
	if *replay != "" {
		if len(targets) > 0 {
			return usageErr("--replay sets the targets: drop --target")
		}
		data, err := os.ReadFile(*replay)
		if err != nil {
			fmt.Fprintf(stderr, "perfobs load: --replay: %v\n", err)
			return exitUsage
		}
		if loadtest.IsAccessLog(data) {
			if *rate != 0 || *rampSpec != "" {
				return usageErr("an access log sets its own pacing: drop --rate and --ramp (use --speed)")
			}
			if *base == "" {
				return usageErr("--replay of an access log needs --base URL (where to send its paths)")
			}
			l, err := loadtest.ParseAccessLog(strings.NewReader(string(data)), *replay, *base)
			if err != nil {
				fmt.Fprintf(stderr, "perfobs load: --replay: %v\n", err)
				return exitUsage
			}
			accessLog = l
		} else {
			ts, err := loadtest.ParseVegetaTargets(strings.NewReader(string(data)), *replay)
			if err != nil {
				fmt.Fprintf(stderr, "perfobs load: --replay: %v\n", err)
				return exitUsage
			}
			tgts = ts
		}
	}
	if len(targets) == 0 && sc == nil && *replay == "" {
		return usageErr("need at least one --target URL (or --scenario FILE, or --replay FILE)")
	}
	for _, s := range targets {
		t, err := loadtest.ParseTarget(s)
		if err != nil {
			return usageErr("--target: %v", err)
		}
		t.Header = hdr
		tgts = append(tgts, t)
	}
	if len(headers) > 0 {
		for i := range tgts {
			if tgts[i].Header == nil {
				tgts[i].Header = hdr
			}
		}
	}
	var budget loadtest.Budget
	if sc != nil {
		budget = sc.Budget
	}
	if *budgetSpec != "" {
		b, err := loadtest.ParseBudget(*budgetSpec)
		if err != nil {
			return usageErr("--%v", err)
		}
		budget = b // the command line's budget replaces the scenario's
	}
	opts := []loadtest.Option{loadtest.WithTimeout(*timeout), loadtest.WithProgress(stderr),
		loadtest.WithMaxWorkers(*maxWorkers), loadtest.WithSampleInterval(*sampleIvl)}
	if *metricsURL != "" {
		opts = append(opts, loadtest.WithMetricsURL(*metricsURL))
	}
	switch *trendsMode {
	case "on":
		opts = append(opts, loadtest.WithTrends(true))
	case "off":
		opts = append(opts, loadtest.WithTrends(false))
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
		if *htmlOut != "" {
			if code := writeHTMLFile(*htmlOut, stderr, func(w io.Writer) error {
				return res.WriteHTML(w, "perfobs load --ramp "+ramp.String())
			}); code != exitOK {
				return code
			}
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
		case res.GeneratorLimit > 0 && !(*minRate > 0 && res.Highest >= *minRate):
			fmt.Fprintf(stdout, "INCONCLUSIVE: the load generator fell behind at %g req/s before the service broke the budget\n", res.GeneratorLimit)
			return exitInconclusive
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
	var (
		rep   *loadtest.Report
		err   error
		title string
	)
	switch {
	case sc != nil:
		title = "perfobs load --scenario " + *scenario
		if sc.Name != "" {
			title += " (" + sc.Name + ")"
		}
		rep, err = loadtest.RunScenario(ctx, sc, opts...)
	case accessLog != nil:
		if !(*speed > 0) {
			return usageErr("--speed %v: want a positive factor", *speed)
		}
		title = fmt.Sprintf("perfobs load --replay %s (x%g)", *replay, *speed)
		fmt.Fprintf(stderr, "replaying %d requests (%d lines skipped) at x%g\n", len(accessLog.Entries), accessLog.Skipped, *speed)
		rep, err = loadtest.Replay(ctx, accessLog.Entries, *speed, opts...)
	default:
		if !(*rate > 0) {
			return usageErr("need --rate R (requests per second) or --ramp FROM:TO:STEP/INTERVAL")
		}
		if *duration <= 0 {
			return usageErr("--duration %v: want a positive duration", *duration)
		}
		title = fmt.Sprintf("perfobs load --rate %g --duration %s", *rate, *duration)
		p := loadtest.ConstantProfile(*rate, *duration)
		p.Process, p.Seed = *arrival, *seed
		rep, err = loadtest.RunProfile(ctx, tgts, p, opts...)
	}
	if err != nil {
		fmt.Fprintf(stderr, "perfobs load: %v\n", err)
		if rep == nil {
			return exitUsage
		}
	}
	if code := closeOutput(); code != exitOK {
		return code
	}
	code := finishReport(rep, budget, *format, stdout, stderr, *htmlOut, title)
	if err != nil && code == exitOK {
		return exitUsage // interrupted: what was measured is printed, but it is no pass
	}
	return code
}

// finishReport checks the budget (with the default limits), prints the report and the
// verdict, writes the HTML report when asked, and returns the exit status.
func finishReport(rep *loadtest.Report, budget loadtest.Budget, format string, stdout, stderr io.Writer, htmlOut, title string) int {
	budget = budget.WithDefaults(rep.Trends != nil)
	outcome := rep.Judge(budget)
	var verdict strings.Builder
	_ = rep.WriteVerdict(&verdict, budget, outcome)
	var err error
	if format == "json" {
		err = rep.WriteJSON(stdout)
	} else {
		err = rep.WriteText(stdout)
		if err == nil {
			_, err = io.WriteString(stdout, verdict.String())
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "perfobs load: %v\n", err)
		return exitUsage
	}
	if htmlOut != "" {
		if code := writeHTMLFile(htmlOut, stderr, func(w io.Writer) error {
			return rep.WriteHTML(w, title, outcome, strings.TrimSpace(verdict.String()))
		}); code != exitOK {
			return code
		}
	}
	switch outcome {
	case loadtest.Broken:
		return exitFail
	case loadtest.Inconclusive:
		return exitInconclusive
	}
	return exitOK
}

func writeHTMLFile(path string, stderr io.Writer, write func(io.Writer) error) int {
	f, err := os.Create(path)
	if err == nil {
		err = write(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "perfobs load: --html: %v\n", err)
		return exitUsage
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
	htmlOut := fs.String("html", "", "write a self-contained HTML report with charts to `FILE`")
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
	return finishReport(res.Report(), budget, *format, stdout, stderr, *htmlOut, "perfobs load report "+strings.Join(fs.Args(), " "))
}
