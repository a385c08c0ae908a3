package recorder_test

import (
	"runtime"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/perfobs/perfobs-go/internal/recorder"
)

// shardedSeries is the recorder before lazy striping, kept only here for a same-run comparison:
// every series holds one line-aligned shard per processor from its creation, and an
// observation is two atomic adds on the caller's shard.
type shardedSeries struct {
	stride, shards int
	bounds         []int64
	cells          []atomic.Uint64
}

func newShardedSeries(bounds []float64) *shardedSeries {
	nb := len(bounds) + 1
	s := &shardedSeries{stride: (nb + 1 + 7) / 8 * 8, shards: recorder.Shards()}
	for _, b := range bounds {
		s.bounds = append(s.bounds, int64(b*1e9))
	}
	s.cells = make([]atomic.Uint64, s.stride*s.shards)
	return s
}

func (s *shardedSeries) observe(shard int, x int64) {
	base := (shard & (s.shards - 1)) * s.stride
	s.cells[base+s.bucket(x)].Add(1)
	s.cells[base+s.stride-1].Add(uint64(x))
}

// bucket is the old recorder's Bucket, which did not inline (its binary-search fallback made it
// too large): kept out of line here too, so that the comparison is with the code as it was.
//
//go:noinline
func (s *shardedSeries) bucket(x int64) int {
	if len(s.bounds) <= 16 {
		for i, ub := range s.bounds {
			if x <= ub {
				return i
			}
		}
		return len(s.bounds)
	}
	return sort.Search(len(s.bounds), func(i int) bool { return x <= s.bounds[i] })
}

// BenchmarkHotSeries observes one series from every P (run it with -cpu 1,2,4,...): Striped is
// the lazily striped recorder, which must grow to keep up; Sharded is the fully sharded one it
// replaced. Their ns/op at each -cpu is the scaling comparison of docs/recorder.md.
func BenchmarkHotSeries(b *testing.B) {
	b.Run("Striped", func(b *testing.B) {
		v, _ := recorder.NewHistogramVec[key]("b", "h", []string{"r"}, recorder.Shape{Bounds: bounds, Scale: 1e-9})
		h := v.GetOrCreate(key{"/r"}, func() []string { return []string{"/r"} })
		var picker recorder.ShardPicker
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			tok := picker.Get()
			defer picker.Put(tok)
			for i := int64(0); pb.Next(); i++ {
				v.Observe(h, tok.Shard, i%20_000_000)
			}
		})
		b.ReportMetric(float64(h.Stripes()), "stripes")
	})
	b.Run("Sharded", func(b *testing.B) {
		s := newShardedSeries(bounds)
		var picker recorder.ShardPicker
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			tok := picker.Get()
			defer picker.Put(tok)
			for i := int64(0); pb.Next(); i++ {
				s.observe(tok.Shard, i%20_000_000)
			}
		})
		b.ReportMetric(float64(s.shards), "stripes")
	})
}

// BenchmarkColdSeries observes 1,000 series in turn from one goroutine: the long tail, where
// the striped recorder keeps one stripe per series and the sharded one touched shard 0 of many.
func BenchmarkColdSeries(b *testing.B) {
	v, _ := recorder.NewHistogramVec[key]("b", "h", []string{"r"}, recorder.Shape{Bounds: bounds, Scale: 1e-9})
	hs := make([]*recorder.Histogram, 1000)
	for i := range hs {
		r := string(rune(0x4e00 + i))
		hs[i] = v.GetOrCreate(key{r}, func() []string { return []string{r} })
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		v.Observe(hs[i%len(hs)], 0, int64(i%20_000_000))
	}
}

// BenchmarkHotSeriesRatio is BenchmarkHotSeries as one interleaved run, for a noisy machine,
// at GOMAXPROCS 1, 2, 4, ... up to the core count (set here rather than by -cpu: the testing
// package runs the first -cpu value of a b.Loop benchmark with the previous GOMAXPROCS). Each
// iteration is a round in which GOMAXPROCS goroutines make hotRound observations each on one
// series, through the striped recorder and through the fully sharded copy, the order
// alternating. It reports the median time per observation of each (striped-ns, sharded-ns: wall
// time per goroutine) and their ratio; the striped series is warmed (grown) before the first
// round. ns/op is the time of a whole round.
//
//	go test -run '^$' -bench HotSeriesRatio -benchtime 40x ./internal/recorder
func BenchmarkHotSeriesRatio(b *testing.B) {
	for procs := 1; procs <= max(2, runtime.NumCPU()); procs *= 2 {
		b.Run("procs="+strconv.Itoa(procs), func(b *testing.B) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			hotSeriesRatio(b, procs)
		})
	}
}

func hotSeriesRatio(b *testing.B, procs int) {
	const hotRound = 200_000
	v, _ := recorder.NewHistogramVec[key]("b", "h", []string{"r"}, recorder.Shape{Bounds: bounds, Scale: 1e-9})
	h := v.GetOrCreate(key{"/r"}, func() []string { return []string{"/r"} })
	s := newShardedSeries(bounds)
	var picker recorder.ShardPicker
	impls := []func(shard int, x int64){
		func(shard int, x int64) { v.Observe(h, shard, x) },
		s.observe,
	}
	run := func(observe func(int, int64)) float64 {
		var wg sync.WaitGroup
		start := time.Now()
		for range procs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tok := picker.Get()
				defer picker.Put(tok)
				for i := int64(0); i < hotRound; i++ {
					observe(tok.Shard, i%20_000_000)
				}
			}()
		}
		wg.Wait()
		return float64(time.Since(start).Nanoseconds()) / hotRound
	}
	run(impls[0]) // let the striped series grow
	perOp := [2][]float64{}
	round := 0
	for b.Loop() {
		for k := range impls {
			i := (k + round) % 2
			perOp[i] = append(perOp[i], run(impls[i]))
		}
		round++
	}
	med := func(x []float64) float64 {
		x = slices.Clone(x)
		slices.Sort(x)
		return x[len(x)/2]
	}
	b.ReportMetric(med(perOp[0]), "striped-ns")
	b.ReportMetric(med(perOp[1]), "sharded-ns")
	b.ReportMetric(med(perOp[0])/med(perOp[1]), "ratio")
	b.ReportMetric(float64(h.Stripes()), "stripes")
}
