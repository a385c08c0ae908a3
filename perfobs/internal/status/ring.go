package status

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// sampler keeps a ring of snapshots of the registry, one per interval, while someone looks.
type sampler struct {
	g        prometheus.Gatherer
	interval time.Duration
	idle     time.Duration // the sampler stops after this long without a look
	keep     int
	now      func() time.Time
	manual   bool // tests call tick themselves: no goroutine

	mu       sync.Mutex
	ring     []*snapshot // oldest first
	lastLook time.Time
	running  bool
	stop     chan struct{}
	done     chan struct{}
	closed   bool
}

func newSampler(g prometheus.Gatherer, interval, longest time.Duration, now func() time.Time) *sampler {
	return &sampler{g: g, interval: interval, idle: longest, keep: int(longest/interval) + 2, now: now}
}

// look records a view and starts the sampler when it is not running.
func (s *sampler) look() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.lastLook = s.now()
	if s.running {
		return
	}
	s.running = true
	s.ring = s.ring[:0]
	s.stop, s.done = make(chan struct{}), make(chan struct{})
	if snap, err := take(s.g, s.now()); err == nil || len(snap.rows) > 0 {
		s.ring = append(s.ring, snap)
	}
	if s.manual {
		close(s.done)
		return
	}
	go s.run(s.stop, s.done)
}

func (s *sampler) run(stop, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		if !s.tick(s.now()) {
			return
		}
	}
}

// tick takes one snapshot into the ring; false when nobody looked for the longest window, and
// the sampler stops (forgetting the stale ring).
func (s *sampler) tick(now time.Time) bool {
	snap, _ := take(s.g, now)
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Sub(s.lastLook) > s.idle {
		s.running = false
		s.ring = nil
		return false
	}
	s.ring = append(s.ring, snap)
	if len(s.ring) > s.keep {
		s.ring = append(s.ring[:0], s.ring[len(s.ring)-s.keep:]...)
	}
	return true
}

// base returns the newest snapshot taken at or before t, or else the oldest one with partial
// set; nil when the ring is empty.
func (s *sampler) base(t time.Time) (snap *snapshot, partial bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.ring) - 1; i >= 0; i-- {
		if !s.ring[i].at.After(t) {
			return s.ring[i], false
		}
	}
	if len(s.ring) == 0 {
		return nil, true
	}
	return s.ring[0], true
}

// running reports whether the sampler goroutine runs (tests).
func (s *sampler) isRunning() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running
}

// close stops the sampler and waits for it; a later look starts nothing.
func (s *sampler) close() {
	s.mu.Lock()
	s.closed = true
	running, stop, done := s.running, s.stop, s.done
	s.running = false
	s.mu.Unlock()
	if running {
		close(stop)
		<-done
	}
	s.mu.Lock()
	s.ring = nil
	s.mu.Unlock()
}
