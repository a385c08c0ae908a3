// Package flightrec holds the end-to-end tests of the flight recorder, and only tests: a real
// HTTP server instrumented by perfobs with Config.FlightRecorder, handlers slow for a known
// reason, and the snapshots read back through DebugHandler and summarized by
// perfobs/tracesummary for the request's own trace id.
//
//   - reasons: a held mutex, a channel wait, a CPU loop, a sleep, a network read and a blocking
//     system call each give a snapshot whose summary names that reason, and whose server span
//     carries the snapshot's id;
//   - caps: 1,000 slow requests on 20 routes take at most one snapshot per route per cooldown,
//     keep at most Keep, and count every other slow request as skipped;
//   - one recorder per process: Start beside the service's own trace.Start works, and Shutdown
//     stops the recorder, leaving no goroutine (TestMain's leak check).
package flightrec
