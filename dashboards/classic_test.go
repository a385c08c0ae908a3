package dashboards

import (
	"strings"
	"testing"

	"github.com/perfobs/perfobs-go/alerts"
	"github.com/perfobs/perfobs-go/catalog"
)

// TestClassicNamesDashboard: a spec with naming: classic gets a RED dashboard that reads
// promhttp's and go-grpc-middleware's series only.
func TestClassicNamesDashboard(t *testing.T) {
	m, err := alerts.Load("classic.yaml", []byte("version: 1\nservice: shop\nnaming: classic\nruntime: {disabled: true}\n"+
		"slos: [{name: availability, kind: availability, objective: 99.9}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	files, err := Build(m)
	if err != nil {
		t.Fatal(err)
	}
	var red string
	for _, f := range files {
		if strings.Contains(string(f.Data), catalog.ClassicHTTPDuration) {
			red = string(f.Data)
		}
	}
	if red == "" {
		t.Fatalf("no dashboard reads %s", catalog.ClassicHTTPDuration)
	}
	for _, want := range []string{catalog.ClassicHTTPDuration + "_bucket", catalog.ClassicHTTPDuration + "_count",
		catalog.ClassicLabelHandler + `=~\"$route\"`, `code=~\"5..\"`, catalog.ClassicGRPCServerHandled,
		catalog.ClassicGRPCServerHandling + "_bucket", catalog.ClassicLabelGRPCMethod, catalog.ClassicHTTPInFlight} {
		if !strings.Contains(red, want) {
			t.Errorf("the classic RED dashboard lacks %s", want)
		}
	}
	for _, name := range []string{catalog.HTTPServerDuration, catalog.RPCServerDuration, catalog.LabelErrorType + `!=`, catalog.HTTPServerActive} {
		if strings.Contains(red, name) {
			t.Errorf("the classic RED dashboard still reads %s", name)
		}
	}
}
