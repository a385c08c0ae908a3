// Package recorder holds the hot path's metric storage: lazily striped histograms and sharded
// gauges, read lock-free, and exposed as a prometheus.Collector whose output equals
// client_golang's for the same observations.
//
// Why not client_golang's HistogramVec: every observation there does a map lookup keyed by a
// hash of the label values, and all cores hit the same atomic count and the same CAS loop on the
// float sum, so it stops scaling at a few cores. Here an observation is two atomic adds on one
// stripe of the series: the bucket count and an integer sum (nanoseconds or bytes), which needs
// no CAS loop. The count is the sum of the bucket counts, so it is always consistent with the
// buckets.
//
// Why stripes grow lazily: most series are cold (the long tail of routes and status codes) and
// never see two cores at once, so a series starts with one stripe, the size of one
// client_golang histogram's counts, and doubles its stripes, up to the processor count, only
// when its observations collide. See docs/recorder.md for the design and its measurements.
package recorder

import (
	"fmt"
	"maps"
	"math"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// cellsPerLine is how many 8-byte cells fill a 64-byte cache line; each stripe's cells fill
// whole lines so that two cores writing two stripes never write the same line.
const cellsPerLine = 8

// Histogram is one labelled series: bucket counts and an integer sum, in one stripe until its
// observations contend, then in up to the vec's stripe cap.
type Histogram struct {
	l    *layout
	base stripe                     // stripe 0, also the first entry of every later stripe set
	set  atomic.Pointer[stripeSet]  // nil while the series has only its base stripe
	last atomic.Int64               // when an observation last contended (since epoch, ns); 0 never
	ex   atomic.Pointer[[]exemplar] // one slot per bucket (+Inf included), allocated on first use
	memo atomic.Pointer[string]

	labels  []string
	created int64 // unix nanoseconds
}

// stripe is one copy of a series' counters: cells[i] counts bucket i (the last bucket is +Inf),
// cells[len-1] is the sum; len is a whole number of cache lines.
type stripe struct {
	cells  []atomic.Uint64
	native *nativeShard // nil unless the vec has native buckets
}

// stripeSet is a series' stripes once it has grown: a power of two of them, the first the base.
// A grown set copies the stripes of the one it replaces, so a writer still holding the old set
// writes cells that the new one also holds: no observation is lost.
type stripeSet struct{ s []stripe }

// exemplar is one bucket's exemplar slot.
type exemplar = atomic.Pointer[Exemplar]

// Memo returns a string derived from the series' labels (a span name, say), computing it with
// make on first use; later calls return it without allocating.
func (h *Histogram) Memo(make func() string) string {
	if s := h.memo.Load(); s != nil {
		return *s
	}
	s := make()
	h.memo.Store(&s)
	return s
}

// Stripes returns how many stripes the series has now: 1 until its observations contend.
func (h *Histogram) Stripes() int {
	if set := h.set.Load(); set != nil {
		return len(set.s)
	}
	return 1
}

// Exemplar ties one observation to the trace that produced it.
type Exemplar struct {
	Value   int64 // in the vec's integer unit
	TraceID [16]byte
	SpanID  [8]byte
	At      time.Time

	pb atomic.Pointer[dtoExemplar] // built on the first scrape that shows it
}

// ExemplarInterval is how often, at most, a bucket's exemplar is replaced. Prometheus keeps the
// latest exemplar of each bucket at each scrape, so replacing it more often than a scrape
// interval only costs an allocation and a contended store per observation.
const ExemplarInterval = 100 * time.Millisecond

// GrowWindow is the contention rate that grows a series' stripes: two failed probes of one
// series less than GrowWindow apart double its stripes. With one observation in ProbeEvery
// probing, a series grows once it contends about ProbeEvery/GrowWindow (16,000) times a second;
// one that contends less (a cold route hit by two cores by chance, now and then) stays small.
const GrowWindow = time.Millisecond

// ProbeEvery is how often, on average, an observation probes for contention: the ones whose
// value hashes to 0 in the top log2(ProbeEvery) bits (every observation of the value 0).
const ProbeEvery = 1 << (64 - probeShift)

const probeShift = 60

// Shape describes the buckets of a HistogramVec.
type Shape struct {
	Bounds []float64 // upper bounds in the exposed unit (seconds, bytes), strictly increasing
	// Scale converts the integer observations into the exposed unit: 1e-9 for nanoseconds to
	// seconds, 1 for bytes.
	Scale float64
	// Native adds native-histogram buckets of schema NativeSchema beside the classic ones.
	Native bool
}

// layout is what every series of a vec shares, so that a Histogram can observe and write itself
// without its vec's key type.
type layout struct {
	desc      *prometheus.Desc
	shape     Shape
	intBounds []int64 // bounds in integer units: an observation v falls in the first bucket with v <= bound
	stride    int     // cells per stripe: buckets + the +Inf bucket + the sum, rounded up to a line
	stripes   int     // the most stripes a series grows to: a power of two
	div       float64 // 1/Scale when it is a whole number: dividing by it rounds exactly
	native    nativeLayout
	names     []string // label names, sorted as client_golang sorts label pairs
	order     []int    // order[i] is the index in a series' labels of names[i]
}

// HistogramVec is a set of Histograms sharing a Desc and bucket layout. Series are added under a
// mutex (rarely) and read through an atomically swapped, immutable index (on every observation).
type HistogramVec[K comparable] struct {
	l      *layout
	series atomic.Pointer[index[K]]
	mu     sync.Mutex // serializes inserts
}

// index is an immutable snapshot of a vec's series: most in all, the latest few in recent. An
// insert copies recent only, and recent is merged into all once it holds about sqrt(len(all))
// series, so that creating n series copies O(n*sqrt(n)) entries rather than the O(n^2) of
// copying one map per insert (10,000 series: about 2 million rather than 50 million). A lookup
// of a series that is in all, as every series but the latest few is, is one map lookup.
type index[K comparable] struct {
	all, recent map[K]*Histogram
}

// Shards returns the processor count rounded up to a power of two and capped at 64: how many
// stripes a hot series grows to (and how many shards a GaugeArray has), so that every P usually
// has one of its own.
func Shards() int {
	n := 1
	for n < runtime.GOMAXPROCS(0) && n < 64 {
		n <<= 1
	}
	return n
}

// NewHistogramVec returns an empty vec. labelNames are the Desc's variable labels.
func NewHistogramVec[K comparable](name, help string, labelNames []string, shape Shape) (*HistogramVec[K], error) {
	if err := checkBounds(shape.Bounds); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if !(shape.Scale > 0) {
		return nil, fmt.Errorf("%s: scale %v must be positive", name, shape.Scale)
	}
	l := &layout{
		desc:    prometheus.NewDesc(name, help, labelNames, nil),
		shape:   Shape{Bounds: slices.Clone(shape.Bounds), Scale: shape.Scale, Native: shape.Native},
		stripes: Shards(),
	}
	nb := len(shape.Bounds) + 1 // with +Inf
	l.stride = (nb + 1 + cellsPerLine - 1) / cellsPerLine * cellsPerLine
	if shape.Native {
		l.native = newNativeLayout(shape.Scale)
	}
	if d := math.Round(1 / shape.Scale); d >= 1 && math.Abs(d*shape.Scale-1) < 1e-12 {
		l.div = d
	}
	for _, b := range shape.Bounds {
		l.intBounds = append(l.intBounds, int64(math.Round(b/shape.Scale)))
	}
	l.order = make([]int, len(labelNames))
	for i := range l.order {
		l.order[i] = i
	}
	sort.SliceStable(l.order, func(a, b int) bool { return labelNames[l.order[a]] < labelNames[l.order[b]] })
	for _, i := range l.order {
		l.names = append(l.names, labelNames[i])
	}
	v := &HistogramVec[K]{l: l}
	v.series.Store(&index[K]{all: map[K]*Histogram{}, recent: map[K]*Histogram{}})
	return v, nil
}

func checkBounds(b []float64) error {
	if len(b) == 0 {
		return fmt.Errorf("buckets: need at least one bound")
	}
	for i, x := range b {
		if math.IsNaN(x) || math.IsInf(x, 0) || x <= 0 {
			return fmt.Errorf("buckets: bound %v at index %d must be positive and finite", x, i)
		}
		if i > 0 && x <= b[i-1] {
			return fmt.Errorf("buckets: bound %v at index %d must be greater than %v before it", x, i, b[i-1])
		}
	}
	return nil
}

// Shape returns the vec's bucket layout.
func (v *HistogramVec[K]) Shape() Shape { return v.l.shape }

// Get returns the series for key without locking, or nil when it does not exist yet.
func (v *HistogramVec[K]) Get(key K) *Histogram {
	ix := v.series.Load()
	if h := ix.all[key]; h != nil {
		return h
	}
	return ix.recent[key]
}

// GetOrCreate returns the series for key, creating it with labels() when missing. labels is only
// called on creation, so callers can build the label values lazily.
func (v *HistogramVec[K]) GetOrCreate(key K, labels func() []string) *Histogram {
	if h := v.Get(key); h != nil {
		return h
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if h := v.Get(key); h != nil {
		return h
	}
	h := &Histogram{l: v.l, labels: labels(), created: time.Now().UnixNano()}
	h.base = v.l.newStripe()
	old := v.series.Load()
	next := &index[K]{all: old.all}
	if len(old.recent)+1 >= 16+int(math.Sqrt(float64(len(old.all)))) {
		next.all = make(map[K]*Histogram, len(old.all)+len(old.recent)+1)
		maps.Copy(next.all, old.all)
		maps.Copy(next.all, old.recent)
		next.all[key] = h
		next.recent = map[K]*Histogram{}
	} else {
		next.recent = make(map[K]*Histogram, len(old.recent)+1)
		maps.Copy(next.recent, old.recent)
		next.recent[key] = h
	}
	v.series.Store(next)
	return h
}

// newStripe allocates one stripe. Its cells are a whole number of cache lines, and Go's
// allocator places an object whose size is a multiple of 64 bytes on a 64-byte boundary (every
// size class from 64 bytes on is such a multiple, and spans start on pages): two stripes never
// share a line. TestStripesAreLineAligned checks it.
func (l *layout) newStripe() stripe {
	s := stripe{cells: make([]atomic.Uint64, l.stride)}
	if l.shape.Native {
		s.native = l.native.newShard()
	}
	return s
}

// Len returns the number of series.
func (v *HistogramVec[K]) Len() int {
	ix := v.series.Load()
	return len(ix.all) + len(ix.recent)
}

// Bucket returns the index of the bucket that v falls in; len(bounds) is +Inf.
func (v *HistogramVec[K]) Bucket(x int64) int { return v.l.bucket(x) }

// toUnit converts an integer amount (an observation, a sum) into the exposed unit. Nanoseconds
// are divided by 1e9 rather than multiplied by 1e-9, which is not exact in binary: the division
// rounds correctly, so that sums that are exact in seconds come out exact, as client_golang's do.
func (l *layout) toUnit(n int64) float64 {
	if l.div != 0 {
		return float64(n) / l.div
	}
	return float64(n) * l.shape.Scale
}

func (l *layout) bucket(x int64) int {
	// Linear search wins over binary search for the ~15 bounds of a latency histogram: the
	// branches predict well and most requests land in the first few buckets.
	b := l.intBounds
	if len(b) > 16 {
		return searchBucket(b, x)
	}
	for i, ub := range b {
		if x <= ub {
			return i
		}
	}
	return len(b)
}

func searchBucket(b []int64, x int64) int {
	return sort.Search(len(b), func(i int) bool { return x <= b[i] })
}

// Observe records x (in the vec's integer unit). shard is the caller's stripe hint (a
// ShardPicker token): callers on different processors should pass different ones.
func (v *HistogramVec[K]) Observe(h *Histogram, shard int, x int64) { h.observe(shard, x) }

// observe records x on the stripe that shard selects and returns x's bucket: an atomic add on
// the bucket and one on the sum. About one observation in ProbeEvery (chosen by a hash of x)
// probes for contention instead: it writes the sum with a compare-and-swap of the value it read
// before the bucket add, which fails when another core wrote the stripe during this observation
// (the window spans the bucket add because, under contention, that add is when the line moves).
// A failure is the signal that grows the stripes. The others do not read the sum first: a load
// before a locked add delays the add until the load completes, which measured a few nanoseconds
// per observation.
func (h *Histogram) observe(shard int, x int64) int {
	// The bucket search of layout.bucket, written out here: a call would make observe spill its
	// arguments around it.
	b := h.l.intBounds
	i := len(b)
	if len(b) > 16 {
		i = searchBucket(b, x)
	} else {
		for j, ub := range b {
			if x <= ub {
				i = j
				break
			}
		}
	}
	st := &h.base
	set := h.set.Load()
	if set != nil {
		st = &set.s[shard&(len(set.s)-1)]
	}
	cells := st.cells
	sum := &cells[len(cells)-1]
	if uint64(x)*0x9e3779b97f4a7c15>>probeShift != 0 { // a hash of x, so that any value spacing samples alike
		cells[i].Add(1)
		sum.Add(uint64(x))
	} else {
		old := sum.Load() // read before the bucket add, so that the CAS spans it
		cells[i].Add(1)
		if !sum.CompareAndSwap(old, old+uint64(x)) {
			h.contendedAdd(sum, x, set)
		}
	}
	if st.native != nil {
		h.l.observeNative(st.native, x)
	}
	return i
}

// contendedAdd adds x to sum after a failed compare-and-swap and notes the contention; out of
// line, so that observe's common path stays short.
//
//go:noinline
func (h *Histogram) contendedAdd(sum *atomic.Uint64, x int64, set *stripeSet) {
	sum.Add(uint64(x))
	h.contended(set)
}

// epoch is the reference of the contention clock.
var epoch = time.Now()

// contended notes a contended observation on set (nil: the base stripe alone) and doubles the
// stripes when the previous one was less than GrowWindow ago.
func (h *Histogram) contended(set *stripeSet) {
	n := 1
	if set != nil {
		n = len(set.s)
	}
	if n >= h.l.stripes {
		return // fully grown: nothing to note, and no shared write on a hot series
	}
	now := int64(time.Since(epoch))
	if last := h.last.Swap(now); last == 0 || now-last > int64(GrowWindow) {
		return
	}
	h.grow(set)
}

// grow replaces set (nil: the base stripe alone) with one of twice as many stripes. Two cores
// may grow at once: one wins the swap, the other's stripes are dropped unused.
func (h *Histogram) grow(set *stripeSet) {
	cur := []stripe{h.base}
	if set != nil {
		cur = set.s
	}
	next := make([]stripe, 2*len(cur))
	copy(next, cur)
	for i := len(cur); i < len(next); i++ {
		next[i] = h.l.newStripe()
	}
	h.set.CompareAndSwap(set, &stripeSet{s: next})
}

// stripes returns every stripe the series has now.
func (h *Histogram) stripes() []stripe {
	if set := h.set.Load(); set != nil {
		return set.s
	}
	return []stripe{h.base}
}

// ObserveWithExemplar records x like Observe and makes (traceID, spanID, at) the exemplar of its
// bucket, unless the bucket's exemplar is younger than ExemplarInterval. It allocates only when
// it replaces an exemplar.
func (v *HistogramVec[K]) ObserveWithExemplar(h *Histogram, shard int, x int64, traceID [16]byte, spanID [8]byte, at time.Time) {
	i := h.observe(shard, x)
	slots := h.ex.Load()
	if slots == nil {
		s := make([]exemplar, len(h.l.intBounds)+1)
		if !h.ex.CompareAndSwap(nil, &s) {
			slots = h.ex.Load()
		} else {
			slots = &s
		}
	}
	slot := &(*slots)[i]
	if old := slot.Load(); old != nil && at.Sub(old.At) < ExemplarInterval {
		return
	}
	slot.Store(&Exemplar{Value: x, TraceID: traceID, SpanID: spanID, At: at})
}

// Describe implements prometheus.Collector.
func (v *HistogramVec[K]) Describe(ch chan<- *prometheus.Desc) { ch <- v.l.desc }

// Collect implements prometheus.Collector: each series is its own prometheus.Metric, which sums
// its stripes when the registry writes it.
func (v *HistogramVec[K]) Collect(ch chan<- prometheus.Metric) {
	ix := v.series.Load()
	for _, h := range ix.all {
		ch <- h
	}
	for _, h := range ix.recent {
		ch <- h
	}
}
