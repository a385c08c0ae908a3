package promql

import (
	"testing"
	"time"

	"github.com/perfobs/perfobs-go/leaktest"
)

func TestMain(m *testing.M) { leaktest.VerifyTestMain(m) }

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", -time.Second: "0s", 5 * time.Minute: "5m", time.Hour: "1h", 30 * 24 * time.Hour: "30d",
		90 * time.Second: "90s", 250 * time.Millisecond: "250ms", 36 * time.Hour: "36h", 1500 * time.Millisecond: "1500ms",
	} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestFloat(t *testing.T) {
	for f, want := range map[float64]string{
		1 - 0.999: "0.001", 14.4: "14.4", 0.25: "0.25", 100: "100", 2419200: "2.4192e+06", 1e-7: "1e-07",
	} {
		if got := Float(f); got != want {
			t.Errorf("Float(%v) = %q, want %q", f, got, want)
		}
	}
}
