package recorder_test

import (
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/perfobs/perfobs-go/internal/recorder"
	"github.com/perfobs/perfobs-go/leaktest"
)

func TestMain(m *testing.M) { leaktest.VerifyTestMain(m) }

type key struct{ route string }

var bounds = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}

// TestExpositionEqualsClientGolang observes the same durations, from many goroutines, in the
// sharded vec and in a client_golang HistogramVec: buckets, counts and label sets must be equal,
// and sums equal up to float rounding (ours sums exact nanoseconds).
func TestExpositionEqualsClientGolang(t *testing.T) {
	ours, err := recorder.NewHistogramVec[key]("d_seconds", "help", []string{"route"}, recorder.Shape{Bounds: bounds, Scale: 1e-9})
	if err != nil {
		t.Fatal(err)
	}
	theirs := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "d_seconds", Help: "help", Buckets: bounds}, []string{"route"})
	// Durations on and around every bound, plus random ones.
	var obs []time.Duration
	for _, b := range bounds {
		d := time.Duration(b * 1e9)
		obs = append(obs, d-1, d, d+1)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 5000; i++ {
		obs = append(obs, time.Duration(rng.Int64N(int64(12*time.Second))))
	}
	routes := []string{"/a", "/b/{id}", "/c"}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i, d := range obs {
				if i%8 != g {
					continue
				}
				r := routes[i%len(routes)]
				h := ours.GetOrCreate(key{r}, func() []string { return []string{r} })
				ours.Observe(h, g, int64(d))
				theirs.WithLabelValues(r).Observe(d.Seconds())
			}
		}(g)
	}
	wg.Wait()

	a, b := collect(t, ours), collect(t, theirs)
	if len(a) != len(b) || len(a) != len(routes) {
		t.Fatalf("series: ours %d, client_golang %d", len(a), len(b))
	}
	for route, ha := range a {
		hb := b[route]
		if ha.GetSampleCount() != hb.GetSampleCount() {
			t.Errorf("%s: count %d vs %d", route, ha.GetSampleCount(), hb.GetSampleCount())
		}
		if diff := ha.GetSampleSum() - hb.GetSampleSum(); diff > 1e-6 || diff < -1e-6 {
			t.Errorf("%s: sum %v vs %v", route, ha.GetSampleSum(), hb.GetSampleSum())
		}
		for i := range hb.GetBucket() {
			x, y := ha.GetBucket()[i], hb.GetBucket()[i]
			if x.GetUpperBound() != y.GetUpperBound() || x.GetCumulativeCount() != y.GetCumulativeCount() {
				t.Errorf("%s: bucket %d: le=%v %d vs le=%v %d", route, i, x.GetUpperBound(), x.GetCumulativeCount(), y.GetUpperBound(), y.GetCumulativeCount())
			}
		}
	}
}

// TestTextExpositionIdentical compares the full text exposition for dyadic observations, whose
// float sums are exact on both sides.
func TestTextExpositionIdentical(t *testing.T) {
	ours, _ := recorder.NewHistogramVec[key]("x_seconds", "Help.", []string{"route"}, recorder.Shape{Bounds: bounds, Scale: 1e-9})
	theirs := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "x_seconds", Help: "Help.", Buckets: bounds}, []string{"route"})
	for i, d := range []time.Duration{time.Second / 2, time.Second / 4, 2 * time.Second, time.Second / 512, 8 * time.Second, 16 * time.Second} {
		h := ours.GetOrCreate(key{"/r"}, func() []string { return []string{"/r"} })
		ours.Observe(h, i, int64(d))
		theirs.WithLabelValues("/r").Observe(d.Seconds())
	}
	regA, regB := prometheus.NewPedanticRegistry(), prometheus.NewPedanticRegistry()
	regA.MustRegister(ours)
	regB.MustRegister(theirs)
	want, err := regB.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range want { // created timestamps differ by construction time
		for _, m := range mf.Metric {
			m.Histogram.CreatedTimestamp = nil
		}
	}
	got, err := regA.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range got {
		for _, m := range mf.Metric {
			m.Histogram.CreatedTimestamp = nil
		}
	}
	if len(got) != 1 || got[0].String() != want[0].String() {
		t.Fatalf("exposition differs:\nours:   %v\ntheirs: %v", got, want)
	}
	if problems, err := testutil.CollectAndLint(ours); err != nil || len(problems) != 0 {
		t.Fatalf("lint: %v %v", problems, err)
	}
}

func collect(t *testing.T, c prometheus.Collector) map[string]*dto.Histogram {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.Histogram{}
	for _, mf := range mfs {
		for _, m := range mf.Metric {
			out[m.Label[0].GetValue()] = m.Histogram
		}
	}
	return out
}

func TestNewHistogramVecRejectsBadBounds(t *testing.T) {
	for name, b := range map[string][]float64{"empty": nil, "unsorted": {1, 0.5}, "zero": {0}, "dup": {1, 1}} {
		if _, err := recorder.NewHistogramVec[key]("n", "h", nil, recorder.Shape{Bounds: b, Scale: 1}); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
}

func TestGaugeArraySumsShards(t *testing.T) {
	g := recorder.NewGaugeArray("g", "h", []string{"m"}, [][]string{{"a"}, {"b"}})
	for s := 0; s < 100; s++ {
		g.Add(1, s, 2)
	}
	g.Add(1, 7, -50)
	if v := g.Value(1); v != 150 {
		t.Fatalf("gauge 1 = %d, want 150", v)
	}
	if n := testutil.CollectAndCount(g); n != 1 {
		t.Fatalf("exposed %d gauges, want only the touched one", n)
	}
}

func BenchmarkObserveParallel(b *testing.B) {
	v, _ := recorder.NewHistogramVec[key]("b", "h", []string{"r"}, recorder.Shape{Bounds: bounds, Scale: 1e-9})
	var picker recorder.ShardPicker
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		tok := picker.Get()
		defer picker.Put(tok)
		for i := int64(0); pb.Next(); i++ {
			h := v.Get(key{"/r"})
			if h == nil {
				h = v.GetOrCreate(key{"/r"}, func() []string { return []string{"/r"} })
			}
			v.Observe(h, tok.Shard, i%20_000_000)
		}
	})
}
