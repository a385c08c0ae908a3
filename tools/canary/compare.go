package canary

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// Verdict is the outcome of a canary analysis.
type Verdict string

// Verdicts, with the exit status the command gives each.
const (
	Pass         Verdict = "pass"         // exit 0: promote
	Fail         Verdict = "fail"         // exit 1: roll back
	Marginal     Verdict = "marginal"     // exit 3: the score is between the thresholds
	Inconclusive Verdict = "inconclusive" // exit 3: not enough evidence either way; look again later
)

// Status is the outcome of one metric's comparison (Kayenta's classification).
type Status string

// Statuses.
const (
	StatusPass   Status = "pass"   // no significant change beyond tolerance
	StatusHigh   Status = "high"   // significantly higher on the canary
	StatusLow    Status = "low"    // significantly lower on the canary
	StatusNoData Status = "nodata" // too little data to compare
)

// Group is one thing the judge compares separately: an HTTP route and method, a gRPC method,
// or (Route and Method empty) the whole service's HTTP or gRPC traffic.
type Group struct {
	Kind   string // "http" or "grpc"
	Route  string // http_route; empty for gRPC and for the whole service
	Method string // http_request_method or rpc_method; empty for the whole service
}

// Service reports whether g stands for all of the service's traffic of its kind.
func (g Group) Service() bool { return g.Route == "" && g.Method == "" }

func (g Group) String() string {
	switch {
	case g.Service():
		return "service (" + g.Kind + ")"
	case g.Kind == "grpc":
		return "grpc " + g.Method
	default:
		return g.Method + " " + g.Route
	}
}

// Traffic is one group's requests over the window on one side.
type Traffic struct {
	Latency Histogram
	Errors  float64
}

// SideData is what the judge read for one side.
type SideData struct {
	// Selector is the side's selector as given, for messages.
	Selector string
	// Instances are job/instance pairs the selector matched.
	Instances []string
	// Groups holds per-route and per-method traffic (never the whole-service aggregate).
	Groups map[Group]*Traffic
	// Series are step-sampled values by metric name; a missing key means not exported.
	Series map[string][]float64
}

// SideStats summarises one side of one metric.
type SideStats struct {
	Requests   float64    `json:"requests,omitempty"`
	Errors     float64    `json:"errors,omitempty"`
	ErrorRatio float64    `json:"error_ratio,omitempty"`
	ErrorLo    float64    `json:"error_ratio_lo,omitempty"`
	ErrorHi    float64    `json:"error_ratio_hi,omitempty"`
	Quantiles  []Quantile `json:"quantiles,omitempty"`
	Points     int        `json:"points,omitempty"`
	Median     float64    `json:"median,omitempty"`
}

// Result is one metric's comparison.
type Result struct {
	Metric   string `json:"metric"` // latency, errors, cpu_per_request, heap_bytes, goroutines, gc_cpu_share or an extra metric's name
	Scope    string `json:"scope"`  // the group ("GET /orders", "grpc shop.Cart/Add", "service (http)") or "instance"
	Group    *Group `json:"group,omitempty"`
	Status   Status `json:"status"`
	Critical bool   `json:"critical"`
	// Direction is the change that counts as worse: increase (the default) or, for extra
	// metrics, decrease or either.
	Direction Direction `json:"direction"`
	// up records, for Direction either, which way the shift went.
	up     bool
	Weight float64 `json:"weight"`
	// P is the one-sided p-value of "the canary is worse beyond tolerance"; AdjustedP is P after
	// Holm's adjustment over every compared metric (compare with the report's Alpha).
	P         float64 `json:"p"`
	AdjustedP float64 `json:"adjusted_p"`
	pBetter   float64
	// Effect says in words how the canary differs.
	Effect     string     `json:"effect"`
	Note       string     `json:"note,omitempty"`
	Baseline   SideStats  `json:"baseline"`
	Canary     SideStats  `json:"canary"`
	Boundaries []Boundary `json:"boundaries,omitempty"`
	Exemplars  []Exemplar `json:"exemplars,omitempty"`
	// Histograms of latency results, for --html.
	BaselineLatency *Histogram `json:"baseline_latency,omitempty"`
	CanaryLatency   *Histogram `json:"canary_latency,omitempty"`
}

// Report is the judgement.
type Report struct {
	Verdict Verdict `json:"verdict"`
	// Score is the weighted share (0-100) of compared metrics that are not worse.
	Score float64 `json:"score"`
	// Reasons explain a verdict other than pass: the failing metrics, or why it is inconclusive.
	Reasons    []string  `json:"reasons,omitempty"`
	Alpha      float64   `json:"alpha"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	Baseline   SideInfo  `json:"baseline"`
	Canary     SideInfo  `json:"canary"`
	Results    []Result  `json:"results"`
	Look       int       `json:"look,omitempty"` // watch mode: the look number, from 1
	Final      bool      `json:"final,omitempty"`
	Sequential string    `json:"sequential,omitempty"`
}

// SideInfo names a side in the report.
type SideInfo struct {
	Selector  string   `json:"selector"`
	Instances []string `json:"instances"`
}

// Failing returns the results that are worse on the canary.
func (r *Report) Failing() []Result {
	var out []Result
	for _, res := range r.Results {
		if res.fails() {
			out = append(out, res)
		}
	}
	return out
}

// fails reports whether the result counts against the canary.
func (r Result) fails() bool {
	switch r.Direction {
	case Decrease:
		return r.Status == StatusLow
	case Either:
		return r.Status == StatusLow || r.Status == StatusHigh
	default:
		return r.Status == StatusHigh
	}
}

// worseStatus is the status a significant worse change gets, and betterStatus a better one.
func (r Result) worseStatus() Status {
	if r.Direction == Decrease || r.Direction == Either && !r.up {
		return StatusLow
	}
	return StatusHigh
}

func (r Result) betterStatus() Status {
	if r.Direction == Decrease {
		return StatusHigh
	}
	return StatusLow
}

// Compare judges already-fetched data: the statistics without Prometheus. Judge fetches and
// calls it; tests call it with simulated data.
func Compare(cfg Config, base, can SideData) Report {
	c := cfg.withDefaults()
	rep := Report{Alpha: c.Alpha, Baseline: SideInfo{base.Selector, base.Instances}, Canary: SideInfo{can.Selector, can.Instances}}
	inconclusive := func(format string, a ...any) { rep.Reasons = append(rep.Reasons, fmt.Sprintf(format, a...)) }

	// Per-route and per-method groups, then the whole service of each kind.
	keys := map[Group]bool{}
	for g := range base.Groups {
		keys[g] = true
	}
	for g := range can.Groups {
		keys[g] = true
	}
	var groups []Group
	for g := range keys {
		name := g.Route
		if g.Kind == "grpc" {
			name = g.Method
		}
		if !c.ignored(name) {
			groups = append(groups, g)
		}
	}
	sort.Slice(groups, func(i, j int) bool { return groups[i].String() < groups[j].String() })
	service := map[string][2]*Traffic{}
	get := func(m map[Group]*Traffic, g Group) *Traffic {
		if t, ok := m[g]; ok {
			return t
		}
		return nil
	}
	for _, g := range groups {
		tb, tc := get(base.Groups, g), get(can.Groups, g)
		pair := service[g.Kind]
		for i, t := range []*Traffic{tb, tc} {
			if t == nil {
				continue
			}
			if pair[i] == nil {
				pair[i] = &Traffic{}
			}
			if err := pair[i].Latency.add(t.Latency); err != nil {
				inconclusive("%s: %v", g, err)
			}
			pair[i].Errors += t.Errors
		}
		service[g.Kind] = pair
	}
	for _, kind := range []string{"http", "grpc"} {
		pair, ok := service[kind]
		if !ok {
			continue
		}
		g := Group{Kind: kind}
		rep.Results = append(rep.Results, c.compareTraffic(g, pair[0], pair[1], base.Selector, can.Selector, inconclusive)...)
	}
	if len(service) == 0 {
		inconclusive("no requests on either side: %s and %s select no %s or %s series with traffic in the window",
			base.Selector, can.Selector, "HTTP", "gRPC")
	}
	for _, g := range groups {
		rep.Results = append(rep.Results, c.compareTraffic(g, get(base.Groups, g), get(can.Groups, g), base.Selector, can.Selector, inconclusive)...)
	}
	// Step-sampled latency (Kayenta mode), cost and extra metrics.
	var names []string
	for n := range base.Series {
		names = append(names, n)
	}
	for n := range can.Series {
		if _, ok := base.Series[n]; !ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		b, okB := base.Series[n]
		cs, okC := can.Series[n]
		res := c.compareSeries(n, b, cs)
		switch {
		case !okB || !okC:
			side, sel := "canary", can.Selector
			if !okB {
				side, sel = "baseline", base.Selector
			}
			res.Status = StatusNoData
			res.Note = fmt.Sprintf("missing on the %s (%s)", side, sel)
			inconclusive("%s %s: %s", res.Scope, res.Metric, res.Note)
		case res.Status == StatusNoData && res.Critical:
			inconclusive("%s %s (critical): %s", res.Scope, res.Metric, res.Note)
		}
		rep.Results = append(rep.Results, res)
	}

	// Holm over everything compared.
	var idx []int
	var ps []float64
	for i, r := range rep.Results {
		if r.Status != StatusNoData {
			idx = append(idx, i)
			ps = append(ps, r.P)
		}
	}
	adj := holm(ps)
	m := float64(len(ps))
	for k, i := range idx {
		r := &rep.Results[i]
		r.AdjustedP = adj[k]
		switch {
		case adj[k] < c.Alpha:
			r.Status = r.worseStatus()
		case r.pBetter*m < c.Alpha:
			r.Status = r.betterStatus()
		default:
			r.Status = StatusPass
		}
	}
	// Score and verdict.
	inconc := rep.Reasons
	var failing []string
	var total, good float64
	criticalFail := false
	for _, r := range rep.Results {
		if r.Status == StatusNoData {
			continue
		}
		total += r.Weight
		if r.fails() {
			failing = append(failing, fmt.Sprintf("%s %s is worse on the canary: %s (adjusted p=%.3g)", r.Scope, r.Metric, r.Effect, r.AdjustedP))
			criticalFail = criticalFail || r.Critical
		} else {
			good += r.Weight
		}
	}
	if total > 0 {
		rep.Score = math.Round(1000*good/total) / 10
	}
	rep.Reasons = append(failing, inconc...)
	switch {
	case criticalFail:
		rep.Verdict = Fail
	case len(inconc) > 0 || total == 0:
		rep.Verdict = Inconclusive
		if len(rep.Reasons) == 0 {
			rep.Reasons = []string{"nothing could be compared"}
		}
	case rep.Score >= c.PassScore:
		rep.Verdict = Pass
	case rep.Score >= c.MarginalScore:
		rep.Verdict = Marginal
	default:
		rep.Verdict = Fail
	}
	return rep
}

// compareTraffic compares one group's latency and errors. note collects reasons for an
// inconclusive verdict.
func (c Config) compareTraffic(g Group, b, cn *Traffic, selB, selC string, note func(string, ...any)) []Result {
	service := g.Service()
	gg := g
	lat := Result{Metric: "latency", Scope: g.String(), Group: &gg, Critical: c.Latency.critical(true), Weight: c.Latency.weight(), P: 1, pBetter: 1, Direction: Increase}
	errs := Result{Metric: "errors", Scope: g.String(), Group: &gg, Critical: c.Errors.critical(true), Weight: c.Errors.weight(), P: 1, pBetter: 1, Direction: Increase}
	var nB, nC float64
	if b != nil {
		nB = b.Latency.Total()
		lat.Baseline.Requests, errs.Baseline.Requests = nB, nB
	}
	if cn != nil {
		nC = cn.Latency.Total()
		lat.Canary.Requests, errs.Canary.Requests = nC, nC
	}
	if nB < c.MinRequests || nC < c.MinRequests {
		why := fmt.Sprintf("too little traffic: %.0f requests on the baseline, %.0f on the canary (min_requests %.0f)", nB, nC, c.MinRequests)
		if b == nil {
			why = fmt.Sprintf("missing on the baseline (%s); %.0f requests on the canary", selB, nC)
		} else if cn == nil {
			why = fmt.Sprintf("missing on the canary (%s); %.0f requests on the baseline", selC, nB)
		}
		lat.Status, errs.Status = StatusNoData, StatusNoData
		lat.Note, errs.Note = why, why
		// The whole service must have the traffic; a route only when one side has it and the
		// other does not (a route that is rare on both sides is reported, not judged).
		if service || nB >= c.MinRequests || nC >= c.MinRequests {
			note("%s: %s", g, why)
		}
		return []Result{lat, errs}
	}
	conf := 0.95
	if c.Latency.Mode == "buckets" {
		bl, cl := b.Latency, cn.Latency
		lat.BaselineLatency, lat.CanaryLatency = &bl, &cl
		for _, q := range []float64{0.5, 0.9, 0.99} {
			lat.Baseline.Quantiles = append(lat.Baseline.Quantiles, bl.quantile(q, conf))
			lat.Canary.Quantiles = append(lat.Canary.Quantiles, cl.quantile(q, conf))
		}
		if !sameBounds(bl.Bounds, cl.Bounds) {
			lat.Status = StatusNoData
			lat.Note = fmt.Sprintf("bucket boundaries differ between the sides: %v and %v", bl.Bounds, cl.Bounds)
		} else {
			lat.Boundaries, lat.P, lat.pBetter = compareBoundaries(bl, cl, c.Latency.RatioTolerance, c.Latency.AbsoluteTolerance, conf)
			lat.Effect = latencyEffect(lat)
		}
	} else {
		lat = Result{} // judged from step-sampled series instead
	}
	errs.Baseline.Errors, errs.Canary.Errors = b.Errors, cn.Errors
	errs.Baseline.ErrorRatio, errs.Canary.ErrorRatio = b.Errors/nB, cn.Errors/nC
	errs.Baseline.ErrorLo, errs.Baseline.ErrorHi = wilson(b.Errors, nB, conf)
	errs.Canary.ErrorLo, errs.Canary.ErrorHi = wilson(cn.Errors, nC, conf)
	errs.P, errs.pBetter = propTest(b.Errors, nB, cn.Errors, nC, c.Errors.RatioTolerance, c.Errors.AbsoluteTolerance)
	errs.Effect = fmt.Sprintf("error ratio %.3f%% -> %.3f%% (%.0f/%.0f -> %.0f/%.0f)",
		100*errs.Baseline.ErrorRatio, 100*errs.Canary.ErrorRatio, b.Errors, nB, cn.Errors, nC)
	if lat.Metric == "" {
		return []Result{errs}
	}
	return []Result{lat, errs}
}

// latencyEffect describes the quantiles and the boundary that moved most.
func latencyEffect(r Result) string {
	var parts []string
	for i, q := range r.Baseline.Quantiles {
		cq := r.Canary.Quantiles[i]
		parts = append(parts, fmt.Sprintf("p%g %s -> %s", 100*q.Q, fmtSeconds(q.Value), fmtSeconds(cq.Value)))
	}
	best, worst := -1, 1.0
	for i, bd := range r.Boundaries {
		if bd.PWorse < worst {
			best, worst = i, bd.PWorse
		}
	}
	if best >= 0 {
		bd := r.Boundaries[best]
		parts = append(parts, fmt.Sprintf("slower than %s: %.2f%% -> %.2f%%", fmtSeconds(bd.Le), 100*bd.Baseline, 100*bd.Canary))
	}
	return strings.Join(parts, ", ")
}

func fmtSeconds(s float64) string {
	if math.IsNaN(s) {
		return "n/a"
	}
	return time.Duration(s * float64(time.Second)).Round(10 * time.Microsecond).String()
}

// compareSeries compares a step-sampled metric with Mann-Whitney U and the Hodges-Lehmann shift.
func (c Config) compareSeries(name string, b, cs []float64) Result {
	res := Result{Metric: name, Scope: "instance", P: 1, pBetter: 1}
	dir, tol := Increase, c.Cost.Tolerance
	res.Critical, res.Weight = c.Cost.critical(false), c.Cost.weight()
	if strings.HasPrefix(name, "latency:") {
		res.Metric, res.Scope = "latency", strings.TrimPrefix(name, "latency:")
		res.Critical, res.Weight, tol = c.Latency.critical(true), c.Latency.weight(), c.Latency.Tolerance
	}
	for _, m := range c.Metrics {
		if m.Name == name {
			res.Scope = "service"
			res.Critical, res.Weight, dir, tol = m.critical(false), m.weight(), m.Direction, m.Tolerance
		}
	}
	res.Direction = dir
	b, cs = finite(b), finite(cs)
	res.Baseline.Points, res.Canary.Points = len(b), len(cs)
	if len(b) < c.MinPoints || len(cs) < c.MinPoints {
		res.Status = StatusNoData
		res.Note = fmt.Sprintf("too few points: %d on the baseline, %d on the canary (min_points %d)", len(b), len(cs), c.MinPoints)
		return res
	}
	res.Baseline.Median, res.Canary.Median = median(b), median(cs)
	p, shift, abs := mannWhitney(b, cs)
	res.Effect = fmt.Sprintf("median %.4g -> %.4g, Hodges-Lehmann shift %+.1f%% (tolerance %.0f%%)", res.Baseline.Median, res.Canary.Median, 100*shift, 100*tol)
	up, down := shift > tol, shift < -tol
	if floor := absoluteFloor[name]; math.Abs(abs) < floor {
		// A large relative change of a tiny share (0.3% -> 0.4% of CPU in GC) is noise, not cost.
		up, down = false, false
		res.Effect += fmt.Sprintf(", within the absolute floor %g", floor)
	}
	switch dir {
	case Increase:
		if up {
			res.P = p / 2
		}
		if down {
			res.pBetter = p / 2
		}
	case Decrease:
		// Worse is lower: P carries "lower beyond tolerance", reported as StatusLow.
		if down {
			res.P = p / 2
		}
		if up {
			res.pBetter = p / 2
		}
	case Either:
		if up || down {
			res.P, res.up = p, up
		}
	}
	return res
}

// absoluteFloor is the smallest absolute Hodges-Lehmann shift that can count for a metric, on top
// of the relative tolerance.
var absoluteFloor = map[string]float64{
	"gc_cpu_share": 0.01, // one percentage point of CPU
}

func finite(xs []float64) []float64 {
	out := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			out = append(out, x)
		}
	}
	return out
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n == 0 {
		return math.NaN()
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
