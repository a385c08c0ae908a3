package reliability

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	collmetrics "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	colltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/perfobs/perfobs-go/perfobs"
)

// otlpReceiver is a loopback OTLP/HTTP receiver that decodes what it gets and counts spans and
// metric exports.
type otlpReceiver struct {
	*httptest.Server
	spans, metricExports, bad atomic.Int64
}

func newOTLPReceiver(t testing.TB) *otlpReceiver {
	rc := &otlpReceiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			rc.bad.Add(1)
			return
		}
		var reply proto.Message
		switch r.URL.Path {
		case "/v1/traces":
			var req colltrace.ExportTraceServiceRequest
			if err := proto.Unmarshal(body, &req); err != nil {
				rc.bad.Add(1)
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			for _, rs := range req.GetResourceSpans() {
				for _, ss := range rs.GetScopeSpans() {
					rc.spans.Add(int64(len(ss.GetSpans())))
				}
			}
			reply = &colltrace.ExportTraceServiceResponse{}
		case "/v1/metrics":
			var req collmetrics.ExportMetricsServiceRequest
			if err := proto.Unmarshal(body, &req); err != nil {
				rc.bad.Add(1)
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			rc.metricExports.Add(1)
			reply = &collmetrics.ExportMetricsServiceResponse{}
		default:
			rc.bad.Add(1)
			http.NotFound(w, r)
			return
		}
		b, _ := proto.Marshal(reply)
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(b)
	}))
	t.Cleanup(rc.Close)
	return rc
}

// everyFeature is a Config with every feature of the facade on: runtime metrics, profiling to
// pyroscope (a base URL), tracing of every request and the OTLP metrics push to otlp (a base
// URL), both over OTLP/HTTP.
func everyFeature(service, pyroscope, otlp string) perfobs.Config {
	return perfobs.Config{
		Service:   service,
		Version:   "1.0.0",
		LookupEnv: noEnv,
		Logger:    quietLogger(),
		Profiling: perfobs.ProfilingConfig{
			ServerAddress:        pyroscope,
			UploadRate:           time.Second,
			UploadTimeout:        5 * time.Second,
			MutexProfileFraction: 10,
			BlockProfileRate:     100_000,
		},
		Tracing: perfobs.TracingConfig{
			Endpoint: otlp + "/v1/traces",
			Protocol: "http/protobuf",
			Sampler:  sdktrace.AlwaysSample(),
		},
		OTLPMetrics: perfobs.OTLPMetricsConfig{
			Endpoint: otlp + "/v1/metrics",
			Protocol: "http/protobuf",
			Interval: time.Second,
		},
	}
}
