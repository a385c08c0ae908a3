package dashboards

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/VictoriaMetrics/metricsql"
)

// selectorOf is one vector selector of a query.
type selectorOf struct {
	metric string // metric name, "" for a selector on __name__ with a regular expression
	text   string // the selector as PromQL, without a range
}

// vectorSelectors parses a PromQL expression and returns its vector selectors, in order. The
// parser is MetricsQL's, a superset of PromQL; Prometheus itself then runs each selector and the
// whole expression, so a query MetricsQL accepts and Prometheus refuses still fails the check.
//
// MetricsQL has no histogram_count or histogram_sum (native histogram functions); each becomes
// abs, a function of one argument that it knows, for the parse only.
func vectorSelectors(expr string) ([]selectorOf, error) {
	e, err := metricsql.Parse(nativeFuncs.ReplaceAllString(expr, "abs("))
	if err != nil {
		return nil, fmt.Errorf("parse %q: %w", expr, err)
	}
	var out []selectorOf
	metricsql.VisitAll(e, func(x metricsql.Expr) {
		me, ok := x.(*metricsql.MetricExpr)
		if !ok {
			return
		}
		s := selectorOf{text: string(me.AppendString(nil))}
		for _, group := range me.LabelFilterss {
			for _, f := range group {
				if f.Label == "__name__" && !f.IsRegexp && !f.IsNegative {
					s.metric = f.Value
				}
			}
		}
		out = append(out, s)
	})
	if len(out) == 0 {
		return nil, fmt.Errorf("%q has no vector selector", expr)
	}
	return out, nil
}

var nativeFuncs = regexp.MustCompile(`\bhistogram_(count|sum)\(`)

// substitute replaces Grafana's template variables ($name, ${name}, [[name]]) in a query with
// the values Grafana would send. Longer names go first so that $__rate_interval is not read as
// $__rate.
func substitute(expr string, vars map[string]string) string {
	names := make([]string, 0, len(vars))
	for n := range vars {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		return len(names[i]) > len(names[j]) || len(names[i]) == len(names[j]) && names[i] < names[j]
	})
	for _, n := range names {
		expr = strings.ReplaceAll(expr, "${"+n+"}", vars[n])
		expr = strings.ReplaceAll(expr, "[["+n+"]]", vars[n])
		expr = strings.ReplaceAll(expr, "$"+n, vars[n])
	}
	return expr
}

// testVars are the values of the dashboards' variables: one job and one instance, All for
// routes and methods, and a rate interval that holds enough 1 s scrapes.
func testVars(job, instance string) map[string]string {
	return map[string]string{
		varJob:            job,
		varInstance:       instance,
		varRoute:          allValue,
		varMethod:         allValue,
		"__rate_interval": "15s",
		"__interval":      "5s",
		"__range":         "1m",
	}
}
