package runtimemetrics

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// defaultRuntimeMetrics are the runtime/metrics names of the default set. Each one is exported under
// the name client_golang derives from it; catalog/runtime.go lists those names.
var defaultRuntimeMetrics = []string{
	// Scheduler.
	"/sched/latencies:seconds",
	"/sched/gomaxprocs:threads",
	"/sched/threads/total:threads",
	"/sched/goroutines-created:goroutines",
	// GC settings and cycles.
	"/gc/gogc:percent",
	"/gc/gomemlimit:bytes",
	"/gc/cycles/total:gc-cycles",
	"/gc/heap/goal:bytes",
	"/gc/heap/live:bytes",
	"/gc/heap/objects:objects",
	"/gc/heap/allocs:bytes",
	"/gc/heap/allocs:objects",
	// CPU: GC share is gc/total over total; idle and user complete the picture.
	"/cpu/classes/gc/total:cpu-seconds",
	"/cpu/classes/gc/mark/assist:cpu-seconds",
	"/cpu/classes/idle:cpu-seconds",
	"/cpu/classes/user:cpu-seconds",
	"/cpu/classes/total:cpu-seconds",
	// Memory classes: everything the runtime mapped, by use.
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/free:bytes",
	"/memory/classes/heap/released:bytes",
	"/memory/classes/heap/stacks:bytes",
	"/memory/classes/heap/unused:bytes",
	"/memory/classes/metadata/mcache/free:bytes",
	"/memory/classes/metadata/mcache/inuse:bytes",
	"/memory/classes/metadata/mspan/free:bytes",
	"/memory/classes/metadata/mspan/inuse:bytes",
	"/memory/classes/metadata/other:bytes",
	"/memory/classes/os-stacks:bytes",
	"/memory/classes/other:bytes",
	"/memory/classes/profiling/buckets:bytes",
	"/memory/classes/total:bytes",
	// Locks.
	"/sync/mutex/wait/total:seconds",
}

// Register registers the Go runtime collector, the process collector and target_info on reg.
// Calling it again with the same options on the same registerer is not an error: the collectors
// already there are reused. Calling it again with other options (a different service name, more
// histograms) is an error that names the conflict.
func Register(reg prometheus.Registerer, opts ...Option) error {
	if reg == nil {
		return errors.New("runtimemetrics: Register: registerer is nil")
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return err
	}
	if err := registerOrReuse(reg, "Go collector", newGoCollector(cfg.extra)); err != nil {
		return err
	}
	if !cfg.noProcess {
		proc := collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})
		if err := registerOrReuse(reg, "process collector", proc); err != nil {
			return err
		}
	}
	info := newTargetInfo(cfg)
	if err := reg.Register(info); err != nil {
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) {
			return fmt.Errorf("runtimemetrics: register target_info: %w", err)
		}
		if old, ok := are.ExistingCollector.(*targetInfo); ok && !slices.Equal(old.values, info.values) {
			return fmt.Errorf("runtimemetrics: target_info already registered with labels %s, cannot change them to %s",
				old.describe(), info.describe())
		}
	}
	return nil
}

// newGoCollector returns client_golang's Go collector restricted to runtime/metrics: its
// MemStats-like series are off, and the runtime/metrics rule matches exactly the default names plus
// extra. With the MemStats-like series off, it reads runtime/metrics.Read, debug.ReadGCStats,
// runtime.NumGoroutine and runtime.ThreadCreateProfile, none of which stops the world
// (client_golang v1.25.0, prometheus/go_collector.go and go_collector_latest.go).
func newGoCollector(extra []string) prometheus.Collector {
	names := append(slices.Clone(defaultRuntimeMetrics), extra...)
	slices.Sort(names)
	names = slices.Compact(names)
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = regexp.QuoteMeta(n)
	}
	only := regexp.MustCompile("^(?:" + strings.Join(quoted, "|") + ")$")
	return collectors.NewGoCollector(
		collectors.WithGoCollectorMemStatsMetricsDisabled(),
		// client_golang always prepends its own default rule (GOGC, GOMEMLIMIT, GOMAXPROCS), all of
		// which are in our default set as well.
		collectors.WithGoCollectorRuntimeMetrics(collectors.GoRuntimeMetricsRule{Matcher: only}),
	)
}

func registerOrReuse(reg prometheus.Registerer, what string, c prometheus.Collector) error {
	err := reg.Register(c)
	if err == nil {
		return nil
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		return nil
	}
	return fmt.Errorf("runtimemetrics: register %s: %w", what, err)
}
