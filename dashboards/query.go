package dashboards

import (
	"fmt"
	"strings"

	"github.com/perfobs/perfobs-go/catalog"
)

// Grafana template variables the queries use.
const (
	varDatasource   = "datasource"
	varJob          = "job"
	varInstance     = "instance"
	varRoute        = "route"
	varMethod       = "method"
	rateInterval    = "$__rate_interval"
	allValue        = ".*"
	datasourceType  = "prometheus"
	datasourceInput = "${" + varDatasource + "}"
)

// targetMatchers are the job and instance selection every panel of a dashboard shares.
func targetMatchers() []string {
	return []string{`job="$` + varJob + `"`, `instance=~"$` + varInstance + `"`}
}

// selector renders metric{m1,m2,...}.
func selector(metric string, matchers ...string) string {
	if len(matchers) == 0 {
		return metric
	}
	return metric + "{" + strings.Join(matchers, ",") + "}"
}

// with returns the target matchers followed by more.
func with(more ...string) []string {
	return append(targetMatchers(), more...)
}

// sumBy renders sum by (labels) (expr), or sum(expr) without labels.
func sumBy(by []string, expr string) string {
	if len(by) == 0 {
		return "sum(" + expr + ")"
	}
	return "sum by (" + strings.Join(by, ", ") + ") (" + expr + ")"
}

// histogram builds the PromQL of one histogram family. It is the single place that knows how a
// histogram is stored: classic mode reads the _bucket and _count series; native mode reads the
// native series (a Prometheus with native histograms on keeps only those) through
// histogram_count and histogram_quantile, and every panel follows.
type histogram struct {
	name   string
	native bool
	// counter, when set, is the counter whose rate counts the requests (classic gRPC names, whose
	// histogram has no status label); errMatcher selects the failed ones (default error_type!="").
	counter, errMatcher string
}

// withNative returns h reading native series when native is set.
func (h histogram) withNative(native bool) histogram {
	h.native = native
	return h
}

// series is the name of the series a variable reads labels from: _count, or the native series.
func (h histogram) series() string {
	if h.native {
		return h.name
	}
	return h.name + "_count"
}

func (h histogram) count(matchers []string) string {
	return selector(h.series(), matchers...)
}

func (h histogram) bucket(matchers []string) string {
	if h.native {
		return selector(h.name, matchers...)
	}
	return selector(h.name+"_bucket", matchers...)
}

// rate is the per-second rate of observations, summed by the given labels.
func (h histogram) rate(by []string, matchers []string) string {
	if h.counter != "" {
		return rateOf(by, h.counter, matchers)
	}
	if h.native {
		return sumBy(by, "histogram_count(rate("+h.count(matchers)+"["+rateInterval+"]))")
	}
	return sumBy(by, "rate("+h.count(matchers)+"["+rateInterval+"])")
}

// errorRatio is errors / total, each summed on its own (never an average of ratios). A label set
// with traffic and no errors answers 0, not nothing: the error side falls back to the total side
// times zero. A label set without traffic answers nothing, as a ratio of no requests should.
func (h histogram) errorRatio(by []string, matchers []string) string {
	errMatcher := h.errMatcher
	if errMatcher == "" {
		errMatcher = catalog.LabelErrorType + `!=""`
	}
	errs := h.rate(by, append(append([]string(nil), matchers...), errMatcher))
	total := h.rate(by, matchers)
	return "(" + errs + " or " + total + " * 0) / " + total
}

// quantile estimates the q-quantile from the buckets: classic buckets summed by le, or the
// native histograms summed.
func (h histogram) quantile(q float64, by []string, matchers []string) string {
	if h.native {
		return fmt.Sprintf("histogram_quantile(%g, %s)", q, sumBy(by, "rate("+h.bucket(matchers)+"["+rateInterval+"])"))
	}
	le := append([]string{"le"}, by...)
	return fmt.Sprintf("histogram_quantile(%g, %s)", q, sumBy(le, "rate("+h.bucket(matchers)+"["+rateInterval+"])"))
}

// heatmap is what a heatmap panel shows: in classic mode the observations per bucket and
// interval; in native mode the summed native histogram rate, which Grafana draws bucket by bucket.
func (h histogram) heatmap(matchers []string) string {
	if h.native {
		return sumBy(nil, "rate("+h.bucket(matchers)+"["+rateInterval+"])")
	}
	return sumBy([]string{"le"}, "increase("+h.bucket(matchers)+"["+rateInterval+"])")
}

// rateOf is sum by (labels) (rate(counter{matchers}[$__rate_interval])).
func rateOf(by []string, counter string, matchers []string) string {
	return sumBy(by, "rate("+selector(counter, matchers...)+"["+rateInterval+"])")
}

var (
	httpServer = histogram{name: catalog.HTTPServerDuration}
	rpcServer  = histogram{name: catalog.RPCServerDuration}
	schedLat   = histogram{name: catalog.GoSchedLatencies}
)
