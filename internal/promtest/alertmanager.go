package promtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// DefaultAlertmanager is the Alertmanager binary StartAlertmanager runs unless $ALERTMANAGER names
// another (the Debian package prometheus-alertmanager).
const DefaultAlertmanager = "/usr/bin/prometheus-alertmanager"

// Alertmanager is a running Alertmanager.
type Alertmanager struct {
	// URL is its base URL, for WithAlertmanager.
	URL string
	// Dir holds alertmanager.yml and the data directory.
	Dir string

	client *http.Client
}

// StartAlertmanager runs Alertmanager with the configuration config (alertmanager.yml's text) on
// a free port, clustering off, and returns once it is ready; it stops in t.Cleanup.
func StartAlertmanager(t TB, config string) *Alertmanager {
	t.Helper()
	bin := os.Getenv("ALERTMANAGER")
	if bin == "" {
		bin = DefaultAlertmanager
		if _, err := os.Stat(bin); err != nil {
			if p, err := exec.LookPath("alertmanager"); err == nil {
				bin = p
			}
		}
	}
	bin, err := executable("Alertmanager", bin)
	if err != nil {
		t.Fatalf("promtest: %v", err)
	}
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o644); err != nil {
		t.Fatalf("promtest: %v", err)
	}
	addr, err := freeAddr()
	if err != nil {
		t.Fatalf("promtest: free port: %v", err)
	}
	am := &Alertmanager{URL: "http://" + addr, Dir: dir, client: &http.Client{Timeout: 10 * time.Second}}
	t.Cleanup(am.client.CloseIdleConnections)
	runProcess(t, "Alertmanager", bin, []string{
		"--config.file=" + cfgPath,
		"--storage.path=" + filepath.Join(dir, "data"),
		"--web.listen-address=" + addr,
		"--cluster.listen-address=", // no gossip port: tests run side by side
		"--log.level=info",
	}, func() bool { return httpOK(am.client, am.URL+"/-/ready") }, 30*time.Second)
	return am
}

// AlertmanagerAlert is one alert as Alertmanager's /api/v2/alerts lists it.
type AlertmanagerAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	Status      struct {
		State       string   `json:"state"` // active, suppressed or unprocessed
		InhibitedBy []string `json:"inhibitedBy"`
		SilencedBy  []string `json:"silencedBy"`
	} `json:"status"`
	Receivers []struct {
		Name string `json:"name"`
	} `json:"receivers"`
	StartsAt    time.Time `json:"startsAt"`
	Fingerprint string    `json:"fingerprint"`
}

// Alerts returns the alerts Alertmanager holds, inhibited and silenced ones included.
func (am *Alertmanager) Alerts(ctx context.Context) ([]AlertmanagerAlert, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, am.URL+"/api/v2/alerts", nil)
	if err != nil {
		return nil, err
	}
	resp, err := am.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("alertmanager /api/v2/alerts: HTTP %d: %s", resp.StatusCode, body)
	}
	var out []AlertmanagerAlert
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("alertmanager /api/v2/alerts: %w", err)
	}
	return out, nil
}

// Notification is one webhook notification from Alertmanager (payload version 4), with the path
// it was posted to, so that one Webhook can stand for several receivers.
type Notification struct {
	Path              string            `json:"-"`
	Receiver          string            `json:"receiver"`
	Status            string            `json:"status"` // firing or resolved
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []struct {
		Status       string            `json:"status"`
		Labels       map[string]string `json:"labels"`
		Annotations  map[string]string `json:"annotations"`
		StartsAt     time.Time         `json:"startsAt"`
		GeneratorURL string            `json:"generatorURL"`
	} `json:"alerts"`
}

// Webhook is a loopback HTTP server that records what Alertmanager's webhook receivers post.
type Webhook struct {
	// URL is its base URL; any path under it records (URL+"/pager", URL+"/ticket").
	URL string

	mu     sync.Mutex
	got    []Notification
	notify chan struct{}
}

// StartWebhook starts a webhook receiver on 127.0.0.1; it stops in t.Cleanup.
func StartWebhook(t TB) *Webhook {
	t.Helper()
	w := &Webhook{notify: make(chan struct{}, 1)}
	srv := &http.Server{Handler: http.HandlerFunc(w.serve), ReadHeaderTimeout: 5 * time.Second}
	lis, err := listen("127.0.0.1:0")
	if err != nil {
		t.Fatalf("promtest: webhook: %v", err)
	}
	w.URL = "http://" + lis.Addr().String()
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(lis) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	})
	return w
}

func (w *Webhook) serve(rw http.ResponseWriter, r *http.Request) {
	var n Notification
	if err := json.NewDecoder(r.Body).Decode(&n); err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	n.Path = r.URL.Path
	w.mu.Lock()
	w.got = append(w.got, n)
	w.mu.Unlock()
	select {
	case w.notify <- struct{}{}:
	default:
	}
}

// Notifications returns every notification received so far, oldest first.
func (w *Webhook) Notifications() []Notification {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.got)
}

// WaitFor returns the first notification for which match reports true, waiting up to timeout;
// it fails the test, listing what did arrive, when none does.
func (w *Webhook) WaitFor(t TB, what string, match func(Notification) bool, timeout time.Duration) Notification {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		for _, n := range w.Notifications() {
			if match(n) {
				return n
			}
		}
		select {
		case <-w.notify:
		case <-deadline.C:
			var seen []string
			for _, n := range w.Notifications() {
				seen = append(seen, fmt.Sprintf("%s %s %v", n.Path, n.Status, n.CommonLabels))
			}
			t.Fatalf("promtest: no webhook notification %s after %v; received: %v", what, timeout, seen)
			return Notification{}
		}
	}
}
