package status

import (
	"math"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/perfobs/perfobs-go/catalog"
)

// Kinds of endpoint.
const (
	KindHTTP = "http"
	KindGRPC = "grpc"
)

// key names one row of the page: an HTTP method and route, or a gRPC method.
type key struct {
	kind, method, route string // route is the gRPC method for KindGRPC
}

// series is the sum of a row's histogram series at one instant.
type series struct {
	count, errors uint64
	sum           float64
	bounds        []float64 // finite upper bounds, ascending; nil for native-only histograms
	cum           []uint64  // cumulative counts for bounds
	exemplars     []Exemplar
}

// Exemplar is one exemplar of a bucket: the trace of a request that fell in it.
type Exemplar struct {
	TraceID string  `json:"trace_id"`
	SpanID  string  `json:"span_id,omitempty"`
	Seconds float64 `json:"seconds"`
	LE      float64 `json:"le"` // the bucket's upper bound; +Inf is reported as -1
}

// snapshot is the registry's RED histograms at one instant.
type snapshot struct {
	at   time.Time
	rows map[key]*series
}

// take gathers g and keeps the server duration histograms, summed per row.
func take(g prometheus.Gatherer, now time.Time) (*snapshot, error) {
	mfs, err := g.Gather()
	s := &snapshot{at: now, rows: map[key]*series{}}
	for _, mf := range mfs {
		var kind string
		switch mf.GetName() {
		case catalog.HTTPServerDuration:
			kind = KindHTTP
		case catalog.RPCServerDuration:
			kind = KindGRPC
		default:
			continue
		}
		for _, m := range mf.GetMetric() {
			h := m.GetHistogram()
			if h == nil {
				continue
			}
			k := key{kind: kind}
			errType := ""
			for _, lp := range m.GetLabel() {
				switch lp.GetName() {
				case catalog.LabelMethod:
					k.method = lp.GetValue()
				case catalog.LabelRoute, catalog.LabelRPCMethod:
					k.route = lp.GetValue()
				case catalog.LabelErrorType:
					errType = lp.GetValue()
				}
			}
			row := s.rows[k]
			if row == nil {
				row = &series{}
				s.rows[k] = row
			}
			row.add(h, errType != "")
		}
	}
	// A collector that failed is left out of the gather; the rows still hold what was gathered.
	return s, err
}

func (r *series) add(h *dto.Histogram, isError bool) {
	n := h.GetSampleCount()
	r.count += n
	if isError {
		r.errors += n
	}
	r.sum += h.GetSampleSum()
	var bounds []float64
	var cum []uint64
	for _, b := range h.GetBucket() {
		if math.IsInf(b.GetUpperBound(), 1) {
			continue
		}
		bounds = append(bounds, b.GetUpperBound())
		cum = append(cum, b.GetCumulativeCount())
		if e := b.GetExemplar(); e != nil {
			r.exemplars = append(r.exemplars, exemplarOf(e, b.GetUpperBound()))
		}
	}
	for _, e := range h.GetExemplars() { // native histograms keep theirs here
		r.exemplars = append(r.exemplars, exemplarOf(e, -1))
	}
	switch {
	case len(bounds) == 0:
	case r.bounds == nil && r.count == n:
		r.bounds, r.cum = bounds, cum
	case slices.Equal(r.bounds, bounds):
		for i := range cum {
			r.cum[i] += cum[i]
		}
	default:
		// Different buckets under one row (custom options per series): quantiles would mix
		// them, so the row gives none.
		r.bounds, r.cum = nil, nil
	}
}

func exemplarOf(e *dto.Exemplar, le float64) Exemplar {
	x := Exemplar{Seconds: e.GetValue(), LE: le}
	for _, lp := range e.GetLabel() {
		switch lp.GetName() {
		case "trace_id":
			x.TraceID = lp.GetValue()
		case "span_id":
			x.SpanID = lp.GetValue()
		}
	}
	return x
}

// minus returns r - base: what happened between the two snapshots. A row absent from base
// started at zero.
func (r *series) minus(base *series) series {
	d := series{count: r.count, errors: r.errors, sum: r.sum, bounds: r.bounds, cum: slices.Clone(r.cum)}
	if base == nil {
		return d
	}
	d.count -= min(base.count, d.count)
	d.errors -= min(base.errors, d.errors)
	d.sum -= base.sum
	if d.bounds != nil && slices.Equal(base.bounds, d.bounds) {
		for i := range d.cum {
			d.cum[i] -= min(base.cum[i], d.cum[i])
		}
	} else if base.count > 0 {
		d.bounds, d.cum = nil, nil
	}
	return d
}

// quantile estimates the q-quantile of the row's observations as PromQL's histogram_quantile
// does: linear interpolation inside the bucket that holds it, the highest finite bound when it
// falls in the +Inf bucket. ok is false with no observations or no buckets.
func (r series) quantile(q float64) (v float64, ok bool) {
	if r.count == 0 || len(r.bounds) == 0 {
		return 0, false
	}
	rank := q * float64(r.count)
	lower, below := 0.0, uint64(0)
	for i, ub := range r.bounds {
		if float64(r.cum[i]) >= rank {
			inBucket := r.cum[i] - below
			if inBucket == 0 {
				return ub, true
			}
			if i == 0 && ub <= 0 {
				return ub, true
			}
			return lower + (ub-lower)*(rank-float64(below))/float64(inBucket), true
		}
		lower, below = ub, r.cum[i]
	}
	return r.bounds[len(r.bounds)-1], true
}
