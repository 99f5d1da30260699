package alert_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vyaparbazaar/dataops/alert"
	"github.com/vyaparbazaar/dataops/alert/alerttest"
)

func receiversOf(t *testing.T, r *alert.Router, a alert.Alert) []string {
	t.Helper()
	var out []string
	for _, e := range r.Match(a) {
		out = append(out, e.Receivers...)
	}
	return out
}

func TestDefaultRouteIsTheSeedTable(t *testing.T) {
	r, err := alert.NewRouter(nil)
	require.NoError(t, err)
	cases := []struct {
		typ       alert.Type
		receivers []string
		severity  alert.Severity
	}{
		{alert.TypeRunFailed, []string{"slack", "email"}, alert.SeverityHigh},
		{alert.TypeTestFailed, []string{"slack"}, alert.SeverityMedium},
		{alert.TypePerformance, []string{"slack"}, alert.SeverityLow},
		{alert.TypeFreshness, []string{"slack", "email"}, alert.SeverityHigh},
		{alert.TypeResource, []string{"slack", "email"}, alert.SeverityCritical},
	}
	for _, c := range cases {
		assert.Equal(t, c.receivers, receiversOf(t, r, alert.Alert{Type: c.typ}), c.typ)
		assert.Equal(t, c.severity, alert.DefaultSeverity(c.typ), c.typ)
	}
	e := r.Match(alert.Alert{Type: alert.TypeRunFailed})[0]
	assert.Equal(t, alert.DefaultGroupWait, e.GroupWait)
	assert.Equal(t, alert.DefaultGroupInterval, e.GroupInterval)
	assert.Equal(t, alert.DefaultRepeatInterval, e.RepeatInterval)
	assert.True(t, e.SendResolved)
	assert.Equal(t, []string{"email", "slack"}, r.Receivers())
}

func TestParseConfig(t *testing.T) {
	doc := `retries:
  default: {attempts: 3}
alerts:
  receivers:
    slack: {type: slack, webhook_url_env: SLACK_WEBHOOK_URL}
    slack-finance: {type: slack, token_env: SLACK_BOT_TOKEN, channel: "#finance-data"}
    email: {type: email, host: smtp.example.com, port: 587, tls: starttls, username: alerts,
            password_env: SMTP_PASSWORD, from: dataops@example.com, to: [a@example.com, b@example.com]}
  route:
    group_by: [type, model]
    group_wait: 10s
    routes:
      - match: {team: finance}
        receivers: [slack-finance]
        group_interval: 1m
        continue: true
      - matchers: ['type=~"run_failed|freshness"']
        receivers: [slack, email]
        send_resolved: false
      - match: {type: test_failed}
        receivers: [slack]
  thresholds:
    freshness: {warn_after: 30m, error_after: 90m}
    models: {mart_daily_sales: {error_after: 1h}}
    performance: 2
  delivery: {attempts: 2, initial_delay: 2s}
`
	cfg, err := alert.ParseConfig([]byte(doc), "dataops.yml")
	require.NoError(t, err)
	require.Len(t, cfg.Receivers, 3)
	assert.Equal(t, "SLACK_BOT_TOKEN", cfg.Receivers["slack-finance"].Settings["token_env"])
	assert.Equal(t, "a@example.com,b@example.com", cfg.Receivers["email"].Settings["to"])
	assert.Equal(t, 7, cfg.Receivers["email"].Line)
	assert.Equal(t, 90*time.Minute, cfg.Thresholds.Freshness.ErrorAfter)
	assert.Equal(t, time.Hour, cfg.Thresholds.FreshnessFor("mart_daily_sales").ErrorAfter)
	assert.Equal(t, 2.0, cfg.Thresholds.Performance)
	assert.Equal(t, 0.9, cfg.Thresholds.WithDefaults().Resource)
	assert.Equal(t, 2, cfg.Delivery.Attempts)
	assert.Nil(t, cfg.Inhibit, "not given: the default rules")

	r, err := alert.NewRouter(cfg.Route)
	require.NoError(t, err)
	fin := alert.Alert{Type: alert.TypeRunFailed, Labels: map[string]string{"team": "finance", "model": "fct_payments"}}
	routes := r.Match(fin)
	require.Len(t, routes, 2, "team route continues to the type route")
	assert.Equal(t, []string{"slack-finance"}, routes[0].Receivers)
	assert.Equal(t, time.Minute, routes[0].GroupInterval)
	assert.Equal(t, 10*time.Second, routes[0].GroupWait, "inherited")
	assert.Equal(t, []string{"slack", "email"}, routes[1].Receivers)
	assert.False(t, routes[1].SendResolved)
	key, labels := routes[1].GroupKey(fin)
	assert.Equal(t, map[string]string{"type": "run_failed", "model": "fct_payments"}, labels)
	assert.Contains(t, key, `model="fct_payments"`)
	// No child matches: the root's receivers.
	assert.Equal(t, []string{"slack", "email"}, receiversOf(t, r, alert.Alert{Type: alert.TypeResource}))
}

func TestParseConfigErrorsNameFileAndLine(t *testing.T) {
	cases := []struct{ doc, want string }{
		{"alerts:\n  route:\n    group_wait: soon\n", "dataops.yml:3: alerts.route.group_wait: want a duration"},
		{"alerts:\n  receivers:\n    slack: {type: slack, webhook_url: https://hooks.slack.com/x}\n", "dataops.yml:3: alerts.receivers.slack.webhook_url: secrets do not belong in the file"},
		{"alerts:\n  receivers:\n    pager: {type: pagerduty}\n", "dataops.yml:3: alerts.receivers.pager.type: want type slack, email or log"},
		{"alerts:\n  route:\n    routes:\n      - match: {type: run_failed}\n        receivers: [teams]\n", `dataops.yml:5: alerts.route.routes[0].receivers[0]: unknown receiver "teams"`},
		{"alerts:\n  route:\n    routes:\n      - receivers: [slack]\n", "dataops.yml:4: alerts.route.routes[0]: a child route needs match"},
		{"alerts:\n  route:\n    grup_by: [type]\n", "dataops.yml:3"},
		{"alerts:\n  thresholds:\n    freshness: {warn_after: 3h, error_after: 2h}\n", "dataops.yml:3: alerts.thresholds.freshness: warn_after (3h0m0s) is later than error_after"},
		{"alerts:\n  receivers:\n    email: {type: email, host: h, from: f}\n", "an email receiver needs to"},
		{"alerts:\n  receivers:\n    email: {type: email, host: h, from: f, to: t, insecure_skip_verify: sometimes}\n", "dataops.yml:3: alerts.receivers.email.insecure_skip_verify: want true or false"},
		{"alerts:\n  thresholds:\n    resource_for: often\n", "alerts.thresholds.resource_for: want a duration"},
		{"alerts:\n  route:\n    routes:\n      - matchers: ['team']\n        receivers: [slack]\n", "dataops.yml:4: alerts.route.routes[0].matchers[0]"},
	}
	for _, c := range cases {
		_, err := alert.ParseConfig([]byte(c.doc), "dataops.yml")
		require.Error(t, err, c.doc)
		assert.Contains(t, err.Error(), c.want, c.doc)
		var ce *alert.ConfigError
		assert.True(t, errors.As(err, &ce), "a ConfigError: %T", err)
	}
	cfg, err := alert.ParseConfig([]byte("retries: {default: {attempts: 2}}\n"), "dataops.yml")
	require.NoError(t, err)
	assert.Nil(t, cfg.Route)
}

func TestMatchers(t *testing.T) {
	labels := map[string]string{"team": "finance", "model": "fct_orders"}
	for s, want := range map[string]bool{
		`team=finance`: true, `team!=finance`: false, `model=~"fct_.*"`: true, `model!~fct_.*`: false,
		`model=~fct`: false, `owner=`: true, `team="finance"`: true,
	} {
		m, err := alert.ParseMatcher(s)
		require.NoError(t, err, s)
		assert.Equal(t, want, m.Matches(labels), s)
		again, err := alert.ParseMatcher(m.String())
		require.NoError(t, err)
		assert.Equal(t, want, again.Matches(labels), "round trip of %s", s)
	}
	_, err := alert.ParseMatcher("model=~(")
	assert.Error(t, err)
	_, err = alert.ParseMatcher("nothing")
	assert.Error(t, err)
}

func TestFingerprintIgnoresRunID(t *testing.T) {
	a := alerttest.Sample("fct_orders")
	b := alerttest.Sample("fct_orders")
	b.Labels["run_id"] = "run-2"
	b.Title = "other text"
	b.Severity = alert.SeverityCritical
	assert.Equal(t, a.Fingerprint(), b.Fingerprint())
	assert.NotEqual(t, a.Fingerprint(), alerttest.Sample("fct_payments").Fingerprint())
	c := alerttest.Sample("fct_orders")
	c.Type = alert.TypeFreshness
	assert.NotEqual(t, a.Fingerprint(), c.Fingerprint())
	assert.Len(t, a.Fingerprint(), 12)
}

func TestNotificationTitleAndSlogAndFanout(t *testing.T) {
	a := alerttest.Sample("fct_orders")
	b := alerttest.Sample("fct_payments")
	b.EndsAt = b.StartsAt.Add(time.Hour)
	n := alert.Notification{GroupLabels: map[string]string{"type": "run_failed"}, Alerts: []alert.Alert{a, b}}
	assert.Equal(t, "[HIGH] 1 firing, 1 resolved alerts: type=run_failed", n.Title())
	assert.Equal(t, "firing", n.Status())
	assert.Equal(t, "Model fct_orders failed", alert.Notification{Alerts: []alert.Alert{a}}.Title())

	var buf bytes.Buffer
	s := alert.Slog{Logger: slog.New(slog.NewTextHandler(&buf, nil))}
	require.NoError(t, s.Notify(context.Background(), n))
	out := buf.String()
	assert.Contains(t, out, `level=ERROR msg="alert: Model fct_orders failed"`)
	assert.Contains(t, out, `level=INFO msg="alert: Model fct_payments failed"`)
	assert.Contains(t, out, "model=fct_orders")
	assert.Contains(t, out, "runbook=")

	ok, down := &alerttest.Recorder{}, &alerttest.Recorder{}
	down.Fail(alerttest.ErrDown)
	err := alert.Fanout{"slack": down, "email": ok}.Send(context.Background(), a)
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "channel slack:"), err.Error())
	assert.ErrorIs(t, err, alerttest.ErrDown)
	require.Len(t, ok.Got(), 1, "the other channel still got it")
	assert.Equal(t, "email", ok.Got()[0].Receiver)
}

func TestParseNotices(t *testing.T) {
	cfg, err := alert.ParseConfig([]byte("alerts:\n  receivers:\n    business: {type: email, host: h, from: f@x, to: [g@x]}\n  notices:\n    receivers: [business]\n    delayed: \"{{.Model}} is late\"\n"), "dataops.yml")
	require.NoError(t, err)
	assert.Equal(t, []string{"business"}, cfg.Notices.Receivers)
	assert.Equal(t, "{{.Model}} is late", cfg.Notices.Delayed)
	assert.Equal(t, 4, cfg.Notices.Line)
	_, err = alert.ParseConfig([]byte("alerts:\n  notices:\n    receivers: [nobody]\n    delayed: \"{{.Model\"\n"), "dataops.yml")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `dataops.yml:3: alerts.notices.receivers[0]: unknown receiver "nobody"`)
	assert.Contains(t, err.Error(), "dataops.yml:4: alerts.notices.delayed: bad template")
}

func TestPerModelFreshnessMergedWithDefaults(t *testing.T) {
	th := alert.Thresholds{
		Freshness: alert.Freshness{WarnAfter: 2 * time.Hour, ErrorAfter: 4 * time.Hour},
		Models: map[string]alert.Freshness{
			"only_error": {ErrorAfter: 10 * time.Hour},
			"only_warn":  {WarnAfter: 6 * time.Hour},
			"short":      {ErrorAfter: 30 * time.Minute},
		},
	}
	assert.Equal(t, alert.Freshness{WarnAfter: 2 * time.Hour, ErrorAfter: 10 * time.Hour}, th.FreshnessFor("only_error"))
	assert.Equal(t, alert.Freshness{WarnAfter: 6 * time.Hour, ErrorAfter: 6 * time.Hour}, th.FreshnessFor("only_warn"))
	assert.Equal(t, alert.Freshness{WarnAfter: 30 * time.Minute, ErrorAfter: 30 * time.Minute}, th.FreshnessFor("short"))
	assert.Equal(t, alert.Freshness{WarnAfter: 2 * time.Hour, ErrorAfter: 4 * time.Hour}, th.FreshnessFor("other"))
}

func TestParseScheduleGraceAndResourceFor(t *testing.T) {
	cfg, err := alert.ParseConfig([]byte("alerts:\n  thresholds:\n    schedule_grace: {warn_after: 30m, error_after: 3h}\n    resource_for: 10m\n"), "dataops.yml")
	require.NoError(t, err)
	assert.Equal(t, alert.Freshness{WarnAfter: 30 * time.Minute, ErrorAfter: 3 * time.Hour}, cfg.Thresholds.ScheduleGrace)
	assert.Equal(t, 10*time.Minute, cfg.Thresholds.ResourceFor)
	assert.Equal(t, alert.Freshness{WarnAfter: 24*time.Hour + 30*time.Minute, ErrorAfter: 27 * time.Hour},
		cfg.Thresholds.ScheduledFreshness("fct_orders", 24*time.Hour))
	def := alert.Thresholds{}.WithDefaults()
	assert.Equal(t, 5*time.Minute, def.ResourceFor)
	assert.Equal(t, alert.Freshness{WarnAfter: time.Hour, ErrorAfter: 2 * time.Hour}, def.ScheduleGrace)
}
