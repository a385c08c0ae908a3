// Package tracesummary says what a flight-recorder snapshot shows about one slow request: for the
// goroutines of the request's runtime/trace task, how long they ran, waited for a processor
// (runnable), were blocked and on what (sync, channel, network, syscall, sleep), and spent in
// GC assist. It reads the runtime's execution-trace format with golang.org/x/exp/trace.
//
// The middleware of perfobs-go (with middleware.WithFlightRecorder) runs each request in a task
// named by its route and logs the request's trace id in it under flightrecorder.LogTraceID;
// Summarize finds the request by that trace id, or takes the longest task of the snapshot.
// The goroutines of a task are those that begin or end it, or log or open a region in it: the
// handler's goroutine, and any goroutine the handler starts that uses the request's context for
// runtime/trace regions or logs.
package tracesummary

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"golang.org/x/exp/trace"

	"github.com/perfobs/perfobs-go/flightrecorder"
)

// ErrNoTask is returned (wrapped) when the snapshot holds no task matching the request.
var ErrNoTask = errors.New("no matching task in the trace")

// Options selects the request to summarize.
type Options struct {
	// TraceID picks the task whose trace-id log (flightrecorder.LogTraceID) equals it. Empty:
	// the longest task that ended within the snapshot.
	TraceID string
}

// States is the time a set of goroutines spent in each state, within the task.
type States struct {
	Running  time.Duration `json:"running_ns"`
	Runnable time.Duration `json:"runnable_ns"` // ready, waiting for a processor
	Sync     time.Duration `json:"sync_ns"`     // blocked on a sync.Mutex, RWMutex, WaitGroup, Cond
	Channel  time.Duration `json:"channel_ns"`  // blocked in a channel send, receive or select
	Network  time.Duration `json:"network_ns"`  // blocked on the network poller
	Syscall  time.Duration `json:"syscall_ns"`  // in a system call
	Sleep    time.Duration `json:"sleep_ns"`    // in time.Sleep
	Other    time.Duration `json:"other_ns"`    // blocked for another reason (GC, preemption...)
	// GCAssist is the time in GC mark assist, helping the garbage collector instead of running
	// the request's code; it overlaps Running (and, while the assist waits, Other).
	GCAssist time.Duration `json:"gc_assist_ns"`
}

// Reasons, the names Dominant returns and the text output uses.
const (
	ReasonRunning  = "running"
	ReasonRunnable = "runnable"
	ReasonSync     = "sync"
	ReasonChannel  = "channel"
	ReasonNetwork  = "network"
	ReasonSyscall  = "syscall"
	ReasonSleep    = "sleep"
	ReasonOther    = "other"
	ReasonGCAssist = "gc_assist"
)

// list returns the exclusive states in a fixed order (GC assist, which overlaps, excluded).
func (s States) list() []struct {
	name string
	d    time.Duration
} {
	return []struct {
		name string
		d    time.Duration
	}{
		{ReasonRunning, s.Running}, {ReasonRunnable, s.Runnable}, {ReasonSync, s.Sync},
		{ReasonChannel, s.Channel}, {ReasonNetwork, s.Network}, {ReasonSyscall, s.Syscall},
		{ReasonSleep, s.Sleep}, {ReasonOther, s.Other},
	}
}

// Total is the sum of the exclusive states (GCAssist excluded).
func (s States) Total() time.Duration {
	var t time.Duration
	for _, x := range s.list() {
		t += x.d
	}
	return t
}

// Dominant names the state with the most time: running, runnable, sync, channel, network,
// syscall, sleep or other; "" when no time was recorded.
func (s States) Dominant() string {
	best, name := time.Duration(0), ""
	for _, x := range s.list() {
		if x.d > best {
			best, name = x.d, x.name
		}
	}
	return name
}

func (s *States) add(o States) {
	s.Running += o.Running
	s.Runnable += o.Runnable
	s.Sync += o.Sync
	s.Channel += o.Channel
	s.Network += o.Network
	s.Syscall += o.Syscall
	s.Sleep += o.Sleep
	s.Other += o.Other
	s.GCAssist += o.GCAssist
}

// Goroutine is one goroutine of the task.
type Goroutine struct {
	ID     int64  `json:"id"`
	States States `json:"states"`
}

// Summary is what the snapshot shows about one request.
type Summary struct {
	Task    string `json:"task"`     // the task's name: the route or gRPC method
	TraceID string `json:"trace_id"` // the logged trace id; empty when none was logged
	// Duration is the task's time within the snapshot, from its start (or the snapshot's start
	// when the task began earlier) to its end (or the snapshot's end).
	Duration time.Duration `json:"duration_ns"`
	// Complete is false when the task's start or end is outside the snapshot: the request was
	// longer than the recorder's window, or still running.
	Complete   bool        `json:"complete"`
	Total      States      `json:"total"`
	Goroutines []Goroutine `json:"goroutines"`
	// Tasks is how many tasks the snapshot holds; TraceIDs lists their logged trace ids.
	Tasks    int      `json:"tasks"`
	TraceIDs []string `json:"-"`
}

// Dominant names the state the request's goroutines spent most time in.
func (s *Summary) Dominant() string { return s.Total.Dominant() }

type taskInfo struct {
	id         trace.TaskID
	name       string
	traceID    string
	begin, end trace.Time
	hasBegin   bool
	hasEnd     bool
	goroutines map[trace.GoID]bool
}

// Summarize reads one execution trace (a flight-recorder snapshot, or a trace.Start trace) from r
// and summarizes the request opts selects. A stream that is not a Go execution trace, or a
// truncated one, is an error; so is a trace id no task logged (wrapping ErrNoTask, naming the
// trace ids present).
func Summarize(r io.Reader, opts Options) (*Summary, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading the trace: %w", err)
	}
	tasks, first, last, err := scanTasks(data)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, t := range tasks {
		if t.traceID != "" {
			ids = append(ids, t.traceID)
		}
	}
	sort.Strings(ids)
	ids = slices.Compact(ids)
	var pick *taskInfo
	for _, t := range tasks {
		if opts.TraceID != "" {
			if t.traceID == opts.TraceID && (pick == nil || span(t, first, last) > span(pick, first, last)) {
				pick = t
			}
			continue
		}
		if t.hasEnd && (pick == nil || span(t, first, last) > span(pick, first, last)) {
			pick = t
		}
	}
	if pick == nil {
		if opts.TraceID != "" {
			return nil, fmt.Errorf("trace id %q: %w (%d tasks; trace ids logged: %s)", opts.TraceID, ErrNoTask,
				len(tasks), listOrNone(ids))
		}
		return nil, fmt.Errorf("%w: the trace holds %d tasks, none ended (was the request served by perfobs middleware with a flight recorder?)",
			ErrNoTask, len(tasks))
	}
	start, end := first, last
	if pick.hasBegin {
		start = pick.begin
	}
	if pick.hasEnd {
		end = pick.end
	}
	per, err := states(data, pick.goroutines, start, end)
	if err != nil {
		return nil, err
	}
	s := &Summary{Task: pick.name, TraceID: pick.traceID, Duration: end.Sub(start),
		Complete: pick.hasBegin && pick.hasEnd, Tasks: len(tasks), TraceIDs: ids}
	gids := make([]trace.GoID, 0, len(per))
	for g := range per {
		gids = append(gids, g)
	}
	slices.Sort(gids)
	for _, g := range gids {
		s.Goroutines = append(s.Goroutines, Goroutine{ID: int64(g), States: *per[g]})
		s.Total.add(*per[g])
	}
	return s, nil
}

func listOrNone(ids []string) string {
	if len(ids) == 0 {
		return "none"
	}
	if len(ids) > 10 {
		return strings.Join(ids[:10], ", ") + fmt.Sprintf(" and %d more", len(ids)-10)
	}
	return strings.Join(ids, ", ")
}

// span is the task's time within the trace.
func span(t *taskInfo, first, last trace.Time) time.Duration {
	b, e := first, last
	if t.hasBegin {
		b = t.begin
	}
	if t.hasEnd {
		e = t.end
	}
	return e.Sub(b)
}

func newReader(data []byte) (*trace.Reader, error) {
	rd, err := trace.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("not a Go execution trace: %w", err)
	}
	return rd, nil
}

// scanTasks is the first pass: every task, its times, trace id and goroutines.
func scanTasks(data []byte) (map[trace.TaskID]*taskInfo, trace.Time, trace.Time, error) {
	rd, err := newReader(data)
	if err != nil {
		return nil, 0, 0, err
	}
	tasks := map[trace.TaskID]*taskInfo{}
	get := func(id trace.TaskID) *taskInfo {
		t := tasks[id]
		if t == nil {
			t = &taskInfo{id: id, goroutines: map[trace.GoID]bool{}}
			tasks[id] = t
		}
		return t
	}
	var first, last trace.Time
	n := 0
	for {
		e, err := rd.ReadEvent()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, 0, 0, fmt.Errorf("reading the trace at event %d: %w", n, err)
		}
		if n == 0 {
			first = e.Time()
		}
		n++
		last = e.Time()
		switch e.Kind() {
		case trace.EventTaskBegin, trace.EventTaskEnd:
			tk := e.Task()
			if tk.ID == trace.NoTask || tk.ID == trace.TaskID(0) {
				continue
			}
			t := get(tk.ID)
			if tk.Type != "" {
				t.name = tk.Type
			}
			if e.Kind() == trace.EventTaskBegin {
				t.begin, t.hasBegin = e.Time(), true
			} else {
				t.end, t.hasEnd = e.Time(), true
			}
			addGoroutine(t, e.Goroutine())
		case trace.EventLog:
			l := e.Log()
			if l.Task == trace.NoTask || l.Task == trace.TaskID(0) {
				continue
			}
			t := get(l.Task)
			switch l.Category {
			case flightrecorder.LogTraceID:
				t.traceID = l.Message
			case flightrecorder.LogRoute:
				t.name = l.Message
			}
			addGoroutine(t, e.Goroutine())
		case trace.EventRegionBegin, trace.EventRegionEnd:
			if id := e.Region().Task; id != trace.NoTask && id != trace.TaskID(0) {
				addGoroutine(get(id), e.Goroutine())
			}
		}
	}
	if n == 0 {
		return nil, 0, 0, errors.New("the trace holds no events")
	}
	return tasks, first, last, nil
}

func addGoroutine(t *taskInfo, g trace.GoID) {
	if g != trace.NoGoroutine {
		t.goroutines[g] = true
	}
}

// goState is the state of one goroutine being followed in the second pass.
type goState struct {
	state      trace.GoState
	reason     string
	since      trace.Time
	known      bool
	assistFrom trace.Time
	assisting  bool
}

// states is the second pass: the time each goroutine of gs spent in each state within [start, end].
func states(data []byte, gs map[trace.GoID]bool, start, end trace.Time) (map[trace.GoID]*States, error) {
	rd, err := newReader(data)
	if err != nil {
		return nil, err
	}
	out := map[trace.GoID]*States{}
	cur := map[trace.GoID]*goState{}
	for g := range gs {
		out[g] = &States{}
		cur[g] = &goState{}
	}
	clip := func(a, b trace.Time) time.Duration {
		a, b = max(a, start), min(b, end)
		if b <= a {
			return 0
		}
		return b.Sub(a)
	}
	account := func(g trace.GoID, st *goState, t trace.Time) {
		if !st.known {
			return
		}
		d := clip(st.since, t)
		s := out[g]
		switch st.state {
		case trace.GoRunning:
			s.Running += d
		case trace.GoRunnable:
			s.Runnable += d
		case trace.GoSyscall:
			s.Syscall += d
		case trace.GoWaiting:
			switch category(st.reason) {
			case ReasonSync:
				s.Sync += d
			case ReasonChannel:
				s.Channel += d
			case ReasonNetwork:
				s.Network += d
			case ReasonSleep:
				s.Sleep += d
			default:
				s.Other += d
			}
		}
	}
	for {
		e, err := rd.ReadEvent()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading the trace: %w", err)
		}
		switch e.Kind() {
		case trace.EventStateTransition:
			st := e.StateTransition()
			if st.Resource.Kind != trace.ResourceGoroutine {
				continue
			}
			g := st.Resource.Goroutine()
			gst := cur[g]
			if gst == nil {
				continue
			}
			account(g, gst, e.Time())
			_, to := st.Goroutine()
			gst.state, gst.reason, gst.since, gst.known = to, st.Reason, e.Time(), true
		case trace.EventRangeBegin, trace.EventRangeActive, trace.EventRangeEnd:
			rg := e.Range()
			if rg.Name != "GC mark assist" || rg.Scope.Kind != trace.ResourceGoroutine {
				continue
			}
			g := rg.Scope.Goroutine()
			gst := cur[g]
			if gst == nil {
				continue
			}
			if e.Kind() == trace.EventRangeEnd {
				if gst.assisting {
					out[g].GCAssist += clip(gst.assistFrom, e.Time())
				} else { // began before the trace did
					out[g].GCAssist += clip(start, e.Time())
				}
				gst.assisting = false
				continue
			}
			gst.assisting, gst.assistFrom = true, e.Time()
		}
		if e.Time() > end {
			break
		}
	}
	for g, gst := range cur {
		account(g, gst, end)
		if gst.assisting {
			out[g].GCAssist += clip(gst.assistFrom, end)
		}
	}
	return out, nil
}

// category maps the runtime's block reasons (runtime/traceruntime.go) onto the summary's.
func category(reason string) string {
	switch {
	case reason == "sync" || strings.HasPrefix(reason, "sync."):
		return ReasonSync
	case reason == "chan send" || reason == "chan receive" || reason == "select":
		return ReasonChannel
	case reason == "network":
		return ReasonNetwork
	case reason == "sleep":
		return ReasonSleep
	}
	return ReasonOther
}

// Short is the summary in one line: the states' shares, largest first, then the task's time and
// goroutines ("sync 99.8%, running 0.2%; 80.3ms, 1 goroutine").
func (s *Summary) Short() string {
	total := s.Total.Total()
	list := s.Total.list()
	sort.SliceStable(list, func(i, j int) bool { return list[i].d > list[j].d })
	var parts []string
	for _, x := range list {
		if x.d > 0 && len(parts) < 3 {
			parts = append(parts, fmt.Sprintf("%s %.1f%%", x.name, 100*float64(x.d)/float64(total)))
		}
	}
	if len(parts) == 0 {
		parts = append(parts, "no goroutine time recorded")
	}
	out := strings.Join(parts, ", ") + fmt.Sprintf("; %v, %d goroutine(s)", s.Duration.Round(time.Microsecond), len(s.Goroutines))
	if s.Total.GCAssist > 0 {
		out += fmt.Sprintf(", GC assist %v", s.Total.GCAssist.Round(time.Microsecond))
	}
	if !s.Complete {
		out += " (partial)"
	}
	return out
}

// WriteText writes the summary for a person: the task, then the time in each state, largest
// first, as a share of the goroutines' total.
func (s *Summary) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "task %q", s.Task)
	if s.TraceID != "" {
		fmt.Fprintf(&b, " trace_id %s", s.TraceID)
	}
	fmt.Fprintf(&b, ": %v in the snapshot", s.Duration.Round(time.Microsecond))
	if !s.Complete {
		b.WriteString(" (partial: the task's start or end is outside the snapshot)")
	}
	fmt.Fprintf(&b, ", %d goroutine(s)\n", len(s.Goroutines))
	writeStates(&b, "  ", s.Total)
	if len(s.Goroutines) > 1 {
		for _, g := range s.Goroutines {
			fmt.Fprintf(&b, "goroutine %d:\n", g.ID)
			writeStates(&b, "  ", g.States)
		}
	}
	if d := s.Dominant(); d != "" {
		fmt.Fprintf(&b, "mostly: %s\n", d)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeStates(b *strings.Builder, indent string, st States) {
	total := st.Total()
	list := st.list()
	sort.SliceStable(list, func(i, j int) bool { return list[i].d > list[j].d })
	for _, x := range list {
		if x.d == 0 {
			continue
		}
		label := x.name
		if x.name != ReasonRunning && x.name != ReasonRunnable {
			label = "blocked " + x.name
		}
		if x.name == ReasonSyscall {
			label = "syscall"
		}
		fmt.Fprintf(b, "%s%-16s %12v  %5.1f%%\n", indent, label, x.d.Round(time.Microsecond), 100*float64(x.d)/float64(total))
	}
	if st.GCAssist > 0 {
		fmt.Fprintf(b, "%s%-16s %12v  (within the above)\n", indent, "GC assist", st.GCAssist.Round(time.Microsecond))
	}
}
