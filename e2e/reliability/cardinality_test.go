package reliability

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	testpb "google.golang.org/grpc/interop/grpc_testing"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/leaktest"
	"github.com/perfobs/perfobs-go/middleware"
	"github.com/perfobs/perfobs-go/perfobs"
)

// heapFlat is how much the live heap may grow during the second half of an attack, once every
// series the routes and methods allow exists.
const heapFlat = 1 << 20

// knownMethods are the HTTP methods the middleware keeps; any other becomes _OTHER.
var knownMethods = []string{"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}

func methodLabel(m string) string {
	for _, k := range knownMethods {
		if m == k {
			return m
		}
	}
	return catalog.OtherValue
}

// attackMux has three routes; the one under /status/ answers the status the path names, so the
// attacker picks statuses too.
func attackMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(r.PathValue("id"))) })
	mux.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) })
	mux.HandleFunc("/status/{code}", func(w http.ResponseWriter, r *http.Request) {
		code, err := strconv.Atoi(r.PathValue("code"))
		if err != nil || code < 200 || code > 599 {
			code = http.StatusBadRequest
		}
		w.WriteHeader(code)
	})
	return mux
}

// randomRequest returns a request with a random path (a random route, a random id or status,
// or no route at all) and a random method (a known one or a random token).
func randomRequest(rng *rand.Rand) *http.Request {
	var path string
	switch rng.IntN(4) {
	case 0:
		path = "/users/" + strconv.FormatUint(rng.Uint64(), 36)
	case 1:
		path = "/status/" + strconv.Itoa(200+rng.IntN(400))
	case 2:
		path = "/orders"
	default:
		path = fmt.Sprintf("/%x/%x", rng.Uint64(), rng.Uint32())
	}
	method := knownMethods[rng.IntN(len(knownMethods))]
	if rng.IntN(3) == 0 {
		method = "X" + strconv.FormatUint(rng.Uint64(), 36)
	}
	return httptest.NewRequest(method, path, nil)
}

type seriesKey struct{ method, route, status string }

// TestCardinalityAttackHTTP sends requests with random paths, methods and statuses through the
// facade's HTTP middleware: the series are exactly the (method, route template, status) tuples
// the mux allows (random paths add none, random methods are _OTHER), every request is counted
// once, no cap had to collapse anything, and the heap stays flat once the series exist.
func TestCardinalityAttackHTTP(t *testing.T) {
	leaktest.Check(t)
	obs, err := perfobs.Start(context.Background(), perfobs.Config{Service: "attack", LookupEnv: noEnv,
		Logger: quietLogger(), DisableRuntimeMetrics: true})
	if err != nil {
		t.Fatal(err)
	}
	defer shutdown(t, obs)
	mux := attackMux()
	h := obs.HTTP(mux)
	rng := rand.New(rand.NewPCG(1, 2))
	n := *flagAttack
	want := map[seriesKey]bool{}
	var mid uint64
	for i := range n {
		if i == n/2 {
			mid = liveHeap()
		}
		r := randomRequest(rng)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		_, pattern := mux.Handler(r)
		route := middleware.RouteFromPattern(pattern)
		if route == "" {
			route = catalog.UnmatchedRoute
		}
		want[seriesKey{methodLabel(r.Method), route, strconv.Itoa(w.Code)}] = true
	}
	end := liveHeap()

	mf := family(t, obs.Gatherer(), catalog.HTTPServerDuration)
	if mf == nil {
		t.Fatal("no duration histogram")
	}
	got := map[seriesKey]bool{}
	var total uint64
	for _, m := range mf.GetMetric() {
		l := labels(m)
		k := seriesKey{l[catalog.LabelMethod], l[catalog.LabelRoute], l[catalog.LabelStatusCode]}
		if got[k] {
			t.Errorf("two series for %v", k)
		}
		got[k] = true
		total += m.GetHistogram().GetSampleCount()
		if !want[k] {
			t.Errorf("series %v: not a tuple the routes and methods allow", k)
		}
	}
	for k := range want {
		if !got[k] {
			t.Errorf("no series for %v", k)
		}
	}
	if total != uint64(n) {
		t.Errorf("requests counted = %d, want %d", total, n)
	}
	// The bound: 10 method values x (3 routes + _unmatched) x the statuses the handlers answer.
	if bound := 10 * 4 * (400 + 3); len(got) > bound {
		t.Errorf("%d series, above the bound %d", len(got), bound)
	}
	if v := counterValue(t, obs.Gatherer(), catalog.LabelOverflow, nil); v != 0 {
		t.Errorf("%s = %v: route templates should never reach the cap", catalog.LabelOverflow, v)
	}
	grown := int64(end) - int64(mid)
	t.Logf("%d requests with random paths and methods -> %d series; live heap at half %d B, at end %d B (%+d B)",
		n, len(got), mid, end, grown)
	if grown > heapFlat {
		t.Errorf("live heap grew %d B during the second half of the attack, want < %d", grown, heapFlat)
	}
}

// TestCardinalityAttackGRPC calls random method names over a real gRPC connection. The server
// records every call to its UnknownServiceHandler as one rpc_method, _OTHER; the client side,
// where the caller names the method, admits DefaultLabelCap names and collapses the rest into
// _OTHER, counting each collapse. Counts are exact and the heap stays flat past the cap.
func TestCardinalityAttackGRPC(t *testing.T) {
	leaktest.Check(t)
	obs, err := perfobs.Start(context.Background(), perfobs.Config{Service: "attack", LookupEnv: noEnv,
		Logger: quietLogger(), DisableRuntimeMetrics: true})
	if err != nil {
		t.Fatal(err)
	}
	defer shutdown(t, obs)
	const capN = 100
	p := startGRPC(t, grpcRecorder(t, obs, middleware.WithLabelCap(capN)))
	rng := rand.New(rand.NewPCG(3, 4))
	n := *flagGRPCAttack
	if n < 4*capN {
		t.Fatalf("-grpc-attack %d: need at least %d calls to pass the cap", n, 4*capN)
	}
	var mid uint64
	for i := range n {
		if i == n/2 {
			mid = liveHeap()
		}
		method := fmt.Sprintf("/attack.S%x/M%x", rng.Uint64(), i)
		err := p.conn.Invoke(context.Background(), method, &testpb.Empty{}, &testpb.Empty{})
		if err == nil {
			t.Fatalf("call %s succeeded, want NOT_FOUND", method)
		}
	}
	// One known method too: it keeps its name on both sides.
	if _, err := p.test.EmptyCall(context.Background(), &testpb.Empty{}); err != nil {
		t.Fatal(err)
	}
	end := liveHeap()

	g := obs.Gatherer()
	server := family(t, g, catalog.RPCServerDuration)
	client := family(t, g, catalog.RPCClientDuration)
	if server == nil || client == nil {
		t.Fatal("rpc duration histograms missing")
	}
	if c, _ := histCount(t, g, catalog.RPCServerDuration, map[string]string{catalog.LabelRPCMethod: catalog.OtherValue,
		catalog.LabelRPCStatus: "NOT_FOUND"}); c != uint64(n) {
		t.Errorf("server _OTHER NOT_FOUND calls = %d, want %d", c, n)
	}
	if len(server.GetMetric()) != 2 {
		t.Errorf("server has %d series, want 2 (_OTHER and grpc.testing.TestService/EmptyCall)", len(server.GetMetric()))
	}
	// The client admits capN method names; the rest, the known one included (it came after
	// the cap filled), are _OTHER with NOT_FOUND or OK.
	if len(client.GetMetric()) != capN+2 {
		t.Errorf("client has %d series, want %d", len(client.GetMetric()), capN+2)
	}
	if c, _ := histCount(t, g, catalog.RPCClientDuration, nil); c != uint64(n+1) {
		t.Errorf("client calls counted = %d, want %d", c, n+1)
	}
	overflow := counterValue(t, g, catalog.LabelOverflow, map[string]string{catalog.LabelLabel: catalog.LabelRPCMethod})
	// Each collapsed call is counted at least once. (The stats handler's histograms pass the cap
	// too, and each collapse is counted, so one call counts up to five times.)
	if collapsed := float64(n + 1 - capN); overflow < collapsed || overflow > 5*collapsed {
		t.Errorf("%s{label=%q} = %v, want between %v and %v", catalog.LabelOverflow, catalog.LabelRPCMethod, overflow, collapsed, 5*collapsed)
	}
	grown := int64(end) - int64(mid)
	t.Logf("%d calls with random methods -> %d server, %d client series, overflow %v; live heap at half %d B, at end %d B (%+d B)",
		n, len(server.GetMetric()), len(client.GetMetric()), overflow, mid, end, grown)
	if grown > heapFlat {
		t.Errorf("live heap grew %d B during the second half of the attack, want < %d", grown, heapFlat)
	}
}
