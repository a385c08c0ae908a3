package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/perfobs/perfobs-go/tools/perfgate"
)

// newSubFlags makes the flag set of a gate subcommand with its usage text.
func newSubFlags(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("perfobs gate "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	return fs
}

func parseSub(fs *flag.FlagSet, args []string) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, false
		}
		return exitUsage, false
	}
	return 0, true
}

func subUsageErr(stderr io.Writer, name, format string, a ...any) int {
	fmt.Fprintf(stderr, "perfobs gate %s: "+format+"\n", append([]any{name}, a...)...)
	fmt.Fprintf(stderr, "run 'perfobs gate %s -h' for usage\n", name)
	return exitUsage
}

const recordUsage = `usage: perfobs gate record --history DIR [flags] [FILE]

Appends one run's benchmark results (go test -bench output, or the new.txt that
perfobs gate --head-to-head --save writes; FILE, or standard input when absent or -) to a
history directory kept in git: one file per commit and run, named by commit time and hash,
in Go benchmark format with the configuration lines commit:, commit-time:, branch:, goos:,
goarch: and cpu:. The commit, its time and the branch default to git's HEAD.

flags:
`

func runGateRecord(args []string, stdout, stderr io.Writer) int {
	fs := newSubFlags("record", recordUsage, stderr)
	var (
		dir        = fs.String("history", "", "history `directory` (created if absent)")
		commit     = fs.String("commit", "", "commit measured (default: git rev-parse HEAD)")
		commitTime = fs.String("commit-time", "", "its committer time, RFC 3339 (default: from git)")
		branch     = fs.String("branch", "", "branch (default: git's current branch)")
		run        = fs.String("run", "", "run `name` added to the file name, to keep several runs of one commit")
	)
	if code, ok := parseSub(fs, args); !ok {
		return code
	}
	if *dir == "" {
		return subUsageErr(stderr, "record", "--history DIR: required")
	}
	if fs.NArg() > 1 {
		return subUsageErr(stderr, "record", "one input file at most, got %s", strings.Join(fs.Args(), " "))
	}
	ctx := context.Background()
	if *commit == "" {
		out, err := gitOut(ctx, "rev-parse", "HEAD")
		if err != nil {
			return subUsageErr(stderr, "record", "--commit: not given and %v", err)
		}
		*commit = out
	}
	if *commitTime == "" {
		out, err := gitOut(ctx, "show", "-s", "--format=%cI", *commit)
		if err != nil {
			return subUsageErr(stderr, "record", "--commit-time: not given and %v", err)
		}
		*commitTime = out
	}
	if *branch == "" {
		if out, err := gitOut(ctx, "rev-parse", "--abbrev-ref", "HEAD"); err == nil && out != "HEAD" {
			*branch = out
		}
	}
	t, err := time.Parse(time.RFC3339, *commitTime)
	if err != nil {
		return subUsageErr(stderr, "record", "--commit-time %q: not an RFC 3339 time", *commitTime)
	}
	in, name := io.Reader(os.Stdin), "standard input"
	if fs.NArg() == 1 && fs.Arg(0) != "-" {
		f, err := os.Open(fs.Arg(0))
		if err != nil {
			fmt.Fprintf(stderr, "perfobs gate record: %v\n", err)
			return exitUsage
		}
		defer f.Close()
		in, name = f, fs.Arg(0)
	}
	info := perfgate.RunInfo{Commit: *commit, CommitTime: t, Branch: *branch}
	var buf bytes.Buffer
	if err := perfgate.Record(&buf, in, name, info); err != nil {
		fmt.Fprintf(stderr, "perfobs gate %v\n", err)
		return exitUsage
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		fmt.Fprintf(stderr, "perfobs gate record: %v\n", err)
		return exitUsage
	}
	path := filepath.Join(*dir, perfgate.HistoryFileName(info, *run))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		fmt.Fprintf(stderr, "perfobs gate record: %v (a run of this commit is recorded already: name another with --run)\n", err)
		return exitUsage
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		f.Close()
		fmt.Fprintf(stderr, "perfobs gate record: %v\n", err)
		return exitUsage
	}
	if err := f.Close(); err != nil {
		fmt.Fprintf(stderr, "perfobs gate record: %v\n", err)
		return exitUsage
	}
	fmt.Fprintf(stdout, "recorded %s\n", path)
	return exitOK
}

func gitOut(ctx context.Context, args ...string) (string, error) {
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

const historyUsage = `usage: perfobs gate history [flags] FILE|DIR...

Reads history files (perfobs gate record) in commit-time order and reports each benchmark's
change points, per unit and machine: the first commit of each change, its size and its 95%
bootstrap confidence interval. A step is one commit's change; a drift is a gradual change of
several commits, none past the level alone (five commits of 2% each). Changes smaller than a
benchmark's warn level (half its threshold) are not reported.

Exit status: 0 no failing change at or after --since (default the newest commit),
1 a regression past its threshold there, 2 bad input (a file without commit:, unparsable
lines), 3 inconclusive: the newest commit has too few samples (--accept-inconclusive).

flags:
`

func runGateHistory(args []string, stdout, stderr io.Writer) int {
	fs := newSubFlags("history", historyUsage, stderr)
	var (
		configPath  = fs.String("config", "", "gate configuration `file` (thresholds, accepted regressions)")
		format      = fs.String("format", "table", "output format: table, markdown (pull requests: significant changes only) or json")
		htmlPath    = fs.String("html", "", "also write a self-contained HTML page with one chart per benchmark to `file`")
		since       = fs.String("since", "", "commit from which changes gate (default: the newest commit)")
		acceptIncon = fs.Bool("accept-inconclusive", false, "let a newest commit with too few samples pass instead of exit status 3")
	)
	if code, ok := parseSub(fs, args); !ok {
		return code
	}
	if fs.NArg() == 0 {
		return subUsageErr(stderr, "history", "need history files or directories")
	}
	outFormat, err := perfgate.ParseFormat(*format)
	if err != nil {
		return subUsageErr(stderr, "history", "--%v", err)
	}
	var cfg perfgate.Config
	if *configPath != "" {
		if cfg, err = perfgate.LoadConfig(*configPath); err != nil {
			fmt.Fprintf(stderr, "perfobs gate history: config: %v\n", err)
			return exitUsage
		}
	}
	if *acceptIncon {
		cfg.AcceptInconclusive = true
	}
	h, err := perfgate.ReadHistory(fs.Args()...)
	if err != nil {
		fmt.Fprintf(stderr, "perfobs gate %v\n", err)
		return exitUsage
	}
	rep, err := perfgate.AnalyzeHistory(h, cfg, perfgate.HistoryOptions{Since: *since})
	if err != nil {
		fmt.Fprintf(stderr, "perfobs gate history: %v\n", err)
		return exitUsage
	}
	if err := rep.Write(stdout, outFormat); err != nil {
		fmt.Fprintf(stderr, "perfobs gate history: %v\n", err)
		return exitUsage
	}
	if *htmlPath != "" {
		var b bytes.Buffer
		if err := rep.WriteHTML(&b); err != nil {
			fmt.Fprintf(stderr, "perfobs gate history: %v\n", err)
			return exitUsage
		}
		if err := os.WriteFile(*htmlPath, b.Bytes(), 0o644); err != nil {
			fmt.Fprintf(stderr, "perfobs gate history: %v\n", err)
			return exitUsage
		}
	}
	switch rep.Verdict() {
	case perfgate.Fail:
		return exitFail
	case perfgate.Inconclusive:
		for _, n := range rep.Inconclusive {
			fmt.Fprintf(stderr, "perfobs gate history: inconclusive: %s\n", n)
		}
		return exitInconclusive
	}
	return exitOK
}

const calibrateUsage = `usage: perfobs gate calibrate [flags] [PKG]
       perfobs gate calibrate --base A.txt --new B.txt [flags]

Measures the noise floor: builds the test binary of PKG (default .) once and runs it A/A,
interleaved, --runs rounds per side (or reads two A/A outputs), then sets each benchmark's
threshold at --factor times its spread (half the width of the central 90% of the runs) and
counts the false positives that threshold gives on the A/A data, comparing every window of
--count runs per side as the gate would. --write updates a gate.yaml with the thresholds
(rules limited to the calibrated unit, so an instruction threshold never gates time).

flags:
`

func runGateCalibrate(args []string, stdout, stderr io.Writer) int {
	fs := newSubFlags("calibrate", calibrateUsage, stderr)
	var (
		basePath     = fs.String("base", "", "A/A output of the first side (instead of running)")
		newPath      = fs.String("new", "", "A/A output of the second side")
		configPath   = fs.String("config", "", "gate configuration `file` to read (alpha, exact units)")
		write        = fs.String("write", "", "write the thresholds into this gate configuration `file` (created if absent)")
		bench        = fs.String("bench", ".", "benchmark `regexp`")
		runs         = fs.Int("runs", 20, "rounds of A/A runs")
		count        = fs.Int("count", 10, "runs per side of the gate the thresholds are for: the A/A windows' size")
		factor       = fs.Float64("factor", perfgate.DefaultSpreadFactor, "threshold = factor x spread")
		benchTime    = fs.String("benchtime", "", "-test.benchtime for each timed run, such as 100ms")
		instructions = fs.Bool("instructions", false, "count instructions/op under callgrind instead of timing")
		instrIters   = fs.Int("instr-iters", 5000, "iterations of the long callgrind run (--instructions)")
	)
	if code, ok := parseSub(fs, args); !ok {
		return code
	}
	var cfg perfgate.Config
	var err error
	if *configPath != "" {
		if cfg, err = perfgate.LoadConfig(*configPath); err != nil {
			fmt.Fprintf(stderr, "perfobs gate calibrate: config: %v\n", err)
			return exitUsage
		}
	}
	var pair *perfgate.Pair
	switch {
	case *basePath != "" || *newPath != "":
		if *basePath == "" || *newPath == "" || fs.NArg() > 0 {
			return subUsageErr(stderr, "calibrate", "--base and --new go together, without PKG")
		}
		pair = &perfgate.Pair{}
		if pair.Base, err = perfgate.ParseFile(*basePath); err == nil {
			pair.New, err = perfgate.ParseFile(*newPath)
		}
		if err != nil {
			fmt.Fprintf(stderr, "perfobs gate calibrate: %v\n", err)
			return exitUsage
		}
	default:
		if fs.NArg() > 1 {
			return subUsageErr(stderr, "calibrate", "one package at most")
		}
		pkg := "."
		if fs.NArg() == 1 {
			pkg = fs.Arg(0)
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		defer stop()
		tmp, err := os.MkdirTemp("", "perfobs-calibrate-")
		if err != nil {
			fmt.Fprintf(stderr, "perfobs gate calibrate: %v\n", err)
			return exitUsage
		}
		defer os.RemoveAll(tmp)
		bin := filepath.Join(tmp, "aa.test")
		fmt.Fprintf(stderr, "building %s\n", pkg)
		if err := perfgate.BuildTest(ctx, "", pkg, bin); err != nil {
			fmt.Fprintf(stderr, "perfobs gate calibrate: %s: %v\n", pkg, err)
			return exitUsage
		}
		b := perfgate.Binaries{Base: bin, New: bin, Dir: pkg, Bench: *bench, Count: *runs, BenchTime: *benchTime, Log: stderr}
		if *instructions {
			b.Instructions = &perfgate.Instructions{High: *instrIters}
		}
		if pair, err = perfgate.RunBinaries(ctx, b); err != nil {
			fmt.Fprintf(stderr, "perfobs gate calibrate: %v\n", err)
			return exitUsage
		}
	}
	cals, err := perfgate.Calibrate(pair, cfg, *factor, *count)
	if err != nil {
		fmt.Fprintf(stderr, "perfobs gate %v\n", err)
		return exitUsage
	}
	if err := perfgate.WriteCalibration(stdout, cals, cfg.Alpha); err != nil {
		fmt.Fprintf(stderr, "perfobs gate calibrate: %v\n", err)
		return exitUsage
	}
	if *write != "" {
		data, err := os.ReadFile(*write)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(stderr, "perfobs gate calibrate: %v\n", err)
			return exitUsage
		}
		out, err := perfgate.ApplyCalibration(data, cals, *write)
		if err != nil {
			fmt.Fprintf(stderr, "perfobs gate calibrate: %v\n", err)
			return exitUsage
		}
		if err := os.WriteFile(*write, out, 0o644); err != nil {
			fmt.Fprintf(stderr, "perfobs gate calibrate: %v\n", err)
			return exitUsage
		}
		fmt.Fprintf(stdout, "wrote %d thresholds to %s\n", len(cals), *write)
	}
	return exitOK
}
