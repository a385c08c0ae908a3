// Package grpcmw records RED metrics (rate, errors, duration) for gRPC servers and clients, under
// the OpenTelemetry semantic-convention names of the perfobs-go metric contract
// (rpc_server_call_duration_seconds, rpc_client_call_duration_seconds, and message sizes and
// counts from the stats handlers), or under go-grpc-middleware's names with
// middleware.WithClassicNames. It takes the options of package middleware.
//
//	srv := grpc.NewServer(
//		grpc.ChainUnaryInterceptor(yourRecovery, grpcmw.UnaryServerInterceptor(opts...)),
//		grpc.ChainStreamInterceptor(yourStreamRecovery, grpcmw.StreamServerInterceptor(opts...)),
//		grpc.StatsHandler(grpcmw.ServerStatsHandler(opts...)),
//	)
//	conn, err := grpc.NewClient(target, append(grpcmw.DialOptions(opts...), creds)...)
//
// The constructors panic only on invalid options, at construction; New returns the same
// validation as an error, and its Recorder, passed alone as their option, builds them without
// panicking. Constructors given the same registry share their collectors. HTTP-only options
// (WithServeMux, WithSkipPaths, WithBodySizes...) are an error that names them.
//
// rpc_method is the full method without its leading slash, rpc_response_status_code the code's
// name ("NOT_FOUND"). A server counts only the server-fault codes as errors (UNKNOWN,
// DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS), a client every code but OK;
// a panic is recorded as INTERNAL with error_type "panic" and goes on, so chain a recovery
// interceptor before this package's. Calls to an UnknownServiceHandler are recorded as
// rpc_method "_OTHER". A unary call costs no heap allocation.
//
// docs/middleware.md has the detail: labels, streams, tracing, costs, registries.
package grpcmw
