package bench

import (
	"bytes"
	"fmt"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/internal/recorder"
)

// The series comparison: 10,000 series of http_server_request_duration_seconds (1,000 routes
// times 10 status codes, the five labels and the default buckets), in perfobs's recorder and in
// client_golang's HistogramVec, at several GOMAXPROCS (raised above the core count: what matters
// is how many stripes or shards each series is built for, not how many cores run them).

const (
	seriesRoutes = 1000
	seriesCodes  = 10
)

var (
	seriesRouteNames = func() []string {
		out := make([]string, seriesRoutes)
		for i := range out {
			out[i] = fmt.Sprintf("/api/v1/resource%d/{id}", i)
		}
		return out
	}()
	seriesCodeValues = []uint16{200, 201, 204, 301, 304, 400, 401, 404, 500, 503}
)

// seriesKey has the size of the middleware's own key (24 bytes): a route and small integers.
type seriesKey struct {
	route  string
	status uint16
}

// seriesSet is one implementation holding the 10,000 series.
type seriesSet struct {
	collector prometheus.Collector
	observe   func(route int, code int, v int64) // v in nanoseconds
}

func perfobsSeries() seriesSet {
	vec, err := recorder.NewHistogramVec[seriesKey](catalog.HTTPServerDuration, "Duration of HTTP server requests.",
		catalog.HTTPServerLabels(), recorder.Shape{Bounds: catalog.DefaultDurationBuckets(), Scale: 1e-9})
	if err != nil {
		panic(err)
	}
	return seriesSet{collector: vec, observe: func(route, code int, v int64) {
		k := seriesKey{route: seriesRouteNames[route], status: seriesCodeValues[code]}
		h := vec.Get(k)
		if h == nil {
			h = vec.GetOrCreate(k, func() []string {
				errType := ""
				if k.status >= 500 {
					errType = strconv.Itoa(int(k.status))
				}
				return []string{"GET", k.route, strconv.Itoa(int(k.status)), "http", errType}
			})
		}
		vec.Observe(h, route, v)
	}}
}

func clientGolangSeries() seriesSet {
	vec := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: catalog.HTTPServerDuration,
		Help: "Duration of HTTP server requests.", Buckets: catalog.DefaultDurationBuckets()}, catalog.HTTPServerLabels())
	return seriesSet{collector: vec, observe: func(route, code int, v int64) {
		status := strconv.Itoa(int(seriesCodeValues[code]))
		errType := ""
		if seriesCodeValues[code] >= 500 {
			errType = status
		}
		vec.WithLabelValues("GET", seriesRouteNames[route], status, "http", errType).Observe(float64(v) / 1e9)
	}}
}

var seriesImpls = []struct {
	name string
	make func() seriesSet
}{{"Perfobs", perfobsSeries}, {"ClientGolang", clientGolangSeries}}

// fill observes n values in every series, from one goroutine.
func fill(s seriesSet, n int) {
	for k := range n {
		for r := range seriesRoutes {
			for c := range seriesCodes {
				s.observe(r, c, int64((r*7+c*13+k)%2560)*1953125) // multiples of 1/512 s: float sums stay exact
			}
		}
	}
}

var liveSample = []metrics.Sample{{Name: "/gc/heap/live:bytes"}}

// liveHeap returns the heap bytes live after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	metrics.Read(liveSample)
	return liveSample[0].Value.Uint64()
}

// BenchmarkSeriesMemory reports the heap each series costs (B/series): the live heap after
// building the 10,000 series, with one observation each, minus the live heap before.
func BenchmarkSeriesMemory(b *testing.B) {
	for _, procs := range []int{1, 8, 64} {
		for _, impl := range seriesImpls {
			b.Run(fmt.Sprintf("%s/procs=%d", impl.name, procs), func(b *testing.B) {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
				var total float64
				for b.Loop() {
					before := liveHeap()
					s := impl.make()
					fill(s, 1)
					after := liveHeap()
					runtime.KeepAlive(s)
					total += float64(after) - float64(before)
				}
				b.ReportMetric(total/float64(b.N)/(seriesRoutes*seriesCodes), "B/series")
			})
		}
	}
}

// BenchmarkScrape10k gathers the 10,000 series (three observations each) at GOMAXPROCS 64, as
// a registry does for every scrape, and also encodes them as text, as promhttp then does.
func BenchmarkScrape10k(b *testing.B) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(64))
	for _, impl := range seriesImpls {
		s := impl.make()
		fill(s, 3)
		reg := prometheus.NewRegistry()
		reg.MustRegister(s.collector)
		b.Run("Gather/"+impl.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				mfs, err := reg.Gather()
				if err != nil || len(mfs) != 1 || len(mfs[0].Metric) != seriesRoutes*seriesCodes {
					b.Fatalf("gathered %d families, err %v", len(mfs), err)
				}
			}
		})
		b.Run("GatherText/"+impl.name, func(b *testing.B) {
			var buf bytes.Buffer
			b.ReportAllocs()
			for b.Loop() {
				mfs, err := reg.Gather()
				if err != nil {
					b.Fatal(err)
				}
				buf.Reset()
				enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
				for _, mf := range mfs {
					if err := enc.Encode(mf); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(buf.Len())/(seriesRoutes*seriesCodes), "text-B/series")
		})
	}
}

// BenchmarkScrape10kRatio gathers the 10,000 series at GOMAXPROCS 64 through perfobs and
// client_golang in alternating rounds and reports the medians of each gather's process CPU time
// (perfobs-cpu-ms, client-golang-cpu-ms, GC included) and wall time, and the ratios perfobs /
// client_golang: the comparison of BenchmarkScrape10k, robust to a busy machine.
//
//	cd bench && go test -run '^$' -bench Scrape10kRatio -benchtime 20x .
func BenchmarkScrape10kRatio(b *testing.B) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(64))
	var regs []*prometheus.Registry
	for _, impl := range seriesImpls {
		s := impl.make()
		fill(s, 3)
		reg := prometheus.NewRegistry()
		reg.MustRegister(s.collector)
		regs = append(regs, reg)
	}
	var cpu, wall [2][]float64
	round := 0
	for b.Loop() {
		for k := range regs {
			i := (k + round) % len(regs)
			runtime.GC()
			start, c := time.Now(), processCPU()
			if _, err := regs[i].Gather(); err != nil {
				b.Fatal(err)
			}
			wall[i] = append(wall[i], float64(time.Since(start).Nanoseconds())/1e6)
			cpu[i] = append(cpu[i], float64((processCPU()-c).Nanoseconds())/1e6)
		}
		round++
	}
	med := func(x []float64) float64 {
		x = slices.Clone(x)
		slices.Sort(x)
		return x[len(x)/2]
	}
	b.ReportMetric(med(cpu[0]), "perfobs-cpu-ms")
	b.ReportMetric(med(cpu[1]), "client-golang-cpu-ms")
	b.ReportMetric(med(cpu[0])/med(cpu[1]), "cpu-ratio")
	b.ReportMetric(med(wall[0])/med(wall[1]), "wall-ratio")
}

// TestSeriesSetsAgree: the two implementations hold the same 10,000 series with the same counts
// in the text exposition (created timestamps aside), so the benchmarks compare like with like.
func TestSeriesSetsAgree(t *testing.T) {
	var outs [2]string
	for i, impl := range seriesImpls {
		s := impl.make()
		fill(s, 2)
		reg := prometheus.NewRegistry()
		reg.MustRegister(s.collector)
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
		for _, mf := range mfs {
			if err := enc.Encode(mf); err != nil {
				t.Fatal(err)
			}
		}
		outs[i] = buf.String()
	}
	if outs[0] != outs[1] {
		t.Fatalf("the text expositions differ (%d and %d bytes)", len(outs[0]), len(outs[1]))
	}
	if n := bytes.Count([]byte(outs[0]), []byte("_count{")); n != seriesRoutes*seriesCodes {
		t.Fatalf("%d series, want %d", n, seriesRoutes*seriesCodes)
	}
}
