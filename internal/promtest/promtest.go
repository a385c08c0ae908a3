package promtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// DefaultBinary is the Prometheus binary Start runs unless $PROMETHEUS names another.
const DefaultBinary = "/usr/bin/prometheus"

// Interval is the scrape and rule evaluation interval of every server Start runs.
const Interval = time.Second

// TB is the part of testing.TB that Start needs.
type TB interface {
	Helper()
	TempDir() string
	Cleanup(func())
	Failed() bool
	Logf(format string, args ...any)
	Fatalf(format string, args ...any)
}

var _ TB = (testing.TB)(nil)

// Option configures Start.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type target struct{ job, addr, path string }

type config struct {
	targets       []target
	rules         []string
	features      []string
	timeout       time.Duration
	version       Version
	native        bool
	alwaysClassic bool
	otlp          string // translation strategy; "" when the OTLP receiver is off
	alertmanagers []string
	retention     time.Duration
	external      map[string]string
}

// WithTarget adds a scrape job named job for addr (host:port), scraped at /metrics every second.
func WithTarget(job, addr string) Option {
	return WithTargetPath(job, addr, "/metrics")
}

// WithTargetPath is WithTarget with another metrics path.
func WithTargetPath(job, addr, path string) Option {
	return optionFunc(func(c *config) { c.targets = append(c.targets, target{job, addr, path}) })
}

// WithRuleFiles loads rule files (recording and alerting), evaluated every second.
func WithRuleFiles(paths ...string) Option {
	return optionFunc(func(c *config) { c.rules = append(c.rules, paths...) })
}

// WithFeatures passes each feature as --enable-feature (for example "exemplar-storage",
// "native-histograms").
func WithFeatures(features ...string) Option {
	return optionFunc(func(c *config) { c.features = append(c.features, features...) })
}

// WithVersion selects the Prometheus that Start runs (default Prometheus2).
func WithVersion(v Version) Option {
	return optionFunc(func(c *config) { c.version = v })
}

// WithNativeHistograms makes the server scrape native histograms: --enable-feature=native-histograms
// on Prometheus 2, the scrape_native_histograms setting on Prometheus 3 (whose feature flag is
// gone). WithFeatures("native-histograms") does the same on either version.
func WithNativeHistograms() Option {
	return optionFunc(func(c *config) { c.native = true })
}

// WithAlwaysScrapeClassicHistograms keeps the classic _bucket, _count and _sum series of a
// histogram that also has native buckets (always_scrape_classic_histograms, Prometheus 3 only:
// Start fails the test on Prometheus 2.42, which has no such setting).
func WithAlwaysScrapeClassicHistograms() Option {
	return optionFunc(func(c *config) { c.alwaysClassic = true })
}

// OTLP translation strategies of Prometheus 3's OTLP receiver (otlp.translation_strategy).
const (
	// OTLPUnderscoreEscapingWithSuffixes escapes names to [a-zA-Z0-9_] and adds unit and _total
	// suffixes (the default).
	OTLPUnderscoreEscapingWithSuffixes = "UnderscoreEscapingWithSuffixes"
	// OTLPUnderscoreEscapingWithoutSuffixes escapes names and adds no suffix.
	OTLPUnderscoreEscapingWithoutSuffixes = "UnderscoreEscapingWithoutSuffixes"
	// OTLPNoUTF8EscapingWithSuffixes keeps UTF-8 names and adds suffixes.
	OTLPNoUTF8EscapingWithSuffixes = "NoUTF8EscapingWithSuffixes"
	// OTLPNoTranslation keeps names as the producer wrote them.
	OTLPNoTranslation = "NoTranslation"
)

// WithOTLPReceiver turns on Prometheus 3's OTLP receiver (--web.enable-otlp-receiver, at
// Server.OTLPMetricsURL) with the given translation strategy ("" for the server's default).
// Prometheus 2.42 has none: Start fails the test.
func WithOTLPReceiver(translation string) Option {
	return optionFunc(func(c *config) {
		if translation == "" {
			translation = "default"
		}
		c.otlp = translation
	})
}

// WithAlertmanager sends the server's alerts to the Alertmanager at url (such as
// Alertmanager.URL).
func WithAlertmanager(url string) Option {
	return optionFunc(func(c *config) { c.alertmanagers = append(c.alertmanagers, url) })
}

// WithRetention sets --storage.tsdb.retention.time (default: the server's, 15 days).
func WithRetention(d time.Duration) Option {
	return optionFunc(func(c *config) { c.retention = d })
}

// WithExternalLabels sets global.external_labels, which every alert the server sends carries.
func WithExternalLabels(labels map[string]string) Option {
	return optionFunc(func(c *config) { c.external = labels })
}

// WithStartTimeout bounds how long Start waits for the server to become ready (default 30s).
func WithStartTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.timeout = d })
}

// Server is a running Prometheus.
type Server struct {
	// URL is the server's base URL, such as http://127.0.0.1:41234.
	URL string
	// Dir holds prometheus.yml and the data directory.
	Dir string
	// Version is the Prometheus that runs.
	Version Version

	client *http.Client
}

// Start runs Prometheus with the given options and returns once it is ready. It fails the test
// (t.Fatalf) when the binary is missing or the server does not become ready. The server is
// stopped, and its log printed when the test failed, in t.Cleanup.
func Start(t TB, opts ...Option) *Server {
	t.Helper()
	cfg := config{timeout: 30 * time.Second, version: Prometheus2}
	for _, o := range opts {
		o.apply(&cfg)
	}
	bin, err := cfg.version.Binary()
	if err != nil {
		t.Fatalf("promtest: %v", err)
	}
	features := make([]string, 0, len(cfg.features))
	for _, f := range cfg.features {
		if f == "native-histograms" {
			cfg.native = true // a setting, not a flag, on Prometheus 3
			continue
		}
		features = append(features, f)
	}
	if cfg.version == Prometheus2 {
		switch {
		case cfg.alwaysClassic:
			t.Fatalf("promtest: always_scrape_classic_histograms needs Prometheus 3 (WithVersion(Prometheus3)); 2.42 has no such setting")
		case cfg.otlp != "":
			t.Fatalf("promtest: the OTLP receiver needs Prometheus 3 (WithVersion(Prometheus3))")
		}
		if cfg.native {
			features = append(features, "native-histograms")
		}
	}
	dir := t.TempDir()
	rules := make([]string, len(cfg.rules))
	for i, r := range cfg.rules {
		abs, err := filepath.Abs(r)
		if err != nil {
			t.Fatalf("promtest: rule file %q: %v", r, err)
		}
		rules[i] = abs
	}
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(renderConfig(&cfg, rules)), 0o644); err != nil {
		t.Fatalf("promtest: %v", err)
	}
	addr, err := freeAddr()
	if err != nil {
		t.Fatalf("promtest: free port: %v", err)
	}
	args := []string{
		"--config.file=" + cfgPath,
		"--storage.tsdb.path=" + filepath.Join(dir, "data"),
		"--web.listen-address=" + addr,
		"--web.enable-lifecycle",
		"--log.level=info",
	}
	if cfg.otlp != "" {
		args = append(args, "--web.enable-otlp-receiver")
	}
	if cfg.retention > 0 {
		args = append(args, "--storage.tsdb.retention.time="+promDuration(cfg.retention))
	}
	for _, f := range features {
		args = append(args, "--enable-feature="+f)
	}
	s := &Server{URL: "http://" + addr, Dir: dir, Version: cfg.version, client: &http.Client{Timeout: 10 * time.Second}}
	t.Cleanup(s.client.CloseIdleConnections)
	runProcess(t, cfg.version.String(), bin, args, s.ready, cfg.timeout)
	return s
}

func (s *Server) ready() bool { return httpOK(s.client, s.URL+"/-/ready") }

// OTLPMetricsURL is the endpoint of the OTLP receiver (WithOTLPReceiver), for
// OTEL_EXPORTER_OTLP_METRICS_ENDPOINT.
func (s *Server) OTLPMetricsURL() string { return s.URL + "/api/v1/otlp/v1/metrics" }

// Sample is one element of an instant vector.
type Sample struct {
	Metric map[string]string
	Time   time.Time
	Value  float64
}

// Query runs an instant query at the current time. A scalar result comes back as one sample
// without labels.
func (s *Server) Query(ctx context.Context, expr string) ([]Sample, error) {
	raw, err := s.API(ctx, "/api/v1/query", url.Values{"query": {expr}})
	if err != nil {
		return nil, err
	}
	var data struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(raw, &data); err != nil {
		return nil, fmt.Errorf("query %q: decode: %w", expr, err)
	}
	switch data.ResultType {
	case "vector":
		var vec []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		}
		if err := json.Unmarshal(data.Result, &vec); err != nil {
			return nil, fmt.Errorf("query %q: decode vector: %w", expr, err)
		}
		out := make([]Sample, 0, len(vec))
		for _, v := range vec {
			smp, err := sampleOf(v.Value)
			if err != nil {
				return nil, fmt.Errorf("query %q: %w", expr, err)
			}
			smp.Metric = v.Metric
			out = append(out, smp)
		}
		return out, nil
	case "scalar":
		var v [2]any
		if err := json.Unmarshal(data.Result, &v); err != nil {
			return nil, fmt.Errorf("query %q: decode scalar: %w", expr, err)
		}
		smp, err := sampleOf(v)
		if err != nil {
			return nil, fmt.Errorf("query %q: %w", expr, err)
		}
		return []Sample{smp}, nil
	default:
		return nil, fmt.Errorf("query %q: result type %q: want vector or scalar", expr, data.ResultType)
	}
}

func sampleOf(v [2]any) (Sample, error) {
	ts, ok := v[0].(float64)
	str, ok2 := v[1].(string)
	if !ok || !ok2 {
		return Sample{}, fmt.Errorf("malformed sample %v", v)
	}
	f, err := strconv.ParseFloat(str, 64)
	if err != nil {
		return Sample{}, fmt.Errorf("sample value %q: %w", str, err)
	}
	sec := int64(ts)
	return Sample{Time: time.Unix(sec, int64((ts-float64(sec))*1e9)), Value: f}, nil
}

// WaitForData runs expr once per 250ms until it returns at least one sample, and returns them.
// It fails the test when timeout passes first, naming the query and the last error.
func (s *Server) WaitForData(t TB, expr string, timeout time.Duration) []Sample {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var lastErr error
	for {
		smp, err := s.Query(ctx, expr)
		if err == nil && len(smp) > 0 {
			return smp
		}
		if err != nil {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			t.Fatalf("promtest: no data for %s after %v (last error: %v)", expr, timeout, lastErr)
			return nil
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// API GETs path (such as "/api/v1/rules" or "/api/v1/query_exemplars") with params and returns
// the "data" member of a successful response. A response whose status is not "success" is an error
// that carries Prometheus's error message.
func (s *Server) API(ctx context.Context, path string, params url.Values) (json.RawMessage, error) {
	u := s.URL + path
	if len(params) > 0 {
		u += "?" + params.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s: read: %w", path, err)
	}
	var env struct {
		Status string          `json:"status"`
		Data   json.RawMessage `json:"data"`
		Error  string          `json:"error"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("%s: HTTP %d: %w", path, resp.StatusCode, err)
	}
	if env.Status != "success" {
		return nil, fmt.Errorf("%s: %s", path, env.Error)
	}
	return env.Data, nil
}

func renderConfig(c *config, rules []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "global:\n  scrape_interval: %s\n  scrape_timeout: %s\n  evaluation_interval: %s\n", Interval, Interval, Interval)
	if c.version != Prometheus2 {
		fmt.Fprintf(&b, "  scrape_native_histograms: %t\n", c.native)
		if c.alwaysClassic {
			b.WriteString("  always_scrape_classic_histograms: true\n")
		}
	}
	if len(c.external) > 0 {
		b.WriteString("  external_labels:\n")
		for _, k := range sortedKeys(c.external) {
			fmt.Fprintf(&b, "    %s: %q\n", k, c.external[k])
		}
	}
	if c.otlp != "" && c.otlp != "default" {
		fmt.Fprintf(&b, "otlp:\n  translation_strategy: %s\n", c.otlp)
	}
	if len(c.alertmanagers) > 0 {
		b.WriteString("alerting:\n  alertmanagers:\n")
		for _, am := range c.alertmanagers {
			u, err := url.Parse(am)
			if err != nil || u.Host == "" {
				u = &url.URL{Scheme: "http", Host: am}
			}
			fmt.Fprintf(&b, "    - scheme: %s\n      path_prefix: %q\n      static_configs:\n        - targets: [%q]\n", u.Scheme, u.Path, u.Host)
		}
	}
	if len(rules) > 0 {
		b.WriteString("rule_files:\n")
		for _, r := range rules {
			fmt.Fprintf(&b, "  - %q\n", r)
		}
	}
	if len(c.targets) > 0 {
		b.WriteString("scrape_configs:\n")
		for _, tg := range c.targets {
			fmt.Fprintf(&b, "  - job_name: %q\n    metrics_path: %q\n    static_configs:\n      - targets: [%q]\n", tg.job, tg.path, tg.addr)
		}
	}
	return b.String()
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		return "", err
	}
	return addr, nil
}

// syncBuffer is a bytes.Buffer safe for the two copy goroutines of exec.Cmd.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
