// Package routertest holds what the router adapters' tests share: the series a registry
// recorded, compared with what a test expects; allocation counts of one request; and the check
// that an adapter's module requires its own router only. It is in the SDK module and needs
// nothing beyond it, so the adapters' modules stay free of each other.
package routertest

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/perfobs/perfobs-go/catalog"
)

// Counts returns the sample count of the server duration histogram per "method route status"
// (with " error_type" appended when set).
func Counts(t testing.TB, reg prometheus.Gatherer) map[string]uint64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]uint64{}
	for _, mf := range mfs {
		if mf.GetName() != catalog.HTTPServerDuration {
			continue
		}
		for _, m := range mf.GetMetric() {
			l := map[string]string{}
			for _, p := range m.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			k := l[catalog.LabelMethod] + " " + l[catalog.LabelRoute] + " " + l[catalog.LabelStatusCode]
			if e := l[catalog.LabelErrorType]; e != "" {
				k += " " + e
			}
			out[k] += m.GetHistogram().GetSampleCount()
		}
	}
	return out
}

// Check fails the test unless got holds exactly the series of want, with their counts.
func Check(t testing.TB, got, want map[string]uint64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("series %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%q: count %d, want %d (all: %v)", k, got[k], v, got)
		}
	}
}

// discard is a reusable ResponseWriter, so that allocation counts are the router's and the
// middleware's only.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

// Allocs returns the heap allocations of one request to h, averaged over many.
func Allocs(h http.Handler, method, path string) float64 {
	w := &discard{h: http.Header{}}
	r := httptest.NewRequest(method, path, nil)
	return testing.AllocsPerRun(1000, func() { // many runs: under -race sync.Pool drops some items
		clear(w.h)
		h.ServeHTTP(w, r)
	})
}

// Slack is the allocations per request a comparison tolerates: none, but under the race
// detector sync.Pool drops a quarter of what it is given, and the router's pools, the adapter's
// and the middleware's then cost up to one allocation per request on average.
func Slack() float64 {
	if raceEnabled {
		return 1
	}
	return 0
}

// routers are the module paths of the routers that have an adapter, by adapter name.
var routers = map[string]string{"gin": "github.com/gin-gonic/gin", "echo": "github.com/labstack/echo",
	"chi": "github.com/go-chi/chi", "mux": "github.com/gorilla/mux"}

// OnlyOwnRouter checks, from an adapter's folder, that its go.mod requires its own router (own:
// gin, echo, chi or mux) and no other, and that the SDK module's go.mod requires none.
func OnlyOwnRouter(t testing.TB, own string) {
	t.Helper()
	for file, want := range map[string]string{"go.mod": own, "../../go.mod": ""} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for name, path := range routers {
			if has := strings.Contains(string(b), path); has != (name == want) {
				t.Errorf("%s: requires %s: %v, want %v", file, path, has, name == want)
			}
		}
	}
}
