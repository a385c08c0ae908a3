package instrument

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/internal/ratelog"
)

// LabelCap admits at most Max distinct values of one label; later new values collapse into
// catalog.OtherValue, counted by the overflow counter and logged at most once per LogEvery.
// Known values are read lock-free; only a value not seen before takes the lock.
type LabelCap struct {
	Metric, Label string
	Max           int
	Overflow      *prometheus.CounterVec
	Logger        *slog.Logger

	known atomic.Pointer[map[string]struct{}]
	// full is set once Max values are known: from then on an unknown value collapses without
	// the lock, so a flood of new values cannot serialise the requests on it.
	full atomic.Bool
	mu   sync.Mutex
	log  ratelog.Limiter
}

// LogEvery is the shortest interval between two log lines of one LabelCap.
const LogEvery = 10 * time.Second

// Admit returns value when it is known or there is room for it, else catalog.OtherValue.
func (c *LabelCap) Admit(value string) string {
	if m := c.known.Load(); m != nil {
		if _, ok := (*m)[value]; ok {
			return value
		}
	}
	if c.full.Load() {
		c.collapsed(value)
		return catalog.OtherValue
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.known.Load()
	if old != nil {
		if _, ok := (*old)[value]; ok {
			return value
		}
	}
	n := 0
	if old != nil {
		n = len(*old)
	}
	if n >= c.Max {
		c.full.Store(true)
		c.collapsed(value)
		return catalog.OtherValue
	}
	next := make(map[string]struct{}, n+1)
	if old != nil {
		for k := range *old {
			next[k] = struct{}{}
		}
	}
	next[value] = struct{}{}
	c.known.Store(&next)
	return value
}

func (c *LabelCap) collapsed(value string) {
	if c.Overflow != nil {
		c.Overflow.WithLabelValues(c.Metric, c.Label).Inc()
	}
	suppressed, ok := c.log.AllowEvery(LogEvery)
	if !ok {
		return
	}
	if len(value) > 64 {
		value = value[:64] + "..."
	}
	c.Logger.Warn("perfobs: label cap reached; value collapsed into "+catalog.OtherValue,
		"metric", c.Metric, "label", c.Label, "value", value, "cap", c.Max, ratelog.SuppressedKey, suppressed)
}

// NewOverflowCounter returns the counter of collapsed label values, registered on reg (or the
// one already there).
func NewOverflowCounter(reg prometheus.Registerer) (*prometheus.CounterVec, error) {
	return RegisterOrReuse(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: catalog.LabelOverflow,
		Help: "Label values collapsed into " + catalog.OtherValue + " by a cardinality cap.",
	}, []string{catalog.LabelMetric, catalog.LabelLabel}))
}
