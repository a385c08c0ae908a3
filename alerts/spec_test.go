package alerts

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadGoodSpecs(t *testing.T) {
	tests := []struct {
		file     string
		service  string
		period   time.Duration
		slos     int
		runtime  bool
		match    []Matcher
		pageFast float64
	}{
		{"checkout.yaml", "checkout", 28 * 24 * time.Hour, 3, true, []Matcher{{"job", "checkout"}}, 13.44},
		{"minimal.yaml", "api", 30 * 24 * time.Hour, 1, true, []Matcher{{"job", "api"}}, 14.4},
		{"own-buckets.yaml", "search", 7 * 24 * time.Hour, 1, false, []Matcher{{"env", "prod"}, {"job", "search"}}, 3.36},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "specs", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			m, err := Load(tt.file, data)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if m.Service != tt.service || m.Period != tt.period || len(m.SLOs) != tt.slos || (m.Runtime != nil) != tt.runtime {
				t.Errorf("model = service %q period %v slos %d runtime %v, want %q %v %d %v",
					m.Service, m.Period, len(m.SLOs), m.Runtime != nil, tt.service, tt.period, tt.slos, tt.runtime)
			}
			if len(m.Match) != len(tt.match) {
				t.Fatalf("match = %v, want %v", m.Match, tt.match)
			}
			for i := range tt.match {
				if m.Match[i] != tt.match[i] {
					t.Errorf("match = %v, want %v", m.Match, tt.match)
				}
			}
			if got := m.Windows[0].Factor; got != tt.pageFast {
				t.Errorf("fast page factor = %v, want %v", got, tt.pageFast)
			}
		})
	}
}

func TestLoadDefaults(t *testing.T) {
	m, err := Load("x.yaml", []byte("version: 1\nservice: api\nslos:\n  - {name: a, kind: availability, objective: 99.5}\n"))
	if err != nil {
		t.Fatal(err)
	}
	rt := defaultRuntime()
	if m.Period != defaultWindow || m.Tier != defaultTier || m.MinRequests != defaultMinRequests ||
		m.Runtime == nil || *m.Runtime != rt || m.SLOs[0].Protocol != ProtocolHTTP {
		t.Errorf("defaults not applied: %+v", m)
	}
	if got := m.SLOs[0].ErrorBudget(); got < 0.00499999 || got > 0.00500001 {
		t.Errorf("error budget = %v, want 0.005", got)
	}
}

// TestSpecErrors checks that each kind of mistake is reported with its line, field and a clear
// message, and classified by a sentinel.
func TestSpecErrors(t *testing.T) {
	const head = "version: 1\nservice: api\n"
	tests := []struct {
		name     string
		spec     string
		line     int
		field    string
		contains string
		sentinel error
	}{
		{"syntax error", "version: 1\n\tservice: api\n", 2, "", "found a tab character", ErrSyntax},
		{"empty spec", "", 1, "", "empty spec", ErrRequired},
		{"not a mapping", "- a\n", 1, "", "must be a mapping", ErrInvalidValue},
		{"unknown top-level field", head + "windw: 30d\n", 3, "windw", "unknown field", ErrUnknownField},
		{"unknown SLO field", head + "slos:\n  - name: a\n    kind: availability\n    objectiv: 99\n", 6, "slos[0].objectiv", "unknown field", ErrUnknownField},
		{"unknown runtime field", head + "runtime:\n  goroutine_min: 5\n", 4, "runtime.goroutine_min", "unknown field", ErrUnknownField},
		{"duplicate key", head + "service: other\n", 3, "service", "already set on line 2", ErrDuplicate},
		{"missing version", "service: api\nslos: []\n", 1, "version", "set version: 1", ErrRequired},
		{"wrong version", "version: 2\nservice: api\n", 1, "version", "only version 1", ErrInvalidValue},
		{"version not a number", "version: one\nservice: api\n", 1, "version", `"one": want an integer`, ErrInvalidValue},
		{"missing service", "version: 1\nslos: []\n", 1, "service", "set service", ErrRequired},
		{"service and service_label", head + "service_label: job\n", 3, "service_label", "not both", ErrInvalidValue},
		{"bad window unit", head + "window: 30h\n", 3, "window", `"30h": want whole days`, ErrInvalidValue},
		{"window below 7d", head + "window: 6d\n", 3, "window", "6d: must be from 7d", ErrInvalidValue},
		{"bad label name", head + "labels: {bad-name: x}\n", 3, "labels.bad-name", "not a label name", ErrInvalidValue},
		{"reserved label", head + "labels: {severity: x}\n", 3, "labels.severity", "set by the generator", ErrInvalidValue},
		{"bad runbook", head + "runbook_url: runbooks/x\n", 3, "runbook_url", "want an http or https URL", ErrInvalidValue},
		{"negative min_requests", head + "min_requests: -1\n", 3, "min_requests", "must not be negative", ErrInvalidValue},
		{"buckets not increasing", head + "buckets: [0.1, 0.05]\n", 3, "buckets[1]", "increasing", ErrInvalidValue},
		{"bad runtime duration", head + "runtime:\n  sched_latency_p99: 50\n", 4, "runtime.sched_latency_p99", `"50": want a duration`, ErrInvalidValue},
		{"runtime ratio above 1", head + "runtime:\n  memory_limit_ratio: 1.5\n", 4, "runtime.memory_limit_ratio", "below 1", ErrInvalidValue},
		{"slos not a list", head + "slos: {name: a}\n", 3, "slos", "want a list", ErrInvalidValue},
		{"missing objective", head + "slos:\n  - name: a\n    kind: availability\n", 4, "slos[0].objective", "set the objective", ErrRequired},
		{"objective 100", head + "slos:\n  - name: a\n    kind: availability\n    objective: 100\n", 6, "slos[0].objective", "100: must be in (0, 100)", ErrInvalidValue},
		{"objective 0", head + "slos:\n  - name: a\n    kind: availability\n    objective: 0\n", 6, "slos[0].objective", "0: must be in (0, 100)", ErrInvalidValue},
		{"objective above 100", head + "slos:\n  - name: a\n    kind: availability\n    objective: 100.5\n", 6, "slos[0].objective", "100.5: must be in (0, 100)", ErrInvalidValue},
		{"objective not a number", head + "slos:\n  - name: a\n    kind: availability\n    objective: high\n", 6, "slos[0].objective", `"high": want a number`, ErrInvalidValue},
		{"unknown kind", head + "slos:\n  - name: a\n    kind: speed\n    objective: 99\n", 5, "slos[0].kind", `"speed": want availability or latency`, ErrInvalidValue},
		{"unknown protocol", head + "slos:\n  - name: a\n    kind: availability\n    protocol: soap\n    objective: 99\n", 6, "slos[0].protocol", `"soap": want http or grpc`, ErrInvalidValue},
		{"bad name", head + "slos:\n  - name: Checkout SLO\n    kind: availability\n    objective: 99\n", 4, "slos[0].name", "lower-case", ErrInvalidValue},
		{"duplicate names", head + "slos:\n  - {name: a, kind: availability, objective: 99}\n  - {name: a, kind: availability, objective: 98}\n", 5, "slos[1].name", `"a" already used on line 4`, ErrDuplicate},
		{"latency without threshold", head + "slos:\n  - name: a\n    kind: latency\n    objective: 99\n", 4, "slos[0].threshold", "need a threshold, one of the buckets [0.005s 0.01s", ErrRequired},
		{"threshold off the buckets", head + "slos:\n  - name: a\n    kind: latency\n    threshold: 300ms\n    objective: 99\n", 6, "slos[0].threshold",
			"300ms: the latency threshold must be one of the buckets [0.005s 0.01s 0.025s 0.05s 0.075s 0.1s 0.25s 0.5s 0.75s 1s 2.5s 5s 7.5s 10s]", ErrNotABucket},
		{"threshold off own buckets", head + "buckets: [0.1, 0.3]\nslos:\n  - name: a\n    kind: latency\n    threshold: 250ms\n    objective: 99\n", 7, "slos[0].threshold", "one of the buckets [0.1s 0.3s]", ErrNotABucket},
		{"bad threshold duration", head + "slos:\n  - name: a\n    kind: latency\n    threshold: fast\n    objective: 99\n", 6, "slos[0].threshold", `"fast": want a duration`, ErrInvalidValue},
		{"threshold on availability", head + "slos:\n  - name: a\n    kind: availability\n    threshold: 1s\n    objective: 99\n", 6, "slos[0].threshold", "only latency SLOs", ErrInvalidValue},
		{"route without slash", head + "slos:\n  - name: a\n    kind: availability\n    objective: 99\n    routes: [users]\n", 7, "slos[0].routes[0]", "starting with /", ErrInvalidValue},
		{"methods on http", head + "slos:\n  - name: a\n    kind: availability\n    objective: 99\n    methods: [a.B/C]\n", 7, "slos[0].methods", "HTTP SLOs select routes", ErrInvalidValue},
		{"bad grpc method", head + "slos:\n  - name: a\n    kind: availability\n    protocol: grpc\n    objective: 99\n    methods: [Place]\n", 8, "slos[0].methods[0]", "want package.Service/Method", ErrInvalidValue},
		{"alias", head + "labels: &l {a: b}\ntier: *l\n", 4, "tier", "aliases are not supported", ErrInvalidValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load("slo.yaml", []byte(tt.spec))
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			var se *SpecError
			if !errors.As(err, &se) {
				t.Fatalf("error %v is not a *SpecError", err)
			}
			var found *Problem
			for i, p := range se.Problems {
				if p.Line == tt.line && p.Field == tt.field && strings.Contains(p.Err.Error(), tt.contains) {
					found = &se.Problems[i]
				}
			}
			if found == nil {
				t.Fatalf("no problem at line %d field %q containing %q; got:\n%v", tt.line, tt.field, tt.contains, err)
			}
			if !errors.Is(*found, tt.sentinel) || !errors.Is(err, tt.sentinel) {
				t.Errorf("problem %v is not %v", found, tt.sentinel)
			}
			if want := "slo.yaml:"; !strings.HasPrefix(found.Error(), want) {
				t.Errorf("problem %q does not start with %q", found.Error(), want)
			}
		})
	}
}

// TestSpecErrorsAllReported checks that one run reports every problem, in line order.
func TestSpecErrorsAllReported(t *testing.T) {
	spec := "version: 1\nservice: api\nwindow: 3d\nslos:\n  - name: a\n    kind: latency\n    threshold: 300ms\n    objective: 101\n"
	_, err := Load("slo.yaml", []byte(spec))
	want := "slo.yaml:3: window: 3d: must be from 7d (the slowest ticket alert looks at 3d) to 365d: invalid value\n" +
		"slo.yaml:7: slos[0].threshold: 300ms: the latency threshold must be one of the buckets " +
		"[0.005s 0.01s 0.025s 0.05s 0.075s 0.1s 0.25s 0.5s 0.75s 1s 2.5s 5s 7.5s 10s]: not a bucket boundary\n" +
		"slo.yaml:8: slos[0].objective: 101: must be in (0, 100): invalid value"
	if err == nil || err.Error() != want {
		t.Fatalf("error =\n%v\nwant\n%s", err, want)
	}
}
