package benchprog

import "testing"

var (
	sinkU uint64
	sinkP *[64]byte
)

// BenchmarkWork costs Work dependent multiply-adds per operation and never allocates.
func BenchmarkWork(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		x := uint64(1)
		for range Work {
			x = x*6364136223846793005 + 1442695040888963407
		}
		sinkU = x
	}
}

// BenchmarkAlloc makes Allocs heap allocations of 64 bytes per operation.
func BenchmarkAlloc(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		for range Allocs {
			sinkP = new([64]byte)
		}
	}
}
