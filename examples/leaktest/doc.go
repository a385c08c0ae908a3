// Package leakexample (directory examples/leaktest) shows the leaktest package at work on a classic leak: a
// function that asks several backends at once and returns the first answer, in a leaky and a fixed version.
//
// FirstLeaky sends answers on an unbuffered channel and stops reading after the first, so the goroutines of
// the slower backends wait forever. Its tests show both checks: TestMain runs leaktest.VerifyTestMain, which
// fails the test binary when anything is left after all tests, and TestFirst calls leaktest.Check(t), which
// names the test that leaked. Were TestFirst to call FirstLeaky instead of First, it would fail with:
//
//	--- FAIL: TestFirst/one_fast,_three_slow (2.45s)
//	    first_test.go:55: leaktest: TestFirst/one_fast,_three_slow: 3 goroutines leaked (1 distinct stack)
//
//	        3 goroutines [select] (ids 24, 25, 26)
//	          created by github.com/perfobs/perfobs-go/examples/leaktest.FirstLeaky in goroutine 18
//	              /work/main/examples/leaktest/first.go:24
//	          stack, top first:
//	            github.com/perfobs/perfobs-go/examples/leaktest.FirstLeaky.func1
//	                /work/main/examples/leaktest/first.go:26
//
//	        Run with GODEBUG=tracebackancestors=10 to see the stack that started each goroutine.
//
// First fixes it twice over: the channel has room for every answer, and the requests still running are cancelled
// when it returns. TestFirstLeakyLeaks runs the leaky version under leaktest.Find to assert on that report.
package leakexample
