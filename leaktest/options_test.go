package leaktest

import (
	"testing"
)

func TestDefaultsIgnoreProcessLifetimeGoroutines(t *testing.T) {
	// daemons.txt comes from a real program that imports opencensus and glog v1.2.5 and leaves a response
	// body open (testdata/gen). glog before v1.1 named its daemon differently: that one is built by hand.
	gs, err := parseGoroutines(readFixture(t, "daemons.txt"))
	if err != nil {
		t.Fatal(err)
	}
	gs = append(gs, goroutine{id: 99, state: "chan receive", frames: []frame{
		{fn: "github.com/golang/glog.(*loggingT).flushDaemon", file: "glog.go", line: 882}}})
	cfg := newConfig(nil)
	ignored := map[string]bool{}
	for _, g := range gs {
		ignored[g.topFunction()] = cfg.ignores(g)
	}
	tests := []struct {
		top  string
		want bool
	}{
		{top: "go.opencensus.io/stats/view.(*worker).start", want: true},
		{top: "github.com/golang/glog.(*fileSink).flushDaemon", want: true},
		{top: "github.com/golang/glog.(*loggingT).flushDaemon", want: true},
		{top: "net/http.(*persistConn).readLoop", want: false}, // the unclosed-body leak stays visible
		{top: "net/http.(*persistConn).writeLoop", want: false},
		{top: "main.worker", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.top, func(t *testing.T) {
			got, ok := ignored[tt.top]
			if !ok {
				t.Fatalf("fixture has no goroutine with %s on top", tt.top)
			}
			if got != tt.want {
				t.Errorf("default config ignores it: %v, want %v", got, tt.want)
			}
		})
	}
}
