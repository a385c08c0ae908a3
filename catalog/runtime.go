package catalog

// Go runtime metrics that runtimemetrics.Register exports by default, read with runtime/metrics
// (never runtime.ReadMemStats). The names are client_golang's derivation of the runtime/metrics
// names: "/sched/latencies:seconds" becomes go_sched_latencies_seconds, a cumulative metric gains
// _total.
const (
	GoGoroutines        = "go_goroutines"                    // gauge
	GoThreads           = "go_threads"                       // gauge: threads ever created (runtime.ThreadCreateProfile)
	GoInfo              = "go_info"                          // gauge, label version
	GoGCDuration        = "go_gc_duration_seconds"           // summary of stop-the-world GC pause durations
	GoLastGCTime        = "go_memstats_last_gc_time_seconds" // gauge, Unix seconds (from debug.ReadGCStats)
	GoSchedLatencies    = "go_sched_latencies_seconds"       // histogram: time goroutines waited runnable
	GoSchedGoMaxProcs   = "go_sched_gomaxprocs_threads"      // gauge: GOMAXPROCS
	GoSchedThreads      = "go_sched_threads_total_threads"   // gauge: live OS threads
	GoGoroutinesCreated = "go_sched_goroutines_created_goroutines_total"
	GoGCGOGC            = "go_gc_gogc_percent"                 // gauge: GOGC
	GoGCMemLimit        = "go_gc_gomemlimit_bytes"             // gauge: GOMEMLIMIT (math.MaxInt64 when unset)
	GoGCCycles          = "go_gc_cycles_total_gc_cycles_total" // counter
	GoGCHeapGoal        = "go_gc_heap_goal_bytes"              // gauge
	GoGCHeapLive        = "go_gc_heap_live_bytes"              // gauge: heap marked live by the last GC
	GoGCHeapObjects     = "go_gc_heap_objects_objects"         // gauge
	GoGCHeapAllocBytes  = "go_gc_heap_allocs_bytes_total"      // counter
	GoGCHeapAllocObjs   = "go_gc_heap_allocs_objects_total"    // counter

	// CPU classes: GC CPU share = rate(GoCPUGCTotal) / rate(GoCPUTotal).
	GoCPUGCTotal    = "go_cpu_classes_gc_total_cpu_seconds_total"
	GoCPUGCAssist   = "go_cpu_classes_gc_mark_assist_cpu_seconds_total"
	GoCPUIdle       = "go_cpu_classes_idle_cpu_seconds_total"
	GoCPUUser       = "go_cpu_classes_user_cpu_seconds_total"
	GoCPUTotal      = "go_cpu_classes_total_cpu_seconds_total"
	GoMutexWaitTime = "go_sync_mutex_wait_total_seconds_total"

	// Memory classes: GoMemoryTotal is all memory the runtime mapped; GoMemoryHeapObjects the live
	// and not-yet-swept heap objects.
	GoMemoryHeapObjects    = "go_memory_classes_heap_objects_bytes"
	GoMemoryHeapFree       = "go_memory_classes_heap_free_bytes"
	GoMemoryHeapReleased   = "go_memory_classes_heap_released_bytes"
	GoMemoryHeapStacks     = "go_memory_classes_heap_stacks_bytes"
	GoMemoryHeapUnused     = "go_memory_classes_heap_unused_bytes"
	GoMemoryMCacheFree     = "go_memory_classes_metadata_mcache_free_bytes"
	GoMemoryMCacheInuse    = "go_memory_classes_metadata_mcache_inuse_bytes"
	GoMemoryMSpanFree      = "go_memory_classes_metadata_mspan_free_bytes"
	GoMemoryMSpanInuse     = "go_memory_classes_metadata_mspan_inuse_bytes"
	GoMemoryMetadataOther  = "go_memory_classes_metadata_other_bytes"
	GoMemoryOSStacks       = "go_memory_classes_os_stacks_bytes"
	GoMemoryOther          = "go_memory_classes_other_bytes"
	GoMemoryProfileBuckets = "go_memory_classes_profiling_buckets_bytes"
	GoMemoryTotal          = "go_memory_classes_total_bytes"
)

// Process metrics (client_golang's process collector; Linux names).
const (
	ProcessCPUSeconds      = "process_cpu_seconds_total"
	ProcessOpenFDs         = "process_open_fds"
	ProcessMaxFDs          = "process_max_fds"
	ProcessResidentMemory  = "process_resident_memory_bytes"
	ProcessVirtualMemory   = "process_virtual_memory_bytes"
	ProcessVirtualMemMax   = "process_virtual_memory_max_bytes"
	ProcessStartTime       = "process_start_time_seconds"
	ProcessNetworkReceive  = "process_network_receive_bytes_total"
	ProcessNetworkTransmit = "process_network_transmit_bytes_total"
)

// TargetInfo is a gauge of value 1 describing the process, labelled with TargetInfoLabels.
const TargetInfo = "target_info"

// Labels of TargetInfo (OpenTelemetry resource attributes in Prometheus form where one exists).
const (
	LabelServiceName    = "service_name"
	LabelServiceVersion = "service_version"
	LabelEnvironment    = "deployment_environment_name"
	LabelRuntimeVersion = "process_runtime_version" // the Go version, e.g. go1.26.0
	LabelModulePath     = "go_module_path"          // main module path from debug.ReadBuildInfo
	LabelModuleVersion  = "go_module_version"       // main module version; (devel) for local builds
)

// TargetInfoLabels returns the label names of TargetInfo in exposition order.
func TargetInfoLabels() []string {
	return []string{LabelServiceName, LabelServiceVersion, LabelEnvironment,
		LabelRuntimeVersion, LabelModulePath, LabelModuleVersion}
}

// RuntimeMetricNames returns every metric family name runtimemetrics.Register exports with its
// default options on Linux, sorted.
func RuntimeMetricNames() []string {
	return []string{
		GoCPUGCAssist, GoCPUGCTotal, GoCPUIdle, GoCPUTotal, GoCPUUser,
		GoGCCycles, GoGCDuration, GoGCGOGC, GoGCMemLimit, GoGCHeapAllocBytes, GoGCHeapAllocObjs,
		GoGCHeapGoal, GoGCHeapLive, GoGCHeapObjects, GoGoroutines, GoInfo,
		GoMemoryHeapFree, GoMemoryHeapObjects, GoMemoryHeapReleased, GoMemoryHeapStacks, GoMemoryHeapUnused,
		GoMemoryMCacheFree, GoMemoryMCacheInuse, GoMemoryMSpanFree, GoMemoryMSpanInuse, GoMemoryMetadataOther,
		GoMemoryOSStacks, GoMemoryOther, GoMemoryProfileBuckets, GoMemoryTotal,
		GoLastGCTime, GoGoroutinesCreated, GoSchedGoMaxProcs, GoSchedLatencies, GoSchedThreads,
		GoMutexWaitTime, GoThreads,
		ProcessCPUSeconds, ProcessMaxFDs, ProcessNetworkReceive, ProcessNetworkTransmit, ProcessOpenFDs,
		ProcessResidentMemory, ProcessStartTime, ProcessVirtualMemory, ProcessVirtualMemMax,
		TargetInfo,
	}
}
