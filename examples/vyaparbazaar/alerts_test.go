package main

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// slackHook is an httptest Slack incoming webhook that records posts; fail
// makes it answer 500.
type slackHook struct {
	mu    sync.Mutex
	posts []string
	fail  bool
	*httptest.Server
}

func newSlackHook(t *testing.T) *slackHook {
	h := &slackHook{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.fail {
			http.Error(w, "internal_error", http.StatusInternalServerError)
			return
		}
		h.posts = append(h.posts, string(body))
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *slackHook) got() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.posts...)
}

// mailbox is a real SMTP server (plain connection, AUTH PLAIN) that keeps
// the messages it accepts.
type mailbox struct {
	mu   sync.Mutex
	msgs []string
	port int
}

func (m *mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &mailSession{m: m}, nil }

type mailSession struct {
	m      *mailbox
	authed bool
}

func (s *mailSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *mailSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "alerts" || pass != "smtp-secret" {
			return errors.New("bad credentials")
		}
		s.authed = true
		return nil
	}), nil
}
func (s *mailSession) Mail(string, *smtp.MailOptions) error {
	if !s.authed {
		return smtp.ErrAuthRequired
	}
	return nil
}
func (s *mailSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.m.mu.Lock()
	s.m.msgs = append(s.m.msgs, string(b))
	s.m.mu.Unlock()
	return err
}
func (s *mailSession) Reset()        {}
func (s *mailSession) Logout() error { return nil }

func (m *mailbox) got() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.msgs...)
}

func newMailbox(t *testing.T) *mailbox {
	m := &mailbox{}
	srv := smtp.NewServer(m)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	m.port = ln.Addr().(*net.TCPAddr).Port
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return m
}

// channels points the default slack and email receivers at test servers
// through the environment, as an operator would.
func channels(t *testing.T) (*slackHook, *mailbox) {
	hook, mb := newSlackHook(t), newMailbox(t)
	t.Setenv("SLACK_WEBHOOK_URL", hook.URL+"/services/T0/B0/SECRETHOOK")
	t.Setenv("SLACK_BOT_TOKEN", "")
	t.Setenv("SMTP_HOST", "127.0.0.1")
	t.Setenv("SMTP_PORT", strconv.Itoa(mb.port))
	t.Setenv("SMTP_TLS", "none")
	t.Setenv("SMTP_USERNAME", "alerts")
	t.Setenv("SMTP_PASSWORD", "smtp-secret")
	t.Setenv("SMTP_FROM", "dataops@shop.example")
	t.Setenv("SMTP_TO", "data-team@shop.example")
	return hook, mb
}

const brokenRevenue = "select c.id as customer_id, c.name, sum(o.amout) as revenue\nfrom {{ ref('customers') }} c\n" +
	"left join {{ ref('stg_orders') }} o on o.customer_id = c.id\ngroup by 1, 2\n"

var alertID = regexp.MustCompile(`(?m)^([0-9a-f]{12})\s+high\s+run_failed\s+firing\s+customer_revenue`)

func TestFailedBuildAlertsSlackAndEmailThenResolves(t *testing.T) {
	hook, mb := channels(t)
	files := with(shop(), "models/marts/customer_revenue.sql", brokenRevenue,
		"dataops.yml", "escalation:\n  default: {primary: \"@asha\", secondary: \"@ravi\", after: 30m}\n")
	dir := writeProject(t, files)
	code, out, errOut := cliRun(t, "build", "--project", dir)
	require.Equal(t, 1, code, out+errOut)

	posts := hook.got()
	require.Len(t, posts, 1, "one Slack message for the one failed model: %s", errOut)
	var msg struct {
		Text        string `json:"text"`
		Attachments []struct {
			Color string `json:"color"`
		} `json:"attachments"`
	}
	require.NoError(t, json.Unmarshal([]byte(posts[0]), &msg))
	assert.Equal(t, "Model customer_revenue failed — @asha", msg.Text)
	assert.Equal(t, "#E01E5A", msg.Attachments[0].Color)
	assert.Contains(t, posts[0], "amout", "the error is in the message")
	mails := mb.got()
	require.Len(t, mails, 1)
	assert.Contains(t, mails[0], "Subject: [dataops] Model customer_revenue failed")
	assert.NotContains(t, errOut, "SECRETHOOK")
	assert.NotContains(t, errOut, "smtp-secret")

	// The alert is stored: list it and acknowledge it from another process.
	code, out, errOut = cliRun(t, "alerts", "list", "--project", dir)
	require.Equal(t, 0, code, errOut)
	m := alertID.FindStringSubmatch(out)
	require.NotNil(t, m, out)
	code, out, errOut = cliRun(t, "alerts", "ack", m[1], "--project", dir, "--by", "asha")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "Acknowledged "+m[1]+" by asha")
	_, out, _ = cliRun(t, "alerts", "--project", dir, "--format", "json")
	assert.Contains(t, out, `"acked_by": "asha"`)
	code, _, errOut = cliRun(t, "alerts", "ack", "000000000000", "--project", dir)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "not found")

	// The same failure again is not news.
	code, _, _ = cliRun(t, "build", "--project", dir)
	require.Equal(t, 1, code)
	assert.Len(t, hook.got(), 1)
	assert.Len(t, mb.got(), 1)

	// Fixed: one resolved notification per channel, and the alert closes.
	writeFiles(t, dir, map[string]string{"models/marts/customer_revenue.sql": shop()["models/marts/customer_revenue.sql"]})
	code, out, errOut = cliRun(t, "build", "--project", dir)
	require.Equal(t, 0, code, out+errOut)
	posts = hook.got()
	require.Len(t, posts, 2)
	assert.Contains(t, posts[1], "RESOLVED: Model customer_revenue failed")
	assert.Contains(t, posts[1], "#2EB67D")
	require.Len(t, mb.got(), 2)
	_, out, _ = cliRun(t, "alerts", "--project", dir)
	assert.Contains(t, out, "No open alerts.")

	code, out, errOut = cliRun(t, "status", "--project", dir)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "Freshness: 100% of models and sources on schedule")
	assert.Regexp(t, `customer_revenue\s+OK`, out)
	assert.Contains(t, out, "Last runs:")
	assert.Contains(t, out, "error=1")
	assert.Contains(t, out, "No open alerts.")
}

func TestBrokenSlackStillReachesEmailAndIsReported(t *testing.T) {
	hook, mb := channels(t)
	hook.mu.Lock()
	hook.fail = true
	hook.mu.Unlock()
	dir := writeProject(t, with(shop(), "models/marts/customer_revenue.sql", brokenRevenue,
		"dataops.yml", "alerts:\n  delivery: {attempts: 2, initial_delay: 10ms, max_delay: 10ms}\n"))
	code, out, errOut := cliRun(t, "build", "--project", dir)
	assert.Equal(t, 1, code, "the run's own failure, not the channel's: %s", out)
	mails := mb.got()
	require.Len(t, mails, 2, "the failure, then the channel failure: %s", errOut)
	assert.Contains(t, mails[0], "Model customer_revenue failed")
	assert.Contains(t, mails[1], "Alert channel slack is failing")
	assert.Contains(t, errOut, "alert channel gave up")
	assert.NotContains(t, errOut, "SECRETHOOK", "the webhook URL is a secret")
	assert.NotContains(t, strings.Join(mails, ""), "SECRETHOOK")
	_, out, _ = cliRun(t, "alerts", "--project", dir)
	assert.Contains(t, out, "channel_failed")
}

func TestSilenceFromTheCLI(t *testing.T) {
	hook, mb := channels(t)
	dir := writeProject(t, with(shop(), "models/marts/customer_revenue.sql", brokenRevenue))
	code, out, errOut := cliRun(t, "alerts", "silence", "--project", dir, "--match", "model=customer_revenue", "--for", "1h", "--comment", "fixing it", "--by", "ravi")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, `model="customer_revenue"`)
	code, _, _ = cliRun(t, "build", "--project", dir)
	require.Equal(t, 1, code)
	assert.Empty(t, hook.got(), "silenced")
	assert.Empty(t, mb.got(), "silenced")
	_, out, _ = cliRun(t, "alerts", "silences", "--project", dir)
	assert.Regexp(t, `s-[0-9a-f]+\s+active`, out)
	assert.Contains(t, out, "fixing it")
	_, out, _ = cliRun(t, "alerts", "--project", dir)
	assert.Contains(t, out, "customer_revenue", "a silenced alert is still listed")
	code, _, errOut = cliRun(t, "alerts", "silence", "--project", dir, "--match", "nonsense")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "want name=value")
}

func TestBadAlertsConfigIsReportedWithFileAndLine(t *testing.T) {
	dir := writeProject(t, with(shop(), "dataops.yml", "alerts:\n  receivers:\n    slack: {type: slack, webhook_url: https://hooks.slack.com/services/x}\n"))
	code, out, errOut := cliRun(t, "build", "--project", dir)
	assert.Equal(t, 0, code, "alerting problems never fail a run: %s", out)
	assert.Contains(t, errOut, "warning: alerts disabled: dataops.yml:3: alerts.receivers.slack.webhook_url: secrets do not belong in the file")
	assert.NotContains(t, errOut, "hooks.slack.com/services/x")
}

func TestAlertsTestCommand(t *testing.T) {
	hook, mb := channels(t)
	dir := writeProject(t, shop())
	code, out, errOut := cliRun(t, "alerts", "test", "--project", dir)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "Channels: email (email via 127.0.0.1), slack (slack)")
	assert.Len(t, hook.got(), 1)
	assert.Len(t, mb.got(), 1)
}

// writeFiles replaces files of a project.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, filepath.FromSlash(p)), []byte(content), 0o644))
	}
}

func TestServeAlertsOverHTTP(t *testing.T) {
	hook, _ := channels(t)
	files := with(shop(), "models/marts/customer_revenue.sql", brokenRevenue,
		"dataops.yml", "alerts:\n  route: {group_wait: 10ms, group_interval: 50ms}\n",
		"schedules.yml", "jobs:\n  - name: revenue\n    schedule: \"0 3 * * *\"\n    select: [\"+customer_revenue\"]\n")
	dir := writeProject(t, files)
	d := startServe(t, "serve", "--project", dir, "--addr", "127.0.0.1:0")
	base, stdout, stderr := d.base, d.stdout, d.stderr
	assert.Contains(t, stdout.String(), "Alerts go to: email (email via 127.0.0.1), slack (slack)")
	resp, err := http.Post(base+"/jobs/revenue/run", "", nil)
	require.NoError(t, err)
	resp.Body.Close()
	require.Eventually(t, func() bool { return len(hook.got()) == 1 }, 30*time.Second, 10*time.Millisecond, stderr.String())

	resp, err = http.Get(base + "/alerts")
	require.NoError(t, err)
	var views []alertView
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&views))
	resp.Body.Close()
	require.Len(t, views, 1)
	assert.Equal(t, "run_failed", views[0].Type)
	assert.Equal(t, "customer_revenue", views[0].Labels["model"])

	resp, err = http.Post(base+"/alerts/"+views[0].ID+"/ack?by=asha", "", nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	resp, err = http.Post(base+"/alerts/nope/ack?by=asha", "", nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)

	resp, err = http.Get(base + "/metrics")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Regexp(t, `dataops_alerts_sent_total\{[^}]*receiver="slack"[^}]*\} 1`, string(body))

	assert.Equal(t, 0, d.stop(), stderr.String())
	_, out, _ := cliRun(t, "alerts", "--project", dir)
	assert.Regexp(t, `customer_revenue\s+-\s+\S+ ago\s+1\s+asha`, out)
}

func TestReportWeekly(t *testing.T) {
	dir := writeProject(t, with(shop(), "models/marts/customer_revenue.sql", brokenRevenue))
	code, _, _ := cliRun(t, "build", "--project", dir)
	require.Equal(t, 1, code)
	writeFiles(t, dir, map[string]string{"models/marts/customer_revenue.sql": shop()["models/marts/customer_revenue.sql"]})
	code, _, _ = cliRun(t, "build", "--project", dir)
	require.Equal(t, 0, code)
	code, out, errOut := cliRun(t, "report", "weekly", "--project", dir)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "# Weekly data status: dev")
	assert.Contains(t, out, "2 runs: error 1; success 1;")
	assert.Contains(t, out, "Opened: 1. Resolved: 1.")
	assert.Contains(t, out, "By model: customer_revenue 1;")
	assert.Contains(t, out, "By class: permanent 1;")
	html := filepath.Join(t.TempDir(), "weekly.html")
	code, out, errOut = cliRun(t, "report", "weekly", "--project", dir, "--format", "html", "--out", html)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "Weekly report written to")
	data, err := os.ReadFile(html)
	require.NoError(t, err)
	assert.Contains(t, string(data), "<h1>Weekly data status: dev")
	code, _, _ = cliRun(t, "report", "monthly", "--project", dir)
	assert.Equal(t, 2, code)
}

func TestStakeholderNoticeWhenACriticalMartFallsBack(t *testing.T) {
	hook, _ := channels(t)
	business := newMailbox(t)
	good := "{{ config(critical=true) }}\n" + shop()["models/marts/customer_revenue.sql"]
	files := with(shop(), "models/marts/customer_revenue.sql", good, "dataops.yml", `alerts:
  receivers:
    business:
      type: email
      host: 127.0.0.1
      port: `+strconv.Itoa(business.port)+`
      tls: none
      username: alerts
      password_env: SMTP_PASSWORD
      from: dataops@shop.example
      to: [sales-leads@shop.example]
  notices:
    receivers: [business]
    delayed: 'The revenue dashboard ({{.Model}}) is delayed; last good data served: {{not .AsOf.IsZero}}.'
`)
	dir := writeProject(t, files)
	code, out, errOut := cliRun(t, "build", "--project", dir)
	require.Equal(t, 0, code, out+errOut)
	writeFiles(t, dir, map[string]string{"models/marts/customer_revenue.sql": "{{ config(critical=true) }}\n" + brokenRevenue})
	code, out, errOut = cliRun(t, "build", "--project", dir)
	require.Equal(t, 1, code, out+errOut)
	assert.Contains(t, out, "FALLBACK")
	mails := business.got()
	require.Len(t, mails, 1, "one notice to the stakeholders: %s", errOut)
	unfold := func(m string) string { return strings.ReplaceAll(m, "\r\n ", " ") }
	assert.Contains(t, unfold(mails[0]), "Subject: [dataops] The revenue dashboard (customer_revenue) is delayed; last good data served: true.")
	for _, p := range hook.got() {
		assert.NotContains(t, p, "revenue dashboard", "notices are not sent to the on-call channels")
	}
	writeFiles(t, dir, map[string]string{"models/marts/customer_revenue.sql": good})
	code, _, _ = cliRun(t, "build", "--project", dir)
	require.Equal(t, 0, code)
	mails = business.got()
	require.Len(t, mails, 2)
	assert.Contains(t, unfold(mails[1]), "Subject: [dataops] RESOLVED: customer_revenue is up to date again")
}

func TestStatusFreshnessFollowsTheSchedule(t *testing.T) {
	dir := writeProject(t, with(shop(), "schedules.yml", "jobs:\n  - name: nightly\n    schedule: \"0 2 * * *\"\n    select: [\"customer_revenue\"]\n"))
	code, out, errOut := cliRun(t, "build", "--project", dir)
	require.Equal(t, 0, code, out+errOut)
	code, out, errOut = cliRun(t, "status", "--project", dir)
	require.Equal(t, 0, code, errOut)
	assert.Regexp(t, `customer_revenue\s+OK\s+.*25h0m0s / 26h0m0s`, out, "a nightly model: its interval plus the grace")
	assert.NotContains(t, out, "stg_orders", "a model no job builds is not watched for freshness")
}

// TestWeeklyReportJobEmailsTheReport runs the daemon's weekly-report job
// against a real SMTP server: one message with the text and HTML report.
func TestWeeklyReportJobEmailsTheReport(t *testing.T) {
	_, mb := channels(t)
	files := with(shop(), "schedules.yml", "jobs:\n  - name: weekly\n    operation: weekly-report\n    schedule: \"0 7 * * 1\"\n")
	dir := writeProject(t, files)
	code, out, errOut := cliRun(t, "build", "--project", dir)
	require.Equal(t, 0, code, out+errOut)
	d := startServe(t, "serve", "--project", dir, "--addr", "127.0.0.1:0")
	base, stdout, stderr := d.base, d.stdout, d.stderr
	resp, err := http.Post(base+"/jobs/weekly/run", "", nil)
	require.NoError(t, err)
	resp.Body.Close()
	require.Eventually(t, func() bool { return len(mb.got()) == 1 }, 30*time.Second, 10*time.Millisecond, stderr.String())
	msg := mb.got()[0]
	assert.Contains(t, msg, "Subject: [dataops] Weekly status report: dev, week to ")
	assert.Contains(t, msg, "Content-Type: text/plain")
	assert.Contains(t, msg, "Content-Type: text/html")
	assert.NotContains(t, msg, "smtp-secret")
	assert.Equal(t, 0, d.stop(), stderr.String())
	assert.Contains(t, stdout.String(), "weekly report sent to 1 email receiver")
}
