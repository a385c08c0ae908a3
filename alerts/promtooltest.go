package alerts

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/perfobs/perfobs-go/catalog"
)

// promtoolFile is a `promtool test rules` file.
type promtoolFile struct {
	RuleFiles          []string `yaml:"rule_files"`
	EvaluationInterval string   `yaml:"evaluation_interval"`
	// GroupEvalOrder fixes the order in which promtool evaluates rule groups at each step (it
	// is random otherwise). Generated rule files hold one group each and leave it empty.
	GroupEvalOrder []string        `yaml:"group_eval_order,omitempty"`
	Tests          []promtoolGroup `yaml:"tests"`
}

// promtoolGroup is one scenario: input series and the alerts expected at given times.
type promtoolGroup struct {
	Name          string              `yaml:"name"`
	Interval      string              `yaml:"interval"`
	InputSeries   []promtoolSeries    `yaml:"input_series"`
	AlertRuleTest []promtoolAlertTest `yaml:"alert_rule_test"`
}

// promtoolSeries is one series in promtool's expanding notation.
type promtoolSeries struct {
	Series string `yaml:"series"`
	Values string `yaml:"values"`
}

// promtoolAlertTest lists the alerts expected to fire at EvalTime.
type promtoolAlertTest struct {
	EvalTime  string             `yaml:"eval_time"`
	Alertname string             `yaml:"alertname"`
	ExpAlerts []promtoolExpAlert `yaml:"exp_alerts"`
}

// promtoolExpAlert is one expected firing alert.
type promtoolExpAlert struct {
	ExpLabels      map[string]string `yaml:"exp_labels"`
	ExpAnnotations map[string]string `yaml:"exp_annotations"`
}

// scenario is a named traffic pattern with the traffic of a decoy, a series the SLO must ignore.
type scenario struct {
	name   string
	phases []phase
	decoy  []phase
	// le3 writes the latency bucket's le label as Prometheus 3 does ("1.0").
	le3 bool
}

// sloScenarios returns the traffic patterns every SLO is tested against. Rates are chosen from
// the error budget: at "burn 1" the budget lasts exactly the SLO window.
func sloScenarios(m *Model, s SLO) []scenario {
	budget := s.ErrorBudget()
	rpm := math.Max(10, math.Round(10/budget)) // 10 bad events per minute at burn rate 1
	at := func(burn float64) float64 { return math.Round(burn * budget * rpm) }
	healthy := phase{minutes: 30, perMinute: rpm, badPerMin: at(0.5)}
	// Low traffic: one request a minute (60 an hour) and just enough consecutive failures to
	// push the 1h burn rate over the fast page factor.
	lowBad := int(math.Floor(0.02*m.Period.Minutes()/60*budget*60)) + 1
	lowBad = min(lowBad, 59)
	bad := "errors"
	if s.Kind == KindLatency {
		bad = "slow requests"
	}
	sc := []scenario{
		// Two healthy hours first, so that the 6h window does not page before the 1h one does.
		{name: "fast burn: " + bad + " at 20x the budget for 1h page, then ticket", phases: []phase{
			{minutes: 120, perMinute: rpm, badPerMin: at(0.5)}, {minutes: 60, perMinute: rpm, badPerMin: at(20)}, healthy}},
		{name: "slow burn: " + bad + " at 4x the budget ticket and never page", phases: []phase{
			healthy, {minutes: 90, perMinute: rpm, badPerMin: at(4)}}},
		{name: "budget-friendly " + bad + " at 0.8x stay quiet, and so does a decoy outside the SLO", phases: []phase{
			{minutes: 60, perMinute: rpm, badPerMin: at(0.8)}},
			decoy: []phase{{minutes: 60, perMinute: rpm, badPerMin: rpm}}},
		{name: fmt.Sprintf("low traffic: %d bad of 60 requests an hour do not page below min_requests", lowBad), phases: []phase{
			{minutes: 60, perMinute: 1}, {minutes: lowBad, perMinute: 1, badPerMin: 1}, {minutes: 60 - lowBad, perMinute: 1}}},
		{name: "no traffic, a restart (2m gap, counters reset) stay quiet; no-data fires 10m after the service disappears and stays raised past 1h", phases: []phase{
			healthy, {minutes: 30}, {minutes: 2, down: true}, healthy, {minutes: 90, down: true}}},
	}
	if s.Kind == KindLatency {
		if le2 := strconv.FormatFloat(s.Threshold, 'g', -1, 64); le2 != leProm3(s.Threshold) {
			sc = append(sc, scenario{name: "slow burn with le written by Prometheus 3 (" + leProm3(s.Threshold) + ")",
				phases: sc[1].phases, le3: true})
		}
	}
	if m.ServiceLabel != "" {
		for i := range sc {
			sc[i].decoy = nil // a decoy job would be a service of its own
		}
	}
	return sc
}

// leProm3 is how Prometheus 3 writes a bucket boundary: integers gain ".0".
func leProm3(t float64) string {
	s := strconv.FormatFloat(t, 'g', -1, 64)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}

// renderSLOTests returns the promtool tests of the rules renderSLORules writes for SLO s of m,
// stored as ruleFile next to the test file.
func renderSLOTests(m *Model, s SLO, ruleFile string) promtoolFile {
	tf := promtoolFile{RuleFiles: []string{ruleFile}, EvaluationInterval: "1m"}
	{
		for _, sc := range sloScenarios(m, s) {
			tf.Tests = append(tf.Tests, sloTestGroup(m, s, sc))
		}
	}
	return tf
}

// seriesLabels returns the labels of a simulated series of SLO s; decoy series fall outside
// the SLO's selection.
func seriesLabels(m *Model, s SLO, errorSeries, decoy bool) map[string]string {
	if m.classic() {
		return classicSeriesLabels(m, s, errorSeries, decoy)
	}
	l := map[string]string{"instance": "10.0.0.1:8080"}
	if m.ServiceLabel != "" {
		l[m.ServiceLabel] = "app"
	}
	for _, mt := range m.Match {
		l[mt.Name] = mt.Value
	}
	if s.Protocol == ProtocolGRPC {
		l[catalog.LabelRPCSystem] = catalog.RPCSystemGRPC
		l[catalog.LabelRPCMethod] = "test.Service/Call"
		if len(s.Methods) > 0 {
			l[catalog.LabelRPCMethod] = s.Methods[0]
		}
		l[catalog.LabelRPCStatus] = "OK"
		if errorSeries {
			l[catalog.LabelRPCStatus] = "INTERNAL"
			l[catalog.LabelErrorType] = "INTERNAL"
		}
	} else {
		l[catalog.LabelMethod] = "GET"
		l[catalog.LabelRoute] = "/"
		if len(s.Routes) > 0 {
			l[catalog.LabelRoute] = s.Routes[0]
		}
		l[catalog.LabelScheme] = "http"
		l[catalog.LabelStatusCode] = "200"
		if errorSeries {
			l[catalog.LabelStatusCode] = "500"
			l[catalog.LabelErrorType] = "500"
		}
	}
	if decoy {
		switch {
		case len(s.Routes) > 0:
			l[catalog.LabelRoute] = "/decoy"
		case len(s.Methods) > 0:
			l[catalog.LabelRPCMethod] = "decoy.Service/Call"
		case len(m.Match) > 0:
			l[m.Match[0].Name] = m.Match[0].Value + "-decoy"
		}
	}
	return l
}

func seriesString(name string, l map[string]string) string {
	keys := slices.Sorted(maps.Keys(l))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + strconv.Quote(l[k])
	}
	return name + "{" + strings.Join(parts, ", ") + "}"
}

// inputSeries writes the series of one simulated service.
func inputSeries(m *Model, s SLO, k *counters, decoy, le3 bool) []promtoolSeries {
	metric, count := sloSeries(m, s)
	good := make([]float64, len(k.total))
	for i := range good {
		good[i] = k.total[i] - k.bad[i]
	}
	if s.Kind == KindLatency {
		bl := seriesLabels(m, s, false, decoy)
		bl["le"] = strconv.FormatFloat(s.Threshold, 'g', -1, 64)
		if le3 {
			bl["le"] = leProm3(s.Threshold)
		}
		return []promtoolSeries{
			{seriesString(count, seriesLabels(m, s, false, decoy)), expand(k.total, k.present)},
			{seriesString(metric+"_bucket", bl), expand(good, k.present)},
		}
	}
	return []promtoolSeries{
		{seriesString(count, seriesLabels(m, s, false, decoy)), expand(good, k.present)},
		{seriesString(count, seriesLabels(m, s, true, decoy)), expand(k.bad, k.present)},
	}
}

// expand writes samples in promtool's notation: "a+bxn" for n+1 values growing by b, "_xn" for
// n missing samples.
func expand(v []float64, present []bool) string {
	var parts []string
	for i := 0; i < len(v); {
		if !present[i] {
			j := i
			for j < len(v) && !present[j] {
				j++
			}
			parts = append(parts, fmt.Sprintf("_x%d", j-i))
			i = j
			continue
		}
		j := i + 1
		if j < len(v) && present[j] && v[j] >= v[i] {
			d := v[j] - v[i]
			for j+1 < len(v) && present[j+1] && v[j+1]-v[j] == d {
				j++
			}
			parts = append(parts, fmt.Sprintf("%s+%sx%d", num(v[i]), num(d), j-i))
			i = j + 1
			continue
		}
		parts = append(parts, num(v[i]))
		i++
	}
	return strings.Join(parts, " ")
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func minutes(i int) string { return strconv.Itoa(i) + "m" }

// sloTestGroup simulates a scenario, asks the model which alerts fire when, and writes the
// checks: around every change of an alert's state, and once an hour.
func sloTestGroup(m *Model, s SLO, sc scenario) promtoolGroup {
	k := simulate(sc.phases)
	g := promtoolGroup{Name: fmt.Sprintf("%s: %s", s.Name, sc.name), Interval: "1m"}
	g.InputSeries = inputSeries(m, s, k, false, sc.le3)
	if sc.decoy != nil {
		g.InputSeries = append(g.InputSeries, inputSeries(m, s, simulate(sc.decoy), true, false)...)
	}
	n := len(k.total)
	burn := make([]map[string]alertState, n)
	noData := make([]bool, n)
	for i := range n {
		burn[i] = modelBurn(k, i, s.ErrorBudget(), m.MinRequests, m.Period)
		noData[i] = modelNoData(k, i, m.Period)
	}
	times := map[int]bool{n - 1: true}
	for i := 1; i < n; i++ {
		if i%60 == 0 {
			times[i] = true
		}
		if burn[i][SeverityPage].firing != burn[i-1][SeverityPage].firing ||
			burn[i][SeverityTicket].firing != burn[i-1][SeverityTicket].firing || noData[i] != noData[i-1] {
			times[i-1], times[i] = true, true
		}
	}
	for _, i := range slices.Sorted(maps.Keys(times)) {
		burnTest := promtoolAlertTest{EvalTime: minutes(i), Alertname: catalog.AlertSLOBurn, ExpAlerts: []promtoolExpAlert{}}
		ambiguous := burn[i][ambiguousKey].firing
		for _, sev := range []string{SeverityPage, SeverityTicket} {
			st := burn[i][sev]
			if !st.firing {
				continue
			}
			// The description prints the burn rate with one decimal: a value this close to a
			// rounding boundary could print either way, so that minute is not checked.
			if d := math.Abs(math.Mod(st.value*10, 1) - 0.5); d < 1e-6 {
				ambiguous = true
			}
			burnTest.ExpAlerts = append(burnTest.ExpAlerts, promtoolExpAlert{
				ExpLabels:      expLabels(m, s.Name, sev),
				ExpAnnotations: burnAnnotations(m, s, sev, expServiceName(m), fmt.Sprintf("%.1f", st.value)),
			})
		}
		if !ambiguous {
			g.AlertRuleTest = append(g.AlertRuleTest, burnTest)
		}
		nd := promtoolAlertTest{EvalTime: minutes(i), Alertname: catalog.AlertSLONoData, ExpAlerts: []promtoolExpAlert{}}
		if noData[i] {
			nd.ExpAlerts = append(nd.ExpAlerts, promtoolExpAlert{
				ExpLabels:      expLabels(m, s.Name, SeverityTicket),
				ExpAnnotations: noDataAnnotations(m, s, expServiceName(m)),
			})
		}
		g.AlertRuleTest = append(g.AlertRuleTest, nd)
	}
	return g
}

// expServiceName is the service an alert of the test series names.
func expServiceName(m *Model) string {
	if m.Service != "" {
		return m.Service
	}
	return "app"
}

func expLabels(m *Model, slo, severity string) map[string]string {
	l := maps.Clone(m.Labels)
	l[catalog.LabelSeverity] = severity
	l[catalog.LabelTier] = m.Tier
	if slo != "" {
		l[catalog.LabelSLO] = slo
	}
	l[catalog.LabelService] = expServiceName(m)
	if m.ServiceLabel != "" {
		l[m.ServiceLabel] = "app"
	}
	return l
}
