// Package benchprog is a tiny benchmark program whose cost is set by two constants, so that
// perfgate's tests and testdata/gen.sh can plant a slowdown or an extra allocation.
package benchprog

// Work is the number of multiply-add steps per operation of BenchmarkWork; Allocs is the
// number of heap allocations per operation of BenchmarkAlloc. The base version is 1000 and 1.
const (
	Work   = 1000
	Allocs = 1
)
