package middleware

import (
	"bufio"
	"io"
	"net"
	"net/http"

	"github.com/perfobs/perfobs-go/internal/recorder"
)

// Bits of the optional-interface mask; the order matches writer_types.go.
const (
	hasFlusher uint8 = 1 << iota
	hasHijacker
	hasReaderFrom
	hasPusher
)

// interfaceMask reports which optional interfaces w has.
func interfaceMask(w http.ResponseWriter) uint8 {
	var m uint8
	if _, ok := w.(http.Flusher); ok {
		m |= hasFlusher
	}
	if _, ok := w.(http.Hijacker); ok {
		m |= hasHijacker
	}
	if _, ok := w.(io.ReaderFrom); ok {
		m |= hasReaderFrom
	}
	if _, ok := w.(http.Pusher); ok {
		m |= hasPusher
	}
	return m
}

// core is the pooled per-request state behind every wrapper type: it observes the status and
// the bytes written, and carries the route set by SetRoute and the request's shard.
type core struct {
	w           http.ResponseWriter
	status      int
	wroteHeader bool
	hijacked    bool
	returned    bool // next.ServeHTTP returned normally (false while panicking)
	written     int64
	route       string
	shard       int
	body        countingBody
	last        coreCache  // kept across requests (the core is pooled per P)
	task        flightTask // the request's runtime/trace task; nil without WithFlightRecorder
	taskName    string     // the task's name: the route is logged only when it differs
}

func (c *core) reset(w http.ResponseWriter) {
	*c = core{w: w, shard: c.shard, last: c.last}
}

// coreCache is what a core remembers of its last request, so that a service's hot route finds
// its route and series without a map lookup or a pattern scan. Series are never removed and
// patterns never change, so it stays valid.
type coreCache struct {
	key            serverKey
	hist           *recorder.Histogram
	pattern, route string
}

// patternRoute is RouteFromPattern(pattern), remembered for the next request on this core.
func (c *core) patternRoute(pattern string) string {
	if pattern != c.last.pattern {
		c.last.pattern, c.last.route = pattern, RouteFromPattern(pattern)
	}
	return c.last.route
}

// durationSeries returns vec's series for key, or nil when it does not exist yet; a series found
// is remembered for the next request on this core.
func (c *core) durationSeries(vec *recorder.HistogramVec[serverKey], key serverKey) *recorder.Histogram {
	if c.last.hist != nil && c.last.key == key {
		return c.last.hist
	}
	h := vec.Get(key)
	if h != nil {
		c.last.key, c.last.hist = key, h
	}
	return h
}

// Header implements http.ResponseWriter.
func (c *core) Header() http.Header { return c.w.Header() }

// WriteHeader implements http.ResponseWriter. The first non-1xx status is kept (101 Switching
// Protocols counts, since no other status follows it).
func (c *core) WriteHeader(code int) {
	if !c.wroteHeader && (code >= 200 || code == http.StatusSwitchingProtocols) {
		c.status = code
		c.wroteHeader = true
	}
	c.w.WriteHeader(code)
}

func (c *core) implicitHeader() {
	if !c.wroteHeader {
		c.status = http.StatusOK
		c.wroteHeader = true
	}
}

// Write implements http.ResponseWriter.
func (c *core) Write(b []byte) (int, error) {
	c.implicitHeader()
	n, err := c.w.Write(b)
	c.written += int64(n)
	return n, err
}

// WriteString implements io.StringWriter without copying when the wrapped writer has it.
func (c *core) WriteString(s string) (int, error) {
	c.implicitHeader()
	n, err := io.WriteString(c.w, s)
	c.written += int64(n)
	return n, err
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (c *core) Unwrap() http.ResponseWriter { return c.w }

// setRoute is how SetRoute reaches the pooled core through any wrapper.
func (c *core) setRoute(route string) { c.route = route }

func (c *core) flush() {
	c.implicitHeader()
	c.w.(http.Flusher).Flush()
}

func (c *core) hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := c.w.(http.Hijacker).Hijack()
	if err == nil {
		c.hijacked = true
	}
	return conn, rw, err
}

func (c *core) readFrom(src io.Reader) (int64, error) {
	c.implicitHeader()
	n, err := c.w.(io.ReaderFrom).ReadFrom(src)
	c.written += n
	return n, err
}

func (c *core) push(target string, opts *http.PushOptions) error {
	return c.w.(http.Pusher).Push(target, opts)
}

// countingBody counts request body bytes when the request has no Content-Length.
type countingBody struct {
	rc io.ReadCloser
	n  int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.n += int64(n)
	return n, err
}

func (b *countingBody) Close() error { return b.rc.Close() }

// routeSetter is implemented by every wrapper type through the embedded *core.
type routeSetter interface{ setRoute(string) }

// SetRoute records route as the http_route of the request that w serves, for routers that the
// middleware cannot ask (it wins over every other source). It walks Unwrap() through other
// wrappers to find the middleware's writer, without allocating, and reports whether it found it.
func SetRoute(w http.ResponseWriter, route string) bool {
	for depth := 0; depth < 32 && w != nil; depth++ { // bounded: a wrapper may unwrap to itself
		switch x := w.(type) {
		case routeSetter:
			x.setRoute(route)
			return true
		case interface{ Unwrap() http.ResponseWriter }:
			w = x.Unwrap()
		default:
			return false
		}
	}
	return false
}
