// Package integrations holds end-to-end tests of perfobs-go against the real servers its users
// run: Prometheus 2.42 and 3 (scrape, rules, native histograms, the OTLP receiver), Alertmanager
// (the generated alerts and examples/alertmanager/alertmanager.yml, to a loopback webhook) and
// Jaeger (traces over OTLP, and from a slow bucket's exemplar to its trace). The servers come
// from scripts/install-tools and start through internal/promtest; a missing one fails the test.
package integrations
