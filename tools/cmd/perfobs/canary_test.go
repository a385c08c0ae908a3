package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// fakeCanaryProm answers the canary judge's queries: jobs base and same have identical HTTP
// traffic on POST /orders, job slow a heavier tail; no runtime metrics.
func fakeCanaryProm(t *testing.T) *httptest.Server {
	job := regexp.MustCompile(`job="([^"]*)"`)
	cum := map[string][]float64{
		"base": {1000, 4000, 8000, 9500, 9900, 9980, 10000},
		"same": {1000, 4000, 8000, 9500, 9900, 9980, 10000},
		"slow": {1000, 4000, 7500, 9000, 9500, 9800, 10000},
	}
	les := []string{"0.005", "0.01", "0.025", "0.05", "0.075", "0.1", "+Inf"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		q := r.Form.Get("query")
		var j string
		if m := job.FindStringSubmatch(q); m != nil {
			j = m[1]
		}
		c, ok := cum[j]
		var result []string
		switch {
		case r.URL.Path == "/api/v1/query_range":
			fmt.Fprint(w, `{"status":"success","data":{"resultType":"matrix","result":[]}}`)
			return
		case r.URL.Path == "/api/v1/query_exemplars":
			fmt.Fprint(w, `{"status":"success","data":[{"seriesLabels":{},"exemplars":[{"labels":{"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"},"value":"0.09","timestamp":1700000000}]}]}`)
			return
		case !ok:
		case strings.Contains(q, "up{"):
			result = append(result, fmt.Sprintf(`{"metric":{"job":%q,"instance":"%s:80"},"value":[1,"1"]}`, j, j))
		case strings.Contains(q, "http_server_request_duration_seconds_bucket"):
			for i, le := range les {
				result = append(result, fmt.Sprintf(`{"metric":{"http_route":"/orders","http_request_method":"POST","le":%q},"value":[1,"%g"]}`, le, c[i]))
			}
		case strings.Contains(q, "http_server_request_duration_seconds_count"):
			result = append(result, `{"metric":{"http_route":"/orders","http_request_method":"POST"},"value":[1,"3"]}`)
		}
		fmt.Fprintf(w, `{"status":"success","data":{"resultType":"vector","result":[%s]}}`, strings.Join(result, ","))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestCanaryCommand(t *testing.T) {
	srv := fakeCanaryProm(t)
	dir := t.TempDir()
	html := filepath.Join(dir, "canary.html")
	badCfg := filepath.Join(dir, "bad.yaml")
	os.WriteFile(badCfg, []byte("alpha: 2\n"), 0o644)
	now := time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC)
	p := "--prometheus=" + srv.URL
	tests := []struct {
		name     string
		args     []string
		code     int
		out, err string
	}{
		{"pass", []string{p, "--baseline", `job="base"`, "--canary", `job="same"`}, exitOK, "canary verdict: PASS", ""},
		{"fail names the route", []string{p, "--baseline", `job="base"`, "--canary", `job="slow"`, "--html", html}, exitFail, "POST /orders latency is worse on the canary", ""},
		{"markdown", []string{p, "--baseline", `job="base"`, "--canary", `job="slow"`, "--format", "markdown"}, exitFail, "| high (critical) | POST /orders | latency |", ""},
		{"no target is inconclusive", []string{p, "--baseline", `job="base"`, "--canary", `job="nope"`}, exitInconclusive, `the canary selector job="nope" matches no scraped target`, ""},
		{"prometheus down", []string{"--prometheus=http://127.0.0.1:1", "--baseline", `job="base"`, "--canary", `job="same"`}, exitUsage, "", "query group by (job, instance)"},
		{"missing --prometheus", []string{"--baseline", "a", "--canary", "b"}, exitUsage, "", "--prometheus is required"},
		{"bad URL", []string{"--prometheus", "prometheus:9090", "--baseline", "a", "--canary", "b"}, exitUsage, "", `--prometheus "prometheus:9090"`},
		{"missing --canary", []string{p, "--baseline", "a"}, exitUsage, "", "--canary is required"},
		{"bad matchers", []string{p, "--baseline", `job=checkout`, "--canary", "b"}, exitUsage, "", `--baseline: selector "job=checkout"`},
		{"same selectors", []string{p, "--baseline", "a", "--canary", "a"}, exitUsage, "", "the same selector"},
		{"bad format", []string{p, "--baseline", "a", "--canary", "b", "--format", "xml"}, exitUsage, "", `--format "xml"`},
		{"bad start", []string{p, "--baseline", "a", "--canary", "b", "--start", "yesterday"}, exitUsage, "", `--start: time "yesterday"`},
		{"future end", []string{p, "--baseline", "a", "--canary", "b", "--end", "2026-12-01T21:00:00Z"}, exitUsage, "", "in the future"},
		{"window and both ends", []string{p, "--baseline", "a", "--canary", "b", "--window", "1h", "--start", "1", "--end", "2"}, exitUsage, "", "give at most two"},
		{"bad config", []string{p, "--baseline", "a", "--canary", "b", "--config", badCfg}, exitUsage, "", "alpha 2: must be in (0, 0.5)"},
		{"extra argument", []string{p, "--baseline", "a", "--canary", "b", "oops"}, exitUsage, "", `unexpected argument "oops"`},
		{"help", []string{"-h"}, exitOK, "", "Exit status: 0 pass, 1 fail"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := canaryMain(context.Background(), tt.args, now, nil, &out, &errb)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out.String(), errb.String())
			}
			if !strings.Contains(out.String(), tt.out) {
				t.Errorf("stdout lacks %q:\n%s", tt.out, out.String())
			}
			if !strings.Contains(errb.String(), tt.err) {
				t.Errorf("stderr lacks %q:\n%s", tt.err, errb.String())
			}
		})
	}
	b, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<svg", `data-side="canary"`, "POST /orders", "4bf92f3577b34da6a3ce929d0e0e4736"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("--html output lacks %q", want)
		}
	}
	if bytes.Contains(b, []byte("http://")) || bytes.Contains(b, []byte("https://")) {
		t.Error("--html output refers to the network")
	}
}

func TestCanaryJSONAndWatch(t *testing.T) {
	srv := fakeCanaryProm(t)
	var out, errb bytes.Buffer
	code := canaryMain(context.Background(), []string{"--prometheus", srv.URL, "--baseline", `job="base"`, "--canary", `job="slow"`, "--format", "json"},
		time.Now(), nil, &out, &errb)
	var rep struct {
		Verdict string
		Results []struct {
			Scope, Metric, Status string
			Exemplars             []struct {
				TraceID string `json:"trace_id"`
			}
		}
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("exit %d, output not JSON: %v\n%s\n%s", code, err, out.String(), errb.String())
	}
	if code != exitFail || rep.Verdict != "fail" {
		t.Fatalf("exit %d verdict %q, want 1 and fail", code, rep.Verdict)
	}

	// --watch: identical sides are only decisive at the end; every look before says so.
	out.Reset()
	errb.Reset()
	code = canaryMain(context.Background(), []string{"--prometheus", srv.URL, "--baseline", `job="base"`, "--canary", `job="same"`,
		"--watch", "20ms", "--window", "100ms"}, time.Now(), nil, &out, &errb)
	if code != exitOK || !strings.Contains(out.String(), "final") || !strings.Contains(errb.String(), "looking again in 20ms") {
		t.Fatalf("watch: exit %d\nstdout: %s\nstderr: %s", code, out.String(), errb.String())
	}
	out.Reset()
	code = canaryMain(context.Background(), []string{"--prometheus", srv.URL, "--baseline", `job="base"`, "--canary", `job="slow"`,
		"--watch", "20ms", "--window", "10s"}, time.Now(), nil, &out, &errb)
	if code != exitFail || strings.Contains(out.String(), "final") {
		t.Fatalf("watch of a slow canary: exit %d, want an early fail\n%s", code, out.String())
	}
}
