package promtest

import (
	"fmt"
	"os"
	"path/filepath"
)

// Version selects which Prometheus Start runs.
type Version int

const (
	// Prometheus2 is the Debian package's Prometheus 2.42: $PROMETHEUS, else DefaultBinary.
	Prometheus2 Version = 2
	// Prometheus3 is Prometheus 3 as scripts/install-tools builds it: $PROMETHEUS3, else
	// prometheus3 in ToolsDir.
	Prometheus3 Version = 3
)

// Versions returns every Prometheus the end-to-end suites run against, oldest first.
func Versions() []Version { return []Version{Prometheus2, Prometheus3} }

// String names the version, as a subtest name: "prometheus2" or "prometheus3".
func (v Version) String() string { return fmt.Sprintf("prometheus%d", int(v)) }

// Binary returns the path of the version's binary, or an error that names the path and how to
// install it.
func (v Version) Binary() (string, error) {
	switch v {
	case Prometheus2:
		bin := os.Getenv("PROMETHEUS")
		if bin == "" {
			bin = DefaultBinary
		}
		return executable("Prometheus 2", bin)
	case Prometheus3:
		bin := os.Getenv("PROMETHEUS3")
		if bin == "" {
			bin = filepath.Join(ToolsDir(), "prometheus3")
		}
		return executable("Prometheus 3", bin)
	default:
		return "", fmt.Errorf("unknown Prometheus version %d: want Prometheus2 or Prometheus3", int(v))
	}
}
