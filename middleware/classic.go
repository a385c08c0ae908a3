package middleware

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/internal/instrument"
)

// classicServer exposes the server metrics under promhttp's names (WithClassicNames). It records
// nothing itself: the series are the default mode's, renamed and merged by code, handler and
// method when scraped.
type classicServer struct {
	m                        *serverMetrics
	requests, duration       *prometheus.Desc
	inFlight, reqSize, rSize *prometheus.Desc
}

func newClassicServer(m *serverMetrics) *classicServer {
	labels := catalog.ClassicHTTPServerLabels()
	return &classicServer{
		m:        m,
		requests: prometheus.NewDesc(catalog.ClassicHTTPRequests, "Number of HTTP requests served, by status code, handler and method.", labels, nil),
		duration: prometheus.NewDesc(catalog.ClassicHTTPDuration, "Duration of HTTP requests, by status code, handler and method.", labels, nil),
		inFlight: prometheus.NewDesc(catalog.ClassicHTTPInFlight, "Number of HTTP requests being served.", nil, nil),
		reqSize:  prometheus.NewDesc(catalog.ClassicHTTPRequestSize, "Size of HTTP request bodies, by status code, handler and method.", labels, nil),
		rSize:    prometheus.NewDesc(catalog.ClassicHTTPResponseSize, "Size of HTTP response bodies, by status code, handler and method.", labels, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *classicServer) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.requests, c.duration, c.inFlight, c.reqSize, c.rSize} {
		ch <- d
	}
}

// classicKey maps a recorded series to promhttp's labels, in ClassicHTTPServerLabels order.
func classicKey(l map[string]string) []string {
	method := strings.ToLower(l[catalog.LabelMethod])
	if l[catalog.LabelMethod] == catalog.OtherValue {
		method = catalog.ClassicUnknownMethod
	}
	return []string{l[catalog.LabelStatusCode], l[catalog.LabelRoute], method}
}

// Collect implements prometheus.Collector.
func (c *classicServer) Collect(ch chan<- prometheus.Metric) {
	for _, g := range instrument.Regroup(c.m.duration, classicKey) {
		ch <- prometheus.MustNewConstMetric(c.requests, prometheus.CounterValue, float64(g.Count), g.Labels...)
		ch <- prometheus.MustNewConstHistogram(c.duration, g.Count, g.Sum, g.Buckets, g.Labels...)
	}
	ch <- prometheus.MustNewConstMetric(c.inFlight, prometheus.GaugeValue, instrument.GaugeSum(c.m.active))
	if c.m.sizes {
		for _, g := range instrument.Regroup(c.m.reqSize, classicKey) {
			ch <- prometheus.MustNewConstHistogram(c.reqSize, g.Count, g.Sum, g.Buckets, g.Labels...)
		}
		for _, g := range instrument.Regroup(c.m.respSize, classicKey) {
			ch <- prometheus.MustNewConstHistogram(c.rSize, g.Count, g.Sum, g.Buckets, g.Labels...)
		}
	}
}
