// Package middleware records RED metrics (rate, errors, duration) for net/http servers and
// clients, under the OpenTelemetry semantic-convention names of the perfobs-go metric contract
// (http_server_request_duration_seconds, http_server_active_requests, the opt-in body-size
// histograms, http_client_request_duration_seconds), or under promhttp's names with
// WithClassicNames.
//
//	h := middleware.HTTP(mux, middleware.WithRegisterer(reg))
//	client := &http.Client{Transport: middleware.Transport(nil, middleware.WithRegisterer(reg))}
//
// HTTP and Transport panic only on invalid options, at construction; New returns the same
// validation as an error, and its Recorder, passed alone as their option, builds them without
// panicking. The options are defined here for package grpcmw too; passing one where it does not
// apply (WithMethodFilter to HTTP) is an error that names it.
//
// http_route is the path template of the ServeMux pattern that matched (r.Pattern), or what
// WithServeMux, WithRouteFunc, SetRoute or a router adapter gives; a request that matched no
// route is recorded as "_unmatched", unknown methods as "_OTHER", and a label cap bounds every
// route, so random paths never add series. A panic is recorded as status 500 with error_type
// "panic" and goes on. In steady state a request costs two clock reads and a few uncontended
// atomic adds: no heap allocation, no lock, no label map. WithTracerProvider adds server and
// client spans and exemplars.
//
// docs/middleware.md has the detail: labels, status rules, writers, tracing, costs, registries.
package middleware
