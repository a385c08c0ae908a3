package middleware_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/middleware"
)

// TestClassicNames: WithClassicNames exposes promhttp's series (code, handler, method), merged
// over the labels promhttp does not have, with client_golang's default buckets, and nothing under
// the default names.
func TestClassicNames(t *testing.T) {
	reg := prometheus.NewRegistry()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("POST /users/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) })
	h := middleware.HTTP(mux, middleware.WithRegisterer(reg), middleware.WithClassicNames())
	serve(t, h, "GET", "/users/1")
	serve(t, h, "GET", "/users/2")
	serve(t, h, "POST", "/users/3")
	serve(t, h, "BREW", "/pot")

	requests := gather(t, reg, catalog.ClassicHTTPRequests)
	for k, want := range map[string]float64{
		"code=200,handler=/users/{id},method=get":    2,
		"code=500,handler=/users/{id},method=post":   1,
		"code=404,handler=_unmatched,method=unknown": 1,
	} {
		if got := requests[k].value; got != want {
			t.Errorf("%s{%s} = %v, want %v (all: %v)", catalog.ClassicHTTPRequests, k, got, want, keys(requests))
		}
	}
	if len(requests) != 3 {
		t.Errorf("%s has %d series, want 3: %v", catalog.ClassicHTTPRequests, len(requests), keys(requests))
	}
	if got := gather(t, reg, catalog.ClassicHTTPDuration)["code=200,handler=/users/{id},method=get"].count; got != 2 {
		t.Errorf("%s count %d, want 2", catalog.ClassicHTTPDuration, got)
	}
	if n := testutil.CollectAndCount(reg, catalog.HTTPServerDuration, catalog.HTTPServerActive); n != 0 {
		t.Errorf("the default names still have %d series in classic mode", n)
	}
	if n := testutil.CollectAndCount(reg, catalog.ClassicHTTPInFlight); n != 1 {
		t.Errorf("%s: %d series, want 1", catalog.ClassicHTTPInFlight, n)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != catalog.ClassicHTTPDuration {
			continue
		}
		var bounds []float64
		for _, b := range mf.GetMetric()[0].GetHistogram().GetBucket() {
			bounds = append(bounds, b.GetUpperBound())
		}
		if want := prometheus.DefBuckets; len(bounds) != len(want) || bounds[0] != want[0] || bounds[len(bounds)-1] != want[len(want)-1] {
			t.Errorf("buckets %v, want client_golang's default %v", bounds, want)
		}
	}
	if _, err := middleware.New(middleware.WithClassicNames(), middleware.WithNativeHistograms(),
		middleware.WithRegisterer(prometheus.NewRegistry())); err == nil || !strings.Contains(err.Error(), "WithClassicNames") {
		t.Errorf("classic names with native histograms: error %v, want one naming WithClassicNames", err)
	}
}
