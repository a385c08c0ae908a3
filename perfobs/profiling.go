package perfobs

import (
	"log/slog"
	"time"

	"github.com/perfobs/perfobs-go/perfobs/internal/profiling"
)

// ProfilingConfig configures continuous profiling with Pyroscope (github.com/grafana/pyroscope-go).
// Profiling runs when ServerAddress or PYROSCOPE_SERVER_ADDRESS is set and Disabled is false. The
// zero value, with no environment, profiles nothing.
//
// The application name is the service name; the version and environment become the tags
// "version" and "environment". By default CPU, heap (alloc_objects, alloc_space, inuse_objects,
// inuse_space) and goroutine profiles are uploaded every UploadRate; mutex and block profiles are
// added when their rates are set.
//
// What it costs, and what it never does:
//   - CPU profiling samples at 100 Hz (pprof's default); heap profiles come from the runtime's
//     sampling of allocations (runtime.MemProfileRate) at no extra cost.
//   - No forced GC: pyroscope-go's own session forces a runtime.GC before a heap upload when no GC
//     ran in the interval and reads runtime.MemStats (a stop-the-world) once per upload tick to
//     find out. perfobs drives the heap, mutex and block profiles itself with pyroscope-go's
//     godeltaprof, reads the GC count from runtime/metrics instead of MemStats, and forces no GC
//     unless ForceGC is set. Only Shutdown runs one GC, when none ran since the last heap upload,
//     so that the last interval's allocations are in the final heap profile.
//   - The goroutine profile stops the world briefly once per upload tick (as every goroutine
//     profile does); DisableGoroutines turns it off.
//   - A Pyroscope server that is down, slow or answering errors never blocks the service: uploads
//     run on two background goroutines with UploadTimeout each, from a queue of bounded length;
//     a profile that finds the queue full is dropped. Errors reach the logger at most once per
//     minute, with the count of errors not logged. Every profile not uploaded (queue full, upload
//     failed, or still queued when Shutdown's context ends) is counted by reason in
//     perfobs_profiling_dropped_total, which the Observer serves.
//
// CPU profiling is process-wide: run one profiling Observer per process. While it runs,
// runtime/pprof.StartCPUProfile elsewhere in the process fails (and so does net/http/pprof's
// /debug/pprof/profile); Observer.PprofHandler's /debug/pprof/profile cooperates with it instead.
type ProfilingConfig struct {
	// Disabled turns profiling off even when PYROSCOPE_SERVER_ADDRESS is set.
	Disabled bool
	// ServerAddress is the base URL of Pyroscope's ingest API, such as "http://pyroscope:4040".
	// Empty: PYROSCOPE_SERVER_ADDRESS.
	ServerAddress string
	// BasicAuthUser and BasicAuthPassword authenticate uploads with HTTP basic auth when both are
	// set. Empty: PYROSCOPE_BASIC_AUTH_USER and PYROSCOPE_BASIC_AUTH_PASSWORD.
	BasicAuthUser     string
	BasicAuthPassword string
	// TenantID is sent as X-Scope-OrgID for multi-tenant Pyroscope. Empty: PYROSCOPE_TENANT_ID.
	TenantID string
	// Tags are added to every profile, after version and environment (a tag here wins). Names
	// may hold ASCII letters, digits, '_' and '.'; values may not hold '{', '}', ',' or '='.
	Tags map[string]string
	// UploadRate is how often profiles are uploaded. Zero: 15 s.
	UploadRate time.Duration
	// UploadTimeout bounds one upload, connection included. Zero: 10 s.
	UploadTimeout time.Duration
	// DisableCPU, DisableHeap and DisableGoroutines turn off one profile type each.
	DisableCPU        bool
	DisableHeap       bool
	DisableGoroutines bool
	// MutexProfileFraction, when positive, turns on mutex profiling: on average 1 in
	// MutexProfileFraction contention events is sampled (runtime.SetMutexProfileFraction). The
	// setting is process-wide; Shutdown restores the previous fraction.
	MutexProfileFraction int
	// BlockProfileRate, when positive, turns on block profiling: on average one blocking event per
	// BlockProfileRate nanoseconds spent blocked is sampled (runtime.SetBlockProfileRate). The
	// setting is process-wide; Shutdown sets it back to 0.
	BlockProfileRate int
	// ForceGC restores pyroscope-go's forced GC: before a heap upload, when no GC ran during the
	// interval, run one so that the heap profile is fresh. Off by default: it costs a GC per
	// interval on idle services (pyroscope-go's DisableGCRuns).
	ForceGC bool
}

// startProfiling starts the Pyroscope client of package internal/profiling, or returns nil when
// profiling is not configured.
func startProfiling(rc *resolved, logger *slog.Logger) (*profiling.Profiler, error) {
	return profiling.Start(profiling.Config(rc.Profiling), profiling.App{Service: rc.Service,
		Version: rc.Version, Environment: rc.Environment}, rc.LookupEnv, logger)
}
