package alerts

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/perfobs/perfobs-go/catalog"
)

// renderRuntimeTests returns the promtool tests of the rules renderRuntimeRules writes for m,
// stored as ruleFile next to the test file. Each scenario holds a condition from minute 0 and
// checks the alert before its hold time ends and well after it.
func renderRuntimeTests(m *Model, ruleFile string) promtoolFile {
	tf := promtoolFile{RuleFiles: []string{ruleFile}, EvaluationInterval: "1m"}
	if m.Runtime == nil {
		return tf
	}
	rt := m.Runtime
	labels := map[string]string{"instance": "10.0.0.1:8080"}
	if m.ServiceLabel != "" {
		labels[m.ServiceLabel] = "app"
	}
	for _, mt := range m.Match {
		labels[mt.Name] = mt.Value
	}
	series := func(name string, extra map[string]string, values string) promtoolSeries {
		l := map[string]string{}
		for k, v := range labels {
			l[k] = v
		}
		for k, v := range extra {
			l[k] = v
		}
		return promtoolSeries{Series: seriesString(name, l), Values: values}
	}
	exp := func(alert string, ann map[string]string) []promtoolExpAlert {
		l := expLabels(m, "", SeverityTicket)
		l["instance"] = labels["instance"]
		for _, mt := range m.Match {
			l[mt.Name] = mt.Value
		}
		return []promtoolExpAlert{{ExpLabels: l, ExpAnnotations: ann}}
	}
	ann := func(alert, value string) map[string]string {
		for _, r := range renderRuntimeRules(m).Groups[0].Rules {
			if r.Alert == alert {
				return expandAnnotations(r.Annotations, labels["instance"], value, expServiceName(m), m.ServiceLabel)
			}
		}
		return nil
	}
	check := func(alert string, quietAt, firingAt int, value string) []promtoolAlertTest {
		return []promtoolAlertTest{
			{EvalTime: minutes(quietAt), Alertname: alert, ExpAlerts: []promtoolExpAlert{}},
			{EvalTime: minutes(firingAt), Alertname: alert, ExpAlerts: exp(alert, ann(alert, value))},
		}
	}
	quiet := func(alert string, at int) []promtoolAlertTest {
		return []promtoolAlertTest{{EvalTime: minutes(at), Alertname: alert, ExpAlerts: []promtoolExpAlert{}}}
	}

	// Goroutines: growing at twice the threshold from above the minimum; the rule holds 1h.
	perMin := math.Ceil(2 * rt.GoroutineGrowthPerHour / 60)
	g0 := math.Ceil(rt.GoroutinesMin) + 100
	tf.Tests = append(tf.Tests,
		promtoolGroup{Name: "goroutines growing steadily fire after an hour", Interval: "1m",
			InputSeries:   []promtoolSeries{series(catalog.GoGoroutines, nil, fmt.Sprintf("%s+%sx150", num(g0), num(perMin)))},
			AlertRuleTest: check(catalog.AlertGoroutineGrowth, 45, 120, fmt.Sprintf("%.0f", perMin*60))},
		promtoolGroup{Name: "a steady goroutine count stays quiet", Interval: "1m",
			InputSeries:   []promtoolSeries{series(catalog.GoGoroutines, nil, fmt.Sprintf("%sx150", num(g0*10)))},
			AlertRuleTest: quiet(catalog.AlertGoroutineGrowth, 120)},
	)

	// Memory: halfway between the threshold and GOMEMLIMIT; the rule holds 15m.
	const limit = 1 << 30
	mem := math.Round(limit * (rt.MemoryLimitRatio + (1-rt.MemoryLimitRatio)/2))
	memSeries := func(lim string, used float64) []promtoolSeries {
		return []promtoolSeries{
			series(catalog.GoMemoryTotal, nil, fmt.Sprintf("%sx60", num(used+limit/8))),
			series(catalog.GoMemoryHeapReleased, nil, fmt.Sprintf("%sx60", num(limit/8))),
			series(catalog.GoGCMemLimit, nil, lim+"x60"),
		}
	}
	tf.Tests = append(tf.Tests,
		promtoolGroup{Name: "memory near GOMEMLIMIT fires after 15m", Interval: "1m",
			InputSeries:   memSeries(strconv.Itoa(limit), mem),
			AlertRuleTest: check(catalog.AlertGoMemoryLimit, 10, 30, humanizePercentage(mem/limit))},
		promtoolGroup{Name: "without GOMEMLIMIT (math.MaxInt64) memory alerts stay quiet", Interval: "1m",
			InputSeries:   memSeries(strconv.FormatInt(math.MaxInt64, 10), 64*limit),
			AlertRuleTest: quiet(catalog.AlertGoMemoryLimit, 30)},
	)

	// Live heap: from a quarter of the limit, growing by 1% of it a minute (4h ahead: far past
	// the limit); the rule holds 30m. A flat heap, and a growing one without a limit, stay quiet.
	heapSeries := func(lim string, growth float64) []promtoolSeries {
		return []promtoolSeries{
			series(catalog.GoGCHeapLive, nil, fmt.Sprintf("%s+%sx90", num(limit/4), num(growth))),
			series(catalog.GoGCMemLimit, nil, lim+"x90"),
		}
	}
	tf.Tests = append(tf.Tests,
		promtoolGroup{Name: "a live heap growing toward GOMEMLIMIT fires after 30m", Interval: "1m",
			InputSeries:   heapSeries(strconv.Itoa(limit), limit/100),
			AlertRuleTest: check(catalog.AlertGoHeapGrowth, 20, 45, "")},
		promtoolGroup{Name: "a flat live heap stays quiet", Interval: "1m",
			InputSeries:   heapSeries(strconv.Itoa(limit), 0),
			AlertRuleTest: quiet(catalog.AlertGoHeapGrowth, 45)},
		promtoolGroup{Name: "a growing live heap without GOMEMLIMIT stays quiet", Interval: "1m",
			InputSeries:   heapSeries(strconv.FormatInt(math.MaxInt64, 10), limit/100),
			AlertRuleTest: quiet(catalog.AlertGoHeapGrowth, 45)},
	)

	// GC CPU: four CPUs (240 CPU-seconds a minute), the GC taking 1.5x the threshold share.
	share := math.Min(0.95, 1.5*rt.GCCPURatio)
	gcCPU := func(share float64) []promtoolSeries {
		return []promtoolSeries{
			series(catalog.GoCPUGCTotal, nil, fmt.Sprintf("0+%sx60", num(math.Round(240*share)))),
			series(catalog.GoCPUTotal, nil, "0+240x60"),
		}
	}
	tf.Tests = append(tf.Tests,
		promtoolGroup{Name: "GC taking a large CPU share fires after 15m", Interval: "1m",
			InputSeries:   gcCPU(share),
			AlertRuleTest: check(catalog.AlertGoGCCPU, 10, 30, humanizePercentage(math.Round(240*share)/240))},
		promtoolGroup{Name: "GC taking a small CPU share stays quiet", Interval: "1m",
			InputSeries:   gcCPU(rt.GCCPURatio / 4),
			AlertRuleTest: quiet(catalog.AlertGoGCCPU, 30)},
	)

	// Scheduler latency: 1000 waits a minute; 5% of them between the threshold and 4x it puts the
	// p99 at 3.4x the threshold (linear interpolation in the bucket).
	thr := rt.SchedLatencyP99
	sched := func(slow bool) []promtoolSeries {
		fast := 950.0
		if !slow {
			fast = 1000
		}
		b := func(le float64, perMin float64) promtoolSeries {
			s := strconv.FormatFloat(le, 'g', -1, 64)
			if math.IsInf(le, 1) {
				s = "+Inf"
			}
			return series(catalog.GoSchedLatencies+"_bucket", map[string]string{"le": s}, fmt.Sprintf("0+%sx60", num(perMin)))
		}
		return []promtoolSeries{b(thr/10, fast), b(thr, fast), b(4*thr, 1000), b(math.Inf(1), 1000)}
	}
	tf.Tests = append(tf.Tests,
		promtoolGroup{Name: "scheduler latency p99 above the threshold fires after 10m", Interval: "1m",
			InputSeries:   sched(true),
			AlertRuleTest: check(catalog.AlertGoSchedLatency, 5, 30, fmt.Sprintf("%.3f", thr+3*thr*40/50))},
		promtoolGroup{Name: "scheduler latency p99 below the threshold stays quiet", Interval: "1m",
			InputSeries:   sched(false),
			AlertRuleTest: quiet(catalog.AlertGoSchedLatency, 30)},
	)
	return tf
}

// humanizePercentage formats like Prometheus's template function of that name.
func humanizePercentage(v float64) string { return fmt.Sprintf("%.4g%%", v*100) }

// expandAnnotations fills the few template actions the runtime annotations use.
func expandAnnotations(a map[string]string, instance, value, service, serviceLabel string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		r := []string{
			"{{ $labels.instance }}", instance,
			`{{ printf "%.0f" $value }}`, value,
			`{{ printf "%.3f" $value }}`, value,
			"{{ $value | humanizePercentage }}", value,
		}
		if serviceLabel != "" {
			r = append(r, "{{ $labels."+serviceLabel+" }}", service)
		}
		out[k] = strings.NewReplacer(r...).Replace(v)
	}
	return out
}
