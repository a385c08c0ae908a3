package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/perfobs/perfobs-go/perfobs/tracesummary"
)

// runTrace implements `perfobs trace summarize FILE [--trace-id ID] [--json]`: it reads a
// flight-recorder snapshot (or any Go execution trace) and prints, for the slow request's
// goroutines, the time running, runnable, blocked by reason and in GC assist. Exit 0 with the
// summary; 1 when the trace holds no such request; 2 for bad flags or an unreadable file.
func runTrace(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "summarize" {
		fmt.Fprintln(stderr, "usage: perfobs trace summarize FILE [--trace-id ID] [--json]")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return exitOK
		}
		return exitUsage
	}
	fs := flag.NewFlagSet("perfobs trace summarize", flag.ContinueOnError)
	fs.SetOutput(stderr)
	traceID := fs.String("trace-id", "", "summarize the request whose trace `id` the middleware logged (default: the longest request)")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: perfobs trace summarize FILE [--trace-id ID] [--json]")
		fs.PrintDefaults()
	}
	// The file may come before or after the flags.
	rest := args[1:]
	var file string
	if len(rest) > 0 && len(rest[0]) > 0 && rest[0][0] != '-' {
		file, rest = rest[0], rest[1:]
	}
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if file == "" && fs.NArg() == 1 {
		file = fs.Arg(0)
	} else if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "perfobs trace summarize: unexpected arguments %q\n", fs.Args())
		return exitUsage
	}
	if file == "" {
		fmt.Fprintln(stderr, "perfobs trace summarize: FILE is required (a snapshot from /debug/perfobs/traces/)")
		fs.Usage()
		return exitUsage
	}
	f, err := os.Open(file)
	if err != nil {
		fmt.Fprintf(stderr, "perfobs trace summarize: %v\n", err)
		return exitUsage
	}
	defer f.Close()
	s, err := tracesummary.Summarize(f, tracesummary.Options{TraceID: *traceID})
	if errors.Is(err, tracesummary.ErrNoTask) {
		fmt.Fprintf(stderr, "perfobs trace summarize: %s: %v\n", file, err)
		return exitFail
	}
	if err != nil {
		fmt.Fprintf(stderr, "perfobs trace summarize: %s: %v\n", file, err)
		return exitUsage
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(s); err != nil {
			fmt.Fprintf(stderr, "perfobs trace summarize: %v\n", err)
			return exitUsage
		}
		return exitOK
	}
	if err := s.WriteText(stdout); err != nil {
		fmt.Fprintf(stderr, "perfobs trace summarize: %v\n", err)
		return exitUsage
	}
	return exitOK
}
