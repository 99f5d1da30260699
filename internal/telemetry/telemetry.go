// Package telemetry sets up OpenTelemetry metrics exported in the
// Prometheus format, for the /metrics endpoint of dataops daemons.
package telemetry

import (
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// Metrics is a meter whose instruments are served by Handler.
type Metrics struct {
	provider *sdkmetric.MeterProvider
	registry *prometheus.Registry
	// Meter creates instruments.
	Meter metric.Meter
}

// New returns metrics for the named instrumentation scope, with their own
// registry (nothing global).
func New(scope string) (*Metrics, error) {
	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, fmt.Errorf("prometheus exporter: %w", err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp))
	return &Metrics{provider: mp, registry: reg, Meter: mp.Meter(scope)}, nil
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}
