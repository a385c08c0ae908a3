package canary

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeProm is a Prometheus HTTP API that answers the judge's queries from canned per-job data,
// keyed by the job="..." matcher of each query. It records the queries it saw.
type fakeProm struct {
	mu      sync.Mutex
	jobs    map[string]*fakeJob
	queries []string
	// fail, when set, answers every query containing it with a Prometheus error.
	fail string
}

type fakeJob struct {
	version string
	http    map[Group]*Traffic
	grpc    map[Group]*Traffic
	series  map[string][]float64 // by the metric name found in the query
	slow    []Exemplar
}

var jobRe = regexp.MustCompile(`job(=~?)"([^"]*)"`)

func (f *fakeProm) job(q string) (*fakeJob, string) {
	m := jobRe.FindStringSubmatch(q)
	if m == nil {
		return nil, ""
	}
	name := strings.ReplaceAll(m[2], `\\`, `\`)
	return f.jobs[name], name
}

func (f *fakeProm) serve(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		q := r.Form.Get("query")
		f.mu.Lock()
		f.queries = append(f.queries, q)
		f.mu.Unlock()
		reply := func(resultType string, result any) {
			json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": map[string]any{"resultType": resultType, "result": result}})
		}
		if f.fail != "" && strings.Contains(q, f.fail) {
			w.WriteHeader(http.StatusUnprocessableEntity)
			fmt.Fprint(w, `{"status":"error","errorType":"execution","error":"query timed out"}`)
			return
		}
		type sample struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		}
		val := func(v float64) [2]any { return [2]any{1700000000.0, strconv.FormatFloat(v, 'f', -1, 64)} }
		var vec []sample
		switch r.URL.Path {
		case "/api/v1/query_exemplars":
			j, _ := f.job(q)
			var out []map[string]any
			if j != nil {
				var ex []map[string]any
				for _, e := range j.slow {
					ex = append(ex, map[string]any{"labels": map[string]string{"trace_id": e.TraceID}, "value": strconv.FormatFloat(e.Value, 'f', -1, 64), "timestamp": 1700000000.5})
				}
				out = append(out, map[string]any{"seriesLabels": map[string]string{"job": "x"}, "exemplars": ex})
			}
			json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": out})
			return
		case "/api/v1/query_range":
			var mat []map[string]any
			j, _ := f.job(q)
			if j != nil {
				for name, vals := range j.series {
					if strings.Contains(q, name) {
						var pts [][2]any
						for i, v := range vals {
							pts = append(pts, [2]any{1700000000.0 + float64(i), strconv.FormatFloat(v, 'f', -1, 64)})
						}
						mat = append(mat, map[string]any{"metric": map[string]string{}, "values": pts})
						break
					}
				}
			}
			reply("matrix", mat)
			return
		}
		switch {
		case strings.Contains(q, "target_info{"):
			for name, j := range f.jobs {
				if strings.Contains(q, `service_version="`+j.version+`"`) {
					vec = append(vec, sample{map[string]string{"job": name, "instance": name + ":80"}, val(1)})
				}
			}
		case strings.Contains(q, "up{"):
			m := jobRe.FindStringSubmatch(q)
			for name := range f.jobs {
				if m != nil && (m[1] == "=" && m[2] == name || m[1] == "=~" && regexp.MustCompile("^(?:"+m[2]+")$").MatchString(name)) {
					vec = append(vec, sample{map[string]string{"job": name, "instance": name + ":80"}, val(1)})
				}
			}
		case strings.Contains(q, "_bucket{"), strings.Contains(q, "_count{"):
			j, _ := f.job(q)
			if j == nil {
				break
			}
			groups, method := j.http, "http_request_method"
			if strings.Contains(q, "rpc_server") {
				groups, method = j.grpc, "rpc_method"
			}
			for g, tr := range groups {
				lbl := func() map[string]string {
					m := map[string]string{method: g.Method}
					if g.Route != "" {
						m["http_route"] = g.Route
					}
					return m
				}
				if strings.Contains(q, "_bucket{") {
					for i, le := range tr.Latency.Bounds {
						m := lbl()
						m["le"] = strconv.FormatFloat(le, 'g', -1, 64)
						if math.IsInf(le, 1) {
							m["le"] = "+Inf"
						}
						vec = append(vec, sample{m, val(tr.Latency.Cumulative[i])})
					}
				} else {
					vec = append(vec, sample{lbl(), val(tr.Errors)})
				}
			}
		}
		if vec == nil {
			vec = []sample{}
		}
		reply("vector", vec)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// hist builds a histogram over the default buckets from per-bucket counts (the rest empty).
func hist(perBucket ...float64) Histogram {
	bounds := append([]float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}, math.Inf(1))
	h := Histogram{Bounds: bounds, Cumulative: make([]float64, len(bounds))}
	run := 0.0
	for i := range bounds {
		if i < len(perBucket) {
			run += perBucket[i]
		}
		h.Cumulative[i] = run
	}
	return h
}
