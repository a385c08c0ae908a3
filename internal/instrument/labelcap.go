package instrument

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/perfobs/perfobs-go/catalog"
)

// LabelCap admits at most Max distinct values of one label; later new values collapse into
// catalog.OtherValue, counted by the overflow counter and logged at most once per LogEvery.
// Known values are read lock-free; only a value not seen before takes the lock.
type LabelCap struct {
	Metric, Label string
	Max           int
	Overflow      *prometheus.CounterVec
	Logger        *slog.Logger

	known   atomic.Pointer[map[string]struct{}]
	mu      sync.Mutex
	lastLog atomic.Int64
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
	now := time.Now().UnixNano()
	last := c.lastLog.Load()
	if now-last < int64(LogEvery) || !c.lastLog.CompareAndSwap(last, now) {
		return
	}
	if len(value) > 64 {
		value = value[:64] + "..."
	}
	c.Logger.Warn("perfobs: label cap reached; value collapsed into "+catalog.OtherValue,
		"metric", c.Metric, "label", c.Label, "value", value, "cap", c.Max)
}

// NewOverflowCounter returns the counter of collapsed label values, registered on reg (or the
// one already there).
func NewOverflowCounter(reg prometheus.Registerer) (*prometheus.CounterVec, error) {
	return RegisterOrReuse(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: catalog.LabelOverflow,
		Help: "Label values collapsed into " + catalog.OtherValue + " by a cardinality cap.",
	}, []string{catalog.LabelMetric, catalog.LabelLabel}))
}
