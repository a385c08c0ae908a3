package canary

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/perfobs/perfobs-go/catalog"
)

// MatchOp is a PromQL label-matching operator.
type MatchOp string

// The four PromQL matching operators.
const (
	MatchEqual     MatchOp = "="
	MatchNotEqual  MatchOp = "!="
	MatchRegexp    MatchOp = "=~"
	MatchNotRegexp MatchOp = "!~"
)

// Matcher is one PromQL label matcher, such as job="checkout".
type Matcher struct {
	Name  string
	Op    MatchOp
	Value string
}

// String renders the matcher in PromQL syntax, the value quoted.
func (m Matcher) String() string { return m.Name + string(m.Op) + strconv.Quote(m.Value) }

// Selector picks the series of one side (baseline or canary).
type Selector struct {
	// Raw is the text the user gave, for messages.
	Raw string
	// Matchers apply to every series of this side.
	Matchers []Matcher
	// Version matchers select target_info's service_version; the side's instances are the ones
	// whose target_info matched them during the window.
	Version []Matcher
}

// ParseSelector parses a side's MATCHERS: PromQL label matchers separated by commas, optionally
// inside braces (`job="checkout",track="canary"`), or a bare version value (`1.4.2`), which is
// short for service_version="1.4.2". A matcher on service_version is joined through target_info,
// the only series that carries it.
func ParseSelector(s string) (Selector, error) {
	sel := Selector{Raw: s}
	t := strings.TrimSpace(s)
	if t == "" {
		return sel, fmt.Errorf("empty selector: give label matchers such as job=\"checkout\",track=\"canary\" or a service_version value")
	}
	if !strings.ContainsAny(t, "=!~{\"'`") {
		if strings.ContainsAny(t, " ,\t\n") {
			return sel, fmt.Errorf("selector %q: a bare version value may not contain spaces or commas", s)
		}
		sel.Version = []Matcher{{catalog.LabelServiceVersion, MatchEqual, t}}
		return sel, nil
	}
	ms, err := parseMatchers(t)
	if err != nil {
		return sel, fmt.Errorf("selector %q: %w", s, err)
	}
	if len(ms) == 0 {
		return sel, fmt.Errorf("selector %q: no label matcher", s)
	}
	for _, m := range ms {
		if m.Name == catalog.LabelServiceVersion {
			sel.Version = append(sel.Version, m)
		} else {
			sel.Matchers = append(sel.Matchers, m)
		}
	}
	return sel, nil
}

// String renders the selector as the user would read it back.
func (s Selector) String() string {
	if s.Raw != "" {
		return s.Raw
	}
	return joinMatchers(append(append([]Matcher(nil), s.Matchers...), s.Version...))
}

func joinMatchers(ms []Matcher) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = m.String()
	}
	return strings.Join(parts, ", ")
}

// parseMatchers reads `name op "value", ...`, with optional braces around the list.
func parseMatchers(s string) ([]Matcher, error) {
	p := &matcherParser{s: s}
	p.skipSpace()
	braced := p.peek() == '{'
	if braced {
		p.i++
	}
	var out []Matcher
	for {
		p.skipSpace()
		if p.eof() || (braced && p.peek() == '}') {
			break
		}
		m, err := p.matcher()
		if err != nil {
			return nil, err
		}
		out = append(out, m)
		p.skipSpace()
		if p.peek() == ',' {
			p.i++
			continue
		}
		break
	}
	p.skipSpace()
	if braced {
		if p.peek() != '}' {
			return nil, fmt.Errorf("at offset %d: missing closing brace", p.i)
		}
		p.i++
		p.skipSpace()
	}
	if !p.eof() {
		return nil, fmt.Errorf("at offset %d: unexpected %q", p.i, p.s[p.i:])
	}
	return out, nil
}

type matcherParser struct {
	s string
	i int
}

func (p *matcherParser) eof() bool { return p.i >= len(p.s) }

func (p *matcherParser) peek() byte {
	if p.eof() {
		return 0
	}
	return p.s[p.i]
}

func (p *matcherParser) skipSpace() {
	for !p.eof() && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

func isNameStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isNameByte(c byte) bool  { return isNameStart(c) || c >= '0' && c <= '9' }

func (p *matcherParser) matcher() (Matcher, error) {
	start := p.i
	if !isNameStart(p.peek()) {
		return Matcher{}, fmt.Errorf("at offset %d: expected a label name, got %q", p.i, p.rest())
	}
	for !p.eof() && isNameByte(p.peek()) {
		p.i++
	}
	name := p.s[start:p.i]
	p.skipSpace()
	var op MatchOp
	switch {
	case strings.HasPrefix(p.s[p.i:], "=~"):
		op = MatchRegexp
	case strings.HasPrefix(p.s[p.i:], "!="):
		op = MatchNotEqual
	case strings.HasPrefix(p.s[p.i:], "!~"):
		op = MatchNotRegexp
	case p.peek() == '=':
		op = MatchEqual
	default:
		return Matcher{}, fmt.Errorf("label %q: expected =, !=, =~ or !~ at offset %d, got %q", name, p.i, p.rest())
	}
	p.i += len(op)
	p.skipSpace()
	v, err := p.quoted()
	if err != nil {
		return Matcher{}, fmt.Errorf("label %q: %w", name, err)
	}
	return Matcher{Name: name, Op: op, Value: v}, nil
}

func (p *matcherParser) rest() string {
	r := p.s[p.i:]
	if len(r) > 20 {
		r = r[:20] + "..."
	}
	return r
}

// quoted reads a PromQL string: double or single quotes with Go escapes, or backticks raw.
func (p *matcherParser) quoted() (string, error) {
	q := p.peek()
	if q != '"' && q != '\'' && q != '`' {
		return "", fmt.Errorf("expected a quoted value at offset %d, got %q", p.i, p.rest())
	}
	start := p.i
	p.i++
	for !p.eof() {
		c := p.s[p.i]
		if c == '\\' && q != '`' {
			p.i += 2
			continue
		}
		if c == q {
			p.i++
			lit := p.s[start:p.i]
			switch q {
			case '`':
				return lit[1 : len(lit)-1], nil
			case '\'':
				// Go's unquote reads single quotes as a rune: swap the quotes, escaping the inner ".
				inner := lit[1 : len(lit)-1]
				inner = strings.ReplaceAll(inner, `\'`, `'`)
				inner = strings.ReplaceAll(inner, `"`, `\"`)
				lit = `"` + inner + `"`
			}
			v, err := strconv.Unquote(lit)
			if err != nil {
				return "", fmt.Errorf("bad quoted value %s: %v", p.s[start:p.i], err)
			}
			return v, nil
		}
		if c == '\n' {
			break
		}
		p.i++
	}
	return "", fmt.Errorf("unterminated quoted value starting at offset %d", start)
}
