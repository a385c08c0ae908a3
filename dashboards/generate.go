//lint:file-ignore SA1019 the v1 dashboard schema (dashboard.Dashboard) is what Grafana 10 and 11 import; dashboardv2 needs Grafana 12

package dashboards

import (
	"errors"
	"fmt"
	"slices"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/perfobs/perfobs-go/alerts"
)

// File is one generated dashboard: its file name, such as "service-red.json", and the JSON
// Grafana imports. It is the shape of alerts' generated files, so that alerts.WriteFiles writes
// both (and removes the stale ones).
type File = alerts.File

// File names of the dashboards.
const (
	REDFile     = "service-red.json"
	RuntimeFile = "go-runtime.json"
	SLOFile     = "slo.json"
)

// namedBoard is a dashboard as grafana-foundation-sdk builds it, before it is marshalled: the
// package's tests walk its panels.
type namedBoard struct {
	Name      string
	Dashboard dashboard.Dashboard
}

// Build returns every dashboard for a checked spec: service RED, Go runtime, and the SLO
// dashboard of the model's SLOs (left out when the spec has none). A spec with histograms: native
// gets the native RED dashboard (WithNativeHistograms). Write them with alerts.WriteFiles.
func Build(m *alerts.Model, opts ...Option) ([]File, error) {
	boards, err := buildBoards(m, opts...)
	if err != nil {
		return nil, err
	}
	return marshalAll(boards)
}

// Defaults returns the shipped dashboards in dashboards/json/: Build for alerts.DefaultModel,
// the spec of the shipped rules in alerts/rules/.
func Defaults(opts ...Option) ([]File, error) {
	boards, err := defaultBoards(opts...)
	if err != nil {
		return nil, err
	}
	return marshalAll(boards)
}

func buildBoards(m *alerts.Model, opts ...Option) ([]namedBoard, error) {
	if m == nil {
		return nil, errors.New("dashboards: Build: nil model")
	}
	if m.Native() {
		opts = append(slices.Clip(opts), WithNativeHistograms())
	}
	if m.Naming == "classic" {
		opts = append(slices.Clip(opts), WithClassicNames())
	}
	boards, err := specless(opts)
	if err != nil {
		return nil, err
	}
	if len(m.SLOs) > 0 {
		slo, err := sloDashboard(m, opts...)
		if err != nil {
			return nil, err
		}
		boards = append(boards, namedBoard{SLOFile, slo})
	}
	return boards, nil
}

func defaultBoards(opts ...Option) ([]namedBoard, error) {
	m, err := alerts.DefaultModel()
	if err != nil {
		return nil, fmt.Errorf("dashboards: default spec: %w", err)
	}
	return buildBoards(m, opts...)
}

// specless returns the dashboards that do not depend on a spec.
func specless(opts []Option) ([]namedBoard, error) {
	red, err := serviceRED(opts...)
	if err != nil {
		return nil, err
	}
	rt, err := goRuntime(opts...)
	if err != nil {
		return nil, err
	}
	return []namedBoard{{REDFile, red}, {RuntimeFile, rt}}, nil
}

func marshalAll(boards []namedBoard) ([]File, error) {
	files := make([]File, 0, len(boards))
	for _, b := range boards {
		data, err := marshal(b.Dashboard)
		if err != nil {
			return nil, err
		}
		files = append(files, File{Name: b.Name, Data: data})
	}
	return files, nil
}
