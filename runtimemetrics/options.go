package runtimemetrics

import (
	"fmt"
	"runtime/metrics"
	"strings"
)

// Option configures Register. Only this package makes options.
type Option interface {
	apply(*config) error
}

type optionFunc func(*config) error

func (f optionFunc) apply(c *config) error { return f(c) }

type config struct {
	service     string
	version     string
	environment string
	extra       []string // runtime/metrics names added to the default set
	noProcess   bool
}

// WithService sets the service_name label of target_info. Without it the name is
// "unknown_service:" followed by the executable's base name, as the OpenTelemetry resource
// conventions say.
func WithService(name string) Option {
	return optionFunc(func(c *config) error {
		c.service = name
		return nil
	})
}

// WithVersion sets the service_version label of target_info. Without it the main module's version
// from the build information is used, when the binary was built from a tagged module.
func WithVersion(version string) Option {
	return optionFunc(func(c *config) error {
		c.version = version
		return nil
	})
}

// WithEnvironment sets the deployment_environment_name label of target_info ("production",
// "staging"...). Without it the label is empty.
func WithEnvironment(env string) Option {
	return optionFunc(func(c *config) error {
		c.environment = env
		return nil
	})
}

// WithoutProcessCollector leaves out the process collector (process_* series), for a registry
// that already has one. It reads several files under /proc per scrape and is the larger part of
// a scrape's cost.
func WithoutProcessCollector() Option {
	return optionFunc(func(c *config) error {
		c.noProcess = true
		return nil
	})
}

// WithPauseHistograms adds the runtime's stop-the-world pause histograms, split into GC and
// other pauses and into the time spent stopping and the total pause time
// (go_sched_pauses_total_gc_seconds, go_sched_pauses_total_other_seconds,
// go_sched_pauses_stopping_gc_seconds, go_sched_pauses_stopping_other_seconds).
func WithPauseHistograms() Option {
	return WithRuntimeMetrics(
		"/sched/pauses/total/gc:seconds",
		"/sched/pauses/total/other:seconds",
		"/sched/pauses/stopping/gc:seconds",
		"/sched/pauses/stopping/other:seconds",
	)
}

// WithAllocSizeHistograms adds the histograms of heap allocations and frees by object size
// (go_gc_heap_allocs_by_size_bytes, go_gc_heap_frees_by_size_bytes).
func WithAllocSizeHistograms() Option {
	return WithRuntimeMetrics("/gc/heap/allocs-by-size:bytes", "/gc/heap/frees-by-size:bytes")
}

// WithRuntimeMetrics adds runtime/metrics metrics by their full name, such as
// "/sched/goroutines/runnable:goroutines". A name the running Go version does not know is an error
// of Register. The Prometheus name is derived as client_golang does: "/gc/heap/frees:bytes"
// becomes go_gc_heap_frees_bytes_total.
func WithRuntimeMetrics(names ...string) Option {
	return optionFunc(func(c *config) error {
		for _, n := range names {
			if !knownRuntimeMetric(n) {
				return fmt.Errorf("runtimemetrics: WithRuntimeMetrics: %q is not a runtime/metrics name of this Go version", n)
			}
			c.extra = append(c.extra, n)
		}
		return nil
	})
}

func knownRuntimeMetric(name string) bool {
	if !strings.HasPrefix(name, "/") || !strings.Contains(name, ":") {
		return false
	}
	for _, d := range metrics.All() {
		if d.Name == name {
			return true
		}
	}
	return false
}

func newConfig(opts []Option) (*config, error) {
	c := &config{}
	for i, o := range opts {
		if o == nil {
			return nil, fmt.Errorf("runtimemetrics: option %d is nil", i)
		}
		if err := o.apply(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}
