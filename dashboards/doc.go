// Package dashboards builds the perfobs-go Grafana dashboards (Grafana 10 and later) with the
// grafana-foundation-sdk typed builders, reading every metric and label name from the same
// internal catalogue the middleware writes them from.
//
// Three dashboards:
//
//   - Service RED (uid perfobs-red): request rate, error ratio and p50/p90/p99 latency of HTTP
//     servers, a latency heatmap, the same by route, and by gRPC method; exemplars shown on the
//     latency panels and a data link to the service's profiles (WithProfilesURL);
//   - Go runtime (uid perfobs-go-runtime): goroutines, scheduler latency, threads, heap and memory
//     classes against GOMEMLIMIT, GC cycles, pauses and CPU share, file descriptors;
//   - SLO and error budget (uid perfobs-slo, or perfobs-slo-<service> for a spec of one named
//     service): for each SLO of a spec, the budget left over the SLO window, the burn rate of every alert window against the thresholds the alert
//     rules use, and the SLI over time, all read from the recording rules package alerts
//     generates.
//
// Every dashboard has a Prometheus datasource variable. RED and runtime have job and instance
// variables, RED adds route and gRPC method; the SLO dashboard has a service variable, whose
// values are those of the spec's service label (job for the shipped default). Build returns the
// dashboards for a spec as files (a name and the JSON bytes, the shape of alerts' rule files);
// alerts.WriteFiles writes them, removing dashboards an earlier run wrote and this one does not,
// and Grafana imports them by file provisioning or through its HTTP API. The
// shipped defaults in dashboards/json/ are this package's output for the default options, and a
// test fails when they drift.
//
// Every histogram query goes through one query builder. By default it reads the classic
// _bucket and _count series; WithNativeHistograms (or a spec with histograms: native, in Build)
// makes the RED dashboard read the native series instead, for a Prometheus with native
// histograms on, which keeps only those: sum(histogram_count(rate(H[$__rate_interval]))) for
// rates and errors, histogram_quantile over sum(rate(H[...])) for percentiles, and
// sum(rate(H[...])) for the heatmap. The SLO dashboard reads only recording rules, which package
// alerts writes in the same mode.
package dashboards
