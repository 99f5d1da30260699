// Package monitor turns what happens to a pipeline into alerts: an
// orchestrate.Observer for failed runs and tests (final failures only, not
// retries), and a Checker evaluating freshness, performance against a
// baseline, resource use, row-count anomalies and source lag from small
// interfaces that the DuckDB backend satisfies.
package monitor

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/vyaparbazaar/dataops/alert"
	"github.com/vyaparbazaar/dataops/orchestrate"
	"github.com/vyaparbazaar/dataops/recovery"
)

// Observer turns a run's events into alerts: a node that finally failed
// (error or fallback, after its retries) raises run_failed; a data test
// that failed (or errored) raises test_failed; a node that succeeds
// resolves its earlier alert — one it raised, or one passed to Track (the
// open alerts of earlier processes), so that successes cost a map lookup,
// not an alert. Retries and skipped nodes raise nothing (a skip's cause is
// alerted already). It sends through Alerter, which must not block (a
// Dispatcher queues).
type Observer struct {
	Alerter alert.Alerter
	// Environment labels every alert.
	Environment string
	// Runbooks give each failure class its runbook (default
	// recovery.DefaultRunbooks()).
	Runbooks recovery.Runbooks
	// Links, when set, returns links for a node's alert (e.g. the run page).
	Links func(runID, node string) []alert.Link
	// Notices, when set, sends stakeholder notices: delayed when a
	// critical node falls back to its last good data, recovered when it
	// is rebuilt. Route TypeNotice to the stakeholders' channels.
	Notices *Notices
	// OnError receives errors of Send (default: ignored; the dispatcher
	// logs what it drops).
	OnError func(error)

	mu     sync.Mutex
	tests  int
	failed int
	open   map[openKey]bool // the alerts firing, by type and node
}

type openKey struct {
	typ  alert.Type
	node string
}

// Track tells the observer which alerts are firing already, e.g.
// store.Alerts(ctx, alert.Filter{Open: true}) of earlier runs, so that a
// success resolves them.
func (o *Observer) Track(recs []alert.Record) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, r := range recs {
		node := r.Alert.Labels[alert.LabelModel]
		if t := r.Alert.Labels["test"]; t != "" {
			node = t
		}
		if (r.Alert.Type == alert.TypeRunFailed || r.Alert.Type == alert.TypeTestFailed || r.Alert.Type == TypeNotice) && node != "" && r.Open() {
			o.markLocked(r.Alert.Type, node, true)
		}
	}
}

func (o *Observer) markLocked(t alert.Type, node string, firing bool) (wasFiring bool) {
	key := openKey{t, node}
	wasFiring = o.open[key]
	if firing {
		if o.open == nil {
			o.open = map[openKey]bool{}
		}
		o.open[key] = true
	} else if wasFiring {
		delete(o.open, key)
	}
	return wasFiring
}

// OnEvent implements orchestrate.Observer.
func (o *Observer) OnEvent(ev orchestrate.Event) {
	if ev.Type != orchestrate.NodeFinished || ev.Node == nil || ev.Result == nil {
		return
	}
	n, r := ev.Node, ev.Result
	isTest := n.Kind == orchestrate.KindTest
	failed := r.Status == orchestrate.StatusError || r.Status == orchestrate.StatusFallback || r.Status == orchestrate.StatusFail
	ok := r.Status.OK()
	if !failed && !ok {
		return // skipped, cancelled
	}
	typ := alert.TypeRunFailed
	if isTest {
		typ = alert.TypeTestFailed
	}
	o.mu.Lock()
	if isTest {
		o.tests++
		if failed {
			o.failed++
		}
	}
	wasFiring := o.markLocked(typ, n.Name, failed)
	o.mu.Unlock()
	if n.Critical && o.Notices != nil && !isTest {
		o.notice(ev)
	}
	if ok && !wasFiring {
		return
	}
	var a alert.Alert
	if isTest {
		a = o.testAlert(ev)
	} else {
		a = o.failureAlert(ev)
	}
	if ok {
		a.EndsAt = r.FinishedAt
	}
	if a.Resolved() && a.EndsAt.IsZero() {
		a.EndsAt = ev.Time
	}
	if err := o.Alerter.Send(context.Background(), a); err != nil && o.OnError != nil {
		o.OnError(err)
	}
}

// notice sends the delayed notice of a critical node that fell back, and
// the recovered one when it succeeds after that.
func (o *Observer) notice(ev orchestrate.Event) {
	r := ev.Result
	fellBack := r.Status == orchestrate.StatusFallback && r.Serving != nil
	if !fellBack && r.Status != orchestrate.StatusSuccess {
		return
	}
	o.mu.Lock()
	was := o.markLocked(TypeNotice, ev.Node.Name, fellBack)
	o.mu.Unlock()
	if !fellBack && !was {
		return
	}
	d := NoticeData{Model: ev.Node.Name, Owner: ev.Node.Owner, Environment: o.Environment, Now: ev.Time}
	if r.Serving != nil {
		d.AsOf = r.Serving.BuiltAt
	}
	a, err := o.Notices.Alert(d, !fellBack)
	if err == nil {
		err = o.Alerter.Send(context.Background(), a)
	}
	if err != nil && o.OnError != nil {
		o.OnError(err)
	}
}

// TestFailureRate returns the failed share of the data tests seen so far
// and their number.
func (o *Observer) TestFailureRate() (rate float64, tests int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.tests == 0 {
		return 0, 0
	}
	return float64(o.failed) / float64(o.tests), o.tests
}

func (o *Observer) labels(ev orchestrate.Event, model string) map[string]string {
	n := ev.Node
	l := make(map[string]string, 6)
	for k, v := range map[string]string{
		alert.LabelEnvironment: o.Environment, alert.LabelModel: model, alert.LabelLayer: n.Layer,
		alert.LabelTeam: n.Owner, alert.LabelRunID: ev.RunID,
	} {
		if v != "" {
			l[k] = v
		}
	}
	return l
}

// defaultRunbooks is built once: alerts are raised on the executor's
// event path.
var defaultRunbooks = recovery.DefaultRunbooks()

func (o *Observer) runbook(c recovery.Class) string {
	if text, ok := o.Runbooks[c]; ok {
		return text
	}
	return defaultRunbooks[c]
}

func (o *Observer) links(ev orchestrate.Event) []alert.Link {
	if o.Links == nil {
		return nil
	}
	return o.Links(ev.RunID, ev.Node.Name)
}

func (o *Observer) failureAlert(ev orchestrate.Event) alert.Alert {
	n, r := ev.Node, ev.Result
	what := string(n.Kind)
	title := fmt.Sprintf("%s %s failed", titleCase(what), n.Name)
	if r.Status == orchestrate.StatusFallback {
		title = fmt.Sprintf("%s %s failed; serving its last good version", titleCase(what), n.Name)
	}
	var body strings.Builder
	if msg := firstLines(r.Error, 6); msg != "" {
		body.WriteString(msg)
	}
	if len(r.Attempts) > 1 {
		fmt.Fprintf(&body, "\nGave up after %d attempts.", len(r.Attempts))
	}
	if r.Serving != nil {
		fmt.Fprintf(&body, "\nServing the version built by run %s at %s.", r.Serving.RunID, r.Serving.BuiltAt.UTC().Format("2006-01-02 15:04 MST"))
	}
	labels := o.labels(ev, n.Name)
	if r.Class != "" {
		labels[alert.LabelClass] = string(r.Class)
	}
	sev := alert.DefaultSeverity(alert.TypeRunFailed)
	if n.Critical {
		sev = alert.SeverityCritical
	}
	return alert.Alert{
		Type: alert.TypeRunFailed, Severity: sev, Title: title, Body: strings.TrimSpace(body.String()),
		Labels: labels, Runbook: o.runbook(r.Class), Links: o.links(ev), StartsAt: r.FinishedAt,
	}
}

func (o *Observer) testAlert(ev orchestrate.Event) alert.Alert {
	n, r := ev.Node, ev.Result
	model := n.TestOf
	if model == "" {
		model = n.Name
	}
	labels := o.labels(ev, model)
	labels["test"] = n.Name
	title := fmt.Sprintf("Test %s failed", n.Name)
	if r.Failures > 0 {
		title = fmt.Sprintf("Test %s failed: %d failing rows", n.Name, r.Failures)
	}
	body := firstLines(r.Error, 6)
	if body == "" {
		body = r.Message
	}
	return alert.Alert{
		Type: alert.TypeTestFailed, Severity: alert.DefaultSeverity(alert.TypeTestFailed), Title: title, Body: body,
		Labels: labels, Runbook: o.runbook(recovery.ClassTestFailure), Links: o.links(ev), StartsAt: r.FinishedAt,
	}
}

func titleCase(s string) string {
	if s == "" {
		return "Node"
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func firstLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = append(lines[:n], "…")
	}
	return strings.Join(lines, "\n")
}
