// Package leaktest checks tests for leaked goroutines, on go.uber.org/goleak, with defaults that know this SDK's
// goroutines and those of common libraries, and reports a person can act on.
//
// Check every package once, after all of its tests, and, to learn which test leaked, each test:
//
//	func TestMain(m *testing.M) { leaktest.VerifyTestMain(m) }
//
//	func TestFetch(t *testing.T) {
//		leaktest.Check(t) // looks when the test ends, after its cleanups
//		...
//	}
//
// A check waits for goroutines that are ending (WithTimeout), keeps closing idle HTTP keep-alive
// connections while it looks (CloseIdleConnections), yet still reports a connection whose response body was
// never closed. Process-lifetime daemons of common libraries are ignored by default; OpenTelemetrySDK and
// Pyroscope opt in to ignoring those clients' workers. Parallel tests are told apart by a pprof label that
// Check sets on the test's goroutine. The report groups leaked goroutines by stack and creator.
//
// docs/leaktest.md in the repository covers what a check tolerates, the report, parallel tests and the cost.
package leaktest
