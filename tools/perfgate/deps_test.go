package perfgate

import (
	"os/exec"
	"strings"
	"testing"
)

// TestSDKDoesNotLinkTools checks that the SDK packages a service imports never link the
// libraries of the performance tools (benchmark statistics, load generation).
func TestSDKDoesNotLinkTools(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "./perfobs/...", "./middleware/...", "./runtimemetrics/...", "./leaktest/...")
	cmd.Dir = "../.." // the repository root: the SDK module and the perfobs module of the workspace
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list listed only %d packages: %q", len(deps), deps)
	}
	for _, p := range deps {
		for _, banned := range []string{"golang.org/x/perf", "github.com/tsenart/vegeta", "github.com/perfobs/perfobs-go/tools/perfgate", "github.com/perfobs/perfobs-go/tools/loadtest"} {
			if p == banned || strings.HasPrefix(p, banned+"/") {
				t.Errorf("an SDK package links %s", p)
			}
		}
	}
}
