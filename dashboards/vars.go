package dashboards

import (
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// labelValues is the Grafana Prometheus variable query for the values of label on the series
// that match series.
func labelValues(series, label string) string {
	return "label_values(" + series + ", " + label + ")"
}

// datasourceVar picks the Prometheus data source.
func datasourceVar() *dashboard.DatasourceVariableBuilder {
	return dashboard.NewDatasourceVariableBuilder(varDatasource).
		Label("Data source").
		Type(datasourceType)
}

// queryVar is a variable whose values come from a label_values query. A multi-value variable
// has an All option that matches every value (.*), and the queries use it with =~.
func queryVar(name, label, q string, multi bool) *dashboard.QueryVariableBuilder {
	v := dashboard.NewQueryVariableBuilder(name).
		Label(label).
		Datasource(*promDatasource()).
		Query(dashboard.StringOrMap{String: &q}).
		Definition(q).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalAsc)
	if multi {
		v.Multi(true).IncludeAll(true).AllValue(allValue)
	}
	return v
}

// jobAndInstance are the job (one) and instance (any number) variables, read from the series
// that match metrics: a metric name, or a regular expression on __name__ when quoted.
func jobAndInstance(metrics string) []*dashboard.QueryVariableBuilder {
	job := `job="$` + varJob + `"`
	return []*dashboard.QueryVariableBuilder{
		queryVar(varJob, "Job", labelValues(seriesOf(metrics), "job"), false),
		queryVar(varInstance, "Instance", labelValues(seriesOf(metrics, job), "instance"), true),
	}
}

// seriesOf selects the series of one metric name, or of several given as "a|b".
func seriesOf(metrics string, matchers ...string) string {
	if !strings.Contains(metrics, "|") {
		return selector(metrics, matchers...)
	}
	return "{" + strings.Join(append([]string{`__name__=~"` + metrics + `"`}, matchers...), ",") + "}"
}
