package runtimemetrics

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/perfobs/perfobs-go/catalog"
)

// targetInfo exports catalog.TargetInfo: a gauge of value 1 whose labels describe the process.
// Its labels are variable labels, so a second targetInfo on the same registry is reported as
// already registered and Register can compare the values.
type targetInfo struct {
	desc   *prometheus.Desc
	values []string
}

func newTargetInfo(cfg *config) *targetInfo {
	var modPath, modVersion string
	if bi, ok := debug.ReadBuildInfo(); ok {
		modPath, modVersion = bi.Main.Path, bi.Main.Version
	}
	service := cfg.service
	if service == "" {
		service = "unknown_service"
		if len(os.Args) > 0 && os.Args[0] != "" {
			service += ":" + filepath.Base(os.Args[0])
		}
	}
	version := cfg.version
	if version == "" && modVersion != "(devel)" {
		version = modVersion
	}
	return &targetInfo{
		desc: prometheus.NewDesc(catalog.TargetInfo,
			"Target metadata: the service, its version and environment, the Go version and the main module.",
			catalog.TargetInfoLabels(), nil),
		values: []string{service, version, cfg.environment, runtime.Version(), modPath, modVersion},
	}
}

// Describe implements prometheus.Collector.
func (t *targetInfo) Describe(ch chan<- *prometheus.Desc) { ch <- t.desc }

// Collect implements prometheus.Collector.
func (t *targetInfo) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(t.desc, prometheus.GaugeValue, 1, t.values...)
}

func (t *targetInfo) describe() string {
	names := catalog.TargetInfoLabels()
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s=%q", n, t.values[i])
	}
	return "{" + strings.Join(parts, ",") + "}"
}
