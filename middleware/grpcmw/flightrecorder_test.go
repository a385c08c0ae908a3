package grpcmw_test

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/perfobs/perfobs-go/flightrecorder"
	"github.com/perfobs/perfobs-go/middleware"
	"github.com/perfobs/perfobs-go/middleware/grpcmw"
)

// fakeStream is the least grpc.ServerStream the interceptor needs.
type fakeStream struct{ ctx context.Context }

func (s fakeStream) SetHeader(metadata.MD) error  { return nil }
func (s fakeStream) SendHeader(metadata.MD) error { return nil }
func (s fakeStream) SetTrailer(metadata.MD)       {}
func (s fakeStream) Context() context.Context     { return s.ctx }
func (s fakeStream) SendMsg(any) error            { return nil }
func (s fakeStream) RecvMsg(any) error            { return nil }

// TestFlightRecorderSnapshotsSlowCalls: a unary and a streaming call over their method's budget
// each take a snapshot named by the method; a fast call takes none.
func TestFlightRecorderSnapshotsSlowCalls(t *testing.T) {
	for _, kind := range []string{"unary", "stream"} {
		t.Run(kind, func(t *testing.T) {
			fr, err := flightrecorder.New(flightrecorder.Config{Budget: time.Hour,
				Budgets: map[string]time.Duration{"shop.Cart/Add": 20 * time.Millisecond}})
			if err != nil {
				t.Fatal(err)
			}
			defer fr.Stop(context.Background())
			opts := []middleware.Option{middleware.WithRegisterer(prometheus.NewRegistry()), middleware.WithFlightRecorder(fr)}
			call := func(method string, d time.Duration) {
				if kind == "unary" {
					grpcmw.UnaryServerInterceptor(opts...)(context.Background(), nil, &grpc.UnaryServerInfo{FullMethod: method},
						func(ctx context.Context, req any) (any, error) { time.Sleep(d); return nil, nil })
					return
				}
				grpcmw.StreamServerInterceptor(opts...)(struct{}{}, fakeStream{context.Background()}, &grpc.StreamServerInfo{FullMethod: method},
					func(srv any, ss grpc.ServerStream) error {
						if ss.Context() == nil {
							t.Error("stream without a context")
						}
						time.Sleep(d)
						return nil
					})
			}
			call("/shop.Cart/List", 40*time.Millisecond) // its budget is an hour
			call("/shop.Cart/Add", 40*time.Millisecond)
			var s []flightrecorder.Snapshot
			for deadline := time.Now().Add(10 * time.Second); len(s) == 0 && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
				s = fr.Snapshots()
			}
			if len(s) != 1 || s[0].Route != "shop.Cart/Add" || s[0].Duration < 40*time.Millisecond {
				t.Fatalf("snapshots %+v; want one of shop.Cart/Add", s)
			}
			f, err := fr.Open(s[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(f)
			f.Close()
			if !bytes.Contains(data, []byte("shop.Cart/Add")) {
				t.Error("the snapshot lacks the task named by the method")
			}
		})
	}
}
