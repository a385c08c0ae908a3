// Package leaktest checks tests for leaked goroutines with go.uber.org/goleak, using defaults that
// know this SDK's goroutines and those of common libraries.
package leaktest

import (
	"testing"

	"go.uber.org/goleak"
)

// Option configures a check. It is goleak's option type, so goleak.IgnoreTopFunction and friends work.
type Option = goleak.Option

// VerifyTestMain runs the tests of m and then fails the binary when goroutines are left.
func VerifyTestMain(m *testing.M, opts ...Option) {
	goleak.VerifyTestMain(m, opts...)
}

// Check, called at the top of a test, checks for leaked goroutines when the test ends.
func Check(t testing.TB, opts ...Option) {
	t.Helper()
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, append([]Option{ignore}, opts...)...) })
}
