package dashboards

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/grpc"
	testpb "google.golang.org/grpc/interop/grpc_testing"

	"github.com/perfobs/perfobs-go/alerts"
	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/internal/promtest"
	"github.com/perfobs/perfobs-go/internal/testkit/grpctest"
	"github.com/perfobs/perfobs-go/middleware"
	"github.com/perfobs/perfobs-go/middleware/grpcmw"
	"github.com/perfobs/perfobs-go/runtimemetrics"
)

// Jobs of the end-to-end test: one service with errors and slow requests, one without either.
const (
	jobFaulty = "e2e-faulty"
	jobClean  = "e2e-clean"
)

// slowRequest is longer than the default spec's 1 s latency threshold.
const slowRequest = 1100 * time.Millisecond

// service is an instrumented HTTP and gRPC server with its own registry, scraped as one job.
type service struct {
	job      string
	faulty   bool
	app      *httptest.Server // instrumented HTTP handlers
	metrics  *httptest.Server // /metrics, not instrumented
	grpcConn *grpc.ClientConn
}

// instance is the Prometheus instance label of the service's series.
func (s *service) instance() string { return strings.TrimPrefix(s.metrics.URL, "http://") }

// startService starts the service of job; extra options go to both the HTTP middleware and the
// gRPC interceptor (the native-histogram test adds middleware.WithNativeHistograms).
func startService(t *testing.T, job string, faulty bool, extra ...middleware.Option) *service {
	t.Helper()
	reg := prometheus.NewRegistry()
	if err := runtimemetrics.Register(reg, runtimemetrics.WithService(job)); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "user") })
	mux.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) })
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		if faulty {
			select {
			case <-time.After(slowRequest):
			case <-r.Context().Done():
			}
		}
		io.WriteString(w, "slow")
	})
	mux.HandleFunc("GET /fail", func(w http.ResponseWriter, r *http.Request) {
		if faulty {
			http.Error(w, "injected failure", http.StatusInternalServerError)
			return
		}
		io.WriteString(w, "fine")
	})
	s := &service{job: job, faulty: faulty}
	// Every request and RPC is traced and sampled, so its duration carries a trace_id exemplar.
	tp := sdktrace.NewTracerProvider()
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	opts := append([]middleware.Option{middleware.WithRegisterer(reg), middleware.WithTracerProvider(tp)}, extra...)
	s.app = httptest.NewServer(middleware.HTTP(mux, opts...))
	t.Cleanup(s.app.Close)
	s.metrics = httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true}))
	t.Cleanup(s.metrics.Close)

	// The gRPC service fails and is slow on request ("fail", "slow") unless it is the clean twin.
	s.grpcConn = grpctest.Start(t, grpctest.Config{
		Service: &grpctest.Service{Clean: !faulty, SlowCall: slowRequest},
		Server:  []grpc.ServerOption{grpc.ChainUnaryInterceptor(grpcmw.UnaryServerInterceptor(opts...))},
	}).Conn
	return s
}

// load sends HTTP requests and RPCs to s until ctx ends: mostly fast successes and, for a faulty
// service, 5xx, failed RPCs and requests slower than the latency SLO's threshold. The clean
// service gets the same requests and answers them all fast and well.
func load(ctx context.Context, s *service, client *http.Client) {
	rpc := testpb.NewTestServiceClient(s.grpcConn)
	var wg sync.WaitGroup
	worker := func(f func(i int)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				f(i)
				select {
				case <-ctx.Done():
				case <-time.After(5 * time.Millisecond):
				}
			}
		}()
	}
	get := func(method, path string) {
		req, err := http.NewRequestWithContext(ctx, method, s.app.URL+path, nil)
		if err != nil {
			return
		}
		if resp, err := client.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	worker(func(i int) {
		get(http.MethodGet, fmt.Sprintf("/users/%d", i%7))
		get(http.MethodPost, "/orders")
		if i%5 == 0 {
			get(http.MethodGet, "/fail")
		}
		if i%9 == 0 {
			get(http.MethodGet, "/nowhere") // unmatched route, a 404
		}
	})
	worker(func(int) { get(http.MethodGet, "/slow") })
	worker(func(i int) {
		_, _ = rpc.EmptyCall(ctx, &testpb.Empty{})
		body := "ok"
		switch i % 4 {
		case 1:
			body = "fail"
		case 2:
			body = "slow"
		}
		_, _ = rpc.UnaryCall(ctx, &testpb.SimpleRequest{Payload: &testpb.Payload{Body: []byte(body)}})
	})
	wg.Wait()
}

// writeRules writes the rule files alerts generates for m (not their promtool tests) and returns
// their paths.
func writeRules(t *testing.T, m *alerts.Model) []string {
	t.Helper()
	files, err := alerts.Generate(m)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var paths []string
	for _, f := range files {
		if strings.HasSuffix(f.Name, "_test.yaml") {
			continue
		}
		p := filepath.Join(dir, f.Name)
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	if len(paths) == 0 {
		t.Fatal("alerts generated no rule file")
	}
	return paths
}

// querier is the part of promtest.Server the checks use.
type querier interface {
	Query(ctx context.Context, expr string) ([]promtest.Sample, error)
}

// checkQuery is the end-to-end check of one panel query, with its variables substituted: the
// whole expression must run, and every vector selector in it must return at least one series on
// its own. An `or vector(0)` or a `* 0` fallback therefore cannot hide a selector that matches
// nothing, such as a misspelled metric. It returns the whole expression's result.
func checkQuery(ctx context.Context, q querier, expr string) ([]promtest.Sample, error) {
	sels, err := vectorSelectors(expr)
	if err != nil {
		return nil, err
	}
	result, err := q.Query(ctx, expr)
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", expr, err)
	}
	var errs []error
	for _, s := range sels {
		got, err := q.Query(ctx, s.text)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("selector %s: %w", s.text, err))
		case len(got) == 0:
			errs = append(errs, fmt.Errorf("selector %s returns no series", s.text))
		}
	}
	return result, errors.Join(errs...)
}

var labelValuesRE = regexp.MustCompile(`^label_values\((.+), *([a-zA-Z_][a-zA-Z0-9_]*)\)$`)

// checkVariable runs a label_values variable query as Grafana would: the series selector must
// match series that carry the label.
func checkVariable(ctx context.Context, q querier, query string) error {
	m := labelValuesRE.FindStringSubmatch(query)
	if m == nil {
		return fmt.Errorf("variable query %q is not label_values(series, label)", query)
	}
	got, err := q.Query(ctx, fmt.Sprintf("count by (%s) (%s)", m[2], m[1]))
	if err != nil {
		return fmt.Errorf("variable %q: %w", query, err)
	}
	for _, s := range got {
		if s.Metric[m[2]] != "" {
			return nil
		}
	}
	return fmt.Errorf("variable %q finds no value", query)
}

// panelQuery is one query of one panel, named for error messages.
type panelQuery struct {
	where string // file / row / panel / refId
	row   string
	title string
	expr  string
}

func queriesOf(t *testing.T, f namedBoard) []panelQuery {
	var out []panelQuery
	row := ""
	for _, item := range f.Dashboard.Panels {
		if item.RowPanel != nil {
			row = deref(item.RowPanel.Title)
			continue
		}
		p := *item.Panel
		for _, q := range promTargets(t, p) {
			out = append(out, panelQuery{
				where: fmt.Sprintf("%s / %s / %s / %s", f.Name, row, deref(p.Title), deref(q.RefId)),
				row:   row,
				title: deref(p.Title),
				expr:  q.Expr,
			})
		}
	}
	return out
}

// varsFor are the variable values of a dashboard for one service.
func varsFor(s *service) map[string]string {
	v := testVars(s.job, s.instance())
	v[varService] = s.job // the default spec's service label is job
	return v
}

// TestEndToEnd proves every query of the shipped dashboards against a real Prometheus, 2.42 and 3, that
// scrapes instrumented servers under load and evaluates the generated recording rules.
func TestEndToEnd(t *testing.T) {
	// A memory limit, so that the GOMEMLIMIT series has a value the heap panel keeps.
	prev := debug.SetMemoryLimit(64 << 30)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })

	model, err := alerts.DefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	files, err := defaultBoards()
	if err != nil {
		t.Fatal(err)
	}
	// A spec for one named service, whose recordings carry service="checkout": its SLO
	// dashboard selects them by that label rather than by job.
	oneService, err := alerts.Load("one-service.yaml", []byte(`version: 1
service: checkout
match: {job: `+jobFaulty+`}
runtime: {disabled: true}
slos:
  - name: orders-availability
    kind: availability
    routes: ["/orders", "/fail"]
    objective: 99.5
  - name: unary-latency
    kind: latency
    protocol: grpc
    methods: ["grpc.testing.TestService/UnaryCall"]
    threshold: 1s
    objective: 95
`))
	if err != nil {
		t.Fatal(err)
	}
	oneSLO, err := sloDashboard(oneService)
	if err != nil {
		t.Fatal(err)
	}
	faulty := startService(t, jobFaulty, true)
	clean := startService(t, jobClean, false)
	oneVars := varsFor(faulty)
	oneVars[varService] = "checkout"
	// Each dashboard with the variables of the faulty service, and of the clean one where the
	// dashboard covers it.
	type e2eBoard struct {
		namedBoard
		faulty, clean map[string]string // variable values; clean is nil when not covered
	}
	var boards []e2eBoard
	for _, f := range files {
		boards = append(boards, e2eBoard{f, varsFor(faulty), varsFor(clean)})
	}
	boards = append(boards, e2eBoard{namedBoard{"slo-checkout.json", oneSLO}, oneVars, nil})

	ctx, stop := context.WithCancel(context.Background())
	transport := &http.Transport{MaxIdleConnsPerHost: 8}
	client := &http.Client{Transport: transport, Timeout: 10 * time.Second}
	var loaders sync.WaitGroup
	for _, s := range []*service{faulty, clean} {
		loaders.Add(1)
		go func() { defer loaders.Done(); load(ctx, s, client) }()
	}
	t.Cleanup(func() { stop(); loaders.Wait(); transport.CloseIdleConnections() })

	// One Prometheus of each version scrapes the same services.
	for _, v := range promtest.Versions() {
		t.Run(v.String(), func(t *testing.T) {
			t.Parallel()
			prom := promtest.Start(t, promtest.WithVersion(v),
				promtest.WithTarget(jobFaulty, faulty.instance()),
				promtest.WithTarget(jobClean, clean.instance()),
				promtest.WithRuleFiles(append(writeRules(t, model), writeRules(t, oneService)...)...),
				promtest.WithFeatures("exemplar-storage"),
			)
			qctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()

			// checkAll runs every check once and returns what failed.
			checkAll := func() []string {
				var failed []string
				fail := func(format string, args ...any) { failed = append(failed, fmt.Sprintf(format, args...)) }
				zeroChecks := 0
				for _, b := range boards {
					f, vars := b.namedBoard, b.faulty
					for _, v := range f.Dashboard.Templating.List {
						if v.Type != "query" {
							continue
						}
						if err := checkVariable(qctx, prom, substitute(deref(v.Query.String), vars)); err != nil {
							fail("%s / variable %s: %v", f.Name, v.Name, err)
						}
					}
					for _, pq := range queriesOf(t, f) {
						// Every selector of every query returns series for the faulty service, and
						// the error and budget panels show its errors.
						expr := substitute(pq.expr, vars)
						res, err := checkQuery(qctx, prom, expr)
						switch {
						case err != nil:
							fail("%s: %v", pq.where, err)
						case len(res) == 0:
							fail("%s: %s returns nothing", pq.where, expr)
						}
						if want, ok := faultyExpect(pq); ok && err == nil && !anyMatches(res, want) {
							fail("%s: %s = %s for the faulty service, want some value %s", pq.where, expr, values(res), want.name)
						}
						// The same error and budget panels answer 0 (or 1 for what is left) for the
						// service without errors, rather than nothing.
						want, ok := cleanExpect(pq)
						if !ok || b.clean == nil {
							continue
						}
						zeroChecks++
						expr = substitute(pq.expr, b.clean)
						res, err = prom.Query(qctx, expr)
						switch {
						case err != nil:
							fail("%s: %v", pq.where, err)
						case len(res) == 0:
							fail("%s: %s answers nothing for a service without errors, want %g", pq.where, expr, want)
						}
						for _, s := range res {
							switch {
							case math.Abs(s.Value-want) <= 1e-9:
							case strings.Contains(pq.row, " within ") && (want == 0 && s.Value > 0 || want == 1 && s.Value < 1):
								// A latency SLO: the clean service has no slow handler, but a
								// machine that stalls a request past the threshold makes it bad.
								// The panel still answers a number, which is what this checks.
								t.Logf("%s = %g for the service without errors (a stalled request)", pq.where, s.Value)
							default:
								fail("%s: %s = %g for the service without errors, want %g", pq.where, expr, s.Value, want)
							}
						}
					}
				}
				// RED: 2 HTTP error ratio panels + by route + by gRPC method; SLO: per SLO the budget,
				// the SLI over the period and the 5m SLI, plus 4 burn-rate stats x 2 windows and 7 lines.
				if want := 4 + len(model.SLOs)*(3+8+7+1); zeroChecks != want {
					fail("checked %d zero-error queries, want %d", zeroChecks, want)
				}
				return failed
			}
			// The data arrives within seconds: retry until every check passes, and report the last
			// failures when the deadline passes.
			var failed []string
			deadline := time.Now().Add(90 * time.Second)
			for attempt := 1; ; attempt++ {
				failed = checkAll()
				if len(failed) == 0 {
					t.Logf("every check of %d dashboards passed after %d rounds", len(boards), attempt)
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d checks still fail after %d rounds:\n%s", len(failed), attempt, strings.Join(failed, "\n"))
				}
				time.Sleep(time.Second)
			}

			t.Run("latency panels show exemplars", func(t *testing.T) {
				vars := varsFor(faulty)
				checked := 0
				for _, f := range files {
					for _, item := range f.Dashboard.Panels {
						if item.Panel == nil {
							continue
						}
						for _, q := range promTargets(t, *item.Panel) {
							if !deref(q.Exemplar) {
								continue
							}
							checked++
							expr := substitute(q.Expr, vars)
							if n, err := exemplars(qctx, prom, expr); err != nil || n == 0 {
								t.Errorf("%s / %s: %d exemplars with a trace_id (%v)", f.Name, deref(item.Panel.Title), n, err)
							}
						}
					}
				}
				// HTTP: latency percentiles, heatmap, p99 by route; gRPC: p99 by method, percentiles.
				if checked != 5 {
					t.Errorf("checked %d latency queries for exemplars, want 5", checked)
				}
			})

			t.Run("a misspelled metric fails the check", func(t *testing.T) {
				good := substitute(labelValues(selector(catalog.HTTPServerDuration+"_count", targetMatchers()...), catalog.LabelRoute), varsFor(faulty))
				if err := checkVariable(qctx, prom, good); err != nil {
					t.Fatalf("the correct variable query fails: %v", err)
				}
				bad := strings.Replace(good, catalog.HTTPServerDuration, catalog.HTTPServerDuration+"s", 1)
				if err := checkVariable(qctx, prom, bad); err == nil || !strings.Contains(err.Error(), "finds no value") {
					t.Errorf("checkVariable(%s) = %v, want an error", bad, err)
				}

				vars := varsFor(faulty)
				cases := []struct{ name, expr, typo string }{
					{"histogram", httpServer.errorRatio(nil, targetMatchers()), catalog.HTTPServerDuration},
					{"recording rule", "1 - " + selector(catalog.SLOErrorRatioPeriod, `slo="http-availability"`, `job="$service"`), catalog.SLOErrorRatioPeriod},
					{"runtime", selector(catalog.GoGCHeapLive, targetMatchers()...) + " or vector(0)", catalog.GoGCHeapLive},
				}
				for _, c := range cases {
					t.Run(c.name, func(t *testing.T) {
						good := substitute(c.expr, vars)
						if _, err := checkQuery(qctx, prom, good); err != nil {
							t.Fatalf("the correct query fails: %v", err)
						}
						typo := strings.Replace(c.typo, "_", "__", 1)
						bad := strings.ReplaceAll(good, c.typo, typo)
						_, err := checkQuery(qctx, prom, bad)
						if err == nil || !strings.Contains(err.Error(), typo) || !strings.Contains(err.Error(), "returns no series") {
							t.Errorf("checkQuery(%s) = %v, want an error naming the empty selector %s", bad, err, typo)
						}
					})
				}
			})

		})
	}
}

// expectation is a predicate on the value of a query.
type expectation struct {
	name string
	ok   func(float64) bool
}

func anyMatches(res []promtest.Sample, want expectation) bool {
	for _, s := range res {
		if want.ok(s.Value) {
			return true
		}
	}
	return false
}

func values(res []promtest.Sample) string {
	var vs []string
	for _, s := range res {
		vs = append(vs, fmt.Sprintf("%g", s.Value))
	}
	return "[" + strings.Join(vs, " ") + "]"
}

var positive = expectation{"> 0", func(v float64) bool { return v > 0 }}

// faultyExpect says what the faulty service must show on error and budget panels.
func faultyExpect(pq panelQuery) (expectation, bool) {
	switch {
	case strings.Contains(pq.title, "Error ratio"), strings.Contains(pq.title, "error ratio"),
		strings.HasPrefix(pq.title, "Burn rate"):
		return positive, true
	case pq.title == "Error budget remaining":
		return expectation{"< 1", func(v float64) bool { return v < 1 }}, true
	}
	return expectation{}, false
}

// cleanExpect says what error and budget panels must answer for a service without errors:
// error ratios and burn rates 0, budget and SLIs 1 (all of it left, all requests good).
func cleanExpect(pq panelQuery) (float64, bool) {
	switch {
	case strings.Contains(pq.title, "Error ratio"), strings.Contains(pq.title, "error ratio"),
		strings.HasPrefix(pq.title, "Burn rate"):
		return 0, true
	case strings.HasPrefix(pq.title, "Error budget remaining"), strings.HasPrefix(pq.title, "SLI over"):
		return 1, true
	case pq.title == "SLI" && strings.HasPrefix(pq.expr, "1 - "):
		return 1, true
	}
	return 0, false
}

// exemplars counts the exemplars with a trace_id that Prometheus holds for the selectors of expr
// over the last minute, as Grafana asks for them.
func exemplars(ctx context.Context, prom *promtest.Server, expr string) (int, error) {
	now := time.Now()
	raw, err := prom.API(ctx, "/api/v1/query_exemplars", url.Values{
		"query": {expr},
		"start": {fmt.Sprint(now.Add(-time.Minute).Unix())},
		"end":   {fmt.Sprint(now.Unix())},
	})
	if err != nil {
		return 0, err
	}
	var series []struct {
		Exemplars []struct {
			Labels map[string]string `json:"labels"`
		} `json:"exemplars"`
	}
	if err := json.Unmarshal(raw, &series); err != nil {
		return 0, err
	}
	n := 0
	for _, s := range series {
		for _, e := range s.Exemplars {
			if len(e.Labels["trace_id"]) == 32 {
				n++
			}
		}
	}
	return n, nil
}
