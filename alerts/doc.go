// Package alerts turns an SLO spec into Prometheus rule files: multi-window, multi-burn-rate
// alerts for availability and latency SLOs over perfobs's HTTP and gRPC metrics, Go runtime
// alerts, and for every rule file a `promtool test rules` file that proves when each alert fires.
//
//	m, err := alerts.Load("slo.yaml", data)           // ParseSpec + NewModel: file:line errors naming the field
//	files, err := alerts.Generate(m)                  // rule files and their promtool tests
//	_, _, err = alerts.WriteFiles("deploy/alerts", files) // also removes stale generated files
//
// Ratios are never averaged: errors and requests are summed separately per window. The alerts
// follow the Google SRE workbook (page 5m/1h at 14.4 and 30m/6h at 6, ticket 2h/1d at 3 and 6h/3d
// at 1 for a 30-day window, recomputed for others), with a minimum-traffic guard and an SLONoData
// alert that stays raised while the service is missing and never fires on a restart. The expected
// firing times in the generated tests come from an independent burn-rate model, never from the
// rule text. A spec with `histograms: native` writes the same rules over native histograms.
//
// docs/alerts.md in the repository covers the layers, what the rules do, native histograms and
// the shipped defaults in alerts/rules/.
package alerts
