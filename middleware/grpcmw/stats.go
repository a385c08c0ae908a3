package grpcmw

import (
	"context"
	"sync/atomic"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/stats"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/internal/recorder"
	"github.com/perfobs/perfobs-go/middleware"
)

// ServerStatsHandler returns a stats.Handler that records, for the calls a server receives, the
// uncompressed size of each request and response message (rpc_server_request_size_bytes,
// rpc_server_response_size_bytes, labelled by system and method, since a message is recorded as
// it passes, before the call has a status) and, when a call ends, how many messages went each
// way (rpc_server_requests_per_rpc, rpc_server_responses_per_rpc, labelled like the duration).
// gRPC already knows each message's size, so nothing is measured twice. Durations come from the
// interceptors, not from the handler.
//
// Calls to an UnknownServiceHandler are recorded with rpc_method "_OTHER" when the
// StreamServerInterceptor of this package is installed too (it tells the handler); without it,
// the method names of such calls are bounded only by WithLabelCap. It panics only on invalid
// options.
func ServerStatsHandler(opts ...middleware.Option) stats.Handler {
	return recorderFor("ServerStatsHandler", opts).serverStats()
}

func (r *Recorder) serverStats() stats.Handler { return &statsHandler{rec: r, m: r.server} }

// ClientStatsHandler returns a stats.Handler that records, for the calls a client makes, the
// uncompressed size of each request and response message (rpc_client_request_size_bytes,
// rpc_client_response_size_bytes) and the number of messages per call
// (rpc_client_requests_per_rpc, rpc_client_responses_per_rpc), as ServerStatsHandler does on the
// server. gRPC reports each attempt of a retried call separately; each is recorded. It panics only
// on invalid options.
func ClientStatsHandler(opts ...middleware.Option) stats.Handler {
	return recorderFor("ClientStatsHandler", opts).clientStats()
}

func (r *Recorder) clientStats() stats.Handler {
	return &statsHandler{rec: r, m: r.client, client: true}
}

// statsHandler implements stats.Handler for one side.
type statsHandler struct {
	rec    *Recorder
	m      *rpcMetrics
	client bool
}

// statsKey finds a call's rpcStats in its context.
type statsKey struct{}

// rpcStats is the per-call state of a statsHandler. It is the context that TagRPC returns, so the
// call costs one allocation and no context.WithValue node.
type rpcStats struct {
	context.Context
	h       *statsHandler
	method  string // rpc_method before capping
	shard   int
	unknown atomic.Bool // set by StreamServerInterceptor for calls to an UnknownServiceHandler
	in, out atomic.Int64
	// inSize and outSize cache the size series of each direction.
	inSize, outSize atomic.Pointer[recorder.Histogram]
}

// Value implements context.Context.
func (s *rpcStats) Value(key any) any {
	if key == (statsKey{}) {
		return s
	}
	return s.Context.Value(key)
}

// String names the context for fmt, like the context package's own contexts.
func (s *rpcStats) String() string { return "grpcmw.rpcStats" }

func statsFrom(ctx context.Context) *rpcStats {
	if s, ok := ctx.(*rpcStats); ok {
		return s
	}
	s, _ := ctx.Value(statsKey{}).(*rpcStats)
	return s
}

// markUnknown tells the call's stats handler, if any, that the call went to an
// UnknownServiceHandler.
func markUnknown(ctx context.Context) {
	if s := statsFrom(ctx); s != nil {
		s.unknown.Store(true)
	}
}

// TagRPC implements stats.Handler: it attaches the call's state to its context.
func (h *statsHandler) TagRPC(ctx context.Context, info *stats.RPCTagInfo) context.Context {
	if !h.rec.recorded(info.FullMethodName) {
		return ctx
	}
	return &rpcStats{Context: ctx, h: h, method: methodLabel(info.FullMethodName), shard: h.rec.shards.NextShard()}
}

// HandleRPC implements stats.Handler: it records message sizes as messages pass and message
// counts when the call ends.
func (h *statsHandler) HandleRPC(ctx context.Context, rs stats.RPCStats) {
	s := statsFrom(ctx)
	if s == nil || s.h != h {
		return
	}
	switch rs := rs.(type) {
	case *stats.InPayload:
		s.in.Add(1)
		vec := h.m.reqSize // a server receives requests, a client responses
		if h.client {
			vec = h.m.respSize
		}
		h.m.observeSize(vec, &s.inSize, s, int64(rs.Length))
	case *stats.OutPayload:
		s.out.Add(1)
		vec := h.m.respSize
		if h.client {
			vec = h.m.reqSize
		}
		h.m.observeSize(vec, &s.outSize, s, int64(rs.Length))
	case *stats.End:
		code := codeOf(rs.Error)
		kind := errNone
		if code != codes.OK && (h.client || serverError(codeIndex(code))) {
			kind = errCode
		}
		key := rpcKey{method: s.methodLabel(), code: codeIndex(code), err: kind}
		reqs, resps := s.in.Load(), s.out.Load()
		if h.client {
			reqs, resps = resps, reqs
		}
		h.m.reqs.Observe(h.m.series(h.m.reqs, key), s.shard, reqs)
		h.m.resps.Observe(h.m.series(h.m.resps, key), s.shard, resps)
	}
}

// methodLabel is the call's rpc_method before capping.
func (s *rpcStats) methodLabel() string {
	if s.unknown.Load() {
		return catalog.OtherValue
	}
	return s.method
}

// observeSize records one message of size n in vec, finding the series once per call and
// direction.
func (m *rpcMetrics) observeSize(vec *recorder.HistogramVec[sizeKey], cache *atomic.Pointer[recorder.Histogram], s *rpcStats, n int64) {
	hist := cache.Load()
	if hist == nil {
		method := s.methodLabel()
		if hist = vec.Get(sizeKey(method)); hist == nil {
			k := sizeKey(m.admit(method))
			hist = vec.GetOrCreate(k, k.labels)
		}
		cache.Store(hist)
	}
	vec.Observe(hist, s.shard, n)
}

// TagConn implements stats.Handler; connections are not recorded.
func (h *statsHandler) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }

// HandleConn implements stats.Handler; connections are not recorded.
func (h *statsHandler) HandleConn(context.Context, stats.ConnStats) {}
