package alerts

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// SpecVersion is the only spec version this package reads.
const SpecVersion = 1

// Spec is an SLO spec file as written, before defaults are applied. ParseSpec fills it; NewModel
// checks it and turns it into a Model. Unexported fields hold the line of each element in the file (0
// when absent), so that every later error can name it.
//
// A full example:
//
//	version: 1
//	service: checkout              # service label of every rule; or service_label: job
//	match: {job: checkout}         # series selector; default {job: <service>}
//	window: 30d                    # SLO period in whole days, at least 7d; default 30d
//	tier: "1"                      # tier label of every alert; default "2"
//	labels: {team: payments}       # extra labels on every alert
//	runbook_url: https://runbooks.example.com/{service}/{slo}
//	dashboard_url: https://grafana.example.com/d/perfobs-slo?var-service={service}
//	min_requests: 100              # requests a long window must hold before its alert fires
//	buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5]  # only when the service uses its own buckets
//	histograms: classic            # or native: the service uses middleware.WithNativeHistograms and
//	                               # Prometheus runs with --enable-feature=native-histograms
//	naming: classic                # the service uses middleware.WithClassicNames (promhttp's and
//	                               # go-grpc-middleware's names); default: the default names
//	runtime:                       # Go runtime alerts (on by default)
//	  goroutines_min: 500
//	  goroutine_growth_per_hour: 250
//	  memory_limit_ratio: 0.9
//	  gc_cpu_ratio: 0.2
//	  sched_latency_p99: 50ms
//	slos:
//	  - name: availability
//	    kind: availability           # or latency
//	    protocol: http               # or grpc; default http
//	    objective: 99.9              # percent, in (0, 100)
//	  - name: checkout-latency
//	    kind: latency
//	    threshold: 250ms             # must be one of the buckets
//	    objective: 99
//	    routes: ["/cart", "/checkout/{id}"]   # http: http_route values; grpc: methods: ["shop.Cart/Add"]
type Spec struct {
	file string // the file name errors are reported against

	Version      int
	Service      string
	ServiceLabel string
	Match        map[string]string
	Window       time.Duration
	Tier         string
	Labels       map[string]string
	RunbookURL   string
	DashboardURL string
	MinRequests  *float64
	Buckets      []float64
	Histograms   HistogramMode // HistogramsClassic, HistogramsNative or "" (classic)
	Naming       string        // "default" or "" (the semantic conventions' names), or "classic"
	Runtime      *RuntimeSpec
	SLOs         []SLOSpec

	line      int            // line of the document
	fieldLine map[string]int // line of each top-level key that was set
}

// SLOSpec is one entry of the spec's slos list.
type SLOSpec struct {
	Name         string
	Kind         Kind
	Protocol     Protocol
	Objective    float64
	Threshold    time.Duration
	Routes       []string
	Methods      []string
	Description  string
	RunbookURL   string
	DashboardURL string

	line      int            // line of the list entry
	fieldLine map[string]int // line of each key that was set
}

// RuntimeSpec tunes the Go runtime alerts. Zero fields keep the defaults.
type RuntimeSpec struct {
	Disabled               bool
	GoroutinesMin          float64
	GoroutineGrowthPerHour float64
	MemoryLimitRatio       float64
	GCCPURatio             float64
	SchedLatencyP99        time.Duration

	line      int
	fieldLine map[string]int
}

// Problem is one thing wrong with a spec: where it is, which field, and what is wrong.
type Problem struct {
	File  string
	Line  int
	Field string // path such as "slos[1].objective"; empty for the document
	Err   error
}

// Error formats the problem as file:line: field: message.
func (p Problem) Error() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	b.WriteString(": ")
	if p.Field != "" {
		b.WriteString(p.Field)
		b.WriteString(": ")
	}
	b.WriteString(p.Err.Error())
	return b.String()
}

// Unwrap returns the underlying error, which wraps one of the sentinels.
func (p Problem) Unwrap() error { return p.Err }

// SpecError lists every problem found in a spec, in file order. Use errors.As to read them and
// errors.Is with the sentinels (ErrUnknownField, ErrInvalidValue...) to classify them.
type SpecError struct {
	Problems []Problem
}

// Error lists the problems, one a line.
func (e *SpecError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the problems, so errors.Is finds a sentinel in any of them.
func (e *SpecError) Unwrap() []error {
	errs := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		errs[i] = p
	}
	return errs
}

// Sentinels for errors.Is.
var (
	ErrSyntax       = errors.New("invalid YAML")
	ErrUnknownField = errors.New("unknown field")
	ErrRequired     = errors.New("required")
	ErrInvalidValue = errors.New("invalid value")
	ErrDuplicate    = errors.New("duplicate")
	ErrNotABucket   = errors.New("not a bucket boundary")
)

// problems collects Problems while a spec is read or checked.
type problems struct {
	file string
	list []Problem
}

func (ps *problems) add(line int, field string, err error) {
	ps.list = append(ps.list, Problem{File: ps.file, Line: line, Field: field, Err: err})
}

func (ps *problems) addf(line int, field string, sentinel error, format string, args ...any) {
	ps.add(line, field, fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), sentinel))
}

func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	slices.SortStableFunc(ps.list, func(a, b Problem) int { return a.Line - b.Line })
	return &SpecError{Problems: ps.list}
}

// ParseSpec reads an SLO spec. It refuses unknown fields, values of the wrong type and malformed
// durations, naming file, line and field; it does not check values against each other (NewModel
// does). file is used only in error messages.
func ParseSpec(file string, data []byte) (*Spec, error) {
	ps := &problems{file: file}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		msg := yamlLineRE.ReplaceAllString(strings.TrimPrefix(err.Error(), "yaml: "), "")
		ps.add(yamlErrLine(err), "", fmt.Errorf("%w: %s", ErrSyntax, msg))
		return nil, ps.err()
	}
	s := &Spec{file: file, fieldLine: map[string]int{}}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		ps.addf(1, "", ErrRequired, "empty spec")
		return nil, ps.err()
	}
	root := doc.Content[0]
	s.line = root.Line
	if root.Kind != yaml.MappingNode {
		ps.addf(root.Line, "", ErrInvalidValue, "spec must be a mapping, not %s", kindName(root))
		return nil, ps.err()
	}
	r := reader{ps: ps}
	r.fields(root, "", func(key string, v *yaml.Node) bool {
		s.fieldLine[key] = v.Line
		switch key {
		case "version":
			s.Version = r.int(v, key)
		case "service":
			s.Service = r.str(v, key)
		case "service_label":
			s.ServiceLabel = r.str(v, key)
		case "match":
			s.Match = r.strMap(v, key)
		case "window":
			s.Window = r.days(v, key)
		case "tier":
			s.Tier = r.str(v, key)
		case "labels":
			s.Labels = r.strMap(v, key)
		case "runbook_url":
			s.RunbookURL = r.str(v, key)
		case "dashboard_url":
			s.DashboardURL = r.str(v, key)
		case "min_requests":
			f := r.float(v, key)
			s.MinRequests = &f
		case "buckets":
			s.Buckets = r.floats(v, key)
		case "histograms":
			s.Histograms = HistogramMode(r.str(v, key))
		case "naming":
			s.Naming = r.str(v, key)
		case "runtime":
			s.Runtime = r.runtime(v, key)
		case "slos":
			s.SLOs = r.slos(v, key)
		default:
			return false
		}
		return true
	})
	if err := ps.err(); err != nil {
		return nil, err
	}
	return s, nil
}

var yamlLineRE = regexp.MustCompile(`line (\d+): `)

func yamlErrLine(err error) int {
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	default:
		return fmt.Sprintf("%q", n.Value)
	}
}

// reader turns yaml nodes into Go values, recording a Problem for each one of the wrong shape.
type reader struct{ ps *problems }

// fields calls set for each key of mapping n; set returns false for an unknown key. Duplicate
// keys are problems.
func (r reader) fields(n *yaml.Node, path string, set func(key string, v *yaml.Node) bool) {
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		field := join(path, k.Value)
		if k.Kind != yaml.ScalarNode {
			r.ps.addf(k.Line, path, ErrInvalidValue, "key must be a string")
			continue
		}
		if prev, ok := seen[k.Value]; ok {
			r.ps.addf(k.Line, field, ErrDuplicate, "key already set on line %d", prev)
			continue
		}
		seen[k.Value] = k.Line
		if v.Kind == yaml.AliasNode {
			r.ps.addf(v.Line, field, ErrInvalidValue, "aliases are not supported")
			continue
		}
		if !set(k.Value, v) {
			r.ps.add(k.Line, field, ErrUnknownField)
		}
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (r reader) scalar(v *yaml.Node, field, want string) bool {
	if v.Kind != yaml.ScalarNode {
		r.ps.addf(v.Line, field, ErrInvalidValue, "want %s, not %s", want, kindName(v))
		return false
	}
	return true
}

func (r reader) str(v *yaml.Node, field string) string {
	if !r.scalar(v, field, "a string") {
		return ""
	}
	if v.Tag == "!!null" {
		return ""
	}
	return v.Value
}

func (r reader) int(v *yaml.Node, field string) int {
	if !r.scalar(v, field, "an integer") {
		return 0
	}
	n, err := strconv.Atoi(v.Value)
	if err != nil {
		r.ps.addf(v.Line, field, ErrInvalidValue, "%q: want an integer", v.Value)
	}
	return n
}

func (r reader) float(v *yaml.Node, field string) float64 {
	if !r.scalar(v, field, "a number") {
		return 0
	}
	f, err := strconv.ParseFloat(strings.TrimSuffix(v.Value, "%"), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		r.ps.addf(v.Line, field, ErrInvalidValue, "%q: want a number", v.Value)
		return 0
	}
	return f
}

func (r reader) bool(v *yaml.Node, field string) bool {
	if !r.scalar(v, field, "true or false") {
		return false
	}
	switch v.Value {
	case "true":
		return true
	case "false":
		return false
	}
	r.ps.addf(v.Line, field, ErrInvalidValue, "%q: want true or false", v.Value)
	return false
}

func (r reader) duration(v *yaml.Node, field string) time.Duration {
	if !r.scalar(v, field, "a duration") {
		return 0
	}
	d, err := time.ParseDuration(v.Value)
	if err != nil {
		r.ps.addf(v.Line, field, ErrInvalidValue, "%q: want a duration such as 250ms or 1s", v.Value)
		return 0
	}
	return d
}

var daysRE = regexp.MustCompile(`^([0-9]{1,4})([dw])$`)

// days reads a window such as 30d or 4w.
func (r reader) days(v *yaml.Node, field string) time.Duration {
	if !r.scalar(v, field, "a window") {
		return 0
	}
	m := daysRE.FindStringSubmatch(v.Value)
	if m == nil {
		r.ps.addf(v.Line, field, ErrInvalidValue, "%q: want whole days or weeks such as 30d, 28d or 4w", v.Value)
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	if m[2] == "w" {
		n *= 7
	}
	return time.Duration(n) * 24 * time.Hour
}

func (r reader) strMap(v *yaml.Node, field string) map[string]string {
	if v.Kind != yaml.MappingNode {
		r.ps.addf(v.Line, field, ErrInvalidValue, "want a mapping, not %s", kindName(v))
		return nil
	}
	m := map[string]string{}
	r.fields(v, field, func(key string, val *yaml.Node) bool {
		m[key] = r.str(val, join(field, key))
		return true
	})
	return m
}

func (r reader) list(v *yaml.Node, field string) []*yaml.Node {
	if v.Kind != yaml.SequenceNode {
		r.ps.addf(v.Line, field, ErrInvalidValue, "want a list, not %s", kindName(v))
		return nil
	}
	return v.Content
}

func (r reader) strs(v *yaml.Node, field string) []string {
	var out []string
	for i, e := range r.list(v, field) {
		out = append(out, r.str(e, fmt.Sprintf("%s[%d]", field, i)))
	}
	return out
}

func (r reader) floats(v *yaml.Node, field string) []float64 {
	var out []float64
	for i, e := range r.list(v, field) {
		out = append(out, r.float(e, fmt.Sprintf("%s[%d]", field, i)))
	}
	return out
}

func (r reader) runtime(v *yaml.Node, field string) *RuntimeSpec {
	rt := &RuntimeSpec{line: v.Line, fieldLine: map[string]int{}}
	if v.Kind != yaml.MappingNode {
		r.ps.addf(v.Line, field, ErrInvalidValue, "want a mapping, not %s", kindName(v))
		return rt
	}
	r.fields(v, field, func(key string, val *yaml.Node) bool {
		rt.fieldLine[key] = val.Line
		f := join(field, key)
		switch key {
		case "disabled":
			rt.Disabled = r.bool(val, f)
		case "goroutines_min":
			rt.GoroutinesMin = r.float(val, f)
		case "goroutine_growth_per_hour":
			rt.GoroutineGrowthPerHour = r.float(val, f)
		case "memory_limit_ratio":
			rt.MemoryLimitRatio = r.float(val, f)
		case "gc_cpu_ratio":
			rt.GCCPURatio = r.float(val, f)
		case "sched_latency_p99":
			rt.SchedLatencyP99 = r.duration(val, f)
		default:
			return false
		}
		return true
	})
	return rt
}

func (r reader) slos(v *yaml.Node, field string) []SLOSpec {
	var out []SLOSpec
	for i, e := range r.list(v, field) {
		path := fmt.Sprintf("%s[%d]", field, i)
		s := SLOSpec{line: e.Line, fieldLine: map[string]int{}}
		if e.Kind != yaml.MappingNode {
			r.ps.addf(e.Line, path, ErrInvalidValue, "want a mapping, not %s", kindName(e))
			continue
		}
		r.fields(e, path, func(key string, val *yaml.Node) bool {
			s.fieldLine[key] = val.Line
			f := join(path, key)
			switch key {
			case "name":
				s.Name = r.str(val, f)
			case "kind":
				s.Kind = Kind(r.str(val, f))
			case "protocol":
				s.Protocol = Protocol(r.str(val, f))
			case "objective":
				s.Objective = r.float(val, f)
			case "threshold":
				s.Threshold = r.duration(val, f)
			case "routes":
				s.Routes = r.strs(val, f)
			case "methods":
				s.Methods = r.strs(val, f)
			case "description":
				s.Description = r.str(val, f)
			case "runbook_url":
				s.RunbookURL = r.str(val, f)
			case "dashboard_url":
				s.DashboardURL = r.str(val, f)
			default:
				return false
			}
			return true
		})
		out = append(out, s)
	}
	return out
}
