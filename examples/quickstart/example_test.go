package main

import "fmt"

// Example_quantile estimates p50 and p99 from bucket counts as PromQL's histogram_quantile does,
// which is how the quickstart's table is computed.
func Example_quantile() {
	h := hist{bounds: []float64{0.01, 0.1, 1}, counts: []uint64{50, 40, 10, 0}}
	fmt.Printf("p50=%.3fs p99=%.3fs\n", quantile(0.5, h), quantile(0.99, h))
	// Output: p50=0.010s p99=0.910s
}
