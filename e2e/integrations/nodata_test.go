package integrations_test

import (
	"context"
	"testing"
	"time"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/internal/promtest"
)

const noDataSpec = `version: 1
service: shop
match: {job: shop}
runtime: {disabled: true}
slos:
  - name: availability
    kind: availability
    objective: 99.9
`

// TestNoDataRemembersTheLastScrape runs the generated rules on Prometheus 2.42 and 3 while the
// service goes away. Its series go stale at once (no sample to read), yet the last-seen
// recording keeps the time of the last scrape, carried from one evaluation to the next: that is
// what keeps SLONoData raised for as long as the service stays missing, where the old rule, which
// looked for series within the last hour, went quiet after an hour. The alert itself waits 10
// minutes (the promtool tests check when it fires); here it must not fire yet.
func TestNoDataRemembersTheLastScrape(t *testing.T) {
	t.Parallel()
	rules := writeRules(t, "nodata.yaml", noDataSpec)
	svc := startShop(t, shopConfig{})
	svc.load(t, 5*time.Millisecond, "GET /items/1")
	ctx := context.Background()
	lastSeen := catalog.SLOLastSeen + `{slo="availability",service="shop"}`
	series := catalog.HTTPServerDuration + `_count{job="shop"}`

	proms := map[promtest.Version]*promtest.Server{}
	for _, v := range promtest.Versions() {
		proms[v] = promtest.Start(t, promtest.WithVersion(v), promtest.WithTarget("shop", svc.addr()), promtest.WithRuleFiles(rules...))
	}
	for _, prom := range proms {
		prom.WaitForData(t, lastSeen, 20*time.Second)
	}
	svc.srv.CloseClientConnections()
	svc.srv.Close() // the service is gone: scrapes fail from now on
	gone := time.Now()

	for v, prom := range proms {
		t.Run(v.String(), func(t *testing.T) {
			// The raw series go stale within a couple of scrapes...
			deadline := time.Now().Add(15 * time.Second)
			for {
				res, err := prom.Query(ctx, series)
				if err == nil && len(res) == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s still returns %d series 15s after the service went away (%v)", series, len(res), err)
				}
				time.Sleep(250 * time.Millisecond)
			}
			// ...and the recording still holds the last scrape, a little before the service went.
			time.Sleep(3 * time.Second)
			res, err := prom.Query(ctx, lastSeen)
			if err != nil || len(res) != 1 {
				t.Fatalf("%s = %v (%v) after the series went stale, want one sample", lastSeen, res, err)
			}
			seen := time.Unix(int64(res[0].Value), 0)
			if seen.After(gone) || gone.Sub(seen) > 5*time.Second {
				t.Errorf("last seen %v, want within 5s before the service went away at %v", seen, gone)
			}
			age, err := prom.Query(ctx, `time() - `+lastSeen)
			if err != nil || len(age) != 1 || age[0].Value < 3 {
				t.Errorf("time() - last seen = %v (%v), want at least 3s and growing", age, err)
			}
			if res, err := prom.Query(ctx, `ALERTS{alertname="SLONoData"}`); err != nil || len(res) != 0 {
				t.Errorf("SLONoData = %v (%v) seconds into the outage, want it to wait 10 minutes", res, err)
			}
		})
	}
}
