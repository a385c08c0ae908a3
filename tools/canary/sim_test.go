package canary

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/internal/recorder"
)

// Simulated traffic recorded by the SDK's own recorder (the code behind the middleware's
// histograms), exposed through client_golang, and read back as the judge reads Prometheus.

var (
	flagRuns      = flag.Int("canary.runs", 20, "A/A runs of TestAAFalsePositiveRate")
	flagPower     = flag.Bool("canary.power", false, "measure the smallest detectable regressions (slow)")
	flagPowerRuns = flag.Int("canary.powerruns", 20, "runs per effect size in TestSmallestDetectable")
)

// latencyModel draws a request's latency.
type latencyModel struct {
	median time.Duration
	sigma  float64 // of the log-normal
}

func (m latencyModel) draw(r *rand.Rand) time.Duration {
	return time.Duration(float64(m.median) * math.Exp(m.sigma*r.NormFloat64()))
}

// withP99 returns the model whose p99 is factor times m's, median unchanged (a heavier tail).
func (m latencyModel) withP99(factor float64) latencyModel {
	const z99 = 2.3263478740408408
	m.sigma += math.Log(factor) / z99
	return m
}

type routeTraffic struct {
	route, method string
	requests      int
	latency       latencyModel
	errorRatio    float64
}

// simulate records the traffic with the SDK's recorder and returns it as the judge's SideData.
func simulate(t testing.TB, r *rand.Rand, name string, routes []routeTraffic) SideData {
	t.Helper()
	type key struct{ route, method string }
	vec, err := recorder.NewHistogramVec[key](catalog.HTTPServerDuration, "Duration.", []string{catalog.LabelRoute, catalog.LabelMethod},
		recorder.Shape{Bounds: catalog.DefaultDurationBuckets(), Scale: 1e-9})
	if err != nil {
		t.Fatal(err)
	}
	var shards recorder.ShardPicker
	errs := map[key]float64{}
	for _, rt := range routes {
		k := key{rt.route, rt.method}
		h := vec.GetOrCreate(k, func() []string { return []string{rt.route, rt.method} })
		tok := shards.Get()
		for range rt.requests {
			vec.Observe(h, tok.Shard, int64(rt.latency.draw(r)))
			if r.Float64() < rt.errorRatio {
				errs[k]++
			}
		}
		shards.Put(tok)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(vec)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	d := SideData{Selector: name, Instances: []string{"sim/" + name}, Groups: map[Group]*Traffic{}}
	for _, m := range mfs[0].GetMetric() {
		lbl := map[string]string{}
		for _, lp := range m.GetLabel() {
			lbl[lp.GetName()] = lp.GetValue()
		}
		buckets := map[float64]float64{math.Inf(1): float64(m.GetHistogram().GetSampleCount())}
		for _, b := range m.GetHistogram().GetBucket() {
			buckets[b.GetUpperBound()] = float64(b.GetCumulativeCount())
		}
		h, err := newHistogram(buckets)
		if err != nil {
			t.Fatal(err)
		}
		k := key{lbl[catalog.LabelRoute], lbl[catalog.LabelMethod]}
		d.Groups[Group{Kind: "http", Route: k.route, Method: k.method}] = &Traffic{Latency: h, Errors: errs[k]}
	}
	return d
}

// tenMinutesAt50rps is the reference scenario: 30,000 requests per side, split over a
// busy route (80%) and a lighter one.
func tenMinutesAt50rps(p99Factor, canaryErrors float64) (base, can []routeTraffic) {
	const n = 50 * 600
	orders := latencyModel{median: 40 * time.Millisecond, sigma: 0.5}
	users := latencyModel{median: 15 * time.Millisecond, sigma: 0.6}
	base = []routeTraffic{
		{"/orders", "POST", n * 8 / 10, orders, 0.001},
		{"/users/{id}", "GET", n * 2 / 10, users, 0.001},
	}
	can = append([]routeTraffic(nil), base...)
	can[0].latency = orders.withP99(p99Factor)
	can[0].errorRatio = canaryErrors
	return base, can
}

// TestAAFalsePositiveRate runs identical versions -canary.runs times (default 20) in the reference
// scenario and requires at least 19 of 20 to pass (the bar); it logs the rate measured.
func TestAAFalsePositiveRate(t *testing.T) {
	runs := *flagRuns
	r := rand.New(rand.NewPCG(1, 2))
	notPass := 0
	for i := range runs {
		b, c := tenMinutesAt50rps(1, 0.001)
		rep := Compare(Config{Cost: CostConfig{Disabled: true}}, simulate(t, r, "baseline", b), simulate(t, r, "canary", c))
		if rep.Verdict != Pass {
			notPass++
			t.Logf("A/A run %d: %s: %v", i, rep.Verdict, rep.Reasons)
		}
	}
	t.Logf("A/A: %d of %d runs not pass (false-positive rate %.1f%%)", notPass, runs, 100*float64(notPass)/float64(runs))
	if float64(notPass) > 0.05*float64(runs) {
		t.Fatalf("A/A: %d of %d runs did not pass; want at most 5%%", notPass, runs)
	}
}

func TestDetectsP99RegressionOnOneRoute(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	b, c := tenMinutesAt50rps(1.3, 0.001)
	rep := Compare(Config{}, simulate(t, r, "baseline", b), simulate(t, r, "canary", c))
	if rep.Verdict != Fail {
		t.Fatalf("verdict %s, want fail: %v", rep.Verdict, rep.Reasons)
	}
	failing := rep.Failing()
	found := false
	for _, f := range failing {
		if f.Scope == "POST /orders" && f.Metric == "latency" {
			found = true
		}
		if f.Scope == "GET /users/{id}" {
			t.Errorf("the unchanged route fails too: %+v", f)
		}
	}
	if !found {
		t.Fatalf("POST /orders latency not among the failing results: %v", rep.Reasons)
	}
}

func TestDetectsErrorRegressionOnOneRoute(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	b, c := tenMinutesAt50rps(1, 0.02)
	rep := Compare(Config{}, simulate(t, r, "baseline", b), simulate(t, r, "canary", c))
	if rep.Verdict != Fail {
		t.Fatalf("verdict %s, want fail: %v", rep.Verdict, rep.Reasons)
	}
	ok := false
	for _, f := range rep.Failing() {
		ok = ok || f.Scope == "POST /orders" && f.Metric == "errors"
	}
	if !ok {
		t.Fatalf("POST /orders errors not failing: %v", rep.Reasons)
	}
}

// TestSmallestDetectable measures, in the reference scenario, the smallest p99 increase (median
// unchanged, and a whole-distribution slowdown) and the smallest error-ratio increase from 0.1% that
// fail in most runs: go test -run TestSmallestDetectable -v ./canary -canary.power -canary.powerruns 100
func TestSmallestDetectable(t *testing.T) {
	if !*flagPower {
		t.Skip("a measurement: run with -canary.power")
	}
	runs := *flagPowerRuns
	r := rand.New(rand.NewPCG(7, 8))
	power := func(mk func() (b, c []routeTraffic)) float64 {
		fails := 0
		for range runs {
			b, c := mk()
			if Compare(Config{Cost: CostConfig{Disabled: true}}, simulate(t, r, "b", b), simulate(t, r, "c", c)).Verdict == Fail {
				fails++
			}
		}
		return float64(fails) / float64(runs)
	}
	for _, f := range []float64{1.05, 1.1, 1.12, 1.15, 1.2, 1.3} {
		p := power(func() ([]routeTraffic, []routeTraffic) { return tenMinutesAt50rps(f, 0.001) })
		t.Logf("p99 x%.2f (median unchanged) on POST /orders: detected in %.0f%% of runs", f, 100*p)
	}
	for _, f := range []float64{1.05, 1.07, 1.1, 1.15} {
		p := power(func() ([]routeTraffic, []routeTraffic) {
			b, c := tenMinutesAt50rps(1, 0.001)
			c[0].latency.median = time.Duration(float64(c[0].latency.median) * f)
			return b, c
		})
		t.Logf("all latencies x%.2f on POST /orders: detected in %.0f%% of runs", f, 100*p)
	}
	for _, e := range []float64{0.002, 0.003, 0.0035, 0.004, 0.005} {
		p := power(func() ([]routeTraffic, []routeTraffic) { return tenMinutesAt50rps(1, e) })
		t.Logf("errors 0.1%% -> %.2f%% on POST /orders: detected in %.0f%% of runs", 100*e, 100*p)
	}
}

func TestLowTrafficIsInconclusive(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	lat := latencyModel{median: 20 * time.Millisecond, sigma: 0.5}
	b := []routeTraffic{{"/orders", "POST", 300, lat, 0}}
	c := []routeTraffic{{"/orders", "POST", 300, lat.withP99(3), 0.2}}
	rep := Compare(Config{}, simulate(t, r, "baseline", b), simulate(t, r, "canary", c))
	if rep.Verdict != Inconclusive {
		t.Fatalf("verdict %s, want inconclusive: %v", rep.Verdict, rep.Reasons)
	}
	if got := fmt.Sprint(rep.Reasons); !contains(got, "too little traffic") {
		t.Fatalf("reasons %s do not mention too little traffic", got)
	}
}
