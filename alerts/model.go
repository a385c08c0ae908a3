package alerts

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/internal/promql"
)

// Kind is what an SLO counts as a bad event.
type Kind string

// SLO kinds.
const (
	KindAvailability Kind = "availability" // bad events: requests with a non-empty error_type
	KindLatency      Kind = "latency"      // bad events: requests slower than the threshold
)

// Protocol is which server metric an SLO reads.
type Protocol string

// Protocols.
const (
	ProtocolHTTP Protocol = "http" // http_server_request_duration_seconds
	ProtocolGRPC Protocol = "grpc" // rpc_server_call_duration_seconds
)

// Defaults applied by NewModel.
const (
	defaultWindow      = 30 * 24 * time.Hour
	defaultTier        = "2"
	defaultMinRequests = 100
	// minWindow is the shortest SLO window: the slowest ticket alert looks at 3 days.
	minWindow = 7 * 24 * time.Hour
	// maxWindow is the longest SLO window.
	maxWindow = 365 * 24 * time.Hour
)

// Model is a checked SLO spec with every default applied: what the renderers read.
type Model struct {
	// Service is the service label of every rule, or "" when ServiceLabel is set.
	Service string
	// ServiceLabel, when set, makes one set of rules serve every value of that series label
	// (the shipped defaults use job): the service label of an alert is that label's value.
	ServiceLabel string
	// Match selects the service's series, sorted by label name.
	Match        []Matcher
	Period       time.Duration
	Tier         string
	Labels       map[string]string
	RunbookURL   string
	DashboardURL string
	// MinRequests is how many requests the long window of a burn-rate alert must hold before
	// the alert may fire.
	MinRequests float64
	Buckets     []float64
	// Histograms is HistogramsClassic or HistogramsNative: which series of the duration
	// histograms the rules read.
	Histograms HistogramMode
	// Naming is "default" or "classic" (middleware.WithClassicNames): which names the rules read.
	Naming string
	// Windows are the burn-rate alert windows, from policy(Period).
	Windows []AlertWindow
	SLOs    []SLO
	// Runtime is nil when the runtime alerts are disabled.
	Runtime *RuntimeModel
}

// Matcher is one label=value equality matcher.
type Matcher struct{ Name, Value string }

// SLO is one objective of a Model.
type SLO struct {
	Name     string
	Kind     Kind
	Protocol Protocol
	// Objective is a ratio in (0, 1): 99.9 in the spec is 0.999 here.
	Objective float64
	// Threshold is the latency bound in seconds (latency SLOs only); a bucket boundary (a native
	// one with HistogramsNative).
	Threshold float64
	// Routes (HTTP) or Methods (gRPC) restrict the SLO to some endpoints; empty means all.
	Routes       []string
	Methods      []string
	Description  string
	RunbookURL   string
	DashboardURL string
}

// ErrorBudget returns 1 - Objective.
func (s SLO) ErrorBudget() float64 { return 1 - s.Objective }

// RuntimeModel holds the thresholds of the Go runtime alerts.
type RuntimeModel struct {
	GoroutinesMin          float64
	GoroutineGrowthPerHour float64
	MemoryLimitRatio       float64
	GCCPURatio             float64
	SchedLatencyP99        float64 // seconds
}

// defaultRuntime returns the default thresholds of the Go runtime alerts.
func defaultRuntime() RuntimeModel {
	return RuntimeModel{
		GoroutinesMin:          500,
		GoroutineGrowthPerHour: 250,
		MemoryLimitRatio:       0.9,
		GCCPURatio:             0.2,
		SchedLatencyP99:        0.05,
	}
}

var (
	labelNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	sloNameRE   = regexp.MustCompile(`^[a-z0-9]([a-z0-9_-]{0,62}[a-z0-9])?$`)
	grpcRE      = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.]*/[A-Za-z_][A-Za-z0-9_]*$`)
)

// reservedLabels are set by the generator and cannot be overridden through labels.
var reservedLabels = []string{"severity", "slo", "service", "tier", "alertname"}

// NewModel checks a spec and applies the defaults. Every problem found is reported, each with
// its line, in one *SpecError.
func NewModel(s *Spec) (*Model, error) {
	ps := &problems{file: s.file}
	line := func(key string) int {
		if l := s.fieldLine[key]; l > 0 {
			return l
		}
		return s.line
	}
	m := &Model{
		Service:      s.Service,
		ServiceLabel: s.ServiceLabel,
		Period:       s.Window,
		Tier:         s.Tier,
		Labels:       map[string]string{},
		RunbookURL:   s.RunbookURL,
		DashboardURL: s.DashboardURL,
		MinRequests:  defaultMinRequests,
		Buckets:      catalog.DefaultDurationBuckets(),
		Histograms:   HistogramsClassic,
	}
	switch {
	case s.fieldLine["version"] == 0:
		ps.addf(s.line, "version", ErrRequired, "set version: %d", SpecVersion)
	case s.Version != SpecVersion:
		ps.addf(line("version"), "version", ErrInvalidValue, "%d: only version %d is known", s.Version, SpecVersion)
	}
	switch {
	case s.Service == "" && s.ServiceLabel == "":
		ps.addf(s.line, "service", ErrRequired, "set service (or service_label)")
	case s.Service != "" && s.ServiceLabel != "":
		ps.addf(line("service_label"), "service_label", ErrInvalidValue, "set service or service_label, not both")
	case s.ServiceLabel != "" && (!labelNameRE.MatchString(s.ServiceLabel) || s.ServiceLabel == "service"):
		ps.addf(line("service_label"), "service_label", ErrInvalidValue, "%q: want a label name other than service", s.ServiceLabel)
	}
	for k, v := range s.Match {
		if !labelNameRE.MatchString(k) {
			ps.addf(line("match"), "match."+k, ErrInvalidValue, "%q is not a label name", k)
		}
		m.Match = append(m.Match, Matcher{k, v})
	}
	slices.SortFunc(m.Match, func(a, b Matcher) int { return strings.Compare(a.Name, b.Name) })
	if s.Match == nil && s.Service != "" {
		m.Match = []Matcher{{"job", s.Service}}
	}
	if s.fieldLine["window"] == 0 {
		m.Period = defaultWindow
	} else if s.Window < minWindow || s.Window > maxWindow {
		ps.addf(line("window"), "window", ErrInvalidValue, "%s: must be from 7d (the slowest ticket alert looks at 3d) to 365d", promql.Duration(s.Window))
	}
	if m.Tier == "" {
		m.Tier = defaultTier
	}
	for k, v := range s.Labels {
		switch {
		case !labelNameRE.MatchString(k):
			ps.addf(line("labels"), "labels."+k, ErrInvalidValue, "%q is not a label name", k)
		case slices.Contains(reservedLabels, k):
			ps.addf(line("labels"), "labels."+k, ErrInvalidValue, "%q is set by the generator", k)
		}
		m.Labels[k] = v
	}
	if s.MinRequests != nil {
		if *s.MinRequests < 0 {
			ps.addf(line("min_requests"), "min_requests", ErrInvalidValue, "%g: must not be negative", *s.MinRequests)
		}
		m.MinRequests = *s.MinRequests
	}
	if s.fieldLine["buckets"] > 0 {
		m.Buckets = s.Buckets
		if len(s.Buckets) == 0 {
			ps.addf(line("buckets"), "buckets", ErrInvalidValue, "empty list")
		}
		for i, b := range s.Buckets {
			if b <= 0 || i > 0 && b <= s.Buckets[i-1] {
				ps.addf(line("buckets"), fmt.Sprintf("buckets[%d]", i), ErrInvalidValue, "%g: buckets must be positive and increasing", b)
			}
		}
	}
	m.Naming = namingDefault
	switch s.Naming {
	case "", namingDefault:
	case namingClassic:
		m.Naming = namingClassic
		if len(s.Buckets) == 0 {
			m.Buckets = catalog.ClassicDurationBuckets()
		}
		if s.Histograms == HistogramsNative {
			ps.addf(line("naming"), "naming", ErrInvalidValue, "classic names have no native histograms: drop histograms: native")
		}
		for i, spec := range s.SLOs {
			if p := classicMethodsProblem(spec.Methods); p != "" {
				ps.addf(spec.line, fmt.Sprintf("slos[%d].methods", i), ErrInvalidValue, "%s", p)
			}
		}
	default:
		ps.addf(line("naming"), "naming", ErrInvalidValue, "%q: want default or classic", s.Naming)
	}
	switch s.Histograms {
	case "", HistogramsClassic:
	case HistogramsNative:
		m.Histograms = HistogramsNative
	default:
		ps.addf(line("histograms"), "histograms", ErrInvalidValue, "%q: want classic or native", s.Histograms)
	}
	for _, u := range []struct{ field, url string }{{"runbook_url", s.RunbookURL}, {"dashboard_url", s.DashboardURL}} {
		checkURL(ps, line(u.field), u.field, u.url)
	}
	m.Runtime = runtimeModel(ps, s.Runtime)
	if m.Period >= minWindow && m.Period <= maxWindow {
		m.Windows = policy(m.Period)
	}
	if len(s.SLOs) == 0 && s.fieldLine["slos"] == 0 && m.Runtime == nil {
		ps.addf(s.line, "slos", ErrRequired, "list at least one SLO (or leave the runtime alerts on)")
	}
	names := map[string]int{}
	for i, spec := range s.SLOs {
		path := fmt.Sprintf("slos[%d]", i)
		if prev, ok := names[spec.Name]; ok && spec.Name != "" {
			ps.addf(spec.line, path+".name", ErrDuplicate, "%q already used on line %d", spec.Name, prev)
		}
		names[spec.Name] = spec.line
		m.SLOs = append(m.SLOs, sloModel(ps, path, spec, m.Buckets, m.Native()))
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	return m, nil
}

func checkURL(ps *problems, line int, field, u string) {
	if u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		ps.addf(line, field, ErrInvalidValue, "%q: want an http or https URL", u)
	}
}

func runtimeModel(ps *problems, rs *RuntimeSpec) *RuntimeModel {
	rt := defaultRuntime()
	if rs == nil {
		return &rt
	}
	if rs.Disabled {
		return nil
	}
	set := func(key string, v float64, dst *float64, max float64) {
		if rs.fieldLine[key] == 0 {
			return
		}
		if v <= 0 || max > 0 && v >= max {
			bound := ""
			if max > 0 {
				bound = fmt.Sprintf(" and below %g", max)
			}
			ps.addf(rs.fieldLine[key], "runtime."+key, ErrInvalidValue, "%g: must be above 0%s", v, bound)
			return
		}
		*dst = v
	}
	set("goroutines_min", rs.GoroutinesMin, &rt.GoroutinesMin, 0)
	set("goroutine_growth_per_hour", rs.GoroutineGrowthPerHour, &rt.GoroutineGrowthPerHour, 0)
	set("memory_limit_ratio", rs.MemoryLimitRatio, &rt.MemoryLimitRatio, 1)
	set("gc_cpu_ratio", rs.GCCPURatio, &rt.GCCPURatio, 1)
	set("sched_latency_p99", rs.SchedLatencyP99.Seconds(), &rt.SchedLatencyP99, 0)
	return &rt
}

func sloModel(ps *problems, path string, s SLOSpec, buckets []float64, native bool) SLO {
	line := func(key string) int {
		if l := s.fieldLine[key]; l > 0 {
			return l
		}
		return s.line
	}
	out := SLO{
		Name: s.Name, Kind: s.Kind, Protocol: s.Protocol, Objective: s.Objective / 100,
		Routes: s.Routes, Methods: s.Methods, Description: s.Description,
		RunbookURL: s.RunbookURL, DashboardURL: s.DashboardURL,
	}
	switch {
	case s.Name == "":
		ps.addf(s.line, path+".name", ErrRequired, "every SLO needs a name")
	case !sloNameRE.MatchString(s.Name):
		ps.addf(line("name"), path+".name", ErrInvalidValue, "%q: want lower-case letters, digits, - and _ (at most 64)", s.Name)
	}
	if out.Protocol == "" {
		out.Protocol = ProtocolHTTP
	}
	if out.Protocol != ProtocolHTTP && out.Protocol != ProtocolGRPC {
		ps.addf(line("protocol"), path+".protocol", ErrInvalidValue, "%q: want http or grpc", s.Protocol)
	}
	if s.fieldLine["objective"] == 0 {
		ps.addf(s.line, path+".objective", ErrRequired, "set the objective in percent, such as 99.9")
	} else if !(s.Objective > 0 && s.Objective < 100) {
		ps.addf(line("objective"), path+".objective", ErrInvalidValue, "%g: must be in (0, 100)", s.Objective)
	}
	switch s.Kind {
	case KindAvailability:
		if s.fieldLine["threshold"] > 0 {
			ps.addf(line("threshold"), path+".threshold", ErrInvalidValue, "only latency SLOs have a threshold")
		}
	case KindLatency:
		out.Threshold = s.Threshold.Seconds()
		switch {
		case s.fieldLine["threshold"] == 0 && native:
			ps.addf(s.line, path+".threshold", ErrRequired, "latency SLOs need a threshold, a native bucket boundary such as 250ms, 500ms, 1s or 2s")
		case s.fieldLine["threshold"] == 0:
			ps.addf(s.line, path+".threshold", ErrRequired, "latency SLOs need a threshold, one of the buckets %s", bucketList(buckets))
		case s.Threshold <= 0:
			ps.addf(line("threshold"), path+".threshold", ErrInvalidValue, "%s: must be positive", s.Threshold)
		case native:
			b, ok := nativeBoundary(out.Threshold)
			if !ok {
				ps.addf(line("threshold"), path+".threshold", ErrNotABucket, "%s: %s", s.Threshold, nativeThresholdProblem(out.Threshold))
			}
			out.Threshold = b
		case !onBucket(out.Threshold, buckets):
			ps.addf(line("threshold"), path+".threshold", ErrNotABucket, "%s: the latency threshold must be one of the buckets %s", s.Threshold, bucketList(buckets))
		}
	case "":
		ps.addf(s.line, path+".kind", ErrRequired, "want availability or latency")
	default:
		ps.addf(line("kind"), path+".kind", ErrInvalidValue, "%q: want availability or latency", s.Kind)
	}
	if out.Protocol == ProtocolHTTP && len(s.Methods) > 0 {
		ps.addf(line("methods"), path+".methods", ErrInvalidValue, "methods select gRPC methods; HTTP SLOs select routes")
	}
	if out.Protocol == ProtocolGRPC && len(s.Routes) > 0 {
		ps.addf(line("routes"), path+".routes", ErrInvalidValue, "routes select HTTP routes; gRPC SLOs select methods")
	}
	for i, r := range s.Routes {
		if !strings.HasPrefix(r, "/") {
			ps.addf(line("routes"), fmt.Sprintf("%s.routes[%d]", path, i), ErrInvalidValue, "%q: want a route template starting with /, such as /users/{id}", r)
		}
	}
	for i, meth := range s.Methods {
		if !grpcRE.MatchString(meth) {
			ps.addf(line("methods"), fmt.Sprintf("%s.methods[%d]", path, i), ErrInvalidValue, "%q: want package.Service/Method", meth)
		}
	}
	checkURL(ps, line("runbook_url"), path+".runbook_url", s.RunbookURL)
	checkURL(ps, line("dashboard_url"), path+".dashboard_url", s.DashboardURL)
	return out
}

func onBucket(v float64, buckets []float64) bool {
	for _, b := range buckets {
		if math.Abs(v-b) <= 1e-9*b {
			return true
		}
	}
	return false
}

func bucketList(buckets []float64) string {
	parts := make([]string, len(buckets))
	for i, b := range buckets {
		parts[i] = strconv.FormatFloat(b, 'g', -1, 64) + "s"
	}
	return "[" + strings.Join(parts, " ") + "]"
}
