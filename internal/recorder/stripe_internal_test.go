package recorder

import (
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

var testBounds = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}

type tkey struct{ r string }

func newTestVec(t testing.TB, native bool) *HistogramVec[tkey] {
	t.Helper()
	v, err := NewHistogramVec[tkey]("t_seconds", "help", []string{"route"}, Shape{Bounds: testBounds, Scale: 1e-9, Native: native})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func series(v *HistogramVec[tkey], r string) *Histogram {
	return v.GetOrCreate(tkey{r}, func() []string { return []string{r} })
}

// withProcs runs f at GOMAXPROCS n (raised above the core count when needed).
func withProcs(n int, f func()) {
	old := runtime.GOMAXPROCS(n)
	defer runtime.GOMAXPROCS(old)
	f()
}

// TestSerialSeriesStaysOneStripe: observations from one goroutine never contend, so a series
// keeps its single stripe however many processors there are.
func TestSerialSeriesStaysOneStripe(t *testing.T) {
	withProcs(64, func() {
		v := newTestVec(t, true)
		h := series(v, "/a")
		for i := range 100_000 {
			v.Observe(h, i, int64(i)*1000)
		}
		if n := h.Stripes(); n != 1 {
			t.Fatalf("stripes after serial observations: %d, want 1", n)
		}
		if v.l.stripes != 64 {
			t.Fatalf("stripe cap at GOMAXPROCS 64: %d", v.l.stripes)
		}
	})
}

// TestContentionGrowsStripes: two contended observations within GrowWindow double the stripes,
// two far apart do not, and the stripes stop at the cap.
func TestContentionGrowsStripes(t *testing.T) {
	withProcs(8, func() {
		v := newTestVec(t, false)
		h := series(v, "/a")
		h.contended(h.set.Load())
		if n := h.Stripes(); n != 1 {
			t.Fatalf("one contended observation grew the stripes to %d", n)
		}
		h.last.Store(int64(time.Since(epoch)) - 10*int64(GrowWindow))
		h.contended(h.set.Load())
		if n := h.Stripes(); n != 1 {
			t.Fatalf("two contended observations %v apart grew the stripes to %d", 10*GrowWindow, n)
		}
		for want := 2; want <= 8; want *= 2 {
			h.last.Store(int64(time.Since(epoch)))
			h.contended(h.set.Load())
			if n := h.Stripes(); n != want {
				t.Fatalf("stripes %d, want %d", n, want)
			}
		}
		h.last.Store(int64(time.Since(epoch)))
		h.contended(h.set.Load())
		if n := h.Stripes(); n != 8 {
			t.Fatalf("stripes grew past the cap of 8: %d", n)
		}
	})
}

// TestParallelObservationsGrowAndCount hammers one series from many goroutines while it grows:
// no observation is lost (the count and sum are exact), and it ends with more than one stripe.
func TestParallelObservationsGrowAndCount(t *testing.T) {
	withProcs(max(4, runtime.NumCPU()), func() {
		for _, native := range []bool{false, true} {
			v := newTestVec(t, native)
			h := series(v, "/hot")
			const goroutines, per = 8, 20_000
			var wg sync.WaitGroup
			for g := range goroutines {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range per {
						v.Observe(h, g, int64(i%1000)*1_000_000)
						if i%4096 == 0 {
							runtime.Gosched() // let the others run on a machine with few cores
						}
					}
				}()
			}
			// Force growth during the run as well, in case the machine never ran two at once.
			for h.Stripes() < 4 {
				h.grow(h.set.Load())
			}
			wg.Wait()
			var m dto.Metric
			if err := h.Write(&m); err != nil {
				t.Fatal(err)
			}
			if got := m.GetHistogram().GetSampleCount(); got != goroutines*per {
				t.Fatalf("native=%v: count %d, want %d", native, got, goroutines*per)
			}
			var wantSum float64
			for i := range per {
				wantSum += float64(i%1000) * 1e-3
			}
			wantSum *= goroutines
			if d := m.GetHistogram().GetSampleSum() - wantSum; d > 1e-6 || d < -1e-6 {
				t.Fatalf("native=%v: sum %v, want %v", native, m.GetHistogram().GetSampleSum(), wantSum)
			}
			if native {
				if n := nativeTotal(m.GetHistogram()) + m.GetHistogram().GetZeroCount(); n != goroutines*per {
					t.Fatalf("native buckets hold %d, want %d", n, goroutines*per)
				}
			}
		}
	})
}

func nativeTotal(h *dto.Histogram) uint64 {
	var total, cur int64
	for _, d := range h.GetPositiveDelta() {
		cur += d
		total += cur
	}
	return uint64(total)
}

// TestRealContentionGrows: goroutines on different processors observing one series at once
// grow its stripes by themselves, without a forced grow. It needs two cores running at once;
// it retries for a while on a busy machine.
func TestRealContentionGrows(t *testing.T) {
	if runtime.NumCPU() < 2 {
		t.Skip("needs two cores to contend")
	}
	withProcs(runtime.NumCPU(), func() {
		v := newTestVec(t, false)
		h := series(v, "/hot")
		deadline := time.Now().Add(20 * time.Second)
		for h.Stripes() == 1 && time.Now().Before(deadline) {
			var wg sync.WaitGroup
			for g := range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 200_000 {
						v.Observe(h, g, int64(i))
					}
				}()
			}
			wg.Wait()
		}
		if h.Stripes() == 1 {
			t.Fatalf("two goroutines observing one series for 20s never grew it")
		}
	})
}

// TestStripesAreLineAligned: every stripe's cells start on a 64-byte line and fill whole lines,
// so that two stripes never share a line (the allocator's size classes give it; this test says
// when a runtime stops doing so).
func TestStripesAreLineAligned(t *testing.T) {
	for _, bounds := range [][]float64{testBounds, {1, 2, 3}, make([]float64, 0, 40)} {
		if len(bounds) == 0 {
			for i := range 40 {
				bounds = append(bounds, float64(i+1))
			}
		}
		v, err := NewHistogramVec[tkey]("a", "h", []string{"route"}, Shape{Bounds: bounds, Scale: 1})
		if err != nil {
			t.Fatal(err)
		}
		v.l.stripes = 64
		for i := range 50 {
			h := series(v, string(rune('a'+i)))
			for h.Stripes() < 64 {
				h.grow(h.set.Load())
			}
			for _, st := range h.stripes() {
				if p := uintptr(unsafe.Pointer(&st.cells[0])); p%64 != 0 || len(st.cells)%cellsPerLine != 0 {
					t.Fatalf("%d bounds: stripe at %#x with %d cells is not line aligned", len(bounds), p, len(st.cells))
				}
			}
		}
	}
}

// TestObserveDoesNotAllocate: in steady state an observation allocates nothing, on one stripe
// or many, classic or native; an exemplar inside ExemplarInterval neither.
func TestObserveDoesNotAllocate(t *testing.T) {
	for _, native := range []bool{false, true} {
		v := newTestVec(t, native)
		cold, hot := series(v, "/cold"), series(v, "/hot")
		v.l.stripes = 8
		for hot.Stripes() < 8 {
			hot.grow(hot.set.Load())
		}
		at := time.Now()
		for s := range 8 { // first use of the native chunks allocates them
			v.Observe(cold, s, 3e6)
			v.Observe(hot, s, 3e6)
			v.ObserveWithExemplar(hot, s, 3e6, [16]byte{1}, [8]byte{1}, at)
		}
		shard := 0
		if n := testing.AllocsPerRun(1000, func() {
			shard++
			v.Observe(cold, shard, 3e6)
			v.Observe(hot, shard, 3e6)
			v.ObserveWithExemplar(hot, shard, 3e6, [16]byte{2}, [8]byte{2}, at)
		}); n != 0 {
			t.Errorf("native=%v: %v allocations per observation", native, n)
		}
	}
}

// TestGrownSeriesWritesLikeOneStripe: the same observations spread over 16 stripes or kept in
// one write the same exposition.
func TestGrownSeriesWritesLikeOneStripe(t *testing.T) {
	for _, native := range []bool{false, true} {
		a, b := newTestVec(t, native), newTestVec(t, native)
		b.l.stripes = 16
		ha, hb := series(a, "/r"), series(b, "/r")
		for i := range 5000 {
			if i == 1000 || i == 2000 || i == 3000 || i == 4000 {
				hb.grow(hb.set.Load()) // grow halfway through: counts in older stripes stay
			}
			x := int64(i) * 2_345_678
			a.Observe(ha, i, x)
			b.Observe(hb, i, x)
		}
		if hb.Stripes() != 16 {
			t.Fatalf("stripes %d, want 16", hb.Stripes())
		}
		var ma, mb dto.Metric
		if err := ha.Write(&ma); err != nil {
			t.Fatal(err)
		}
		if err := hb.Write(&mb); err != nil {
			t.Fatal(err)
		}
		ma.Histogram.CreatedTimestamp, mb.Histogram.CreatedTimestamp = nil, nil
		if ma.String() != mb.String() {
			t.Fatalf("native=%v: grown series writes\n%v\none stripe writes\n%v", native, &mb, &ma)
		}
	}
}

var _ prometheus.Metric = (*Histogram)(nil)

// BenchmarkSeriesMemoryByStripes reports the heap one series costs (B/series) with 1, 8 and 64
// stripes at GOMAXPROCS 64: a cold series, a warm one, a fully grown hot one. Memory grows only
// with the stripes a series' own contention asked for.
func BenchmarkSeriesMemoryByStripes(b *testing.B) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(64))
	for _, stripes := range []int{1, 8, 64} {
		b.Run("stripes="+strconv.Itoa(stripes), func(b *testing.B) {
			const n = 1000
			var total float64
			for b.Loop() {
				before := liveHeap()
				v := newTestVec(b, false)
				for i := range n {
					h := series(v, strconv.Itoa(i))
					for h.Stripes() < stripes {
						h.grow(h.set.Load())
					}
					v.Observe(h, i, 1e6)
				}
				after := liveHeap()
				runtime.KeepAlive(v)
				total += float64(after) - float64(before)
			}
			b.ReportMetric(total/float64(b.N)/n, "B/series")
		})
	}
}

var liveSample = []metrics.Sample{{Name: "/gc/heap/live:bytes"}}

func liveHeap() uint64 {
	runtime.GC()
	metrics.Read(liveSample)
	return liveSample[0].Value.Uint64()
}
