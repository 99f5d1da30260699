package telemetry

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// AlertMetrics counts the alert dispatcher's deliveries; it implements
// alert.Metrics.
type AlertMetrics struct {
	sent, failed, dropped metric.Int64Counter
}

// NewAlertMetrics creates the instruments dataops_alerts_sent (alerts
// delivered, by receiver), dataops_alert_channel_failures (notifications a
// channel gave up on, by receiver) and dataops_alerts_dropped (by what was
// dropped) on m's meter.
func NewAlertMetrics(m metric.Meter) (*AlertMetrics, error) {
	var a AlertMetrics
	var err error
	if a.sent, err = m.Int64Counter("dataops_alerts_sent", metric.WithDescription("Alerts delivered, by receiver")); err != nil {
		return nil, fmt.Errorf("alert metrics: %w", err)
	}
	if a.failed, err = m.Int64Counter("dataops_alert_channel_failures", metric.WithDescription("Notifications an alert channel gave up on after its retries, by receiver")); err != nil {
		return nil, fmt.Errorf("alert metrics: %w", err)
	}
	if a.dropped, err = m.Int64Counter("dataops_alerts_dropped", metric.WithDescription("Alerts or notifications dropped because a queue was full")); err != nil {
		return nil, fmt.Errorf("alert metrics: %w", err)
	}
	return &a, nil
}

// Sent counts alerts delivered to receiver.
func (a *AlertMetrics) Sent(receiver string, alerts int) {
	a.sent.Add(context.Background(), int64(alerts), metric.WithAttributes(attribute.String("receiver", receiver)))
}

// ChannelFailed counts a notification receiver gave up on.
func (a *AlertMetrics) ChannelFailed(receiver string) {
	a.failed.Add(context.Background(), 1, metric.WithAttributes(attribute.String("receiver", receiver)))
}

// Dropped counts a dropped alert or notification.
func (a *AlertMetrics) Dropped(what string) {
	a.dropped.Add(context.Background(), 1, metric.WithAttributes(attribute.String("what", what)))
}
