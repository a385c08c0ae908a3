//lint:file-ignore SA1019 the v1 dashboard schema (dashboard.Dashboard) is what Grafana 10 and 11 import; dashboardv2 needs Grafana 12

package dashboards

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// marshal renders a dashboard as the JSON Grafana imports: indented with two spaces, object keys
// in a fixed order, ending in a newline, so that the same dashboard always gives the same bytes.
func marshal(d dashboard.Dashboard) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		title := ""
		if d.Title != nil {
			title = *d.Title
		}
		return nil, fmt.Errorf("dashboards: marshal %q: %w", title, err)
	}
	return buf.Bytes(), nil
}
