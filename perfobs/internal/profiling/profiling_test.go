package profiling

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grafana/pyroscope-go/upstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/internal/deadend"
	"github.com/perfobs/perfobs-go/leaktest"
)

// The tests here need no pprof parsing; those that decode the uploaded profiles run through the
// public API in e2e/perfobs.

func TestMain(m *testing.M) { leaktest.VerifyTestMain(m) }

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// blackHole is the URL of a server that accepts connections and never answers: a profiling
// server that hangs.
func blackHole(t *testing.T) string { return deadend.NewBlackHole(t).URL() }

// TestProfilingShutdownBoundedByContext is pyroscope-go's Stop hanging on a server that never
// answers: shutdown must return soon after its context ends, with an error, and leave nothing.
func TestProfilingShutdownBoundedByContext(t *testing.T) {
	leaktest.Check(t)
	addr := blackHole(t)
	p, err := Start(Config{ServerAddress: addr, UploadRate: time.Hour, UploadTimeout: time.Minute},
		App{Service: "checkout"}, env(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = p.Shutdown(ctx)
	took := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("shutdown: error %v, want one wrapping context.DeadlineExceeded", err)
	}
	// The context, then at most the grace period for cancelled work, plus slack for a busy machine;
	// the upload timeout (a minute) must play no part.
	if took > 300*time.Millisecond+shutdownGrace+time.Second {
		t.Fatalf("shutdown took %v with a 300ms context", took)
	}
	// Idempotent: a second call neither panics nor blocks, and says the same.
	if err2 := p.Shutdown(context.Background()); err2 != err {
		t.Fatalf("second shutdown: %v, want the first call's %v", err2, err)
	}
}

// TestUploaderNeverBlocks: with a server that hangs, a flood of profiles returns at once and the
// queue stays bounded: memory cannot grow with the outage.
func TestUploaderNeverBlocks(t *testing.T) {
	leaktest.Check(t)
	cfg := Resolve(Config{ServerAddress: blackHole(t)}, env(nil))
	base, _ := parseServerAddress(cfg.ServerAddress)
	up := newUploader(base, cfg, newLogger(slog.New(slog.DiscardHandler)))
	up.start()
	start := time.Now()
	for range 10000 {
		up.Upload(&upstream.UploadJob{Name: "x", Profile: make([]byte, 1024)})
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("10000 uploads to a hung server took %v in the caller", d)
	}
	if n := len(up.jobs); n > uploadQueueLength {
		t.Fatalf("queue holds %d profiles, want at most %d", n, uploadQueueLength)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := up.close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("close: %v, want context.DeadlineExceeded", err)
	}
}

func TestStartProfilerConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		app     App
		env     map[string]string
		wantNil bool
		wantErr string
	}{
		{name: "zero config and no Environment: off", app: App{Service: "s"}, wantNil: true},
		{name: "Disabled wins over the environment", cfg: Config{Disabled: true},
			app: App{Service: "s"}, env: map[string]string{EnvServerAddress: "http://x:4040"}, wantNil: true},
		{name: "address without scheme", cfg: Config{ServerAddress: "pyroscope:4040"},
			app: App{Service: "s"}, wantErr: `ServerAddress "pyroscope:4040": want an http or https URL`},
		{name: "bad address from the environment", app: App{Service: "s"},
			env: map[string]string{EnvServerAddress: "ftp://x"}, wantErr: `PYROSCOPE_SERVER_ADDRESS "ftp://x": want`},
		{name: "empty service", cfg: Config{ServerAddress: "http://x"}, wantErr: "service name is empty"},
		{name: "OpenTelemetry's default service name starts", cfg: Config{ServerAddress: "http://x"},
			app: App{Service: "unknown_service:app", Version: "1,2"}},
		{name: "tag name with a dash", cfg: Config{ServerAddress: "http://x", Tags: map[string]string{"a-b": "1"}},
			app: App{Service: "s"}, wantErr: `Tags["a-b"]: character '-' is not allowed`},
		{name: "tag value with a comma", cfg: Config{ServerAddress: "http://x", Tags: map[string]string{"ab": "1,2"}},
			app: App{Service: "s"}, wantErr: `Tags["ab"] = "1,2": the value may not hold`},
		{name: "negative mutex fraction", cfg: Config{ServerAddress: "http://x", MutexProfileFraction: -1},
			app: App{Service: "s"}, wantErr: "MutexProfileFraction -1: must not be negative"},
		{name: "negative block rate", cfg: Config{ServerAddress: "http://x", BlockProfileRate: -5},
			app: App{Service: "s"}, wantErr: "BlockProfileRate -5: must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leaktest.Check(t)
			p, err := Start(tt.cfg, tt.app, env(tt.env), nil)
			if p != nil {
				defer func() {
					ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
					defer cancel()
					_ = p.Shutdown(ctx)
				}()
			}
			switch {
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			case tt.wantNil && p != nil:
				t.Fatal("profiler started, want none")
			}
		})
	}
}

func TestResolveProfiling(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		env  map[string]string
		want Config
	}{
		{
			name: "environment fills empty fields",
			env: map[string]string{EnvServerAddress: " http://p:4040 ", EnvBasicAuthUser: "u",
				EnvBasicAuthPassword: "pw", EnvTenantID: "t"},
			want: Config{ServerAddress: "http://p:4040", BasicAuthUser: "u", BasicAuthPassword: "pw", TenantID: "t",
				UploadRate: defaultUploadRate, UploadTimeout: defaultUploadTimeout},
		},
		{
			name: "fields win over the environment",
			cfg:  Config{ServerAddress: "http://cfg", TenantID: "c", UploadRate: time.Second, UploadTimeout: 2 * time.Second},
			env:  map[string]string{EnvServerAddress: "http://env", EnvTenantID: "e"},
			want: Config{ServerAddress: "http://cfg", TenantID: "c", UploadRate: time.Second, UploadTimeout: 2 * time.Second},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Resolve(tt.cfg, env(tt.env))
			if got.ServerAddress != tt.want.ServerAddress || got.BasicAuthUser != tt.want.BasicAuthUser ||
				got.BasicAuthPassword != tt.want.BasicAuthPassword || got.TenantID != tt.want.TenantID ||
				got.UploadRate != tt.want.UploadRate || got.UploadTimeout != tt.want.UploadTimeout {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestNilProfilerShutdown(t *testing.T) {
	var p *Profiler
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestProfileNames(t *testing.T) {
	tests := []struct {
		name        string
		app         App
		tags        map[string]string
		wantService string
		wantTags    map[string]string
	}{
		{
			name:        "service, version and environment",
			app:         App{Service: "checkout", Version: "1.4.2", Environment: "prod"},
			wantService: "checkout",
			wantTags:    map[string]string{"version": "1.4.2", "environment": "prod"},
		},
		{
			name:        "characters Pyroscope refuses become _",
			app:         App{Service: "unknown_service:my app", Version: "1.0+a,b", Environment: "x=y"},
			wantService: "unknown_service_my_app",
			wantTags:    map[string]string{"version": "1.0+a_b", "environment": "x_y"},
		},
		{
			name:        "Tags win over version",
			app:         App{Service: "s", Version: "1"},
			tags:        map[string]string{"version": "2", "region": "eu"},
			wantService: "s",
			wantTags:    map[string]string{"version": "2", "region": "eu"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			names, tags, err := newProfileNames(tt.app, tt.tags)
			if err != nil {
				t.Fatal(err)
			}
			if names.service != tt.wantService {
				t.Errorf("service %q, want %q", names.service, tt.wantService)
			}
			if !maps.Equal(tags, tt.wantTags) {
				t.Errorf("tags %v, want %v", tags, tt.wantTags)
			}
			want := tt.wantService + "{"
			for _, k := range slices.Sorted(maps.Keys(tt.wantTags)) {
				if k < "otel" { // tags sorting before otel.scope.name come first
					want += k + "=" + tt.wantTags[k] + ","
				}
			}
			if !strings.HasPrefix(names.godeltaprof, want) {
				t.Errorf("name %q does not start with %q", names.godeltaprof, want)
			}
			if !strings.Contains(names.godeltaprof, "otel.scope.name=com.grafana.pyroscope/godeltaprof") ||
				!strings.Contains(names.sdk, "otel.scope.name=com.grafana.pyroscope/go,") {
				t.Errorf("scope labels missing: %q, %q", names.sdk, names.godeltaprof)
			}
		})
	}
}

// TestUploaderCountsDrops: every profile not uploaded is counted in catalog.ProfilingDropped under
// its reason, and nothing else is.
func TestUploaderCountsDrops(t *testing.T) {
	tests := []struct {
		name   string
		server func(t *testing.T) string
		n      int
		want   map[string]float64 // nil: see check
		check  func(t *testing.T, got map[string]float64, n int)
	}{
		{"server refuses: upload errors", func(t *testing.T) string {
			return "http://" + deadend.Refused(t)
		}, 5, map[string]float64{catalog.ReasonQueueFull: 0, catalog.ReasonUploadError: 5, catalog.ReasonShutdown: 0}, nil},
		{"server hangs: queue full, then shutdown", blackHole, 100, nil, func(t *testing.T, got map[string]float64, n int) {
			// Two in flight and 16 queued at most; the rest found the queue full. Shutdown's
			// context ends with those in flight or queued: dropped at shutdown.
			if least := float64(n - uploadQueueLength - uploadWorkers); got[catalog.ReasonQueueFull] < least {
				t.Errorf("queue_full %v, want at least %v", got[catalog.ReasonQueueFull], least)
			}
			if got[catalog.ReasonShutdown] < 1 {
				t.Errorf("shutdown %v, want the queued profiles counted", got[catalog.ReasonShutdown])
			}
			if got[catalog.ReasonUploadError] != 0 {
				t.Errorf("upload_error %v, want 0", got[catalog.ReasonUploadError])
			}
			if sum := got[catalog.ReasonQueueFull] + got[catalog.ReasonShutdown]; sum != float64(n) {
				t.Errorf("%v profiles counted dropped, want all %d", sum, n)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leaktest.Check(t)
			cfg := Resolve(Config{ServerAddress: tt.server(t)}, env(nil))
			base, _ := parseServerAddress(cfg.ServerAddress)
			up := newUploader(base, cfg, newLogger(slog.New(slog.DiscardHandler)))
			up.start()
			for range tt.n {
				up.Upload(&upstream.UploadJob{Name: "x", Profile: make([]byte, 64)})
			}
			if tt.want != nil { // let the uploads fail before shutdown
				deadline := time.Now().Add(5 * time.Second)
				for testutil.ToFloat64(up.uploadError) < float64(tt.n) && time.Now().Before(deadline) {
					time.Sleep(5 * time.Millisecond)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			_ = up.close(ctx)
			up.Upload(&upstream.UploadJob{Name: "late"}) // after close: dropped at shutdown too
			got := map[string]float64{}
			mfs, err := gatherOne(up.dropped)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range mfs.GetMetric() {
				if len(m.GetLabel()) != 1 || m.GetLabel()[0].GetName() != catalog.LabelReason {
					t.Fatalf("labels %v, want only %s", m.GetLabel(), catalog.LabelReason)
				}
				got[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
			}
			if len(got) != 3 {
				t.Fatalf("reasons %v, want queue_full, upload_error and shutdown", got)
			}
			got[catalog.ReasonShutdown]-- // the late one
			if tt.want != nil && !maps.Equal(got, tt.want) {
				t.Errorf("dropped %v, want %v", got, tt.want)
			}
			if tt.check != nil {
				tt.check(t, got, tt.n)
			}
		})
	}
}

// gatherOne gathers c alone, under the catalogue's name.
func gatherOne(c prometheus.Collector) (*dto.MetricFamily, error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(c); err != nil {
		return nil, err
	}
	mfs, err := reg.Gather()
	if err != nil {
		return nil, err
	}
	for _, mf := range mfs {
		if mf.GetName() == catalog.ProfilingDropped {
			return mf, nil
		}
	}
	return nil, fmt.Errorf("%s not gathered", catalog.ProfilingDropped)
}

// ExampleStart starts a session against a loopback ingest server and shuts it down: the last
// interval of each profile type is uploaded then.
func ExampleStart() {
	var mu sync.Mutex
	uploads := 0
	ingest := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		uploads++
		mu.Unlock()
	}))
	defer ingest.Close()
	p, err := Start(Config{ServerAddress: ingest.URL, UploadRate: time.Hour}, App{Service: "checkout"},
		func(string) (string, bool) { return "", false }, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Types())
	if err := p.Shutdown(context.Background()); err != nil {
		fmt.Println(err)
	}
	mu.Lock()
	fmt.Println(uploads, "uploads")
	mu.Unlock()
	// Output:
	// [cpu alloc inuse goroutine]
	// 3 uploads
}
