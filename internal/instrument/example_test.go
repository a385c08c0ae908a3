package instrument_test

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/perfobs/perfobs-go/internal/instrument"
)

func ExampleLabelCap() {
	c := &instrument.LabelCap{Metric: "http_server_request_duration_seconds", Label: "http_route", Max: 2,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, v := range []string{"/a", "/b", "/c", "/a"} {
		fmt.Println(v, "->", c.Admit(v))
	}
	// Output:
	// /a -> /a
	// /b -> /b
	// /c -> _OTHER
	// /a -> /a
}
