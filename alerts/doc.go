// Package alerts turns an SLO spec into Prometheus rule files: multi-window, multi-burn-rate
// alerts for availability and latency SLOs over perfobs's HTTP and gRPC metrics, Go runtime
// alerts, and for every rule file a `promtool test rules` file that proves when each alert fires.
//
// The layers follow one another, each with its own errors:
//
//	ParseSpec  YAML -> Spec     strict: unknown fields, wrong types, bad durations (file:line: field: ...)
//	NewModel   Spec -> Model    defaults and checks: window >= 7d, objective in (0, 100),
//	                            latency threshold on a bucket boundary, duplicate names
//	Generate   Model -> files   rule files and their promtool tests, whose expected alerts come
//	                            from an independent burn-rate model (burnmodel.go), never from
//	                            the rule text; or Prometheus Operator PrometheusRule manifests
//	WriteFiles files -> dir     writes them and removes the stale files an earlier run generated
//
// Load does ParseSpec and NewModel at once; the spec format is documented on Spec. A File is a
// name and its bytes; dashboards.Build returns the same shape, so WriteFiles writes both.
//
// # What the rules do
//
// For each SLO, recording rules sum bad events and all requests separately over each window
// (5m, 30m, 1h, 2h, 6h, 1d, 3d) and divide the sums: ratios are never averaged. A window without
// traffic records nothing rather than NaN. Bad events are requests with a non-empty error_type
// (availability), or requests slower than the threshold: the _count minus the bucket at the
// threshold, whose le label is matched both as Prometheus 2 writes it ("1") and as Prometheus 3
// does ("1.0").
//
// The alerts follow the Google SRE workbook: page when the error ratio over 1h and 5m exceeds
// 14.4 times the budget, or over 6h and 30m 6 times; ticket over 1d and 2h at 3 times, or 3d and
// 6h at 1 time, for a 30-day window; for another window the factors are recomputed so that
// each alert fires at the same share of the budget (Model.Windows). Two guards make them quieter than
// the textbook's: an alert fires only when its long window holds at least min_requests requests,
// so a single failed request at night pages nobody; and SLONoData fires when the service's
// series have been missing for more than 10 minutes, and stays raised while they stay missing
// within the SLO window (a last-seen recording remembers when they were last scraped), so a restart,
// which leaves a gap of a minute or two, never fires it. Every alert carries the severity, slo,
// service and tier labels, a summary, a description with the current burn rate, and the
// runbook and dashboard links of the spec.
//
// # Native histograms
//
// A spec with histograms: native writes the same rules over the native series of the duration
// histograms, for services instrumented with middleware.WithNativeHistograms and a Prometheus
// started with --enable-feature=native-histograms (Prometheus 2.x then drops the classic
// _bucket, _count and _sum series of those histograms). Requests are
// sum(histogram_count(rate(H[w]))), errors the same over error_type!="", and requests within a
// latency threshold T are histogram_fraction(0, T, sum(rate(H[w]))) * histogram_count(...) of the
// same sum. That count is exact only when T is a native bucket boundary, a power of 2^(1/8)
// seconds (250ms, 500ms, 1s, 2s, and 7 boundaries between each power of two), so NewModel refuses
// any other threshold in native mode (ErrNotABucket) and names the nearest boundaries. The
// native SLO rules come without promtool tests (promtool 2.42 cannot write native samples); an
// end-to-end test against a real Prometheus proves them.
//
// The Go runtime alerts watch goroutine growth, memory near GOMEMLIMIT and a live heap growing
// toward it within 4h (both silent when no limit is set), the GC's CPU share and scheduler
// latency, with thresholds the spec can tune.
//
// The shipped defaults in alerts/rules/ are generated from DefaultSpec (one set of rules per
// job); a test fails when they drift from the generator.
package alerts
