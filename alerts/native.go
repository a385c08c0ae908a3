package alerts

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// HistogramMode is which series of the duration histograms the rules and dashboards read: the
// spec's histograms field.
type HistogramMode string

// Histogram modes.
const (
	// HistogramsClassic reads the classic series of the duration histograms: _count and the
	// _bucket of the latency threshold. The default.
	HistogramsClassic HistogramMode = "classic"
	// HistogramsNative reads their native series, for services instrumented with
	// middleware.WithNativeHistograms and scraped by a Prometheus started with
	// --enable-feature=native-histograms: such a Prometheus 2.x keeps only the native series of a
	// histogram that has them, so the classic _count and _bucket series the classic rules read
	// are gone. Counts come from histogram_count, the requests within a latency threshold from
	// histogram_fraction.
	HistogramsNative HistogramMode = "native"
)

// nativeSchema is the schema of the native histograms the middleware writes
// (middleware.WithNativeHistograms): bucket boundaries are the powers of 2^(1/8) seconds.
const nativeSchema = 3

// Native reports whether the rules read native histograms.
func (m *Model) Native() bool { return m.Histograms == HistogramsNative }

// nativeBoundary returns the native bucket boundary nearest to t (seconds, > 0) and whether t is
// that boundary, within a nanosecond (a spec's durations have nanosecond precision) or 1e-9 of it.
func nativeBoundary(t float64) (float64, bool) {
	k := int(math.Round(math.Log2(t) * (1 << nativeSchema)))
	b := nativeBound(k)
	return b, math.Abs(t-b) <= max(1e-9*b, 1e-9)
}

// nativeBound returns the upper bound of native bucket k: 2^(k/8). Whole powers of two come out
// exact, as Prometheus writes them.
func nativeBound(k int) float64 {
	const n = 1 << nativeSchema
	e, j := k/n, k%n
	if j < 0 {
		e, j = e-1, j+n
	}
	return math.Ldexp(math.Exp2(float64(j)/n), e)
}

// nativeNeighbours returns the native bucket boundaries just below and just above t (seconds, > 0).
func nativeNeighbours(t float64) (below, above float64) {
	k := int(math.Floor(math.Log2(t) * (1 << nativeSchema)))
	for nativeBound(k) > t {
		k--
	}
	for nativeBound(k+1) <= t {
		k++
	}
	return nativeBound(k), nativeBound(k + 1)
}

// nativeDuration writes a boundary as a duration a spec can hold: rounded to the nanosecond,
// which nativeBoundary accepts as the boundary itself.
func nativeDuration(b float64) string {
	return time.Duration(math.Round(b * 1e9)).String()
}

// nativeThresholdProblem explains why threshold t (seconds) cannot be a native latency threshold.
func nativeThresholdProblem(t float64) string {
	below, above := nativeNeighbours(t)
	return fmt.Sprintf("with histograms: native the latency threshold must be a native bucket boundary "+
		"(schema %d: a power of 2^(1/8) seconds, such as 250ms, 500ms, 1s or 2s), where histogram_fraction "+
		"counts the requests within it exactly rather than by interpolating inside a bucket; "+
		"the nearest are %s and %s", nativeSchema, nativeDuration(below), nativeDuration(above))
}

// histogramRate is sum by (...) (rate(metric{sel}[w])): the native histogram of a window.
func histogramRate(by, metric, sel, w string) string {
	return fmt.Sprintf("sum%s (rate(%s%s[%s]))", by, metric, sel, w)
}

// nativeRequests is the request rate over w read from the native series: the observations of
// each series, then summed.
func nativeRequests(by, metric, sel, w string) string {
	return fmt.Sprintf("sum%s (histogram_count(rate(%s%s[%s])))", by, metric, sel, w)
}

// nativeSlow is the rate of requests slower than threshold: all requests less those within it,
// histogram_fraction(0, threshold) of them. histogram_fraction of a window without requests is NaN,
// which would poison every sum over time: such a window answers 0 instead, as the classic rules do.
// The whole is in parentheses, since the error ratio divides it.
func nativeSlow(by, metric, sel, w string, threshold float64) string {
	req := nativeRequests(by, metric, sel, w)
	x := histogramRate(by, metric, sel, w)
	return fmt.Sprintf("(\n  (\n    clamp_min(\n      %s\n      -\n      histogram_fraction(0, %s, %s) * histogram_count(%s),\n      0\n    )\n    and\n    %s > 0\n  )\n  or\n  0 * %s\n)",
		req, strconv.FormatFloat(threshold, 'g', -1, 64), x, x, req, req)
}
