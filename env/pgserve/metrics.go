package pgserve

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
)

// metrics are the front's OpenTelemetry instruments.
type metrics struct {
	accepts  metric.Int64Counter
	conns    metric.Int64UpDownCounter
	queries  metric.Int64Counter
	rows     metric.Int64Counter
	refusals metric.Int64Counter
	latency  metric.Float64Histogram
}

func newMetrics(m metric.Meter) (*metrics, error) {
	if m == nil {
		m = noop.NewMeterProvider().Meter("pgserve")
	}
	var x metrics
	var err error
	if x.accepts, err = m.Int64Counter("dataops_pg_accepted_connections", metric.WithDescription("TCP connections accepted by the PostgreSQL front")); err != nil {
		return nil, err
	}
	if x.conns, err = m.Int64UpDownCounter("dataops_pg_connections", metric.WithDescription("Authenticated PostgreSQL connections open, by environment")); err != nil {
		return nil, err
	}
	if x.queries, err = m.Int64Counter("dataops_pg_queries", metric.WithDescription("Statements run through the PostgreSQL front, by environment and status")); err != nil {
		return nil, err
	}
	if x.rows, err = m.Int64Counter("dataops_pg_rows", metric.WithDescription("Rows sent to PostgreSQL clients, by environment")); err != nil {
		return nil, err
	}
	if x.refusals, err = m.Int64Counter("dataops_pg_refusals", metric.WithDescription("Refused connections and statements, by environment and SQLSTATE")); err != nil {
		return nil, err
	}
	if x.latency, err = m.Float64Histogram("dataops_pg_query_duration_seconds", metric.WithDescription("Statement run time including streaming its rows"), metric.WithUnit("s")); err != nil {
		return nil, err
	}
	return &x, nil
}

func (m *metrics) accepted(ctx context.Context) { m.accepts.Add(ctx, 1) }

func (m *metrics) connOpened(ctx context.Context, envName string) {
	m.conns.Add(ctx, 1, metric.WithAttributes(attribute.String("environment", envName)))
}

func (m *metrics) connClosed(ctx context.Context, envName string) {
	m.conns.Add(context.WithoutCancel(ctx), -1, metric.WithAttributes(attribute.String("environment", envName)))
}

func (m *metrics) refused(ctx context.Context, envName, sqlstate string) {
	m.refusals.Add(context.WithoutCancel(ctx), 1, metric.WithAttributes(attribute.String("environment", envName), attribute.String("sqlstate", sqlstate)))
}

func (m *metrics) query(ctx context.Context, envName, status string, rows int64, d time.Duration) {
	ctx = context.WithoutCancel(ctx)
	attrs := metric.WithAttributes(attribute.String("environment", envName), attribute.String("status", status))
	m.queries.Add(ctx, 1, attrs)
	m.rows.Add(ctx, rows, metric.WithAttributes(attribute.String("environment", envName)))
	m.latency.Record(ctx, d.Seconds(), metric.WithAttributes(attribute.String("environment", envName)))
}
