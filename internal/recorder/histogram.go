// Package recorder holds the hot path's metric storage: histograms and gauges sharded per
// processor (through sync.Pool's per-P caches), read lock-free, and exposed as a
// prometheus.Collector whose output equals client_golang's for the same observations.
//
// Why not client_golang's HistogramVec: every observation there does a map lookup keyed by a
// hash of the label values, and all cores hit the same atomic count and the same CAS loop on the
// float sum, so it stops scaling at a few cores. Here an observation is two uncontended atomic
// adds on the caller's shard: the bucket count and an integer sum (nanoseconds or bytes), which
// needs no CAS loop. The count is the sum of the bucket counts, so it is always consistent with
// the buckets.
package recorder

import (
	"encoding/hex"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/perfobs/perfobs-go/catalog"
)

// cellsPerLine is how many 8-byte cells fill a 64-byte cache line; each shard's cells start on
// a new line so that two cores never write the same line.
const cellsPerLine = 8

// Histogram is one labelled series: bucket counts and an integer sum per shard.
type Histogram struct {
	labels    []string
	stride    int // cells per shard: buckets + the +Inf bucket + the sum, rounded up to a line
	cells     []atomic.Uint64
	exemplars []atomic.Pointer[Exemplar] // one per bucket (+Inf included), nil until used
	native    []nativeShard              // one per shard when the vec has native buckets
	created   time.Time
	memo      atomic.Pointer[string]
}

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

// Exemplar ties one observation to the trace that produced it.
type Exemplar struct {
	Value   int64 // in the vec's integer unit
	TraceID [16]byte
	SpanID  [8]byte
	At      time.Time
}

// ExemplarInterval is how often, at most, a bucket's exemplar is replaced. Prometheus keeps the
// latest exemplar of each bucket at each scrape, so replacing it more often than a scrape
// interval only costs an allocation and a contended store per observation.
const ExemplarInterval = 100 * time.Millisecond

// Shape describes the buckets of a HistogramVec.
type Shape struct {
	Bounds []float64 // upper bounds in the exposed unit (seconds, bytes), strictly increasing
	// Scale converts the integer observations into the exposed unit: 1e-9 for nanoseconds to
	// seconds, 1 for bytes.
	Scale float64
	// Native adds native-histogram buckets of schema NativeSchema beside the classic ones.
	Native bool
}

// HistogramVec is a set of Histograms sharing a Desc and bucket layout. Series are added under a
// mutex (rarely) and read through an atomically swapped map (on every observation).
type HistogramVec[K comparable] struct {
	desc      *prometheus.Desc
	shape     Shape
	intBounds []int64 // bounds in integer units: an observation v falls in the first bucket with v <= bound
	shards    int
	native    nativeLayout // when shape.Native

	series atomic.Pointer[map[K]*Histogram]
	mu     sync.Mutex // serializes inserts
}

// Shards returns how many shards each series has: GOMAXPROCS at construction, rounded up to a
// power of two and capped, so that every P usually has a shard of its own.
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
	v := &HistogramVec[K]{
		desc:   prometheus.NewDesc(name, help, labelNames, nil),
		shape:  Shape{Bounds: append([]float64(nil), shape.Bounds...), Scale: shape.Scale, Native: shape.Native},
		shards: Shards(),
	}
	if shape.Native {
		v.native = newNativeLayout(shape.Scale)
	}
	for _, b := range shape.Bounds {
		v.intBounds = append(v.intBounds, int64(math.Round(b/shape.Scale)))
	}
	empty := map[K]*Histogram{}
	v.series.Store(&empty)
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
func (v *HistogramVec[K]) Shape() Shape { return v.shape }

// Get returns the series for key without locking, or nil when it does not exist yet.
func (v *HistogramVec[K]) Get(key K) *Histogram {
	return (*v.series.Load())[key]
}

// GetOrCreate returns the series for key, creating it with labels() when missing. labels is only
// called on creation, so callers can build the label values lazily.
func (v *HistogramVec[K]) GetOrCreate(key K, labels func() []string) *Histogram {
	if h := v.Get(key); h != nil {
		return h
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	old := *v.series.Load()
	if h := old[key]; h != nil {
		return h
	}
	nb := len(v.intBounds) + 1 // with +Inf
	stride := (nb + 1 + cellsPerLine - 1) / cellsPerLine * cellsPerLine
	h := &Histogram{
		labels:    labels(),
		stride:    stride,
		cells:     make([]atomic.Uint64, stride*v.shards),
		exemplars: make([]atomic.Pointer[Exemplar], nb),
		created:   time.Now(),
	}
	if v.shape.Native {
		h.native = v.native.newShards(v.shards)
	}
	next := make(map[K]*Histogram, len(old)+1)
	for k, s := range old {
		next[k] = s
	}
	next[key] = h
	v.series.Store(&next)
	return h
}

// Len returns the number of series.
func (v *HistogramVec[K]) Len() int { return len(*v.series.Load()) }

// Bucket returns the index of the bucket that v falls in; len(bounds) is +Inf.
func (v *HistogramVec[K]) Bucket(x int64) int {
	b := v.intBounds
	// Linear search wins over binary search for the ~15 bounds of a latency histogram: the
	// branches predict well and most requests land in the first few buckets.
	if len(b) <= 16 {
		for i, ub := range b {
			if x <= ub {
				return i
			}
		}
		return len(b)
	}
	return sort.Search(len(b), func(i int) bool { return x <= b[i] })
}

// Observe records x (in the vec's integer unit) on shard.
func (v *HistogramVec[K]) Observe(h *Histogram, shard int, x int64) {
	base := (shard & (v.shards - 1)) * h.stride
	h.cells[base+v.Bucket(x)].Add(1)
	h.cells[base+h.stride-1].Add(uint64(x))
	if h.native != nil {
		v.observeNative(h, shard, x)
	}
}

// ObserveWithExemplar records x like Observe and makes (traceID, spanID, at) the exemplar of its
// bucket, unless the bucket's exemplar is younger than ExemplarInterval. It allocates only when
// it replaces an exemplar.
func (v *HistogramVec[K]) ObserveWithExemplar(h *Histogram, shard int, x int64, traceID [16]byte, spanID [8]byte, at time.Time) {
	i := v.Bucket(x)
	base := (shard & (v.shards - 1)) * h.stride
	h.cells[base+i].Add(1)
	h.cells[base+h.stride-1].Add(uint64(x))
	if h.native != nil {
		v.observeNative(h, shard, x)
	}
	if old := h.exemplars[i].Load(); old != nil && at.Sub(old.At) < ExemplarInterval {
		return
	}
	h.exemplars[i].Store(&Exemplar{Value: x, TraceID: traceID, SpanID: spanID, At: at})
}

// Describe implements prometheus.Collector.
func (v *HistogramVec[K]) Describe(ch chan<- *prometheus.Desc) { ch <- v.desc }

// Collect implements prometheus.Collector: it sums the shards of every series.
func (v *HistogramVec[K]) Collect(ch chan<- prometheus.Metric) {
	for _, h := range *v.series.Load() {
		ch <- v.snapshot(h)
	}
}

func (v *HistogramVec[K]) snapshot(h *Histogram) prometheus.Metric {
	// The native buckets are read first: observations that land while the classic ones are read
	// then show only in the classic counts, which are clamped to the native count below, so that
	// the native histogram's count always equals the sum of its buckets (Prometheus checks it).
	var native *nativeHistogram
	if h.native != nil {
		native = v.readNative(h)
	}
	nb := len(v.intBounds) + 1
	counts := make([]uint64, nb)
	var sum uint64
	for s := 0; s < v.shards; s++ {
		base := s * h.stride
		for i := 0; i < nb; i++ {
			counts[i] += h.cells[base+i].Load()
		}
		sum += h.cells[base+h.stride-1].Load()
	}
	limit := uint64(math.MaxUint64)
	if native != nil {
		limit = native.count
	}
	buckets := make(map[float64]uint64, nb-1)
	var cum uint64
	for i, ub := range v.shape.Bounds {
		cum += counts[i]
		buckets[ub] = min(cum, limit)
	}
	count := min(cum+counts[nb-1], limit)
	var m prometheus.Metric = prometheus.MustNewConstHistogramWithCreatedTimestamp(v.desc, count, float64(int64(sum))*v.shape.Scale, buckets, h.created, h.labels...)
	if native != nil {
		native.Metric = m
		m = native
	}
	var exs []prometheus.Exemplar
	for i := range h.exemplars {
		if e := h.exemplars[i].Load(); e != nil {
			exs = append(exs, prometheus.Exemplar{
				Value:     float64(e.Value) * v.shape.Scale,
				Labels:    prometheus.Labels{catalog.ExemplarTraceID: hex.EncodeToString(e.TraceID[:]), catalog.ExemplarSpanID: hex.EncodeToString(e.SpanID[:])},
				Timestamp: e.At,
			})
		}
	}
	if len(exs) == 0 {
		return m
	}
	withEx, err := prometheus.NewMetricWithExemplars(m, exs...)
	if err != nil {
		return m // an exemplar that client_golang refuses must not cost the series
	}
	return orderedExemplars{withEx}
}

// orderedExemplars writes exemplar labels sorted by name: client_golang copies them from a map,
// so without it their order in the exposition would change from scrape to scrape.
type orderedExemplars struct{ prometheus.Metric }

func (o orderedExemplars) Write(m *dto.Metric) error {
	if err := o.Metric.Write(m); err != nil {
		return err
	}
	byName := func(a, b *dto.LabelPair) int { return strings.Compare(a.GetName(), b.GetName()) }
	for _, b := range m.GetHistogram().GetBucket() {
		if e := b.GetExemplar(); e != nil {
			slices.SortFunc(e.Label, byName)
		}
	}
	for _, e := range m.GetHistogram().GetExemplars() {
		slices.SortFunc(e.Label, byName)
	}
	return nil
}
