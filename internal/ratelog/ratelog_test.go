package ratelog

import (
	"bytes"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/perfobs/perfobs-go/leaktest"
)

func TestMain(m *testing.M) { leaktest.VerifyTestMain(m) }

func TestLimiterOneLinePerInterval(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	now := time.Unix(1000, 0)
	l := New(50 * time.Millisecond)
	l.now = func() time.Time { return now }
	for range 5 {
		l.Log(logger, slog.LevelWarn, "upload", "error", "boom")
	}
	now = now.Add(60 * time.Millisecond)
	l.Log(logger, slog.LevelWarn, "upload", "error", "boom again")
	out := buf.String()
	if n := strings.Count(out, "level=WARN"); n != 2 {
		t.Fatalf("%d lines, want 2:\n%s", n, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if !strings.Contains(lines[0], "suppressed_since_last=0") || !strings.Contains(lines[1], "suppressed_since_last=4") ||
		!strings.Contains(lines[1], `error="boom again"`) {
		t.Fatalf("want the first line with 0 suppressed and the second with 4:\n%s", out)
	}
}

// TestLimiterConcurrent: among many concurrent callers within one interval exactly one line
// goes through, and every other call is counted.
func TestLimiterConcurrent(t *testing.T) {
	l := New(time.Hour)
	var mu sync.Mutex
	allowed := 0
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				if _, ok := l.Allow(); ok {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if allowed != 1 {
		t.Fatalf("%d lines allowed in one interval, want 1", allowed)
	}
	if got := l.suppressed.Load(); got != 7999 {
		t.Fatalf("%d suppressed, want 7999", got)
	}
}

func TestZeroLimiterWithAllowEvery(t *testing.T) {
	var l Limiter
	if _, ok := l.AllowEvery(time.Hour); !ok {
		t.Fatal("the first line is refused")
	}
	if _, ok := l.AllowEvery(time.Hour); ok {
		t.Fatal("a second line within the hour is allowed")
	}
	if n, ok := l.AllowEvery(0); !ok || n != 1 {
		t.Fatalf("AllowEvery(0) = %d, %v; want 1 suppressed, allowed", n, ok)
	}
}

func TestLimiterSuppressedPathDoesNotAllocate(t *testing.T) {
	l := New(time.Hour)
	l.Allow()
	if n := testing.AllocsPerRun(1000, func() { l.Allow() }); n != 0 {
		t.Fatalf("a suppressed Allow allocates %v times, want 0", n)
	}
}

func ExampleLimiter() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	l := New(time.Minute)
	for i := range 3 {
		l.Log(logger, slog.LevelWarn, "profiling: upload failed", "attempt", i)
	}
	// Output:
	// level=WARN msg="profiling: upload failed" attempt=0 suppressed_since_last=0
}
