package alerts

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/internal/promql"
)

// promRuleFile is a Prometheus rule file: what `promtool check rules` reads.
type promRuleFile struct {
	Groups []promRuleGroup `yaml:"groups"`
}

// promRuleGroup is one group of a rule file; its rules are evaluated in order.
type promRuleGroup struct {
	Name  string     `yaml:"name"`
	Rules []promRule `yaml:"rules"`
}

// promRule is a recording rule (Record set) or an alerting rule (Alert set).
type promRule struct {
	Record      string            `yaml:"record,omitempty"`
	Alert       string            `yaml:"alert,omitempty"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

// noDataGap is how long the service's series may be missing before SLONoData fires: a restart
// leaves a gap of a minute or two and never fires it. The alert stays raised while the series
// stay missing, for as long as their last sample is within the SLO window.
const noDataGap = 10 * time.Minute

// lastSeenCarry is how far back the last-seen recording reads its own previous value: longer
// than a Prometheus restart, so that one does not forget a missing service.
const lastSeenCarry = time.Hour

// renderSLORules returns the recording and alerting rules of SLO s of m, in one group.
func renderSLORules(m *Model, s SLO) promRuleFile {
	return promRuleFile{Groups: []promRuleGroup{renderSLO(m, s)}}
}

// sloWindows returns every rate window the alerts of m need, shortest first.
func sloWindows(m *Model) []time.Duration {
	var ws []time.Duration
	for _, w := range m.Windows {
		ws = append(ws, w.Long, w.Short)
	}
	slices.Sort(ws)
	return slices.Compact(ws)
}

func renderSLO(m *Model, s SLO) promRuleGroup {
	g := promRuleGroup{Name: groupName(m, "slo-"+s.Name)}
	static := map[string]string{catalog.LabelSLO: s.Name}
	if m.Service != "" {
		static[catalog.LabelService] = m.Service
	}
	id := idSelector(m, s)
	by := aggBy(m)
	metric, count := sloSeries(m, s)
	sel := selector(m, s)
	reqExpr := func(w string) string {
		if m.Native() {
			return nativeRequests(by, metric, sel, w)
		}
		return fmt.Sprintf("sum%s (rate(%s%s[%s]))", by, count, sel, w)
	}
	badExpr := func(w string) string {
		if s.Kind == KindLatency && m.Native() {
			return nativeSlow(by, metric, sel, w, s.Threshold)
		}
		if s.Kind == KindLatency {
			le := selector(m, s, "le=~"+strconv.Quote(leRegex(s.Threshold)))
			return fmt.Sprintf("clamp_min(\n  %s\n  -\n  sum%s (rate(%s_bucket%s[%s])),\n  0\n)", reqExpr(w), by, metric, le, w)
		}
		errSel := selector(m, s, errorMatcher(m, s))
		if m.Native() {
			return fmt.Sprintf("(\n  %s\n  or\n  0 * %s\n)", nativeRequests(by, metric, errSel, w), reqExpr(w))
		}
		return fmt.Sprintf("(\n  sum%s (rate(%s%s[%s]))\n  or\n  0 * %s\n)", by, count, errSel, w, reqExpr(w))
	}
	for _, w := range sloWindows(m) {
		ws := promql.Duration(w)
		if w == 5*time.Minute || isLong(m, w) {
			g.Rules = append(g.Rules, promRule{Record: catalog.SLORequestsRate + ws, Expr: reqExpr(ws), Labels: maps.Clone(static)})
		}
		if w == 5*time.Minute {
			g.Rules = append(g.Rules, promRule{Record: catalog.SLOErrorsRate + ws, Expr: badExpr(ws), Labels: maps.Clone(static)})
		}
		g.Rules = append(g.Rules, promRule{
			Record: catalog.SLOErrorRatioRate + ws,
			Expr:   fmt.Sprintf("%s\n/\n(%s > 0)", badExpr(ws), reqExpr(ws)),
			Labels: maps.Clone(static),
		})
	}
	period := promql.Duration(m.Period)
	budget := promql.Float(s.ErrorBudget())
	g.Rules = append(g.Rules,
		promRule{
			Record: catalog.SLOErrorRatioPeriod,
			Expr: fmt.Sprintf("sum_over_time(%s5m%s[%s])\n/\n(sum_over_time(%s5m%s[%s]) > 0)",
				catalog.SLOErrorsRate, id, period, catalog.SLORequestsRate, id, period),
			Labels: maps.Clone(static),
		},
		promRule{
			Record: catalog.SLOObjective,
			Expr:   fmt.Sprintf("0 * %s5m%s + %s", catalog.SLORequestsRate, id, promql.Float(s.Objective)),
			Labels: maps.Clone(static),
		},
		promRule{
			Record: catalog.SLOBudgetRemaining,
			Expr:   fmt.Sprintf("1 - %s%s / %s", catalog.SLOErrorRatioPeriod, id, budget),
			Labels: maps.Clone(static),
		},
	)
	for _, sev := range []string{SeverityPage, SeverityTicket} {
		var pairs []string
		for _, w := range m.Windows {
			if w.Severity != sev {
				continue
			}
			long, short := promql.Duration(w.Long), promql.Duration(w.Short)
			factor := promql.Float(w.Factor)
			cond := fmt.Sprintf("  %s%s%s / %s > %s\n  and\n  %s%s%s / %s > %s",
				catalog.SLOErrorRatioRate, long, id, budget, factor,
				catalog.SLOErrorRatioRate, short, id, budget, factor)
			if m.MinRequests > 0 {
				cond += fmt.Sprintf("\n  and\n  %s%s%s * %d >= %s",
					catalog.SLORequestsRate, long, id, int64(w.Long/time.Second), promql.Float(m.MinRequests))
			}
			pairs = append(pairs, "(\n"+cond+"\n)")
		}
		if len(pairs) == 0 {
			continue
		}
		g.Rules = append(g.Rules, promRule{
			Alert:       catalog.AlertSLOBurn,
			Expr:        strings.Join(pairs, "\nor\n"),
			Labels:      alertLabels(m, s.Name, sev),
			Annotations: burnAnnotations(m, s, sev, serviceText(m), `{{ printf "%.1f" $value }}`),
		})
	}
	noData := selector(m, s)
	if len(s.Routes) > 0 || len(s.Methods) > 0 {
		noData = selector(m, SLO{Protocol: s.Protocol})
	}
	series := count // the histogram itself with native histograms
	// The last-seen recording carries the time of the service's last sample from one evaluation
	// to the next: the series' own timestamp while they are scraped, its previous value once they
	// are gone, until that is older than the SLO window. Reading presence over the whole window
	// from the raw series would scan 30 days of every series at every evaluation.
	g.Rules = append(g.Rules,
		promRule{
			Record: catalog.SLOLastSeen,
			Expr: fmt.Sprintf("max%s (timestamp(%s%s))\nor\nmax%s (last_over_time(%s%s[%s]) > time() - %d)",
				by, series, noData, by, catalog.SLOLastSeen, id, promql.Duration(lastSeenCarry), int64(m.Period/time.Second)),
			Labels: maps.Clone(static),
		},
		promRule{
			Alert:       catalog.AlertSLONoData,
			Expr:        fmt.Sprintf("time() - max%s (%s%s) > %d", by, catalog.SLOLastSeen, id, int64(noDataGap/time.Second)),
			Labels:      alertLabels(m, s.Name, SeverityTicket),
			Annotations: noDataAnnotations(m, s, serviceText(m)),
		})
	return g
}

func isLong(m *Model, w time.Duration) bool {
	for _, aw := range m.Windows {
		if aw.Long == w {
			return true
		}
	}
	return false
}

func groupName(m *Model, suffix string) string {
	if m.Service != "" {
		return "perfobs-" + m.Service + "-" + suffix
	}
	return "perfobs-" + suffix
}

// serviceText is how annotations name the service: a literal, or the template that reads it
// from the series when the rules serve every value of ServiceLabel.
func serviceText(m *Model) string {
	if m.Service != "" {
		return m.Service
	}
	return "{{ $labels." + m.ServiceLabel + " }}"
}

func aggBy(m *Model) string {
	if m.ServiceLabel != "" {
		return " by (" + m.ServiceLabel + ")"
	}
	return ""
}

// idSelector selects the recordings of one SLO of m and nothing else: recordings of a spec with a
// fixed service carry a service label and no ServiceLabel, those of a ServiceLabel spec the
// reverse, so rules of both kinds can share one Prometheus.
func idSelector(m *Model, s SLO) string {
	if m.Service != "" {
		return fmt.Sprintf("{%s=%s,%s=%s}", catalog.LabelSLO, strconv.Quote(s.Name), catalog.LabelService, strconv.Quote(m.Service))
	}
	return fmt.Sprintf("{%s=%s,%s!=\"\"}", catalog.LabelSLO, strconv.Quote(s.Name), m.ServiceLabel)
}

func alertLabels(m *Model, slo, severity string) map[string]string {
	l := maps.Clone(m.Labels)
	l[catalog.LabelSeverity] = severity
	l[catalog.LabelTier] = m.Tier
	if slo != "" {
		l[catalog.LabelSLO] = slo
	}
	l[catalog.LabelService] = serviceText(m)
	return l
}

func metricOf(s SLO) string {
	if s.Protocol == ProtocolGRPC {
		return catalog.RPCServerDuration
	}
	return catalog.HTTPServerDuration
}

// selector returns the label selector of an SLO's series, with extra matchers (such as
// error_type!="") appended.
func selector(m *Model, s SLO, extra ...string) string {
	var parts []string
	for _, mt := range m.Match {
		parts = append(parts, mt.Name+"="+strconv.Quote(mt.Value))
	}
	endpoint := func(label string, values []string) {
		switch len(values) {
		case 0:
		case 1:
			parts = append(parts, label+"="+strconv.Quote(values[0]))
		default:
			q := make([]string, len(values))
			for i, v := range values {
				q[i] = regexp.QuoteMeta(v)
			}
			parts = append(parts, label+"=~"+strconv.Quote(strings.Join(q, "|")))
		}
	}
	if m.classic() {
		parts = append(parts, classicEndpoints(s)...)
	} else {
		endpoint(catalog.LabelRoute, s.Routes)
		endpoint(catalog.LabelRPCMethod, s.Methods)
	}
	parts = append(parts, extra...)
	return "{" + strings.Join(parts, ",") + "}"
}

// leRegex matches the le label of the bucket at threshold t as every Prometheus version writes
// it: Prometheus 2 keeps the exposition's "1", Prometheus 3 normalises it to "1.0".
func leRegex(t float64) string {
	var forms []string
	for _, f := range []string{
		strconv.FormatFloat(t, 'g', -1, 64),
		strconv.FormatFloat(t, 'f', -1, 64),
		strconv.FormatFloat(t, 'e', -1, 64),
	} {
		forms = append(forms, f)
		if !strings.ContainsAny(f, ".e") {
			forms = append(forms, f+".0")
		}
	}
	slices.Sort(forms)
	forms = slices.Compact(forms)
	q := make([]string, len(forms))
	for i, f := range forms {
		q[i] = regexp.QuoteMeta(f)
	}
	return strings.Join(q, "|")
}

// objectiveText describes an SLO in words: "99.9% of HTTP requests succeed".
func objectiveText(m *Model, s SLO) string {
	what := "HTTP requests"
	if s.Protocol == ProtocolGRPC {
		what = "gRPC calls"
	}
	if len(s.Routes) > 0 {
		what += " to " + strings.Join(s.Routes, ", ")
	}
	if len(s.Methods) > 0 {
		what += " to " + strings.Join(s.Methods, ", ")
	}
	obj := promql.Float(s.Objective*100) + "%"
	if s.Kind == KindLatency {
		return fmt.Sprintf("%s of %s finish within %s over %s", obj, what, secondsText(s.Threshold), promql.Duration(m.Period))
	}
	return fmt.Sprintf("%s of %s succeed over %s", obj, what, promql.Duration(m.Period))
}

func secondsText(s float64) string {
	if s < 1 {
		return promql.Float(s*1000) + "ms"
	}
	return promql.Float(s) + "s"
}

// burnAnnotations writes the annotations of a burn-rate alert; value is the text that shows the
// long-window burn rate (a template in rules, a number in tests). They name no factor or window,
// so that the generated tests check those through firing times alone.
func burnAnnotations(m *Model, s SLO, severity, service, value string) map[string]string {
	speed := "fast"
	if severity == SeverityTicket {
		speed = "steadily"
	}
	a := map[string]string{
		"summary": fmt.Sprintf("%s: SLO %s is burning its error budget %s", service, s.Name, speed),
		"description": fmt.Sprintf("The objective is %s. The error budget burns %sx faster than the objective allows "+
			"(over the long window of the condition that fired).%s",
			objectiveText(m, s), value, descSuffix(s)),
	}
	links(a, m, s, service)
	return a
}

func noDataAnnotations(m *Model, s SLO, service string) map[string]string {
	a := map[string]string{
		"summary": fmt.Sprintf("%s: SLO %s has no data", service, s.Name),
		"description": fmt.Sprintf("%s had %s series within the SLO window (%s) but none within the last %s: "+
			"the service, its scrape or its metrics are gone, so the SLO cannot be measured.%s",
			service, sloHistogram(m, s), promql.Duration(m.Period), promql.Duration(noDataGap), descSuffix(s)),
	}
	links(a, m, s, service)
	return a
}

func descSuffix(s SLO) string {
	if s.Description == "" {
		return ""
	}
	return " " + s.Description
}

func links(a map[string]string, m *Model, s SLO, service string) {
	runbook, dashboard := m.RunbookURL, m.DashboardURL
	if s.RunbookURL != "" {
		runbook = s.RunbookURL
	}
	if s.DashboardURL != "" {
		dashboard = s.DashboardURL
	}
	r := strings.NewReplacer("{service}", service, "{slo}", s.Name)
	if runbook != "" {
		a["runbook_url"] = r.Replace(runbook)
	}
	if dashboard != "" {
		a["dashboard_url"] = r.Replace(dashboard)
	}
}
