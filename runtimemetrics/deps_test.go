package runtimemetrics

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps runtimemetrics light: it must not link gRPC, OpenTelemetry or the
// profiler (DESIGN: middleware, runtimemetrics and leaktest never link google.golang.org/grpc).
func TestDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps printed %d packages: %q", len(deps), out)
	}
	for _, forbidden := range []string{"google.golang.org/grpc", "go.opentelemetry.io/", "github.com/grafana/pyroscope-go"} {
		for _, d := range deps {
			if strings.HasPrefix(d, forbidden) {
				t.Errorf("runtimemetrics links %s", d)
			}
		}
	}
}
