package reliability

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/leaktest"
	"github.com/perfobs/perfobs-go/perfobs"
)

// promhttpErrors is client_golang's own counter of failed gathers (not a perfobs metric, so not
// in the catalogue); the facade's MetricsHandler registers it on the Observer's registry.
const promhttpErrors = "promhttp_metric_handler_errors_total"

// lockedBuffer collects log output written from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestHTTPHandlerPanics: a panicking handler behind the facade's middleware, on a real server, is
// recorded with error_type "panic", its latency and the status (500, or the one already sent),
// and the panic reaches net/http, which logs it: the middleware re-raised it.
func TestHTTPHandlerPanics(t *testing.T) {
	leaktest.Check(t)
	tests := []struct {
		name   string
		before func(w http.ResponseWriter) // what the handler does before it panics
		status string
	}{
		{"panic before writing is a 500", func(http.ResponseWriter) {}, "500"},
		{"panic after WriteHeader keeps the status sent", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusAccepted)
			http.NewResponseController(w).Flush()
		}, "202"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obs, err := perfobs.Start(context.Background(), perfobs.Config{Service: "panics", LookupEnv: noEnv,
				Logger: quietLogger(), DisableRuntimeMetrics: true})
			if err != nil {
				t.Fatal(err)
			}
			defer shutdown(t, obs)
			mux := http.NewServeMux()
			mux.HandleFunc("GET /boom/{id}", func(w http.ResponseWriter, r *http.Request) {
				tt.before(w)
				time.Sleep(panicDelay)
				panic(errHandlerPanic)
			})
			var serverLog lockedBuffer
			srv := httptest.NewUnstartedServer(obs.HTTP(mux))
			srv.Config.ErrorLog = log.New(&serverLog, "", 0)
			srv.Start()
			defer srv.Close()

			const n = 5
			client := srv.Client()
			for range n {
				resp, err := client.Get(srv.URL + "/boom/1")
				if err == nil {
					// The status line may have gone out before the panic; the body then breaks.
					_, err = io.ReadAll(resp.Body)
					resp.Body.Close()
				}
				if err == nil {
					t.Fatal("request to a panicking handler ended cleanly")
				}
			}
			client.CloseIdleConnections()
			count, sum := histCount(t, obs.Gatherer(), catalog.HTTPServerDuration, map[string]string{
				catalog.LabelRoute: "/boom/{id}", catalog.LabelStatusCode: tt.status, catalog.LabelErrorType: catalog.ErrorPanic})
			if count != n {
				t.Errorf("recorded %d panicking requests with status %s, want %d", count, tt.status, n)
			}
			if min := n * panicDelay.Seconds(); sum < min {
				t.Errorf("recorded latency %.3fs, want at least %.3fs", sum, min)
			}
			// net/http logs each panic it recovers: the middleware let it go on.
			if got := strings.Count(serverLog.String(), errHandlerPanic.Error()); got != n {
				t.Errorf("net/http saw %d panics, want %d:\n%s", got, n, serverLog.String())
			}
		})
	}
}

// TestGRPCHandlerPanics: a panicking gRPC handler is recorded as INTERNAL with error_type "panic"
// and its latency, and the panic goes on to the recovery interceptor chained outside grpcmw.
func TestGRPCHandlerPanics(t *testing.T) {
	leaktest.Check(t)
	obs, err := perfobs.Start(context.Background(), perfobs.Config{Service: "panics", LookupEnv: noEnv,
		Logger: quietLogger(), DisableRuntimeMetrics: true})
	if err != nil {
		t.Fatal(err)
	}
	defer shutdown(t, obs)
	var mu sync.Mutex
	var recovered []any
	recovery := grpc.ChainUnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if r := recover(); r != nil {
				mu.Lock()
				recovered = append(recovered, r)
				mu.Unlock()
				err = status.Error(codes.Internal, "recovered")
			}
		}()
		return h(ctx, req)
	})
	p := startGRPC(t, grpcRecorder(t, obs), recovery)

	const n = 5
	for range n {
		_, err := p.test.UnaryCall(context.Background(), &testpb.SimpleRequest{Payload: &testpb.Payload{Body: []byte("panic")}})
		if status.Code(err) != codes.Internal {
			t.Fatalf("call to a panicking handler: %v, want INTERNAL", err)
		}
	}
	mu.Lock()
	if len(recovered) != n {
		t.Errorf("the recovery interceptor saw %d panics, want %d", len(recovered), n)
	}
	for _, r := range recovered {
		if err, ok := r.(error); !ok || !errors.Is(err, errHandlerPanic) {
			t.Errorf("recovered %v, want the handler's own panic value", r)
		}
	}
	mu.Unlock()
	method := "grpc.testing.TestService/UnaryCall"
	count, sum := histCount(t, obs.Gatherer(), catalog.RPCServerDuration, map[string]string{
		catalog.LabelRPCMethod: method, catalog.LabelRPCStatus: "INTERNAL", catalog.LabelErrorType: catalog.ErrorPanic})
	if count != n {
		t.Errorf("server recorded %d panicking calls, want %d", count, n)
	}
	if min := n * panicDelay.Seconds(); sum < min {
		t.Errorf("server recorded latency %.3fs, want at least %.3fs", sum, min)
	}
	if c, _ := histCount(t, obs.Gatherer(), catalog.RPCClientDuration, map[string]string{
		catalog.LabelRPCMethod: method, catalog.LabelRPCStatus: "INTERNAL"}); c != n {
		t.Errorf("client recorded %d INTERNAL calls, want %d", c, n)
	}
}

// panickingCollector sends one metric and panics.
type panickingCollector struct{ desc *prometheus.Desc }

func (c panickingCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }
func (c panickingCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, 1)
	panic("collector bug")
}

// inconsistentCollector describes nothing (an unchecked collector) and collects one family
// twice with different label names, and one series twice.
type inconsistentCollector struct{}

func (inconsistentCollector) Describe(chan<- *prometheus.Desc) {}
func (inconsistentCollector) Collect(ch chan<- prometheus.Metric) {
	a := prometheus.NewDesc("broken_inconsistent_total", "Inconsistent.", []string{"a"}, nil)
	b := prometheus.NewDesc("broken_inconsistent_total", "Inconsistent.", []string{"b"}, nil)
	ch <- prometheus.MustNewConstMetric(a, prometheus.CounterValue, 1, "x")
	ch <- prometheus.MustNewConstMetric(b, prometheus.CounterValue, 1, "y")
	d := prometheus.NewDesc("broken_duplicate", "Duplicate.", nil, nil)
	ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, 2)
}

// TestBrokenCollectorsKeepMetricsServing registers a panicking and an inconsistent collector
// through Observer.Registerer: every scrape, in every format, still answers 200 with the SDK's
// and the service's healthy metrics, leaves the panicking collector out, and the two error
// counters count one error per scrape each.
func TestBrokenCollectorsKeepMetricsServing(t *testing.T) {
	leaktest.Check(t)
	obs, err := perfobs.Start(context.Background(), perfobs.Config{Service: "collectors", LookupEnv: noEnv,
		Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer shutdown(t, obs)
	healthy := prometheus.NewCounter(prometheus.CounterOpts{Name: "orders_placed_total", Help: "Orders."})
	healthy.Add(3)
	panicking := panickingCollector{prometheus.NewDesc("broken_panicking", "Panics.", nil, nil)}
	obs.Registerer().MustRegister(healthy, panicking, inconsistentCollector{})
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", obs.MetricsHandler())
	mux.HandleFunc("GET /ok", func(http.ResponseWriter, *http.Request) {})
	srv := httptest.NewServer(obs.HTTP(mux))
	defer srv.Close()
	client := srv.Client()
	defer client.CloseIdleConnections()

	accepts := []string{
		"",
		"text/plain;version=0.0.4",
		"application/openmetrics-text;version=1.0.0",
		"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited",
	}
	for i, accept := range accepts {
		resp, err := client.Get(srv.URL + "/ok")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/metrics", nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err = client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("scrape %d (%q): status %d:\n%s", i, accept, resp.StatusCode, body)
		}
		for _, want := range []string{"orders_placed_total", catalog.HTTPServerDuration, "go_goroutines"} {
			if !bytes.Contains(body, []byte(want)) {
				t.Errorf("scrape %d (%q): healthy metric %s missing", i, accept, want)
			}
		}
		if bytes.Contains(body, []byte("broken_panicking")) {
			t.Errorf("scrape %d (%q): the panicking collector's metric was served", i, accept)
		}
	}
	n := float64(len(accepts))
	// Take the panicking collector out, so that reading the counters panics no more.
	if !obs.Registerer().Unregister(panicking) {
		t.Fatal("Unregister of the panicking collector failed")
	}
	g := lenient{obs.Gatherer()}
	if v := counterValue(t, g, catalog.CollectorPanics, nil); v != n {
		t.Errorf("%s = %v, want %v", catalog.CollectorPanics, v, n)
	}
	if v := counterValue(t, g, promhttpErrors, map[string]string{"cause": "gathering"}); v != n {
		t.Errorf("%s{cause=gathering} = %v, want %v", promhttpErrors, v, n)
	}
	if c, _ := histCount(t, g, catalog.HTTPServerDuration, map[string]string{catalog.LabelRoute: "/ok"}); c != uint64(n) {
		t.Errorf("recorded %d requests to /ok, want %v", c, n)
	}
}

// lenient gathers what it can and drops the error, as promhttp's ContinueOnError does.
type lenient struct{ g prometheus.Gatherer }

func (l lenient) Gather() ([]*dto.MetricFamily, error) {
	mfs, _ := l.g.Gather()
	return mfs, nil
}
