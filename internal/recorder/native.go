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

// nativeChunkLen is how many buckets one lazily allocated chunk of a stripe holds: typical
// latencies span a few powers of two, so a series touches only a few chunks.
const nativeChunkLen = 16

type nativeChunk [nativeChunkLen]atomic.Uint64

// nativeShard holds one stripe's native buckets: a zero bucket and chunks allocated on first use.
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

func (l nativeLayout) newShard() *nativeShard {
	return &nativeShard{chunks: make([]atomic.Pointer[nativeChunk], l.chunks)}
}

// observeNative counts x in its native bucket on s.
func (l *layout) observeNative(s *nativeShard, x int64) {
	if x <= 0 {
		s.zero.Add(1)
		return
	}
	i := nativeIndex(float64(x)*l.shape.Scale) - l.native.lo
	c := s.chunks[i/nativeChunkLen].Load()
	if c == nil {
		c = new(nativeChunk)
		if !s.chunks[i/nativeChunkLen].CompareAndSwap(nil, c) {
			c = s.chunks[i/nativeChunkLen].Load()
		}
	}
	c[i%nativeChunkLen].Add(1)
}

// nativeCounts is a series' native buckets summed over its stripes, in protobuf form.
type nativeCounts struct {
	zero   uint64
	count  uint64 // zero + every positive bucket
	spans  []*dto.BucketSpan
	deltas []int64
}

// readNative sums the native buckets of h across its stripes.
func (h *Histogram) readNative() nativeCounts {
	l := h.l
	counts := make([]uint64, l.native.chunks*nativeChunkLen)
	var zero, total uint64
	for _, st := range h.allStripes(new([1]stripe)) {
		sh := st.native
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
	spans, deltas := encodeSpans(counts, l.native.lo)
	return nativeCounts{zero: zero, count: zero + total, spans: spans, deltas: deltas}
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
