package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
	"github.com/grafana/grafana-foundation-sdk/go/units"

	"github.com/perfobs/perfobs-go/internal/catalog"
)

// REDUID is the uid of the service RED dashboard.
const REDUID = "perfobs-red"

// Error ratio thresholds of the RED panels: yellow from 1 %, red from 5 %.
var errorRatioSteps = []step{{0.01, "yellow"}, {0.05, "red"}}

// Latency thresholds of the RED panels, in seconds.
var latencySteps = []step{{0.25, "yellow"}, {1, "red"}}

func legend(labels ...string) string {
	s := ""
	for i, l := range labels {
		if i > 0 {
			s += " "
		}
		s += "{{" + l + "}}"
	}
	return s
}

// ServiceRED builds the service RED dashboard: HTTP request rate, error ratio and latency
// (overall, as a heatmap and by route) and the same for gRPC methods.
func ServiceRED(opts ...Option) (dashboard.Dashboard, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return dashboard.Dashboard{}, err
	}
	bd := newBoard(REDUID, "Service RED",
		"Rate, errors and duration of HTTP and gRPC servers instrumented with perfobs-go.", "red")

	profiles := func() []cog.Builder[dashboard.DashboardLink] {
		return []cog.Builder[dashboard.DashboardLink]{
			dashboard.NewDashboardLinkBuilder("Profiles").
				Title("Profiles").
				Type(dashboard.DashboardLinkTypeLink).
				Url(cfg.profilesURL).
				TargetBlank(true),
		}
	}
	bd.b.Link(dashboard.NewDashboardLinkBuilder("Profiles").
		Title("Profiles").
		Type(dashboard.DashboardLinkTypeLink).
		Icon("external link").
		Tooltip("CPU profile of the service over this time range").
		Url(cfg.profilesURL).
		TargetBlank(true))

	httpH, rpcH := httpServer.withNative(cfg.native), rpcServer.withNative(cfg.native)
	bd.b.WithVariable(datasourceVar())
	// A service may serve HTTP, gRPC or both: its job and instances come from either histogram.
	for _, v := range jobAndInstance(httpH.series() + "|" + rpcH.series()) {
		bd.b.WithVariable(v)
	}
	bd.b.WithVariable(queryVar(varRoute, "Route",
		labelValues(httpH.count(targetMatchers()), catalog.LabelRoute), true))
	bd.b.WithVariable(queryVar(varMethod, "gRPC method",
		labelValues(rpcH.count(targetMatchers()), catalog.LabelRPCMethod), true))

	http := with(catalog.LabelRoute + `=~"$` + varRoute + `"`)
	rpc := with(catalog.LabelRPCMethod + `=~"$` + varMethod + `"`)
	none := []string(nil)
	route := []string{catalog.LabelRoute}
	method := []string{catalog.LabelRPCMethod}

	// HTTP overview.
	bd.row("HTTP server")
	bd.add(6, statHeight, statPanel("Request rate", "HTTP requests per second.", units.RequestsPerSecond,
		steps("green"), query{expr: httpH.rate(none, http)}))
	bd.add(6, statHeight, statPanel("Error ratio", "Share of HTTP requests that failed (5xx, panics): error_type is set.",
		units.PercentUnit, steps("green", errorRatioSteps...), query{expr: httpH.errorRatio(none, http)}))
	bd.add(6, statHeight, statPanel("p99 latency", "99th percentile of HTTP request duration.", units.Seconds,
		steps("green", latencySteps...), query{expr: httpH.quantile(0.99, none, http)}))
	bd.add(6, statHeight, statPanel("In-flight requests", "HTTP requests being served now.", units.Short,
		steps("green"), query{expr: sumBy(none, selector(catalog.HTTPServerActive, targetMatchers()...))}))

	bd.add(12, graphHeight, timeSeries("Request rate by status code", "HTTP requests per second by response status code.",
		units.RequestsPerSecond,
		query{expr: httpH.rate([]string{catalog.LabelStatusCode}, http), legend: legend(catalog.LabelStatusCode)}))
	bd.add(12, graphHeight, withThresholdLines(
		timeSeries("Error ratio", "Failed HTTP requests / all HTTP requests. 0 when there is traffic and no error.",
			units.PercentUnit, query{expr: httpH.errorRatio(none, http), legend: "error ratio"}).Min(0),
		steps("green", errorRatioSteps...)))
	bd.add(12, graphHeight, latencyPanel("Latency p50 / p90 / p99",
		"HTTP request duration percentiles, with exemplars (trace ids) of slow requests.", httpH, none, http).
		DataLinks(profiles()))
	bd.add(12, graphHeight, latencyHeatmap("Latency distribution",
		"HTTP requests per duration bucket and interval, with exemplars.",
		query{expr: httpH.heatmap(http), exemplar: true}))

	// HTTP by route.
	bd.row("HTTP by route")
	bd.add(8, graphHeight, timeSeries("Request rate by route", "HTTP requests per second by route template.",
		units.RequestsPerSecond, query{expr: httpH.rate(route, http), legend: legend(catalog.LabelRoute)}))
	bd.add(8, graphHeight, withThresholdLines(
		timeSeries("Error ratio by route", "Failed HTTP requests / all HTTP requests, by route.",
			units.PercentUnit, query{expr: httpH.errorRatio(route, http), legend: legend(catalog.LabelRoute)}).Min(0),
		steps("green", errorRatioSteps...)))
	bd.add(8, graphHeight, withThresholdLines(
		timeSeries("p99 latency by route", "99th percentile of HTTP request duration by route, with exemplars.",
			units.Seconds, query{expr: httpH.quantile(0.99, route, http), legend: legend(catalog.LabelRoute), exemplar: true}),
		steps("green", latencySteps...)).DataLinks(profiles()))

	// gRPC by method.
	bd.row("gRPC server by method")
	bd.add(8, graphHeight, timeSeries("RPC rate by method", "RPCs per second by method.",
		units.RequestsPerSecond, query{expr: rpcH.rate(method, rpc), legend: legend(catalog.LabelRPCMethod)}))
	bd.add(8, graphHeight, withThresholdLines(
		timeSeries("RPC error ratio by method", "Failed RPCs (error_type set) / all RPCs, by method.",
			units.PercentUnit, query{expr: rpcH.errorRatio(method, rpc), legend: legend(catalog.LabelRPCMethod)}).Min(0),
		steps("green", errorRatioSteps...)))
	bd.add(8, graphHeight, withThresholdLines(
		timeSeries("RPC p99 latency by method", "99th percentile of RPC duration by method, with exemplars.",
			units.Seconds, query{expr: rpcH.quantile(0.99, method, rpc), legend: legend(catalog.LabelRPCMethod), exemplar: true}),
		steps("green", latencySteps...)).DataLinks(profiles()))
	bd.add(12, graphHeight, timeSeries("RPC rate by status code", "RPCs per second by gRPC status code.",
		units.RequestsPerSecond,
		query{expr: rpcH.rate([]string{catalog.LabelRPCStatus}, rpc), legend: legend(catalog.LabelRPCStatus)}))
	bd.add(12, graphHeight, latencyPanel("RPC latency p50 / p90 / p99",
		"RPC duration percentiles, with exemplars.", rpcH, none, rpc).DataLinks(profiles()))

	return bd.build()
}

// latencyPanel shows the p50, p90 and p99 of a duration histogram. Exemplars ride on the p99
// query: Grafana fetches them per query, and one fetch shows them all.
func latencyPanel(title, description string, h histogram, by, matchers []string) *timeseries.PanelBuilder {
	return withThresholdLines(timeSeries(title, description, units.Seconds,
		query{expr: h.quantile(0.5, by, matchers), legend: "p50"},
		query{expr: h.quantile(0.9, by, matchers), legend: "p90"},
		query{expr: h.quantile(0.99, by, matchers), legend: "p99", exemplar: true},
	), steps("green", latencySteps...))
}
