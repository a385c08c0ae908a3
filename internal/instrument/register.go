package instrument

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// RegisterOrReuse registers c on reg. When reg already holds an equal collector of the same type
// (middleware constructed twice on one registry), it returns that one, so both share the series.
func RegisterOrReuse[T prometheus.Collector](reg prometheus.Registerer, c T) (T, error) {
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(T); ok {
			return existing, nil
		}
		return c, fmt.Errorf("registry already has a different collector for these metrics (%T): %w", are.ExistingCollector, err)
	}
	return c, err
}
