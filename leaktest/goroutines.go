package leaktest

import (
	"bufio"
	"bytes"
	"fmt"
	"runtime"
	"strconv"
	"strings"
)

// goroutine is one goroutine of a runtime.Stack dump.
type goroutine struct {
	id        int
	state     string            // wait reason or status, without the "N minutes" and labels parts
	labels    map[string]string // pprof labels, present when GODEBUG=tracebacklabels=1
	frames    []frame           // top of the stack first
	createdBy frame             // zero for goroutines the runtime started
	creator   int               // id of the creating goroutine, 0 when unknown
	ancestors []ancestor        // present when GODEBUG=tracebackancestors=N
}

// frame is one function call in a stack.
type frame struct {
	fn   string // fully qualified function name, without arguments
	file string
	line int
}

// ancestor is the stack a creating goroutine had at its go statement.
type ancestor struct {
	id     int
	frames []frame
}

// topFunction is the function at the top of the stack, as goleak.IgnoreTopFunction understands it.
func (g goroutine) topFunction() string {
	if len(g.frames) == 0 {
		return ""
	}
	return g.frames[0].fn
}

// hasFunction reports whether fn is on the stack (the creator does not count), as goleak.IgnoreAnyFunction does.
func (g goroutine) hasFunction(fn string) bool {
	for _, f := range g.frames {
		if f.fn == fn {
			return true
		}
	}
	return false
}

// String writes a frame the way a stack dump does, without the program counter offset.
func (f frame) String() string {
	if f.file == "" {
		return f.fn
	}
	return fmt.Sprintf("%s\n\t%s:%d", f.fn, f.file, f.line)
}

// allGoroutines returns the parsed stacks of every goroutine of the process.
func allGoroutines() ([]goroutine, error) {
	buf := make([]byte, 64<<10)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return parseGoroutines(buf[:n])
		}
		buf = make([]byte, 2*len(buf))
	}
}

// parseGoroutines parses the output of runtime.Stack (or of a panic, or of pprof's goroutine profile with
// debug=2). It returns the goroutines it understood and an error naming the first line it did not.
func parseGoroutines(dump []byte) ([]goroutine, error) {
	var (
		out     []goroutine
		cur     *goroutine
		anc     *ancestor // the ancestor block being read, if any
		pending *frame    // a function line waiting for its file:line line
		lineNo  int
		firstEr error
	)
	fail := func(format string, args ...any) {
		if firstEr == nil {
			firstEr = fmt.Errorf("line %d: "+format, append([]any{lineNo}, args...)...)
		}
	}
	flush := func() {
		if cur != nil {
			out = append(out, *cur)
		}
		cur, anc, pending = nil, nil, nil
	}
	sc := bufio.NewScanner(bytes.NewReader(dump))
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		lineNo++
		line := strings.TrimRight(sc.Text(), "\r")
		switch {
		case strings.HasPrefix(line, "goroutine "):
			flush()
			g, err := parseHeader(line)
			if err != nil {
				fail("%w", err)
				continue
			}
			cur = &g
		case cur == nil:
			// Text before the first goroutine ("panic: ...") or after a header we could not read.
		case line == "":
			pending = nil
		case strings.HasPrefix(line, "\t"):
			if pending == nil {
				continue // a location without a function, e.g. after "created by" was handled
			}
			file, ln, err := parseLocation(line)
			if err != nil {
				fail("%w", err)
			}
			pending.file, pending.line = file, ln
			pending = nil
		case strings.HasPrefix(line, "created by ") && anc != nil:
			// An ancestor's creator: the next ancestor block shows its stack, so it adds nothing.
			pending = &frame{}
		case strings.HasPrefix(line, "created by "):
			fn, creator, err := parseCreatedBy(line)
			if err != nil {
				fail("%w", err)
				continue
			}
			cur.createdBy, cur.creator = frame{fn: fn}, creator
			pending = &cur.createdBy
		case strings.HasPrefix(line, "[originating from goroutine "):
			id, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(line, "[originating from goroutine "), "]:"))
			if err != nil {
				fail("ancestor header %q: %w", line, err)
				continue
			}
			cur.ancestors = append(cur.ancestors, ancestor{id: id})
			anc = &cur.ancestors[len(cur.ancestors)-1]
			pending = nil
		case strings.HasPrefix(line, "...") || strings.HasPrefix(line, "[") || strings.HasPrefix(line, "panic("):
			// "...additional frames elided...", "...N frames elided...", "[recovered]": not frames of their own.
			if strings.HasPrefix(line, "panic(") {
				pending = appendFrame(cur, anc, frame{fn: "panic"})
			}
		default:
			pending = appendFrame(cur, anc, frame{fn: funcName(line)})
		}
	}
	flush()
	if err := sc.Err(); err != nil {
		fail("%w", err)
	}
	return out, firstEr
}

// appendFrame adds f to the ancestor block being read, or to the goroutine's own stack, and returns it.
func appendFrame(g *goroutine, anc *ancestor, f frame) *frame {
	if anc != nil {
		anc.frames = append(anc.frames, f)
		return &anc.frames[len(anc.frames)-1]
	}
	g.frames = append(g.frames, f)
	return &g.frames[len(g.frames)-1]
}

// parseHeader reads `goroutine 7 [chan receive, 3 minutes, locked to thread labels:{"k": "v"}]:`.
func parseHeader(line string) (goroutine, error) {
	rest := strings.TrimPrefix(line, "goroutine ")
	end := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
	if end <= 0 {
		return goroutine{}, fmt.Errorf("goroutine header %q: no goroutine id", line)
	}
	id, err := strconv.Atoi(rest[:end])
	if err != nil {
		return goroutine{}, fmt.Errorf("goroutine header %q: id: %w", line, err)
	}
	open := strings.Index(rest, " [")
	if open < 0 || !strings.HasSuffix(rest, "]:") {
		return goroutine{}, fmt.Errorf("goroutine header %q: no [state]", line)
	}
	inside := rest[open+2 : len(rest)-2]
	g := goroutine{id: id}
	if i := strings.Index(inside, " labels:{"); i >= 0 {
		labels, err := parseLabels(inside[i+len(" labels:{"):])
		if err != nil {
			return goroutine{}, fmt.Errorf("goroutine header %q: %w", line, err)
		}
		g.labels = labels
		inside = inside[:i]
	}
	// Keep the wait reason; drop the parts that vary between otherwise identical goroutines.
	state, _, _ := strings.Cut(inside, ", ")
	g.state = state
	return g, nil
}

// parseLabels reads `"k": "v", "k2": "v2"}` as the runtime prints pprof labels.
func parseLabels(s string) (map[string]string, error) {
	labels := map[string]string{}
	for {
		s = strings.TrimLeft(s, " ,")
		if strings.HasPrefix(s, "}") {
			return labels, nil
		}
		key, rest, err := cutQuoted(s)
		if err != nil {
			return nil, fmt.Errorf("label key: %w", err)
		}
		rest, ok := strings.CutPrefix(rest, ": ")
		if !ok {
			return nil, fmt.Errorf("label %q: no value", key)
		}
		value, rest, err := cutQuoted(rest)
		if err != nil {
			return nil, fmt.Errorf("label %q value: %w", key, err)
		}
		labels[key] = value
		s = rest
	}
}

// cutQuoted reads one Go-quoted string at the start of s and returns it unquoted with the rest of s.
func cutQuoted(s string) (string, string, error) {
	if !strings.HasPrefix(s, `"`) {
		return "", "", fmt.Errorf("%q: want a quoted string", s)
	}
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			v, err := strconv.Unquote(s[:i+1])
			if err != nil {
				return "", "", fmt.Errorf("%q: %w", s[:i+1], err)
			}
			return v, s[i+1:], nil
		}
	}
	return "", "", fmt.Errorf("%q: unterminated string", s)
}

// parseCreatedBy reads `created by net/http.(*Server).Serve in goroutine 7`.
func parseCreatedBy(line string) (string, int, error) {
	rest := strings.TrimPrefix(line, "created by ")
	fn, in, ok := strings.Cut(rest, " in goroutine ")
	if !ok {
		return rest, 0, nil // Go before 1.21 did not name the creating goroutine
	}
	id, err := strconv.Atoi(in)
	if err != nil {
		return "", 0, fmt.Errorf("created by %q: creating goroutine id %q: %w", fn, in, err)
	}
	return fn, id, nil
}

// funcName strips the argument list from `pkg.(*T).Method(0xc000012345, 0x1)`.
func funcName(line string) string {
	if i := strings.LastIndexByte(line, '('); i > 0 {
		return line[:i]
	}
	return line
}

// parseLocation reads `\t/path/to/file.go:123 +0x1d`.
func parseLocation(line string) (string, int, error) {
	loc := strings.TrimSpace(line)
	if i := strings.LastIndex(loc, " +0x"); i >= 0 {
		loc = loc[:i]
	}
	if i := strings.Index(loc, " fp="); i >= 0 { // GOTRACEBACK=system and above
		loc = loc[:i]
	}
	colon := strings.LastIndexByte(loc, ':')
	if colon < 0 {
		return loc, 0, fmt.Errorf("location %q: no line number", line)
	}
	n, err := strconv.Atoi(loc[colon+1:])
	if err != nil {
		return loc, 0, fmt.Errorf("location %q: line number: %w", line, err)
	}
	return loc[:colon], n, nil
}
