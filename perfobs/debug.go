package perfobs

import (
	"net/http"

	"github.com/perfobs/perfobs-go/perfobs/internal/status"
)

// DebugHandler serves, on one private handler, everything an operator asks a running process
// during an incident:
//
//	/debug/pprof/               Go's runtime profiles (as PprofHandler)
//	/debug/perfobs/             the status page: RED per HTTP route and gRPC method over the last
//	                            minute, 10 minutes, hour and since start; latency histograms with
//	                            exemplar trace ids; runtime; profiling; SLOs (Config.SLOs)
//	/debug/perfobs/api/         the JSON behind each panel: red, runtime, profiling, slo, traces
//	/debug/perfobs/api/traces   the flight-recorder snapshots, and their files under
//	                            /debug/perfobs/traces/
//
// The SDK never mounts it: serve it on a separate listener that only operators reach (localhost,
// an admin network, or behind an authenticating proxy), never on the service's public mux. The
// page reads the same histograms MetricsHandler serves; its windows come from snapshots of the
// registry taken every 10 s, only while someone looks (the sampler starts with the first request
// here and stops an hour after the last). Nothing is added to the request path. Every value on
// the page is escaped, and the page runs no script. Repeated calls return the same handler.
func (o *Observer) DebugHandler() http.Handler {
	o.debugOnce.Do(func() {
		src := status.Source{
			Gatherer: o.reg, Service: o.cfg.Service, Version: o.cfg.Version,
			Environment: o.cfg.Environment, Started: o.started,
			SLOs:   slosOf(o.cfg.SLOs),
			Traces: o.flightRecorderHandler(),
		}
		if o.profiler != nil {
			src.Profiling = o.profilingStatus
		}
		o.status = status.New(src)
		mux := http.NewServeMux()
		mux.Handle("/debug/pprof/", newPprofHandler())
		mux.Handle("/debug/perfobs/", o.status)
		o.debug = mux
	})
	return o.debug
}

// closeDebug stops the status page's sampler (Shutdown).
func (o *Observer) closeDebug() {
	o.debugOnce.Do(func() {}) // no DebugHandler after Shutdown begins
	if o.status != nil {
		o.status.Close()
	}
}

func (o *Observer) profilingStatus() status.Profiling {
	s := o.profiler.Status()
	p := status.Profiling{Enabled: true, Server: s.Server, Types: s.Types,
		UploadRateSeconds: s.UploadRate.Seconds(), Uploads: s.Uploads, LastError: s.LastError,
		Dropped: s.Dropped}
	if !s.LastUpload.IsZero() {
		p.LastUpload = &s.LastUpload
	}
	if !s.LastErrorAt.IsZero() {
		p.LastErrorAt = &s.LastErrorAt
	}
	return p
}
