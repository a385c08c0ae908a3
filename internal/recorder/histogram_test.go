package recorder_test

import (
	"maps"
	"math"
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

// nativeBuckets decodes the positive spans and deltas of a native histogram into absolute
// bucket counts by index.
func nativeBuckets(h *dto.Histogram) map[int]int64 {
	out := map[int]int64{}
	idx, count := 0, int64(0)
	d := 0
	for i, s := range h.GetPositiveSpan() {
		if i == 0 {
			idx = int(s.GetOffset())
		} else {
			idx += int(s.GetOffset())
		}
		for j := 0; j < int(s.GetLength()); j++ {
			count += h.GetPositiveDelta()[d]
			d++
			if count != 0 {
				out[idx] = count
			}
			idx++
		}
	}
	return out
}

// TestNativeEqualsClientGolang observes the same values in a native sharded vec and in a
// client_golang histogram with classic buckets and native buckets of schema 3: both forms must
// be equal, bucket for bucket.
func TestNativeEqualsClientGolang(t *testing.T) {
	tests := []struct {
		name   string
		scale  float64
		bounds []float64
		max    int64
	}{
		{"durations", 1e-9, bounds, int64(20 * time.Second)},
		{"sizes", 1, []float64{64, 1024, 65536}, 1 << 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ours, err := recorder.NewHistogramVec[key]("n", "help", []string{"route"},
				recorder.Shape{Bounds: tt.bounds, Scale: tt.scale, Native: true})
			if err != nil {
				t.Fatal(err)
			}
			theirs := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "n", Help: "help", Buckets: tt.bounds,
				NativeHistogramBucketFactor: 1.1}, []string{"route"})
			rng := rand.New(rand.NewPCG(5, 6))
			obs := []int64{0, 0, 1, 2, 3, tt.max}
			for i := 0; i < 20000; i++ {
				// log-uniform, so that many powers of two are hit
				obs = append(obs, int64(math.Exp(rng.Float64()*math.Log(float64(tt.max)))))
			}
			for i, x := range obs {
				h := ours.GetOrCreate(key{"/r"}, func() []string { return []string{"/r"} })
				ours.Observe(h, i, x)
				theirs.WithLabelValues("/r").Observe(float64(x) * tt.scale)
			}
			a, b := collect(t, ours)["/r"], collect(t, theirs)["/r"]
			if a.GetSchema() != 3 || b.GetSchema() != 3 {
				t.Fatalf("schema ours %d, client_golang %d, want 3", a.GetSchema(), b.GetSchema())
			}
			if a.GetZeroThreshold() != b.GetZeroThreshold() || a.GetZeroCount() != b.GetZeroCount() || a.GetZeroCount() != 2 {
				t.Errorf("zero bucket ours %v/%d, client_golang %v/%d, want 2 observations",
					a.GetZeroThreshold(), a.GetZeroCount(), b.GetZeroThreshold(), b.GetZeroCount())
			}
			if a.GetSampleCount() != b.GetSampleCount() || a.GetSampleCount() != uint64(len(obs)) {
				t.Errorf("count ours %d, client_golang %d, want %d", a.GetSampleCount(), b.GetSampleCount(), len(obs))
			}
			na, nb := nativeBuckets(a), nativeBuckets(b)
			if len(na) < 20 {
				t.Fatalf("only %d native buckets", len(na))
			}
			if !maps.Equal(na, nb) {
				t.Errorf("native buckets differ:\nours:   %v\ntheirs: %v", na, nb)
			}
			var total int64
			for _, n := range na {
				total += n
			}
			if uint64(total)+a.GetZeroCount() != a.GetSampleCount() {
				t.Errorf("native buckets hold %d + zero %d, count %d", total, a.GetZeroCount(), a.GetSampleCount())
			}
			for i := range b.GetBucket() {
				x, y := a.GetBucket()[i], b.GetBucket()[i]
				if x.GetUpperBound() != y.GetUpperBound() || x.GetCumulativeCount() != y.GetCumulativeCount() {
					t.Errorf("classic bucket %d: le=%v %d vs le=%v %d", i, x.GetUpperBound(), x.GetCumulativeCount(), y.GetUpperBound(), y.GetCumulativeCount())
				}
			}
		})
	}
}

// TestNativeEmptyIsNative: a series without observations is still exposed as native (schema
// and a non-zero zero threshold, which is how Prometheus tells a native histogram), exactly as
// client_golang writes it: no empty span, since client_golang adds one only for a zero threshold
// of 0.
func TestNativeEmptyIsNative(t *testing.T) {
	v, _ := recorder.NewHistogramVec[key]("e", "help", []string{"route"}, recorder.Shape{Bounds: bounds, Scale: 1e-9, Native: true})
	v.GetOrCreate(key{"/r"}, func() []string { return []string{"/r"} })
	theirs := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "e", Help: "help", Buckets: bounds,
		NativeHistogramBucketFactor: 1.1}, []string{"route"})
	theirs.WithLabelValues("/r")
	h, want := collect(t, v)["/r"], collect(t, theirs)["/r"]
	if h.GetSchema() != 3 || h.GetZeroThreshold() == 0 || len(h.GetPositiveSpan()) != 0 {
		t.Fatalf("empty native histogram: %v", h)
	}
	h.CreatedTimestamp, want.CreatedTimestamp = nil, nil
	if h.String() != want.String() {
		t.Fatalf("empty native histogram differs:\nours:   %v\ntheirs: %v", h, want)
	}
}

// TestExemplars: the exemplar of a bucket carries hex trace and span ids, its value in seconds
// and its time; a second one within ExemplarInterval is dropped, a later one replaces it.
func TestExemplars(t *testing.T) {
	for _, native := range []bool{false, true} {
		t.Run(map[bool]string{false: "classic", true: "native"}[native], func(t *testing.T) {
			v, _ := recorder.NewHistogramVec[key]("x", "help", []string{"route"}, recorder.Shape{Bounds: bounds, Scale: 1e-9, Native: native})
			h := v.GetOrCreate(key{"/r"}, func() []string { return []string{"/r"} })
			at := time.Unix(1700000000, 0)
			tid := [16]byte{0x4b, 0xf9, 15: 0x36}
			sid := [8]byte{0x00, 0xf0, 7: 0xb7}
			v.ObserveWithExemplar(h, 0, int64(3*time.Millisecond), tid, sid, at)
			v.ObserveWithExemplar(h, 1, int64(4*time.Millisecond), [16]byte{1}, [8]byte{1}, at.Add(exemplarHalf()))
			v.Observe(h, 0, int64(time.Second))
			got := collect(t, v)["/r"]
			if got.GetSampleCount() != 3 {
				t.Fatalf("count %d, want 3", got.GetSampleCount())
			}
			e := got.GetBucket()[0].GetExemplar()
			if e == nil {
				t.Fatalf("no exemplar on the first bucket: %v", got)
			}
			labels := map[string]string{}
			for _, l := range e.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			want := map[string]string{"trace_id": "4bf90000000000000000000000000036", "span_id": "00f00000000000b7"}
			if !maps.Equal(labels, want) || e.GetValue() != 0.003 || !e.GetTimestamp().AsTime().Equal(at) {
				t.Errorf("exemplar %v, want %v value 0.003 at %v", e, want, at)
			}
			if native && len(got.GetExemplars()) != 1 {
				t.Errorf("native histogram carries %d exemplars, want 1", len(got.GetExemplars()))
			}
			v.ObserveWithExemplar(h, 1, int64(4*time.Millisecond), [16]byte{2}, [8]byte{2}, at.Add(recorder.ExemplarInterval))
			e = collect(t, v)["/r"].GetBucket()[0].GetExemplar()
			if e.GetValue() != 0.004 {
				t.Errorf("exemplar after the interval has value %v, want the newer 0.004", e.GetValue())
			}
		})
	}
}

// exemplarHalf is half of recorder.ExemplarInterval.
func exemplarHalf() time.Duration { return recorder.ExemplarInterval / 2 }

func BenchmarkObserveNativeParallel(b *testing.B) {
	v, _ := recorder.NewHistogramVec[key]("b", "h", []string{"r"}, recorder.Shape{Bounds: bounds, Scale: 1e-9, Native: true})
	var picker recorder.ShardPicker
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		tok := picker.Get()
		defer picker.Put(tok)
		h := v.GetOrCreate(key{"/r"}, func() []string { return []string{"/r"} })
		for i := int64(0); pb.Next(); i++ {
			v.Observe(h, tok.Shard, i%20_000_000)
		}
	})
}

// TestExemplarLabelOrderIsStable: exemplar labels come out sorted, the same on every scrape.
func TestExemplarLabelOrderIsStable(t *testing.T) {
	v, _ := recorder.NewHistogramVec[key]("e_seconds", "h", []string{"route"}, recorder.Shape{Bounds: bounds, Scale: 1e-9})
	h := v.GetOrCreate(key{"/r"}, func() []string { return []string{"/r"} })
	v.ObserveWithExemplar(h, 0, int64(time.Millisecond), [16]byte{1}, [8]byte{2}, time.Now())
	for i := 0; i < 50; i++ {
		var m dto.Metric
		ch := make(chan prometheus.Metric, 1)
		v.Collect(ch)
		if err := (<-ch).Write(&m); err != nil {
			t.Fatal(err)
		}
		e := m.GetHistogram().GetBucket()[0].GetExemplar()
		if e == nil || len(e.GetLabel()) != 2 || e.GetLabel()[0].GetName() != "span_id" || e.GetLabel()[1].GetName() != "trace_id" {
			t.Fatalf("scrape %d: exemplar labels %v, want span_id then trace_id", i, e.GetLabel())
		}
	}
}
