// Package perfgate decides whether a change made Go benchmarks slower, with the statistics
// benchstat uses (golang.org/x/perf: medians with confidence intervals and the Mann-Whitney U
// test), so that a CI job can fail on a real regression and stay quiet on noise.
//
// The pipeline is: read benchmark output (Parse, ParseFile, or RunHeadToHead, which builds the
// test binaries of a git revision and of the working tree and runs them interleaved, or
// RunBinaries on two prebuilt binaries), compare the two sides under a Config (Compare), then
// print the Report as a table, markdown or JSON.
//
// A result fails only when the regression is both significant (p below Config.Alpha) and larger
// than the benchmark's threshold; between the warn level and the threshold it warns. Units that
// do not drift with machine noise (allocs/op and B/op by default) are compared exactly: one more
// allocation fails. A result the statistics cannot decide (too few samples) is INCONCLUSIVE,
// never a pass, unless Config.AcceptInconclusive. Regressions a team has accepted are listed,
// with a reason, in the config.
//
// Instructions measures instructions per operation under valgrind's callgrind instead of time,
// so that the load of a shared runner does not move the result. Record and ReadHistory keep a
// history of runs in Go benchmark format with commit configuration lines; AnalyzeHistory finds
// its change points (steps and gradual drifts) with benchseries' bootstrap intervals.
// Calibrate measures the noise of A/A runs and sets thresholds at twice the spread.
//
// The package is a tool: the SDK packages of this module never import it, so its dependencies
// stay out of services that only use the SDK.
package perfgate
