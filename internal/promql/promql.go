package promql

import (
	"strconv"
	"time"
)

// Duration formats d as Prometheus writes durations, in the largest whole unit: 5m, 1h, 30d,
// 90s, 250ms; "0s" for zero or less.
func Duration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d%(24*time.Hour) == 0:
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	case d%time.Second == 0:
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return strconv.FormatInt(int64(d/time.Millisecond), 10) + "ms"
}

// Float writes f with at most 12 significant digits, so 1-0.999 prints as 0.001, as the rules and
// the dashboards write objectives, budgets and factors.
func Float(f float64) string {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'g', 12, 64), 64)
	return strconv.FormatFloat(r, 'g', -1, 64)
}
