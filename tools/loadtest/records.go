package loadtest

import (
	"math"
	"slices"
	"sort"
	"strconv"
	"time"
)

// record is one request of a run.
type record struct {
	at     time.Duration // when it left, from the start of the run
	late   time.Duration // how much later than planned it left
	lat    time.Duration // until the response (or the error)
	code   uint16        // 0: no response
	target int32         // index in the run's targets, -1 when unknown
	failed bool          // a transport error, a timeout or a status outside 200-399
}

func (r *record) answered() bool { return r.code != 0 }

// stats are the figures of a set of records.
type stats struct {
	requests, answered, failed int
	first, last, end           time.Duration // first and last send, last response
	lats                       []time.Duration
	codes                      map[string]int
}

// collect summarizes recs, which are ordered by send time.
func collect(recs []record) stats {
	s := stats{codes: map[string]int{}}
	s.requests = len(recs)
	if len(recs) == 0 {
		return s
	}
	s.first, s.last = recs[0].at, recs[len(recs)-1].at
	s.lats = make([]time.Duration, 0, len(recs))
	for i := range recs {
		r := &recs[i]
		s.end = max(s.end, r.at+r.lat)
		s.codes[strconv.Itoa(int(r.code))]++
		if r.failed {
			s.failed++
		}
		if r.answered() {
			s.answered++
			s.lats = append(s.lats, r.lat)
		}
	}
	slices.Sort(s.lats)
	return s
}

// quantile returns the q-quantile of the answered latencies (nearest rank, the empirical
// inverse distribution); false without an answered request.
func (s *stats) quantile(q float64) (time.Duration, bool) {
	return quantileOf(s.lats, q)
}

func quantileOf(sorted []time.Duration, q float64) (time.Duration, bool) {
	n := len(sorted)
	if n == 0 {
		return 0, false
	}
	i := int(math.Ceil(q*float64(n))) - 1
	return sorted[min(max(i, 0), n-1)], true
}

func (s *stats) errorRate() float64 {
	if s.requests == 0 {
		return 0
	}
	return float64(s.failed) / float64(s.requests)
}

func (s *stats) mean() time.Duration {
	if len(s.lats) == 0 {
		return 0
	}
	var sum float64
	for _, l := range s.lats {
		sum += float64(l)
	}
	return time.Duration(sum / float64(len(s.lats)))
}

// span returns the records sent in [from, to), by binary search.
func span(recs []record, from, to time.Duration) []record {
	i := sort.Search(len(recs), func(i int) bool { return recs[i].at >= from })
	j := sort.Search(len(recs), func(i int) bool { return recs[i].at >= to })
	return recs[i:j]
}

// sortedQuantile sorts xs in place and returns its q-quantile (zero when empty).
func sortedQuantile(xs []time.Duration, q float64) time.Duration {
	slices.Sort(xs)
	d, _ := quantileOf(xs, q)
	return d
}
