package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/perfobs/perfobs-go/tools/canary"
)

// runCanary implements `perfobs canary`.
func runCanary(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	return canaryMain(ctx, args, time.Now(), nil, stdout, stderr)
}

// canaryMain is runCanary with its clock and Prometheus client injected, for tests.
func canaryMain(ctx context.Context, args []string, now time.Time, q canary.Querier, stdout, stderr io.Writer) int {
	inv, err := canary.ParseArgs(args, now, stderr)
	if err != nil {
		if errors.Is(err, canary.ErrHelp) {
			return exitOK
		}
		fmt.Fprintf(stderr, "perfobs canary: %v\nrun 'perfobs canary -h' for usage\n", err)
		return exitUsage
	}
	if q == nil {
		q = &canary.Client{URL: inv.Prometheus}
	}
	var rep canary.Report
	if inv.Watch > 0 {
		rep, err = canary.Watch(ctx, q, inv.Request, canary.WatchOptions{
			Interval: inv.Watch, Deadline: inv.Deadline,
			OnLook: func(r canary.Report) {
				if !r.Final && r.Verdict != canary.Fail {
					fmt.Fprintf(stderr, "perfobs canary: look %d at %s: %s (score %.1f), looking again in %v\n",
						r.Look, r.End.UTC().Format(time.RFC3339), r.Verdict, r.Score, inv.Watch)
				}
			},
		})
	} else {
		rep, err = canary.Judge(ctx, q, inv.Request)
	}
	if err != nil {
		fmt.Fprintf(stderr, "perfobs canary: %v\n", err)
		return exitUsage
	}
	if err := rep.Write(stdout, inv.Format); err != nil {
		fmt.Fprintf(stderr, "perfobs canary: writing the report: %v\n", err)
		return exitUsage
	}
	if inv.HTML != "" {
		f, err := os.Create(inv.HTML)
		if err == nil {
			err = rep.WriteHTML(f)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Fprintf(stderr, "perfobs canary: --html: %v\n", err)
			return exitUsage
		}
	}
	switch rep.Verdict {
	case canary.Pass:
		return exitOK
	case canary.Fail:
		return exitFail
	default:
		return exitInconclusive
	}
}
