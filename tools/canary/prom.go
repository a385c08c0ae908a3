package canary

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// Client queries a Prometheus server over its HTTP API (/api/v1/query, /api/v1/query_range and
// /api/v1/query_exemplars).
type Client struct {
	// URL is the server's base URL, such as http://prometheus:9090.
	URL string
	// HTTP is the client to use; nil means one with a 30-second timeout.
	HTTP *http.Client
}

// QueryError is a query that failed: a transport error, an HTTP status or an error from
// Prometheus. It names the query, so a failing run always says which one.
type QueryError struct {
	Query string
	Err   error
}

func (e *QueryError) Error() string { return fmt.Sprintf("query %s: %v", e.Query, e.Err) }
func (e *QueryError) Unwrap() error { return e.Err }

type apiResponse struct {
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
	Warnings  []string        `json:"warnings"`
}

type queryData struct {
	ResultType string          `json:"resultType"`
	Result     json.RawMessage `json:"result"`
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 30 * time.Second}
}

func (c *Client) get(ctx context.Context, path string, params url.Values, query string) (json.RawMessage, error) {
	base := strings.TrimRight(c.URL, "/")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, strings.NewReader(params.Encode()))
	if err != nil {
		return nil, &QueryError{query, err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return nil, &QueryError{query, err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, &QueryError{query, fmt.Errorf("reading the response: %w", err)}
	}
	var r apiResponse
	if err := json.Unmarshal(body, &r); err != nil {
		snippet := string(body)
		if len(snippet) > 200 {
			snippet = snippet[:200] + "..."
		}
		return nil, &QueryError{query, fmt.Errorf("HTTP %d, not a Prometheus API response: %q", resp.StatusCode, snippet)}
	}
	if r.Status != "success" {
		return nil, &QueryError{query, fmt.Errorf("HTTP %d: %s: %s", resp.StatusCode, r.ErrorType, r.Error)}
	}
	return r.Data, nil
}

// Query runs an instant query at t and returns its vector (a scalar comes back as one sample
// without labels).
func (c *Client) Query(ctx context.Context, q string, t time.Time) (model.Vector, error) {
	params := url.Values{"query": {q}, "time": {formatTime(t)}}
	data, err := c.get(ctx, "/api/v1/query", params, q)
	if err != nil {
		return nil, err
	}
	var d queryData
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, &QueryError{q, fmt.Errorf("decoding the result: %w", err)}
	}
	switch d.ResultType {
	case "vector":
		var v model.Vector
		if err := json.Unmarshal(d.Result, &v); err != nil {
			return nil, &QueryError{q, fmt.Errorf("decoding the vector: %w", err)}
		}
		return v, nil
	case "scalar":
		var s model.Scalar
		if err := json.Unmarshal(d.Result, &s); err != nil {
			return nil, &QueryError{q, fmt.Errorf("decoding the scalar: %w", err)}
		}
		return model.Vector{{Metric: model.Metric{}, Value: s.Value, Timestamp: s.Timestamp}}, nil
	default:
		return nil, &QueryError{q, fmt.Errorf("result type %q, want a vector", d.ResultType)}
	}
}

// QueryRange runs a range query from start to end every step.
func (c *Client) QueryRange(ctx context.Context, q string, start, end time.Time, step time.Duration) (model.Matrix, error) {
	params := url.Values{"query": {q}, "start": {formatTime(start)}, "end": {formatTime(end)},
		"step": {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)}}
	data, err := c.get(ctx, "/api/v1/query_range", params, q)
	if err != nil {
		return nil, err
	}
	var d queryData
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, &QueryError{q, fmt.Errorf("decoding the result: %w", err)}
	}
	if d.ResultType != "matrix" {
		return nil, &QueryError{q, fmt.Errorf("result type %q, want a matrix", d.ResultType)}
	}
	var m model.Matrix
	if err := json.Unmarshal(d.Result, &m); err != nil {
		return nil, &QueryError{q, fmt.Errorf("decoding the matrix: %w", err)}
	}
	return m, nil
}

// Exemplar is one exemplar of a histogram series: the trace of a request and its value.
type Exemplar struct {
	TraceID string            `json:"trace_id"`
	SpanID  string            `json:"span_id,omitempty"`
	Value   float64           `json:"value"`
	Time    time.Time         `json:"time"`
	Series  map[string]string `json:"series,omitempty"`
}

type exemplarSeries struct {
	SeriesLabels map[string]string `json:"seriesLabels"`
	Exemplars    []struct {
		Labels    map[string]string `json:"labels"`
		Value     string            `json:"value"`
		Timestamp float64           `json:"timestamp"`
	} `json:"exemplars"`
}

// Exemplars returns the exemplars of the series q selects between start and end.
func (c *Client) Exemplars(ctx context.Context, q string, start, end time.Time) ([]Exemplar, error) {
	params := url.Values{"query": {q}, "start": {formatTime(start)}, "end": {formatTime(end)}}
	data, err := c.get(ctx, "/api/v1/query_exemplars", params, q)
	if err != nil {
		return nil, err
	}
	var series []exemplarSeries
	if err := json.Unmarshal(data, &series); err != nil {
		return nil, &QueryError{q, fmt.Errorf("decoding exemplars: %w", err)}
	}
	var out []Exemplar
	for _, s := range series {
		for _, e := range s.Exemplars {
			v, err := strconv.ParseFloat(e.Value, 64)
			if err != nil {
				return nil, &QueryError{q, fmt.Errorf("exemplar value %q: %w", e.Value, err)}
			}
			sec := int64(e.Timestamp)
			out = append(out, Exemplar{
				TraceID: e.Labels["trace_id"], SpanID: e.Labels["span_id"], Value: v,
				Time: time.Unix(sec, int64((e.Timestamp-float64(sec))*1e9)).UTC(), Series: s.SeriesLabels,
			})
		}
	}
	return out, nil
}

func formatTime(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixNano())/1e9, 'f', 3, 64)
}
