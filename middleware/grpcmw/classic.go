package grpcmw

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/internal/instrument"
)

// classicRPC exposes one side's call durations under go-grpc-middleware's names
// (middleware.WithClassicNames). It records nothing itself: the series are the default mode's,
// with grpc_type added, renamed and merged when scraped. The message-size and per-RPC histograms
// of the stats handlers keep their names (go-grpc-middleware has none of them).
type classicRPC struct {
	m                          *rpcMetrics
	started, handled, handling *prometheus.Desc
}

func newClassicRPC(m *rpcMetrics, side string) *classicRPC {
	names := [3]string{catalog.ClassicGRPCServerStarted, catalog.ClassicGRPCServerHandled, catalog.ClassicGRPCServerHandling}
	if side == "client" {
		names = [3]string{catalog.ClassicGRPCClientStarted, catalog.ClassicGRPCClientHandled, catalog.ClassicGRPCClientHandling}
	}
	return &classicRPC{
		m: m,
		started: prometheus.NewDesc(names[0], "Number of gRPC calls on the "+side+
			", counted when they end (so started minus handled is not the calls in flight).", catalog.ClassicGRPCLabels(), nil),
		handled:  prometheus.NewDesc(names[1], "Number of gRPC calls the "+side+" completed, by status code.", catalog.ClassicGRPCHandledLabels(), nil),
		handling: prometheus.NewDesc(names[2], "Duration of gRPC calls on the "+side+", in seconds.", catalog.ClassicGRPCLabels(), nil),
	}
}

// classicCodes maps rpc_response_status_code values to go-grpc-middleware's grpc_code values.
var classicCodes = func() map[string]string {
	m := map[string]string{catalog.OtherValue: catalog.OtherValue}
	for c := codes.OK; c <= codes.Unauthenticated; c++ {
		m[codeNames[c]] = c.String()
	}
	return m
}()

// splitMethod splits rpc_method "pkg.Service/Method" into grpc_service and grpc_method.
func splitMethod(method string) (string, string) {
	if i := strings.LastIndexByte(method, '/'); i >= 0 {
		return method[:i], method[i+1:]
	}
	return method, method // _OTHER
}

// Describe implements prometheus.Collector.
func (c *classicRPC) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.started
	ch <- c.handled
	ch <- c.handling
	c.m.reqSize.Describe(ch)
	c.m.respSize.Describe(ch)
	c.m.reqs.Describe(ch)
	c.m.resps.Describe(ch)
}

// Collect implements prometheus.Collector.
func (c *classicRPC) Collect(ch chan<- prometheus.Metric) {
	byCode := instrument.Regroup(c.m.duration, func(l map[string]string) []string {
		service, method := splitMethod(l[catalog.LabelRPCMethod])
		return []string{l[catalog.ClassicLabelGRPCType], service, method, classicCodes[l[catalog.LabelRPCStatus]]}
	})
	for _, g := range byCode {
		ch <- prometheus.MustNewConstMetric(c.handled, prometheus.CounterValue, float64(g.Count), g.Labels...)
	}
	calls := instrument.Regroup(c.m.duration, func(l map[string]string) []string {
		service, method := splitMethod(l[catalog.LabelRPCMethod])
		return []string{l[catalog.ClassicLabelGRPCType], service, method}
	})
	for _, g := range calls {
		ch <- prometheus.MustNewConstMetric(c.started, prometheus.CounterValue, float64(g.Count), g.Labels...)
		ch <- prometheus.MustNewConstHistogram(c.handling, g.Count, g.Sum, g.Buckets, g.Labels...)
	}
	c.m.reqSize.Collect(ch)
	c.m.respSize.Collect(ch)
	c.m.reqs.Collect(ch)
	c.m.resps.Collect(ch)
}
