package main

import (
	"fmt"
	"io"
)

// runValidate is filled in by its own work item; until then it says so.
func runValidate(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "perfobs validate: not built yet")
	return exitUsage
}
