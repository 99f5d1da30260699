package slack_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vyaparbazaar/dataops/alert"
	alertslack "github.com/vyaparbazaar/dataops/alert/slack"
)

var day = time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)

func notification() alert.Notification {
	return alert.Notification{Receiver: "slack", Contacts: []string{"@asha"}, Alerts: []alert.Alert{{
		Type: alert.TypeRunFailed, Severity: alert.SeverityHigh, Title: "Model fct_orders failed",
		Body: "Binder Error: column x not found", Runbook: "Fix the model.",
		Labels:   map[string]string{"model": "fct_orders", "team": "analytics", "run_id": "run-1"},
		Links:    []alert.Link{{Title: "run", URL: "http://localhost/runs/run-1"}},
		StartsAt: day,
	}}}
}

// wantAttachments is the exact Block Kit payload Slack receives.
const wantAttachments = `[{"color":"#E01E5A","fallback":"[HIGH] Model fct_orders failed","blocks":[
 {"type":"header","text":{"type":"plain_text","text":"[HIGH] Model fct_orders failed","emoji":false}},
 {"type":"section","text":{"type":"mrkdwn","text":"Binder Error: column x not found"}},
 {"type":"section","fields":[
   {"type":"mrkdwn","text":"*model*\nfct_orders"},{"type":"mrkdwn","text":"*run_id*\nrun-1"},
   {"type":"mrkdwn","text":"*severity*\nhigh"},{"type":"mrkdwn","text":"*team*\nanalytics"},
   {"type":"mrkdwn","text":"*type*\nrun_failed"}]},
 {"type":"section","text":{"type":"mrkdwn","text":"*Runbook*\nFix the model."}},
 {"type":"context","elements":[{"type":"mrkdwn","text":"since 2026-11-25T09:30:00Z"},
   {"type":"mrkdwn","text":"<http://localhost/runs/run-1|run>"},{"type":"mrkdwn","text":"fingerprint c7a4b5dcd91f"}]}]}]`

const wantWebhook = `{"text":"Model fct_orders failed — @asha","attachments":` + wantAttachments + `,"replace_original":false,"delete_original":false}`

const hookPath = "/services/T000/B000/XXXXSECRET"

type server struct {
	mu     sync.Mutex
	bodies []string
	forms  []url.Values
	auth   []string
	*httptest.Server
}

func newServer(t *testing.T, respond func(i int, w http.ResponseWriter, r *http.Request)) *server {
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		i := len(s.bodies)
		s.bodies = append(s.bodies, string(body))
		form, _ := url.ParseQuery(string(body))
		s.forms = append(s.forms, form)
		s.auth = append(s.auth, r.Header.Get("Authorization"))
		s.mu.Unlock()
		assert.Equal(t, http.MethodPost, r.Method)
		respond(i, w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func TestWebhookPostsBlockKit(t *testing.T) {
	s := newServer(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, hookPath, r.URL.Path)
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
		_, _ = io.WriteString(w, "ok")
	})
	n := &alertslack.Notifier{WebhookURL: s.URL + hookPath}
	require.NoError(t, n.Notify(context.Background(), notification()))
	require.Len(t, s.bodies, 1)
	assert.JSONEq(t, wantWebhook, s.bodies[0])
}

func TestBotTokenPostsMessage(t *testing.T) {
	s := newServer(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "/api/chat.postMessage", r.URL.Path)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok":true,"channel":"C1","ts":"1700000000.000100"}`)
	})
	n := &alertslack.Notifier{Token: "xoxb-secret-token", Channel: "#data-alerts", APIURL: s.URL + "/api"}
	require.NoError(t, n.Notify(context.Background(), notification()))
	require.Len(t, s.forms, 1)
	f := s.forms[0]
	assert.Equal(t, "#data-alerts", f.Get("channel"))
	assert.Equal(t, "Model fct_orders failed — @asha", f.Get("text"))
	assert.JSONEq(t, wantAttachments, f.Get("attachments"))
	assert.Equal(t, "xoxb-secret-token", f.Get("token"), "slack-go sends the token in the form body")
}

func TestBotErrorIsReportedWithoutToken(t *testing.T) {
	s := newServer(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok":false,"error":"channel_not_found"}`)
	})
	n := &alertslack.Notifier{Token: "xoxb-secret-token", Channel: "#nope", APIURL: s.URL + "/api/"}
	err := n.Notify(context.Background(), notification())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "channel_not_found")
	assert.NotContains(t, err.Error(), "xoxb-secret-token")
}

func TestRateLimitHonoursRetryAfter(t *testing.T) {
	s := newServer(t, func(i int, w http.ResponseWriter, r *http.Request) {
		if i == 0 {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		_, _ = io.WriteString(w, "ok")
	})
	var slept []time.Duration
	n := &alertslack.Notifier{WebhookURL: s.URL + hookPath, Sleep: func(_ context.Context, d time.Duration) error {
		slept = append(slept, d)
		return nil
	}}
	require.NoError(t, n.Notify(context.Background(), notification()))
	assert.Equal(t, []time.Duration{7 * time.Second}, slept)
	require.Len(t, s.bodies, 2)
	assert.JSONEq(t, wantWebhook, s.bodies[1], "the same message again")
}

func TestRateLimitTooLongIsLeftToTheDispatcher(t *testing.T) {
	s := newServer(t, func(i int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	n := &alertslack.Notifier{WebhookURL: s.URL + hookPath, Sleep: func(context.Context, time.Duration) error {
		t.Error("must not wait 2 minutes in-line")
		return nil
	}}
	err := n.Notify(context.Background(), notification())
	require.Error(t, err)
	var ra alert.RetryAfter
	require.True(t, errors.As(err, &ra))
	assert.Equal(t, 120*time.Second, ra.RetryAfter())
	assert.Len(t, s.bodies, 1)
}

func TestServerErrorHidesWebhookURL(t *testing.T) {
	s := newServer(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		http.Error(w, "internal_error", http.StatusInternalServerError)
	})
	n := &alertslack.Notifier{WebhookURL: s.URL + hookPath}
	err := n.Notify(context.Background(), notification())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "500")
	assert.NotContains(t, err.Error(), "SECRET")
	assert.NotContains(t, err.Error(), s.URL)
}

func TestTimeoutHidesWebhookURL(t *testing.T) {
	release := make(chan struct{})
	s := newServer(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	n := &alertslack.Notifier{WebhookURL: s.URL + hookPath, HTTPClient: &http.Client{Timeout: 50 * time.Millisecond}}
	err := n.Notify(context.Background(), notification())
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.NotContains(t, err.Error(), "SECRET")
	assert.NotContains(t, err.Error(), s.URL)
	// The same with a context deadline instead of a client timeout.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err = (&alertslack.Notifier{WebhookURL: s.URL + hookPath}).Notify(ctx, notification())
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.NotContains(t, err.Error(), "SECRET")
}

func TestUnreachableHidesWebhookURL(t *testing.T) {
	s := httptest.NewServer(http.NotFoundHandler())
	addr := s.URL
	s.Close()
	err := (&alertslack.Notifier{WebhookURL: addr + hookPath}).Notify(context.Background(), notification())
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "SECRET")
	assert.NotContains(t, err.Error(), strings.TrimPrefix(addr, "http://")+hookPath)
}

func TestManyAlertsAreCapped(t *testing.T) {
	n := notification()
	for i := range 14 {
		a := n.Alerts[0]
		a.Labels = map[string]string{"model": "m" + string(rune('a'+i))}
		n.Alerts = append(n.Alerts, a)
	}
	msg := alertslack.Message(n)
	require.Len(t, msg.Attachments, alertslack.MaxAlerts+1)
	b, err := json.Marshal(msg.Attachments[alertslack.MaxAlerts])
	require.NoError(t, err)
	assert.Contains(t, string(b), "and 5 more alerts")
	resolved := n.Alerts[0]
	resolved.EndsAt = day.Add(time.Hour)
	assert.Equal(t, alertslack.ColorResolved, alertslack.Color(resolved))
}

func TestRateLimitPastTheDeadlineReturnsAtOnce(t *testing.T) {
	s := newServer(t, func(i int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	n := &alertslack.Notifier{WebhookURL: s.URL + hookPath, Sleep: func(context.Context, time.Duration) error {
		t.Error("must not sleep past the attempt's deadline")
		return nil
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := n.Notify(ctx, notification())
	require.Error(t, err)
	var ra alert.RetryAfter
	require.True(t, errors.As(err, &ra), "the dispatcher is told when to retry: %v", err)
	assert.Equal(t, 7*time.Second, ra.RetryAfter())
	assert.Len(t, s.bodies, 1)
}

func TestTruncationKeepsMultiByteCharactersWhole(t *testing.T) {
	s := newServer(t, func(i int, w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })
	n := notification()
	n.Alerts[0].Title = "बिक्री " + strings.Repeat("₹", 200)
	n.Alerts[0].Body = strings.Repeat("क", 3000)
	require.NoError(t, (&alertslack.Notifier{WebhookURL: s.URL + hookPath}).Notify(context.Background(), n))
	require.Len(t, s.bodies, 1)
	require.True(t, utf8.ValidString(s.bodies[0]))
	var msg struct {
		Attachments []struct {
			Blocks []struct {
				Type string `json:"type"`
				Text struct {
					Text string `json:"text"`
				} `json:"text"`
			} `json:"blocks"`
		} `json:"attachments"`
	}
	require.NoError(t, json.Unmarshal([]byte(s.bodies[0]), &msg))
	blocks := msg.Attachments[0].Blocks
	header, body := blocks[0].Text.Text, blocks[1].Text.Text
	for _, text := range []string{header, body} {
		assert.NotContains(t, text, "\uFFFD", "no character cut in half")
		assert.True(t, strings.HasSuffix(text, "..."))
	}
	assert.Equal(t, 150, utf8.RuneCountInString(header), "Slack's header limit, in characters")
	assert.Equal(t, 2900, utf8.RuneCountInString(body))
}
