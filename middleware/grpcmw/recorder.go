package grpcmw

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/internal/instrument"
	"github.com/perfobs/perfobs-go/internal/recorder"
	"github.com/perfobs/perfobs-go/internal/tracing"
	"github.com/perfobs/perfobs-go/middleware"
)

// Recorder is a validated set of options with the gRPC metrics registered: New's result. It is a
// middleware.Option standing for them, to pass alone to this package's constructors, which then
// cannot panic. Recorders built on the same registry share their series.
type Recorder struct {
	inst   // the Option that stands for cfg
	cfg    *instrument.Config
	server *rpcMetrics
	client *rpcMetrics
	shards recorder.ShardPicker
	epoch  time.Time // the origin of clock
}

// inst makes Recorder a middleware.Option (its method is instrument's, so it is not documented).
type inst = instrument.Option

// New validates opts and registers the metrics. It returns an error naming each invalid option,
// each option that applies only to HTTP (WithServeMux, WithSkipPaths, WithBodySizes...), and any
// conflict with metrics already on the registry (other buckets, for example):
//
//	rec, err := grpcmw.New(opts...)
//	if err != nil { ... }
//	srv := grpc.NewServer(grpcmw.ServerOptions(rec)...)
func New(opts ...middleware.Option) (*Recorder, error) { return build("grpcmw.New", opts) }

func build(fn string, opts []middleware.Option) (*Recorder, error) {
	cfg, err := instrument.NewConfig(fn, instrument.GRPC, opts)
	if err != nil {
		return nil, err
	}
	overflow, err := instrument.NewOverflowCounter(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("registering %s: %w", catalog.LabelOverflow, err)
	}
	server, err := newRPCMetrics(cfg, overflow, serverNames)
	if err != nil {
		return nil, err
	}
	client, err := newRPCMetrics(cfg, overflow, clientNames)
	if err != nil {
		return nil, err
	}
	return &Recorder{inst: instrument.Resolved("*grpcmw.Recorder", instrument.GRPC, cfg),
		cfg: cfg, server: server, client: client, epoch: time.Now()}, nil
}

// clock returns the monotonic time since the Recorder was made. It reads one clock where
// time.Now reads two (wall and monotonic), and durations need only the monotonic one.
func (r *Recorder) clock() time.Duration { return time.Since(r.epoch) }

// recorderFor returns the Recorder that opts stand for: opts' only element when it is one, else
// a new one; it panics, naming the constructor fn, on invalid options.
func recorderFor(fn string, opts []middleware.Option) *Recorder {
	if len(opts) == 1 {
		if r, ok := opts[0].(*Recorder); ok && r != nil {
			return r
		}
	}
	r, err := build("grpcmw."+fn, opts)
	if err != nil {
		panic("grpcmw." + fn + ": " + err.Error())
	}
	return r
}

// ServerOptions returns the server interceptors and the server stats handler as
// grpc.ServerOptions, for grpc.NewServer(grpcmw.ServerOptions(opts...)...). Chain any recovery
// interceptor before them: see the package documentation. It panics only on invalid options.
func ServerOptions(opts ...middleware.Option) []grpc.ServerOption {
	r := recorderFor("ServerOptions", opts)
	return []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(r.unaryServer()),
		grpc.ChainStreamInterceptor(r.streamServer()),
		grpc.StatsHandler(r.serverStats()),
	}
}

// DialOptions returns the client interceptors and the client stats handler as grpc.DialOptions,
// for grpc.NewClient(target, grpcmw.DialOptions(opts...)...). It panics only on invalid options.
func DialOptions(opts ...middleware.Option) []grpc.DialOption {
	r := recorderFor("DialOptions", opts)
	return []grpc.DialOption{
		grpc.WithChainUnaryInterceptor(r.unaryClient()),
		grpc.WithChainStreamInterceptor(r.streamClient()),
		grpc.WithStatsHandler(r.clientStats()),
	}
}

// recorded reports whether calls of fullMethod ("/pkg.Service/Method") are recorded.
func (r *Recorder) recorded(fullMethod string) bool {
	return r.cfg.MethodFilter == nil || r.cfg.MethodFilter(fullMethod)
}

// NotHealthOrReflection reports whether fullMethod is neither a gRPC health-checking method
// (grpc.health.v1.Health) nor a server-reflection method (grpc.reflection.*). Pass it to
// middleware.WithMethodFilter to leave both out of every metric.
func NotHealthOrReflection(fullMethod string) bool {
	m := strings.TrimPrefix(fullMethod, "/")
	return !strings.HasPrefix(m, "grpc.health.v1.Health/") && !strings.HasPrefix(m, "grpc.reflection.")
}

// methodLabel returns the rpc_method value of a full method name: "/pkg.Service/Method" gives
// "pkg.Service/Method". It does not allocate.
func methodLabel(fullMethod string) string {
	if len(fullMethod) > 0 && fullMethod[0] == '/' {
		return fullMethod[1:]
	}
	return fullMethod
}

// codeOther stands for status codes outside the 17 that gRPC defines.
const codeOther = uint8(17)

// codeNames are the canonical names of gRPC status codes, as the gRPC specification spells them
// (and as the semantic conventions' rpc.response.status_code takes them), indexed by code.
var codeNames = [...]string{
	"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
	"ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
	"OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
	catalog.OtherValue,
}

// CodeName returns the canonical name of a gRPC status code ("OK", "NOT_FOUND", "CANCELLED"...),
// the value of rpc_response_status_code; codes that gRPC does not define give "_OTHER".
func CodeName(c codes.Code) string { return codeNames[codeIndex(c)] }

func codeIndex(c codes.Code) uint8 {
	if c > codes.Unauthenticated {
		return codeOther
	}
	return uint8(c)
}

// codeOf returns the status code of a call's error as the peer sees it: gRPC's status for status
// errors (wrapped ones included), CANCELLED and DEADLINE_EXCEEDED for context errors, UNKNOWN
// for any other error, the same conversion the gRPC server applies to a handler's error.
func codeOf(err error) codes.Code {
	if err == nil {
		return codes.OK
	}
	if s, ok := status.FromError(err); ok {
		return s.Code()
	}
	return status.FromContextError(err).Code()
}

// serverError reports whether a server that answered with code failed, following the semantic
// conventions for gRPC servers: UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE,
// DATA_LOSS and codes outside the specification are errors; the others (NOT_FOUND,
// INVALID_ARGUMENT, CANCELLED...) describe the request, not the server, as 4xx do in HTTP.
func serverError(code uint8) bool {
	switch codes.Code(code) {
	case codes.Unknown, codes.DeadlineExceeded, codes.Unimplemented, codes.Internal, codes.Unavailable, codes.DataLoss:
		return true
	}
	return code == codeOther
}

// errKind is the source of error_type.
type errKind uint8

const (
	errNone  errKind = iota
	errCode          // error_type is the status code's name
	errPanic         // the handler panicked: error_type "panic"
)

// rpcKey identifies one series of the duration and messages-per-RPC histograms.
type rpcKey struct {
	method string // rpc_method, already capped
	code   uint8  // codeIndex
	err    errKind
	typ    callType // set in classic mode only, for grpc_type
}

// callType is go-grpc-middleware's grpc_type, recorded in classic mode (WithClassicNames) only.
type callType uint8

const (
	untyped callType = iota
	unary
	clientStreaming
	serverStream
	bidiStream
)

var callTypes = [...]string{"", "unary", "client_stream", "server_stream", "bidi_stream"}

// streamType is the callType of a stream.
func streamType(client, server bool) callType {
	switch {
	case client && server:
		return bidiStream
	case client:
		return clientStreaming
	case server:
		return serverStream
	}
	return unary
}

// typ returns t in classic mode, where grpc_type is a label, else untyped.
func (r *Recorder) typ(t callType) callType {
	if r.cfg.Classic {
		return t
	}
	return untyped
}

func (k rpcKey) labels() []string {
	var errType string
	switch k.err {
	case errCode:
		errType = codeNames[k.code]
	case errPanic:
		errType = catalog.ErrorPanic
	}
	// Order as catalog.RPCLabels: system, method, status, error type (then grpc_type in classic
	// mode, for classic.go).
	if k.typ != untyped {
		return []string{catalog.RPCSystemGRPC, k.method, codeNames[k.code], errType, callTypes[k.typ]}
	}
	return []string{catalog.RPCSystemGRPC, k.method, codeNames[k.code], errType}
}

// sizeKey identifies one series of the message-size histograms: the rpc_method value.
type sizeKey string

func (k sizeKey) labels() []string { return []string{catalog.RPCSystemGRPC, string(k)} }

// sideNames are the metric names and help strings of one side, server or client.
type sideNames struct {
	side                                    string
	duration, reqSize, respSize, reqs, resp string
}

var (
	serverNames = sideNames{"server", catalog.RPCServerDuration, catalog.RPCServerRequestSize,
		catalog.RPCServerResponseSize, catalog.RPCServerRequestsPerRPC, catalog.RPCServerResponsesPerRPC}
	clientNames = sideNames{"client", catalog.RPCClientDuration, catalog.RPCClientRequestSize,
		catalog.RPCClientResponseSize, catalog.RPCClientRequestsPerRPC, catalog.RPCClientResponsesPerRPC}
)

// help returns the help string of metric name from the catalogue.
func help(name string) string {
	for _, m := range catalog.Metrics() {
		if m.Name == name {
			return m.Help
		}
	}
	return name
}

// rpcMetrics is one collector for every metric of one side, so that a second Recorder on the same
// registry finds and shares it (the rpc_method cap included).
type rpcMetrics struct {
	duration *recorder.HistogramVec[rpcKey]
	reqSize  *recorder.HistogramVec[sizeKey]
	respSize *recorder.HistogramVec[sizeKey]
	reqs     *recorder.HistogramVec[rpcKey]
	resps    *recorder.HistogramVec[rpcKey]
	methods  *instrument.LabelCap
}

func newRPCMetrics(cfg *instrument.Config, overflow *prometheus.CounterVec, n sideNames) (*rpcMetrics, error) {
	m := &rpcMetrics{methods: &instrument.LabelCap{Metric: n.duration, Label: catalog.LabelRPCMethod,
		Max: cfg.LabelCap, Overflow: overflow, Logger: cfg.Logger}}
	labels, sizeLabels := catalog.RPCLabels(), catalog.RPCSizeLabels()
	native := cfg.NativeHistograms
	dur := recorder.Shape{Bounds: cfg.DurationBuckets, Scale: 1e-9, Native: native}
	size := recorder.Shape{Bounds: cfg.MessageSizeBuckets, Scale: 1, Native: native}
	count := recorder.Shape{Bounds: catalog.DefaultMessageCountBuckets(), Scale: 1, Native: native}
	var err error
	durLabels := labels
	if cfg.Classic {
		durLabels = append(catalog.RPCLabels(), catalog.ClassicLabelGRPCType)
	}
	if m.duration, err = recorder.NewHistogramVec[rpcKey](n.duration, help(n.duration), durLabels, dur); err != nil {
		return nil, err
	}
	if m.reqSize, err = recorder.NewHistogramVec[sizeKey](n.reqSize, help(n.reqSize), sizeLabels, size); err != nil {
		return nil, err
	}
	if m.respSize, err = recorder.NewHistogramVec[sizeKey](n.respSize, help(n.respSize), sizeLabels, size); err != nil {
		return nil, err
	}
	if m.reqs, err = recorder.NewHistogramVec[rpcKey](n.reqs, help(n.reqs), labels, count); err != nil {
		return nil, err
	}
	if m.resps, err = recorder.NewHistogramVec[rpcKey](n.resp, help(n.resp), labels, count); err != nil {
		return nil, err
	}
	var got *rpcMetrics
	if cfg.Classic {
		// The durations under go-grpc-middleware's names (classic.go); the stats handlers'
		// histograms keep theirs (go-grpc-middleware has none).
		c, err := instrument.RegisterOrReuse(cfg.Registerer, newClassicRPC(m, n.side))
		if err != nil {
			return nil, fmt.Errorf("registering gRPC %s metrics (WithClassicNames): %w", n.side, err)
		}
		got = c.m
	} else if got, err = instrument.RegisterOrReuse(cfg.Registerer, m); err != nil {
		return nil, fmt.Errorf("registering gRPC %s metrics: %w", n.side, err)
	}
	if got != m {
		if b, o := got.duration.Shape().Bounds, m.duration.Shape().Bounds; !slices.Equal(b, o) {
			return nil, fmt.Errorf("WithDurationBuckets: registry already has %s with buckets %v, not %v", n.duration, b, o)
		}
		if b, o := got.reqSize.Shape().Bounds, m.reqSize.Shape().Bounds; !slices.Equal(b, o) {
			return nil, fmt.Errorf("WithMessageSizeBuckets: registry already has %s with buckets %v, not %v", n.reqSize, b, o)
		}
		if got.duration.Shape().Native != native {
			return nil, fmt.Errorf("WithNativeHistograms: registry already has %s with native histograms %s",
				n.duration, onOff(got.duration.Shape().Native))
		}
	}
	return got, nil
}

// onOff spells a setting in an error message.
func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// Describe implements prometheus.Collector.
func (m *rpcMetrics) Describe(ch chan<- *prometheus.Desc) {
	m.duration.Describe(ch)
	m.reqSize.Describe(ch)
	m.respSize.Describe(ch)
	m.reqs.Describe(ch)
	m.resps.Describe(ch)
}

// Collect implements prometheus.Collector.
func (m *rpcMetrics) Collect(ch chan<- prometheus.Metric) {
	m.duration.Collect(ch)
	m.reqSize.Collect(ch)
	m.respSize.Collect(ch)
	m.reqs.Collect(ch)
	m.resps.Collect(ch)
}

// series returns the series of key in vec, capping the method on creation.
func (m *rpcMetrics) series(vec *recorder.HistogramVec[rpcKey], key rpcKey) *recorder.Histogram {
	if h := vec.Get(key); h != nil {
		return h
	}
	key.method = m.admit(key.method)
	return vec.GetOrCreate(key, key.labels)
}

// admit returns the rpc_method value for a method seen for the first time: the method when the
// cap has room, else catalog.OtherValue. A method marked unknown (catalog.OtherValue) is one
// fixed value and takes no room; a method that is not valid UTF-8 (a client can put any bytes in
// the HTTP/2 path) would make the exposition fail, so it becomes catalog.OtherValue too.
func (m *rpcMetrics) admit(method string) string {
	if method == catalog.OtherValue || !utf8.ValidString(method) {
		return catalog.OtherValue
	}
	return m.methods.Admit(method)
}

// record observes one finished call of duration d (nanoseconds) with code and kind. When span is
// sampled, its trace and span ids become the exemplar of the observation's bucket, stamped with
// the time epoch+end.
func (m *rpcMetrics) record(method string, typ callType, code codes.Code, kind errKind, shard int, d int64, span trace.Span, epoch time.Time, end time.Duration) {
	key := rpcKey{method: method, code: codeIndex(code), err: kind, typ: typ}
	h := m.series(m.duration, key)
	if span != nil {
		if tid, sid, ok := tracing.ExemplarIDs(span); ok {
			m.duration.ObserveWithExemplar(h, shard, d, tid, sid, epoch.Add(end))
			return
		}
	}
	m.duration.Observe(h, shard, d)
}
