//lint:file-ignore SA1019 the v1 dashboard schema (dashboard.Dashboard) is what Grafana 10 and 11 import; dashboardv2 needs Grafana 12

package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/heatmap"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
	"github.com/grafana/grafana-foundation-sdk/go/units"
)

// gridWidth is the width of Grafana's dashboard grid.
const gridWidth = 24

// Panel heights in grid rows.
const (
	statHeight  = 4
	graphHeight = 8
)

// board lays panels out left to right on the 24-column grid, row after row, and numbers them, so
// that every panel has an explicit, stable id and position.
type board struct {
	b        *dashboard.DashboardBuilder
	nextID   uint32
	x, y     uint32
	lineH    uint32
	firstErr error
}

func newBoard(uid, title, description string, tags ...string) *board {
	b := dashboard.NewDashboardBuilder(title).
		Uid(uid).
		Description(description).
		Tags(append([]string{"perfobs"}, tags...)).
		Editable().
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Refresh("30s").
		Time("now-1h", "now").
		Timezone(common.TimeZoneBrowser)
	return &board{b: b, nextID: 1}
}

// row starts a new row of panels under a full-width row header.
func (bd *board) row(title string) {
	bd.newline()
	id := bd.takeID()
	bd.b.WithRow(dashboard.NewRowBuilder(title).Id(id).
		GridPos(dashboard.GridPos{X: 0, Y: bd.y, W: gridWidth, H: 1}))
	bd.y++
}

func (bd *board) newline() {
	if bd.x > 0 {
		bd.x = 0
		bd.y += bd.lineH
		bd.lineH = 0
	}
}

func (bd *board) takeID() uint32 {
	id := bd.nextID
	bd.nextID++
	return id
}

// add places a panel of w columns and h rows after the previous one, wrapping to a new line
// when it would cross the right edge.
func (bd *board) add(w, h uint32, p cog.Builder[dashboard.Panel]) {
	panel, err := p.Build()
	if err != nil {
		if bd.firstErr == nil {
			bd.firstErr = err
		}
		return
	}
	if bd.x+w > gridWidth {
		bd.newline()
	}
	id := bd.takeID()
	panel.Id = &id
	panel.GridPos = &dashboard.GridPos{X: bd.x, Y: bd.y, W: w, H: h}
	panel.Datasource = promDatasource()
	bd.x += w
	bd.lineH = max(bd.lineH, h)
	if bd.x >= gridWidth {
		bd.newline()
	}
	bd.b.WithPanel(builtPanel(panel))
}

func (bd *board) build() (dashboard.Dashboard, error) {
	if bd.firstErr != nil {
		return dashboard.Dashboard{}, bd.firstErr
	}
	d, err := bd.b.Build()
	if err != nil {
		return dashboard.Dashboard{}, fmt.Errorf("build dashboard: %w", err)
	}
	return d, nil
}

// builtPanel hands an already built panel to the dashboard builder.
type builtPanel dashboard.Panel

func (p builtPanel) Build() (dashboard.Panel, error) { return dashboard.Panel(p), nil }

func promDatasource() *common.DataSourceRef {
	typ, uid := datasourceType, datasourceInput
	return &common.DataSourceRef{Type: &typ, Uid: &uid}
}

// query is one Prometheus target of a panel.
type query struct {
	expr     string
	legend   string
	exemplar bool // show exemplars (latency panels)
	heatmap  bool // format=heatmap: one series per bucket, ordered by le
	instant  bool // stat panels that want one value
}

func (q query) builder(refID string) cog.Builder[variants.Dataquery] {
	b := prometheus.NewDataqueryBuilder().
		RefId(refID).
		Expr(q.expr).
		EditorMode(prometheus.QueryEditorModeCode).
		Exemplar(q.exemplar)
	if q.legend != "" {
		b.LegendFormat(q.legend)
	}
	switch {
	case q.heatmap:
		b.Format(prometheus.PromQueryFormatHeatmap).Range()
	case q.instant:
		b.Format(prometheus.PromQueryFormatTimeSeries).Instant()
	default:
		b.Format(prometheus.PromQueryFormatTimeSeries).Range()
	}
	return b
}

func refID(i int) string { return string(rune('A' + i)) }

// step is one threshold: from value on, the colour.
type step struct {
	value float64
	color string
}

// steps builds absolute thresholds: a base colour, then the steps above it.
func steps(base string, more ...step) *dashboard.ThresholdsConfigBuilder {
	s := []dashboard.Threshold{{Color: base}}
	for _, m := range more {
		v := m.value
		s = append(s, dashboard.Threshold{Value: &v, Color: m.color})
	}
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(s)
}

// timeSeries is a line graph with a table legend under it.
func timeSeries(title, description, unit string, qs ...query) *timeseries.PanelBuilder {
	p := timeseries.NewPanelBuilder().
		Title(title).
		Description(description).
		Unit(unit).
		LineWidth(1).
		FillOpacity(10).
		ShowPoints(common.VisibilityModeNever).
		Legend(common.NewVizLegendOptionsBuilder().
			DisplayMode(common.LegendDisplayModeTable).
			Placement(common.LegendPlacementBottom).
			ShowLegend(true).
			Calcs([]string{"mean", "max", "lastNotNull"})).
		Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderDescending)).
		Thresholds(steps("green")).
		ColorScheme(dashboard.NewFieldColorBuilder().Mode(dashboard.FieldColorModeIdPaletteClassic))
	for i, q := range qs {
		p.WithTarget(q.builder(refID(i)))
	}
	return p
}

// withThresholdLines draws the thresholds of a time series as dashed lines.
func withThresholdLines(p *timeseries.PanelBuilder, t *dashboard.ThresholdsConfigBuilder) *timeseries.PanelBuilder {
	return p.Thresholds(t).
		ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeDashed))
}

// statPanel shows the last value of one query, coloured by thresholds.
func statPanel(title, description, unit string, t *dashboard.ThresholdsConfigBuilder, q query) *stat.PanelBuilder {
	return stat.NewPanelBuilder().
		Title(title).
		Description(description).
		Unit(unit).
		Thresholds(t).
		ColorMode(common.BigValueColorModeValue).
		Orientation(common.VizOrientationAuto).
		GraphMode(common.BigValueGraphModeArea).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false)).
		WithTarget(q.builder("A"))
}

// latencyHeatmap shows a classic histogram's buckets over time, with exemplars.
func latencyHeatmap(title, description string, q query) *heatmap.PanelBuilder {
	q.heatmap = true
	q.legend = "{{le}}"
	return heatmap.NewPanelBuilder().
		Title(title).
		Description(description).
		Calculate(false).
		RowsFrame(heatmap.NewRowsHeatmapOptionsBuilder().Layout(common.HeatmapCellLayoutLe)).
		YAxis(heatmap.NewYAxisConfigBuilder().Unit(units.Seconds)).
		Color(heatmap.NewHeatmapColorOptionsBuilder().
			Mode(heatmap.HeatmapColorModeScheme).
			Scheme("Oranges").
			Scale(heatmap.HeatmapColorScaleExponential).
			Exponent(0.5).
			Steps(64)).
		CellValues(heatmap.NewCellValuesBuilder().Unit(units.Short)).
		ShowLegend().
		ExemplarsColor("rgba(255,0,255,0.7)").
		WithTarget(q.builder("A"))
}
