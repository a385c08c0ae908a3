package main

import (
	"fmt"
	"io"
)

// runGate is filled in by its own work item; until then it says so.
func runGate(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "perfobs gate: not built yet")
	return exitUsage
}
