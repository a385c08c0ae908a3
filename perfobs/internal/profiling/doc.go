// Package profiling is the facade's Pyroscope client: it resolves the profiling configuration,
// names the profiles, drives the CPU session and the delta heap, mutex, block and goroutine
// profiles, and uploads them from a bounded queue without ever blocking the service.
//
// One file per job: config.go (settings and the PYROSCOPE_* variables), session.go (start and
// shutdown), naming.go (Pyroscope application names and tags), loop.go (the periodic
// delta-profile snapshots), uploader.go (the queue and its workers), transport.go (the HTTP
// client and the ingest request) and log.go (the rate-limited logger). perfobs.ProfilingConfig
// documents the behaviour users see.
package profiling
