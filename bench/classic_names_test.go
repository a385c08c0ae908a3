package bench

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"google.golang.org/grpc"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/middleware"
	"github.com/perfobs/perfobs-go/middleware/grpcmw"
)

// The classic naming mode against the libraries whose names it borrows: the same traffic through
// promhttp (set up as its documentation shows, with the route as the handler label) and through
// the middleware with WithClassicNames, then through go-grpc-middleware's Prometheus provider
// and grpcmw with WithClassicNames. Each family must have the same type, label sets, bucket
// layout and counts, and the exposition must pass promtool's lint.

// family is what the comparison keeps of a metric family: per series (by its label pairs) the
// count of a counter or histogram, and the bucket bounds of histograms.
type family struct {
	typ    dto.MetricType
	series map[string]float64
	bounds []float64
}

func families(t *testing.T, g prometheus.Gatherer, names ...string) map[string]family {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]family{}
	for _, mf := range mfs {
		if !slices.Contains(names, mf.GetName()) {
			continue
		}
		f := family{typ: mf.GetType(), series: map[string]float64{}}
		for _, m := range mf.GetMetric() {
			var pairs []string
			for _, l := range m.GetLabel() {
				pairs = append(pairs, l.GetName()+"="+l.GetValue())
			}
			sort.Strings(pairs)
			k := strings.Join(pairs, ",")
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				f.series[k] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				f.series[k] = 0 // in-flight gauges: 0 at rest on both sides; compared by label set
			case dto.MetricType_HISTOGRAM:
				f.series[k] = float64(m.GetHistogram().GetSampleCount())
				var b []float64
				for _, bk := range m.GetHistogram().GetBucket() {
					b = append(b, bk.GetUpperBound())
				}
				if f.bounds != nil && !slices.Equal(f.bounds, b) {
					t.Fatalf("%s: series with different buckets %v and %v", mf.GetName(), f.bounds, b)
				}
				f.bounds = b
			}
		}
		out[mf.GetName()] = f
	}
	return out
}

func compareFamilies(t *testing.T, peer string, want, got map[string]family, names ...string) {
	t.Helper()
	for _, name := range names {
		w, ok := want[name]
		if !ok {
			t.Fatalf("%s wrote no %s: the reference setup is wrong", peer, name)
		}
		g, ok := got[name]
		if !ok {
			t.Errorf("classic mode writes no %s (%s does)", name, peer)
			continue
		}
		if w.typ != g.typ {
			t.Errorf("%s: type %v, %s's %v", name, g.typ, peer, w.typ)
		}
		if !slices.Equal(w.bounds, g.bounds) {
			t.Errorf("%s: buckets %v, %s's %v", name, g.bounds, peer, w.bounds)
		}
		for k, v := range w.series {
			if gv, ok := g.series[k]; !ok || gv != v {
				t.Errorf("%s{%s}: %v (present %v), %s has %v", name, k, gv, ok, peer, v)
			}
		}
		for k := range g.series {
			if _, ok := w.series[k]; !ok {
				t.Errorf("%s{%s}: a series %s does not have", name, k, peer)
			}
		}
	}
}

// lint runs promtool check metrics on g's text exposition.
func lint(t *testing.T, g prometheus.Gatherer) {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool is not on PATH: run scripts/install-tools")
	}
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(path, "check", "metrics")
	cmd.Stdin = &buf
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

func TestClassicHTTPNamesMatchPromhttp(t *testing.T) {
	routes := []struct{ pattern, route string }{
		{"GET /users/{id}", "/users/{id}"}, {"POST /users/{id}", "/users/{id}"}, {"GET /fail", "/fail"},
	}
	handler := func(pattern string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case strings.HasPrefix(pattern, "POST"):
				w.WriteHeader(http.StatusCreated)
			case strings.HasSuffix(pattern, "/fail"):
				w.WriteHeader(http.StatusInternalServerError)
			}
			w.Write(hello)
		})
	}

	// promhttp, as its documentation instruments a mux: one chain per route, curried with the
	// route as "handler".
	peerReg := prometheus.NewRegistry()
	inFlight := prometheus.NewGauge(prometheus.GaugeOpts{Name: "http_requests_in_flight", Help: "Requests being served."})
	counter := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "http_requests_total", Help: "Requests."}, []string{"handler", "code", "method"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "http_request_duration_seconds", Help: "Duration.",
		Buckets: prometheus.DefBuckets}, []string{"handler", "code", "method"})
	peerReg.MustRegister(inFlight, counter, duration)
	peerMux := http.NewServeMux()
	for _, r := range routes {
		l := prometheus.Labels{"handler": r.route}
		peerMux.Handle(r.pattern, promhttp.InstrumentHandlerInFlight(inFlight,
			promhttp.InstrumentHandlerDuration(duration.MustCurryWith(l),
				promhttp.InstrumentHandlerCounter(counter.MustCurryWith(l), handler(r.pattern)))))
	}

	reg := prometheus.NewRegistry()
	mux := http.NewServeMux()
	for _, r := range routes {
		mux.Handle(r.pattern, handler(r.pattern))
	}
	ours := middleware.HTTP(mux, middleware.WithRegisterer(reg), middleware.WithClassicNames())

	for _, h := range []http.Handler{peerMux, ours} {
		for _, c := range []struct{ method, path string }{
			{"GET", "/users/1"}, {"GET", "/users/2"}, {"GET", "/users/3"}, {"POST", "/users/4"}, {"GET", "/fail"},
		} {
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(c.method, c.path, nil))
		}
	}
	names := []string{catalog.ClassicHTTPRequests, catalog.ClassicHTTPDuration, catalog.ClassicHTTPInFlight}
	compareFamilies(t, "promhttp", families(t, peerReg, names...), families(t, reg, names...), names...)
	lint(t, reg)
}

func TestClassicGRPCNamesMatchGoGRPCMiddleware(t *testing.T) {
	peerReg := prometheus.NewRegistry()
	gpServer := grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram())
	gpClient := grpcprom.NewClientMetrics(grpcprom.WithClientHandlingTimeHistogram())
	peerReg.MustRegister(gpServer, gpClient)
	peer := grpcStack{name: "GoGRPCMiddleware",
		server: []grpc.ServerOption{grpc.ChainUnaryInterceptor(gpServer.UnaryServerInterceptor()), grpc.ChainStreamInterceptor(gpServer.StreamServerInterceptor())},
		dial:   []grpc.DialOption{grpc.WithChainUnaryInterceptor(gpClient.UnaryClientInterceptor()), grpc.WithChainStreamInterceptor(gpClient.StreamClientInterceptor())}}

	reg := prometheus.NewRegistry()
	opts := []middleware.Option{middleware.WithRegisterer(reg), middleware.WithClassicNames()}
	ours := grpcStack{name: "PerfobsClassic",
		server: []grpc.ServerOption{grpc.ChainUnaryInterceptor(grpcmw.UnaryServerInterceptor(opts...)), grpc.ChainStreamInterceptor(grpcmw.StreamServerInterceptor(opts...))},
		dial:   []grpc.DialOption{grpc.WithChainUnaryInterceptor(grpcmw.UnaryClientInterceptor(opts...)), grpc.WithChainStreamInterceptor(grpcmw.StreamClientInterceptor(opts...))}}

	for _, s := range []grpcStack{peer, ours} {
		c := grpcConn(t, s)
		for range 3 {
			if err := unaryCall(c); err != nil {
				t.Fatal(err)
			}
		}
		if err := streamCall(c); err != nil {
			t.Fatal(err)
		}
		if _, err := c.UnaryCall(context.Background(), nil); err == nil { // not implemented: Unimplemented
			t.Fatal("UnaryCall must fail")
		}
	}
	names := []string{
		catalog.ClassicGRPCServerHandled, catalog.ClassicGRPCServerStarted, catalog.ClassicGRPCServerHandling,
		catalog.ClassicGRPCClientHandled, catalog.ClassicGRPCClientStarted, catalog.ClassicGRPCClientHandling,
	}
	compareFamilies(t, "go-grpc-middleware", families(t, peerReg, names...), families(t, reg, names...), names...)
	lint(t, reg)
}
