// Package middleware records RED metrics (rate, errors, duration) for net/http servers and
// clients, under the OpenTelemetry semantic-convention names of the perfobs-go metric contract:
// http_server_request_duration_seconds, http_server_active_requests, the opt-in body-size
// histograms, and http_client_request_duration_seconds.
//
// # Cost
//
// In steady state a request costs two clock reads, a pooled writer, one lock-free map lookup and
// four uncontended atomic adds on the caller's per-processor shard: no heap allocation, no lock,
// no label map and no fmt. Histograms are sharded per processor, so the middleware keeps scaling
// when every core serves the same route; their exposition equals client_golang's.
//
// # Labels
//
// http_route is always a path template: the path part of the ServeMux pattern that matched
// (r.Pattern, Go 1.23+), or what WithServeMux, WithRouteFunc or SetRoute give when the pattern is
// not visible on the middleware's request. A request that matched no route is recorded as
// http_route="_unmatched". Methods outside RFC 9110 (plus PATCH) become "_OTHER". Routes from
// WithRouteFunc and SetRoute are capped (WithLabelCap): past the cap, new values become "_OTHER",
// perfobs_label_overflow_total counts them and a log line names them, at most every 10 s.
// Random paths or methods therefore never add series.
//
// # Status and errors
//
// The status is the first non-1xx status written (101 Switching Protocols counts), or 200 when
// the handler writes nothing. error_type is the status code for 5xx responses. A panicking
// handler is recorded with status 500 (or the status it had already sent) and error_type
// "panic", then the panic goes on to the server. A handler that aborts with
// panic(http.ErrAbortHandler) is recorded with error_type "aborted", as is runtime.Goexit. A
// hijacked connection (WebSocket) is recorded with the status written before Hijack, if any,
// with its duration until the handler returns; no response body size is recorded for it.
//
// # Writers
//
// The wrapped writer has exactly the optional interfaces of the real one (http.Flusher,
// http.Hijacker, io.ReaderFrom, http.Pusher), plus io.StringWriter and Unwrap, so
// http.ResponseController reaches the real writer's deadlines and full-duplex mode.
//
// # Traces and exemplars
//
// WithTracerProvider turns tracing on; without it no span is started, no header is read and the
// cost above is unchanged. With it, each request continues the caller's trace (W3C traceparent
// and baggage by default; WithPropagator), under a server span that starts named by the method
// and is renamed "METHOD /route" once the mux has run, with the semantic conventions' attributes
// (http.request.method, url.path, url.scheme, server.address, server.port, client.address,
// user_agent.original, network.protocol.version, then http.route and http.response.status_code).
// 5xx responses, panics and aborts set the Error status and error.type; a panic is recorded as an
// exception event. Transport starts client spans and injects their context into a copy of the
// request. A sampled request keeps its trace_id and span_id as the exemplar of its duration bucket
// (at most one new exemplar per bucket every 100 ms), which the OpenMetrics exposition carries. A
// traced request costs the OpenTelemetry SDK's span (about 9 allocations in all) and no more.
//
// # Native histograms
//
// WithNativeHistograms adds native buckets of schema 3 beside the classic ones, for Prometheus's
// protobuf scrape: see the option for what Prometheus 2.x keeps.
//
// # Registries
//
// Without WithRegisterer the metrics go to prometheus.DefaultRegisterer, as client_golang users
// expect. Recorders made twice on one registry share the registered collectors; conflicting
// buckets are an error from New.
package middleware
