package tracing_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime/pprof"
	"slices"
	"testing"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/perfobs/perfobs-go/internal/tracing"
)

func newProvider(t *testing.T, sampler sdktrace.Sampler) (*sdktrace.TracerProvider, *tracetest.SpanRecorder) {
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampler), sdktrace.WithSpanProcessor(sr))
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	return tp, sr
}

func TestNewWithoutProviderIsNil(t *testing.T) {
	if tr := tracing.New(nil, nil); tr != nil {
		t.Fatalf("New(nil, nil) = %v, want nil (tracing off)", tr)
	}
}

// TestClientServerRoundTrip: a client span injected into gRPC-style metadata (lower-case keys)
// is the parent of the server span extracted from it.
func TestClientServerRoundTrip(t *testing.T) {
	tp, sr := newProvider(t, sdktrace.AlwaysSample())
	tr := tracing.New(tp, nil)
	md := tracing.MultiMapCarrier{}
	_, client := tr.StartClient(context.Background(), md, "pkg.Service/Method")
	client.End()
	if len(md["traceparent"]) != 1 {
		t.Fatalf("metadata %v: want one traceparent", md)
	}
	_, server := tr.StartServer(context.Background(), md, "pkg.Service/Method")
	server.End()
	spans := sr.Ended()
	if len(spans) != 2 || spans[1].Parent().SpanID() != spans[0].SpanContext().SpanID() ||
		spans[0].SpanKind() != trace.SpanKindClient || spans[1].SpanKind() != trace.SpanKindServer {
		t.Fatalf("spans %v: want a client span parenting a server span", spans)
	}
}

func TestHeaderCarrier(t *testing.T) {
	h := http.Header{}
	c := tracing.HeaderCarrier(h)
	for _, k := range []string{"traceparent", "tracestate", "baggage", "x-custom"} {
		c.Set(k, "v-"+k)
	}
	want := http.Header{"Traceparent": {"v-traceparent"}, "Tracestate": {"v-tracestate"}, "Baggage": {"v-baggage"}, "X-Custom": {"v-x-custom"}}
	for k, v := range want {
		if !slices.Equal(h[k], v) {
			t.Errorf("header %s = %v, want %v", k, h[k], v)
		}
	}
	if got := c.Get("traceparent"); got != "v-traceparent" {
		t.Errorf("Get(traceparent) = %q", got)
	}
	if n := testing.AllocsPerRun(100, func() { c.Get("traceparent") }); n != 0 {
		t.Errorf("Get allocates %v times", n)
	}
	keys := c.Keys()
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"Baggage", "Traceparent", "Tracestate", "X-Custom"}) {
		t.Errorf("Keys() = %v", keys)
	}
}

func TestFailAndExemplarIDs(t *testing.T) {
	tests := []struct {
		name    string
		sampler sdktrace.Sampler
		ok      bool
	}{
		{"sampled", sdktrace.AlwaysSample(), true},
		{"not sampled", sdktrace.NeverSample(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp, sr := newProvider(t, tt.sampler)
			_, span := tracing.New(tp, nil).StartServer(context.Background(), tracing.MultiMapCarrier{}, "op")
			tracing.Fail(span, "timeout", "deadline", errors.New("too slow"))
			span.End()
			tid, sid, ok := tracing.ExemplarIDs(span)
			if ok != tt.ok {
				t.Fatalf("ExemplarIDs ok = %v, want %v", ok, tt.ok)
			}
			if !tt.ok {
				if len(sr.Ended()) != 0 {
					t.Fatal("unsampled span recorded")
				}
				return
			}
			s := sr.Ended()[0]
			if tid != [16]byte(s.SpanContext().TraceID()) || sid != [8]byte(s.SpanContext().SpanID()) {
				t.Errorf("ids %x %x, want the span's", tid, sid)
			}
			if s.Status().Code != codes.Error || s.Status().Description != "deadline" || len(s.Events()) != 1 {
				t.Errorf("status %v, %d events", s.Status(), len(s.Events()))
			}
		})
	}
}

func goroutineLabels(ctx context.Context) map[string]string {
	out := map[string]string{}
	pprof.ForLabels(ctx, func(k, v string) bool { out[k] = v; return true })
	return out
}

// TestProfileLabels: a sampled root span (local or with a remote parent) labels the goroutine and
// carries the profile id; a child span does neither; ending the root restores the labels.
func TestProfileLabels(t *testing.T) {
	tp, sr := newProvider(t, sdktrace.AlwaysSample())
	tr := tracing.WithProfileLabels(tp).Tracer("test")
	base := pprof.WithLabels(context.Background(), pprof.Labels("job", "x"))
	pprof.SetGoroutineLabels(base)
	defer pprof.SetGoroutineLabels(context.Background())

	ctx, root := tr.Start(base, "root")
	labels := goroutineLabels(ctx)
	id := root.SpanContext().SpanID().String()
	if labels[tracing.LabelSpanID] != id || labels[tracing.LabelSpanName] != "root" || labels["job"] != "x" {
		t.Errorf("labels in the root span %v", labels)
	}
	_, child := tr.Start(ctx, "child")
	child.End()
	root.End()

	// A span whose parent is remote is a local root too.
	remote := trace.ContextWithRemoteSpanContext(context.Background(), root.SpanContext())
	_, server := tr.Start(remote, "server")
	server.End()

	got := map[string]string{}
	for _, s := range sr.Ended() {
		for _, kv := range s.Attributes() {
			if kv.Key == tracing.ProfileIDKey {
				got[s.Name()] = kv.Value.AsString()
			}
		}
	}
	want := map[string]string{"root": id, "server": server.SpanContext().SpanID().String()}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("profile ids %v, want %v", got, want)
	}
}

func TestProfileLabelsUnsampled(t *testing.T) {
	tp, sr := newProvider(t, sdktrace.NeverSample())
	ctx, span := tracing.WithProfileLabels(tp).Tracer("test").Start(context.Background(), "root")
	span.End()
	if l := goroutineLabels(ctx); len(l) != 0 || len(sr.Ended()) != 0 {
		t.Errorf("unsampled span labelled %v", l)
	}
}

// TestRPCSpans: a gRPC client span written into outgoing metadata parents the server span read
// from it; both carry the semantic conventions' attributes and the status code.
func TestRPCSpans(t *testing.T) {
	tp, sr := newProvider(t, sdktrace.AlwaysSample())
	tr := tracing.New(tp, nil)
	md := map[string][]string{"x-other": {"kept"}}
	_, client := tr.StartRPCClient(context.Background(), md, "/pkg.Users/Get")
	_, server := tr.StartRPCServer(context.Background(), md, "/pkg.Users/Get")
	tracing.EndRPC(server, "UNAVAILABLE", true, errors.New("down"))
	tracing.EndRPC(client, "UNAVAILABLE", true, nil)
	spans := sr.Ended()
	if len(spans) != 2 || len(md["x-other"]) != 1 {
		t.Fatalf("%d spans, metadata %v", len(spans), md)
	}
	s, c := spans[0], spans[1]
	if s.Parent().SpanID() != c.SpanContext().SpanID() || s.Name() != "pkg.Users/Get" || c.Name() != "pkg.Users/Get" {
		t.Errorf("server %q parent %v, client %q %v", s.Name(), s.Parent().SpanID(), c.Name(), c.SpanContext().SpanID())
	}
	for _, span := range spans {
		got := map[string]string{}
		for _, kv := range span.Attributes() {
			got[string(kv.Key)] = kv.Value.String()
		}
		want := map[string]string{"rpc.system.name": "grpc", "rpc.method": "pkg.Users/Get", "rpc.response.status_code": "UNAVAILABLE", "error.type": "UNAVAILABLE"}
		if fmt.Sprint(got) != fmt.Sprint(want) || span.Status().Code != codes.Error {
			t.Errorf("%v span: attributes %v status %v, want %v and Error", span.SpanKind(), got, span.Status(), want)
		}
	}
	_, ok := tr.StartRPCServer(context.Background(), nil, "/pkg.Users/Get")
	tracing.EndRPC(ok, "NOT_FOUND", false, nil)
	if last := sr.Ended()[2]; last.Status().Code != codes.Unset || last.Parent().IsValid() {
		t.Errorf("server span without metadata: status %v parent %v", last.Status(), last.Parent())
	}
}
