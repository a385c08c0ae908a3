package catalog_test

import (
	"fmt"

	"github.com/perfobs/perfobs-go/catalog"
)

func ExampleMetrics() {
	for _, m := range catalog.Metrics()[:2] {
		fmt.Println(m.Name, m.Type, m.Labels)
	}
	// Output:
	// http_server_request_duration_seconds histogram [http_request_method http_route http_response_status_code url_scheme error_type]
	// http_server_active_requests gauge [http_request_method url_scheme]
}
