//lint:file-ignore SA1019 the v1 dashboard schema (dashboard.Dashboard) is what Grafana 10 and 11 import; dashboardv2 needs Grafana 12

package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
	"github.com/grafana/grafana-foundation-sdk/go/units"
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

// serviceRED builds the service RED dashboard: HTTP request rate, error ratio and latency
// (overall, as a heatmap and by route) and the same for gRPC methods.
func serviceRED(opts ...Option) (dashboard.Dashboard, error) {
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

	names := namesFor(cfg)
	httpH, rpcH := names.http, names.rpc
	bd.b.WithVariable(datasourceVar())
	// A service may serve HTTP, gRPC or both: its job and instances come from either histogram.
	for _, v := range jobAndInstance(httpH.series() + "|" + rpcH.series()) {
		bd.b.WithVariable(v)
	}
	bd.b.WithVariable(queryVar(varRoute, "Route",
		labelValues(httpH.count(targetMatchers()), names.route), true))
	bd.b.WithVariable(queryVar(varMethod, "gRPC method",
		labelValues(rpcH.count(targetMatchers()), names.method), true))

	http := with(names.route + `=~"$` + varRoute + `"`)
	rpc := with(names.method + `=~"$` + varMethod + `"`)
	none := []string(nil)

	// HTTP overview.
	bd.row("HTTP server")
	bd.add(6, statHeight, statPanel("Request rate", "HTTP requests per second.", units.RequestsPerSecond,
		steps("green"), query{expr: httpH.rate(none, http)}))
	bd.add(6, statHeight, statPanel("Error ratio", "Share of HTTP requests that failed (5xx, panics): error_type is set.",
		units.PercentUnit, steps("green", errorRatioSteps...), query{expr: httpH.errorRatio(none, http)}))
	bd.add(6, statHeight, statPanel("p99 latency", "99th percentile of HTTP request duration.", units.Seconds,
		steps("green", latencySteps...), query{expr: httpH.quantile(0.99, none, http)}))
	bd.add(6, statHeight, statPanel("In-flight requests", "HTTP requests being served now.", units.Short,
		steps("green"), query{expr: sumBy(none, selector(names.active, targetMatchers()...))}))

	bd.add(12, graphHeight, timeSeries("Request rate by status code", "HTTP requests per second by response status code.",
		units.RequestsPerSecond,
		query{expr: httpH.rate([]string{names.status}, http), legend: legend(names.status)}))
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
	breakdown(bd, httpH, names.route, http, profiles(),
		[3]string{"Request rate by route", "Error ratio by route", "p99 latency by route"},
		[3]string{"HTTP requests per second by route template.", "Failed HTTP requests / all HTTP requests, by route.",
			"99th percentile of HTTP request duration by route, with exemplars."})

	// gRPC by method.
	bd.row("gRPC server by method")
	breakdown(bd, rpcH, names.method, rpc, profiles(),
		[3]string{"RPC rate by method", "RPC error ratio by method", "RPC p99 latency by method"},
		[3]string{"RPCs per second by method.", "Failed RPCs (error_type set) / all RPCs, by method.",
			"99th percentile of RPC duration by method, with exemplars."})
	bd.add(12, graphHeight, timeSeries("RPC rate by status code", "RPCs per second by gRPC status code.",
		units.RequestsPerSecond,
		query{expr: rpcH.rate([]string{names.rpcCode}, rpc), legend: legend(names.rpcCode)}))
	bd.add(12, graphHeight, latencyPanel("RPC latency p50 / p90 / p99",
		"RPC duration percentiles, with exemplars.", rpcH, none, rpc).DataLinks(profiles()))

	return bd.build()
}

// breakdown adds three panels of h split by one label, side by side: rate, error ratio and p99
// latency (with exemplars and the links); titles and descriptions in that order.
func breakdown(bd *board, h histogram, label string, matchers []string, links []cog.Builder[dashboard.DashboardLink], titles, descriptions [3]string) {
	by := []string{label}
	bd.add(8, graphHeight, timeSeries(titles[0], descriptions[0],
		units.RequestsPerSecond, query{expr: h.rate(by, matchers), legend: legend(label)}))
	bd.add(8, graphHeight, withThresholdLines(
		timeSeries(titles[1], descriptions[1],
			units.PercentUnit, query{expr: h.errorRatio(by, matchers), legend: legend(label)}).Min(0),
		steps("green", errorRatioSteps...)))
	bd.add(8, graphHeight, withThresholdLines(
		timeSeries(titles[2], descriptions[2],
			units.Seconds, query{expr: h.quantile(0.99, by, matchers), legend: legend(label), exemplar: true}),
		steps("green", latencySteps...)).DataLinks(links))
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
