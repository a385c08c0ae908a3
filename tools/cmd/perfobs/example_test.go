package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Example_validate runs `perfobs validate` on a spec with a mistake: the error names the file,
// the line and the field, and the exit code is 1.
func Example_validate() {
	dir, err := os.MkdirTemp("", "perfobs-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	spec := filepath.Join(dir, "slo.yaml")
	os.WriteFile(spec, []byte("version: 1\nservice: checkout\nslos:\n  - name: availability\n    kind: availability\n    objective: 100.5\n"), 0o644)
	var out bytes.Buffer
	code := run([]string{"validate", "--spec", spec}, &out, &out)
	fmt.Print(strings.ReplaceAll(out.String(), dir+string(filepath.Separator), ""))
	fmt.Println("exit", code)
	// Output:
	// slo.yaml:6: slos[0].objective: 100.5: must be in (0, 100): invalid value
	// exit 1
}
