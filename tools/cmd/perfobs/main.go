// Command perfobs generates and validates SLO alert rules and dashboards, and runs the
// performance gates: benchmark regressions (gate) and load budgets (load).
package main

import (
	"fmt"
	"io"
	"os"
)

// Exit codes shared by every subcommand.
const (
	exitOK    = 0
	exitFail  = 1 // a check failed: invalid spec, regression, broken budget
	exitUsage = 2 // bad flags or unreadable input
	// exitInconclusive: the statistics cannot decide (too few samples, no data, marginal): look again
	// later, or accept it explicitly with the command's flag or config.
	exitInconclusive = 3
)

// command is one subcommand; run gets the arguments after the subcommand's name.
type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"generate", "write alert rules, their promtool tests and dashboards for an SLO spec", runGenerate},
		{"validate", "check an SLO spec (line-numbered errors); with --prometheus URL, the live server too", runValidate},
		{"gate", "compare benchmark results and fail on significant regressions", runGate},
		{"load", "drive HTTP load (rates, ramps, scenarios, spikes, soaks, replay) and check budgets", runLoad},
		{"canary", "compare a canary with its baseline from Prometheus metrics: pass, fail or inconclusive", runCanary},
		{"trace", "summarize a flight-recorder snapshot: why the slow request waited", runTrace},
	}
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "perfobs: unknown command %q\n", args[0])
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: perfobs COMMAND [flags]")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
}
