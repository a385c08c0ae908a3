// Package catalog is the one list of metric names, label names, fixed label values and default
// buckets that perfobs-go emits. The middleware writes series from it, and the alert rules and
// dashboards read their queries from it, so a renamed metric cannot leave a rule or a panel behind.
package catalog

// Metric names (OpenTelemetry semantic conventions, in Prometheus form).
const (
	HTTPServerDuration     = "http_server_request_duration_seconds"
	HTTPServerActive       = "http_server_active_requests"
	HTTPServerRequestSize  = "http_server_request_body_size_bytes"
	HTTPServerResponseSize = "http_server_response_body_size_bytes"
	HTTPClientDuration     = "http_client_request_duration_seconds"

	RPCServerDuration = "rpc_server_call_duration_seconds"
	RPCClientDuration = "rpc_client_call_duration_seconds"

	// gRPC message sizes (per message, uncompressed) and message counts (per RPC), from the
	// stats handlers of package grpcmw; the OpenTelemetry RPC semantic conventions'
	// rpc.{server,client}.{request,response}.size and .{requests,responses}_per_rpc.
	RPCServerRequestSize     = "rpc_server_request_size_bytes"
	RPCServerResponseSize    = "rpc_server_response_size_bytes"
	RPCServerRequestsPerRPC  = "rpc_server_requests_per_rpc"
	RPCServerResponsesPerRPC = "rpc_server_responses_per_rpc"
	RPCClientRequestSize     = "rpc_client_request_size_bytes"
	RPCClientResponseSize    = "rpc_client_response_size_bytes"
	RPCClientRequestsPerRPC  = "rpc_client_requests_per_rpc"
	RPCClientResponsesPerRPC = "rpc_client_responses_per_rpc"

	// LabelOverflow counts label values that a cardinality cap collapsed into OtherValue.
	LabelOverflow = "perfobs_label_overflow_total"
)

// Label names.
const (
	LabelMethod     = "http_request_method"
	LabelRoute      = "http_route"
	LabelStatusCode = "http_response_status_code"
	LabelScheme     = "url_scheme"
	LabelErrorType  = "error_type"
	LabelServerAddr = "server_address"
	LabelServerPort = "server_port"

	LabelRPCSystem = "rpc_system_name"
	LabelRPCMethod = "rpc_method"
	LabelRPCStatus = "rpc_response_status_code"

	// Labels of LabelOverflow.
	LabelMetric = "metric"
	LabelLabel  = "label"
)

// Fixed label values.
const (
	// OtherValue replaces an unknown HTTP method, and any label value that a cardinality cap
	// collapsed (the semantic conventions use _OTHER for unknown methods).
	OtherValue = "_OTHER"
	// UnmatchedRoute is http_route for requests that matched no route: no ServeMux pattern,
	// no route function result and no SetRoute call.
	UnmatchedRoute = "_unmatched"
	// RPCSystemGRPC is rpc_system_name for gRPC.
	RPCSystemGRPC = "grpc"
	// ErrorPanic is error_type when a handler panicked.
	ErrorPanic = "panic"
	// ErrorAborted is error_type when a handler aborted with http.ErrAbortHandler.
	ErrorAborted = "aborted"
)

// DefaultDurationBuckets are the semantic conventions' advisory buckets for request durations, in seconds.
func DefaultDurationBuckets() []float64 {
	return []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}
}

// DefaultSizeBuckets are byte buckets for body sizes: powers of four from 64 B to 64 MiB.
func DefaultSizeBuckets() []float64 {
	b := make([]float64, 0, 11)
	for v := 64.0; v <= 64<<20; v *= 4 {
		b = append(b, v)
	}
	return b
}

// DefaultMessageCountBuckets are the buckets of the gRPC messages-per-RPC histograms: powers of
// two from 1 to 16384.
func DefaultMessageCountBuckets() []float64 {
	b := make([]float64, 0, 15)
	for v := 1.0; v <= 16384; v *= 2 {
		b = append(b, v)
	}
	return b
}

// Metric describes one metric family for documentation and tests.
type Metric struct {
	Name   string
	Type   string // "histogram", "gauge" or "counter"
	Help   string
	Labels []string
	OptIn  string // empty when always on, else the option that turns it on
}

var (
	httpServerLabels = []string{LabelMethod, LabelRoute, LabelStatusCode, LabelScheme, LabelErrorType}
	httpClientLabels = []string{LabelMethod, LabelServerAddr, LabelServerPort, LabelStatusCode, LabelErrorType}
	rpcLabels        = []string{LabelRPCSystem, LabelRPCMethod, LabelRPCStatus, LabelErrorType}
	rpcSizeLabels    = []string{LabelRPCSystem, LabelRPCMethod}
)

// HTTPServerLabels returns the label names of the HTTP server histograms, in exposition order.
func HTTPServerLabels() []string { return append([]string(nil), httpServerLabels...) }

// HTTPClientLabels returns the label names of the HTTP client histogram.
func HTTPClientLabels() []string { return append([]string(nil), httpClientLabels...) }

// RPCLabels returns the label names of the RPC duration histograms.
func RPCLabels() []string { return append([]string(nil), rpcLabels...) }

// RPCSizeLabels returns the label names of the gRPC message-size histograms. They are recorded
// per message, before the RPC's status is known, so they carry no status.
func RPCSizeLabels() []string { return append([]string(nil), rpcSizeLabels...) }

// Metrics returns every metric family the middleware packages can emit, for the README's
// reference table and the tests that keep it equal to the code.
func Metrics() []Metric {
	return []Metric{
		{HTTPServerDuration, "histogram", "Duration of HTTP server requests.", HTTPServerLabels(), ""},
		{HTTPServerActive, "gauge", "Number of HTTP server requests in flight.", []string{LabelMethod, LabelScheme}, ""},
		{HTTPServerRequestSize, "histogram", "Size of HTTP server request bodies.", HTTPServerLabels(), "WithBodySizes"},
		{HTTPServerResponseSize, "histogram", "Size of HTTP server response bodies.", HTTPServerLabels(), "WithBodySizes"},
		{HTTPClientDuration, "histogram", "Duration of HTTP client requests.", HTTPClientLabels(), ""},
		{RPCServerDuration, "histogram", "Duration of RPCs received by the server.", RPCLabels(), ""},
		{RPCClientDuration, "histogram", "Duration of RPCs made by the client.", RPCLabels(), ""},
		{RPCServerRequestSize, "histogram", "Size of each request message received by the server, uncompressed.", RPCSizeLabels(), "grpcmw.ServerStatsHandler"},
		{RPCServerResponseSize, "histogram", "Size of each response message sent by the server, uncompressed.", RPCSizeLabels(), "grpcmw.ServerStatsHandler"},
		{RPCServerRequestsPerRPC, "histogram", "Number of request messages received per RPC by the server.", RPCLabels(), "grpcmw.ServerStatsHandler"},
		{RPCServerResponsesPerRPC, "histogram", "Number of response messages sent per RPC by the server.", RPCLabels(), "grpcmw.ServerStatsHandler"},
		{RPCClientRequestSize, "histogram", "Size of each request message sent by the client, uncompressed.", RPCSizeLabels(), "grpcmw.ClientStatsHandler"},
		{RPCClientResponseSize, "histogram", "Size of each response message received by the client, uncompressed.", RPCSizeLabels(), "grpcmw.ClientStatsHandler"},
		{RPCClientRequestsPerRPC, "histogram", "Number of request messages sent per RPC by the client.", RPCLabels(), "grpcmw.ClientStatsHandler"},
		{RPCClientResponsesPerRPC, "histogram", "Number of response messages received per RPC by the client.", RPCLabels(), "grpcmw.ClientStatsHandler"},
		{LabelOverflow, "counter", "Label values collapsed into _OTHER by a cardinality cap.", []string{LabelMetric, LabelLabel}, ""},
		{CollectorPanics, "counter", "Panics of collectors registered through Observer.Registerer; their metrics are left out of that scrape.", nil, "Observer.Registerer"},
		{ProfilingDropped, "counter", "Profiles not uploaded to Pyroscope, by reason.", []string{LabelReason}, "Config.Profiling"},
		{FlightRecorderSnapshots, "counter", "Flight-recorder snapshots taken because a request broke its latency budget.", nil, "Config.FlightRecorder"},
		{FlightRecorderSkipped, "counter", "Slow requests that took no flight-recorder snapshot, by reason (cooldown, busy, cap, error).", []string{LabelReason}, "Config.FlightRecorder"},
	}
}

// CollectorPanics counts panics of the service's own collectors registered through the facade's
// Observer.Registerer: a panicking collector is left out of that scrape instead of ending the process.
const CollectorPanics = "perfobs_collector_panics_total"

// Exemplar label names: the trace and span of a sampled observation, as OpenMetrics exemplars
// carry them and Grafana's trace links read them.
const (
	ExemplarTraceID = "trace_id"
	ExemplarSpanID  = "span_id"
)

// ProfilingDropped counts the profiles the facade's profiler did not upload, by LabelReason: one of
// ReasonQueueFull, ReasonUploadError or ReasonShutdown.
const ProfilingDropped = "perfobs_profiling_dropped_total"

// Flight recorder (package flightrecorder): snapshots taken, and slow requests that took none, by
// LabelReason: one of "cooldown", "busy", "cap", "error". FlightRecorderSnapshotAttr is the span
// attribute that names the snapshot covering a slow request.
const (
	FlightRecorderSnapshots    = "perfobs_flightrecorder_snapshots_total"
	FlightRecorderSkipped      = "perfobs_flightrecorder_skipped_total"
	FlightRecorderSnapshotAttr = "perfobs.flightrecorder.snapshot_id"
)

// LabelReason is the label of ProfilingDropped, and its values.
const (
	LabelReason = "reason"
	// ReasonQueueFull: the upload queue was full (the server too slow or unreachable).
	ReasonQueueFull = "queue_full"
	// ReasonUploadError: the upload failed (refused, timed out or rejected); it is not retried.
	ReasonUploadError = "upload_error"
	// ReasonShutdown: still queued when Shutdown's context ended.
	ReasonShutdown = "shutdown"
)
