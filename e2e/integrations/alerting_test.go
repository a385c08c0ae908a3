package integrations_test

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/internal/promtest"
)

// alertingSpec has two SLOs on one service: /orders fails one request in 10 (a burn rate of 100
// for 99.9%: page), /items/{id} one in 400 (a burn rate of 2.5: over the 3d/6h ticket factor 1,
// far under the page factors 6 and 14.4: a ticket and never a page). min_requests 1000 keeps
// every alert quiet until its window holds a thousand requests, where one error more or less
// moves the burn rate by 0.4 at most (on a few hundred requests it would page: measured).
const alertingSpec = `version: 1
service: shop
match: {job: shop}
min_requests: 1000
runbook_url: https://runbooks.example.com/{service}/{slo}
dashboard_url: https://grafana.example.com/d/perfobs-slo?var-service={service}&var-slo={slo}
runtime: {disabled: true}
slos:
  - name: orders-availability
    kind: availability
    routes: ["/orders"]
    objective: 99.9
  - name: items-availability
    kind: availability
    routes: ["/items/{id}"]
    objective: 99.9
`

// exampleAlertmanagerConfig reads examples/alertmanager/alertmanager.yml and points its two
// receivers at hook, with the waits of a test instead of minutes.
func exampleAlertmanagerConfig(t *testing.T, hook *promtest.Webhook) string {
	t.Helper()
	data, err := os.ReadFile("../../examples/alertmanager/alertmanager.yml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(data)
	for from, to := range map[string]string{
		"http://pager.example.internal/alerts":   hook.URL + "/pager",
		"http://tickets.example.internal/alerts": hook.URL + "/ticket",
	} {
		if !strings.Contains(cfg, from) {
			t.Fatalf("examples/alertmanager/alertmanager.yml has no receiver URL %s", from)
		}
		cfg = strings.ReplaceAll(cfg, from, to)
	}
	cfg = regexp.MustCompile(`(?m)^(\s*group_wait:).*$`).ReplaceAllString(cfg, "$1 1s")
	cfg = regexp.MustCompile(`(?m)^(\s*group_interval:).*$`).ReplaceAllString(cfg, "$1 1s")
	return cfg
}

// TestAlertingThroughAlertmanager runs, on Prometheus 2.42 and 3, a failing service built with the
// SDK, scraped by Prometheus with the generated rules, sending its alerts to a real Alertmanager
// configured with examples/alertmanager/alertmanager.yml: the fast burn pages the pager receiver,
// the slow burn opens a ticket and no page, and the ticket of the paging SLO is inhibited.
func TestAlertingThroughAlertmanager(t *testing.T) {
	t.Parallel()
	rules := writeRules(t, "alerting.yaml", alertingSpec)
	svc := startShop(t, shopConfig{itemsFailEvery: 400, ordersFailEvery: 10})
	svc.load(t, time.Millisecond, "GET /items/1", "POST /orders", "GET /items/2")

	for _, v := range promtest.Versions() {
		t.Run(v.String(), func(t *testing.T) {
			t.Parallel()
			hook := promtest.StartWebhook(t)
			am := promtest.StartAlertmanager(t, exampleAlertmanagerConfig(t, hook))
			promtest.Start(t, promtest.WithVersion(v), promtest.WithTarget("shop", svc.addr()),
				promtest.WithRuleFiles(rules...), promtest.WithAlertmanager(am.URL))

			burn := func(slo, severity string) func(promtest.Notification) bool {
				return func(n promtest.Notification) bool {
					return n.Status == "firing" && n.CommonLabels["alertname"] == catalog.AlertSLOBurn &&
						n.CommonLabels[catalog.LabelSLO] == slo && n.CommonLabels[catalog.LabelSeverity] == severity
				}
			}
			page := hook.WaitFor(t, "paging orders-availability", burn("orders-availability", "page"), 60*time.Second)
			ticket := hook.WaitFor(t, "ticketing items-availability", burn("items-availability", "ticket"), 60*time.Second)

			for _, c := range []struct {
				n                  promtest.Notification
				path, receiver     string
				slo, severity, how string
			}{
				{page, "/pager", "pager", "orders-availability", "page", "fast"},
				{ticket, "/ticket", "ticket", "items-availability", "ticket", "steadily"},
			} {
				if c.n.Path != c.path || c.n.Receiver != c.receiver {
					t.Errorf("%s %s went to %s (receiver %s), want %s (%s)", c.slo, c.severity, c.n.Path, c.n.Receiver, c.path, c.receiver)
				}
				if len(c.n.Alerts) != 1 {
					t.Fatalf("%s %s: %d alerts in the notification, want 1", c.slo, c.severity, len(c.n.Alerts))
				}
				a := c.n.Alerts[0]
				want := map[string]string{"service": "shop", "slo": c.slo, "severity": c.severity, "tier": "2"}
				for k, w := range want {
					if a.Labels[k] != w {
						t.Errorf("%s %s: label %s = %q, want %q", c.slo, c.severity, k, a.Labels[k], w)
					}
				}
				wantAnn := map[string]string{
					"summary":       "shop: SLO " + c.slo + " is burning its error budget " + c.how,
					"runbook_url":   "https://runbooks.example.com/shop/" + c.slo,
					"dashboard_url": "https://grafana.example.com/d/perfobs-slo?var-service=shop&var-slo=" + c.slo,
				}
				for k, w := range wantAnn {
					if a.Annotations[k] != w {
						t.Errorf("%s %s: annotation %s = %q, want %q", c.slo, c.severity, k, a.Annotations[k], w)
					}
				}
				if !strings.Contains(a.Annotations["description"], "The objective is 99.9% of HTTP requests to") {
					t.Errorf("%s %s: description %q", c.slo, c.severity, a.Annotations["description"])
				}
			}

			// The ticket of the paging SLO reaches Alertmanager and stays inhibited there.
			ctx := context.Background()
			deadline := time.Now().Add(30 * time.Second)
			for {
				got, err := am.Alerts(ctx)
				if err != nil {
					t.Fatal(err)
				}
				inhibited := false
				for _, a := range got {
					if a.Labels[catalog.LabelSLO] == "orders-availability" && a.Labels[catalog.LabelSeverity] == "ticket" &&
						a.Labels["alertname"] == catalog.AlertSLOBurn {
						inhibited = a.Status.State == "suppressed" && len(a.Status.InhibitedBy) > 0
					}
				}
				if inhibited {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the orders-availability ticket is not inhibited by its page in Alertmanager: %+v", got)
				}
				time.Sleep(500 * time.Millisecond)
			}
			// A few more group intervals: no page for the slow burn, no ticket for the paging SLO,
			// no no-data alert for a service that is up.
			time.Sleep(3 * time.Second)
			for _, n := range hook.Notifications() {
				l := n.CommonLabels
				switch {
				case l[catalog.LabelSLO] == "items-availability" && l[catalog.LabelSeverity] == "page":
					t.Errorf("the slow burn paged: %+v", n)
				case l[catalog.LabelSLO] == "orders-availability" && l[catalog.LabelSeverity] == "ticket":
					t.Errorf("the ticket of the paging SLO was sent despite the inhibition: %+v", n)
				case l["alertname"] == catalog.AlertSLONoData:
					t.Errorf("no-data alert for a running service: %+v", n)
				}
			}
		})
	}
}
