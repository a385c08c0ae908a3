package integrations_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/internal/promtest"
	"github.com/perfobs/perfobs-go/middleware"
)

// histogramSpec is one availability and one latency SLO at 1s, the threshold whose le Prometheus
// 3 writes as "1.0"; the service name (and so the recordings' service label) and histogram mode
// vary.
func histogramSpec(service, mode string) string {
	return `version: 1
service: ` + service + `
match: {job: shop}
histograms: ` + mode + `
runtime: {disabled: true}
slos:
  - name: availability
    kind: availability
    objective: 99
  - name: latency-1s
    kind: latency
    threshold: 1s
    objective: 99
`
}

// TestPrometheus3Histograms proves on Prometheus 3 what the README says of it, against a service
// with native histograms on (its scrape carries native and classic buckets alike):
//   - classic le values are normalised: the 1s bucket is le="1.0", never le="1", and the classic
//     rules, which match both, still record;
//   - with scrape_native_histograms and always_scrape_classic_histograms, the native series and the
//     classic _bucket/_count/_sum series are both there, so classic and native rules run side by
//     side on one server and agree;
//   - the native rules (histogram_count, histogram_fraction) record every window.
func TestPrometheus3Histograms(t *testing.T) {
	t.Parallel()
	svc := startShop(t, shopConfig{itemsFailEvery: 20, opts: []middleware.Option{middleware.WithNativeHistograms()}})
	svc.load(t, 3*time.Millisecond, "GET /items/1", "GET /items/2", "POST /orders")
	rules := append(writeRules(t, "classic.yaml", histogramSpec("classic", "classic")),
		writeRules(t, "native.yaml", histogramSpec("native", "native"))...)
	prom := promtest.Start(t, promtest.WithVersion(promtest.Prometheus3), promtest.WithTarget("shop", svc.addr()),
		promtest.WithRuleFiles(rules...), promtest.WithNativeHistograms(), promtest.WithAlwaysScrapeClassicHistograms())
	ctx := context.Background()
	h := catalog.HTTPServerDuration

	prom.WaitForData(t, h+`_bucket{job="shop",le="1.0"}`, 20*time.Second)
	for _, le := range []string{"1", "0.5", "+Inf"} {
		res, err := prom.Query(ctx, h+`_bucket{job="shop",le="`+le+`"}`)
		switch {
		case err != nil:
			t.Fatal(err)
		case le == "1" && len(res) != 0:
			t.Errorf(`le="1": %d series; Prometheus 3 writes the 1s bucket as le="1.0"`, len(res))
		case le != "1" && len(res) == 0:
			t.Errorf(`le=%q: no series`, le)
		}
	}
	prom.WaitForData(t, `histogram_count(sum(`+h+`{job="shop"})) > 0`, 20*time.Second)
	prom.WaitForData(t, `sum(`+h+`_count{job="shop"}) > 0`, 20*time.Second)

	// Every recording of both modes, each SLO.
	for _, service := range []string{"classic", "native"} {
		for _, slo := range []string{"availability", "latency-1s"} {
			for _, rec := range []string{catalog.SLORequestsRate + "5m", catalog.SLOErrorRatioRate + "5m", catalog.SLOErrorRatioRate + "3d",
				catalog.SLOErrorRatioPeriod, catalog.SLOBudgetRemaining, catalog.SLOLastSeen} {
				prom.WaitForData(t, rec+`{service="`+service+`",slo="`+slo+`"}`, 30*time.Second)
			}
		}
	}
	// The two modes measure the same requests: the availability error ratios agree (one item
	// request in 20 fails, two requests in three are items: 1/30). A few seconds into the series'
	// life, rates of different series extrapolate differently (measured up to 10% apart): 20%.
	for _, service := range []string{"classic", "native"} {
		res := prom.WaitForData(t, catalog.SLOErrorRatioRate+`1h{service="`+service+`",slo="availability"}`, 10*time.Second)
		if r := res[0].Value; r < 1.0/30*0.8 || r > 1.0/30*1.2 {
			t.Errorf("%s rules: availability error ratio = %v, want 1/30 within 20%%", service, r)
		}
	}
	res, err := prom.Query(ctx, `ALERTS{alertname="SLONoData"}`)
	if err != nil || len(res) != 0 {
		t.Errorf("no-data alerts = %v (%v), want none", res, err)
	}
}

// TestPrometheus3KeepsClassicOnlyWhenAsked: with native histograms on and
// always_scrape_classic_histograms off, Prometheus 3, like 2.42, keeps only the native series of
// a histogram that has native buckets, which is why native mode exists.
func TestPrometheus3KeepsClassicOnlyWhenAsked(t *testing.T) {
	t.Parallel()
	svc := startShop(t, shopConfig{opts: []middleware.Option{middleware.WithNativeHistograms()}})
	svc.load(t, 5*time.Millisecond, "GET /items/1")
	prom := promtest.Start(t, promtest.WithVersion(promtest.Prometheus3), promtest.WithTarget("shop", svc.addr()),
		promtest.WithNativeHistograms())
	h := catalog.HTTPServerDuration
	prom.WaitForData(t, `histogram_count(sum(`+h+`{job="shop"})) > 0`, 20*time.Second)
	for _, suffix := range []string{"_bucket", "_count", "_sum"} {
		if res, err := prom.Query(context.Background(), h+suffix+`{job="shop"}`); err != nil || len(res) != 0 {
			t.Errorf("%s%s: %d series (%v), want none without always_scrape_classic_histograms", h, suffix, len(res), err)
		}
	}
	if !strings.HasPrefix(prom.Version.String(), "prometheus3") {
		t.Errorf("version %v", prom.Version)
	}
}
