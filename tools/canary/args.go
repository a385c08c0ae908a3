package canary

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Usage is the command's usage text, before the flag list.
const Usage = `usage:
  perfobs canary --prometheus URL --baseline MATCHERS --canary MATCHERS
                 [--window 30m | --start T --end T] [--config FILE]
                 [--format text|markdown|json] [--watch INTERVAL] [--html FILE]

Compares the baseline's and the canary's latency distributions, error ratios, cost and
saturation, read from Prometheus, per HTTP route and method, per gRPC method and for the whole
service, and decides whether the canary is worse.

MATCHERS are PromQL label matchers that pick each version's series ('job="checkout",track="canary"'),
or a bare version value (1.4.2), short for service_version="1.4.2", joined through target_info.

T is RFC 3339 (2026-12-01T20:00:00Z) or Unix seconds; --end defaults to now, --start to
--end minus --window. With --watch, the analysis runs from --start (default now) to --end
(default --start plus --window), looking every INTERVAL, and stops at the first fail or at the end.

Exit status: 0 pass, 1 fail, 2 usage, query or input error, 3 inconclusive or marginal
(wait and look again).

flags:
`

// Invocation is a parsed command line.
type Invocation struct {
	Prometheus string
	Request    Request
	Format     Format
	HTML       string
	// Watch is the interval between looks; zero means a single look.
	Watch    time.Duration
	Deadline time.Time // watch mode
}

// ErrHelp is returned by ParseArgs for -h and --help.
var ErrHelp = flag.ErrHelp

// ParseArgs parses the command's arguments; now is the current time. Errors name the flag.
// The flag package's own messages and the usage go to stderr.
func ParseArgs(args []string, now time.Time, stderr io.Writer) (Invocation, error) {
	var inv Invocation
	fs := flag.NewFlagSet("perfobs canary", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, Usage)
		fs.PrintDefaults()
	}
	var (
		prom    = fs.String("prometheus", "", "Prometheus base `URL`, such as http://prometheus:9090")
		base    = fs.String("baseline", "", "label `MATCHERS` (or a version) of the baseline")
		can     = fs.String("canary", "", "label `MATCHERS` (or a version) of the canary")
		window  = fs.Duration("window", 30*time.Minute, "analysis window ending at --end (with --watch: the whole analysis)")
		start   = fs.String("start", "", "window start `T` (RFC 3339 or Unix seconds)")
		end     = fs.String("end", "", "window end `T` (default now)")
		cfgPath = fs.String("config", "", "YAML config `FILE`: tolerances, critical metrics, weights, thresholds, extra metrics")
		format  = fs.String("format", "text", "output format: text, markdown or json")
		watch   = fs.Duration("watch", 0, "look again every `INTERVAL` until decisive or the end (alpha spending)")
		html    = fs.String("html", "", "write the failing routes' latency CDFs to `FILE` (self-contained HTML)")
	)
	if err := fs.Parse(args); err != nil {
		return inv, err
	}
	if fs.NArg() > 0 {
		return inv, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *prom == "" {
		return inv, errors.New("--prometheus is required")
	}
	u, err := url.Parse(*prom)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return inv, fmt.Errorf("--prometheus %q: want an http or https URL", *prom)
	}
	inv.Prometheus = *prom
	for _, s := range []struct {
		name, v string
		dst     *Selector
	}{{"baseline", *base, &inv.Request.Baseline}, {"canary", *can, &inv.Request.Canary}} {
		if s.v == "" {
			return inv, fmt.Errorf("--%s is required", s.name)
		}
		sel, err := ParseSelector(s.v)
		if err != nil {
			return inv, fmt.Errorf("--%s: %w", s.name, err)
		}
		*s.dst = sel
	}
	if *base == *can {
		return inv, fmt.Errorf("--baseline and --canary are the same selector %q", *base)
	}
	if *window <= 0 {
		return inv, fmt.Errorf("--window %v: must be positive", *window)
	}
	if set["window"] && set["start"] && set["end"] {
		return inv, errors.New("--window with both --start and --end: give at most two of them")
	}
	if inv.Format, err = ParseFormat(*format); err != nil {
		return inv, fmt.Errorf("--%w", err)
	}
	if *watch < 0 {
		return inv, fmt.Errorf("--watch %v: must be positive", *watch)
	}
	inv.Watch, inv.HTML = *watch, *html
	var st, en time.Time
	if *start != "" {
		if st, err = parseTime(*start); err != nil {
			return inv, fmt.Errorf("--start: %w", err)
		}
	}
	if *end != "" {
		if en, err = parseTime(*end); err != nil {
			return inv, fmt.Errorf("--end: %w", err)
		}
	}
	if inv.Watch > 0 {
		if st.IsZero() {
			st = now
		}
		if en.IsZero() {
			en = st.Add(*window)
		}
		inv.Deadline = en
		inv.Request.Start, inv.Request.End = st, en
		if !en.After(st) {
			return inv, fmt.Errorf("--end %s is not after --start %s", en.Format(time.RFC3339), st.Format(time.RFC3339))
		}
	} else {
		switch {
		case !st.IsZero() && en.IsZero() && set["window"]:
			en = st.Add(*window)
		case en.IsZero():
			en = now
		}
		if st.IsZero() {
			st = en.Add(-*window)
		}
		if !en.After(st) {
			return inv, fmt.Errorf("--end %s is not after --start %s", en.Format(time.RFC3339), st.Format(time.RFC3339))
		}
		if en.After(now.Add(time.Minute)) {
			return inv, fmt.Errorf("--end %s is in the future (use --watch to wait for it)", en.Format(time.RFC3339))
		}
		inv.Request.Start, inv.Request.End = st, en
	}
	if *cfgPath != "" {
		c, err := LoadConfig(*cfgPath)
		if err != nil {
			return inv, fmt.Errorf("--config: %w", err)
		}
		inv.Request.Config = c
	}
	return inv, nil
}

// parseTime reads RFC 3339 or Unix seconds (fractions allowed).
func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f < 0 || f > 1e11 {
		return time.Time{}, fmt.Errorf("time %q: want RFC 3339 (2026-12-01T20:00:00Z) or Unix seconds", s)
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC(), nil
}
