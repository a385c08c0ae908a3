package main

import (
	"testing"
	"time"
)

// FuzzRetentionCheck: any storageRetention text Prometheus may report gives exactly one verdict,
// a finding or an ok line, and never a panic.
func FuzzRetentionCheck(f *testing.F) {
	for _, s := range []string{"15d", "30d or 10GiB", "10GiB", "", "1w", "0s", "5y or 1TB", " or "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, retention string) {
		r := &liveReport{}
		retentionCheck(r, retention, 30*24*time.Hour)
		if n := len(r.findings) + len(r.ok); n != 1 {
			t.Fatalf("retention %q: %d verdicts (%v %v), want 1", retention, n, r.findings, r.ok)
		}
	})
}
