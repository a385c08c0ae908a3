package canary

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/perfobs/perfobs-go/catalog"
)

// Querier is the part of the Prometheus HTTP API the judge uses; *Client implements it.
type Querier interface {
	Query(ctx context.Context, q string, t time.Time) (model.Vector, error)
	QueryRange(ctx context.Context, q string, start, end time.Time, step time.Duration) (model.Matrix, error)
	Exemplars(ctx context.Context, q string, start, end time.Time) ([]Exemplar, error)
}

// Request is one analysis: two sides and a window.
type Request struct {
	Baseline, Canary Selector
	Start, End       time.Time
	Config           Config
}

// ErrInput marks errors in the request itself (overlapping selectors, an empty window): the
// command reports them with the usage exit status.
var ErrInput = errors.New("invalid input")

// Judge reads both sides from Prometheus and compares them. A Prometheus error is returned
// (wrapping *QueryError, which names the query); a side without data is an Inconclusive report.
func Judge(ctx context.Context, q Querier, req Request) (Report, error) {
	if !req.End.After(req.Start) {
		return Report{}, fmt.Errorf("%w: window end %s is not after start %s", ErrInput, req.End.Format(time.RFC3339), req.Start.Format(time.RFC3339))
	}
	c := req.Config.withDefaults()
	w := promDuration(req.End.Sub(req.Start))
	sides := []*side{{sel: req.Baseline, name: "baseline"}, {sel: req.Canary, name: "canary"}}
	for _, s := range sides {
		if err := s.resolve(ctx, q, req.End, w); err != nil {
			return Report{}, err
		}
	}
	var notFound []string
	for _, s := range sides {
		if len(s.instances) == 0 {
			notFound = append(notFound, fmt.Sprintf("the %s selector %s matches no scraped target in the window", s.name, s.sel))
		}
	}
	if len(notFound) > 0 {
		return Report{Verdict: Inconclusive, Reasons: notFound, Alpha: c.Alpha, Start: req.Start, End: req.End,
			Baseline: SideInfo{req.Baseline.String(), sides[0].instances}, Canary: SideInfo{req.Canary.String(), sides[1].instances}}, nil
	}
	inBase := map[string]bool{}
	for _, i := range sides[0].instances {
		inBase[i] = true
	}
	for _, i := range sides[1].instances {
		if inBase[i] {
			return Report{}, fmt.Errorf("%w: target %s matches both the baseline (%s) and the canary (%s) selectors", ErrInput, i, req.Baseline, req.Canary)
		}
	}
	data := make([]SideData, 2)
	for i, s := range sides {
		d, err := s.fetch(ctx, q, c, req.Start, req.End, w)
		if err != nil {
			return Report{}, err
		}
		data[i] = d
	}
	rep := Compare(req.Config, data[0], data[1])
	rep.Start, rep.End = req.Start, req.End
	for i := range rep.Results {
		r := &rep.Results[i]
		if r.Metric != "latency" || !r.fails() || r.Group == nil || len(r.Baseline.Quantiles) == 0 {
			continue
		}
		ex, err := slowExemplars(ctx, q, sides[1], *r.Group, req.Start, req.End, r.Baseline.Quantiles[len(r.Baseline.Quantiles)-1].Value)
		if err != nil {
			// Evidence is a bonus: exemplar storage may be off. Say so, never fail the verdict on it.
			r.Note = strings.TrimSpace(r.Note + " exemplars unavailable: " + err.Error())
			continue
		}
		r.Exemplars = ex
	}
	return rep, nil
}

type side struct {
	sel       Selector
	name      string
	instances []string
	matchers  []Matcher // the effective matchers: sel.Matchers, plus job and instance for a version
}

// resolve finds the targets of a side: those with an up series (plain matchers) or a target_info
// with the version (a service_version matcher) at any time in the window.
func (s *side) resolve(ctx context.Context, q Querier, end time.Time, w string) error {
	metric := "up"
	ms := append([]Matcher(nil), s.sel.Matchers...)
	if len(s.sel.Version) > 0 {
		metric = catalog.TargetInfo
		ms = append(ms, s.sel.Version...)
	}
	expr := fmt.Sprintf("group by (job, instance) (last_over_time(%s{%s}[%s]))", metric, joinMatchers(ms), w)
	v, err := q.Query(ctx, expr, end)
	if err != nil {
		return fmt.Errorf("resolving the %s selector %s: %w", s.name, s.sel, err)
	}
	jobs, insts := map[string]bool{}, map[string]bool{}
	for _, smp := range v {
		job, inst := string(smp.Metric["job"]), string(smp.Metric["instance"])
		s.instances = append(s.instances, job+"/"+inst)
		jobs[job], insts[inst] = true, true
	}
	sort.Strings(s.instances)
	s.matchers = append([]Matcher(nil), s.sel.Matchers...)
	if len(s.sel.Version) > 0 && len(v) > 0 {
		// Only target_info carries the version: pin the other series to its targets.
		s.matchers = append(s.matchers, Matcher{"job", MatchRegexp, alternation(jobs)}, Matcher{"instance", MatchRegexp, alternation(insts)})
	}
	return nil
}

func alternation(set map[string]bool) string {
	var xs []string
	for x := range set {
		xs = append(xs, regexp.QuoteMeta(x))
	}
	sort.Strings(xs)
	return strings.Join(xs, "|")
}

func (s *side) selector(extra ...Matcher) string {
	return joinMatchers(append(append([]Matcher(nil), s.matchers...), extra...))
}

// histogramKinds are the SDK's server duration histograms and their group labels.
var histogramKinds = []struct {
	kind, metric, route, method string
}{
	{"http", catalog.HTTPServerDuration, catalog.LabelRoute, catalog.LabelMethod},
	{"grpc", catalog.RPCServerDuration, "", catalog.LabelRPCMethod},
}

func (s *side) fetch(ctx context.Context, q Querier, c Config, start, end time.Time, w string) (SideData, error) {
	d := SideData{Selector: s.sel.String(), Instances: s.instances, Groups: map[Group]*Traffic{}, Series: map[string][]float64{}}
	for _, k := range histogramKinds {
		by := k.method
		if k.route != "" {
			by = k.route + ", " + k.method
		}
		bq := fmt.Sprintf("sum by (%s, le) (increase(%s_bucket{%s}[%s]))", by, k.metric, s.selector(), w)
		v, err := q.Query(ctx, bq, end)
		if err != nil {
			return d, err
		}
		buckets := map[Group]map[float64]float64{}
		for _, smp := range v {
			g := Group{Kind: k.kind, Method: string(smp.Metric[model.LabelName(k.method)])}
			if k.route != "" {
				g.Route = string(smp.Metric[model.LabelName(k.route)])
			}
			le, err := parseLe(string(smp.Metric["le"]))
			if err != nil {
				return d, &QueryError{bq, err}
			}
			if buckets[g] == nil {
				buckets[g] = map[float64]float64{}
			}
			buckets[g][le] += float64(smp.Value)
		}
		for g, b := range buckets {
			h, err := newHistogram(b)
			if err != nil {
				return d, &QueryError{bq, fmt.Errorf("%s: %w", g, err)}
			}
			if h.Total() < 0.5 {
				continue // a route idle through the window
			}
			for i := range h.Cumulative {
				h.Cumulative[i] = math.Round(h.Cumulative[i])
			}
			d.Groups[g] = &Traffic{Latency: h}
		}
		eq := fmt.Sprintf("sum by (%s) (increase(%s_count{%s}[%s]))", by, k.metric,
			s.selector(Matcher{catalog.LabelErrorType, MatchNotEqual, ""}), w)
		v, err = q.Query(ctx, eq, end)
		if err != nil {
			return d, err
		}
		for _, smp := range v {
			g := Group{Kind: k.kind, Method: string(smp.Metric[model.LabelName(k.method)])}
			if k.route != "" {
				g.Route = string(smp.Metric[model.LabelName(k.route)])
			}
			if t := d.Groups[g]; t != nil {
				t.Errors = math.Min(math.Round(float64(smp.Value)), t.Latency.Total())
			}
		}
	}
	step := c.Step
	if step == 0 {
		step = max(end.Sub(start)/60, 10*time.Second)
	}
	rw := promDuration(3 * step)
	var series []struct{ name, expr string }
	if !c.Cost.Disabled {
		sel := s.selector()
		reqs := fmt.Sprintf(`sum(rate({__name__=~"%s_count|%s_count", %s}[%s]))`, catalog.HTTPServerDuration, catalog.RPCServerDuration, sel, rw)
		series = append(series,
			struct{ name, expr string }{"cpu_per_request", fmt.Sprintf("sum(rate(%s{%s}[%s])) / %s", catalog.ProcessCPUSeconds, sel, rw, reqs)},
			struct{ name, expr string }{"heap_bytes", fmt.Sprintf("avg(%s{%s})", catalog.GoMemoryHeapObjects, sel)},
			struct{ name, expr string }{"goroutines", fmt.Sprintf("avg(%s{%s})", catalog.GoGoroutines, sel)},
			struct{ name, expr string }{"gc_cpu_share", fmt.Sprintf("sum(rate(%s{%s}[%s])) / sum(rate(%s{%s}[%s]))", catalog.GoCPUGCTotal, sel, rw, catalog.GoCPUTotal, sel, rw)},
		)
	}
	for _, m := range c.Metrics {
		series = append(series, struct{ name, expr string }{m.Name, strings.ReplaceAll(m.Query, "{{selector}}", s.selector())})
	}
	for _, x := range series {
		m, err := q.QueryRange(ctx, x.expr, start, end, step)
		if err != nil {
			return d, err
		}
		if len(m) == 0 {
			continue // not exported by this side
		}
		if len(m) > 1 {
			return d, &QueryError{x.expr, fmt.Errorf("metric %s: %d series, want one (aggregate it with sum or avg)", x.name, len(m))}
		}
		vals := make([]float64, 0, len(m[0].Values))
		for _, p := range m[0].Values {
			vals = append(vals, float64(p.Value))
		}
		d.Series[x.name] = vals
	}
	if c.Latency.Mode == "mannwhitney" {
		for _, k := range histogramKinds {
			by := k.method
			if k.route != "" {
				by = k.route + ", " + k.method
			}
			expr := fmt.Sprintf("histogram_quantile(%g, sum by (%s, le) (rate(%s_bucket{%s}[%s])))", c.Latency.Quantile, by, k.metric, s.selector(), rw)
			m, err := q.QueryRange(ctx, expr, start, end, step)
			if err != nil {
				return d, err
			}
			for _, ss := range m {
				g := Group{Kind: k.kind, Method: string(ss.Metric[model.LabelName(k.method)])}
				if k.route != "" {
					g.Route = string(ss.Metric[model.LabelName(k.route)])
				}
				vals := make([]float64, 0, len(ss.Values))
				for _, p := range ss.Values {
					vals = append(vals, float64(p.Value))
				}
				d.Series["latency:"+g.String()] = vals
			}
		}
	}
	return d, nil
}

// slowExemplars returns up to five canary exemplars of the group slower than threshold, slowest first.
func slowExemplars(ctx context.Context, q Querier, s *side, g Group, start, end time.Time, threshold float64) ([]Exemplar, error) {
	metric, extra := catalog.HTTPServerDuration, []Matcher{{catalog.LabelMethod, MatchEqual, g.Method}, {catalog.LabelRoute, MatchEqual, g.Route}}
	if g.Kind == "grpc" {
		metric, extra = catalog.RPCServerDuration, []Matcher{{catalog.LabelRPCMethod, MatchEqual, g.Method}}
	}
	if g.Service() {
		extra = nil
	}
	ex, err := q.Exemplars(ctx, fmt.Sprintf("%s_bucket{%s}", metric, s.selector(extra...)), start, end)
	if err != nil {
		return nil, err
	}
	var slow []Exemplar
	for _, e := range ex {
		if e.TraceID != "" && e.Value > threshold {
			slow = append(slow, e)
		}
	}
	sort.Slice(slow, func(i, j int) bool { return slow[i].Value > slow[j].Value })
	if len(slow) > 5 {
		slow = slow[:5]
	}
	return slow, nil
}

// promDuration renders d as a PromQL duration in whole seconds (at least 1s).
func promDuration(d time.Duration) string {
	s := int64(math.Ceil(d.Seconds()))
	if s < 1 {
		s = 1
	}
	return strconv.FormatInt(s, 10) + "s"
}
