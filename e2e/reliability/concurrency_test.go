package reliability

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint/validations"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/protobuf/proto"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/leaktest"
	"github.com/perfobs/perfobs-go/middleware"
	"github.com/perfobs/perfobs-go/perfobs"
)

const (
	scrapers      = 50 // goroutines that read /metrics meanwhile
	perWorkerHTTP = 3  // requests each worker sends to its own new route
	perWorkerGRPC = 2  // calls each worker makes
	grpcServices  = 20 // distinct gRPC method names: workers share them
	scrapePause   = 250 * time.Millisecond
)

// scrapeHTTP reads /metrics over HTTP in the text or protobuf format and parses it.
func scrapeHTTP(client *http.Client, url string, proto bool) ([]*dto.MetricFamily, error) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	format := expfmt.NewFormat(expfmt.TypeTextPlain)
	if proto {
		format = expfmt.NewFormat(expfmt.TypeProtoDelim)
		req.Header.Set("Accept", string(format))
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	if !proto {
		parser := expfmt.NewTextParser(model.UTF8Validation)
		byName, err := parser.TextToMetricFamilies(resp.Body)
		if err != nil {
			return nil, err
		}
		mfs := make([]*dto.MetricFamily, 0, len(byName))
		for _, mf := range byName {
			mfs = append(mfs, mf)
		}
		return mfs, nil
	}
	dec := expfmt.NewDecoder(resp.Body, format)
	var mfs []*dto.MetricFamily
	for {
		mf := &dto.MetricFamily{}
		if err := dec.Decode(mf); errors.Is(err, io.EOF) {
			return mfs, nil
		} else if err != nil {
			return nil, err
		}
		mfs = append(mfs, mf)
	}
}

// requestsSeen sums the HTTP server request count in mfs, scrapes of /metrics left out.
func requestsSeen(mfs []*dto.MetricFamily) uint64 {
	var n uint64
	for _, mf := range mfs {
		if mf.GetName() != catalog.HTTPServerDuration {
			continue
		}
		for _, m := range mf.GetMetric() {
			if labels(m)[catalog.LabelRoute] != "/metrics" {
				n += m.GetHistogram().GetSampleCount()
			}
		}
	}
	return n
}

// lint runs promlint's validations, the ones testutil.GatherAndLint runs, except that it finds
// duplicate series with a map: promlint's own duplicate check compares every pair of series
// with reflect.DeepEqual, seconds per scrape once a family holds a thousand routes.
func lint(mfs []*dto.MetricFamily) []promlint.Problem {
	checks := []func(*dto.MetricFamily) []error{
		validations.LintHelp, validations.LintMetricUnits, validations.LintCounter,
		validations.LintHistogramSummaryReserved, validations.LintMetricTypeInName,
		validations.LintReservedChars, validations.LintCamelCase, validations.LintUnitAbbreviations,
	}
	var problems []promlint.Problem
	for _, mf := range mfs {
		for _, check := range checks {
			for _, err := range check(mf) {
				problems = append(problems, promlint.Problem{Metric: mf.GetName(), Text: err.Error()})
			}
		}
		seen := map[string]bool{}
		for _, m := range mf.GetMetric() {
			var key strings.Builder
			for _, l := range m.GetLabel() {
				key.WriteString(l.GetName() + "\x00" + l.GetValue() + "\x00")
			}
			if seen[key.String()] {
				problems = append(problems, promlint.Problem{Metric: mf.GetName(), Text: "metric not unique"})
			}
			seen[key.String()] = true
		}
	}
	return problems
}

// TestConcurrentRoutesAndScrapes: 1,000 goroutines (-workers; 100 in the normal run) each register a new route on the mux and call
// it, and call gRPC methods (new client series), over real connections, while 50 scrapers read
// /metrics over HTTP (text and protobuf) and through the Gatherer. Every scrape parses and lints
// clean (one scraper with testutil.GatherAndLint itself, the others with the same validations and
// a linear duplicate check) and never sees the request count go down; each scraper's last scrape,
// and the final count, hold exactly the requests sent, per route and per method. Run it under -race with -cpu 1,4 (.ci/extra does).
func TestConcurrentRoutesAndScrapes(t *testing.T) {
	leaktest.Check(t)
	workers := *flagWorkers
	if workers%grpcServices != 0 {
		t.Fatalf("-workers %d: want a multiple of %d", workers, grpcServices)
	}
	obs, err := perfobs.Start(context.Background(), perfobs.Config{Service: "concurrency", LookupEnv: noEnv,
		Logger: quietLogger(), Middleware: []middleware.Option{middleware.WithLabelCap(2 * workers)}})
	if err != nil {
		t.Fatal(err)
	}
	defer shutdown(t, obs)
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", obs.MetricsHandler())
	srv := httptest.NewServer(obs.HTTP(mux))
	defer srv.Close()
	tr := srv.Client().Transport.(*http.Transport).Clone()
	tr.MaxConnsPerHost, tr.MaxIdleConnsPerHost = 64, 64 // the workers share 64 connections
	client := &http.Client{Transport: tr}
	defer tr.CloseIdleConnections()
	// The scrapers have connections of their own: a slow scrape must not hold up a worker.
	scrapeTr := srv.Client().Transport.(*http.Transport).Clone()
	scrapeTr.MaxIdleConnsPerHost = scrapers
	scrapeClient := &http.Client{Transport: scrapeTr}
	defer scrapeTr.CloseIdleConnections()
	p := startGRPC(t, grpcRecorder(t, obs))

	stop := make(chan struct{})
	var scrapes atomic.Int64
	errs := make(chan error, scrapers+workers)
	var scrapeWG sync.WaitGroup
	for s := range scrapers {
		scrapeWG.Add(1)
		go func() {
			defer scrapeWG.Done()
			var last uint64
			for i := 0; ; i++ {
				// The scrape that starts after the workers finished is the last, and sees
				// every request.
				final := false
				select {
				case <-stop:
					final = true
				default:
				}
				var mfs []*dto.MetricFamily
				var problems []promlint.Problem
				var err error
				switch {
				case s == 0: // client_golang's own lint, on every scrape of this scraper
					if problems, err = testutil.GatherAndLint(cloning{obs.Gatherer()}); err == nil {
						mfs, err = obs.Gatherer().Gather()
					}
				case s%3 == 0:
					if mfs, err = obs.Gatherer().Gather(); err == nil {
						problems = lint(mfs)
					}
				default: // over HTTP, text or protobuf
					if mfs, err = scrapeHTTP(scrapeClient, srv.URL+"/metrics", s%3 == 1); err == nil {
						problems = lint(mfs)
					}
				}
				if err == nil && len(problems) > 0 {
					err = fmt.Errorf("lint: %v", problems)
				}
				if err != nil {
					errs <- fmt.Errorf("scraper %d, scrape %d: %w", s, i, err)
					return
				}
				scrapes.Add(1)
				n := requestsSeen(mfs)
				if n < last {
					errs <- fmt.Errorf("scraper %d, scrape %d: request count went down from %d to %d", s, i, last, n)
					return
				}
				last = n
				if final {
					if n != uint64(workers*perWorkerHTTP) {
						errs <- fmt.Errorf("scraper %d: last scrape saw %d requests, want %d", s, n, workers*perWorkerHTTP)
					}
					return
				}
				select { // Prometheus scrapes every few seconds; 50 scrapers every 250 ms is plenty
				case <-stop:
				case <-time.After(scrapePause):
				}
			}
		}()
	}

	var workWG sync.WaitGroup
	start := make(chan struct{})
	for w := range workers {
		workWG.Add(1)
		go func() {
			defer workWG.Done()
			<-start
			mux.HandleFunc("GET /g"+strconv.Itoa(w)+"/{id}", func(http.ResponseWriter, *http.Request) {})
			for i := range perWorkerHTTP {
				resp, err := client.Get(fmt.Sprintf("%s/g%d/%d", srv.URL, w, i))
				if err != nil {
					errs <- err
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errs <- fmt.Errorf("worker %d: status %d", w, resp.StatusCode)
					return
				}
			}
			for range perWorkerGRPC {
				method := fmt.Sprintf("/conc.S%d/Call", w%grpcServices)
				if err := p.conn.Invoke(context.Background(), method, &testpb.Empty{}, &testpb.Empty{}); err == nil {
					errs <- fmt.Errorf("worker %d: %s succeeded, want NOT_FOUND", w, method)
					return
				}
			}
		}()
	}
	began := time.Now()
	close(start)
	workWG.Wait()
	worked := time.Since(began)
	close(stop)
	scrapeWG.Wait()
	t.Logf("workers done in %v, scrapers in %v", worked, time.Since(began))
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	t.Logf("%d workers, %d scrapes", workers, scrapes.Load())

	g := obs.Gatherer()
	mf := family(t, g, catalog.HTTPServerDuration)
	perRoute := map[string]uint64{}
	for _, m := range mf.GetMetric() {
		l := labels(m)
		if l[catalog.LabelStatusCode] != "200" || l[catalog.LabelMethod] != http.MethodGet {
			if l[catalog.LabelRoute] != "/metrics" {
				t.Errorf("unexpected series %v", l)
			}
			continue
		}
		perRoute[l[catalog.LabelRoute]] += m.GetHistogram().GetSampleCount()
	}
	for w := range workers {
		route := fmt.Sprintf("/g%d/{id}", w)
		if got := perRoute[route]; got != perWorkerHTTP {
			t.Errorf("route %s counted %d requests, want %d", route, got, perWorkerHTTP)
		}
	}
	if c, _ := histCount(t, g, catalog.RPCServerDuration, map[string]string{catalog.LabelRPCMethod: catalog.OtherValue}); c != uint64(workers*perWorkerGRPC) {
		t.Errorf("server counted %d calls, want %d", c, workers*perWorkerGRPC)
	}
	for s := range grpcServices {
		method := fmt.Sprintf("conc.S%d/Call", s)
		want := uint64(workers / grpcServices * perWorkerGRPC)
		if c, _ := histCount(t, g, catalog.RPCClientDuration, map[string]string{catalog.LabelRPCMethod: method,
			catalog.LabelRPCStatus: "NOT_FOUND"}); c != want {
			t.Errorf("client counted %d calls of %s, want %d", c, method, want)
		}
	}
}

// cloning gathers deep copies. promlint compares series with reflect.DeepEqual, which reads the
// protobuf messages' internal size cache; a protobuf scrape running at the same time writes that
// cache in the label pairs that every gather shares (client_golang's metrics share them the same
// way), and the race detector reports the two. Copies keep the lint out of it.
type cloning struct{ g prometheus.Gatherer }

func (c cloning) Gather() ([]*dto.MetricFamily, error) {
	mfs, err := c.g.Gather()
	out := make([]*dto.MetricFamily, len(mfs))
	for i, mf := range mfs {
		out[i] = proto.Clone(mf).(*dto.MetricFamily)
	}
	return out, err
}
