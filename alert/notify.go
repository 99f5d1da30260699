package alert

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// Notification is one message to a channel: a group of alerts that share
// their GroupLabels, as Alertmanager's notify package sends them.
type Notification struct {
	// Receiver names the channel the notification is for.
	Receiver string
	// GroupKey identifies the group (route and group labels).
	GroupKey string
	// GroupLabels are the labels the route groups by, with their values.
	GroupLabels map[string]string
	// Alerts are the group's alerts, firing first, then by severity.
	Alerts []Alert
	// Contacts are whom to mention: the owner team's primary contact, or
	// its secondary one once an alert is escalated.
	Contacts []string
	// Escalated marks a notification re-sent to a secondary contact
	// because nobody acknowledged its alerts in time.
	Escalated bool
}

// Firing returns the alerts that have not cleared.
func (n Notification) Firing() []Alert {
	var out []Alert
	for _, a := range n.Alerts {
		if !a.Resolved() {
			out = append(out, a)
		}
	}
	return out
}

// Resolved returns the alerts that have cleared.
func (n Notification) Resolved() []Alert {
	var out []Alert
	for _, a := range n.Alerts {
		if a.Resolved() {
			out = append(out, a)
		}
	}
	return out
}

// Status is "firing" when any alert fires, else "resolved".
func (n Notification) Status() string {
	if len(n.Firing()) > 0 {
		return "firing"
	}
	return "resolved"
}

// Severity is the highest severity among the firing alerts (among all
// when none fires).
func (n Notification) Severity() Severity {
	alerts := n.Firing()
	if len(alerts) == 0 {
		alerts = n.Alerts
	}
	var best Severity
	for _, a := range alerts {
		if a.Severity.Rank() > best.Rank() {
			best = a.Severity
		}
	}
	return best
}

// Title is a one-line summary: the single alert's title, or a count.
func (n Notification) Title() string {
	prefix := ""
	if n.Escalated {
		prefix = "ESCALATED: "
	}
	if n.Status() == "resolved" {
		prefix += "RESOLVED: "
	}
	if len(n.Alerts) == 1 {
		return prefix + n.Alerts[0].Title
	}
	firing, resolved := len(n.Firing()), len(n.Resolved())
	parts := []string{}
	if firing > 0 {
		parts = append(parts, fmt.Sprintf("%d firing", firing))
	}
	if resolved > 0 {
		parts = append(parts, fmt.Sprintf("%d resolved", resolved))
	}
	labels := make([]string, 0, len(n.GroupLabels))
	for _, k := range slices.Sorted(maps.Keys(n.GroupLabels)) {
		labels = append(labels, k+"="+n.GroupLabels[k])
	}
	return fmt.Sprintf("%s[%s] %s alerts: %s", prefix, strings.ToUpper(string(n.Severity())), strings.Join(parts, ", "), strings.Join(labels, " "))
}

// Notifier delivers notifications to one channel (Slack, email, log...).
type Notifier interface {
	Notify(ctx context.Context, n Notification) error
}

// NotifierFunc adapts a function to Notifier.
type NotifierFunc func(ctx context.Context, n Notification) error

// Notify calls f(ctx, n).
func (f NotifierFunc) Notify(ctx context.Context, n Notification) error { return f(ctx, n) }

// Direct returns an Alerter that notifies n of each alert at once, as a
// notification of one alert: no grouping, no retry.
func Direct(receiver string, n Notifier) Alerter {
	return AlerterFunc(func(ctx context.Context, a Alert) error {
		return n.Notify(ctx, Notification{Receiver: receiver, GroupKey: a.Fingerprint(), Alerts: []Alert{a}})
	})
}

// Slog is a Notifier and Alerter that writes alerts to a logger: firing
// critical and high alerts at Error, the others at Warn, resolved ones at
// Info. The zero value logs to slog.Default().
type Slog struct {
	Logger *slog.Logger
}

// Notify logs each alert of n.
func (s Slog) Notify(ctx context.Context, n Notification) error {
	for _, a := range n.Alerts {
		_ = s.log(ctx, n, a)
	}
	return nil
}

// Send logs a.
func (s Slog) Send(ctx context.Context, a Alert) error {
	return s.log(ctx, Notification{}, a)
}

func (s Slog) log(ctx context.Context, n Notification, a Alert) error {
	l := s.Logger
	if l == nil {
		l = slog.Default()
	}
	level := slog.LevelWarn
	switch {
	case a.Resolved():
		level = slog.LevelInfo
	case a.Severity.Rank() >= SeverityHigh.Rank():
		level = slog.LevelError
	}
	attrs := []slog.Attr{
		slog.String("type", string(a.Type)), slog.String("severity", string(a.Severity)),
		slog.String("status", a.Status()), slog.String("fingerprint", a.Fingerprint()),
	}
	for _, k := range slices.Sorted(maps.Keys(a.Labels)) {
		if a.Labels[k] != "" {
			attrs = append(attrs, slog.String(k, a.Labels[k]))
		}
	}
	if n.Receiver != "" {
		attrs = append(attrs, slog.String("receiver", n.Receiver))
	}
	if len(n.Contacts) > 0 {
		attrs = append(attrs, slog.String("contacts", strings.Join(n.Contacts, ", ")))
	}
	if n.Escalated {
		attrs = append(attrs, slog.Bool("escalated", true))
	}
	if a.Body != "" {
		attrs = append(attrs, slog.String("body", a.Body))
	}
	if a.Runbook != "" {
		attrs = append(attrs, slog.String("runbook", a.Runbook))
	}
	l.LogAttrs(ctx, level, "alert: "+a.Title, attrs...)
	return nil
}

// Fanout notifies several channels at once and returns their errors
// joined, each naming its channel. One slow or failing channel does not
// stop the others.
type Fanout map[string]Notifier

// Notify sends n to every channel concurrently.
func (f Fanout) Notify(ctx context.Context, n Notification) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, name := range slices.Sorted(maps.Keys(f)) {
		wg.Go(func() {
			nn := n
			nn.Receiver = name
			if err := f[name].Notify(ctx, nn); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("channel %s: %w", name, err))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errors.Join(errs...)
}

// Send notifies every channel of a single alert.
func (f Fanout) Send(ctx context.Context, a Alert) error {
	return f.Notify(ctx, Notification{GroupKey: a.Fingerprint(), Alerts: []Alert{a}})
}

// Describe renders an alert's facts as "name: value" lines, sorted, for
// plain-text channels.
func Describe(a Alert) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(a.Labels)) {
		if a.Labels[k] != "" {
			out = append(out, k+": "+a.Labels[k])
		}
	}
	out = append(out, "severity: "+string(a.Severity), "status: "+a.Status())
	if !a.StartsAt.IsZero() {
		out = append(out, "since: "+a.StartsAt.UTC().Format(time.RFC3339))
	}
	if a.Resolved() {
		out = append(out, "resolved at: "+a.EndsAt.UTC().Format(time.RFC3339))
	}
	return out
}
