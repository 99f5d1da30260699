// Package alert tells people what went wrong in a pipeline, once, on what
// matters, to the right team. An Alert says what happened (its Type,
// Severity, labels naming the environment, model, layer and owner team);
// a Router picks the channels (Notifiers) for it; a Dispatcher groups
// alerts the way Prometheus Alertmanager does (group_by, group_wait,
// group_interval, repeat_interval, send_resolved), applies silences and
// inhibition, escalates unacknowledged alerts to a team's secondary contact,
// and sends off the pipeline's critical path, retrying with backoff and
// reporting channels that stay down.
//
// The reference channels live in their own packages (alert/slack,
// alert/email); this package has a log/slog channel (Slog) and a fan-out.
package alert

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Type is what an alert is about.
type Type string

// The alert types. The first five are the seed strategy's table.
const (
	TypeRunFailed      Type = "run_failed"
	TypeTestFailed     Type = "test_failed"
	TypePerformance    Type = "performance"
	TypeFreshness      Type = "freshness"
	TypeResource       Type = "resource"
	TypeChannelFailed  Type = "channel_failed"
	TypeDeadlineMissed Type = "deadline_missed"
	TypeAnomaly        Type = "anomaly"
)

// Severity is how urgent an alert is.
type Severity string

// The severities, most urgent first.
const (
	SeverityCritical Severity = "critical"
	SeverityHigh     Severity = "high"
	SeverityMedium   Severity = "medium"
	SeverityLow      Severity = "low"
)

// Rank orders severities: critical 4, high 3, medium 2, low 1, unknown 0.
func (s Severity) Rank() int {
	switch s {
	case SeverityCritical:
		return 4
	case SeverityHigh:
		return 3
	case SeverityMedium:
		return 2
	case SeverityLow:
		return 1
	}
	return 0
}

// ParseSeverity parses "critical", "high", "medium" or "low" (any case).
func ParseSeverity(s string) (Severity, error) {
	sev := Severity(strings.ToLower(strings.TrimSpace(s)))
	if sev.Rank() == 0 {
		return "", fmt.Errorf("unknown severity %q (want critical, high, medium or low)", s)
	}
	return sev, nil
}

// DefaultSeverity is the severity of each type in the seed strategy's
// table (failed run high, data quality medium, performance low, freshness
// high, resource critical); types outside the table get high, except
// anomalies (medium).
func DefaultSeverity(t Type) Severity {
	switch t {
	case TypeTestFailed, TypeAnomaly:
		return SeverityMedium
	case TypePerformance:
		return SeverityLow
	case TypeResource:
		return SeverityCritical
	}
	return SeverityHigh
}

// Well-known label names. Labels identify an alert (see Fingerprint),
// except the ones in NonIdentifying.
const (
	LabelType        = "type"
	LabelSeverity    = "severity"
	LabelEnvironment = "environment"
	LabelModel       = "model"
	LabelLayer       = "layer"
	LabelTeam        = "team"
	LabelRunID       = "run_id"
	LabelClass       = "class"
	LabelReceiver    = "receiver"
	LabelResource    = "resource"
)

// NonIdentifying are the labels left out of the fingerprint: the same
// model failing in run after run, whatever the class of its error, is one
// alert.
var NonIdentifying = []string{LabelRunID, LabelClass}

// Link is a URL worth opening from an alert.
type Link struct {
	Title string
	URL   string
}

// Alert is one condition worth telling people about.
type Alert struct {
	Type     Type
	Severity Severity
	// Title is one line; Body may hold several.
	Title string
	Body  string
	// Labels identify the alert and route it: environment, model, layer,
	// team, run_id, class, ... The type and severity are labels too (see
	// AllLabels).
	Labels map[string]string
	// Runbook tells the person on call what to check and run.
	Runbook string
	Links   []Link
	// StartsAt is when the condition began; EndsAt, when set, is when it
	// cleared: the alert is resolved.
	StartsAt time.Time
	EndsAt   time.Time
}

// Resolved reports whether the condition has cleared.
func (a Alert) Resolved() bool { return !a.EndsAt.IsZero() }

// Status is "resolved" or "firing".
func (a Alert) Status() string {
	if a.Resolved() {
		return "resolved"
	}
	return "firing"
}

// Label returns a label's value; "type" and "severity" come from the
// fields.
func (a Alert) Label(name string) string {
	switch name {
	case LabelType:
		return string(a.Type)
	case LabelSeverity:
		return string(a.Severity)
	}
	return a.Labels[name]
}

// AllLabels returns the labels with type and severity added.
func (a Alert) AllLabels() map[string]string {
	out := make(map[string]string, len(a.Labels)+2)
	maps.Copy(out, a.Labels)
	out[LabelType] = string(a.Type)
	if a.Severity != "" {
		out[LabelSeverity] = string(a.Severity)
	}
	return out
}

// Fingerprint identifies the alert: a hash of its type and identifying
// labels (all but NonIdentifying), 12 hex digits. Severity, text and times
// do not change it.
func (a Alert) Fingerprint() string {
	keys := make([]string, 0, len(a.Labels))
	size := len(a.Type) + 1
	for k, v := range a.Labels {
		if v != "" && !slices.Contains(NonIdentifying, k) {
			keys = append(keys, k)
			size += len(k) + len(v) + 2
		}
	}
	slices.Sort(keys)
	buf := make([]byte, 0, size)
	buf = append(append(buf, a.Type...), 0)
	for _, k := range keys {
		buf = append(append(append(append(buf, k...), 1), a.Labels[k]...), 0)
	}
	sum := sha256.Sum256(buf)
	return hex.EncodeToString(sum[:6])
}

// Validate reports a missing type or title, or an unknown severity.
func (a Alert) Validate() error {
	switch {
	case a.Type == "":
		return fmt.Errorf("alert %q: no type", a.Title)
	case strings.TrimSpace(a.Title) == "":
		return fmt.Errorf("alert of type %s: no title", a.Type)
	case a.Severity.Rank() == 0:
		return fmt.Errorf("alert %q: unknown severity %q", a.Title, a.Severity)
	}
	return nil
}

// clone returns a deep copy of a.
func (a Alert) clone() Alert {
	a.Labels = maps.Clone(a.Labels)
	a.Links = slices.Clone(a.Links)
	return a
}

// Alerter accepts alerts. A Dispatcher is one (it queues and never blocks);
// Send adapts any Notifier.
type Alerter interface {
	Send(ctx context.Context, a Alert) error
}

// AlerterFunc adapts a function to Alerter.
type AlerterFunc func(ctx context.Context, a Alert) error

// Send calls f(ctx, a).
func (f AlerterFunc) Send(ctx context.Context, a Alert) error { return f(ctx, a) }
