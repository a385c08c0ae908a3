package middleware_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// series is one gathered histogram or gauge series.
type series struct {
	labels map[string]string
	count  uint64  // histogram sample count
	sum    float64 // histogram sum
	value  float64 // gauge or counter value
}

// gather returns the series of metric name in reg, keyed by their sorted label pairs.
func gather(t testing.TB, reg prometheus.Gatherer, name string) map[string]series {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	out := map[string]series{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			s := series{labels: map[string]string{}}
			var pairs []string
			for _, lp := range m.GetLabel() {
				s.labels[lp.GetName()] = lp.GetValue()
				pairs = append(pairs, lp.GetName()+"="+lp.GetValue())
			}
			sort.Strings(pairs)
			switch mf.GetType() {
			case dto.MetricType_HISTOGRAM:
				s.count = m.GetHistogram().GetSampleCount()
				s.sum = m.GetHistogram().GetSampleSum()
			case dto.MetricType_GAUGE:
				s.value = m.GetGauge().GetValue()
			case dto.MetricType_COUNTER:
				s.value = m.GetCounter().GetValue()
			}
			out[strings.Join(pairs, ",")] = s
		}
	}
	return out
}

// key builds the map key of gather for the HTTP server labels.
func key(method, route, status, scheme, errType string) string {
	pairs := []string{
		"error_type=" + errType, "http_request_method=" + method, "http_response_status_code=" + status,
		"http_route=" + route, "url_scheme=" + scheme,
	}
	sort.Strings(pairs)
	return strings.Join(pairs, ",")
}

func keys(m map[string]series) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
