// Package ratelog limits how often a recurring problem is logged: at most one line per interval,
// each carrying the number of lines left out since the previous one. The SDK logs this way
// wherever a failure can repeat per request or per upload (a collapsed label value, a panicking
// collector, an unreachable profiling server), so that an outage cannot flood the service's log.
//
// The check is lock-free: a suppressed line costs two atomic loads and an atomic add, and no
// allocation, so it may sit on a hot path.
package ratelog

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"
)

// SuppressedKey is the attribute that counts the lines left out since the previous one.
const SuppressedKey = "suppressed_since_last"

// Limiter lets one line through per interval. Make one with New, or use the zero Limiter with
// AllowEvery, which names the interval at each call (for structs built as literals).
type Limiter struct {
	every      time.Duration
	last       atomic.Int64 // unix nanoseconds of the last line let through; 0: none yet
	suppressed atomic.Int64
	now        func() time.Time // tests
}

// New returns a Limiter that lets through at most one line per every.
func New(every time.Duration) *Limiter { return &Limiter{every: every} }

// Allow reports whether a line may be written now and, when it may, how many lines were refused
// since the previous one. A refused call is counted.
func (l *Limiter) Allow() (suppressed int64, ok bool) { return l.AllowEvery(l.every) }

// AllowEvery is Allow with the interval given here rather than to New.
func (l *Limiter) AllowEvery(every time.Duration) (suppressed int64, ok bool) {
	var now int64
	if l.now != nil {
		now = l.now().UnixNano()
	} else {
		now = time.Now().UnixNano()
	}
	last := l.last.Load()
	if last != 0 && now-last < int64(every) || !l.last.CompareAndSwap(last, now) {
		l.suppressed.Add(1)
		return 0, false
	}
	return l.suppressed.Swap(0), true
}

// Log writes msg at level through logger when the Limiter allows it, with args and the
// suppressed_since_last count. A nil logger writes nothing (the call is still counted).
func (l *Limiter) Log(logger *slog.Logger, level slog.Level, msg string, args ...any) {
	n, ok := l.Allow()
	if !ok || logger == nil {
		return
	}
	logger.Log(context.Background(), level, msg, append(args, SuppressedKey, n)...)
}
