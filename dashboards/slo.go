//lint:file-ignore SA1019 the v1 dashboard schema (dashboard.Dashboard) is what Grafana 10 and 11 import; dashboardv2 needs Grafana 12

package dashboards

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/units"

	"github.com/perfobs/perfobs-go/alerts"
	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/internal/promql"
)

// SLOUID is the uid of the SLO dashboard of a spec that serves every value of a service label
// (service_label), such as the shipped default. A spec for one service gets SLOUID + "-" +
// service.
const SLOUID = "perfobs-slo"

// varService is the SLO dashboard's service variable: the value of the spec's service label
// (service_label: job reads job), or of the service label the rules of a one-service spec write.
const varService = "service"

var uidUnsafe = regexp.MustCompile(`[^a-zA-Z0-9_-]+`)

// sloUID returns the dashboard uid for a model: at most 40 characters, Grafana's limit.
func sloUID(m *alerts.Model) string {
	if m.Service == "" {
		return SLOUID
	}
	uid := SLOUID + "-" + strings.Trim(uidUnsafe.ReplaceAllString(m.Service, "-"), "-")
	if len(uid) > 40 {
		uid = strings.TrimRight(uid[:40], "-")
	}
	return uid
}

// sloDashboard builds the SLO and error budget dashboard of a checked spec: one row per SLO with the
// error budget left over the SLO window, the SLI over the window, the burn rate over each alert
// window against the factor its alert fires at, and the SLI, burn rates and budget over time.
// It reads only the recording rules that package alerts generates for the same model, with the
// same windows and factors (Model.Windows).
func sloDashboard(m *alerts.Model, opts ...Option) (dashboard.Dashboard, error) {
	if _, err := newConfig(opts); err != nil {
		return dashboard.Dashboard{}, err
	}
	if m == nil {
		return dashboard.Dashboard{}, errors.New("dashboards: SLO: nil model")
	}
	if len(m.SLOs) == 0 {
		return dashboard.Dashboard{}, errors.New("dashboards: SLO: the spec has no SLO")
	}
	if len(m.Windows) == 0 {
		return dashboard.Dashboard{}, errors.New("dashboards: SLO: the model has no alert windows (use alerts.NewModel)")
	}
	title := "SLOs and error budgets"
	if m.Service != "" {
		title += ": " + m.Service
	}
	bd := newBoard(sloUID(m), title,
		"Error budget, SLI and burn rates of every SLO of the spec, from the perfobs_slo:* recording rules.", "slo")
	bd.b.WithVariable(datasourceVar())

	label := m.ServiceLabel
	if m.Service != "" {
		label = catalog.LabelService
	}
	names := make([]string, len(m.SLOs))
	for i, s := range m.SLOs {
		names[i] = regexp.QuoteMeta(s.Name)
	}
	svcQuery := labelValues(selector(catalog.SLORequestsRate+"5m",
		catalog.LabelSLO+`=~"`+strings.Join(names, "|")+`"`), label)
	bd.b.WithVariable(queryVar(varService, "Service", svcQuery, false))

	for _, s := range m.SLOs {
		sloRow(bd, m, s, label)
	}
	return bd.build()
}

func sloRow(bd *board, m *alerts.Model, s alerts.SLO, label string) {
	id := []string{catalog.LabelSLO + "=" + strconv.Quote(s.Name), label + `="$` + varService + `"`}
	rec := func(name string) string { return selector(name, id...) }
	budget := promql.Float(s.ErrorBudget())
	burn := func(w time.Duration) string {
		return rec(catalog.SLOErrorRatioRate+promql.Duration(w)) + " / " + budget
	}
	period := promql.Duration(m.Period)
	budgetSteps := steps("red", step{0, "orange"}, step{0.25, "yellow"}, step{0.5, "green"})

	bd.row(fmt.Sprintf("SLO %s: %s", s.Name, objectiveText(m, s)))

	bd.add(8, statHeight, statPanel("Error budget remaining",
		fmt.Sprintf("Share of the %s error budget (%s%% of requests may fail) not yet spent over the last %s. Below 0: the SLO is missed.",
			period, promql.Float(s.ErrorBudget()*100), period),
		units.PercentUnit, budgetSteps, query{expr: rec(catalog.SLOBudgetRemaining)}))
	bd.add(8, statHeight, statPanel("SLI over "+period,
		"Share of good requests over the SLO window, against the objective.", units.PercentUnit,
		steps("red", step{s.Objective, "green"}), query{expr: "1 - " + rec(catalog.SLOErrorRatioPeriod)}).Decimals(3))
	bd.add(8, statHeight, statPanel("Objective", "The SLO's objective.", units.PercentUnit,
		steps("blue"), query{expr: rec(catalog.SLOObjective)}).Decimals(3))

	for _, w := range m.Windows {
		long, short := promql.Duration(w.Long), promql.Duration(w.Short)
		bd.add(gridWidth/uint32(len(m.Windows)), statHeight, statPanel(
			fmt.Sprintf("Burn rate %s / %s (%s at %sx)", long, short, w.Severity, promql.Float(w.Factor)),
			fmt.Sprintf("How many times faster than the objective allows the budget burns over %s and %s. "+
				"The %s alert fires when both exceed %sx (%s%% of the budget in %s).",
				long, short, w.Severity, promql.Float(w.Factor), promql.Float(w.BudgetFraction*100), long),
			units.Short, steps("green", step{w.Factor, "red"}),
			query{expr: burn(w.Long), legend: long}).
			WithTarget(query{expr: burn(w.Short), legend: short}.builder("B")).
			Decimals(2))
	}

	var windows []time.Duration
	for _, w := range m.Windows {
		windows = append(windows, w.Short, w.Long)
	}
	slices.Sort(windows)
	var burns []query
	for _, d := range slices.Compact(windows) {
		burns = append(burns, query{expr: burn(d), legend: promql.Duration(d)})
	}
	var factorSteps []step
	for _, w := range m.Windows {
		factorSteps = append(factorSteps, step{w.Factor, "red"})
	}
	bd.add(8, graphHeight, timeSeries("SLI",
		"Share of good requests over 5 minutes, and the objective.", units.PercentUnit,
		query{expr: "1 - " + rec(catalog.SLOErrorRatioRate+"5m"), legend: "SLI (5m)"},
		query{expr: rec(catalog.SLOObjective), legend: "objective"}).Decimals(3))
	bd.add(8, graphHeight, withThresholdLines(timeSeries("Burn rate by window",
		"Error ratio over each alert window / error budget. Dashed lines: the factors the alerts fire at.",
		units.Short, burns...).Min(0), steps("green", factorSteps...)))
	bd.add(8, graphHeight, withThresholdLines(timeSeries("Error budget remaining over time",
		"Share of the error budget left over the trailing SLO window.", units.PercentUnit,
		query{expr: rec(catalog.SLOBudgetRemaining), legend: "budget remaining"}), budgetSteps))
}

// objectiveText describes an SLO: "99.9% of HTTP requests succeed over 30d".
func objectiveText(m *alerts.Model, s alerts.SLO) string {
	what := "HTTP requests"
	if s.Protocol == alerts.ProtocolGRPC {
		what = "gRPC calls"
	}
	if len(s.Routes) > 0 {
		what += " to " + strings.Join(s.Routes, ", ")
	}
	if len(s.Methods) > 0 {
		what += " to " + strings.Join(s.Methods, ", ")
	}
	obj := promql.Float(s.Objective*100) + "%"
	if s.Kind == alerts.KindLatency {
		return fmt.Sprintf("%s of %s within %s over %s", obj, what, strconv.FormatFloat(s.Threshold, 'g', -1, 64)+"s", promql.Duration(m.Period))
	}
	return fmt.Sprintf("%s of %s succeed over %s", obj, what, promql.Duration(m.Period))
}
