package runtimemetrics

import (
	"bytes"
	"errors"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/perfobs/perfobs-go/catalog"
)

// pinnedSeries is every series name the default set exports on Linux, as written in the text
// exposition. A change here changes what dashboards and alert rules can query: update the
// catalogue (catalog/runtime.go) and the rules with it.
var pinnedSeries = []string{
	"go_cpu_classes_gc_mark_assist_cpu_seconds_total",
	"go_cpu_classes_gc_total_cpu_seconds_total",
	"go_cpu_classes_idle_cpu_seconds_total",
	"go_cpu_classes_total_cpu_seconds_total",
	"go_cpu_classes_user_cpu_seconds_total",
	"go_gc_cycles_total_gc_cycles_total",
	"go_gc_duration_seconds",
	"go_gc_duration_seconds_count",
	"go_gc_duration_seconds_sum",
	"go_gc_gogc_percent",
	"go_gc_gomemlimit_bytes",
	"go_gc_heap_allocs_bytes_total",
	"go_gc_heap_allocs_objects_total",
	"go_gc_heap_goal_bytes",
	"go_gc_heap_live_bytes",
	"go_gc_heap_objects_objects",
	"go_goroutines",
	"go_info",
	"go_memory_classes_heap_free_bytes",
	"go_memory_classes_heap_objects_bytes",
	"go_memory_classes_heap_released_bytes",
	"go_memory_classes_heap_stacks_bytes",
	"go_memory_classes_heap_unused_bytes",
	"go_memory_classes_metadata_mcache_free_bytes",
	"go_memory_classes_metadata_mcache_inuse_bytes",
	"go_memory_classes_metadata_mspan_free_bytes",
	"go_memory_classes_metadata_mspan_inuse_bytes",
	"go_memory_classes_metadata_other_bytes",
	"go_memory_classes_os_stacks_bytes",
	"go_memory_classes_other_bytes",
	"go_memory_classes_profiling_buckets_bytes",
	"go_memory_classes_total_bytes",
	"go_memstats_last_gc_time_seconds",
	"go_sched_gomaxprocs_threads",
	"go_sched_goroutines_created_goroutines_total",
	"go_sched_latencies_seconds_bucket",
	"go_sched_latencies_seconds_count",
	"go_sched_latencies_seconds_sum",
	"go_sched_threads_total_threads",
	"go_sync_mutex_wait_total_seconds_total",
	"go_threads",
	"process_cpu_seconds_total",
	"process_max_fds",
	"process_network_receive_bytes_total",
	"process_network_transmit_bytes_total",
	"process_open_fds",
	"process_resident_memory_bytes",
	"process_start_time_seconds",
	"process_virtual_memory_bytes",
	"process_virtual_memory_max_bytes",
	"target_info",
}

// seriesNames renders reg in the text format and returns the distinct series names, sorted, and
// the number of series.
func seriesNames(t *testing.T, reg prometheus.Gatherer) ([]string, int) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	count := 0
	for line := range strings.Lines(buf.String()) {
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		count++
		name, _, _ := strings.Cut(line, "{")
		name, _, _ = strings.Cut(name, " ")
		names = append(names, name)
	}
	slices.Sort(names)
	return slices.Compact(names), count
}

func TestDefaultSeriesArePinned(t *testing.T) {
	reg := prometheus.NewRegistry()
	if err := Register(reg); err != nil {
		t.Fatal(err)
	}
	got, count := seriesNames(t, reg)
	want := pinnedSeries
	if runtime.GOOS != "linux" { // the process collector exports less elsewhere
		want = slices.DeleteFunc(slices.Clone(want), func(s string) bool { return strings.HasPrefix(s, "process_") })
		got = slices.DeleteFunc(got, func(s string) bool { return strings.HasPrefix(s, "process_") })
	}
	if !slices.Equal(got, want) {
		t.Errorf("series names changed\nmissing: %v\nextra:   %v", diff(want, got), diff(got, want))
	}
	// Low cardinality: the whole default set stays under 100 series.
	if count > 100 {
		t.Errorf("default set exports %d series, want at most 100", count)
	}
}

func TestCatalogListsEveryFamily(t *testing.T) {
	reg := prometheus.NewRegistry()
	if err := Register(reg); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, mf := range mfs {
		got = append(got, mf.GetName())
	}
	want := catalog.RuntimeMetricNames()
	slices.Sort(want)
	if runtime.GOOS != "linux" {
		want = slices.DeleteFunc(want, func(s string) bool { return strings.HasPrefix(s, "process_") })
		got = slices.DeleteFunc(got, func(s string) bool { return strings.HasPrefix(s, "process_") })
	}
	if !slices.Equal(got, want) {
		t.Errorf("catalog.RuntimeMetricNames and the exported families differ\nonly in catalog: %v\nonly exported:   %v",
			diff(want, got), diff(got, want))
	}
}

// TestAlertedSeriesInDefaultSet names what the shipped rules and dashboards need.
func TestAlertedSeriesInDefaultSet(t *testing.T) {
	reg := prometheus.NewRegistry()
	if err := Register(reg); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]dto.MetricType{}
	for _, mf := range mfs {
		types[mf.GetName()] = mf.GetType()
	}
	tests := []struct {
		name string
		typ  dto.MetricType
	}{
		{catalog.GoGoroutines, dto.MetricType_GAUGE},
		{catalog.GoSchedLatencies, dto.MetricType_HISTOGRAM},
		{catalog.GoCPUGCTotal, dto.MetricType_COUNTER},
		{catalog.GoCPUTotal, dto.MetricType_COUNTER},
		{catalog.GoGCMemLimit, dto.MetricType_GAUGE},
		{catalog.GoGCGOGC, dto.MetricType_GAUGE},
		{catalog.GoSchedGoMaxProcs, dto.MetricType_GAUGE},
		{catalog.GoGCHeapGoal, dto.MetricType_GAUGE},
		{catalog.GoMemoryHeapObjects, dto.MetricType_GAUGE},
		{catalog.GoGCCycles, dto.MetricType_COUNTER},
		{catalog.GoGCDuration, dto.MetricType_SUMMARY},
		{catalog.GoThreads, dto.MetricType_GAUGE},
		{catalog.ProcessOpenFDs, dto.MetricType_GAUGE},
		{catalog.ProcessResidentMemory, dto.MetricType_GAUGE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			typ, ok := types[tt.name]
			if !ok {
				t.Fatalf("%s is not in the default set", tt.name)
			}
			if typ != tt.typ {
				t.Fatalf("%s is a %v, want %v", tt.name, typ, tt.typ)
			}
		})
	}
}

func TestValuesAreRead(t *testing.T) {
	reg := prometheus.NewRegistry()
	if err := Register(reg); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*dto.Metric{}
	for _, mf := range mfs {
		got[mf.GetName()] = mf.GetMetric()[0]
	}
	if v := got[catalog.GoSchedGoMaxProcs].GetGauge().GetValue(); v != float64(runtime.GOMAXPROCS(0)) {
		t.Errorf("%s = %v, want %d", catalog.GoSchedGoMaxProcs, v, runtime.GOMAXPROCS(0))
	}
	if v := got[catalog.GoGCCycles].GetCounter().GetValue(); v < 1 {
		t.Errorf("%s = %v after runtime.GC, want >= 1", catalog.GoGCCycles, v)
	}
	if v := got[catalog.GoMemoryTotal].GetGauge().GetValue(); v < 1<<20 {
		t.Errorf("%s = %v, want at least 1 MiB", catalog.GoMemoryTotal, v)
	}
	if v := got[catalog.GoSchedLatencies].GetHistogram().GetSampleCount(); v == 0 {
		t.Errorf("%s has no samples", catalog.GoSchedLatencies)
	}
	if runtime.GOOS == "linux" {
		if v := got[catalog.ProcessOpenFDs].GetGauge().GetValue(); v < 1 {
			t.Errorf("%s = %v, want >= 1", catalog.ProcessOpenFDs, v)
		}
	}
}

func TestTargetInfo(t *testing.T) {
	tests := []struct {
		name string
		opts []Option
		want map[string]string
	}{
		{
			name: "service, version and environment given",
			opts: []Option{WithService("checkout"), WithVersion("1.4.2"), WithEnvironment("production")},
			want: map[string]string{
				catalog.LabelServiceName:    "checkout",
				catalog.LabelServiceVersion: "1.4.2",
				catalog.LabelEnvironment:    "production",
				catalog.LabelRuntimeVersion: runtime.Version(),
			},
		},
		{
			name: "no service: OpenTelemetry's unknown_service with the executable name",
			want: map[string]string{
				catalog.LabelServiceName:    "unknown_service:runtimemetrics.test",
				catalog.LabelEnvironment:    "",
				catalog.LabelRuntimeVersion: runtime.Version(),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			if err := Register(reg, tt.opts...); err != nil {
				t.Fatal(err)
			}
			m := findMetric(t, reg, catalog.TargetInfo)
			if v := m.GetGauge().GetValue(); v != 1 {
				t.Errorf("target_info = %v, want 1", v)
			}
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			for _, name := range catalog.TargetInfoLabels() {
				if _, ok := labels[name]; !ok && tt.want[name] != "" {
					t.Errorf("label %s missing", name)
				}
			}
			for k, v := range tt.want {
				if labels[k] != v {
					t.Errorf("label %s = %q, want %q", k, labels[k], v)
				}
			}
		})
	}
}

func TestRegisterTwice(t *testing.T) {
	tests := []struct {
		name    string
		first   []Option
		second  []Option
		wantErr string // empty: no error
	}{
		{name: "same options reuse", first: []Option{WithService("a")}, second: []Option{WithService("a")}},
		{name: "same histograms reuse", first: []Option{WithPauseHistograms()}, second: []Option{WithPauseHistograms()}},
		{
			name: "other service is refused", first: []Option{WithService("a")}, second: []Option{WithService("b")},
			wantErr: `target_info already registered with labels {service_name="a"`,
		},
		{
			name: "more histograms is refused", first: nil, second: []Option{WithPauseHistograms()},
			wantErr: "runtimemetrics: register Go collector:",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			if err := Register(reg, tt.first...); err != nil {
				t.Fatal(err)
			}
			err := Register(reg, tt.second...)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("second Register: %v", err)
				}
				if _, err := reg.Gather(); err != nil {
					t.Fatalf("Gather after second Register: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("second Register: error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestRegisterErrors(t *testing.T) {
	tests := []struct {
		name    string
		reg     prometheus.Registerer
		opts    []Option
		wantErr string
	}{
		{name: "nil registerer", reg: nil, wantErr: "registerer is nil"},
		{name: "nil option", reg: prometheus.NewRegistry(), opts: []Option{nil}, wantErr: "option 0 is nil"},
		{
			name: "unknown runtime metric", reg: prometheus.NewRegistry(),
			opts:    []Option{WithRuntimeMetrics("/gc/heap/allocs:bytes", "/no/such:thing")},
			wantErr: `"/no/such:thing" is not a runtime/metrics name`,
		},
		{
			name: "not a runtime metric name", reg: prometheus.NewRegistry(),
			opts:    []Option{WithRuntimeMetrics("go_goroutines")},
			wantErr: `"go_goroutines" is not a runtime/metrics name`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Register(tt.reg, tt.opts...)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Register: error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestOptionsAddSeries(t *testing.T) {
	tests := []struct {
		name string
		opt  Option
		want []string
	}{
		{"WithPauseHistograms", WithPauseHistograms(), []string{
			"go_sched_pauses_stopping_gc_seconds", "go_sched_pauses_stopping_other_seconds",
			"go_sched_pauses_total_gc_seconds", "go_sched_pauses_total_other_seconds"}},
		{"WithAllocSizeHistograms", WithAllocSizeHistograms(), []string{
			"go_gc_heap_allocs_by_size_bytes", "go_gc_heap_frees_by_size_bytes"}},
		{"WithRuntimeMetrics", WithRuntimeMetrics("/sched/goroutines/runnable:goroutines"), []string{
			"go_sched_goroutines_runnable_goroutines"}},
		{"WithoutProcessCollector", WithoutProcessCollector(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			if err := Register(reg, tt.opt); err != nil {
				t.Fatal(err)
			}
			mfs, err := reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, mf := range mfs {
				got = append(got, mf.GetName())
			}
			hasProcess := slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, "process_") })
			defaults := catalog.RuntimeMetricNames()
			extra := slices.DeleteFunc(got, func(s string) bool { return slices.Contains(defaults, s) })
			if !slices.Equal(extra, tt.want) {
				t.Fatalf("added families %v, want %v", extra, tt.want)
			}
			if wantProcess := tt.name != "WithoutProcessCollector" && runtime.GOOS == "linux"; hasProcess != wantProcess {
				t.Fatalf("process_* series present: %v, want %v", hasProcess, wantProcess)
			}
		})
	}
}

func TestAlreadyRegisteredErrorIsNotSwallowedForForeignCollectors(t *testing.T) {
	reg := prometheus.NewRegistry()
	// A user's own gauge named target_info with other labels is a real conflict.
	reg.MustRegister(prometheus.NewGauge(prometheus.GaugeOpts{Name: catalog.TargetInfo, Help: "theirs"}))
	err := Register(reg)
	if err == nil || !strings.Contains(err.Error(), "register target_info") {
		t.Fatalf("Register: error %v, want a target_info conflict", err)
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		t.Fatalf("error %v unwraps to AlreadyRegisteredError, want a descriptor conflict", err)
	}
}

func findMetric(t *testing.T, g prometheus.Gatherer, name string) *dto.Metric {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			if len(mf.GetMetric()) != 1 {
				t.Fatalf("%s has %d series, want 1", name, len(mf.GetMetric()))
			}
			return mf.GetMetric()[0]
		}
	}
	t.Fatalf("%s not exported", name)
	return nil
}

// diff returns the elements of a that are not in b.
func diff(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}
