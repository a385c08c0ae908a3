package grpctest_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"

	"github.com/perfobs/perfobs-go/internal/testkit/grpctest"
	"github.com/perfobs/perfobs-go/leaktest"
)

func TestMain(m *testing.M) { leaktest.VerifyTestMain(m) }

func call(t *testing.T, c testpb.TestServiceClient, cmd string, st *testpb.EchoStatus, timeout time.Duration) (time.Duration, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	start := time.Now()
	_, err := c.UnaryCall(ctx, &testpb.SimpleRequest{Payload: &testpb.Payload{Body: []byte(cmd)}, ResponseStatus: st})
	return time.Since(start), err
}

func TestCommands(t *testing.T) {
	for _, nw := range grpctest.Networks {
		t.Run(string(nw), func(t *testing.T) {
			// The recovery interceptor turns the Panic command's panic into an error the client sees.
			recovered := grpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (resp any, err error) {
				defer func() {
					if p := recover(); p != nil {
						err = status.Errorf(codes.Unknown, "recovered: %v", p)
					}
				}()
				return h(ctx, req)
			})
			faulty := grpctest.Start(t, grpctest.Config{Network: nw, Server: []grpc.ServerOption{recovered},
				Service: &grpctest.Service{SlowCall: 20 * time.Millisecond}})
			clean := grpctest.Start(t, grpctest.Config{Network: nw, Service: &grpctest.Service{Clean: true}})
			tests := []struct {
				name    string
				c       testpb.TestServiceClient
				cmd     string
				st      *testpb.EchoStatus
				code    codes.Code
				minTook time.Duration
			}{
				{"ok", faulty.Client, "", nil, codes.OK, 0},
				{"echo status", faulty.Client, "", &testpb.EchoStatus{Code: int32(codes.NotFound)}, codes.NotFound, 0},
				{"wrapped status", faulty.Client, grpctest.Wrap, &testpb.EchoStatus{Code: int32(codes.Aborted)}, codes.Aborted, 0},
				{"plain error", faulty.Client, grpctest.Plain, nil, codes.Unknown, 0},
				{"deadline", faulty.Client, grpctest.Deadline, nil, codes.DeadlineExceeded, 0},
				{"fail", faulty.Client, grpctest.Fail, nil, codes.Internal, 0},
				{"slow", faulty.Client, grpctest.Slow, nil, codes.OK, 20 * time.Millisecond},
				{"sleep", faulty.Client, grpctest.Sleep, nil, codes.OK, 20 * time.Millisecond},
				{"wait", faulty.Client, grpctest.Wait, nil, codes.DeadlineExceeded, 50 * time.Millisecond},
				{"panic", faulty.Client, grpctest.Panic, nil, codes.Unknown, 0},
				{"clean fail", clean.Client, grpctest.Fail, nil, codes.OK, 0},
				{"clean slow", clean.Client, grpctest.Slow, nil, codes.OK, 0},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					took, err := call(t, tt.c, tt.cmd, tt.st, 50*time.Millisecond)
					if got := status.Code(err); got != tt.code {
						t.Fatalf("code %v (%v), want %v", got, err, tt.code)
					}
					if took < tt.minTook {
						t.Errorf("took %v, want at least %v", took, tt.minTook)
					}
					if tt.name == "clean slow" && took > 15*time.Millisecond {
						t.Errorf("the clean twin took %v on a slow command", took)
					}
				})
			}
		})
	}
}

func TestUnknownMethod(t *testing.T) {
	s := grpctest.Start(t, grpctest.Config{Server: []grpc.ServerOption{grpc.UnknownServiceHandler(grpctest.UnknownMethod)}})
	err := s.Conn.Invoke(context.Background(), "/no.Such/Method", &testpb.Empty{}, &testpb.Empty{})
	if status.Code(err) != codes.NotFound {
		t.Fatalf("unknown method: %v, want NOT_FOUND", err)
	}
}
