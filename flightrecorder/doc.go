// Package flightrecorder keeps the last seconds of the Go execution trace in memory
// (runtime/trace.FlightRecorder) and writes a snapshot when a request breaks its latency budget,
// so that the trace of the slow moment exists when someone looks for it.
//
// A Recorder holds per-route budgets (one default, overrides per HTTP route or gRPC method). The
// middleware (middleware.WithFlightRecorder, which grpcmw takes too) runs each request in a
// runtime/trace task named by its route, logs the request's trace id in that task, and calls
// Observe when the request ends. A request over its budget makes the Recorder take a snapshot in
// the background: the request never waits for it. At most one snapshot is taken per route per
// cooldown (one minute by default), triggers that arrive while a snapshot is pending join it, and
// only the last Keep snapshots are kept within a memory cap (or, with Dir, a disk cap).
// perfobs_flightrecorder_snapshots_total counts the snapshots taken and
// perfobs_flightrecorder_skipped_total the triggers skipped, by reason (cooldown, busy, cap,
// error).
//
// One flight recorder per process: the Go runtime allows only one active
// runtime/trace.FlightRecorder, so New fails with ErrActive when the service already runs one.
// A service that calls runtime/trace.Start itself is fine: flight recording and trace.Start
// coexist, each receiving the whole trace.
//
// Cost: while a Recorder runs, the runtime's execution tracer is on (the Go team measures 1-2%
// of CPU since Go 1.21), and each request pays one task and one or two log events. Without a
// Recorder the middleware pays nothing.
package flightrecorder
