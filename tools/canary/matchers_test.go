package canary

import (
	"strings"
	"testing"
)

func TestParseSelector(t *testing.T) {
	tests := []struct {
		name, in string
		matchers string // rendered
		version  string
		wantErr  string
	}{
		{"two matchers", `job="checkout",track="canary"`, `job="checkout", track="canary"`, "", ""},
		{"braces and spaces", ` { job = "checkout" , track!~"base.*" } `, `job="checkout", track!~"base.*"`, "", ""},
		{"single quotes and backticks", `job='check"out', pod=~` + "`a\\d+`", `job="check\"out", pod=~"a\\d+"`, "", ""},
		{"escapes", `job="a\"b\\c"`, `job="a\"b\\c"`, "", ""},
		{"trailing comma", `job="x",`, `job="x"`, "", ""},
		{"bare version", `1.4.2`, ``, `service_version="1.4.2"`, ""},
		{"version matcher joins", `job="checkout",service_version="1.4.2"`, `job="checkout"`, `service_version="1.4.2"`, ""},
		{"empty", `  `, "", "", "empty selector"},
		{"bare value with space", `1.4 2`, "", "", "may not contain spaces"},
		{"no operator", `job "x"`, "", "", `expected =, !=, =~ or !~`},
		{"unquoted value", `job=checkout`, "", "", "expected a quoted value"},
		{"unterminated", `job="checkout`, "", "", "unterminated"},
		{"bad name", `1job="x"`, "", "", "expected a label name"},
		{"missing brace", `{job="x"`, "", "", "missing closing brace"},
		{"junk after", `job="x" track="y"`, "", "", "unexpected"},
		{"only braces", `{}`, "", "", "no label matcher"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseSelector(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := joinMatchers(s.Matchers); got != tt.matchers {
				t.Errorf("matchers %s, want %s", got, tt.matchers)
			}
			if got := joinMatchers(s.Version); got != tt.version {
				t.Errorf("version %s, want %s", got, tt.version)
			}
			if s.String() != tt.in {
				t.Errorf("String() %q, want the input %q", s.String(), tt.in)
			}
		})
	}
}

// FuzzParseSelector: no panic, and what parses renders to matchers that parse back the same.
func FuzzParseSelector(f *testing.F) {
	for _, s := range []string{`job="checkout",track="canary"`, `{a=~"x|y"}`, `1.4.2`, `a='b'`, "a=`b`", `a="\u00e9\n"`, `service_version!="x"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseSelector(in)
		if err != nil {
			return
		}
		all := append(append([]Matcher(nil), s.Matchers...), s.Version...)
		if len(all) == 0 {
			t.Fatalf("%q parsed to no matcher", in)
		}
		again, err := ParseSelector(joinMatchers(all))
		if err != nil {
			t.Fatalf("%q rendered as %q, which does not parse: %v", in, joinMatchers(all), err)
		}
		if joinMatchers(append(again.Matchers, again.Version...)) != joinMatchers(append(s.Matchers, s.Version...)) {
			t.Fatalf("round trip of %q changed it", in)
		}
	})
}
