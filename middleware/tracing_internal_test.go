package middleware

import (
	"net"
	"strconv"
	"strings"
	"testing"
)

func TestSplitHostPort(t *testing.T) {
	tests := []struct {
		in   string
		host string
		port int
	}{
		{"example.com", "example.com", 0},
		{"example.com:8080", "example.com", 8080},
		{"192.0.2.1:1234", "192.0.2.1", 1234},
		{"[2001:db8::1]:443", "2001:db8::1", 443},
		{"[2001:db8::1]", "2001:db8::1", 0},
		{"2001:db8::1", "2001:db8::1", 0},
		{"host:http", "host", 0},
		{"host:99999", "host", 0},
		{"[broken", "", 0},
		{"", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			host, port := splitHostPort(tt.in)
			if host != tt.host || port != tt.port {
				t.Errorf("splitHostPort(%q) = %q, %d; want %q, %d", tt.in, host, port, tt.host, tt.port)
			}
			if n := testing.AllocsPerRun(10, func() { splitHostPort(tt.in) }); n != 0 && tt.port != 0 {
				t.Errorf("allocates %v times", n)
			}
		})
	}
}

// FuzzSplitHostPort: splitHostPort never panics, and wherever net.SplitHostPort accepts the
// input with a port in range, both agree.
func FuzzSplitHostPort(f *testing.F) {
	for _, s := range []string{"example.com", "example.com:8080", "[::1]:443", "::1", "[x", ":80", "a:b:c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		host, port := splitHostPort(in)
		wantHost, wantPort, err := net.SplitHostPort(in)
		if err != nil {
			return
		}
		p, perr := strconv.Atoi(wantPort)
		if perr != nil || p < 0 || p > 65535 || strings.ContainsAny(wantPort, "+-") {
			return
		}
		if host != wantHost || port != p {
			t.Fatalf("splitHostPort(%q) = %q, %d; net.SplitHostPort says %q, %q", in, host, port, wantHost, wantPort)
		}
	})
}
