// Package grpcmw records RED metrics (rate, errors, duration) for gRPC servers and clients, under
// the OpenTelemetry semantic-convention names of the perfobs-go metric contract:
// rpc_server_call_duration_seconds and rpc_client_call_duration_seconds from the interceptors,
// and message sizes and counts (rpc_{server,client}_{request,response}_size_bytes,
// rpc_{server,client}_{requests,responses}_per_rpc) from the stats handlers. It takes the same
// options as the HTTP middleware (middleware.Option) and records into the same sharded,
// allocation-free histograms.
//
//	rec, err := grpcmw.New(middleware.WithRegisterer(reg))
//	srv := grpc.NewServer(
//		grpc.ChainUnaryInterceptor(yourUnaryRecovery, rec.UnaryServerInterceptor()),
//		grpc.ChainStreamInterceptor(yourStreamRecovery, rec.StreamServerInterceptor()),
//		grpc.StatsHandler(rec.ServerStatsHandler()),
//	)
//	conn, err := grpc.NewClient(target, append(rec.DialOptions(), creds)...)
//
// or, one hook at a time, grpc.ChainUnaryInterceptor(grpcmw.UnaryServerInterceptor(opts...)):
// the package-level constructors share their collectors when given the same registry.
//
// # Labels
//
// rpc_system_name is "grpc"; rpc_method is the full method without its leading slash
// ("grpc.testing.TestService/UnaryCall"); rpc_response_status_code is the status code's
// canonical name ("OK", "NOT_FOUND", "CANCELLED"; codes gRPC does not define give "_OTHER").
// error_type is empty for calls that succeeded, else the code's name, or "panic". A client counts
// every status but OK as an error; a server, as the semantic conventions say, only UNKNOWN,
// DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE and DATA_LOSS (the others, NOT_FOUND or
// CANCELLED for example, describe the request, like HTTP's 4xx). Errors are therefore always
// error_type!="".
//
// Method names are bounded. Unary interceptors only ever see registered methods. Calls that a
// server hands to its UnknownServiceHandler are recorded as rpc_method="_OTHER", whatever method
// the client asked for: gRPC calls the stream interceptor with no service implementation (a nil
// srv) for them, and only for them. Past that, every rpc_method value goes through the label cap
// (WithLabelCap, default 1000; it matters for clients of proxies and for a stats handler used
// without the interceptors). middleware.WithMethodFilter leaves methods out of every metric;
// NotHealthOrReflection is a ready filter for health checks and server reflection.
//
// # Status, cancellation and panics
//
// The status is what the peer sees: status.FromError of the call's error, so wrapped status
// errors keep their code; a handler returning a context error gives CANCELLED or
// DEADLINE_EXCEEDED, as gRPC converts it; any other error is UNKNOWN. A client whose context is
// cancelled or whose deadline passes records CANCELLED or DEADLINE_EXCEEDED.
//
// A handler that panics is recorded as INTERNAL with error_type "panic", and the panic goes on
// untouched: the interceptor observes it without recovering it. Chain a recovery interceptor
// before (outside) this package's interceptors, so that it sees the panic after it was recorded:
//
//	grpc.ChainUnaryInterceptor(recoveryInterceptor, rec.UnaryServerInterceptor())
//
// Chained the other way round, the recovery turns the panic into an error before this package
// sees it, and the call is recorded with that error's status and no "panic". Without any
// recovery, gRPC does not recover handler panics and the process exits after the call was
// recorded. runtime.Goexit in a handler is recorded like a panic. Interceptors chained before
// this package's are outside the measured time; calls they reject are not recorded.
//
// # Tracing, exemplars and native histograms
//
// With middleware.WithTracerProvider, the server interceptors start a server span for each call
// and the client interceptors a client span, both named by the method ("pkg.Service/Method",
// the rpc_method value) and carrying the semantic-convention attributes rpc.system.name "grpc",
// rpc.method and rpc.response.status_code. The client writes the span's W3C trace context
// (traceparent, tracestate) and the context's baggage into the call's outgoing metadata, on a
// copy: the caller's metadata is never changed; the server continues that trace and hands the
// handler a context with its span and the caller's baggage (a stream handler gets the stream
// wrapped, so that its Context has them). middleware.WithPropagator replaces the W3C propagators.
// Spans fail as the metrics' error_type says: a client span on every status but OK, a server
// span on the server-fault codes, and on a panic with error.type "panic" (the panic value is not
// on the span: the interceptor does not recover it); an error is recorded on the span as an
// exception event. A call to an UnknownServiceHandler gets a span named
// "grpc", with rpc.method "_OTHER" and the client's method in rpc.method_original, so that callers
// cannot mint span names. Methods that WithMethodFilter leaves out get no span either.
//
// A sampled call attaches its trace_id and span_id to its duration observation as an exemplar
// (one per bucket, replaced at most every 100 ms); unsampled calls attach none. A handler serving
// OpenMetrics (promhttp with EnableOpenMetrics, or the facade's MetricsHandler) exposes them.
// The facade's obs.MiddlewareOptions() carries its tracer provider, so interceptors made with
// them trace when the facade does. middleware.WithNativeHistograms adds native buckets beside
// the classic ones to every histogram of this package; a Recorder with the other setting on the
// same registry is refused by New.
//
// # Streams
//
// A server stream is measured from the interceptor to the handler's return, so the duration
// covers the whole stream; without tracing the stream is not wrapped and messages cost nothing
// (with tracing, the wrapper only replaces Context). A client stream is
// recorded once, at its first terminal event: RecvMsg returning io.EOF or an error, the single
// response of a client-streaming call, SendMsg failing, or the call's context being cancelled or
// timing out (watched with context.AfterFunc: no goroutine runs until the context ends). A stream
// that is never read to its end and whose context is never cancelled cannot be observed by
// anyone, this package included; gRPC leaks such streams, and its documentation requires callers
// to do one or the other.
//
// # Cost
//
// A unary call costs two monotonic clock reads, one lock-free map lookup and two uncontended
// atomic adds on a per-processor shard: no heap allocation, no lock, no label map, no fmt. A
// server stream costs the same once, and nothing per message: it is not wrapped. A client stream
// costs one allocation (its wrapper), six more when its context can be cancelled
// (context.AfterFunc's registration), and nothing per message. The stats handlers cost one
// allocation per call (the call's state, which is also its context) and three uncontended atomic
// adds per message; gRPC itself allocates an event per message for any stats handler.
//
// Tracing costs what the OpenTelemetry SDK costs for a span, plus its propagation: with the
// SDK's tracer and a sampled call, about 10 allocations for a unary server call and 15 for a
// client call (8 and 13 when the call is not sampled: the span context still travels), and a
// few microseconds (BenchmarkUnaryInterceptors); a traced server stream adds its wrapper. Over a
// real connection gRPC itself allocates a few more to send and parse the extra metadata. The
// server reads only the propagator's keys from the incoming metadata, not a copy of all of it.
// Nothing of this runs without WithTracerProvider: the costs above stay as they are.
//
// # Registries
//
// Without middleware.WithRegisterer the metrics go to prometheus.DefaultRegisterer. Recorders
// made twice on one registry share the registered collectors, so the package-level constructors
// (UnaryServerInterceptor and the others) may each be called with the same options; conflicting
// buckets are an error from New.
package grpcmw
