package main

import (
	"fmt"
	"io"
)

// runGenerate is filled in by its own work item; until then it says so.
func runGenerate(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "perfobs generate: not built yet")
	return exitUsage
}
