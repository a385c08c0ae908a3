package perfobs

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/internal/ratelog"
)

// collectorPanicLogEvery is how often, at most, a panicking collector is logged.
const collectorPanicLogEvery = time.Minute

// safeRegisterer registers the service's collectors on the Observer's registry, each wrapped in a
// safeCollector. client_golang's Registry calls Describe and Collect on goroutines of its own and
// does not recover: without the wrapper, one panicking collector would end the process at the
// next scrape.
type safeRegisterer struct {
	reg    prometheus.Registerer
	panics *panicCounter
}

// newSafeRegisterer returns a Registerer that guards every collector registered through it. The
// panic counter is registered on reg the first time and shared by every later safeRegisterer on
// the same reg (found through AlreadyRegisteredError), so creating one per call is cheap and keeps
// one count and one log rate limit per registry.
func newSafeRegisterer(reg prometheus.Registerer, logger *slog.Logger) prometheus.Registerer {
	pc := newPanicCounter(logger)
	if err := reg.Register(pc); err != nil {
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) {
			// Only a name clash with a collector of the service can get here; guard anyway, uncounted.
			logger.Warn("perfobs: cannot register "+catalog.CollectorPanics, "error", err)
		} else if existing, ok := are.ExistingCollector.(*panicCounter); ok {
			pc = existing
		}
	}
	return &safeRegisterer{reg: reg, panics: pc}
}

// Register wraps c and registers it. A collector whose Describe panics is refused with an error.
// An AlreadyRegisteredError names the collectors the caller registered (never the wrappers), so
// the usual "reuse the existing collector" pattern works.
func (s *safeRegisterer) Register(c prometheus.Collector) error {
	if c == nil {
		return errors.New("perfobs: Register: nil collector")
	}
	if r := describePanics(c); r != nil {
		s.panics.record(c, "Describe", r)
		return fmt.Errorf("perfobs: Register: the collector's Describe panicked: %v", r)
	}
	err := s.reg.Register(&safeCollector{inner: c, panics: s.panics})
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if w, ok := are.ExistingCollector.(*safeCollector); ok {
			are.ExistingCollector = w.inner
		}
		are.NewCollector = c
		return are
	}
	return err
}

// MustRegister registers each collector and panics on the first error, like
// prometheus.Registry.MustRegister.
func (s *safeRegisterer) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := s.Register(c); err != nil {
			panic(err)
		}
	}
}

// Unregister removes c. The registry identifies a collector by its descriptors, so a new wrapper
// around the same collector finds the registered one.
func (s *safeRegisterer) Unregister(c prometheus.Collector) bool {
	if c == nil || describePanics(c) != nil {
		return false
	}
	return s.reg.Unregister(&safeCollector{inner: c, panics: s.panics})
}

// describePanics runs c.Describe into a discarding channel and returns what it panicked with.
func describePanics(c prometheus.Collector) (r any) {
	ch := make(chan *prometheus.Desc)
	done := make(chan struct{})
	go func() {
		for range ch {
		}
		close(done)
	}()
	defer func() {
		r = recover()
		close(ch)
		<-done
	}()
	c.Describe(ch)
	return nil
}

// safeCollector recovers from a panic in the collector it wraps. A Collect that panics gives no
// metric for that scrape (what it sent before the panic is dropped too, so a scrape never shows a
// half-collected family); the healthy collectors are served as usual.
type safeCollector struct {
	inner  prometheus.Collector
	panics *panicCounter
}

// Describe forwards the wrapped collector's descriptors, stopping at a panic.
func (s *safeCollector) Describe(ch chan<- *prometheus.Desc) {
	defer func() {
		if r := recover(); r != nil {
			s.panics.record(s.inner, "Describe", r)
		}
	}()
	s.inner.Describe(ch)
}

// Collect collects the wrapped collector's metrics into a buffer and forwards them only when it
// returned without panicking.
func (s *safeCollector) Collect(ch chan<- prometheus.Metric) {
	buf := make(chan prometheus.Metric, 64)
	var metrics []prometheus.Metric
	done := make(chan struct{})
	go func() {
		for m := range buf {
			metrics = append(metrics, m)
		}
		close(done)
	}()
	r := collectInto(s.inner, buf)
	close(buf)
	<-done
	if r != nil {
		s.panics.record(s.inner, "Collect", r)
		return
	}
	for _, m := range metrics {
		ch <- m
	}
}

func collectInto(c prometheus.Collector, ch chan<- prometheus.Metric) (r any) {
	defer func() { r = recover() }()
	c.Collect(ch)
	return nil
}

// panicCounter is perfobs_collector_panics_total, with the rate-limited log of the panics it
// counts.
type panicCounter struct {
	prometheus.Counter
	logger *slog.Logger
	limit  *ratelog.Limiter
}

func newPanicCounter(logger *slog.Logger) *panicCounter {
	return &panicCounter{
		Counter: prometheus.NewCounter(prometheus.CounterOpts{
			Name: catalog.CollectorPanics,
			Help: helpOf(catalog.CollectorPanics),
		}),
		logger: logger,
		limit:  ratelog.New(collectorPanicLogEvery),
	}
}

// record counts one panic and logs it at most once per collectorPanicLogEvery, with the number of
// panics not logged since the previous line.
func (p *panicCounter) record(c prometheus.Collector, method string, r any) {
	p.Inc()
	p.limit.Log(p.logger, slog.LevelError, "perfobs: a collector registered through Observer.Registerer panicked; its metrics are left out of this scrape",
		"method", method, "collector", fmt.Sprintf("%T", c), "panic", fmt.Sprint(r))
}

// helpOf returns the catalogue's help text for metric name.
func helpOf(name string) string {
	for _, m := range catalog.Metrics() {
		if m.Name == name {
			return m.Help
		}
	}
	return name
}
