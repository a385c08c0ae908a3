package perfobs

import (
	"testing"

	"github.com/perfobs/perfobs-go/internal/deadend"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// blackHole is the URL of a server that accepts connections and never answers: a profiling
// server that hangs.
func blackHole(t *testing.T) string { return deadend.NewBlackHole(t).URL() }
