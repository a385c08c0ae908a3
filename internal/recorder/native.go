package recorder

import (
	"math"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// NativeSchema is the schema of the native histograms: bucket i holds the observations in
// (2^((i-1)/8), 2^(i/8)], so each bucket is about 9% wider than the one below it and a quantile
// read from the buckets is off by at most about 4.5%.
const NativeSchema = 3

// NativeZeroThreshold is the zero bucket's width: client_golang's default. Durations and sizes are
// integers, so only observations of exactly 0 land there.
const NativeZeroThreshold = prometheus.DefNativeHistogramZeroThreshold

// nativeFractions are the lower bounds of the 8 buckets of schema 3 within one power of two,
// as fractions of that power: 2^(j/8)/2 for j = 0..7, the mantissa range math.Frexp returns.
var nativeFractions = [8]float64{
	0.5, 0.5452538663326288, 0.5946035575013605, 0.6484197773255048,
	0.7071067811865475, 0.7711054127039704, 0.8408964152537144, 0.9170040432046711,
}

// nativeIndex returns the schema-3 bucket index of v > 0.
func nativeIndex(v float64) int {
	frac, exp := math.Frexp(v) // v = frac * 2^exp, frac in [0.5, 1)
	j := 0
	for j < len(nativeFractions) && nativeFractions[j] < frac {
		j++
	}
	return j + (exp-1)*len(nativeFractions)
}

// nativeChunkLen is how many buckets one lazily allocated chunk of a shard holds: typical
// latencies span a few powers of two, so a series touches only a few chunks.
const nativeChunkLen = 16

type nativeChunk [nativeChunkLen]atomic.Uint64

// nativeShard holds one shard's native buckets: a zero bucket and chunks allocated on first use.
type nativeShard struct {
	zero   atomic.Uint64
	chunks []atomic.Pointer[nativeChunk]
	_      [cellsPerLine*8 - 8 - 24]byte // one shard per cache line
}

// nativeLayout is a vec's native bucket range: every index an integer observation can reach.
type nativeLayout struct {
	lo     int // index of the smallest positive observation, 1 unit
	chunks int
}

func newNativeLayout(scale float64) nativeLayout {
	lo := nativeIndex(scale)
	hi := nativeIndex(float64(math.MaxInt64) * scale)
	return nativeLayout{lo: lo, chunks: (hi-lo)/nativeChunkLen + 1}
}

func (l nativeLayout) newShards(n int) []nativeShard {
	s := make([]nativeShard, n)
	for i := range s {
		s[i].chunks = make([]atomic.Pointer[nativeChunk], l.chunks)
	}
	return s
}

// observeNative counts x in its native bucket on shard.
func (v *HistogramVec[K]) observeNative(h *Histogram, shard int, x int64) {
	s := &h.native[shard&(v.shards-1)]
	if x <= 0 {
		s.zero.Add(1)
		return
	}
	i := nativeIndex(float64(x)*v.shape.Scale) - v.native.lo
	c := s.chunks[i/nativeChunkLen].Load()
	if c == nil {
		c = new(nativeChunk)
		if !s.chunks[i/nativeChunkLen].CompareAndSwap(nil, c) {
			c = s.chunks[i/nativeChunkLen].Load()
		}
	}
	c[i%nativeChunkLen].Add(1)
}

// nativeHistogram adds the native buckets to a classic const histogram when it is written.
type nativeHistogram struct {
	prometheus.Metric // the classic histogram
	zero              uint64
	count             uint64 // zero + every positive bucket
	spans             []*dto.BucketSpan
	deltas            []int64
}

var nativeSchema int32 = NativeSchema

// Write implements prometheus.Metric.
func (m *nativeHistogram) Write(pb *dto.Metric) error {
	if err := m.Metric.Write(pb); err != nil {
		return err
	}
	h := pb.Histogram
	zt, zero := NativeZeroThreshold, m.zero
	h.Schema, h.ZeroThreshold, h.ZeroCount = &nativeSchema, &zt, &zero
	h.PositiveSpan, h.PositiveDelta = m.spans, m.deltas
	if len(h.PositiveSpan) == 0 && zero == 0 {
		// An empty native histogram still needs a span to be recognised as native.
		off, n := int32(0), uint32(0)
		h.PositiveSpan = []*dto.BucketSpan{{Offset: &off, Length: &n}}
	}
	return nil
}

// readNative sums the native buckets of h across shards.
func (v *HistogramVec[K]) readNative(h *Histogram) *nativeHistogram {
	counts := make([]uint64, v.native.chunks*nativeChunkLen)
	var zero, total uint64
	for s := range h.native {
		sh := &h.native[s]
		zero += sh.zero.Load()
		for ci := range sh.chunks {
			c := sh.chunks[ci].Load()
			if c == nil {
				continue
			}
			for j := range c {
				n := c[j].Load()
				counts[ci*nativeChunkLen+j] += n
				total += n
			}
		}
	}
	spans, deltas := encodeSpans(counts, v.native.lo)
	return &nativeHistogram{zero: zero, count: zero + total, spans: spans, deltas: deltas}
}

// encodeSpans writes dense bucket counts (counts[i] is bucket lo+i) in the protobuf form: spans
// of consecutive buckets (a gap of up to two empty buckets is filled in, as it is cheaper than a
// new span) and each bucket's count as a delta from the previous bucket's.
func encodeSpans(counts []uint64, lo int) ([]*dto.BucketSpan, []int64) {
	var spans []*dto.BucketSpan
	var deltas []int64
	var prev int64
	last := 0 // index after the last bucket written; meaningful once spans exist
	for i, c := range counts {
		if c == 0 {
			continue
		}
		switch gap := i - last; {
		case len(spans) > 0 && gap <= 2:
			for ; last < i; last++ { // fill the gap with empty buckets
				deltas = append(deltas, -prev)
				prev = 0
			}
			*spans[len(spans)-1].Length += uint32(gap)
		default:
			off := int32(i + lo)
			if len(spans) > 0 {
				off = int32(gap)
			}
			n := uint32(0)
			spans = append(spans, &dto.BucketSpan{Offset: &off, Length: &n})
		}
		*spans[len(spans)-1].Length++
		deltas = append(deltas, int64(c)-prev)
		prev = int64(c)
		last = i + 1
	}
	return spans, deltas
}
