package dashboards

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/perfobs/perfobs-go/alerts"
)

// File is one dashboard and the file name it is written under.
type File struct {
	// Name is the file name, such as "service-red.json".
	Name      string
	Dashboard dashboard.Dashboard
}

// File names of the dashboards.
const (
	REDFile     = "service-red.json"
	RuntimeFile = "go-runtime.json"
	SLOFile     = "slo.json"
)

// Build returns every dashboard for a checked spec: service RED, Go runtime, and the SLO
// dashboard of the model's SLOs (left out when the spec has none). A spec with histograms: native
// gets the native RED dashboard (WithNativeHistograms).
func Build(m *alerts.Model, opts ...Option) ([]File, error) {
	if m == nil {
		return nil, errors.New("dashboards: Build: nil model")
	}
	if m.Native() {
		opts = append(slices.Clip(opts), WithNativeHistograms())
	}
	files, err := specless(opts)
	if err != nil {
		return nil, err
	}
	if len(m.SLOs) > 0 {
		slo, err := SLO(m, opts...)
		if err != nil {
			return nil, err
		}
		files = append(files, File{SLOFile, slo})
	}
	return files, nil
}

// Defaults returns the shipped dashboards in dashboards/json/: Build for alerts.DefaultModel,
// the spec of the shipped rules in alerts/rules/.
func Defaults(opts ...Option) ([]File, error) {
	m, err := alerts.DefaultModel()
	if err != nil {
		return nil, fmt.Errorf("dashboards: default spec: %w", err)
	}
	return Build(m, opts...)
}

// WriteAll writes Build's dashboards for m into dir (perfobs generate passes DIR/dashboards)
// and returns the paths written.
func WriteAll(m *alerts.Model, dir string, opts ...Option) ([]string, error) {
	files, err := Build(m, opts...)
	if err != nil {
		return nil, err
	}
	return WriteFiles(dir, files)
}

// specless returns the dashboards that do not depend on a spec.
func specless(opts []Option) ([]File, error) {
	red, err := ServiceRED(opts...)
	if err != nil {
		return nil, err
	}
	rt, err := GoRuntime(opts...)
	if err != nil {
		return nil, err
	}
	return []File{{REDFile, red}, {RuntimeFile, rt}}, nil
}

// WriteFiles writes each file into dir, creating dir, and returns the paths written.
func WriteFiles(dir string, files []File) ([]string, error) {
	if len(files) == 0 {
		return nil, errors.New("dashboards: no dashboard to write")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("dashboards: %w", err)
	}
	var paths []string
	for _, f := range files {
		data, err := Marshal(f.Dashboard)
		if err != nil {
			return nil, err
		}
		p := filepath.Join(dir, f.Name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return nil, fmt.Errorf("dashboards: %w", err)
		}
		paths = append(paths, p)
	}
	return paths, nil
}
