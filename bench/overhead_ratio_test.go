package bench

import (
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"testing"
	"time"
)

// overheadRound is how many requests each stack serves per round of BenchmarkHTTPOverheadRatio.
const overheadRound = 20_000

// BenchmarkHTTPOverheadRatio measures perfobs's HTTP overhead as a fraction of the promhttp
// chain's, in one run: each iteration is a round that serves overheadRound requests through
// Bare, Perfobs and Promhttp in turn (the order rotating), so that drift in machine load hits the
// three alike, and a collection before each stack's turn leaves it only its own garbage to collect.
// It reports the medians over the rounds: each stack's overhead over Bare
// (perfobs-ns, promhttp-ns) and their ratio, the ratio from process CPU time (cpu-ratio), and
// perfobs's allocations per request above Bare.
// The ns/op it prints is the time of a whole round and means nothing on its own.
//
//	go test -run '^$' -bench HTTPOverheadRatio -benchtime 40x ./bench
func BenchmarkHTTPOverheadRatio(b *testing.B) {
	var bare, perfobs, promhttp http.Handler
	for _, s := range stacks() {
		switch s.name {
		case "Bare":
			bare = s.h
		case "Perfobs":
			perfobs = s.h
		case "Promhttp":
			promhttp = s.h
		}
	}
	handlers := []http.Handler{bare, perfobs, promhttp}
	req := httptest.NewRequest("GET", "/users/42", nil)
	w := &discardWriter{h: http.Header{}}
	for _, h := range handlers {
		h.ServeHTTP(w, req) // create the series before measuring
	}
	perOp := make([][]float64, len(handlers))    // wall time per request
	cpuPerOp := make([][]float64, len(handlers)) // process CPU time per request
	round := 0
	for b.Loop() {
		for k := range handlers {
			i := (k + round) % len(handlers)
			runtime.GC() // each stack pays for its own garbage, as in separate benchmarks
			start, cpu := time.Now(), processCPU()
			for range overheadRound {
				handlers[i].ServeHTTP(w, req)
			}
			perOp[i] = append(perOp[i], float64(time.Since(start).Nanoseconds())/overheadRound)
			cpuPerOp[i] = append(cpuPerOp[i], float64((processCPU()-cpu).Nanoseconds())/overheadRound)
		}
		round++
	}
	med := func(x []float64) float64 {
		x = slices.Clone(x)
		slices.Sort(x)
		if len(x)%2 == 1 {
			return x[len(x)/2]
		}
		return (x[len(x)/2-1] + x[len(x)/2]) / 2
	}
	ours, theirs := med(perOp[1])-med(perOp[0]), med(perOp[2])-med(perOp[0])
	b.ReportMetric(ours, "perfobs-ns")
	b.ReportMetric(theirs, "promhttp-ns")
	if theirs > 0 {
		b.ReportMetric(ours/theirs, "ratio")
	}
	// The same from CPU time, which a busy machine's descheduling does not inflate.
	if cOurs, cTheirs := med(cpuPerOp[1])-med(cpuPerOp[0]), med(cpuPerOp[2])-med(cpuPerOp[0]); cTheirs > 0 {
		b.ReportMetric(cOurs/cTheirs, "cpu-ratio")
	}
	allocs := testing.AllocsPerRun(1000, func() { perfobs.ServeHTTP(w, req) }) -
		testing.AllocsPerRun(1000, func() { bare.ServeHTTP(w, req) })
	b.ReportMetric(allocs, "perfobs-allocs")
}
