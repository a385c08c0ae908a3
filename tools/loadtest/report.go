package loadtest

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Latency is the client-side latency distribution of a run.
type Latency struct {
	P50  time.Duration `json:"p50"`
	P90  time.Duration `json:"p90"`
	P99  time.Duration `json:"p99"`
	P999 time.Duration `json:"p99_9"`
	Max  time.Duration `json:"max"`
	Mean time.Duration `json:"mean"`
}

// Report summarizes one run (or the merged results of several).
type Report struct {
	// Rate is the offered rate in requests per second (for merged files: the rate achieved).
	Rate float64 `json:"rate"`
	// Sent is the rate at which requests actually left.
	Sent float64 `json:"sent_rate"`
	// Duration is the time over which requests were sent.
	Duration time.Duration `json:"duration"`
	// Requests counts every request; Throughput is successful responses per second, counting
	// the wait for the last responses.
	Requests   uint64  `json:"requests"`
	Throughput float64 `json:"throughput"`
	// ErrorRate is the fraction of requests that failed: a transport error, a timeout, or a
	// status outside 200-399.
	ErrorRate float64 `json:"error_rate"`
	Latency   Latency `json:"latency"`
	// StatusCodes counts responses by status; "0" counts requests without a response.
	StatusCodes map[string]int `json:"status_codes"`
	// Errors lists distinct error messages (at most 5).
	Errors []string `json:"errors,omitempty"`
	// Server holds the service's own RED figures when its /metrics was scraped.
	Server *RED `json:"server,omitempty"`
	// Violations are the budget limits this run broke.
	Violations []Violation `json:"violations,omitempty"`

	m *vegeta.Metrics
}

const maxErrors = 5

// newReport summarizes closed vegeta metrics.
func newReport(m *vegeta.Metrics, rate float64) *Report {
	r := &Report{
		Rate: rate, Sent: m.Rate, Duration: m.Duration, Requests: m.Requests,
		Throughput: m.Throughput, StatusCodes: m.StatusCodes, m: m,
	}
	if r.StatusCodes == nil {
		r.StatusCodes = map[string]int{}
	}
	if m.Requests > 0 {
		r.ErrorRate = 1 - m.Success
		r.Latency = Latency{
			P50: m.Latencies.P50, P90: m.Latencies.P90, P99: m.Latencies.P99,
			P999: m.Latencies.Quantile(0.999), Max: m.Latencies.Max, Mean: m.Latencies.Mean,
		}
	}
	r.Errors = m.Errors
	if len(r.Errors) > maxErrors {
		r.Errors = r.Errors[:maxErrors]
	}
	return r
}

// latency returns the latency a limit bounds.
func (r *Report) latency(l Limit) time.Duration {
	switch {
	case l.Metric == "max":
		return r.Latency.Max
	case l.Metric == "mean":
		return r.Latency.Mean
	case r.m != nil && r.m.Requests > 0:
		return r.m.Latencies.Quantile(l.quantile)
	}
	switch l.quantile {
	case 0.5:
		return r.Latency.P50
	case 0.9:
		return r.Latency.P90
	case 0.99:
		return r.Latency.P99
	case 0.999:
		return r.Latency.P999
	}
	return r.Latency.Max // a conservative stand-in when the distribution is gone
}

// WriteText prints the report for a terminal.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "rate        %.1f req/s offered, %.1f req/s sent, for %s\n", r.Rate, r.Sent, r.Duration.Round(time.Millisecond))
	fmt.Fprintf(&b, "requests    %d, throughput %.1f req/s\n", r.Requests, r.Throughput)
	fmt.Fprintf(&b, "errors      %s%s\n", fmtPct(r.ErrorRate), r.statusSummary())
	for _, e := range r.Errors {
		fmt.Fprintf(&b, "            %s\n", e)
	}
	l := r.Latency
	fmt.Fprintf(&b, "latency     p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  mean %s\n",
		fmtDur(l.P50), fmtDur(l.P90), fmtDur(l.P99), fmtDur(l.P999), fmtDur(l.Max), fmtDur(l.Mean))
	if s := r.Server; s != nil {
		fmt.Fprintf(&b, "server      %s\n", s.summary())
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON prints the report as JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func (r *Report) statusSummary() string {
	codes := make([]string, 0, len(r.StatusCodes))
	for c := range r.StatusCodes {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	parts := make([]string, len(codes))
	for i, c := range codes {
		name := c
		if c == "0" {
			name = "no response"
		}
		parts[i] = fmt.Sprintf("%s x%d", name, r.StatusCodes[c])
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func fmtPct(f float64) string {
	return fmt.Sprintf("%.2f%%", f*100)
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return sig3(d.Seconds()) + "s"
	case d >= time.Millisecond:
		return sig3(float64(d)/float64(time.Millisecond)) + "ms"
	case d >= time.Microsecond:
		return sig3(float64(d)/float64(time.Microsecond)) + "µs"
	}
	return d.String()
}

// sig3 formats v (at least 1) with up to three significant digits and no exponent.
func sig3(v float64) string {
	prec := 2
	switch {
	case v >= 100:
		prec = 0
	case v >= 10:
		prec = 1
	}
	s := strconv.FormatFloat(v, 'f', prec, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}
