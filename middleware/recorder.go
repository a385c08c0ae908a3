package middleware

import (
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/internal/instrument"
	"github.com/perfobs/perfobs-go/internal/recorder"
)

// Recorder is a validated set of options with its metrics registered: New's result. It is an
// Option standing for them, to pass alone to HTTP or Transport, which then cannot panic.
// Recorders built on the same registry share their series.
type Recorder struct {
	inst   // the Option that stands for cfg
	cfg    *instrument.Config
	server *serverMetrics
	client *clientMetrics
	pool   sync.Pool // *core
	// attrPool holds *spanAttrs, for tracing only.
	attrPool sync.Pool
	shards   recorder.ShardPicker
	epoch    time.Time // monotonic reference for since
}

// since reads the monotonic clock once: time.Since on a time with a monotonic reading costs one
// clock read, where time.Now costs two (wall and monotonic).
func (r *Recorder) since() time.Duration { return time.Since(r.epoch) }

// New validates opts and registers the metrics, for HTTP and Transport. It returns an error naming
// each invalid option, each option that applies only to gRPC, and any conflict with metrics already
// on the registry (other buckets, for example):
//
//	rec, err := middleware.New(opts...)
//	if err != nil { ... }
//	h := middleware.HTTP(mux, rec)
func New(opts ...Option) (*Recorder, error) {
	return build("middleware.New", instrument.HTTP, opts)
}

// recorderFor returns the Recorder that opts stand for: opts' only element when it is one,
// else a new one, which panics, naming fn, on invalid options.
func recorderFor(fn string, scope instrument.Scope, opts []Option) *Recorder {
	if len(opts) == 1 {
		if r, ok := opts[0].(*Recorder); ok && r != nil {
			return r
		}
	}
	r, err := build(fn, scope, opts)
	if err != nil {
		panic(fn + ": " + err.Error())
	}
	return r
}

func build(fn string, scope instrument.Scope, opts []Option) (*Recorder, error) {
	cfg, err := instrument.NewConfig(fn, scope, opts)
	if err != nil {
		return nil, err
	}
	overflow, err := instrument.NewOverflowCounter(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("registering %s: %w", catalog.LabelOverflow, err)
	}
	server, err := newServerMetrics(cfg, overflow)
	if err != nil {
		return nil, err
	}
	client, err := newClientMetrics(cfg, overflow)
	if err != nil {
		return nil, err
	}
	r := &Recorder{inst: instrument.Resolved("*middleware.Recorder", instrument.HTTP, cfg),
		cfg: cfg, server: server, client: client, epoch: time.Now()}
	r.pool.New = func() any { return &core{shard: r.shards.NextShard()} }
	return r, nil
}

// method indexes: the methods of RFC 9110 plus PATCH; anything else is _OTHER.
var methodNames = [...]string{"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", catalog.OtherValue}

const methodOther = uint8(len(methodNames) - 1)

func methodIndex(m string) uint8 {
	switch m {
	case "GET":
		return 0
	case "HEAD":
		return 1
	case "POST":
		return 2
	case "PUT":
		return 3
	case "DELETE":
		return 4
	case "CONNECT":
		return 5
	case "OPTIONS":
		return 6
	case "TRACE":
		return 7
	case "PATCH":
		return 8
	}
	return methodOther
}

// errKind is the source of error_type; the label value is derived from it and the status.
type errKind uint8

const (
	errNone      errKind = iota
	errStatus            // error_type is the status code (5xx on servers, 4xx and 5xx on clients)
	errPanic             // the handler panicked
	errAborted           // the handler aborted with http.ErrAbortHandler (or runtime.Goexit)
	errTransport         // client: the round trip failed; the kind is in the key's detail
)

// serverKey identifies one series of the server histograms.
type serverKey struct {
	route  string
	status uint16
	method uint8
	scheme uint8 // 0 http, 1 https
	err    errKind
}

var schemes = [2]string{"http", "https"}

func (k serverKey) labels() []string {
	status := ""
	if k.status != 0 {
		status = strconv.Itoa(int(k.status))
	}
	var errType string
	switch k.err {
	case errStatus:
		errType = status
	case errPanic:
		errType = catalog.ErrorPanic
	case errAborted:
		errType = catalog.ErrorAborted
	}
	// Order as catalog.HTTPServerLabels: method, route, status, scheme, error type.
	return []string{methodNames[k.method], k.route, status, schemes[k.scheme], errType}
}

// serverMetrics is one collector for every HTTP server metric, so that a second middleware on
// the same registry finds and shares it (routes cap included).
type serverMetrics struct {
	duration *recorder.HistogramVec[serverKey]
	sizes    bool // WithBodySizes; the size vecs always exist so that their Descs are always described
	reqSize  *recorder.HistogramVec[serverKey]
	respSize *recorder.HistogramVec[serverKey]
	active   *recorder.GaugeArray // index method*2+scheme
	routes   *instrument.LabelCap
}

func newServerMetrics(cfg *instrument.Config, overflow *prometheus.CounterVec) (*serverMetrics, error) {
	labels := catalog.HTTPServerLabels()
	m := &serverMetrics{
		routes: &instrument.LabelCap{Metric: catalog.HTTPServerDuration, Label: catalog.LabelRoute,
			Max: cfg.LabelCap, Overflow: overflow, Logger: cfg.Logger},
	}
	var err error
	m.duration, err = recorder.NewHistogramVec[serverKey](catalog.HTTPServerDuration,
		"Duration of HTTP server requests.", labels, recorder.Shape{Bounds: cfg.DurationBuckets, Scale: 1e-9, Native: cfg.NativeHistograms})
	if err != nil {
		return nil, err
	}
	// The size vecs exist even when body sizes are off: a registry then holds the same Descs
	// either way, and a second middleware with the other setting gets a clear conflict error.
	m.sizes = cfg.BodySizes
	size := recorder.Shape{Bounds: cfg.SizeBuckets, Scale: 1, Native: cfg.NativeHistograms}
	if m.reqSize, err = recorder.NewHistogramVec[serverKey](catalog.HTTPServerRequestSize,
		"Size of HTTP server request bodies.", labels, size); err != nil {
		return nil, err
	}
	if m.respSize, err = recorder.NewHistogramVec[serverKey](catalog.HTTPServerResponseSize,
		"Size of HTTP server response bodies.", labels, size); err != nil {
		return nil, err
	}
	var active [][]string
	for _, meth := range methodNames {
		for _, s := range schemes {
			active = append(active, []string{meth, s})
		}
	}
	m.active = recorder.NewGaugeArray(catalog.HTTPServerActive, "Number of HTTP server requests in flight.",
		[]string{catalog.LabelMethod, catalog.LabelScheme}, active)

	var got *serverMetrics
	if cfg.Classic {
		// The same series, exposed under promhttp's names: see classic.go.
		c, err := instrument.RegisterOrReuse(cfg.Registerer, newClassicServer(m))
		if err != nil {
			return nil, fmt.Errorf("registering HTTP server metrics (WithClassicNames): %w", err)
		}
		got = c.m
	} else if got, err = instrument.RegisterOrReuse(cfg.Registerer, m); err != nil {
		return nil, fmt.Errorf("registering HTTP server metrics: %w", err)
	}
	if got != m {
		if err := got.conflicts(m); err != nil {
			return nil, err
		}
	}
	return got, nil
}

// conflicts says how other differs from m, which is already registered.
func (m *serverMetrics) conflicts(other *serverMetrics) error {
	if b, o := m.duration.Shape().Bounds, other.duration.Shape().Bounds; !slices.Equal(b, o) {
		return fmt.Errorf("WithDurationBuckets: registry already has %s with buckets %v, not %v",
			catalog.HTTPServerDuration, b, o)
	}
	if m.duration.Shape().Native != other.duration.Shape().Native {
		return fmt.Errorf("WithNativeHistograms: registry already has %s with native histograms %s",
			catalog.HTTPServerDuration, map[bool]string{true: "on", false: "off"}[m.duration.Shape().Native])
	}
	if m.sizes != other.sizes {
		return fmt.Errorf("WithBodySizes: registry already has HTTP server metrics with body sizes %s",
			map[bool]string{true: "on", false: "off"}[m.sizes])
	}
	if m.sizes && !slices.Equal(m.reqSize.Shape().Bounds, other.reqSize.Shape().Bounds) {
		return fmt.Errorf("WithSizeBuckets: registry already has %s with buckets %v, not %v",
			catalog.HTTPServerRequestSize, m.reqSize.Shape().Bounds, other.reqSize.Shape().Bounds)
	}
	return nil
}

// Describe implements prometheus.Collector.
func (m *serverMetrics) Describe(ch chan<- *prometheus.Desc) {
	m.duration.Describe(ch)
	m.active.Describe(ch)
	m.reqSize.Describe(ch)
	m.respSize.Describe(ch)
}

// Collect implements prometheus.Collector.
func (m *serverMetrics) Collect(ch chan<- prometheus.Metric) {
	m.duration.Collect(ch)
	m.active.Collect(ch)
	if m.sizes {
		m.reqSize.Collect(ch)
		m.respSize.Collect(ch)
	}
}
