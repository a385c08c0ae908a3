package alerts

import (
	"strings"
	"testing"

	"github.com/perfobs/perfobs-go/catalog"
)

const classicSpec = `version: 1
service: shop
naming: classic
runtime: {disabled: true}
slos:
  - {name: availability, kind: availability, objective: 99.9}
  - {name: cart-latency, kind: latency, threshold: 250ms, objective: 99, routes: ["/cart"]}
  - {name: grpc-orders, kind: availability, protocol: grpc, objective: 99.5, methods: ["shop.Orders/Create", "shop.Orders/Get"]}
  - {name: grpc-latency, kind: latency, protocol: grpc, threshold: 1s, objective: 99}
`

// TestClassicNaming: with naming: classic the rules read promhttp's and go-grpc-middleware's
// series only, the generated promtool tests feed them those series, and promtool passes both.
func TestClassicNaming(t *testing.T) {
	m, err := Load("classic.yaml", []byte(classicSpec))
	if err != nil {
		t.Fatal(err)
	}
	files, err := Generate(m, WithSource("classic.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeFiles(t, dir, files)
	var rules, tests []string
	for _, f := range files {
		body := string(f.Data)
		if strings.HasSuffix(f.Name, "_test.yaml") {
			tests = append(tests, f.Name)
		} else {
			rules = append(rules, f.Name)
			for _, name := range []string{catalog.HTTPServerDuration, catalog.RPCServerDuration, catalog.LabelErrorType, catalog.LabelRoute} {
				if strings.Contains(body, name) {
					t.Errorf("%s reads %s, a default-mode name", f.Name, name)
				}
			}
		}
		switch {
		case strings.Contains(f.Name, "slo-availability.yaml"):
			want(t, f.Name, body, catalog.ClassicHTTPRequests, `code=~"5.."`)
		case strings.Contains(f.Name, "slo-cart-latency.yaml"):
			want(t, f.Name, body, catalog.ClassicHTTPDuration+"_bucket", `handler="/cart"`)
		case strings.Contains(f.Name, "slo-grpc-orders.yaml"):
			want(t, f.Name, body, catalog.ClassicGRPCServerHandled, `grpc_code=~"Unknown|`, `grpc_service="shop.Orders"`, `grpc_method=~"Create|Get"`)
		case strings.Contains(f.Name, "slo-grpc-latency.yaml"):
			want(t, f.Name, body, catalog.ClassicGRPCServerHandling+"_bucket")
		}
	}
	if len(rules) != 4 || len(tests) != 4 {
		t.Fatalf("rule files %v, test files %v: want 4 of each", rules, tests)
	}
	if out, err := promtool(t, dir, append([]string{"check", "rules"}, rules...)...); err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
	if out, err := promtool(t, dir, append([]string{"test", "rules"}, tests...)...); err != nil {
		t.Fatalf("promtool test rules: %v\n%s", err, out)
	}
}

func want(t *testing.T, file, body string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(body, p) {
			t.Errorf("%s lacks %s", file, p)
		}
	}
}

func TestClassicNamingProblems(t *testing.T) {
	for _, tt := range []struct{ spec, want string }{
		{"version: 1\nservice: s\nnaming: promhttp\nslos: [{name: a, kind: availability, objective: 99}]\n", `naming: "promhttp": want default or classic`},
		{"version: 1\nservice: s\nnaming: classic\nhistograms: native\nslos: [{name: a, kind: availability, objective: 99}]\n", "naming: classic names have no native histograms"},
		{"version: 1\nservice: s\nnaming: classic\nslos: [{name: a, kind: availability, protocol: grpc, objective: 99, methods: [a.B/C, d.E/F]}]\n", "slos[0].methods: naming classic selects grpc_service"},
	} {
		_, err := Load("s.yaml", []byte(tt.spec))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("spec %q: error %v, want %q", tt.spec, err, tt.want)
		}
	}
}
