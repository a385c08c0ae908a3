// Package promtest starts a real Prometheus server for tests and queries it.
//
// Start runs /usr/bin/prometheus (or the binary named by the PROMETHEUS environment variable)
// on 127.0.0.1 with a free port, a data directory under t.TempDir(), and a configuration whose
// scrape and rule evaluation intervals are both one second. It waits until the server is ready
// and stops it in t.Cleanup. The server's own log is printed when the test fails.
//
//	srv := promtest.Start(t,
//		promtest.WithTarget("app", addr),          // host:port serving /metrics
//		promtest.WithRuleFiles("rules.yaml"),
//		promtest.WithFeatures("exemplar-storage"), // --enable-feature=exemplar-storage
//	)
//	samples := srv.WaitForData(t, `sum(rate(http_server_request_duration_seconds_count[10s]))`, 30*time.Second)
//
// Query runs one instant query; WaitForData repeats a query until it returns at least one
// sample; API reads any other JSON endpoint of the HTTP API (rules, targets, exemplars).
// A missing binary fails the test: it never skips.
//
// # Versions and settings
//
// WithVersion(Prometheus3) runs Prometheus 3 ($PROMETHEUS3, else prometheus3 in ToolsDir, where
// scripts/install-tools builds it); Versions lists both, for a table test. WithNativeHistograms
// turns native histograms on the way each version wants it (a feature flag on 2.42, the
// scrape_native_histograms setting on 3); WithAlwaysScrapeClassicHistograms and WithOTLPReceiver
// exist on Prometheus 3 only and fail the test on 2.42.
//
// # Alertmanager and Jaeger
//
// StartAlertmanager runs a real Alertmanager (the Debian package, or $ALERTMANAGER) with a given
// configuration, clustering off; StartWebhook is a loopback receiver that records what its
// webhook_configs post; WithAlertmanager points a Prometheus at it. StartJaeger runs Jaeger v2
// with in-memory storage, OTLP receivers on free ports (Jaeger.OTLPHTTP, Jaeger.OTLPGRPC) and the
// query API (Jaeger.QueryURL, Trace, Traces).
package promtest
