package alerts

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/perfobs/perfobs-go/catalog"
)

// The naming mode of the spec (naming: classic): the rules read the series that
// middleware.WithClassicNames writes, promhttp's and go-grpc-middleware's names, from the same
// catalogue.
const (
	namingDefault = "default"
	namingClassic = "classic"
)

func (m *Model) classic() bool { return m.Naming == namingClassic }

// sloSeries returns the duration histogram an SLO reads (its _bucket series for latency) and the
// series whose rate counts its requests and errors: the histogram's _count, or in classic mode
// for availability the request counter, which promhttp and go-grpc-middleware users have.
func sloSeries(m *Model, s SLO) (histogram, count string) {
	switch {
	case !m.classic():
		histogram = metricOf(s)
	case s.Protocol == ProtocolGRPC:
		histogram = catalog.ClassicGRPCServerHandling
		if s.Kind == KindAvailability {
			return histogram, catalog.ClassicGRPCServerHandled
		}
	default:
		histogram = catalog.ClassicHTTPDuration
		if s.Kind == KindAvailability {
			return histogram, catalog.ClassicHTTPRequests
		}
	}
	if m.Native() {
		return histogram, histogram
	}
	return histogram, histogram + "_count"
}

// sloHistogram is the duration histogram an SLO reads.
func sloHistogram(m *Model, s SLO) string {
	h, _ := sloSeries(m, s)
	return h
}

// errorMatcher selects an SLO's failed requests.
func errorMatcher(m *Model, s SLO) string {
	switch {
	case !m.classic():
		return catalog.LabelErrorType + `!=""`
	case s.Protocol == ProtocolGRPC:
		return catalog.ClassicLabelGRPCCode + `=~"` + strings.Join(catalog.ClassicGRPCServerErrorCodes(), "|") + `"`
	}
	return catalog.ClassicLabelCode + `=~"5.."`
}

// classicEndpoints returns the matchers of an SLO's routes (the handler label) or methods
// (grpc_service and grpc_method, which NewModel requires to share one service).
func classicEndpoints(s SLO) []string {
	var out []string
	oneOf := func(label string, values []string) {
		switch len(values) {
		case 0:
		case 1:
			out = append(out, label+"="+strconv.Quote(values[0]))
		default:
			q := make([]string, len(values))
			for i, v := range values {
				q[i] = regexp.QuoteMeta(v)
			}
			out = append(out, label+"=~"+strconv.Quote(strings.Join(q, "|")))
		}
	}
	oneOf(catalog.ClassicLabelHandler, s.Routes)
	if len(s.Methods) > 0 {
		service, _, _ := strings.Cut(s.Methods[0], "/")
		var methods []string
		for _, m := range s.Methods {
			_, name, _ := strings.Cut(m, "/")
			methods = append(methods, name)
		}
		oneOf(catalog.ClassicLabelGRPCService, []string{service})
		oneOf(catalog.ClassicLabelGRPCMethod, methods)
	}
	return out
}

// classicMethodsProblem says why an SLO's methods cannot be selected with classic labels, or "".
func classicMethodsProblem(methods []string) string {
	var service string
	for i, m := range methods {
		svc, name, ok := strings.Cut(m, "/")
		if !ok || svc == "" || name == "" || strings.Contains(name, "/") {
			return strconv.Quote(m) + ": want pkg.Service/Method"
		}
		if i > 0 && svc != service {
			return "naming classic selects grpc_service and grpc_method separately: list methods of one service per SLO"
		}
		service = svc
	}
	return ""
}

// classicSeriesLabels are the labels of a simulated series of SLO s in classic mode, for the
// generated promtool tests.
func classicSeriesLabels(m *Model, s SLO, errorSeries, decoy bool) map[string]string {
	l := map[string]string{"instance": "10.0.0.1:8080"}
	if m.ServiceLabel != "" {
		l[m.ServiceLabel] = "app"
	}
	for _, mt := range m.Match {
		l[mt.Name] = mt.Value
	}
	if s.Protocol == ProtocolGRPC {
		l[catalog.ClassicLabelGRPCType] = "unary"
		l[catalog.ClassicLabelGRPCService], l[catalog.ClassicLabelGRPCMethod] = "test.Service", "Call"
		if len(s.Methods) > 0 {
			l[catalog.ClassicLabelGRPCService], l[catalog.ClassicLabelGRPCMethod], _ = strings.Cut(s.Methods[0], "/")
		}
		if s.Kind == KindAvailability { // the handled counter has the code; the histogram has not
			l[catalog.ClassicLabelGRPCCode] = "OK"
			if errorSeries {
				l[catalog.ClassicLabelGRPCCode] = "Internal"
			}
		}
	} else {
		l[catalog.ClassicLabelMethod] = "get"
		l[catalog.ClassicLabelHandler] = "/"
		if len(s.Routes) > 0 {
			l[catalog.ClassicLabelHandler] = s.Routes[0]
		}
		l[catalog.ClassicLabelCode] = "200"
		if errorSeries {
			l[catalog.ClassicLabelCode] = "500"
		}
	}
	if decoy {
		switch {
		case len(s.Routes) > 0:
			l[catalog.ClassicLabelHandler] = "/decoy"
		case len(s.Methods) > 0:
			l[catalog.ClassicLabelGRPCService] = "decoy.Service"
		case len(m.Match) > 0:
			l[m.Match[0].Name] = m.Match[0].Value + "-decoy"
		}
	}
	return l
}
