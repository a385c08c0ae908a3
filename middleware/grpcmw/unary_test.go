package grpcmw_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/middleware/grpcmw"
)

const (
	methodEmpty  = "grpc.testing.TestService/EmptyCall"
	methodUnary  = "grpc.testing.TestService/UnaryCall"
	methodOutput = "grpc.testing.TestService/StreamingOutputCall"
	methodInput  = "grpc.testing.TestService/StreamingInputCall"
	methodDuplex = "grpc.testing.TestService/FullDuplexCall"
)

// recoverUnary is a recovery interceptor, chained outside the perfobs interceptor.
func recoverUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = status.Errorf(codes.Internal, "recovered: %v", p)
		}
	}()
	return handler(ctx, req)
}

func TestUnaryCalls(t *testing.T) {
	unary := func(cmd string, code codes.Code) func(context.Context, testpb.TestServiceClient) error {
		return func(ctx context.Context, c testpb.TestServiceClient) error {
			req := &testpb.SimpleRequest{Payload: &testpb.Payload{Body: []byte(cmd)}, ResponseSize: 10}
			if code != codes.OK {
				req.ResponseStatus = &testpb.EchoStatus{Code: int32(code), Message: "asked for"}
			}
			_, err := c.UnaryCall(ctx, req)
			return err
		}
	}
	tests := []struct {
		name   string
		call   func(context.Context, testpb.TestServiceClient) error
		cancel time.Duration // cancel the call's context after this long; 0: never
		// timeout sets the call's deadline; 0: none
		timeout        time.Duration
		method         string
		server, client string // wanted "status|error_type"
		orServer       string // another acceptable server outcome
		slow           bool   // the server sleeps slowCall
	}{
		{name: "empty call OK", method: methodEmpty, server: "OK|", client: "OK|",
			call: func(ctx context.Context, c testpb.TestServiceClient) error {
				_, err := c.EmptyCall(ctx, &testpb.Empty{})
				return err
			}},
		{name: "unary OK", call: unary("", codes.OK), method: methodUnary, server: "OK|", client: "OK|"},
		{name: "slow call", call: unary(cmdSleep, codes.OK), method: methodUnary, server: "OK|", client: "OK|", slow: true},
		{name: "NOT_FOUND is not a server error", call: unary("", codes.NotFound), method: methodUnary,
			server: "NOT_FOUND|", client: "NOT_FOUND|NOT_FOUND"},
		{name: "wrapped status error keeps its code", call: unary(cmdWrap, codes.Unavailable), method: methodUnary,
			server: "UNAVAILABLE|UNAVAILABLE", client: "UNAVAILABLE|UNAVAILABLE"},
		{name: "plain error is UNKNOWN", call: unary(cmdPlain, codes.OK), method: methodUnary,
			server: "UNKNOWN|UNKNOWN", client: "UNKNOWN|UNKNOWN"},
		// The client's deadline passes first; the server's own timer (started when the request
		// arrived) and the client's cancellation race to end the server's call.
		{name: "client deadline", call: unary(cmdWait, codes.OK), timeout: 50 * time.Millisecond, method: methodUnary,
			server: "DEADLINE_EXCEEDED|DEADLINE_EXCEEDED", orServer: "CANCELLED|", client: "DEADLINE_EXCEEDED|DEADLINE_EXCEEDED"},
		{name: "handler returns a context deadline error", call: unary(cmdDeadline, codes.OK), method: methodUnary,
			server: "DEADLINE_EXCEEDED|DEADLINE_EXCEEDED", client: "DEADLINE_EXCEEDED|DEADLINE_EXCEEDED"},
		{name: "client cancels", call: unary(cmdWait, codes.OK), cancel: 50 * time.Millisecond, method: methodUnary,
			server: "CANCELLED|", client: "CANCELLED|CANCELLED"},
		{name: "panic recorded then recovered outside", call: unary(cmdPanic, codes.OK), method: methodUnary,
			server: "INTERNAL|panic", client: "INTERNAL|INTERNAL"},
	}
	for _, nw := range networks {
		for _, tt := range tests {
			t.Run(string(nw)+"/"+tt.name, func(t *testing.T) {
				e := start(t, nw, setup{serverOpts: []grpc.ServerOption{grpc.ChainUnaryInterceptor(recoverUnary)}})
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				if tt.timeout > 0 {
					ctx, cancel = context.WithTimeout(ctx, tt.timeout)
					defer cancel()
				}
				if tt.cancel > 0 {
					time.AfterFunc(tt.cancel, cancel)
				}
				err := tt.call(ctx, e.client)
				wantClient, _, _ := strings.Cut(tt.client, "|")
				if got := grpcmw.CodeName(status.Code(err)); got != wantClient {
					t.Errorf("call returned %v, want code %s", err, wantClient)
				}
				sk := tt.method + "|" + tt.server
				got := waitSeries(t, e.reg, catalog.RPCServerDuration)
				if _, ok := got[tt.method+"|"+tt.orServer]; ok && tt.orServer != "" {
					sk = tt.method + "|" + tt.orServer
				}
				s := wantOne(t, got, catalog.RPCServerDuration, sk, 1)
				ck := tt.method + "|" + tt.client
				c := wantOne(t, series(t, e.reg, catalog.RPCClientDuration), catalog.RPCClientDuration, ck, 1)

				// Sums: the server's time lies within the client's; waits last until the deadline.
				var floor float64
				switch {
				case tt.slow:
					floor = slowCall.Seconds()
				case tt.timeout > 0:
					floor = tt.timeout.Seconds() / 2 // the timer starts before the call (and the dial)
				case tt.cancel > 0:
					floor = tt.cancel.Seconds() / 2
				}
				serverFloor := floor
				if s.sum < serverFloor || s.sum > 5 {
					t.Errorf("server duration sum %v s, want in [%v, 5)", s.sum, serverFloor)
				}
				if c.sum < floor || c.sum > 5 {
					t.Errorf("client duration sum %v s, want in [%v, 5)", c.sum, floor)
				}
				if tt.timeout == 0 && tt.cancel == 0 && c.sum < s.sum {
					t.Errorf("client duration %v s < server duration %v s", c.sum, s.sum)
				}
			})
		}
	}
}
