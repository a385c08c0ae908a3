package grpcmw_test

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	otelcodes "go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/internal/testkit/oteltest"
	"github.com/perfobs/perfobs-go/middleware"
	"github.com/perfobs/perfobs-go/middleware/grpcmw"
)

func spanAttrs(s sdktrace.ReadOnlySpan) map[attribute.Key]string {
	out := map[attribute.Key]string{}
	for _, kv := range s.Attributes() {
		out[kv.Key] = kv.Value.String()
	}
	return out
}

// waitSpans polls until sr holds n ended spans (servers end theirs after the client has its
// answer) and returns them.
func waitSpans(t *testing.T, sr *tracetest.SpanRecorder, n int) []sdktrace.ReadOnlySpan {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s := sr.Ended()
		if len(s) >= n || time.Now().After(deadline) {
			if len(s) != n {
				t.Fatalf("%d spans ended, want %d", len(s), n)
			}
			return s
		}
		time.Sleep(time.Millisecond)
	}
}

// byKind returns the server and the client span of spans.
func byKind(t *testing.T, spans []sdktrace.ReadOnlySpan) (server, client sdktrace.ReadOnlySpan) {
	t.Helper()
	for _, s := range spans {
		switch s.SpanKind() {
		case trace.SpanKindServer:
			server = s
		case trace.SpanKindClient:
			client = s
		}
	}
	if server == nil || client == nil {
		t.Fatalf("want a server and a client span among %d", len(spans))
	}
	return server, client
}

// handlerView is what the handlers saw of their context, captured by an interceptor chained
// inside perfobs's.
type handlerView struct {
	mu      sync.Mutex
	span    trace.SpanContext
	tenant  string   // the baggage member "tenant"
	md      []string // the incoming metadata's traceparent and x-call-id
	streams bool     // whether the last call was a stream
}

func (v *handlerView) see(ctx context.Context, stream bool) {
	md, _ := metadata.FromIncomingContext(ctx)
	v.mu.Lock()
	defer v.mu.Unlock()
	v.span = trace.SpanContextFromContext(ctx)
	v.tenant = baggage.FromContext(ctx).Member("tenant").Value()
	v.md = append(md.Get("traceparent"), md.Get("x-call-id")...)
	v.streams = stream
}

func (v *handlerView) options() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			v.see(ctx, false)
			return h(ctx, req)
		}),
		grpc.ChainStreamInterceptor(func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			v.see(ss.Context(), true)
			return h(srv, ss)
		}),
	}
}

// TestSpansAcrossTheWire: over TCP and bufconn, the client interceptors start client spans whose
// W3C trace context and baggage travel in the metadata to the server spans, which are their
// children; spans are named "pkg.Service/Method", carry the semconv rpc attributes, and fail as
// the metrics' error_type says (a client on every status but OK, a server on server faults and
// panics). The caller's outgoing metadata is left as it was.
func TestSpansAcrossTheWire(t *testing.T) {
	type want struct {
		method         string
		code           string // rpc.response.status_code on both sides
		client, server string // error.type, "" for none (the span status is then Unset)
		stream         bool
	}
	unary := func(cmd string, code codes.Code) func(context.Context, testpb.TestServiceClient) error {
		return func(ctx context.Context, c testpb.TestServiceClient) error {
			req := &testpb.SimpleRequest{Payload: &testpb.Payload{Body: []byte(cmd)}}
			if code != codes.OK {
				req.ResponseStatus = &testpb.EchoStatus{Code: int32(code)}
			}
			_, err := c.UnaryCall(ctx, req)
			return err
		}
	}
	tests := []struct {
		name string
		call func(context.Context, testpb.TestServiceClient) error
		want want
	}{
		{"unary OK", unary("", codes.OK), want{methodUnary, "OK", "", "", false}},
		{"unary NOT_FOUND fails the client span only", unary("", codes.NotFound),
			want{methodUnary, "NOT_FOUND", "NOT_FOUND", "", false}},
		{"unary UNAVAILABLE fails both", unary("", codes.Unavailable),
			want{methodUnary, "UNAVAILABLE", "UNAVAILABLE", "UNAVAILABLE", false}},
		{"unary panic", unary(cmdPanic, codes.OK), want{methodUnary, "INTERNAL", "INTERNAL", catalog.ErrorPanic, false}},
		{"server streaming OK", func(ctx context.Context, c testpb.TestServiceClient) error {
			st, err := c.StreamingOutputCall(ctx, &testpb.StreamingOutputCallRequest{ResponseParameters: []*testpb.ResponseParameters{{Size: 3}, {Size: 4}}})
			if err != nil {
				return err
			}
			for {
				if _, err := st.Recv(); err != nil {
					if err == io.EOF {
						return nil
					}
					return err
				}
			}
		}, want{methodOutput, "OK", "", "", true}},
		{"client streaming OK", func(ctx context.Context, c testpb.TestServiceClient) error {
			st, err := c.StreamingInputCall(ctx)
			if err != nil {
				return err
			}
			if err := st.Send(&testpb.StreamingInputCallRequest{Payload: &testpb.Payload{Body: []byte("ab")}}); err != nil {
				return err
			}
			_, err = st.CloseAndRecv()
			return err
		}, want{methodInput, "OK", "", "", true}},
		{"bidi stream cancelled by the client", func(ctx context.Context, c testpb.TestServiceClient) error {
			ctx, cancel := context.WithCancel(ctx)
			st, err := c.FullDuplexCall(ctx)
			if err != nil {
				cancel()
				return err
			}
			if err := st.Send(&testpb.StreamingOutputCallRequest{ResponseParameters: []*testpb.ResponseParameters{{Size: 1}}}); err != nil {
				cancel()
				return err
			}
			if _, err := st.Recv(); err != nil {
				cancel()
				return err
			}
			cancel()
			return status.Error(codes.Canceled, "cancelled by the test") // what the client meant
		}, want{methodDuplex, "CANCELLED", "CANCELLED", "", true}},
	}
	for _, nw := range networks {
		t.Run(string(nw), func(t *testing.T) {
			tp, sr := oteltest.New(t)
			var view handlerView
			e := start(t, nw, setup{opts: []middleware.Option{middleware.WithTracerProvider(tp)},
				serverOpts: []grpc.ServerOption{grpc.ChainUnaryInterceptor(recoverUnary)}, innerOpts: view.options()})
			member, _ := baggage.NewMember("tenant", "acme")
			bag, _ := baggage.New(member)
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					sr.Reset()
					md := metadata.Pairs("x-call-id", "42")
					ctx := metadata.NewOutgoingContext(baggage.ContextWithBaggage(context.Background(), bag), md)
					err := tt.call(ctx, e.client)
					if got := status.Code(err).String(); codeName(status.Code(err)) != tt.want.code {
						t.Fatalf("call returned %v (%s), want %s", err, got, tt.want.code)
					}
					if len(md) != 1 || md.Get("x-call-id")[0] != "42" {
						t.Errorf("the caller's outgoing metadata changed: %v", md)
					}
					server, client := byKind(t, waitSpans(t, sr, 2))
					for _, c := range []struct {
						side    string
						s       sdktrace.ReadOnlySpan
						errType string
					}{{"client", client, tt.want.client}, {"server", server, tt.want.server}} {
						if c.s.Name() != tt.want.method {
							t.Errorf("%s span named %q, want %q", c.side, c.s.Name(), tt.want.method)
						}
						a := spanAttrs(c.s)
						for k, v := range map[attribute.Key]string{"rpc.system.name": "grpc", "rpc.method": tt.want.method,
							"rpc.response.status_code": tt.want.code, "error.type": c.errType} {
							if a[k] != v {
								t.Errorf("%s span: %s = %q, want %q (all: %v)", c.side, k, a[k], v, a)
							}
						}
						wantStatus := otelcodes.Unset
						if c.errType != "" {
							wantStatus = otelcodes.Error
						}
						if c.s.Status().Code != wantStatus {
							t.Errorf("%s span status %v, want %v", c.side, c.s.Status(), wantStatus)
						}
					}
					if server.Parent().SpanID() != client.SpanContext().SpanID() || !server.Parent().IsRemote() ||
						server.SpanContext().TraceID() != client.SpanContext().TraceID() {
						t.Errorf("server span's parent %v (remote %v), want the client span %v",
							server.Parent().SpanID(), server.Parent().IsRemote(), client.SpanContext().SpanID())
					}
					if client.Parent().IsValid() {
						t.Errorf("client span has parent %v, want a root", client.Parent())
					}
					view.mu.Lock()
					defer view.mu.Unlock()
					if view.span.SpanID() != server.SpanContext().SpanID() || view.streams != tt.want.stream {
						t.Errorf("handler saw span %v (stream %v), want the server span %v (stream %v)",
							view.span.SpanID(), view.streams, server.SpanContext().SpanID(), tt.want.stream)
					}
					if view.tenant != "acme" {
						t.Errorf("handler saw baggage tenant %q, want acme", view.tenant)
					}
					wantTP := "00-" + client.SpanContext().TraceID().String() + "-" + client.SpanContext().SpanID().String() + "-01"
					if len(view.md) != 2 || view.md[0] != wantTP || view.md[1] != "42" {
						t.Errorf("server metadata traceparent, x-call-id = %q, want [%s 42]", view.md, wantTP)
					}
				})
			}
		})
	}
}

// codeName is grpcmw.CodeName, shorter.
func codeName(c codes.Code) string { return grpcmw.CodeName(c) }

// TestSpansInProcess calls the interceptors directly: panics, unknown services, filtered
// methods, stream wrapping and the client stream's terminal events.
func TestSpansInProcess(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("boom")
	streamInfo := &grpc.StreamServerInfo{FullMethod: "/pkg.Svc/Watch", IsServerStream: true}
	tests := []struct {
		name    string
		opts    []middleware.Option
		run     func(t *testing.T, rec *grpcmw.Recorder)
		spans   int
		span    string // name of the first span, when spans > 0
		kind    trace.SpanKind
		attrs   map[attribute.Key]string
		failed  bool
		events  int // exception events
		noAttrs []attribute.Key
	}{
		{name: "unary panic", spans: 1, span: "pkg.Svc/Get", kind: trace.SpanKindServer, failed: true,
			attrs: map[attribute.Key]string{"error.type": "panic", "rpc.response.status_code": "INTERNAL"},
			run: func(t *testing.T, rec *grpcmw.Recorder) {
				if p := catch(func() {
					grpcmw.UnaryServerInterceptor(rec)(ctx, nil, unaryInfo, func(context.Context, any) (any, error) { panic(boom) })
				}); p != boom {
					t.Errorf("panic %v, want the handler's", p)
				}
			}},
		{name: "stream panic", spans: 1, span: "pkg.Svc/Watch", kind: trace.SpanKindServer, failed: true,
			attrs: map[attribute.Key]string{"error.type": "panic", "rpc.response.status_code": "INTERNAL"},
			run: func(t *testing.T, rec *grpcmw.Recorder) {
				if p := catch(func() {
					grpcmw.StreamServerInterceptor(rec)(struct{}{}, fakeServerStream{}, streamInfo, func(any, grpc.ServerStream) error { panic(boom) })
				}); p != boom {
					t.Errorf("panic %v, want the handler's", p)
				}
			}},
		{name: "server fault records the error", spans: 1, span: "pkg.Svc/Get", kind: trace.SpanKindServer, failed: true, events: 1,
			attrs: map[attribute.Key]string{"error.type": "UNKNOWN", "rpc.response.status_code": "UNKNOWN"},
			run: func(t *testing.T, rec *grpcmw.Recorder) {
				grpcmw.UnaryServerInterceptor(rec)(ctx, nil, unaryInfo, func(context.Context, any) (any, error) { return nil, boom })
			}},
		{name: "unknown service: a fixed span name, the method in rpc.method_original", spans: 1, span: "grpc", kind: trace.SpanKindServer,
			attrs:   map[attribute.Key]string{"rpc.method": "_OTHER", "rpc.method_original": "any.Thing/AtAll", "rpc.system.name": "grpc"},
			noAttrs: []attribute.Key{"error.type"},
			run: func(t *testing.T, rec *grpcmw.Recorder) {
				grpcmw.StreamServerInterceptor(rec)(nil, fakeServerStream{}, &grpc.StreamServerInfo{FullMethod: "/any.Thing/AtAll"},
					func(any, grpc.ServerStream) error { return nil })
			}},
		{name: "filtered methods are not traced", spans: 0, opts: []middleware.Option{middleware.WithMethodFilter(grpcmw.NotHealthOrReflection)},
			run: func(t *testing.T, rec *grpcmw.Recorder) {
				info := &grpc.UnaryServerInfo{FullMethod: "/grpc.health.v1.Health/Check"}
				grpcmw.UnaryServerInterceptor(rec)(ctx, nil, info, func(ctx context.Context, _ any) (any, error) {
					if trace.SpanContextFromContext(ctx).IsValid() {
						t.Error("filtered call has a span")
					}
					return nil, nil
				})
				invoker := func(ctx context.Context, _ string, _, _ any, _ *grpc.ClientConn, _ ...grpc.CallOption) error {
					if md, ok := metadata.FromOutgoingContext(ctx); ok {
						t.Errorf("filtered client call sends metadata %v", md)
					}
					return nil
				}
				grpcmw.UnaryClientInterceptor(rec)(ctx, "/grpc.health.v1.Health/Check", nil, nil, nil, invoker)
			}},
		{name: "traced server stream is wrapped with the span's context", spans: 1, span: "pkg.Svc/Watch", kind: trace.SpanKindServer,
			attrs: map[attribute.Key]string{"rpc.response.status_code": "OK"},
			run: func(t *testing.T, rec *grpcmw.Recorder) {
				grpcmw.StreamServerInterceptor(rec)(struct{}{}, fakeServerStream{}, streamInfo, func(_ any, ss grpc.ServerStream) error {
					if _, same := ss.(fakeServerStream); same || !trace.SpanContextFromContext(ss.Context()).IsValid() {
						t.Error("the handler's stream has no span in its context")
					}
					return nil
				})
			}},
		{name: "client stream ended by its context", spans: 1, span: "pkg.Svc/Chat", kind: trace.SpanKindClient, failed: true, events: 1,
			attrs: map[attribute.Key]string{"error.type": "DEADLINE_EXCEEDED", "rpc.response.status_code": "DEADLINE_EXCEEDED"},
			run: func(t *testing.T, rec *grpcmw.Recorder) {
				cctx, cancel := context.WithTimeout(ctx, time.Millisecond)
				defer cancel()
				var sent metadata.MD
				_, err := grpcmw.StreamClientInterceptor(rec)(cctx, &grpc.StreamDesc{ServerStreams: true}, nil, "/pkg.Svc/Chat",
					func(ctx context.Context, _ *grpc.StreamDesc, _ *grpc.ClientConn, _ string, _ ...grpc.CallOption) (grpc.ClientStream, error) {
						sent, _ = metadata.FromOutgoingContext(ctx)
						return &fakeClientStream{ctx: ctx}, nil
					})
				if err != nil || len(sent.Get("traceparent")) != 1 {
					t.Errorf("err %v, outgoing metadata %v: want a traceparent", err, sent)
				}
				<-cctx.Done()
			}},
		{name: "client stream that fails to open", spans: 1, span: "pkg.Svc/Chat", kind: trace.SpanKindClient, failed: true, events: 1,
			attrs: map[attribute.Key]string{"error.type": "UNAVAILABLE", "rpc.response.status_code": "UNAVAILABLE"},
			run: func(t *testing.T, rec *grpcmw.Recorder) {
				grpcmw.StreamClientInterceptor(rec)(ctx, &grpc.StreamDesc{ServerStreams: true}, nil, "/pkg.Svc/Chat",
					func(context.Context, *grpc.StreamDesc, *grpc.ClientConn, string, ...grpc.CallOption) (grpc.ClientStream, error) {
						return nil, status.Error(codes.Unavailable, "no backend")
					})
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp, sr := oteltest.New(t)
			rec, err := grpcmw.New(append([]middleware.Option{middleware.WithRegisterer(prometheus.NewRegistry()),
				middleware.WithTracerProvider(tp)}, tt.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			tt.run(t, rec)
			spans := waitSpans(t, sr, tt.spans)
			if tt.spans == 0 {
				return
			}
			s := spans[0]
			if s.Name() != tt.span || s.SpanKind() != tt.kind {
				t.Errorf("span %q kind %v, want %q %v", s.Name(), s.SpanKind(), tt.span, tt.kind)
			}
			a := spanAttrs(s)
			for k, v := range tt.attrs {
				if a[k] != v {
					t.Errorf("%s = %q, want %q (all: %v)", k, a[k], v, a)
				}
			}
			for _, k := range tt.noAttrs {
				if _, ok := a[k]; ok {
					t.Errorf("%s set: %v", k, a)
				}
			}
			if failed := s.Status().Code == otelcodes.Error; failed != tt.failed {
				t.Errorf("status %v, want failed %v", s.Status(), tt.failed)
			}
			if len(s.Events()) != tt.events {
				t.Errorf("%d events, want %d", len(s.Events()), tt.events)
			}
		})
	}
}

// TestStreamsUnwrappedWithoutTracing: with tracing off, the server handler gets the stream
// it was given.
func TestStreamsUnwrappedWithoutTracing(t *testing.T) {
	rec, err := grpcmw.New(middleware.WithRegisterer(prometheus.NewRegistry()))
	if err != nil {
		t.Fatal(err)
	}
	in := &struct{ fakeServerStream }{}
	grpcmw.StreamServerInterceptor(rec)(struct{}{}, in, &grpc.StreamServerInfo{FullMethod: "/pkg.Svc/Watch"},
		func(_ any, ss grpc.ServerStream) error {
			if ss != grpc.ServerStream(in) {
				t.Errorf("handler got %T, want the server's stream", ss)
			}
			return nil
		})
}

// exemplarIDs returns the trace and span ids of the exemplars on histogram family name.
func exemplarIDs(t *testing.T, g prometheus.Gatherer, name string) (traces, spans []string) {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, b := range m.GetHistogram().GetBucket() {
				for _, l := range b.GetExemplar().GetLabel() {
					switch l.GetName() {
					case "trace_id":
						traces = append(traces, l.GetValue())
					case "span_id":
						spans = append(spans, l.GetValue())
					}
				}
			}
		}
	}
	return traces, spans
}

// TestExemplarsFromSampledCalls: over bufconn, a call whose caller did not sample leaves no
// exemplar and no span; a sampled call leaves its trace id on its bucket of both duration
// histograms, the server's span id on the server's and the client's on the client's, and the
// OpenMetrics exposition shows them.
func TestExemplarsFromSampledCalls(t *testing.T) {
	tp, sr := oteltest.New(t)
	e := start(t, networks[1], setup{opts: []middleware.Option{middleware.WithTracerProvider(tp)}})

	unsampled := trace.ContextWithRemoteSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1, 2, 3}, SpanID: trace.SpanID{4, 5, 6}, Remote: true}))
	if _, err := e.client.EmptyCall(unsampled, &testpb.Empty{}); err != nil {
		t.Fatal(err)
	}
	waitTotal(t, e.reg, catalog.RPCServerDuration, 1)
	for _, name := range []string{catalog.RPCServerDuration, catalog.RPCClientDuration} {
		if ids, _ := exemplarIDs(t, e.reg, name); len(ids) != 0 {
			t.Errorf("%s: unsampled call left exemplars %v", name, ids)
		}
	}
	if n := len(sr.Ended()); n != 0 {
		t.Fatalf("unsampled call recorded %d spans", n)
	}

	if _, err := e.client.EmptyCall(context.Background(), &testpb.Empty{}); err != nil {
		t.Fatal(err)
	}
	server, client := byKind(t, waitSpans(t, sr, 2))
	waitTotal(t, e.reg, catalog.RPCServerDuration, 2)
	for _, c := range []struct {
		name string
		span sdktrace.ReadOnlySpan
	}{{catalog.RPCServerDuration, server}, {catalog.RPCClientDuration, client}} {
		traces, spans := exemplarIDs(t, e.reg, c.name)
		if len(traces) != 1 || traces[0] != c.span.SpanContext().TraceID().String() || spans[0] != c.span.SpanContext().SpanID().String() {
			t.Errorf("%s: exemplars %v %v, want trace %s span %s", c.name, traces, spans,
				c.span.SpanContext().TraceID(), c.span.SpanContext().SpanID())
		}
	}

	w := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.Header.Set("Accept", "application/openmetrics-text; version=1.0.0")
	promhttp.HandlerFor(e.reg, promhttp.HandlerOpts{EnableOpenMetrics: true}).ServeHTTP(w, req)
	for _, c := range []struct {
		name string
		span sdktrace.ReadOnlySpan
	}{{catalog.RPCServerDuration, server}, {catalog.RPCClientDuration, client}} {
		want := `# {span_id="` + c.span.SpanContext().SpanID().String() + `",trace_id="` + c.span.SpanContext().TraceID().String() + `"}`
		alt := `# {trace_id="` + c.span.SpanContext().TraceID().String() + `",span_id="` + c.span.SpanContext().SpanID().String() + `"}`
		found := false
		for _, line := range strings.Split(w.Body.String(), "\n") {
			if strings.HasPrefix(line, c.name+"_bucket{") && strings.Contains(line, methodEmpty) &&
				(strings.Contains(line, want) || strings.Contains(line, alt)) {
				found = true
			}
		}
		if !found {
			t.Errorf("OpenMetrics exposition has no %s bucket with the exemplar of span %s:\n%s", c.name, c.span.SpanContext().SpanID(), w.Body.String())
		}
	}
}

// TestNativeHistograms: WithNativeHistograms adds native buckets beside the classic ones to the
// gRPC histograms, and a Recorder with the other setting on the same registry is refused.
func TestNativeHistograms(t *testing.T) {
	tests := []struct {
		name         string
		first, other []middleware.Option
		native       bool
	}{
		{"on", []middleware.Option{middleware.WithNativeHistograms()}, nil, true},
		{"off", nil, []middleware.Option{middleware.WithNativeHistograms()}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			rec, err := grpcmw.New(append([]middleware.Option{middleware.WithRegisterer(reg)}, tt.first...)...)
			if err != nil {
				t.Fatal(err)
			}
			grpcmw.UnaryServerInterceptor(rec)(context.Background(), nil, unaryInfo, func(context.Context, any) (any, error) { return nil, nil })
			grpcmw.UnaryClientInterceptor(rec)(context.Background(), "/pkg.Svc/Get", nil, nil, nil,
				func(context.Context, string, any, any, *grpc.ClientConn, ...grpc.CallOption) error { return nil })
			mfs, err := reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			checked := 0
			for _, mf := range mfs {
				if mf.GetName() != catalog.RPCServerDuration && mf.GetName() != catalog.RPCClientDuration {
					continue
				}
				checked++
				h := mf.GetMetric()[0].GetHistogram()
				if native := isNative(h); native != tt.native || len(h.GetBucket()) == 0 || h.GetSampleCount() != 1 {
					t.Errorf("%s: native %v (schema %d, spans %v), %d classic buckets, count %d; want native %v, classic buckets, count 1",
						mf.GetName(), native, h.GetSchema(), h.GetPositiveSpan(), len(h.GetBucket()), h.GetSampleCount(), tt.native)
				}
			}
			if checked != 2 {
				t.Errorf("found %d duration histograms, want 2", checked)
			}
			_, err = grpcmw.New(append([]middleware.Option{middleware.WithRegisterer(reg)}, tt.other...)...)
			if err == nil || !strings.Contains(err.Error(), "WithNativeHistograms") {
				t.Errorf("second Recorder with the other setting: err %v, want a WithNativeHistograms conflict", err)
			}
		})
	}
}

func isNative(h *dto.Histogram) bool {
	return h.GetSchema() == 3 && len(h.GetPositiveSpan()) == 1 && h.GetZeroThreshold() > 0
}

// catch runs f and returns what it panicked with.
func catch(f func()) (p any) {
	defer func() { p = recover() }()
	f()
	return nil
}
