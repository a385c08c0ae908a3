package status

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// Window is one column of the RED table.
type Window struct {
	Name string        `json:"name"` // "1m", "10m", "1h", "start"
	Span time.Duration `json:"-"`    // 0 for since start
}

// Windows are the columns of the page, in order.
var Windows = []Window{{"1m", time.Minute}, {"10m", 10 * time.Minute}, {"1h", time.Hour}, {"start", 0}}

// RED is one row over one window.
type RED struct {
	// Seconds is the time the numbers cover: the window, or less when the process or the
	// sampler is younger than it (Partial then says the sampler is).
	Seconds  float64  `json:"seconds"`
	Partial  bool     `json:"partial,omitempty"`
	Requests uint64   `json:"requests"`
	Errors   uint64   `json:"errors"`
	Rate     float64  `json:"rate"`      // requests per second
	ErrorPct *float64 `json:"error_pct"` // null without requests
	P50      *float64 `json:"p50"`       // seconds; null without requests or buckets
	P95      *float64 `json:"p95"`
	P99      *float64 `json:"p99"`

	s series
}

// Bucket is one bar of a latency histogram: the requests with a duration up to LE (and above
// the previous bound). LE is -1 for the +Inf bucket.
type Bucket struct {
	LE    float64 `json:"le"`
	Count uint64  `json:"count"`
}

// Row is an HTTP route (with its method) or a gRPC method.
type Row struct {
	Kind    string         `json:"kind"`
	Name    string         `json:"name"`             // "GET /users/{id}" or "pkg.Service/Method"
	Method  string         `json:"method,omitempty"` // HTTP only
	Route   string         `json:"route"`            // http_route, or rpc_method
	Windows map[string]RED `json:"windows"`
	// Histogram is the latency distribution since start; Exemplars are the traces of the slowest
	// buckets that have one, slowest first.
	Histogram []Bucket   `json:"histogram"`
	Exemplars []Exemplar `json:"exemplars"`
}

// REDReport is the body of /debug/perfobs/api/red.
type REDReport struct {
	Service string    `json:"service"`
	Now     time.Time `json:"now"`
	Started time.Time `json:"started"`
	// Sampling is how long the sampler behind the windows has run (it starts with the first look).
	SamplingSeconds float64 `json:"sampling_seconds"`
	Rows            []Row   `json:"rows"`
}

const maxExemplars = 5

// red builds the report from a fresh snapshot and the ring.
func (h *Handler) red() (REDReport, error) {
	now := h.now()
	cur, err := take(h.src.Gatherer, now)
	rep := REDReport{Service: h.src.Service, Now: now, Started: h.src.Started, Rows: []Row{}}
	if oldest, _ := h.sampler.base(time.Time{}); oldest != nil {
		rep.SamplingSeconds = now.Sub(oldest.at).Seconds()
	}
	type based struct {
		snap    *snapshot
		partial bool
		from    time.Time
	}
	bases := make([]based, len(Windows))
	for i, w := range Windows {
		if w.Span == 0 || !now.Add(-w.Span).After(h.src.Started) {
			// Since start, or a window longer than the process's life: counted from zero.
			bases[i] = based{from: h.src.Started}
			continue
		}
		snap, partial := h.sampler.base(now.Add(-w.Span))
		if snap == nil {
			bases[i] = based{partial: true, from: now}
			continue
		}
		bases[i] = based{snap: snap, partial: partial, from: snap.at}
	}
	for k, s := range cur.rows {
		row := Row{Kind: k.kind, Method: k.method, Route: k.route, Name: k.route, Windows: map[string]RED{}}
		if k.kind == KindHTTP {
			row.Name = k.method + " " + k.route
		}
		for i, w := range Windows {
			b := bases[i]
			var d series
			if b.snap == nil && b.partial {
				d = series{} // the sampler has no snapshot yet
			} else if b.snap == nil {
				d = s.minus(nil)
			} else {
				d = s.minus(b.snap.rows[k])
			}
			row.Windows[w.Name] = newRED(d, now.Sub(b.from).Seconds(), b.partial)
		}
		row.Histogram = histogram(*s)
		row.Exemplars = slowest(s.exemplars)
		rep.Rows = append(rep.Rows, row)
	}
	slices.SortFunc(rep.Rows, func(a, b Row) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Route, b.Route), cmp.Compare(a.Method, b.Method))
	})
	return rep, err
}

func newRED(d series, seconds float64, partial bool) RED {
	r := RED{Seconds: seconds, Partial: partial, Requests: d.count, Errors: d.errors, s: d}
	if seconds > 0 {
		r.Rate = float64(d.count) / seconds
	}
	if d.count > 0 {
		pct := 100 * float64(d.errors) / float64(d.count)
		r.ErrorPct = &pct
	}
	for _, q := range []struct {
		q   float64
		dst **float64
	}{{0.5, &r.P50}, {0.95, &r.P95}, {0.99, &r.P99}} {
		if v, ok := d.quantile(q.q); ok {
			*q.dst = &v
		}
	}
	return r
}

func histogram(s series) []Bucket {
	out := make([]Bucket, 0, len(s.bounds)+1)
	prev := uint64(0)
	for i, ub := range s.bounds {
		out = append(out, Bucket{LE: ub, Count: s.cum[i] - min(prev, s.cum[i])})
		prev = s.cum[i]
	}
	if s.bounds != nil {
		out = append(out, Bucket{LE: -1, Count: s.count - min(prev, s.count)})
	}
	return out
}

// slowest returns the exemplars of the slowest buckets first (+Inf first), at most maxExemplars.
func slowest(ex []Exemplar) []Exemplar {
	out := slices.Clone(ex)
	le := func(e Exemplar) float64 {
		if e.LE < 0 {
			return math.Inf(1)
		}
		return e.LE
	}
	slices.SortStableFunc(out, func(a, b Exemplar) int {
		return cmp.Or(cmp.Compare(le(b), le(a)), cmp.Compare(b.Seconds, a.Seconds))
	})
	if len(out) > maxExemplars {
		out = out[:maxExemplars]
	}
	if out == nil {
		out = []Exemplar{}
	}
	return out
}
