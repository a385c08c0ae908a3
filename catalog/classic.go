package catalog

// Classic names: the series that promhttp's instrumentation (as its documentation sets it up)
// and go-grpc-middleware's Prometheus provider write, which middleware.WithClassicNames selects
// so that existing dashboards and alerts keep working. The SDK records the same observations in
// both modes; only the exposition differs.
const (
	// HTTP server, promhttp style: a request counter and a duration histogram labelled by code,
	// handler (the route template) and method (lower case, "unknown" for other methods), and an
	// unlabelled in-flight gauge.
	ClassicHTTPRequests     = "http_requests_total"
	ClassicHTTPDuration     = "http_request_duration_seconds"
	ClassicHTTPInFlight     = "http_requests_in_flight"
	ClassicHTTPRequestSize  = "http_request_size_bytes"
	ClassicHTTPResponseSize = "http_response_size_bytes"

	ClassicLabelCode    = "code"
	ClassicLabelHandler = "handler"
	ClassicLabelMethod  = "method"
	// ClassicUnknownMethod is promhttp's method label for methods it does not know.
	ClassicUnknownMethod = "unknown"

	// gRPC, go-grpc-middleware style, for the server and the client side.
	ClassicGRPCServerStarted  = "grpc_server_started_total"
	ClassicGRPCServerHandled  = "grpc_server_handled_total"
	ClassicGRPCServerHandling = "grpc_server_handling_seconds"
	ClassicGRPCClientStarted  = "grpc_client_started_total"
	ClassicGRPCClientHandled  = "grpc_client_handled_total"
	ClassicGRPCClientHandling = "grpc_client_handling_seconds"

	ClassicLabelGRPCType    = "grpc_type"    // unary, client_stream, server_stream, bidi_stream
	ClassicLabelGRPCService = "grpc_service" // "pkg.Service"
	ClassicLabelGRPCMethod  = "grpc_method"  // "Method"
	ClassicLabelGRPCCode    = "grpc_code"    // "OK", "NotFound", "DeadlineExceeded"...
)

// ClassicGRPCServerErrorCodes are the grpc_code values that count as server errors, the codes the
// OpenTelemetry conventions (and this SDK's error_type) call server faults, in go-grpc-middleware's
// spelling.
func ClassicGRPCServerErrorCodes() []string {
	return []string{"Unknown", "DeadlineExceeded", "Unimplemented", "Internal", "Unavailable", "DataLoss"}
}

// ClassicDurationBuckets are client_golang's default buckets (prometheus.DefBuckets), which
// promhttp and go-grpc-middleware users have: the default duration buckets in classic mode.
func ClassicDurationBuckets() []float64 {
	return []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}
}

// ClassicHTTPServerLabels are the labels of ClassicHTTPRequests and ClassicHTTPDuration, sorted.
func ClassicHTTPServerLabels() []string {
	return []string{ClassicLabelCode, ClassicLabelHandler, ClassicLabelMethod}
}

// ClassicGRPCLabels are the labels of the started counters and the handling histograms.
func ClassicGRPCLabels() []string {
	return []string{ClassicLabelGRPCType, ClassicLabelGRPCService, ClassicLabelGRPCMethod}
}

// ClassicGRPCHandledLabels are the labels of the handled counters.
func ClassicGRPCHandledLabels() []string {
	return []string{ClassicLabelGRPCType, ClassicLabelGRPCService, ClassicLabelGRPCMethod, ClassicLabelGRPCCode}
}
