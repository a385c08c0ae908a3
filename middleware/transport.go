package middleware

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/internal/instrument"
	"github.com/perfobs/perfobs-go/internal/recorder"
)

// Transport wraps base (http.DefaultTransport when nil) so that every round trip is recorded in
// http_client_request_duration_seconds, from the call until the response headers arrive (reading
// the body is the caller's time). Transport errors get an error_type naming their kind: timeout,
// canceled, dns, tls, connection or _OTHER; responses with status 400 and above get their status.
// server_address values are capped (WithLabelCap). It panics only when opts are invalid, as HTTP
// does; a Recorder from New, passed alone, cannot.
func Transport(base http.RoundTripper, opts ...Option) http.RoundTripper {
	rec := recorderFor("middleware.Transport", instrument.HTTPClient, opts)
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{rec: rec, base: base}
}

type transport struct {
	rec  *Recorder
	base http.RoundTripper
}

// CloseIdleConnections closes the idle connections of the wrapped transport, so that
// http.Client.CloseIdleConnections keeps working through the wrapper.
func (t *transport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// Unwrap returns the wrapped transport.
func (t *transport) Unwrap() http.RoundTripper { return t.base }

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	var span trace.Span
	if t.rec.cfg.Tracer != nil {
		req, span = t.startClientSpan(req)
	}
	tok := t.rec.shards.Get()
	start := t.rec.since()
	resp, err := t.base.RoundTrip(req)
	end := t.rec.since()
	elapsed := end - start

	key := clientKey{method: methodIndex(req.Method)}
	if req.URL != nil {
		key.host = req.URL.Hostname()
		key.port = defaultPort(req.URL)
	}
	switch {
	case err != nil:
		key.err = transportErrorKind(err)
	case resp.StatusCode >= 400:
		key.status, key.err = uint16(resp.StatusCode), "status"
	default:
		key.status = uint16(resp.StatusCode)
	}
	m := t.rec.client
	h := m.duration.Get(key)
	if h == nil {
		key.host = m.hosts.Admit(key.host)
		if key.host == catalog.OtherValue {
			key.port = catalog.OtherValue
		}
		h = m.duration.GetOrCreate(key, key.labels)
	}
	if span != nil {
		t.endClientSpan(span, key, err, m, h, tok.Shard, end, elapsed)
	} else {
		m.duration.Observe(h, tok.Shard, int64(elapsed))
	}
	t.rec.shards.Put(tok)
	return resp, err
}

// defaultPort is u's port, or the scheme's default: 443 for https, else 80.
func defaultPort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "https" {
		return "443"
	}
	return "80"
}

// clientKey identifies one series of the client histogram.
type clientKey struct {
	host, port string
	err        string // "", "status", or a transport error kind
	status     uint16
	method     uint8
}

func (k clientKey) labels() []string {
	status := ""
	if k.status != 0 {
		status = strconv.Itoa(int(k.status))
	}
	errType := k.err
	if errType == "status" {
		errType = status
	}
	return []string{methodNames[k.method], k.host, k.port, status, errType}
}

// transportErrorKind maps a round-trip error to a small fixed set of error_type values.
func transportErrorKind(err error) string {
	var netErr net.Error
	var dnsErr *net.DNSError
	var tlsErr tls.RecordHeaderError
	var certErr *tls.CertificateVerificationError
	var opErr *net.OpError
	switch {
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	case errors.As(err, &dnsErr):
		return "dns"
	case errors.As(err, &tlsErr), errors.As(err, &certErr):
		return "tls"
	case errors.As(err, &opErr):
		return "connection"
	}
	return catalog.OtherValue
}

type clientMetrics struct {
	duration *recorder.HistogramVec[clientKey]
	hosts    *instrument.LabelCap
}

func newClientMetrics(cfg *instrument.Config, overflow *prometheus.CounterVec) (*clientMetrics, error) {
	d, err := recorder.NewHistogramVec[clientKey](catalog.HTTPClientDuration, "Duration of HTTP client requests.",
		catalog.HTTPClientLabels(), recorder.Shape{Bounds: cfg.DurationBuckets, Scale: 1e-9, Native: cfg.NativeHistograms})
	if err != nil {
		return nil, err
	}
	m := &clientMetrics{duration: d, hosts: &instrument.LabelCap{Metric: catalog.HTTPClientDuration,
		Label: catalog.LabelServerAddr, Max: cfg.LabelCap, Overflow: overflow, Logger: cfg.Logger}}
	got, err := instrument.RegisterOrReuse(cfg.Registerer, m)
	if err != nil {
		return nil, fmt.Errorf("registering HTTP client metrics: %w", err)
	}
	return got, nil
}

// Describe implements prometheus.Collector.
func (m *clientMetrics) Describe(ch chan<- *prometheus.Desc) { m.duration.Describe(ch) }

// Collect implements prometheus.Collector.
func (m *clientMetrics) Collect(ch chan<- prometheus.Metric) { m.duration.Collect(ch) }
