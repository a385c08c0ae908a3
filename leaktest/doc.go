// Package leaktest checks tests for leaked goroutines, on go.uber.org/goleak, with defaults that know this SDK's
// goroutines and those of common libraries, and reports a person can act on.
//
// # Two checks
//
// Check every package once, after all of its tests, from TestMain:
//
//	func TestMain(m *testing.M) { leaktest.VerifyTestMain(m) }
//
// and, to learn which test leaked, each test from its first line:
//
//	func TestFetch(t *testing.T) {
//		leaktest.Check(t)
//		...
//	}
//
// Check looks when the test ends, after the test's own cleanups. It ignores the goroutines that already existed
// when it was called, so a test is only blamed for goroutines it could have started.
//
// # What a check tolerates, and what it does not
//
// A check waits for goroutines that are ending (a server's connections after Close, a worker draining its
// queue): it looks again until nothing is left or WithTimeout (default DefaultTimeout) has passed. Only a
// failing check waits that long.
//
// Idle HTTP keep-alive connections are not leaks of the test: all the while it looks, the check keeps closing
// the idle connections of http.DefaultTransport and of every transport or client given to CloseIdleConnections,
// so a connection that becomes idle a moment late is closed too. The connection goroutines themselves
// (net/http.(*persistConn).readLoop and writeLoop) are never ignored, so a connection whose response body was
// never closed, which is not idle and cannot be closed this way, is reported: the classic leak stays caught.
//
// By default a check ignores goroutines that live as long as the process and that no test can stop, each
// justified where it is declared: OpenCensusWorker, GlogFlushDaemon and GlogFlushDaemonV1. Suites that keep an
// OpenTelemetry SDK provider or a Pyroscope profiler alive across tests on purpose opt in with OpenTelemetrySDK
// or Pyroscope. IgnoreTopFunction and IgnoreAnyFunction ignore more; Goleak passes goleak's own options through.
//
// # The report
//
// A failing check names the test (or, in TestMain, the test binary), counts the goroutines left, and groups
// goroutines that share a stack and a creator, biggest group first. For each group it prints how many goroutines
// and their ids, their state, the function and line that created them ("created by", and in which goroutine),
// and their stack, top first. In TestMain it also names the test each group was started during, for tests that
// call Check. Run with GODEBUG=tracebackancestors=10 to also see the stack of the code that started each
// goroutine.
//
// # Parallel tests
//
// With t.Parallel, several tests run at once and their goroutines mix. What to check where:
//
//   - Per test, Check(t): it blames the test only for goroutines started after Check was called that are not
//     labelled as another test's. Check labels the test's goroutine with the pprof label LabelKey set to
//     t.Name(); every goroutine the test starts, directly or through goroutines it started, inherits the label,
//     even when the goroutine in between has ended. A neighbour's goroutines, when that neighbour called Check,
//     carry its name and are left to its own check. Subtests' goroutines count as their parent's too.
//   - In TestMain only, VerifyTestMain: everything, once all tests are done. This is the check that cannot be
//     fooled, because nothing runs beside it.
//
// The limits, honestly: a neighbour that does not call Check starts unlabelled goroutines, and those are blamed
// on any test checking at the time, because they cannot be told apart from its own. Code that replaces the
// goroutine's labels (pprof.SetGoroutineLabels, or pprof.Do with a context that lacks the test's label) starts
// unlabelled goroutines too, which are then blamed rather than hidden. Goroutines started lazily, once per
// process, by whichever test uses a library first (a library's background worker) are blamed on that test.
// Reading labels needs GODEBUG=tracebacklabels=1, which VerifyTestMain turns on before the tests run; without it
// (no VerifyTestMain, or GODEBUG sets tracebacklabels=0) Check still ignores what existed at its start but
// cannot tell a neighbour's new goroutines from the test's. When a parallel suite cannot call Check everywhere,
// check per test only in the tests that do not run in parallel, and rely on VerifyTestMain for the rest.
//
// # Cost
//
// A check that passes costs one dump of all goroutine stacks (runtime.Stack, which stops the world for a moment)
// and returns at once (about 0.5 ms for BenchmarkFindClean). While other tests' goroutines are alive, a passing
// check first waits out goleak's own retries (about 0.4 s) before it sets them aside. A check that fails retries
// for at least WithTimeout before it reports. Check also sets a
// pprof label on the test's goroutine, which shows in profiles taken during the test.
package leaktest
