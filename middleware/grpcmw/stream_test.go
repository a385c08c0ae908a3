package grpcmw_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/leaktest"
	"github.com/perfobs/perfobs-go/middleware/grpcmw"
)

func params(sizes ...int32) []*testpb.ResponseParameters {
	var p []*testpb.ResponseParameters
	for _, s := range sizes {
		p = append(p, &testpb.ResponseParameters{Size: s, IntervalUs: 10000})
	}
	return p
}

// messages is what one call sent each way, to check the stats handlers against.
type messages struct {
	requests, responses []proto.Message
}

func (m messages) bytes(msgs []proto.Message) float64 {
	var n int
	for _, x := range msgs {
		n += proto.Size(x)
	}
	return float64(n)
}

func TestStreams(t *testing.T) {
	tests := []struct {
		name   string
		method string
		// run makes the call and returns what went each way and the client's final error.
		run            func(ctx context.Context, c testpb.TestServiceClient) (messages, error)
		server, client string // wanted "status|error_type"
		minSum         time.Duration
	}{
		{name: "server streaming", method: methodOutput, server: "OK|", client: "OK|", minSum: 30 * time.Millisecond,
			run: func(ctx context.Context, c testpb.TestServiceClient) (messages, error) {
				req := &testpb.StreamingOutputCallRequest{ResponseParameters: params(10, 200, 3000)}
				st, err := c.StreamingOutputCall(ctx, req)
				if err != nil {
					return messages{}, err
				}
				m := messages{requests: []proto.Message{req}}
				for {
					resp, err := st.Recv()
					if err != nil {
						return m, err
					}
					m.responses = append(m.responses, resp)
				}
			}},
		{name: "server streaming ends NOT_FOUND", method: methodOutput, server: "NOT_FOUND|", client: "NOT_FOUND|NOT_FOUND",
			minSum: 10 * time.Millisecond,
			run: func(ctx context.Context, c testpb.TestServiceClient) (messages, error) {
				req := &testpb.StreamingOutputCallRequest{ResponseParameters: params(5),
					ResponseStatus: &testpb.EchoStatus{Code: int32(codes.NotFound)}}
				st, err := c.StreamingOutputCall(ctx, req)
				if err != nil {
					return messages{}, err
				}
				m := messages{requests: []proto.Message{req}}
				for {
					resp, err := st.Recv()
					if err != nil {
						return m, err
					}
					m.responses = append(m.responses, resp)
				}
			}},
		{name: "client streaming", method: methodInput, server: "OK|", client: "OK|",
			run: func(ctx context.Context, c testpb.TestServiceClient) (messages, error) {
				st, err := c.StreamingInputCall(ctx)
				if err != nil {
					return messages{}, err
				}
				var m messages
				for _, n := range []int{1, 20, 300, 4000} {
					req := &testpb.StreamingInputCallRequest{Payload: &testpb.Payload{Body: make([]byte, n)}}
					if err := st.Send(req); err != nil {
						return m, err
					}
					m.requests = append(m.requests, req)
				}
				resp, err := st.CloseAndRecv()
				if err == nil {
					m.responses = append(m.responses, resp)
					if resp.AggregatedPayloadSize != 4321 {
						err = errors.New("wrong aggregated size")
					}
				}
				return m, err
			}},
		{name: "bidi streaming", method: methodDuplex, server: "OK|", client: "OK|",
			run: func(ctx context.Context, c testpb.TestServiceClient) (messages, error) {
				st, err := c.FullDuplexCall(ctx)
				if err != nil {
					return messages{}, err
				}
				var m messages
				for _, n := range []int32{7, 70} {
					req := &testpb.StreamingOutputCallRequest{ResponseParameters: []*testpb.ResponseParameters{{Size: n}, {Size: n + 1}}}
					if err := st.Send(req); err != nil {
						return m, err
					}
					m.requests = append(m.requests, req)
					for range 2 {
						resp, err := st.Recv()
						if err != nil {
							return m, err
						}
						m.responses = append(m.responses, resp)
					}
				}
				if err := st.CloseSend(); err != nil {
					return m, err
				}
				_, err = st.Recv()
				return m, err
			}},
	}
	for _, nw := range networks {
		for _, tt := range tests {
			t.Run(string(nw)+"/"+tt.name, func(t *testing.T) {
				e := start(t, nw, setup{})
				m, err := tt.run(context.Background(), e.client)
				if err != io.EOF && err != nil && tt.client == "OK|" {
					t.Fatalf("call: %v", err)
				}

				sk, ck := tt.method+"|"+tt.server, tt.method+"|"+tt.client
				s := wantOne(t, waitSeries(t, e.reg, catalog.RPCServerDuration), catalog.RPCServerDuration, sk, 1)
				c := wantOne(t, series(t, e.reg, catalog.RPCClientDuration), catalog.RPCClientDuration, ck, 1)
				if s.sum < tt.minSum.Seconds() || c.sum < tt.minSum.Seconds() || s.sum > 5 || c.sum > 5 {
					t.Errorf("duration sums: server %v s, client %v s; want both in [%v, 5)", s.sum, c.sum, tt.minSum.Seconds())
				}

				// Message counts per RPC and sizes per message, on both sides.
				reqs, resps := float64(len(m.requests)), float64(len(m.responses))
				for _, side := range []struct {
					key                                     string
					reqsPerRPC, respsPerRPC, reqSize, rSize string
				}{
					{sk, catalog.RPCServerRequestsPerRPC, catalog.RPCServerResponsesPerRPC, catalog.RPCServerRequestSize, catalog.RPCServerResponseSize},
					{ck, catalog.RPCClientRequestsPerRPC, catalog.RPCClientResponsesPerRPC, catalog.RPCClientRequestSize, catalog.RPCClientResponseSize},
				} {
					if h := wantOne(t, waitSeries(t, e.reg, side.reqsPerRPC), side.reqsPerRPC, side.key, 1); h.sum != reqs {
						t.Errorf("%s = %v, want %v", side.reqsPerRPC, h.sum, reqs)
					}
					if h := wantOne(t, waitSeries(t, e.reg, side.respsPerRPC), side.respsPerRPC, side.key, 1); h.sum != resps {
						t.Errorf("%s = %v, want %v", side.respsPerRPC, h.sum, resps)
					}
					if h := wantOne(t, waitSeries(t, e.reg, side.reqSize), side.reqSize, tt.method, uint64(reqs)); h.sum != m.bytes(m.requests) {
						t.Errorf("%s sum = %v, want %v", side.reqSize, h.sum, m.bytes(m.requests))
					}
					if h := wantOne(t, waitSeries(t, e.reg, side.rSize), side.rSize, tt.method, uint64(resps)); h.sum != m.bytes(m.responses) {
						t.Errorf("%s sum = %v, want %v", side.rSize, h.sum, m.bytes(m.responses))
					}
				}
			})
		}
	}
}

// TestClientStreamAbandoned checks that a client stream left before its end is recorded exactly
// once, when its context ends, and leaves no goroutine behind.
func TestClientStreamAbandoned(t *testing.T) {
	tests := []struct {
		name    string
		end     func(cancel context.CancelFunc) // ends the call's context
		timeout time.Duration
		client  string
		server  []string // acceptable server outcomes
	}{
		{name: "cancelled", end: func(cancel context.CancelFunc) { cancel() },
			client: "CANCELLED|CANCELLED", server: []string{"CANCELLED|"}},
		{name: "deadline", end: func(context.CancelFunc) {}, timeout: 100 * time.Millisecond,
			client: "DEADLINE_EXCEEDED|DEADLINE_EXCEEDED", server: []string{"CANCELLED|", "DEADLINE_EXCEEDED|DEADLINE_EXCEEDED"}},
	}
	for _, nw := range networks {
		for _, tt := range tests {
			t.Run(string(nw)+"/"+tt.name, func(t *testing.T) {
				leaktest.Check(t)
				e := start(t, nw, setup{})
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				if tt.timeout > 0 {
					ctx, cancel = context.WithTimeout(ctx, tt.timeout)
					defer cancel()
				}
				// The server sends two messages and waits for the context to end.
				st, err := e.client.StreamingOutputCall(ctx, &testpb.StreamingOutputCallRequest{
					ResponseParameters: []*testpb.ResponseParameters{{Size: 1}, {Size: 2}},
					Payload:            &testpb.Payload{Body: []byte(cmdWait)}})
				if err != nil {
					t.Fatal(err)
				}
				for range 2 {
					if _, err := st.Recv(); err != nil {
						t.Fatal(err)
					}
				}
				// Neither drained nor cancelled yet: nobody can know the stream's outcome.
				if s := series(t, e.reg, catalog.RPCClientDuration); len(s) != 0 {
					t.Errorf("client series before the stream ended: %v", keys(s))
				}
				tt.end(cancel)

				ck := methodOutput + "|" + tt.client
				c := wantOne(t, waitSeries(t, e.reg, catalog.RPCClientDuration), catalog.RPCClientDuration, ck, 1)
				if tt.timeout > 0 && c.sum < tt.timeout.Seconds()/2 {
					t.Errorf("client duration %v s, want at least the timeout %v", c.sum, tt.timeout)
				}
				// Reading now returns the stream's error without counting it again.
				wantCode, _, _ := strings.Cut(tt.client, "|")
				if _, err := st.Recv(); grpcmw.CodeName(status.Code(err)) != wantCode {
					t.Errorf("Recv after the end = %v, want %s", err, wantCode)
				}
				srv := waitSeries(t, e.reg, catalog.RPCServerDuration)
				found := false
				for _, want := range tt.server {
					if _, ok := srv[methodOutput+"|"+want]; ok && len(srv) == 1 {
						found = true
					}
				}
				if !found {
					t.Errorf("server series %v, want one of %v", keys(srv), tt.server)
				}
				wantOne(t, series(t, e.reg, catalog.RPCClientDuration), catalog.RPCClientDuration, ck, 1)
				// The client's stats handler saw the call end too, with the two responses.
				if h := wantOne(t, waitSeries(t, e.reg, catalog.RPCClientResponsesPerRPC), catalog.RPCClientResponsesPerRPC, ck, 1); h.sum != 2 {
					t.Errorf("%s = %v, want 2", catalog.RPCClientResponsesPerRPC, h.sum)
				}
			})
		}
	}
}
