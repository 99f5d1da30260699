package telemetry

import (
	"io"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vyaparbazaar/dataops/alert"
)

var _ alert.Metrics = (*AlertMetrics)(nil)

func TestAlertMetricsAreServed(t *testing.T) {
	m, err := New("test")
	require.NoError(t, err)
	am, err := NewAlertMetrics(m.Meter)
	require.NoError(t, err)
	am.Sent("slack", 3)
	am.Sent("email", 1)
	am.ChannelFailed("slack")
	am.Dropped("alert")
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	out := string(body)
	assert.Contains(t, out, `dataops_alerts_sent_total{otel_scope_name="test",otel_scope_schema_url="",otel_scope_version="",receiver="slack"} 3`)
	assert.Contains(t, out, `dataops_alert_channel_failures_total{otel_scope_name="test",otel_scope_schema_url="",otel_scope_version="",receiver="slack"} 1`)
	assert.Contains(t, out, `dataops_alerts_dropped_total`)
}
