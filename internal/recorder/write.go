package recorder

import (
	"encoding/hex"
	"math"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/perfobs/perfobs-go/catalog"
)

type dtoExemplar = dto.Exemplar

// Desc implements prometheus.Metric.
func (h *Histogram) Desc() *prometheus.Desc { return h.l.desc }

// written holds the scalar fields of one written histogram, so that they cost one allocation
// rather than one each. Never copied: the dto structs it holds must not be.
type written struct {
	hist    dto.Histogram
	count   uint64
	sum     float64
	created timestamppb.Timestamp
	zero    uint64
	zt      float64
}

// bucket is one classic bucket and its cumulative count, allocated together.
type bucket struct {
	b   dto.Bucket
	cum uint64
}

var (
	posInf       = math.Inf(1)
	nativeSchema = int32(NativeSchema)
)

// Write implements prometheus.Metric: it sums the series' stripes into the protobuf form that
// client_golang's own histogram writes for the same observations (classic buckets, created
// timestamp, native buckets, exemplars). It takes no lock; the label names and bounds are shared
// with the series, as client_golang shares its label pairs, and must not be modified.
func (h *Histogram) Write(out *dto.Metric) error {
	l := h.l
	// The native buckets are read first: observations that land while the classic ones are read
	// then show only in the classic counts, which are clamped to the native count below, so that
	// the native histogram's count always equals the sum of its buckets (Prometheus checks it).
	var nh nativeCounts
	if l.shape.Native {
		nh = h.readNative()
	}
	nb := len(l.intBounds) + 1
	var counts [32]uint64
	cs := counts[:0]
	if nb > len(counts) {
		cs = make([]uint64, 0, nb)
	}
	cs = cs[:nb]
	var sum uint64
	for _, st := range h.allStripes(new([1]stripe)) {
		for i := range cs {
			cs[i] += st.cells[i].Load()
		}
		sum += st.cells[len(st.cells)-1].Load()
	}
	limit := uint64(math.MaxUint64)
	if l.shape.Native {
		limit = nh.count
	}

	w := &written{}
	hist := &w.hist
	w.sum = l.toUnit(int64(sum))
	w.created.Seconds, w.created.Nanos = h.created/1e9, int32(h.created%1e9)
	hist.SampleCount, hist.SampleSum, hist.CreatedTimestamp = &w.count, &w.sum, &w.created

	var slots []exemplar
	if p := h.ex.Load(); p != nil {
		slots = *p
	}
	inf := slots != nil && slots[nb-1].Load() != nil // an exemplar on +Inf adds that bucket
	nbuckets := nb - 1
	if inf {
		nbuckets = nb
	}
	bs := make([]bucket, nbuckets)
	hist.Bucket = make([]*dto.Bucket, nbuckets)
	var cum uint64
	for i := range nb - 1 {
		cum += cs[i]
		b := &bs[i]
		b.cum = min(cum, limit)
		b.b.CumulativeCount, b.b.UpperBound = &b.cum, &l.shape.Bounds[i]
		hist.Bucket[i] = &b.b
	}
	w.count = min(cum+cs[nb-1], limit)
	if inf {
		b := &bs[nb-1]
		b.cum = w.count
		b.b.CumulativeCount, b.b.UpperBound = &b.cum, &posInf
		hist.Bucket[nb-1] = &b.b
	}

	if l.shape.Native {
		w.zero, w.zt = nh.zero, NativeZeroThreshold
		hist.Schema, hist.ZeroThreshold, hist.ZeroCount = &nativeSchema, &w.zt, &w.zero
		hist.PositiveSpan, hist.PositiveDelta = nh.spans, nh.deltas
		// Without observations the non-zero zero threshold is what marks the histogram as
		// native, as in client_golang, which writes its empty span only for a zero threshold
		// of 0.
	}

	for i := range slots {
		e := slots[i].Load()
		if e == nil {
			continue
		}
		pb := e.proto(l)
		hist.Bucket[i].Exemplar = pb
		if l.shape.Native {
			hist.Exemplars = append(hist.Exemplars, pb)
		}
	}

	out.Histogram = hist
	out.Label = h.labelPairs()
	return nil
}

// allStripes returns the series' stripes; one is the caller's room for the base stripe alone,
// so that a series that never grew costs no allocation here.
func (h *Histogram) allStripes(one *[1]stripe) []stripe {
	if set := h.set.Load(); set != nil {
		return set.s
	}
	one[0] = h.base
	return one[:]
}

// labelPairs builds the series' label pairs, sorted by name as client_golang sorts them. They
// are built per scrape rather than kept, as client_golang keeps them: the series is smaller by
// about 350 bytes, and two allocations per series per scrape cost less than that memory does.
func (h *Histogram) labelPairs() []*dto.LabelPair {
	l := h.l
	if len(l.names) == 0 {
		return nil
	}
	pairs := make([]dto.LabelPair, len(l.names))
	out := make([]*dto.LabelPair, len(l.names))
	for i := range pairs {
		pairs[i].Name, pairs[i].Value = &l.names[i], &h.labels[l.order[i]]
		out[i] = &pairs[i]
	}
	return out
}

// exemplarProto holds one exemplar's protobuf form and its parts, allocated together.
type exemplarProto struct {
	e           dto.Exemplar
	value       float64
	ts          timestamppb.Timestamp
	labels      [2]dto.LabelPair
	ptrs        [2]*dto.LabelPair
	trace, span string
}

var (
	exemplarSpanID  = catalog.ExemplarSpanID
	exemplarTraceID = catalog.ExemplarTraceID
)

// proto returns the exemplar's protobuf form, built on first use and then kept (an exemplar
// never changes; a newer one replaces it), as client_golang keeps its exemplars. Labels are
// sorted by name.
func (e *Exemplar) proto(l *layout) *dto.Exemplar {
	if p := e.pb.Load(); p != nil {
		return p
	}
	p := &exemplarProto{
		value: l.toUnit(e.Value),
		trace: hex.EncodeToString(e.TraceID[:]),
		span:  hex.EncodeToString(e.SpanID[:]),
	}
	p.ts.Seconds, p.ts.Nanos = e.At.Unix(), int32(e.At.Nanosecond())
	names, values := [2]*string{&exemplarSpanID, &exemplarTraceID}, [2]*string{&p.span, &p.trace}
	if exemplarTraceID < exemplarSpanID {
		names[0], names[1], values[0], values[1] = names[1], names[0], values[1], values[0]
	}
	for i := range p.labels {
		p.labels[i].Name, p.labels[i].Value = names[i], values[i]
		p.ptrs[i] = &p.labels[i]
	}
	p.e.Label, p.e.Value, p.e.Timestamp = p.ptrs[:], &p.value, &p.ts
	e.pb.CompareAndSwap(nil, &p.e)
	return e.pb.Load()
}
