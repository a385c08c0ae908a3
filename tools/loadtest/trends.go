package loadtest

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/perfobs/perfobs-go/catalog"
)

// netGoroutines names the series of goroutines less open file descriptors.
const netGoroutines = "goroutines-fds"

// minTrendSamples is the fewest samples a trend is decided on: fewer is inconclusive.
const minTrendSamples = 8

// Trends are the robust fits of a soak's series.
type Trends struct {
	// Interval is the time between two scrapes of /metrics; Scrapes counts them, Failed the
	// scrapes that failed during the run (left out).
	Interval time.Duration `json:"interval"`
	Scrapes  int           `json:"scrapes"`
	Failed   int           `json:"failed_scrapes,omitempty"`
	Series   []Trend       `json:"series"`
}

// Trend is the Theil–Sen fit of one series over time: the median of the slopes between
// every pair of samples, robust to outliers and to the saw-tooth of a garbage-collected heap,
// with Sen's rank-based 95% confidence interval (from the normal approximation of Kendall's
// statistic, corrected for ties).
type Trend struct {
	// Metric is the budget name: goroutines, heap, fds, rss or p99-drift; Source is the
	// series it was read from.
	Metric string `json:"metric"`
	Source string `json:"source"`
	// Unit of the values: goroutines, bytes, fds or seconds.
	Unit        string  `json:"unit"`
	Samples     int     `json:"samples"`
	Span        float64 `json:"span_hours"`
	Median      float64 `json:"median"`
	First       float64 `json:"first"`
	Last        float64 `json:"last"`
	Slope       float64 `json:"slope_per_hour"`
	Low         float64 `json:"low_per_hour"`
	High        float64 `json:"high_per_hour"`
	Significant bool    `json:"significant"`
}

// ServerPoint is one scrape of the service's /metrics during a run, with the RED figures of
// the requests it recorded since the previous scrape and the client's p99 over that time.
type ServerPoint struct {
	T          time.Duration `json:"t"`
	Goroutines float64       `json:"goroutines"`
	Heap       float64       `json:"heap_bytes"`
	FDs        float64       `json:"open_fds"`
	RSS        float64       `json:"rss_bytes"`
	Rate       float64       `json:"rate"`
	ErrorRate  float64       `json:"error_rate"`
	P99        time.Duration `json:"p99"`
	ClientP99  time.Duration `json:"client_p99"`
	has        map[string]bool
}

type sample struct {
	at   time.Duration
	snap *Snapshot
}

// serverTimeline turns the scrapes of a run into points.
func (r *Report) serverTimeline() []ServerPoint {
	var pts []ServerPoint
	for i, s := range r.samples {
		p := ServerPoint{T: s.at, has: map[string]bool{}}
		g := s.snap.gauges
		get := func(names ...string) float64 {
			for _, n := range names {
				if v, ok := g[n]; ok {
					p.has[n] = true
					return v
				}
			}
			return math.NaN()
		}
		p.Goroutines = get(catalog.GoGoroutines)
		p.Heap = get(catalog.GoGCHeapLive, "go_memstats_heap_alloc_bytes")
		p.FDs = get("process_open_fds")
		p.RSS = get("process_resident_memory_bytes")
		if i > 0 {
			red := Diff(r.samples[i-1].snap, s.snap)
			p.Rate, p.ErrorRate, p.P99 = red.Rate, red.ErrorRate, red.P99
			st := collect(span(r.recs, r.samples[i-1].at, s.at))
			p.ClientP99, _ = st.quantile(0.99)
		}
		pts = append(pts, p)
	}
	return pts
}

// fitTrends fits every series the scrapes hold.
func (r *Report) fitTrends(interval time.Duration, failed int) *Trends {
	pts := r.serverTimeline()
	tr := &Trends{Interval: interval, Scrapes: len(pts), Failed: failed}
	series := []struct {
		metric, unit string
		sources      []string
		get          func(ServerPoint) float64
	}{
		{"goroutines", "goroutines", []string{catalog.GoGoroutines}, func(p ServerPoint) float64 { return p.Goroutines }},
		{"heap", "bytes", []string{catalog.GoGCHeapLive, "go_memstats_heap_alloc_bytes"}, func(p ServerPoint) float64 { return p.Heap }},
		{"fds", "fds", []string{"process_open_fds"}, func(p ServerPoint) float64 { return p.FDs }},
		{"rss", "bytes", []string{"process_resident_memory_bytes"}, func(p ServerPoint) float64 { return p.RSS }},
	}
	for _, s := range series {
		var xs, ys []float64
		source := ""
		for _, p := range pts {
			v := s.get(p)
			if math.IsNaN(v) {
				continue
			}
			for _, n := range s.sources {
				if p.has[n] {
					source = n
					break
				}
			}
			xs, ys = append(xs, p.T.Hours()), append(ys, v)
		}
		if len(xs) == 0 {
			continue
		}
		tr.Series = append(tr.Series, fit(s.metric, source, s.unit, xs, ys))
	}
	// Goroutines net of open file descriptors: a connection is a descriptor and a goroutine of
	// an HTTP server, so this series stays flat when the generator opens more connections and
	// grows when goroutines leak.
	{
		var xs, ys []float64
		for _, p := range pts {
			if !math.IsNaN(p.Goroutines) && !math.IsNaN(p.FDs) {
				xs, ys = append(xs, p.T.Hours()), append(ys, p.Goroutines-p.FDs)
			}
		}
		if len(xs) > 0 {
			tr.Series = append(tr.Series, fit(netGoroutines, catalog.GoGoroutines+" - process_open_fds", "goroutines", xs, ys))
		}
	}
	// p99 drift: the client's p99 between consecutive scrapes (answered requests).
	var xs, ys []float64
	for i, p := range pts {
		if i > 0 && p.ClientP99 > 0 {
			xs, ys = append(xs, p.T.Hours()), append(ys, p.ClientP99.Seconds())
		}
	}
	if len(xs) > 0 {
		tr.Series = append(tr.Series, fit("p99-drift", "client p99 per scrape interval", "seconds", xs, ys))
	}
	return tr
}

func fit(metric, source, unit string, xs, ys []float64) Trend {
	t := Trend{Metric: metric, Source: source, Unit: unit, Samples: len(xs), First: ys[0], Last: ys[len(ys)-1],
		Span: xs[len(xs)-1] - xs[0]}
	sorted := slices.Clone(ys)
	slices.Sort(sorted)
	t.Median = sorted[len(sorted)/2]
	t.Slope, t.Low, t.High = theilSen(xs, ys, 0.95)
	// JSON has no infinity: an unbounded side is the largest float.
	t.Low, t.High = max(t.Low, -math.MaxFloat64), min(t.High, math.MaxFloat64)
	t.Significant = len(xs) >= minTrendSamples && t.Low > 0
	return t
}

// theilSen returns the Theil–Sen slope of ys over xs and Sen's rank-based confidence interval
// at level conf. The interval takes the pairwise slopes ranked (N - C)/2 and (N + C)/2, where
// C is the normal quantile times the standard deviation of Kendall's S under no trend.
func theilSen(xs, ys []float64, conf float64) (slope, low, high float64) {
	n := len(xs)
	var slopes []float64
	for i := range n {
		for j := i + 1; j < n; j++ {
			if dx := xs[j] - xs[i]; dx != 0 {
				slopes = append(slopes, (ys[j]-ys[i])/dx)
			}
		}
	}
	if len(slopes) == 0 {
		return 0, math.Inf(-1), math.Inf(1)
	}
	slices.Sort(slopes)
	N := len(slopes)
	if N%2 == 1 {
		slope = slopes[N/2]
	} else {
		slope = (slopes[N/2-1] + slopes[N/2]) / 2
	}
	// Variance of S, less the ties of ys (ties of xs do not occur: samples are at distinct
	// times).
	v := float64(n*(n-1)*(2*n+5)) / 18
	counts := map[float64]int{}
	for _, y := range ys {
		counts[y]++
	}
	for _, c := range counts {
		if c > 1 {
			v -= float64(c*(c-1)*(2*c+5)) / 18
		}
	}
	z := distuv.UnitNormal.Quantile(1 - (1-conf)/2)
	c := z * math.Sqrt(max(v, 0))
	lo := int(math.Floor((float64(N) - c) / 2)) // 1-based rank M1
	hi := int(math.Ceil((float64(N)+c)/2)) + 1  // 1-based rank M2+1
	if lo < 1 {
		low = math.Inf(-1)
	} else {
		low = slopes[lo-1]
	}
	if hi > N {
		high = math.Inf(1)
	} else {
		high = slopes[hi-1]
	}
	return slope, low, high
}

func (l Limit) evalTrend(r *Report) (verdict, string) {
	if r.Trends == nil {
		return verdictUndecided, "no trend: pass the service's /metrics (--metrics URL) to check growth"
	}
	t := r.Trends.find(l.Metric)
	if t == nil {
		return verdictUndecided, fmt.Sprintf("the service's /metrics has no %s series", l.Metric)
	}
	got := t.describe()
	if t.Samples < minTrendSamples {
		return verdictUndecided, fmt.Sprintf("%s: only %d samples (want at least %d: run longer or scrape more often)", got, t.Samples, minTrendSamples)
	}
	if l.auto {
		// Significant (the interval is above zero) and material: the least growth the
		// interval allows, over the run, is at least autoFloor.
		grows := func(t *Trend) bool { return t.Low > 0 && t.Low*t.Span >= autoFloor(t) }
		if !grows(t) {
			return verdictMet, got
		}
		if l.Metric == "goroutines" {
			// New connections add goroutines too: the growth must remain net of them.
			if net := r.Trends.find(netGoroutines); net != nil && !grows(net) {
				return verdictMet, got + "; net of open fds " + net.describe() + ": new connections, not a leak"
			}
		}
		return verdictBroken, got + ": a significant upward trend"
	}
	switch {
	case t.Low > l.Value:
		return verdictBroken, got
	case cmp(l.Op, t.High, l.Value):
		return verdictMet, got
	}
	return verdictUndecided, got + ": the interval straddles the bound (run longer)"
}

// autoFloor is the growth over a run that the default trend limits overlook: 2 goroutines,
// or 1 MiB or 5% of the median heap, whichever is more (a heap settles after a start).
func autoFloor(t *Trend) float64 {
	if t.Metric == "heap" {
		return max(1<<20, 0.05*t.Median)
	}
	return 2
}

func (tr *Trends) find(metric string) *Trend {
	for i := range tr.Series {
		if tr.Series[i].Metric == metric {
			return &tr.Series[i]
		}
	}
	return nil
}

// describe prints a trend with its unit and interval.
func (t *Trend) describe() string {
	f := func(v float64) string {
		switch {
		case math.Abs(v) >= math.MaxFloat64:
			return map[bool]string{true: "+inf", false: "-inf"}[v > 0]
		case t.Unit == "bytes":
			return fmtBytes(v)
		case t.Unit == "seconds":
			return fmtSigned(time.Duration(v * float64(time.Second)))
		}
		return fmt.Sprintf("%+.1f", v)
	}
	return fmt.Sprintf("%s %s/h (95%% CI %s to %s, %d samples, %s)", t.Metric, f(t.Slope), f(t.Low), f(t.High), t.Samples, t.Source)
}

func fmtSigned(d time.Duration) string {
	if d < 0 {
		return "-" + fmtDur(-d)
	}
	return "+" + fmtDur(d)
}

func fmtBytes(v float64) string {
	sign := "+"
	if v < 0 {
		sign, v = "-", -v
	}
	for _, u := range []struct {
		name  string
		scale float64
	}{{"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}} {
		if v >= u.scale {
			return fmt.Sprintf("%s%.2f%s", sign, v/u.scale, u.name)
		}
	}
	return fmt.Sprintf("%s%.0fB", sign, v)
}

func (tr *Trends) writeText(b *strings.Builder) {
	fmt.Fprintf(b, "trends      %d scrapes of /metrics every %s", tr.Scrapes, tr.Interval)
	if tr.Failed > 0 {
		fmt.Fprintf(b, " (%d failed, left out)", tr.Failed)
	}
	b.WriteString("\n")
	for _, t := range tr.Series {
		mark := ""
		if t.Significant {
			mark = "  <- significant growth"
		}
		fmt.Fprintf(b, "            %s%s\n", t.describe(), mark)
	}
}
