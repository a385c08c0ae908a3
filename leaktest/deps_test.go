package leaktest

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps leaktest light: test binaries of every package link it, so it must not pull in gRPC,
// OpenTelemetry or Pyroscope (its own tests use those only to check the option sets).
func TestDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 2 {
		t.Fatalf("go list -deps printed %d packages: %q", len(deps), out)
	}
	for _, d := range deps {
		for _, banned := range []string{"google.golang.org/grpc", "go.opentelemetry.io/", "github.com/grafana/pyroscope-go"} {
			if strings.HasPrefix(d, banned) {
				t.Errorf("leaktest links %s", d)
			}
		}
		if !strings.HasPrefix(d, "go.uber.org/goleak") && d != "github.com/perfobs/perfobs-go/leaktest" {
			t.Errorf("leaktest links %s: only goleak and the standard library are expected", d)
		}
	}
}
