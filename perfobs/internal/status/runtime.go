package status

import (
	"math"
	"runtime"
	"runtime/metrics"
	"time"
)

// Runtime is the body of /debug/perfobs/api/runtime, read from runtime/metrics (which does not
// stop the world, unlike runtime.ReadMemStats).
type Runtime struct {
	GoVersion  string `json:"go_version"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	Goroutines uint64 `json:"goroutines"`
	// HeapLiveBytes is the heap marked live by the last GC; MemoryLimitBytes is GOMEMLIMIT (null
	// when unlimited) and HeapOfLimitPct the one as a share of the other.
	HeapLiveBytes    uint64   `json:"heap_live_bytes"`
	TotalMemoryBytes uint64   `json:"total_memory_bytes"` // all memory the runtime mapped
	MemoryLimitBytes *uint64  `json:"memory_limit_bytes"`
	HeapOfLimitPct   *float64 `json:"heap_of_limit_pct"`
	// GCCPUPct is the share of the process's CPU time spent in the GC since start.
	GCCPUPct float64 `json:"gc_cpu_pct"`
	GCCycles uint64  `json:"gc_cycles"`
	// SchedLatencyP99Seconds is the 99th percentile of the time goroutines waited to run, since
	// start (the bucket's upper bound).
	SchedLatencyP99Seconds *float64 `json:"sched_latency_p99_seconds"`
	UptimeSeconds          float64  `json:"uptime_seconds"`
}

var runtimeSamples = []string{
	"/sched/goroutines:goroutines",
	"/gc/heap/live:bytes",
	"/memory/classes/total:bytes",
	"/gc/gomemlimit:bytes",
	"/cpu/classes/gc/total:cpu-seconds",
	"/cpu/classes/total:cpu-seconds",
	"/gc/cycles/total:gc-cycles",
	"/sched/latencies:seconds",
}

func readRuntime(started, now time.Time) Runtime {
	s := make([]metrics.Sample, len(runtimeSamples))
	for i, name := range runtimeSamples {
		s[i].Name = name
	}
	metrics.Read(s)
	u := func(i int) uint64 {
		if s[i].Value.Kind() == metrics.KindUint64 {
			return s[i].Value.Uint64()
		}
		return 0
	}
	f := func(i int) float64 {
		if s[i].Value.Kind() == metrics.KindFloat64 {
			return s[i].Value.Float64()
		}
		return 0
	}
	r := Runtime{GoVersion: runtime.Version(), GOMAXPROCS: runtime.GOMAXPROCS(0), Goroutines: u(0),
		HeapLiveBytes: u(1), TotalMemoryBytes: u(2), GCCycles: u(6), UptimeSeconds: now.Sub(started).Seconds()}
	if limit := u(3); limit > 0 && limit < math.MaxInt64 {
		r.MemoryLimitBytes = &limit
		pct := 100 * float64(r.HeapLiveBytes) / float64(limit)
		r.HeapOfLimitPct = &pct
	}
	if total := f(5); total > 0 {
		r.GCCPUPct = 100 * f(4) / total
	}
	if s[7].Value.Kind() == metrics.KindFloat64Histogram {
		if v, ok := histP99(s[7].Value.Float64Histogram()); ok {
			r.SchedLatencyP99Seconds = &v
		}
	}
	return r
}

// histP99 returns the upper bound of the bucket holding the 99th percentile (its lower bound
// when the upper one is +Inf).
func histP99(h *metrics.Float64Histogram) (float64, bool) {
	var total uint64
	for _, c := range h.Counts {
		total += c
	}
	if total == 0 {
		return 0, false
	}
	rank := uint64(math.Ceil(0.99 * float64(total)))
	var cum uint64
	for i, c := range h.Counts {
		cum += c
		if cum >= rank {
			if ub := h.Buckets[i+1]; !math.IsInf(ub, 1) {
				return ub, true
			}
			return h.Buckets[i], true
		}
	}
	return 0, false
}
