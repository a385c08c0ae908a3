package profiling

import (
	"bytes"
	"io"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"time"

	"github.com/grafana/pyroscope-go/godeltaprof"
	"github.com/grafana/pyroscope-go/upstream"
)

// The snapshot loop: heap, goroutine, mutex and block profiles every UploadRate, and once more
// when stopped.

func (p *Profiler) startLoop() {
	if !p.cfg.DisableHeap {
		p.heap = godeltaprof.NewHeapProfiler()
	}
	if p.cfg.MutexProfileFraction > 0 {
		p.mutex = godeltaprof.NewMutexProfiler()
	}
	if p.cfg.BlockProfileRate > 0 {
		p.block = godeltaprof.NewBlockProfiler()
	}
	// The delta profilers report what happened since their previous call: a first call here makes
	// the first upload cover the first interval, not the life of the process.
	var discard bytes.Buffer
	if p.heap != nil {
		_ = p.heap.Profile(&discard)
		p.lastGC = gcCycles()
	}
	if p.mutex != nil {
		_ = p.mutex.Profile(&discard)
	}
	if p.block != nil {
		_ = p.block.Profile(&discard)
	}
	go p.loop(time.Now())
}

func (p *Profiler) loop(start time.Time) {
	defer close(p.loopDone)
	t := time.NewTicker(p.cfg.UploadRate)
	defer t.Stop()
	for {
		select {
		case now := <-t.C:
			p.snapshot(start, now, false)
			start = now
		case <-p.stop:
			p.snapshot(start, time.Now(), true)
			return
		}
	}
}

func (p *Profiler) snapshot(start, end time.Time, last bool) {
	if !p.cfg.DisableGoroutines {
		if g := pprof.Lookup("goroutine"); g != nil {
			p.buf.Reset()
			if err := g.WriteTo(&p.buf, 0); err != nil {
				p.log.error("goroutine profile", err)
			} else {
				p.up.Upload(&upstream.UploadJob{
					Name: p.names.sdk, StartTime: start, EndTime: end, SpyName: "gospy",
					Units: "goroutines", AggregationType: "average", Format: upstream.FormatPprof,
					Profile: bytes.Clone(p.buf.Bytes()),
					SampleTypeConfig: map[string]*upstream.SampleType{
						"goroutine": {DisplayName: "goroutine", Units: "goroutines", Aggregation: "average"},
					},
				})
			}
		}
	}
	if p.heap != nil {
		n := gcCycles()
		if n == p.lastGC && (p.cfg.ForceGC || last) {
			runtime.GC()
			n = gcCycles()
		}
		// The heap profile changes only when a GC completes.
		if n != p.lastGC {
			p.lastGC = n
			p.deltaUpload("heap", p.heap, start, end, heapSampleTypes())
		}
	}
	if p.mutex != nil {
		p.deltaUpload("mutex", p.mutex, start, end, contentionSampleTypes("mutex"))
	}
	if p.block != nil {
		p.deltaUpload("block", p.block, start, end, contentionSampleTypes("block"))
	}
}

func (p *Profiler) deltaUpload(what string, prof deltaProfiler, start, end time.Time, types map[string]*upstream.SampleType) {
	p.buf.Reset()
	if err := prof.Profile(&p.buf); err != nil {
		p.log.error(what+" profile", err)
		return
	}
	p.up.Upload(&upstream.UploadJob{
		Name: p.names.godeltaprof, StartTime: start, EndTime: end, SpyName: "gospy",
		SampleRate: 100, Format: upstream.FormatPprof, Profile: bytes.Clone(p.buf.Bytes()),
		SampleTypeConfig: types,
	})
}

// deltaProfiler is godeltaprof's heap, mutex or block profiler.
type deltaProfiler interface{ Profile(w io.Writer) error }

// gcCycles reads the number of completed GC cycles from runtime/metrics (no stop-the-world).
func gcCycles() uint64 {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// The sample type descriptions pyroscope-go sends with godeltaprof profiles.
func heapSampleTypes() map[string]*upstream.SampleType {
	return map[string]*upstream.SampleType{
		"alloc_objects": {Units: "objects"},
		"alloc_space":   {Units: "bytes"},
		"inuse_space":   {Units: "bytes", Aggregation: "average"},
		"inuse_objects": {Units: "objects", Aggregation: "average"},
	}
}

func contentionSampleTypes(kind string) map[string]*upstream.SampleType {
	return map[string]*upstream.SampleType{
		"contentions": {DisplayName: kind + "_count", Units: "lock_samples"},
		"delay":       {DisplayName: kind + "_duration", Units: "lock_nanoseconds"},
	}
}
