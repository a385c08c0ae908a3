package recorder_test

import (
	"bytes"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/perfobs/perfobs-go/internal/recorder"
)

// dyadic durations: their float sums are exact on both sides, so whole expositions compare.
var dyadic = []time.Duration{
	time.Second / 512, time.Second / 256, time.Second / 64, time.Second / 32, time.Second / 16,
	time.Second / 8, time.Second / 4, time.Second / 2, time.Second, 2 * time.Second, 4 * time.Second,
	8 * time.Second, 16 * time.Second,
}

// TestFullExpositionEqualsClientGolang observes the same durations, some with exemplars, from
// several goroutines (so that our series spread over stripes) in our vec and in client_golang's,
// classic and native, and compares the whole gathered output: the protobuf messages and their
// text, OpenMetrics and delimited-protobuf encodings. Only the created timestamps (construction
// time) and exemplar timestamps (client_golang takes time.Now) are cleared, after checking them.
func TestFullExpositionEqualsClientGolang(t *testing.T) {
	for _, native := range []bool{false, true} {
		t.Run(map[bool]string{false: "classic", true: "native"}[native], func(t *testing.T) {
			start := time.Now()
			ours, err := recorder.NewHistogramVec[key]("req_seconds", "Request duration.", []string{"route", "code"},
				recorder.Shape{Bounds: bounds, Scale: 1e-9, Native: native})
			if err != nil {
				t.Fatal(err)
			}
			opts := prometheus.HistogramOpts{Name: "req_seconds", Help: "Request duration.", Buckets: bounds}
			if native {
				opts.NativeHistogramBucketFactor = 1.1
			}
			theirs := prometheus.NewHistogramVec(opts, []string{"route", "code"})
			routes := []string{"/a", "/b/{id}", "/c"}
			var mu sync.Mutex // client_golang's exemplar order depends on call order; keep it equal
			var wg sync.WaitGroup
			for g := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for rep := range 200 {
						for i, d := range dyadic {
							r := routes[(g+i)%len(routes)]
							h := ours.GetOrCreate(key{r}, func() []string { return []string{r, "200"} })
							if g == 0 && rep == 0 && i < 9 { // at most one exemplar per bucket, at most 10
								tid, sid := [16]byte{byte(i + 1), 15: 0xaa}, [8]byte{7: byte(i + 1)}
								mu.Lock()
								ours.ObserveWithExemplar(h, g, int64(d), tid, sid, time.Now())
								theirs.WithLabelValues(r, "200").(prometheus.ExemplarObserver).ObserveWithExemplar(d.Seconds(),
									prometheus.Labels{"trace_id": hexOf(tid[:]), "span_id": hexOf(sid[:])})
								mu.Unlock()
								continue
							}
							ours.Observe(h, g*31+rep, int64(d))
							theirs.WithLabelValues(r, "200").Observe(d.Seconds())
						}
					}
				}()
			}
			wg.Wait()

			got, want := gatherClean(t, ours, start), gatherClean(t, theirs, start)
			if len(got) != 1 || len(got[0].Metric) != len(routes) {
				t.Fatalf("gathered %v", got)
			}
			if g, w := got[0].String(), want[0].String(); g != w {
				i := 0
				for i < len(g) && i < len(w) && g[i] == w[i] {
					i++
				}
				t.Fatalf("protobuf differs at byte %d:\nours:   ...%s\ntheirs: ...%s", i, g[max(0, i-200):min(len(g), i+200)], w[max(0, i-200):min(len(w), i+200)])
			}
			formats := []expfmt.Format{expfmt.NewFormat(expfmt.TypeTextPlain), expfmt.NewFormat(expfmt.TypeOpenMetrics), expfmt.NewFormat(expfmt.TypeProtoDelim)}
			for _, f := range formats {
				if g, w := encode(t, got, f), encode(t, want, f); !bytes.Equal(g, w) {
					t.Errorf("%s differs:\nours:\n%s\ntheirs:\n%s", f, g, w)
				}
			}
			if !strings.Contains(string(encode(t, got, expfmt.NewFormat(expfmt.TypeOpenMetrics))), `# {span_id="`) {
				t.Errorf("no exemplar in the OpenMetrics output")
			}
		})
	}
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

// gatherClean gathers c on a pedantic registry, checks the created and exemplar timestamps fall
// between start and now and clears them, and sorts exemplar labels by name (client_golang copies
// them from a map, in random order).
func gatherClean(t *testing.T, c prometheus.Collector, start time.Time) []*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	end := time.Now()
	inRange := func(what string, ts time.Time) {
		if ts.Before(start.Add(-time.Millisecond)) || ts.After(end) {
			t.Errorf("%s timestamp %v outside [%v, %v]", what, ts, start, end)
		}
	}
	seen := map[*dto.Exemplar]bool{} // a native histogram's exemplars are also its buckets'
	sortLabels := func(e *dto.Exemplar) {
		if e == nil || seen[e] {
			return
		}
		seen[e] = true
		inRange("exemplar", e.GetTimestamp().AsTime())
		e.Timestamp = nil
		slices.SortFunc(e.Label, func(a, b *dto.LabelPair) int { return strings.Compare(a.GetName(), b.GetName()) })
	}
	for _, mf := range mfs {
		for _, m := range mf.Metric {
			h := m.GetHistogram()
			inRange("created", h.GetCreatedTimestamp().AsTime())
			h.CreatedTimestamp = nil
			for _, b := range h.GetBucket() {
				sortLabels(b.GetExemplar())
			}
			for _, e := range h.GetExemplars() {
				sortLabels(e)
			}
		}
	}
	return mfs
}

func encode(t *testing.T, mfs []*dto.MetricFamily, f expfmt.Format) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, f)
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	if c, ok := enc.(expfmt.Closer); ok {
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// TestExemplarOnInfBucket: an exemplar above the last bound adds the +Inf bucket, with the
// total count, as client_golang does.
func TestExemplarOnInfBucket(t *testing.T) {
	start := time.Now()
	ours, _ := recorder.NewHistogramVec[key]("i_seconds", "h", []string{"route"}, recorder.Shape{Bounds: bounds, Scale: 1e-9})
	theirs := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "i_seconds", Help: "h", Buckets: bounds}, []string{"route"})
	h := ours.GetOrCreate(key{"/r"}, func() []string { return []string{"/r"} })
	ours.Observe(h, 0, int64(time.Second))
	theirs.WithLabelValues("/r").Observe(1)
	ours.ObserveWithExemplar(h, 1, int64(32*time.Second), [16]byte{9}, [8]byte{9}, time.Now())
	theirs.WithLabelValues("/r").(prometheus.ExemplarObserver).ObserveWithExemplar(32,
		prometheus.Labels{"trace_id": hexOf([]byte{9, 15: 0}), "span_id": hexOf([]byte{9, 7: 0})})
	got, want := gatherClean(t, ours, start), gatherClean(t, theirs, start)
	if g, w := got[0].String(), want[0].String(); g != w {
		t.Fatalf("differs:\nours:   %s\ntheirs: %s", g, w)
	}
	b := got[0].Metric[0].GetHistogram().GetBucket()
	if last := b[len(b)-1]; last.GetUpperBound() != posInf() || last.GetCumulativeCount() != 2 || last.GetExemplar() == nil {
		t.Fatalf("+Inf bucket %v", last)
	}
}

func posInf() float64 { return 1 / zero }

var zero = 0.0

// TestScrapeAllocations bounds what a scrape costs per series: a few allocations, not one per
// bucket field as client_golang's histogram makes.
func TestScrapeAllocations(t *testing.T) {
	v, _ := recorder.NewHistogramVec[key]("s_seconds", "h", []string{"route"}, recorder.Shape{Bounds: bounds, Scale: 1e-9})
	h := v.GetOrCreate(key{"/r"}, func() []string { return []string{"/r"} })
	v.Observe(h, 0, 1e6)
	n := testing.AllocsPerRun(100, func() {
		var m dto.Metric
		if err := h.Write(&m); err != nil {
			t.Fatal(err)
		}
	})
	if n > 5 {
		t.Fatalf("%v allocations to write one series, want at most 5", n)
	}
}
