package dashboards

import (
	"strings"

	"github.com/perfobs/perfobs-go/catalog"
)

// WithClassicNames makes the RED dashboard read the series of a service instrumented with
// middleware.WithClassicNames: promhttp's http_request_duration_seconds (labels code, handler,
// method) and go-grpc-middleware's grpc_server_handling_seconds and grpc_server_handled_total
// (grpc_service, grpc_method, grpc_code). Build turns it on by itself for a spec with
// naming: classic. The SLO dashboard reads the recording rules, which are the same in both modes.
func WithClassicNames() Option {
	return optionFunc(func(c *config) error {
		c.classic = true
		return nil
	})
}

// redNames are the metric and label names the RED dashboard reads, by naming mode.
type redNames struct {
	http, rpc                      histogram
	route, status, method, rpcCode string
	active                         string
}

func namesFor(cfg *config) redNames {
	if !cfg.classic {
		return redNames{
			http: httpServer.withNative(cfg.native), rpc: rpcServer.withNative(cfg.native),
			route: catalog.LabelRoute, status: catalog.LabelStatusCode, method: catalog.LabelRPCMethod,
			rpcCode: catalog.LabelRPCStatus, active: catalog.HTTPServerActive,
		}
	}
	return redNames{
		http: histogram{name: catalog.ClassicHTTPDuration, errMatcher: catalog.ClassicLabelCode + `=~"5.."`},
		// The handling histogram has no grpc_code: rates and errors come from the handled counter.
		rpc: histogram{name: catalog.ClassicGRPCServerHandling, counter: catalog.ClassicGRPCServerHandled,
			errMatcher: catalog.ClassicLabelGRPCCode + `=~"` + strings.Join(catalog.ClassicGRPCServerErrorCodes(), "|") + `"`},
		route: catalog.ClassicLabelHandler, status: catalog.ClassicLabelCode, method: catalog.ClassicLabelGRPCMethod,
		rpcCode: catalog.ClassicLabelGRPCCode, active: catalog.ClassicHTTPInFlight,
	}
}
