package middleware

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/internal/recorder"
	"github.com/perfobs/perfobs-go/internal/tracing"
)

// This file is the tracing side of the middleware; nothing here runs without WithTracerProvider.

// spanMethod is the span name's method part: the method, or "HTTP" for one the semantic
// conventions do not know.
func spanMethod(method uint8) string {
	if method == methodOther {
		return "HTTP"
	}
	return methodNames[method]
}

// methodAttrs are http.request.method, and http.request.method_original when the method is not
// a known one.
func methodAttrs(attrs []attribute.KeyValue, method uint8, original string) []attribute.KeyValue {
	attrs = append(attrs, semconv.HTTPRequestMethodKey.String(methodNames[method]))
	if method == methodOther {
		attrs = append(attrs, semconv.HTTPRequestMethodOriginalKey.String(original))
	}
	return attrs
}

// spanAttrs is pooled storage for the attributes of one span start or end: the SDK copies them,
// so the storage goes back to the pool right after the call, and building them does not allocate.
type spanAttrs struct{ kv [10]attribute.KeyValue }

func (rec *Recorder) getAttrs() (*spanAttrs, []attribute.KeyValue) {
	a, _ := rec.attrPool.Get().(*spanAttrs)
	if a == nil {
		a = new(spanAttrs)
	}
	return a, a.kv[:0]
}

// startServerSpan continues the trace of r's headers with a server span, named by the method
// until the route is known, and returns r with the span in its context.
func (h *handler) startServerSpan(r *http.Request, method, scheme uint8) (*http.Request, trace.Span) {
	buf, attrs := h.rec.getAttrs()
	defer h.rec.attrPool.Put(buf)
	attrs = methodAttrs(attrs, method, r.Method)
	attrs = append(attrs,
		semconv.URLPathKey.String(r.URL.Path),
		semconv.URLSchemeKey.String(schemes[scheme]),
		semconv.NetworkProtocolVersionKey.String(protocolVersion(r)))
	if host, port := splitHostPort(r.Host); host != "" {
		attrs = append(attrs, semconv.ServerAddressKey.String(host))
		if port > 0 {
			attrs = append(attrs, semconv.ServerPortKey.Int(port))
		}
	}
	if host, _ := splitHostPort(r.RemoteAddr); host != "" {
		attrs = append(attrs, semconv.ClientAddressKey.String(host))
	}
	if ua := r.UserAgent(); ua != "" {
		attrs = append(attrs, semconv.UserAgentOriginalKey.String(ua))
	}
	ctx, span := h.rec.cfg.Tracer.StartServer(r.Context(), tracing.HeaderCarrier(r.Header), spanMethod(method), attrs...)
	return r.WithContext(ctx), span
}

// endServerSpan names the span by method and route, sets the response attributes and the error
// status (5xx, panics, aborts), ends it, and records the observation with an exemplar when the
// span is sampled.
func (h *handler) endServerSpan(span trace.Span, key serverKey, route string, panicked any, m *serverMetrics, hist *recorder.Histogram, shard int, end, elapsed time.Duration) {
	buf, attrs := h.rec.getAttrs()
	if route != catalog.UnmatchedRoute && route != catalog.OtherValue {
		span.SetName(hist.Memo(func() string { return spanMethod(key.method) + " " + route }))
		attrs = append(attrs, semconv.HTTPRouteKey.String(route))
	}
	if key.status != 0 {
		attrs = append(attrs, semconv.HTTPResponseStatusCodeKey.Int(int(key.status)))
	}
	span.SetAttributes(attrs...)
	h.rec.attrPool.Put(buf)
	switch key.err {
	case errStatus:
		code := strconv.Itoa(int(key.status))
		tracing.Fail(span, code, "HTTP "+code, nil)
	case errPanic:
		tracing.Fail(span, catalog.ErrorPanic, "handler panicked", fmt.Errorf("panic: %v", panicked))
	case errAborted:
		tracing.Fail(span, catalog.ErrorAborted, "handler aborted", nil)
	}
	span.End()
	if tid, sid, ok := tracing.ExemplarIDs(span); ok {
		m.duration.ObserveWithExemplar(hist, shard, int64(elapsed), tid, sid, h.rec.epoch.Add(end))
		return
	}
	m.duration.Observe(hist, shard, int64(elapsed))
}

// startClientSpan starts a client span for req and returns a copy of req whose headers carry
// its context (a RoundTripper must not change the request it was given).
func (t *transport) startClientSpan(req *http.Request) (*http.Request, trace.Span) {
	method := methodIndex(req.Method)
	buf, attrs := t.rec.getAttrs()
	defer t.rec.attrPool.Put(buf)
	attrs = methodAttrs(attrs, method, req.Method)
	if u := req.URL; u != nil {
		host, port := u.Hostname(), defaultPort(u)
		attrs = append(attrs, semconv.ServerAddressKey.String(host))
		if p, err := strconv.Atoi(port); err == nil {
			attrs = append(attrs, semconv.ServerPortKey.Int(p))
		}
		full := *u
		full.User = nil // credentials never go into a span
		attrs = append(attrs, semconv.URLFullKey.String(full.String()))
	}
	out := req.Clone(req.Context())
	if out.Header == nil {
		out.Header = http.Header{}
	}
	ctx, span := t.rec.cfg.Tracer.StartClient(req.Context(), tracing.HeaderCarrier(out.Header), spanMethod(method), attrs...)
	return out.WithContext(ctx), span
}

// endClientSpan sets the response attributes and the error status (transport errors, status 400
// and above), ends the span, and records the observation with an exemplar when it is sampled.
func (t *transport) endClientSpan(span trace.Span, key clientKey, err error, m *clientMetrics, hist *recorder.Histogram, shard int, end, elapsed time.Duration) {
	if key.status != 0 {
		span.SetAttributes(semconv.HTTPResponseStatusCodeKey.Int(int(key.status)))
	}
	switch {
	case err != nil:
		tracing.Fail(span, key.err, err.Error(), err)
	case key.err == "status":
		code := strconv.Itoa(int(key.status))
		tracing.Fail(span, code, "HTTP "+code, nil)
	}
	span.End()
	if tid, sid, ok := tracing.ExemplarIDs(span); ok {
		m.duration.ObserveWithExemplar(hist, shard, int64(elapsed), tid, sid, t.rec.epoch.Add(end))
		return
	}
	m.duration.Observe(hist, shard, int64(elapsed))
}

// protocolVersion is network.protocol.version: "1.1", "2", "3".
func protocolVersion(r *http.Request) string {
	switch {
	case r.ProtoMajor == 1 && r.ProtoMinor == 1:
		return "1.1"
	case r.ProtoMajor == 2:
		return "2"
	case r.ProtoMajor == 3:
		return "3"
	case r.ProtoMajor == 1 && r.ProtoMinor == 0:
		return "1.0"
	}
	return strings.TrimPrefix(r.Proto, "HTTP/")
}

// splitHostPort splits "host:port", "[v6]:port", "[v6]" or a bare host without allocating
// (net.SplitHostPort allocates an error for a host without a port); port is 0 when absent or not
// a number.
func splitHostPort(hp string) (string, int) {
	if strings.HasPrefix(hp, "[") {
		end := strings.IndexByte(hp, ']')
		if end < 0 {
			return "", 0
		}
		host, rest := hp[1:end], hp[end+1:]
		if port, ok := strings.CutPrefix(rest, ":"); ok {
			return host, atoiPort(port)
		}
		return host, 0
	}
	i := strings.LastIndexByte(hp, ':')
	if i < 0 {
		return hp, 0
	}
	if strings.IndexByte(hp[:i], ':') >= 0 { // a bare IPv6 address
		return hp, 0
	}
	return hp[:i], atoiPort(hp[i+1:])
}

func atoiPort(s string) int {
	p, err := strconv.Atoi(s)
	if err != nil || p < 0 || p > 65535 {
		return 0
	}
	return p
}
