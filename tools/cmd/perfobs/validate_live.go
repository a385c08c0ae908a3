package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/perfobs/perfobs-go/alerts"
	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/internal/promql"
)

// liveTimeout bounds the whole live check: a handful of queries.
const liveTimeout = 30 * time.Second

// liveReport is what the live check found: findings fail it, pending items (rules not evaluated
// yet) make it inconclusive when nothing failed.
type liveReport struct {
	ok, findings, pending []string
}

// validateLive checks a running Prometheus against model m: retention covers the SLO window, each
// SLO's matchers select series, the buckets hold each latency threshold, and the rules generated
// from m are loaded and evaluate without errors.
func validateLive(ctx context.Context, promURL string, m *alerts.Model) (*liveReport, error) {
	client, err := api.NewClient(api.Config{Address: promURL})
	if err != nil {
		return nil, fmt.Errorf("--prometheus %q: %w", promURL, err)
	}
	prom := promv1.NewAPI(client)
	ctx, cancel := context.WithTimeout(ctx, liveTimeout)
	defer cancel()
	r := &liveReport{}

	info, err := prom.Runtimeinfo(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: runtime info: %w", promURL, err)
	}
	retentionCheck(r, info.StorageRetention, m.Period)

	for _, s := range m.SLOs {
		if err := seriesCheck(ctx, r, prom, m, s); err != nil {
			return nil, err
		}
	}

	rules, err := prom.Rules(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: rules: %w", promURL, err)
	}
	if err := rulesCheck(r, rules, m); err != nil {
		return nil, err
	}
	return r, nil
}

// retentionCheck reads Prometheus's storageRetention ("15d", "30d or 10GiB", "10GiB").
func retentionCheck(r *liveReport, retention string, period time.Duration) {
	var timed model.Duration
	sized := ""
	for part := range strings.SplitSeq(retention, " or ") {
		part = strings.TrimSpace(part)
		if d, err := model.ParseDuration(part); err == nil {
			timed = d
		} else if part != "" {
			sized = part
		}
	}
	switch {
	case timed == 0 && sized == "":
		r.findings = append(r.findings, fmt.Sprintf("retention: Prometheus reports %q, which says nothing of how long it keeps data", retention))
	case timed > 0 && time.Duration(timed) < period:
		r.findings = append(r.findings, fmt.Sprintf("retention: %s is shorter than the SLO window %s: the budget over the window cannot be computed (set --storage.tsdb.retention.time=%s or more)",
			promql.Duration(time.Duration(timed)), promql.Duration(period), promql.Duration(period)))
	case sized != "":
		r.ok = append(r.ok, fmt.Sprintf("retention %s: a size limit may drop data inside the %s window first; check the disk holds it", retention, promql.Duration(period)))
	default:
		r.ok = append(r.ok, fmt.Sprintf("retention %s covers the SLO window %s", promql.Duration(time.Duration(timed)), promql.Duration(period)))
	}
}

// sloSelector is the series selector of SLO s, as the rules write it.
func sloSelector(m *alerts.Model, s alerts.SLO, series string) string {
	var parts []string
	for _, mt := range m.Match {
		parts = append(parts, mt.Name+"="+strconv.Quote(mt.Value))
	}
	endpoint := func(label string, values []string) {
		if len(values) == 0 {
			return
		}
		q := make([]string, len(values))
		for i, v := range values {
			q[i] = regexp.QuoteMeta(v)
		}
		parts = append(parts, label+"=~"+strconv.Quote(strings.Join(q, "|")))
	}
	endpoint(catalog.LabelRoute, s.Routes)
	endpoint(catalog.LabelRPCMethod, s.Methods)
	return series + "{" + strings.Join(parts, ",") + "}"
}

func sloMetric(s alerts.SLO) string {
	if s.Protocol == alerts.ProtocolGRPC {
		return catalog.RPCServerDuration
	}
	return catalog.HTTPServerDuration
}

// seriesCheck: the SLO's selector finds series, and a latency SLO's threshold is a bucket.
func seriesCheck(ctx context.Context, r *liveReport, prom promv1.API, m *alerts.Model, s alerts.SLO) error {
	metric := sloMetric(s)
	series := metric + "_count"
	if m.Native() {
		series = metric
	}
	sel := sloSelector(m, s, series)
	n, err := queryCount(ctx, prom, "count("+sel+")")
	if err != nil {
		return err
	}
	if n == 0 {
		r.findings = append(r.findings, fmt.Sprintf("slo %s: %s selects no series: check the spec's match, routes and methods against what Prometheus scrapes", s.Name, sel))
		return nil
	}
	r.ok = append(r.ok, fmt.Sprintf("slo %s: %s selects %d series", s.Name, sel, n))
	if s.Kind != alerts.KindLatency || m.Native() {
		return nil // native thresholds are native boundaries, checked by the spec
	}
	bucketSel := sloSelector(m, s, metric+"_bucket")
	v, _, _, err := prom.Query(ctx, "count by (le) ("+bucketSel+")", time.Now())
	if err != nil {
		return fmt.Errorf("query buckets of %s: %w", s.Name, err)
	}
	vec, _ := v.(model.Vector)
	var les []float64
	for _, smp := range vec {
		if f, err := strconv.ParseFloat(string(smp.Metric["le"]), 64); err == nil {
			les = append(les, f)
		}
	}
	slices.Sort(les)
	if !slices.Contains(les, s.Threshold) {
		r.findings = append(r.findings, fmt.Sprintf("slo %s: no bucket at the latency threshold %gs in %s: the service's buckets are %v (set the spec's buckets, or the service's, so that one is %g)",
			s.Name, s.Threshold, bucketSel, les, s.Threshold))
		return nil
	}
	r.ok = append(r.ok, fmt.Sprintf("slo %s: a bucket holds the threshold %gs", s.Name, s.Threshold))
	return nil
}

func queryCount(ctx context.Context, prom promv1.API, q string) (int, error) {
	v, _, _, err := prom.Query(ctx, q, time.Now())
	if err != nil {
		return 0, fmt.Errorf("query %s: %w", q, err)
	}
	vec, _ := v.(model.Vector)
	if len(vec) == 0 {
		return 0, nil
	}
	return int(vec[0].Value), nil
}

// rulesCheck: every group and rule the generator writes for m is loaded, and evaluates cleanly.
func rulesCheck(r *liveReport, loaded promv1.RulesResult, m *alerts.Model) error {
	files, err := alerts.Generate(m)
	if err != nil {
		return err
	}
	type ruleState struct{ health, lastError string }
	have := map[string]map[string][]ruleState{} // group -> rule name -> states
	for _, g := range loaded.Groups {
		rules := have[g.Name]
		if rules == nil {
			rules = map[string][]ruleState{}
			have[g.Name] = rules
		}
		for _, rule := range g.Rules {
			switch x := rule.(type) {
			case promv1.RecordingRule:
				rules[x.Name] = append(rules[x.Name], ruleState{string(x.Health), x.LastError})
			case promv1.AlertingRule:
				rules[x.Name] = append(rules[x.Name], ruleState{string(x.Health), x.LastError})
			}
		}
	}
	checked := 0
	for _, f := range files {
		if strings.HasSuffix(f.Name, "_test.yaml") {
			continue
		}
		var rf struct {
			Groups []struct {
				Name  string `yaml:"name"`
				Rules []struct {
					Record string `yaml:"record"`
					Alert  string `yaml:"alert"`
				} `yaml:"rules"`
			} `yaml:"groups"`
		}
		if err := yaml.Unmarshal(f.Data, &rf); err != nil {
			return fmt.Errorf("generated %s: %w", f.Name, err)
		}
		for _, g := range rf.Groups {
			rules, ok := have[g.Name]
			if !ok {
				r.findings = append(r.findings, fmt.Sprintf("rules: group %s (%s) is not loaded: add the file perfobs generate wrote to rule_files", g.Name, f.Name))
				continue
			}
			want := map[string]bool{}
			for _, rule := range g.Rules {
				want[rule.Record+rule.Alert] = true
			}
			for _, name := range slices.Sorted(maps.Keys(want)) {
				checked++
				states, ok := rules[name]
				if !ok {
					r.findings = append(r.findings, fmt.Sprintf("rules: group %s lacks %s: the loaded file is older than the spec; regenerate it", g.Name, name))
					continue
				}
				for _, st := range states {
					switch st.health {
					case "ok":
					case "err":
						r.findings = append(r.findings, fmt.Sprintf("rules: group %s, %s fails to evaluate: %s", g.Name, name, st.lastError))
					default:
						r.pending = append(r.pending, fmt.Sprintf("rules: group %s, %s has not been evaluated yet (health %q)", g.Name, name, st.health))
					}
				}
			}
		}
	}
	if checked > 0 {
		r.ok = append(r.ok, fmt.Sprintf("rules: %d generated rules checked in /api/v1/rules", checked))
	}
	return nil
}

// print writes the report and returns the exit code: 1 with any finding, 3 with only pending
// rules, 0 otherwise.
func (r *liveReport) print(w io.Writer, promURL string) int {
	for _, s := range r.ok {
		fmt.Fprintf(w, "ok    %s\n", s)
	}
	for _, s := range r.pending {
		fmt.Fprintf(w, "WAIT  %s\n", s)
	}
	for _, s := range r.findings {
		fmt.Fprintf(w, "FAIL  %s\n", s)
	}
	switch {
	case len(r.findings) > 0:
		fmt.Fprintf(w, "%s: %d finding(s)\n", promURL, len(r.findings))
		return exitFail
	case len(r.pending) > 0:
		fmt.Fprintf(w, "%s: inconclusive: %d rule(s) not evaluated yet; run again after an evaluation interval\n", promURL, len(r.pending))
		return exitInconclusive
	default:
		fmt.Fprintf(w, "%s: ok\n", promURL)
		return exitOK
	}
}
