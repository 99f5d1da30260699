// Package slack delivers alert notifications to Slack, through an incoming
// webhook or chat.postMessage with a bot token
// (github.com/slack-go/slack). A message is a Block Kit attachment per
// alert, coloured by severity, with the alert's facts and runbook. A 429
// answer's Retry-After is honoured. The webhook URL and the token are
// secrets: they never appear in errors or logs.
package slack

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/vyaparbazaar/dataops/alert"
)

// Colours of attachments by severity, and of resolved alerts.
const (
	ColorCritical = "#B00020"
	ColorHigh     = "#E01E5A"
	ColorMedium   = "#ECB22E"
	ColorLow      = "#36C5F0"
	ColorResolved = "#2EB67D"
)

// MaxAlerts is how many alerts one message shows; the rest are counted.
const MaxAlerts = 10

// Notifier posts notifications to Slack. Set WebhookURL, or Token and
// Channel.
type Notifier struct {
	// WebhookURL is an incoming webhook (a secret).
	WebhookURL string
	// Token is a bot token for chat.postMessage (a secret); Channel the
	// channel to post to.
	Token   string
	Channel string
	// Username overrides the webhook's name, if the webhook allows it.
	Username string
	// APIURL is Slack's Web API base (default https://slack.com/api/).
	APIURL string
	// HTTPClient defaults to a client with a 15 s timeout.
	HTTPClient *http.Client
	// RateLimitRetries is how often a 429 is waited out in-line (default
	// 2); MaxRetryAfter the longest Retry-After waited in-line (default
	// 1 minute). Beyond either, Notify returns an error whose RetryAfter
	// tells the dispatcher when to try again.
	RateLimitRetries int
	MaxRetryAfter    time.Duration
	// Sleep waits (default: a timer honouring ctx); tests inject it.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Error is a Slack delivery failure, with the secrets taken out.
type Error struct {
	msg   string
	after time.Duration
	cause error // a context error, or nil
}

func (e *Error) Error() string { return e.msg }

// RetryAfter is the wait Slack asked for (0 if none).
func (e *Error) RetryAfter() time.Duration { return e.after }

// Unwrap returns context.DeadlineExceeded or context.Canceled when the
// failure was one; never the raw error (it may hold the webhook URL).
func (e *Error) Unwrap() error { return e.cause }

// Notify posts n.
func (s *Notifier) Notify(ctx context.Context, n alert.Notification) error {
	if s.WebhookURL == "" && (s.Token == "" || s.Channel == "") {
		return errors.New("slack: set a webhook URL, or a bot token and a channel")
	}
	msg := Message(n)
	retries := s.RateLimitRetries
	if retries == 0 {
		retries = 2
	}
	maxWait := s.MaxRetryAfter
	if maxWait == 0 {
		maxWait = time.Minute
	}
	sleep := s.Sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	for attempt := 0; ; attempt++ {
		err := s.post(ctx, msg)
		if err == nil {
			return nil
		}
		var rl *slack.RateLimitedError
		if errors.As(err, &rl) {
			// A wait past the attempt's deadline would fail anyway: hand the
			// Retry-After to the caller (the dispatcher waits it) at once.
			dl, hasDeadline := ctx.Deadline()
			fits := !hasDeadline || time.Until(dl) > rl.RetryAfter
			if attempt < retries && rl.RetryAfter <= maxWait && fits {
				if serr := sleep(ctx, rl.RetryAfter); serr != nil {
					return s.redact(serr)
				}
				continue
			}
			return &Error{msg: fmt.Sprintf("slack: rate limited, retry after %s", rl.RetryAfter), after: rl.RetryAfter}
		}
		return s.redact(err)
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Notifier) client() *http.Client {
	if s.HTTPClient != nil {
		return s.HTTPClient
	}
	return &http.Client{Timeout: 15 * time.Second}
}

func (s *Notifier) post(ctx context.Context, msg *slack.WebhookMessage) error {
	if s.WebhookURL != "" {
		m := *msg
		m.Username = s.Username
		return slack.PostWebhookCustomHTTPContext(ctx, s.WebhookURL, s.client(), &m)
	}
	opts := []slack.Option{slack.OptionHTTPClient(s.client())}
	if s.APIURL != "" {
		api := s.APIURL
		if !strings.HasSuffix(api, "/") {
			api += "/"
		}
		opts = append(opts, slack.OptionAPIURL(api))
	}
	api := slack.New(s.Token, opts...)
	_, _, err := api.PostMessageContext(ctx, s.Channel,
		slack.MsgOptionText(msg.Text, false),
		slack.MsgOptionAttachments(msg.Attachments...),
		slack.MsgOptionDisableLinkUnfurl(),
	)
	return err
}

// redact turns err into an Error without the webhook URL or the token.
func (s *Notifier) redact(err error) error {
	msg := err.Error()
	for _, secret := range []string{s.WebhookURL, s.Token, pathOf(s.WebhookURL)} {
		if len(secret) > 4 {
			msg = strings.ReplaceAll(msg, secret, "[redacted]")
		}
	}
	var ue *url.Error
	if errors.As(err, &ue) && s.WebhookURL != "" {
		msg = strings.ReplaceAll(msg, ue.URL, "[redacted]")
	}
	e := &Error{msg: "slack: " + msg}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		e.cause = context.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		e.cause = context.Canceled
	}
	var to interface{ Timeout() bool }
	if e.cause == nil && errors.As(err, &to) && to.Timeout() {
		e.cause = context.DeadlineExceeded
	}
	return e
}

func pathOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Path == "" || u.Path == "/" {
		return ""
	}
	return u.Path
}

// Color returns the attachment colour of an alert.
func Color(a alert.Alert) string {
	if a.Resolved() {
		return ColorResolved
	}
	switch a.Severity {
	case alert.SeverityCritical:
		return ColorCritical
	case alert.SeverityHigh:
		return ColorHigh
	case alert.SeverityMedium:
		return ColorMedium
	}
	return ColorLow
}

// Message renders a notification: Text is the summary (shown in
// notifications and by clients without blocks); one attachment per alert,
// coloured by severity, holds a header, the body, the facts as fields, the
// runbook and links; contacts are mentioned in the summary.
func Message(n alert.Notification) *slack.WebhookMessage {
	text := n.Title()
	if len(n.Contacts) > 0 {
		text += " — " + strings.Join(n.Contacts, " ")
	}
	msg := &slack.WebhookMessage{Text: text}
	alerts := n.Alerts
	more := 0
	if len(alerts) > MaxAlerts {
		more = len(alerts) - MaxAlerts
		alerts = alerts[:MaxAlerts]
	}
	for _, a := range alerts {
		msg.Attachments = append(msg.Attachments, attachment(a))
	}
	if more > 0 {
		msg.Attachments = append(msg.Attachments, slack.Attachment{
			Color: ColorLow,
			Blocks: slack.Blocks{BlockSet: []slack.Block{
				slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, fmt.Sprintf("…and %d more alerts in this group", more), false, false)),
			}},
		})
	}
	return msg
}

func attachment(a alert.Alert) slack.Attachment {
	status := strings.ToUpper(string(a.Severity))
	if a.Resolved() {
		status = "RESOLVED"
	}
	header := fmt.Sprintf("[%s] %s", status, a.Title)
	header = truncate(header, 150)
	blocks := []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, header, false, false)),
	}
	if a.Body != "" {
		blocks = append(blocks, slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, truncate(a.Body, 2900), false, false), nil, nil))
	}
	var fields []*slack.TextBlockObject
	labels := a.AllLabels()
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		if labels[k] == "" || len(fields) == 10 {
			continue
		}
		fields = append(fields, slack.NewTextBlockObject(slack.MarkdownType, fmt.Sprintf("*%s*\n%s", k, labels[k]), false, false))
	}
	if len(fields) > 0 {
		blocks = append(blocks, slack.NewSectionBlock(nil, fields, nil))
	}
	if a.Runbook != "" {
		blocks = append(blocks, slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "*Runbook*\n"+truncate(a.Runbook, 2900), false, false), nil, nil))
	}
	var ctx []slack.MixedElement
	if !a.StartsAt.IsZero() {
		ctx = append(ctx, slack.NewTextBlockObject(slack.MarkdownType, "since "+a.StartsAt.UTC().Format(time.RFC3339), false, false))
	}
	if a.Resolved() {
		ctx = append(ctx, slack.NewTextBlockObject(slack.MarkdownType, "resolved "+a.EndsAt.UTC().Format(time.RFC3339), false, false))
	}
	for _, l := range a.Links {
		ctx = append(ctx, slack.NewTextBlockObject(slack.MarkdownType, fmt.Sprintf("<%s|%s>", l.URL, l.Title), false, false))
	}
	ctx = append(ctx, slack.NewTextBlockObject(slack.MarkdownType, "fingerprint "+a.Fingerprint(), false, false))
	if len(ctx) > 10 { // Slack's limit per context block
		ctx = ctx[len(ctx)-10:]
	}
	blocks = append(blocks, slack.NewContextBlock("", ctx...))
	return slack.Attachment{Color: Color(a), Fallback: header, Blocks: slack.Blocks{BlockSet: blocks}}
}

// truncate shortens s to n characters (runes, as Slack counts them; a cut
// never splits a multi-byte character), ending in "...".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-3]) + "..."
}
