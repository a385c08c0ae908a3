package dashboards

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	testpb "google.golang.org/grpc/interop/grpc_testing"

	"github.com/perfobs/perfobs-go/alerts"
	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/internal/promtest"
	"github.com/perfobs/perfobs-go/middleware"
)

// jobNative is the job of the native-histogram end-to-end test.
const jobNative = "e2e-native"

// histogramQuerier runs instant queries as promtest.Server.Query does, and also reads native
// histogram samples (which Query refuses), as their count: a bare selector of a native
// histogram answers those.
type histogramQuerier struct{ prom *promtest.Server }

func (q histogramQuerier) Query(ctx context.Context, expr string) ([]promtest.Sample, error) {
	raw, err := q.prom.API(ctx, "/api/v1/query", url.Values{"query": {expr}})
	if err != nil {
		return nil, err
	}
	var data struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric    map[string]string `json:"metric"`
			Value     []any             `json:"value"`
			Histogram []json.RawMessage `json:"histogram"`
		} `json:"result"`
	}
	if err := json.Unmarshal(raw, &data); err != nil || data.ResultType != "vector" {
		return q.prom.Query(ctx, expr) // scalars, and the errors Query words
	}
	out := make([]promtest.Sample, 0, len(data.Result))
	for _, r := range data.Result {
		var text string
		switch {
		case len(r.Value) == 2:
			text, _ = r.Value[1].(string)
		case len(r.Histogram) == 2:
			var h struct {
				Count string `json:"count"`
			}
			if err := json.Unmarshal(r.Histogram[1], &h); err != nil {
				return nil, fmt.Errorf("query %q: histogram: %w", expr, err)
			}
			text = h.Count
		}
		v, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return nil, fmt.Errorf("query %q: sample %q: %w", expr, text, err)
		}
		out = append(out, promtest.Sample{Metric: r.Metric, Value: v})
	}
	return out, nil
}

// tally counts the requests (or RPCs) the test sent and saw answered.
type tally struct {
	total, errors, slow atomic.Int64
	// stalled counts requests meant to be fast that took longer than the latency threshold at
	// the client: the server may have seen them as slow.
	stalled atomic.Int64
}

func (c *tally) add(err, slow bool, took time.Duration) {
	c.total.Add(1)
	if err {
		c.errors.Add(1)
	}
	if slow {
		c.slow.Add(1)
	} else if took > time.Second {
		c.stalled.Add(1)
	}
}

// sendOnce sends one request or RPC of each kind that the load sends, so that every series
// exists before Prometheus first scrapes (see TestNativeEndToEnd), and counts them.
func sendOnce(t *testing.T, s *service, client *http.Client, web, rpc *tally) {
	t.Helper()
	var wg sync.WaitGroup
	for _, path := range []string{"GET /users/1", "POST /orders", "GET /fail", "GET /slow"} {
		wg.Go(func() {
			if err := sendHTTP(s, client, path, web); err != nil {
				t.Error(err)
			}
		})
	}
	for _, body := range []string{"", "ok", "fail", "slow"} {
		wg.Go(func() {
			if err := sendRPC(s, body, rpc); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

// sendHTTP sends "METHOD /path" to s and counts it when answered. /fail fails and /slow is slow
// (the service is faulty).
func sendHTTP(s *service, client *http.Client, what string, c *tally) error {
	method, path, _ := strings.Cut(what, " ")
	req, err := http.NewRequest(method, s.app.URL+path, nil)
	if err != nil {
		return err
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	c.add(resp.StatusCode >= 500, path == "/slow", time.Since(start))
	return nil
}

// sendRPC makes EmptyCall (body "") or UnaryCall with body ok, fail or slow, and counts it.
func sendRPC(s *service, body string, c *tally) error {
	rpc := testpb.NewTestServiceClient(s.grpcConn)
	start := time.Now()
	var err error
	if body == "" {
		_, err = rpc.EmptyCall(context.Background(), &testpb.Empty{})
	} else {
		_, err = rpc.UnaryCall(context.Background(), &testpb.SimpleRequest{Payload: &testpb.Payload{Body: []byte(body)}})
	}
	if err != nil && body != "fail" {
		return fmt.Errorf("RPC %q: %w", body, err)
	}
	c.add(err != nil, body == "slow", time.Since(start))
	return nil
}

// recordingSelectors returns a selector of each recording rule in the rule files, for job.
func recordingSelectors(t *testing.T, paths []string, job string) []string {
	t.Helper()
	var out []string
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := promtest.Recordings(data)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for _, r := range recs {
			r.Labels["job"] = job
			out = append(out, r.Selector())
		}
	}
	return out
}

// TestNativeEndToEnd proves the native mode of the rules and dashboards against a real
// Prometheus with native histograms on, scraping a service instrumented with
// middleware.WithNativeHistograms under load with errors and slow requests. promtool 2.42 cannot
// write native histogram inputs, so this test is what proves the native rules.
//
// Every series exists before Prometheus's first scrape (one request of each kind is sent first)
// and the load starts only after that scrape, so every series has its first sample at the same
// scrape and rate() scales all of them alike: the ratios the rules record are then exactly the
// ratios of the requests the load sent, which the test checks.
func TestNativeEndToEnd(t *testing.T) {
	model := nativeModel(t)
	files, err := buildBoards(model)
	if err != nil {
		t.Fatal(err)
	}
	rules := writeRules(t, model)
	svc := startService(t, jobNative, true, middleware.WithNativeHistograms())
	transport := &http.Transport{MaxIdleConnsPerHost: 8}
	client := &http.Client{Transport: transport, Timeout: 10 * time.Second}
	t.Cleanup(transport.CloseIdleConnections)

	var warmWeb, warmRPC, web, rpc tally
	sendOnce(t, svc, client, &warmWeb, &warmRPC)

	// One Prometheus of each version, both scraping before the load starts.
	job := `{job="` + jobNative + `"}`
	httpH, rpcH := catalog.HTTPServerDuration, catalog.RPCServerDuration
	proms := map[promtest.Version]*promtest.Server{}
	for _, v := range promtest.Versions() {
		proms[v] = promtest.Start(t, promtest.WithVersion(v),
			promtest.WithTarget(jobNative, svc.instance()),
			promtest.WithRuleFiles(rules...),
			promtest.WithFeatures("native-histograms"),
		)
	}
	for _, prom := range proms {
		prom.WaitForData(t, `histogram_count(sum(`+httpH+job+`)) > 0 and histogram_count(sum(`+rpcH+job+`)) > 0`, 20*time.Second)
	}

	// The load: 6 seconds of fast requests, failures and slow ones, all counted.
	var stop atomic.Bool
	var wg sync.WaitGroup
	worker := func(f func(i int) error) {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				if err := f(i); err != nil {
					t.Error(err)
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	worker(func(i int) error {
		what := []string{"GET /users/" + strconv.Itoa(i%7), "POST /orders", "GET /fail"}[i%3]
		return sendHTTP(svc, client, what, &web)
	})
	worker(func(int) error { return sendHTTP(svc, client, "GET /slow", &web) })
	worker(func(i int) error { return sendRPC(svc, []string{"", "ok", "fail", "ok"}[i%4], &rpc) })
	worker(func(int) error { return sendRPC(svc, "slow", &rpc) })
	time.Sleep(6 * time.Second)
	stop.Store(true)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	t.Logf("load: HTTP %d requests, %d failed, %d slow, %d stalled; gRPC %d calls, %d failed, %d slow, %d stalled",
		web.total.Load(), web.errors.Load(), web.slow.Load(), web.stalled.Load(),
		rpc.total.Load(), rpc.errors.Load(), rpc.slow.Load(), rpc.stalled.Load())

	for _, v := range promtest.Versions() {
		t.Run(v.String(), func(t *testing.T) {
			t.Parallel()
			prom := proms[v]
			q := histogramQuerier{prom}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			// waitFor polls expr until check passes on its one sample, or fails the test.
			waitFor := func(t *testing.T, expr string, check func(v float64) error) {
				t.Helper()
				deadline := time.Now().Add(15 * time.Second)
				for {
					res, err := q.Query(ctx, expr)
					if err == nil && len(res) != 1 {
						err = fmt.Errorf("%d samples, want 1: %v", len(res), res)
					}
					if err == nil {
						if err = check(res[0].Value); err == nil {
							return
						}
					}
					if time.Now().After(deadline) {
						t.Fatalf("%s: %v", expr, err)
					}
					time.Sleep(250 * time.Millisecond)
				}
			}
			equal := func(want float64) func(float64) error {
				return func(v float64) error {
					if v != want {
						return fmt.Errorf("= %v, want %v", v, want)
					}
					return nil
				}
			}
			within := func(lo, hi float64) func(float64) error {
				return func(v float64) error {
					if v < lo-1e-9 || v > hi+1e-9 {
						return fmt.Errorf("= %v, want %v to %v", v, lo, hi)
					}
					return nil
				}
			}

			protocols := []struct {
				name, metric string
				warm, load   *tally
			}{
				{"http", httpH, &warmWeb, &web},
				{"grpc", rpcH, &warmRPC, &rpc},
			}
			for _, p := range protocols {
				t.Run(p.name+" native series hold every request", func(t *testing.T) {
					all := func(f func(*tally) *atomic.Int64) float64 {
						return float64(f(p.warm).Load() + f(p.load).Load())
					}
					total := all(func(c *tally) *atomic.Int64 { return &c.total })
					errs := all(func(c *tally) *atomic.Int64 { return &c.errors })
					slow := all(func(c *tally) *atomic.Int64 { return &c.slow })
					stalled := all(func(c *tally) *atomic.Int64 { return &c.stalled })
					sum := "sum(" + p.metric + job + ")"
					waitFor(t, "histogram_count("+sum+")", equal(total))
					waitFor(t, `histogram_count(sum(`+p.metric+`{job="`+jobNative+`",error_type!=""}))`, equal(errs))
					// Requests within the 1s threshold, read as the native rules do: exact at a boundary.
					waitFor(t, "histogram_fraction(0, 1, "+sum+") * histogram_count("+sum+")", within(total-slow-stalled, total-slow))
					// Prometheus with native histograms on (2.42 and 3 alike) keeps no classic series of them.
					if res, err := q.Query(ctx, p.metric+"_count"+job); err != nil || len(res) != 0 {
						t.Errorf("%s_count = %v (%v): want no classic series", p.metric, res, err)
					}
				})
			}

			t.Run("every recording rule returns data", func(t *testing.T) {
				sels := recordingSelectors(t, rules, jobNative)
				if want := len(model.SLOs) * 15; len(sels) < want {
					t.Fatalf("%d recording rules, want at least %d", len(sels), want)
				}
				for _, sel := range sels {
					prom.WaitForData(t, sel, 15*time.Second)
				}
			})

			// The error ratio of every window equals that of the load: every window holds all of it.
			for _, p := range protocols {
				for _, s := range model.SLOs {
					if string(s.Protocol) != p.name {
						continue
					}
					t.Run(s.Name+" ratio matches the requests sent", func(t *testing.T) {
						total := float64(p.load.total.Load())
						lo, hi := float64(p.load.errors.Load())/total, float64(p.load.errors.Load())/total
						if s.Kind == alerts.KindLatency {
							lo = float64(p.load.slow.Load()) / total
							hi = float64(p.load.slow.Load()+p.load.stalled.Load()) / total
						}
						if lo <= 0 {
							t.Fatalf("the load sent no bad %s requests", p.name)
						}
						// Prometheus 2.42 scales every series of a window alike: the ratio is
						// exact. Prometheus 3 extrapolates each native series' rate on its own:
						// measured within 1% for the error ratios and up to 4.4% for the latency
						// ones (a handful of slow requests); 10% bounds it.
						tol := 1e-9
						if v != promtest.Prometheus2 {
							tol = 0.10
						}
						for _, w := range []string{"5m", "1h", "3d"} {
							expr := fmt.Sprintf(`%s%s{slo=%q,job=%q}`, catalog.SLOErrorRatioRate, w, s.Name, jobNative)
							waitFor(t, expr, within(lo*(1-tol), hi*(1+tol)))
						}
					})
				}
			}

			t.Run("errors at 25% and more page", func(t *testing.T) {
				for _, slo := range []string{"http-availability", "grpc-availability"} {
					prom.WaitForData(t, `ALERTS{alertname="SLOErrorBudgetBurn",slo="`+slo+`",job="`+jobNative+`",severity="page",alertstate="firing"}`, 15*time.Second)
				}
			})

			t.Run("no-data alerts see the native series and stay quiet", func(t *testing.T) {
				// One series for each of /users/{id}, /orders, /fail and /slow.
				waitFor(t, `count by (job) (present_over_time(`+httpH+job+`[1h]))`, equal(4))
				if res, err := q.Query(ctx, `ALERTS{alertname="SLONoData"}`); err != nil || len(res) != 0 {
					t.Errorf("no-data alerts = %v (%v), want none", res, err)
				}
			})

			t.Run("every dashboard query and selector returns data", func(t *testing.T) {
				vars := varsFor(svc)
				vars["__rate_interval"] = "5m" // the load has stopped: look back over all of it
				checked := 0
				for _, f := range files {
					if f.Name == RuntimeFile {
						continue // the runtime dashboard has no native mode: TestEndToEnd covers it
					}
					for _, v := range f.Dashboard.Templating.List {
						if v.Type != "query" {
							continue
						}
						if err := checkVariable(ctx, q, substitute(deref(v.Query.String), vars)); err != nil {
							t.Errorf("%s / variable %s: %v", f.Name, v.Name, err)
						}
					}
					for _, pq := range queriesOf(t, f) {
						checked++
						expr := substitute(pq.expr, vars)
						res, err := checkQuery(ctx, q, expr)
						switch {
						case err != nil:
							t.Errorf("%s: %v", pq.where, err)
						case len(res) == 0:
							t.Errorf("%s: %s returns nothing", pq.where, expr)
						}
						for _, r := range res {
							if math.IsNaN(r.Value) {
								t.Errorf("%s: %s = NaN", pq.where, expr)
							}
						}
					}
				}
				if checked < 40 {
					t.Errorf("checked %d queries, want the RED and SLO dashboards' (at least 40)", checked)
				}
			})
		})
	}
}
