package alerts

import (
	"fmt"
	"time"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/internal/promql"
)

// Hold times ("for") of the Go runtime alerts.
const (
	goroutineFor = "1h"
	memoryFor    = "15m"
	heapFor      = "30m"
	// heapHorizon is how far ahead GoHeapGrowingToLimit extrapolates the live heap's growth.
	heapHorizon = 4 * time.Hour
	gcCPUFor    = "15m"
	schedFor    = "10m"
)

// noMemoryLimit is below math.MaxInt64 (what go_gc_gomemlimit_bytes reports when GOMEMLIMIT is
// unset, 9.22e18) and above any real limit: the memory alert compares against it so that it stays
// silent, instead of dividing by 9.22e18, when no limit is set.
const noMemoryLimit = "9e18"

// renderRuntimeRules returns the Go runtime alerts of m, or an empty file when m.Runtime is nil.
func renderRuntimeRules(m *Model) promRuleFile {
	if m.Runtime == nil {
		return promRuleFile{}
	}
	rt := m.Runtime
	sel := selector(m, SLO{})
	if sel == "{}" {
		sel = ""
	}
	svc := serviceText(m)
	ann := func(summary, desc string) map[string]string {
		return map[string]string{
			"summary":     svc + ": " + summary,
			"description": desc,
		}
	}
	inst := "{{ $labels.instance }}"
	g := promRuleGroup{Name: groupName(m, "go-runtime")}
	g.Rules = []promRule{
		{
			Alert: catalog.AlertGoroutineGrowth,
			Expr: fmt.Sprintf("deriv(%s%s[1h]) * 3600 > %s\nand\n%s%s > %s",
				catalog.GoGoroutines, sel, promql.Float(rt.GoroutineGrowthPerHour), catalog.GoGoroutines, sel, promql.Float(rt.GoroutinesMin)),
			For:    goroutineFor,
			Labels: alertLabels(m, "", SeverityTicket),
			Annotations: ann("goroutines keep growing",
				fmt.Sprintf("Goroutines on %s grew by %s per hour for over an hour (alert above %s per hour once there are more than %s): "+
					"a goroutine leak? Compare two goroutine profiles taken an hour apart.",
					inst, `{{ printf "%.0f" $value }}`, promql.Float(rt.GoroutineGrowthPerHour), promql.Float(rt.GoroutinesMin))),
		},
		{
			Alert: catalog.AlertGoMemoryLimit,
			Expr: fmt.Sprintf("(%s%s - %s%s) / %s%s > %s\nand\n%s%s < %s",
				catalog.GoMemoryTotal, sel, catalog.GoMemoryHeapReleased, sel, catalog.GoGCMemLimit, sel, promql.Float(rt.MemoryLimitRatio),
				catalog.GoGCMemLimit, sel, noMemoryLimit),
			For:    memoryFor,
			Labels: alertLabels(m, "", SeverityTicket),
			Annotations: ann("Go memory near GOMEMLIMIT",
				fmt.Sprintf("The Go runtime on %s uses %s of GOMEMLIMIT (alert above %s). Near the limit the GC runs "+
					"more and more often; past it the process may be killed. Without a GOMEMLIMIT this alert never fires.",
					inst, "{{ $value | humanizePercentage }}", promql.Float(rt.MemoryLimitRatio*100)+"%")),
		},
		{
			Alert: catalog.AlertGoHeapGrowth,
			Expr: fmt.Sprintf("predict_linear(%s%s[1h], %d) > %s%s\nand\n%s%s < %s",
				catalog.GoGCHeapLive, sel, int64(heapHorizon/time.Second), catalog.GoGCMemLimit, sel,
				catalog.GoGCMemLimit, sel, noMemoryLimit),
			For:    heapFor,
			Labels: alertLabels(m, "", SeverityTicket),
			Annotations: ann("live heap grows toward GOMEMLIMIT",
				fmt.Sprintf("The live heap on %s has grown for the last hour at a pace that reaches GOMEMLIMIT within %s: "+
					"a leak, or a load the limit is too small for. Compare two heap profiles. Without a GOMEMLIMIT this alert never fires.",
					inst, promql.Duration(heapHorizon))),
		},
		{
			Alert: catalog.AlertGoGCCPU,
			Expr: fmt.Sprintf("rate(%s%s[5m])\n/\nrate(%s%s[5m]) > %s",
				catalog.GoCPUGCTotal, sel, catalog.GoCPUTotal, sel, promql.Float(rt.GCCPURatio)),
			For:    gcCPUFor,
			Labels: alertLabels(m, "", SeverityTicket),
			Annotations: ann("GC uses a large share of CPU",
				fmt.Sprintf("The garbage collector on %s uses %s of the CPU available to Go (alert above %s). "+
					"Reduce allocations, or raise GOGC or GOMEMLIMIT.",
					inst, "{{ $value | humanizePercentage }}", promql.Float(rt.GCCPURatio*100)+"%")),
		},
		{
			Alert: catalog.AlertGoSchedLatency,
			Expr: fmt.Sprintf("histogram_quantile(0.99, rate(%s_bucket%s[5m])) > %s",
				catalog.GoSchedLatencies, sel, promql.Float(rt.SchedLatencyP99)),
			For:    schedFor,
			Labels: alertLabels(m, "", SeverityTicket),
			Annotations: ann("goroutines wait long to run",
				fmt.Sprintf("The 99th percentile of the time runnable goroutines on %s wait for a CPU is %s (alert above %s): "+
					"the process is CPU-starved or throttled; check GOMAXPROCS against the CPU limit.",
					inst, `{{ printf "%.3f" $value }}s`, secondsText(rt.SchedLatencyP99))),
		},
	}
	return promRuleFile{Groups: []promRuleGroup{g}}
}
