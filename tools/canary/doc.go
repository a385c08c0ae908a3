// Package canary judges a canary deployment from the metrics the perfobs-go SDK exports: it reads
// the baseline's and the canary's histograms, error counts and runtime metrics back from
// Prometheus over its HTTP API and decides, with statistics, whether the canary is worse.
//
// What it compares, per HTTP route and method, per gRPC method and for the whole service:
//
//   - latency: the two distributions rebuilt from histogram bucket increases over the window.
//     At each bucket boundary the fraction of requests slower than it is compared with a
//     one-sided test that the canary's fraction exceeds the baseline's by more than a relative
//     and an absolute tolerance (both must be exceeded: an intersection-union test), Bonferroni
//     over the boundaries; p50, p90 and p99 are reported with confidence intervals. A
//     step-sampled Mann-Whitney mode (Kayenta's semantics) is available in the config;
//   - errors: the error ratios compared as proportions, with the Agresti-Caffo and Haldane
//     corrections so that zero errors on either side are data, never NaN;
//   - cost and saturation per instance (CPU seconds per request, heap, goroutines, GC CPU share),
//     step-sampled and compared with Mann-Whitney U and a Hodges-Lehmann effect, as Kayenta does.
//
// The family-wise false-positive rate over all metrics is held at Config.Alpha with Holm's
// step-down procedure. Too little traffic, a selector that matches nothing, a metric present on
// one side only or a failing Prometheus never yield Pass: they give Inconclusive or an error that
// names the selector or query.
//
// Watch repeats the judgement on a growing window until a decisive verdict or a deadline, with
// an alpha-spending schedule (O'Brien-Fleming-shaped Lan-DeMets spending, each look tested at
// its own increment of alpha), so the false-positive rate stays at Alpha however many looks it
// takes.
//
// The command line is `perfobs canary` (tools/cmd/perfobs); docs/canary.md describes it.
package canary
