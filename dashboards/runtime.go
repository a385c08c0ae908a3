//lint:file-ignore SA1019 the v1 dashboard schema (dashboard.Dashboard) is what Grafana 10 and 11 import; dashboardv2 needs Grafana 12

package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/units"

	"github.com/perfobs/perfobs-go/catalog"
)

// RuntimeUID is the uid of the Go runtime dashboard.
const RuntimeUID = "perfobs-go-runtime"

// GC CPU share thresholds: yellow from 10 %, red from 25 %.
var gcCPUSteps = []step{{0.10, "yellow"}, {0.25, "red"}}

// Scheduler latency thresholds, in seconds.
var schedSteps = []step{{0.001, "yellow"}, {0.01, "red"}}

// memLimitSet keeps GOMEMLIMIT only where one is set: the runtime reports math.MaxInt64 bytes
// when there is none, which would flatten every memory graph.
const memLimitSet = " < 2^62"

// goRuntime builds the Go runtime dashboard: goroutines and scheduler latency, memory classes
// and heap against GOMEMLIMIT, GC cycles, pauses and CPU share, and the process's CPU, memory,
// threads and file descriptors. Every series it reads is in runtimemetrics' default set.
func goRuntime(opts ...Option) (dashboard.Dashboard, error) {
	if _, err := newConfig(opts); err != nil {
		return dashboard.Dashboard{}, err
	}
	bd := newBoard(RuntimeUID, "Go runtime",
		"Go runtime and process metrics of services instrumented with perfobs-go (runtime/metrics, no stop-the-world reads).",
		"go", "runtime")
	bd.b.WithVariable(datasourceVar())
	for _, v := range jobAndInstance(catalog.GoGoroutines) {
		bd.b.WithVariable(v)
	}

	t := targetMatchers()
	none := []string(nil)
	inst := []string{"instance"}
	m := func(metric string) string { return selector(metric, t...) }
	gcShare := "sum by (instance) (rate(" + m(catalog.GoCPUGCTotal) + "[" + rateInterval + "])) / sum by (instance) (rate(" +
		m(catalog.GoCPUTotal) + "[" + rateInterval + "]))"

	bd.row("Overview")
	bd.add(6, statHeight, statPanel("Goroutines", "Live goroutines, all selected instances.", units.Short,
		steps("green"), query{expr: sumBy(none, m(catalog.GoGoroutines))}))
	bd.add(6, statHeight, statPanel("Live heap", "Heap bytes marked live by the last GC, all selected instances.",
		units.BytesIEC, steps("green"), query{expr: sumBy(none, m(catalog.GoGCHeapLive))}))
	bd.add(6, statHeight, statPanel("GC CPU share", "Share of the Go runtime's CPU time spent in the garbage collector (highest instance).",
		units.PercentUnit, steps("green", gcCPUSteps...), query{expr: "max(" + gcShare + ")"}))
	bd.add(6, statHeight, statPanel("p99 scheduler latency", "99th percentile of the time runnable goroutines waited for a thread.",
		units.Seconds, steps("green", schedSteps...), query{expr: schedLat.quantile(0.99, none, t)}))

	bd.row("Goroutines and scheduler")
	bd.add(8, graphHeight, timeSeries("Goroutines", "Live goroutines per instance.", units.Short,
		query{expr: m(catalog.GoGoroutines), legend: legend("instance")}))
	bd.add(8, graphHeight, timeSeries("Goroutine creation rate", "Goroutines created per second.", units.OpsPerSecond,
		query{expr: rateOf(inst, catalog.GoGoroutinesCreated, t), legend: legend("instance")}))
	bd.add(8, graphHeight, withThresholdLines(timeSeries("Scheduler latency",
		"Time goroutines spent runnable before running (p50, p99), from /sched/latencies:seconds.", units.Seconds,
		query{expr: schedLat.quantile(0.5, inst, t), legend: "p50 " + legend("instance")},
		query{expr: schedLat.quantile(0.99, inst, t), legend: "p99 " + legend("instance")}),
		steps("green", schedSteps...)))
	bd.add(12, graphHeight, timeSeries("Threads", "Live OS threads, threads ever created and GOMAXPROCS.", units.Short,
		query{expr: m(catalog.GoSchedThreads), legend: "live threads " + legend("instance")},
		query{expr: m(catalog.GoThreads), legend: "threads created " + legend("instance")},
		query{expr: m(catalog.GoSchedGoMaxProcs), legend: "GOMAXPROCS " + legend("instance")}))
	bd.add(12, graphHeight, timeSeries("Mutex wait", "Time goroutines spent blocked on sync.Mutex and sync.RWMutex, per second.",
		units.Seconds, query{expr: rateOf(inst, catalog.GoMutexWaitTime, t), legend: legend("instance")}))

	bd.row("Memory")
	bd.add(12, graphHeight, timeSeries("Heap against GOMEMLIMIT",
		"Live heap, next GC's heap goal, all memory mapped by the runtime, and GOMEMLIMIT where one is set.", units.BytesIEC,
		query{expr: m(catalog.GoGCHeapLive), legend: "live heap " + legend("instance")},
		query{expr: m(catalog.GoGCHeapGoal), legend: "heap goal " + legend("instance")},
		query{expr: m(catalog.GoMemoryTotal), legend: "runtime total " + legend("instance")},
		query{expr: m(catalog.GoGCMemLimit) + memLimitSet, legend: "GOMEMLIMIT " + legend("instance")}))
	classes := []struct{ metric, name string }{
		{catalog.GoMemoryHeapObjects, "heap objects"},
		{catalog.GoMemoryHeapUnused, "heap unused"},
		{catalog.GoMemoryHeapFree, "heap free"},
		{catalog.GoMemoryHeapReleased, "heap released"},
		{catalog.GoMemoryHeapStacks, "goroutine stacks"},
		{catalog.GoMemoryOSStacks, "OS stacks"},
		{catalog.GoMemoryMSpanInuse, "mspan in use"},
		{catalog.GoMemoryMSpanFree, "mspan free"},
		{catalog.GoMemoryMCacheInuse, "mcache in use"},
		{catalog.GoMemoryMCacheFree, "mcache free"},
		{catalog.GoMemoryMetadataOther, "other metadata"},
		{catalog.GoMemoryProfileBuckets, "profiling buckets"},
		{catalog.GoMemoryOther, "other"},
	}
	var cq []query
	for _, c := range classes {
		cq = append(cq, query{expr: sumBy(none, m(c.metric)), legend: c.name})
	}
	bd.add(12, graphHeight, timeSeries("Memory classes",
		"Where the runtime's mapped memory goes (runtime/metrics /memory/classes), all selected instances; the classes add up to the runtime total.",
		units.BytesIEC, cq...).
		Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)).
		FillOpacity(40))
	bd.add(8, graphHeight, timeSeries("Allocation rate", "Heap bytes allocated per second.", units.BytesPerSecondSI,
		query{expr: rateOf(inst, catalog.GoGCHeapAllocBytes, t), legend: legend("instance")}))
	bd.add(8, graphHeight, timeSeries("Heap objects", "Live heap objects and objects allocated per second.", units.Short,
		query{expr: m(catalog.GoGCHeapObjects), legend: "live " + legend("instance")},
		query{expr: rateOf(inst, catalog.GoGCHeapAllocObjs, t), legend: "allocated/s " + legend("instance")}))
	bd.add(8, graphHeight, timeSeries("Resident memory", "Resident set size of the process, as the OS sees it.", units.BytesIEC,
		query{expr: m(catalog.ProcessResidentMemory), legend: legend("instance")}))

	bd.row("Garbage collector")
	bd.add(8, graphHeight, timeSeries("GC cycles", "Completed GC cycles per second.", units.OpsPerSecond,
		query{expr: rateOf(inst, catalog.GoGCCycles, t), legend: legend("instance")}))
	bd.add(8, graphHeight, timeSeries("GC pause", "Stop-the-world GC pause durations (quantiles over recent pauses).", units.Seconds,
		query{expr: selector(catalog.GoGCDuration, with(`quantile="0.5"`)...), legend: "p50 " + legend("instance")},
		// The largest quantile is the longest recent pause: OpenMetrics writes it as quantile="1.0",
		// the text format as "1", so take the max rather than name it.
		query{expr: "max by (instance) (" + m(catalog.GoGCDuration) + ")", legend: "max " + legend("instance")}))
	bd.add(8, graphHeight, withThresholdLines(timeSeries("GC CPU share",
		"GC CPU time (background, assist and idle marking) / all CPU time of the Go runtime, and the part spent in mark assists.",
		units.PercentUnit,
		query{expr: gcShare, legend: "GC " + legend("instance")},
		query{expr: "sum by (instance) (rate(" + m(catalog.GoCPUGCAssist) + "[" + rateInterval + "])) / sum by (instance) (rate(" +
			m(catalog.GoCPUTotal) + "[" + rateInterval + "]))", legend: "mark assist " + legend("instance")}).Min(0),
		steps("green", gcCPUSteps...)))

	bd.row("Process")
	bd.add(8, graphHeight, timeSeries("CPU usage", "CPU seconds used per second (1 = one core).", units.Short,
		query{expr: rateOf(inst, catalog.ProcessCPUSeconds, t), legend: legend("instance")}))
	bd.add(8, graphHeight, withThresholdLines(timeSeries("File descriptors in use",
		"Open file descriptors / the process's limit.", units.PercentUnit,
		query{expr: m(catalog.ProcessOpenFDs) + " / " + m(catalog.ProcessMaxFDs), legend: legend("instance")}).Min(0),
		steps("green", step{0.7, "yellow"}, step{0.9, "red"})))
	bd.add(8, graphHeight, timeSeries("Uptime", "Time since the process started.", units.Seconds,
		query{expr: "time() - " + m(catalog.ProcessStartTime), legend: legend("instance")}))

	return bd.build()
}
