package flightrecorder

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/perfobs/perfobs-go/catalog"
)

// registerMetrics makes the counters and registers them on reg (when not nil), reusing the
// ones already there, so that a second Recorder on one registry (after a restart in tests)
// counts into the same series.
func (r *Recorder) registerMetrics(reg prometheus.Registerer) error {
	r.taken = prometheus.NewCounter(prometheus.CounterOpts{
		Name: catalog.FlightRecorderSnapshots,
		Help: "Flight-recorder snapshots taken because a request broke its latency budget.",
	})
	r.skipped = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: catalog.FlightRecorderSkipped,
		Help: "Slow requests that took no flight-recorder snapshot, by reason (cooldown, busy, cap, error).",
	}, []string{catalog.LabelReason})
	for _, reason := range []string{SkipCooldown, SkipBusy, SkipCap, SkipError} {
		r.skipped.WithLabelValues(reason) // every reason is exported from the start, at zero
	}
	if reg == nil {
		return nil
	}
	var err error
	if r.taken, err = registerOrReuse(reg, r.taken); err != nil {
		return fmt.Errorf("registering %s: %w", catalog.FlightRecorderSnapshots, err)
	}
	if r.skipped, err = registerOrReuse(reg, r.skipped); err != nil {
		return fmt.Errorf("registering %s: %w", catalog.FlightRecorderSkipped, err)
	}
	return nil
}

func registerOrReuse[T prometheus.Collector](reg prometheus.Registerer, c T) (T, error) {
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(T); ok {
			return existing, nil
		}
	}
	return c, err
}
