package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Entry is one request of a recorded log: when it came, from the first entry, and what it
// asked.
type Entry struct {
	At     time.Duration
	Target Target
}

// AccessLog is the requests of a web server's access log.
type AccessLog struct {
	Entries []Entry
	// Skipped counts the lines without a request to replay (such as "-" or a TLS handshake
	// sent to a plain-text port).
	Skipped int
}

// clf matches the Common Log Format, and the Combined one (referer and user agent after).
var clf = regexp.MustCompile(`^(\S+) (\S+) (\S+) \[([^\]]+)\] "((?:[^"\\]|\\.)*)" (\d{3}|-) (\d+|-)(?: "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)")?\s*$`)

const clfTime = "02/Jan/2006:15:04:05 -0700"

// ParseAccessLog reads an access log in the Common or Combined Log Format. Paths are joined
// to base (such as http://127.0.0.1:8080). Timestamps have a resolution of one second: the
// entries of one second are spread evenly across it. Entries are sorted by time. name is used
// in errors, which give the line.
func ParseAccessLog(r io.Reader, name, base string) (*AccessLog, error) {
	if _, err := ParseTarget(base); err != nil {
		return nil, fmt.Errorf("%s: base: %w", name, err)
	}
	base = strings.TrimRight(base, "/")
	type line struct {
		at time.Time
		t  Target
	}
	var lines []line
	log := &AccessLog{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		m := clf.FindStringSubmatch(text)
		if m == nil {
			return nil, fmt.Errorf("%s:%d: not the Common or Combined Log Format: %q", name, n, clip(text))
		}
		at, err := time.Parse(clfTime, m[4])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: timestamp %q: want %s", name, n, m[4], clfTime)
		}
		parts := strings.Fields(m[5])
		if len(parts) < 2 || len(parts) > 3 || !isMethod(parts[0]) || !strings.HasPrefix(parts[1], "/") {
			log.Skipped++
			continue
		}
		t, err := ParseTarget(parts[0] + " " + base + parts[1])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, n, err)
		}
		lines = append(lines, line{at, t})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", name, n+1, err)
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("%s: no request to replay (%d lines skipped)", name, log.Skipped)
	}
	slices.SortStableFunc(lines, func(a, b line) int { return a.at.Compare(b.at) })
	first := lines[0].at
	for i := 0; i < len(lines); {
		j := i
		for j < len(lines) && lines[j].at.Equal(lines[i].at) {
			j++
		}
		for k := i; k < j; k++ {
			off := lines[i].at.Sub(first) + time.Duration(k-i)*time.Second/time.Duration(j-i)
			log.Entries = append(log.Entries, Entry{At: off, Target: lines[k].t})
		}
		i = j
	}
	return log, nil
}

func isMethod(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for _, c := range s {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// ParseVegetaTargets reads targets in vegeta's HTTP format ("GET http://host/path" lines,
// each followed by optional header lines and an @body-file line, separated by blank lines).
// Bodies named with @ are read relative to the current directory, as vegeta does.
func ParseVegetaTargets(r io.Reader, name string) ([]Target, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	tr := vegeta.NewHTTPTargeter(bytes.NewReader(data), nil, http.Header{})
	var out []Target
	for i := 1; ; i++ {
		var vt vegeta.Target
		if err := tr(&vt); err != nil {
			if errors.Is(err, vegeta.ErrNoTargets) {
				break
			}
			return nil, fmt.Errorf("%s: target %d: %w", name, i, err)
		}
		t, err := ParseTarget(vt.Method + " " + vt.URL)
		if err != nil {
			return nil, fmt.Errorf("%s: target %d: %w", name, i, err)
		}
		if len(vt.Header) > 0 {
			t.Header = vt.Header
		}
		t.Body = vt.Body
		out = append(out, t)
		if len(out) > 1e6 {
			return nil, fmt.Errorf("%s: more than a million targets", name)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no target (want vegeta's format: lines such as GET http://127.0.0.1:8080/path)", name)
	}
	return out, nil
}

// Replay sends the entries of a log at their original pacing, sped up by speed (2 replays
// twice as fast; 1 at the original pace).
func Replay(ctx context.Context, entries []Entry, speed float64, opts ...Option) (*Report, error) {
	if len(entries) == 0 {
		return nil, errors.New("replay: no entry")
	}
	if !(speed > 0) || speed > 1e6 {
		return nil, fmt.Errorf("replay: speed %v: want a positive factor (1 is the original pace)", speed)
	}
	c := newConfig(opts)
	targets := make([]Target, len(entries))
	ats := make([]time.Duration, len(entries))
	for i, e := range entries {
		targets[i] = e.Target
		ats[i] = time.Duration(float64(e.At) / speed)
	}
	dur := ats[len(ats)-1] + time.Millisecond
	// The offered rate, for the timeline: entries per second of replay.
	perSec := make([]float64, int(dur/time.Second)+1)
	for _, a := range ats {
		perSec[int(a/time.Second)]++
	}
	i := 0
	p := plan{
		next: func() (time.Duration, bool) {
			if i >= len(ats) {
				return 0, false
			}
			i++
			return ats[i-1], true
		},
		rate: func(t time.Duration) float64 {
			if k := int(t / time.Second); k >= 0 && k < len(perSec) {
				return perSec[k]
			}
			return 0
		},
		duration: dur,
		mean:     float64(len(ats)) / max(dur.Seconds(), 1e-3),
		pick: func(n int) func() int {
			var mu sync.Mutex
			k := 0
			return func() int {
				mu.Lock()
				defer mu.Unlock()
				k++
				return (k - 1) % n
			}
		},
	}
	rep, err := c.execute(ctx, p, targets, "")
	if rep != nil {
		rep.Targets = nil // one per entry: too many to list
	}
	return rep, err
}

// IsAccessLog tells whether data looks like an access log (its first non-empty line is in
// the Common or Combined Log Format) rather than vegeta targets.
func IsAccessLog(data []byte) bool {
	for _, line := range strings.Split(string(data), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			return clf.MatchString(line)
		}
	}
	return false
}
