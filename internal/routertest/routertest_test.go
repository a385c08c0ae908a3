package routertest_test

import (
	"net/http"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/perfobs/perfobs-go/internal/routertest"
	"github.com/perfobs/perfobs-go/leaktest"
	"github.com/perfobs/perfobs-go/middleware"
)

func TestMain(m *testing.M) { leaktest.VerifyTestMain(m) }

func TestCountsOfServeMux(t *testing.T) {
	reg := prometheus.NewRegistry()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusAccepted) })
	h := middleware.HTTP(mux, middleware.WithRegisterer(reg))
	routertest.Allocs(h, "GET", "/users/1")
	routertest.Allocs(h, "GET", "/nope")
	got := routertest.Counts(t, reg)
	if got["GET /users/{id} 202"] == 0 || got["GET _unmatched 404"] == 0 || len(got) != 2 {
		t.Fatalf("counts %v, want a 202 on /users/{id} and a 404 on _unmatched", got)
	}
	if a := routertest.Allocs(h, "GET", "/users/1"); a > 1+routertest.Slack() {
		t.Errorf("%v allocations per request through ServeMux and the middleware, want at most 1 (ServeMux's own)", a)
	}
}
