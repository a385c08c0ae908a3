package main

import (
	"fmt"
	"io"
)

// runLoad is filled in by its own work item; until then it says so.
func runLoad(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "perfobs load: not built yet")
	return exitUsage
}
