package main

import (
	"fmt"
	"io"
	"math"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/perfobs/perfobs-go/catalog"
)

// summary prints per-route RED figures for the interval since its last print, computed from the
// SDK's own histograms as Prometheus would: rate from _count, errors from error_type != "",
// quantiles by linear interpolation inside the buckets (histogram_quantile).
type summary struct {
	g    prometheus.Gatherer
	last map[string]hist
	at   time.Time
}

// hist is one row's cumulative state: bucket counts (non-cumulative, +Inf last) and errors.
type hist struct {
	bounds []float64
	counts []uint64
	errors uint64
}

// sources lists the duration histograms summarised and the labels that name a row.
var sources = []struct {
	metric, kind string
	labels       []string
}{
	{catalog.HTTPServerDuration, "HTTP", []string{catalog.LabelMethod, catalog.LabelRoute}},
	{catalog.RPCServerDuration, "gRPC", []string{catalog.LabelRPCMethod}},
}

func newSummary(g prometheus.Gatherer) *summary {
	return &summary{g: g, last: map[string]hist{}, at: time.Now()}
}

// row is one line of the table.
type row struct {
	name          string
	rate, errPct  float64
	p50, p95, p99 float64
}

// rows returns the figures since the previous call, sorted by name.
func (s *summary) rows() ([]row, error) {
	mfs, err := s.g.Gather()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	elapsed := now.Sub(s.at).Seconds()
	cur := map[string]hist{}
	for _, mf := range mfs {
		for _, src := range sources {
			if mf.GetName() != src.metric {
				continue
			}
			for _, m := range mf.GetMetric() {
				name := src.kind
				for _, l := range src.labels {
					name += " " + labelValue(m, l)
				}
				h := cur[name]
				add(&h, m)
				cur[name] = h
			}
		}
	}
	var out []row
	for name, h := range cur {
		d := delta(h, s.last[name])
		total := sum(d.counts)
		if total == 0 {
			continue
		}
		out = append(out, row{
			name:   name,
			rate:   float64(total) / elapsed,
			errPct: 100 * float64(d.errors) / float64(total),
			p50:    quantile(0.50, d),
			p95:    quantile(0.95, d),
			p99:    quantile(0.99, d),
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	s.last, s.at = cur, now
	return out, nil
}

func (s *summary) print(w io.Writer) error {
	rows, err := s.rows()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%s\t req/s\t err %%\t p50 ms\t p95 ms\t p99 ms\t\n", time.Now().Format("15:04:05"))
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t\n", r.name, r.rate, r.errPct, 1000*r.p50, 1000*r.p95, 1000*r.p99)
	}
	if len(rows) == 0 {
		fmt.Fprintln(tw, "(no requests in this interval)\t")
	}
	return tw.Flush()
}

func labelValue(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// add folds one series into h.
func add(h *hist, m *dto.Metric) {
	buckets := m.GetHistogram().GetBucket()
	if h.counts == nil {
		for _, b := range buckets {
			h.bounds = append(h.bounds, b.GetUpperBound())
		}
		h.counts = make([]uint64, len(buckets)+1)
	}
	var prev uint64
	for i, b := range buckets {
		if i < len(h.bounds) {
			h.counts[i] += b.GetCumulativeCount() - prev
		}
		prev = b.GetCumulativeCount()
	}
	h.counts[len(h.counts)-1] += m.GetHistogram().GetSampleCount() - prev
	if labelValue(m, catalog.LabelErrorType) != "" {
		h.errors += m.GetHistogram().GetSampleCount()
	}
}

func delta(cur, prev hist) hist {
	d := hist{bounds: cur.bounds, counts: make([]uint64, len(cur.counts)), errors: cur.errors - prev.errors}
	for i := range cur.counts {
		d.counts[i] = cur.counts[i]
		if i < len(prev.counts) {
			d.counts[i] -= prev.counts[i]
		}
	}
	return d
}

func sum(c []uint64) uint64 {
	var n uint64
	for _, x := range c {
		n += x
	}
	return n
}

// quantile estimates the q-quantile like PromQL's histogram_quantile: linear interpolation within
// the bucket that holds it, lower bound 0 for the first bucket, and the highest finite bound when
// it falls in +Inf.
func quantile(q float64, h hist) float64 {
	total := sum(h.counts)
	if total == 0 || len(h.bounds) == 0 {
		return math.NaN()
	}
	rank := q * float64(total)
	var cum float64
	for i, c := range h.counts {
		if cum+float64(c) >= rank && c > 0 {
			if i == len(h.bounds) {
				return h.bounds[len(h.bounds)-1]
			}
			lower := 0.0
			if i > 0 {
				lower = h.bounds[i-1]
			}
			return lower + (h.bounds[i]-lower)*(rank-cum)/float64(c)
		}
		cum += float64(c)
	}
	return h.bounds[len(h.bounds)-1]
}
