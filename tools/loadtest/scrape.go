package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/perfobs/perfobs-go/catalog"
)

// RED holds the service's own view of a run, from the difference of two scrapes of its
// /metrics: the request rate, error ratio and duration quantiles of
// http_server_request_duration_seconds, summed over every route.
type RED struct {
	// Window is the time between the two scrapes.
	Window time.Duration `json:"window"`
	// Requests is the number of requests the service recorded in the window; Rate divides it
	// by the window.
	Requests float64 `json:"requests"`
	Rate     float64 `json:"rate"`
	// ErrorRate is the fraction of those requests with a non-empty error_type.
	ErrorRate float64 `json:"error_rate"`
	// P50 and P99 are estimated from the histogram buckets, interpolating linearly inside a
	// bucket as Prometheus's histogram_quantile does; zero without classic buckets.
	P50 time.Duration `json:"p50"`
	P99 time.Duration `json:"p99"`
	// Note explains missing figures.
	Note string `json:"note,omitempty"`
}

func (s *RED) summary() string {
	if s.Note != "" && s.Requests == 0 {
		return s.Note
	}
	out := fmt.Sprintf("%.0f requests recorded, %.1f req/s, errors %s, p50 ~%s, p99 ~%s (from /metrics over %s)",
		s.Requests, s.Rate, fmtPct(s.ErrorRate), fmtDur(s.P50), fmtDur(s.P99), s.Window.Round(time.Millisecond))
	if s.Note != "" {
		out += "; " + s.Note
	}
	return out
}

// Snapshot is one scrape of the request-duration histogram of a service.
type Snapshot struct {
	at     time.Time
	found  bool
	series map[string]histSeries
	gauges map[string]float64 // the runtime gauges of runtimeGauges, summed over series
}

// runtimeGauges are the gauges a soak follows: Go's and the process collector's.
var runtimeGauges = []string{
	catalog.GoGoroutines, catalog.GoGCHeapLive, "go_memstats_heap_alloc_bytes",
	"process_open_fds", "process_resident_memory_bytes",
}

type histSeries struct {
	count   float64
	isError bool
	buckets map[float64]float64 // upper bound -> cumulative count
}

// Scrape reads url (a Prometheus /metrics endpoint) and keeps the
// http_server_request_duration_seconds histogram.
func Scrape(ctx context.Context, client *http.Client, url string) (*Snapshot, error) {
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4;q=1,*/*;q=0.1")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape %s: status %s", url, resp.Status)
	}
	snap, err := parseSnapshot(resp.Body, expfmt.ResponseFormat(resp.Header))
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	snap.at = time.Now()
	return snap, nil
}

func parseSnapshot(r io.Reader, format expfmt.Format) (*Snapshot, error) {
	snap := &Snapshot{series: make(map[string]histSeries), gauges: make(map[string]float64)}
	dec := expfmt.NewDecoder(r, format)
	for {
		var mf dto.MetricFamily
		if err := dec.Decode(&mf); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, err
		}
		if slices.Contains(runtimeGauges, mf.GetName()) {
			for _, m := range mf.GetMetric() {
				switch {
				case m.GetGauge() != nil:
					snap.gauges[mf.GetName()] += m.GetGauge().GetValue()
				case m.GetUntyped() != nil:
					snap.gauges[mf.GetName()] += m.GetUntyped().GetValue()
				}
			}
			continue
		}
		if mf.GetName() != catalog.HTTPServerDuration || mf.GetType() != dto.MetricType_HISTOGRAM {
			continue
		}
		snap.found = true
		for _, m := range mf.GetMetric() {
			h := m.GetHistogram()
			s := histSeries{count: float64(h.GetSampleCount()), buckets: make(map[float64]float64)}
			var key strings.Builder
			for _, lp := range m.GetLabel() {
				key.WriteString(lp.GetName() + "=" + lp.GetValue() + "\xff")
				if lp.GetName() == catalog.LabelErrorType && lp.GetValue() != "" {
					s.isError = true
				}
			}
			for _, b := range h.GetBucket() {
				s.buckets[b.GetUpperBound()] = float64(b.GetCumulativeCount())
			}
			s.buckets[math.Inf(1)] = s.count
			snap.series[key.String()] = s
		}
	}
	return snap, nil
}

// Diff returns the RED figures of the requests recorded between two snapshots of one service.
func Diff(before, after *Snapshot) *RED {
	red := &RED{Window: after.at.Sub(before.at)}
	if !after.found {
		red.Note = "no " + catalog.HTTPServerDuration + " histogram in /metrics"
		return red
	}
	var errCount float64
	buckets := make(map[float64]float64)
	for key, a := range after.series {
		b, ok := before.series[key]
		if !ok || a.count < b.count { // new series, or the service restarted
			b = histSeries{}
		}
		d := a.count - b.count
		red.Requests += d
		if a.isError {
			errCount += d
		}
		for ub, c := range a.buckets {
			buckets[ub] += c - b.buckets[ub]
		}
	}
	if red.Requests > 0 {
		red.ErrorRate = errCount / red.Requests
	}
	if red.Window > 0 {
		red.Rate = red.Requests / red.Window.Seconds()
	}
	if len(buckets) <= 1 && red.Requests > 0 {
		red.Note = "no classic buckets: latency quantiles unavailable"
		return red
	}
	red.P50 = bucketQuantile(0.5, buckets)
	red.P99 = bucketQuantile(0.99, buckets)
	return red
}

// bucketQuantile estimates a quantile from cumulative bucket counts (upper bound in seconds ->
// count), interpolating linearly inside the bucket; past the last finite bound it returns that
// bound.
func bucketQuantile(q float64, buckets map[float64]float64) time.Duration {
	bounds := make([]float64, 0, len(buckets))
	for ub := range buckets {
		bounds = append(bounds, ub)
	}
	sort.Float64s(bounds)
	total := buckets[bounds[len(bounds)-1]]
	if total <= 0 {
		return 0
	}
	rank := q * total
	prevBound, prevCount := 0.0, 0.0
	for _, ub := range bounds {
		c := buckets[ub]
		if c >= rank {
			if math.IsInf(ub, 1) {
				return secs(prevBound)
			}
			if c == prevCount {
				return secs(ub)
			}
			return secs(prevBound + (ub-prevBound)*(rank-prevCount)/(c-prevCount))
		}
		prevBound, prevCount = ub, c
	}
	return secs(prevBound)
}

func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
