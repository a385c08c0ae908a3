package profiling

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/pyroscope-go/upstream"

	"github.com/perfobs/perfobs-go/catalog"
)

// newHTTPClient returns the uploader's own client, bounded by UploadTimeout, so that shutdown can
// close its connections.
func newHTTPClient(cfg Config) (*http.Client, *http.Transport) {
	dialer := &net.Dialer{Timeout: cfg.UploadTimeout, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   cfg.UploadTimeout,
		ResponseHeaderTimeout: cfg.UploadTimeout,
		MaxIdleConnsPerHost:   uploadWorkers,
		MaxConnsPerHost:       uploadWorkers,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   cfg.UploadTimeout,
		// Redirects would drop the Authorization header; Pyroscope does not redirect.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, tr
}

// post sends one profile the way pyroscope-go's remote uploader does: a multipart form with the
// gzipped pprof profile and its sample type description, and the metadata in the query.
func (u *uploader) post(j *upstream.UploadJob) error {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("profile", "profile.pprof")
	if err != nil {
		return err
	}
	if _, err := fw.Write(j.Profile); err != nil {
		return err
	}
	if j.SampleTypeConfig != nil {
		b, err := json.Marshal(j.SampleTypeConfig)
		if err != nil {
			return err
		}
		fw, err := mw.CreateFormFile("sample_type_config", "sample_type_config.json")
		if err != nil {
			return err
		}
		if _, err := fw.Write(b); err != nil {
			return err
		}
	}
	if err := mw.Close(); err != nil {
		return err
	}

	target := *u.base
	target.Path = path.Join(target.Path, "ingest")
	q := url.Values{}
	q.Set("name", j.Name)
	q.Set("from", strconv.FormatInt(j.StartTime.UnixNano(), 10))
	q.Set("until", strconv.FormatInt(j.EndTime.UnixNano(), 10))
	q.Set("spyName", j.SpyName)
	q.Set("sampleRate", strconv.FormatUint(uint64(j.SampleRate), 10))
	q.Set("units", j.Units)
	q.Set("aggregationType", j.AggregationType)
	target.RawQuery = q.Encode()

	req, err := http.NewRequestWithContext(u.ctx, http.MethodPost, target.String(), &body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if u.cfg.BasicAuthUser != "" && u.cfg.BasicAuthPassword != "" {
		req.SetBasicAuth(u.cfg.BasicAuthUser, u.cfg.BasicAuthPassword)
	}
	if u.cfg.TenantID != "" {
		req.Header.Set("X-Scope-OrgID", u.cfg.TenantID)
	}
	resp, err := u.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	// Read a bounded part of the body so the connection can be reused.
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: status %d: %s", target.Redacted(), resp.StatusCode, strings.TrimSpace(string(msg)))
	}
	return nil
}

// helpOf returns the catalogue's help text for metric name.
func helpOf(name string) string {
	for _, m := range catalog.Metrics() {
		if m.Name == name {
			return m.Help
		}
	}
	return name
}
