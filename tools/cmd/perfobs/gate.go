package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/perfobs/perfobs-go/tools/perfgate"
)

const gateUsage = `usage:
  perfobs gate --base OLD.txt --new NEW.txt [flags]
  perfobs gate --head-to-head --base-rev REV [--bench REGEX] [--instructions] [flags] [PKG...]
  perfobs gate --base-bin OLD.test --new-bin NEW.test [--instructions] [flags]
  perfobs gate record --history DIR [flags] [FILE]      (perfobs gate record -h)
  perfobs gate history [flags] FILE|DIR...              (perfobs gate history -h)
  perfobs gate calibrate [flags] [PKG]                  (perfobs gate calibrate -h)

Compares Go benchmark results (go test -bench . -benchmem -count N) with the statistics
benchstat uses, and fails only on a regression that is both significant (p < alpha) and
larger than the threshold. allocs/op and B/op are gated exactly.

--head-to-head builds the test binaries of each PKG (default .) at REV, in a git worktree,
and in the working tree, and runs them interleaved (A B A B) --count times. With
--instructions each run counts instructions per operation under valgrind's callgrind
instead of timing: the unit instructions/op does not move with the load of a shared runner.

Exit status: 0 pass (warnings included), 1 a regression failed the gate,
2 usage or input error (unreadable or unparsable files, mismatched benchmark sets),
3 inconclusive: too few samples to decide (accept with --accept-inconclusive or
accept_inconclusive: true in the config).

flags:
`

// runGate implements `perfobs gate`.
func runGate(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "record":
			return runGateRecord(args[1:], stdout, stderr)
		case "history":
			return runGateHistory(args[1:], stdout, stderr)
		case "calibrate":
			return runGateCalibrate(args[1:], stdout, stderr)
		}
	}
	fs := flag.NewFlagSet("perfobs gate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, gateUsage)
		fs.PrintDefaults()
	}
	var (
		basePath     = fs.String("base", "", "benchmark output of the base (old) code")
		newPath      = fs.String("new", "", "benchmark output of the new code")
		configPath   = fs.String("config", "", "gate configuration `file` (thresholds, criticality, accepted regressions)")
		format       = fs.String("format", "table", "output format: table, markdown or json")
		alpha        = fs.Float64("alpha", 0, "significance level (default from the config, else 0.05)")
		threshold    = fs.String("threshold", "", "default regression threshold such as 10% (default from the config, else 10%)")
		allowMissing = fs.Bool("allow-missing", false, "report a missing base, benchmark or unit and pass, instead of an input error")
		headToHead   = fs.Bool("head-to-head", false, "build and run the base revision and the working tree interleaved")
		baseRev      = fs.String("base-rev", "", "git revision to compare the working tree with (head-to-head)")
		bench        = fs.String("bench", ".", "benchmark `regexp` (head-to-head)")
		count        = fs.Int("count", 6, "rounds of A B runs (head-to-head)")
		benchTime    = fs.String("benchtime", "", "-test.benchtime for each run, such as 200ms (head-to-head; default Go's 1s)")
		saveDir      = fs.String("save", "", "write the raw outputs to `dir`/base.txt and new.txt (head-to-head)")
		acceptIncon  = fs.Bool("accept-inconclusive", false, "let a result with too few samples warn instead of failing with exit status 3")
		instructions = fs.Bool("instructions", false, "count instructions/op under valgrind's callgrind instead of timing (head-to-head)")
		instrIters   = fs.Int("instr-iters", 5000, "iterations of the long callgrind run; the short one runs 1 (--instructions)")
		baseBin      = fs.String("base-bin", "", "prebuilt test `binary` of the base, run interleaved with --new-bin (go test -c)")
		newBin       = fs.String("new-bin", "", "prebuilt test `binary` of the new code")
		binDir       = fs.String("bin-dir", "", "directory the --base-bin and --new-bin binaries run in (default: the current one)")
	)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "perfobs gate: "+format+"\n", a...)
		fmt.Fprintln(stderr, "run 'perfobs gate -h' for usage")
		return exitUsage
	}
	outFormat, err := perfgate.ParseFormat(*format)
	if err != nil {
		return usageErr("--%v", err)
	}
	var cfg perfgate.Config
	if *configPath != "" {
		if cfg, err = perfgate.LoadConfig(*configPath); err != nil {
			fmt.Fprintf(stderr, "perfobs gate: config: %v\n", err)
			return exitUsage
		}
	}
	if *alpha != 0 {
		cfg.Alpha = *alpha
	}
	if *threshold != "" {
		if cfg.Threshold, err = perfgate.ParsePercent(*threshold); err != nil {
			return usageErr("--threshold %v", err)
		}
	}
	if *acceptIncon {
		cfg.AcceptInconclusive = true
	}
	if err := cfg.Validate(); err != nil {
		return usageErr("%v", err)
	}
	bins := *baseBin != "" || *newBin != ""
	if *instructions && !*headToHead && !bins {
		return usageErr("--instructions measures: it needs --head-to-head or --base-bin/--new-bin (or gate calibrate --instructions)")
	}

	var base, head *perfgate.Results
	var baseName, newName string
	if bins {
		if *baseBin == "" || *newBin == "" || *headToHead || *basePath != "" || *newPath != "" {
			return usageErr("--base-bin and --new-bin go together, without --head-to-head, --base or --new")
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		defer stop()
		b := perfgate.Binaries{Base: *baseBin, New: *newBin, Dir: *binDir, Bench: *bench, Count: *count, BenchTime: *benchTime, Log: stderr}
		if *instructions {
			b.Instructions = &perfgate.Instructions{High: *instrIters}
		}
		pair, err := perfgate.RunBinaries(ctx, b)
		if err != nil {
			fmt.Fprintf(stderr, "perfobs gate: %v\n", err)
			return exitUsage
		}
		base, head = pair.Base, pair.New
		baseName, newName = *baseBin, *newBin
		if *saveDir != "" {
			if err := savePair(*saveDir, pair); err != nil {
				fmt.Fprintf(stderr, "perfobs gate: %v\n", err)
				return exitUsage
			}
		}
	} else if *headToHead {
		if *basePath != "" || *newPath != "" {
			return usageErr("--head-to-head measures both sides: drop --base and --new")
		}
		if *baseRev == "" {
			return usageErr("--head-to-head needs --base-rev REV")
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		defer stop()
		h := perfgate.HeadToHead{
			BaseRev: *baseRev, Packages: fs.Args(), Bench: *bench, Count: *count,
			BenchTime: *benchTime, Log: stderr, SaveDir: *saveDir,
		}
		if *instructions {
			h.Instructions = &perfgate.Instructions{High: *instrIters}
		}
		pair, err := perfgate.RunHeadToHead(ctx, h)
		switch {
		case err != nil && *allowMissing && (errors.Is(err, perfgate.ErrNoBase) || errors.Is(err, perfgate.ErrNoBenchmarks)):
			fmt.Fprintf(stdout, "perfobs gate: nothing to compare, passing: %v\n", err)
			return exitOK
		case err != nil:
			fmt.Fprintf(stderr, "perfobs gate: %v\n", err)
			return exitUsage
		}
		base, head = pair.Base, pair.New
		baseName, newName = fmt.Sprintf("%s (%.12s)", *baseRev, pair.BaseCommit), "working tree"
	} else {
		if *baseRev != "" {
			return usageErr("--base-rev needs --head-to-head")
		}
		if *basePath == "" || *newPath == "" {
			return usageErr("need --base OLD.txt and --new NEW.txt, or --head-to-head")
		}
		if fs.NArg() > 0 {
			return usageErr("unexpected arguments %s", strings.Join(fs.Args(), " "))
		}
		if base, err = perfgate.ParseFile(*basePath); err != nil {
			fmt.Fprintf(stderr, "perfobs gate: %v\n", err)
			return exitUsage
		}
		if head, err = perfgate.ParseFile(*newPath); err != nil {
			fmt.Fprintf(stderr, "perfobs gate: %v\n", err)
			return exitUsage
		}
		baseName, newName = *basePath, *newPath
	}

	opts := []perfgate.CompareOption{perfgate.WithNames(baseName, newName)}
	if bins {
		opts = append(opts, perfgate.WithAllowMissing())
	}
	if *allowMissing || *headToHead {
		// A benchmark added by the change has no base: report it and pass.
		opts = append(opts, perfgate.WithAllowMissing())
	}
	rep, err := perfgate.Compare(base, head, cfg, opts...)
	if err != nil {
		fmt.Fprintf(stderr, "perfobs gate: %v\n", err)
		return exitUsage
	}
	if err := rep.Write(stdout, outFormat); err != nil {
		fmt.Fprintf(stderr, "perfobs gate: %v\n", err)
		return exitUsage
	}
	switch {
	case rep.Failed():
		return exitFail
	case rep.Inconclusive():
		fmt.Fprintln(stderr, "perfobs gate: inconclusive: too few samples to tell a regression from noise (raise --count, or accept with --accept-inconclusive)")
		return exitInconclusive
	}
	return exitOK
}

// savePair writes both sides of a run in Go benchmark format, as dir/base.txt and dir/new.txt.
func savePair(dir string, pair *perfgate.Pair) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, res := range map[string]*perfgate.Results{"base.txt": pair.Base, "new.txt": pair.New} {
		var b strings.Builder
		for _, n := range res.Names() {
			for _, u := range res.Units(n) {
				for _, v := range res.Values(n, u) {
					fmt.Fprintf(&b, "%s 1 %v %s\n", n, v, u)
				}
			}
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(b.String()), 0o644); err != nil {
			return err
		}
	}
	return nil
}
