package middleware

import "testing"

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
