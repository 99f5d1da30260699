package monitor

import (
	"bytes"
	"fmt"
	"text/template"
	"time"

	"github.com/vyaparbazaar/dataops/alert"
)

// TypeNotice is the alert type of stakeholder notices.
const TypeNotice alert.Type = "stakeholder_notice"

// ReceiverStakeholders is the receiver the default route sends notices to.
const ReceiverStakeholders = "stakeholders"

// The default notice texts.
const (
	DefaultDelayed   = `{{.Model}} is delayed: it shows data as of {{.AsOf.Format "2006-01-02 15:04 MST"}} while the data team fixes a failure.`
	DefaultRecovered = `{{.Model}} is up to date again (data as of {{.Now.Format "2006-01-02 15:04 MST"}}).`
)

// NoticeData is what notice templates see.
type NoticeData struct {
	// Model is the critical model (e.g. mart_daily_sales).
	Model       string
	Owner       string
	Environment string
	// AsOf is when the data still being served was built.
	AsOf time.Time
	// Now is when the notice is sent.
	Now time.Time
}

// Notices renders stakeholder notices from editable templates
// (text/template): Delayed when a critical model falls back to its last
// good data, Recovered when it is rebuilt.
type Notices struct {
	Delayed, Recovered *template.Template
}

// NewNotices parses the two templates; empty texts take the defaults.
func NewNotices(delayed, recovered string) (*Notices, error) {
	if delayed == "" {
		delayed = DefaultDelayed
	}
	if recovered == "" {
		recovered = DefaultRecovered
	}
	d, err := template.New("delayed").Option("missingkey=error").Parse(delayed)
	if err != nil {
		return nil, fmt.Errorf("delayed notice: %w", err)
	}
	r, err := template.New("recovered").Option("missingkey=error").Parse(recovered)
	if err != nil {
		return nil, fmt.Errorf("recovered notice: %w", err)
	}
	// Check both against sample data, so a typo fails at start.
	n := &Notices{Delayed: d, Recovered: r}
	if _, err := n.render(n.Delayed, NoticeData{Model: "m", AsOf: time.Unix(0, 0), Now: time.Unix(0, 0)}); err != nil {
		return nil, fmt.Errorf("delayed notice: %w", err)
	}
	if _, err := n.render(n.Recovered, NoticeData{Model: "m", AsOf: time.Unix(0, 0), Now: time.Unix(0, 0)}); err != nil {
		return nil, fmt.Errorf("recovered notice: %w", err)
	}
	return n, nil
}

func (n *Notices) render(t *template.Template, d NoticeData) (string, error) {
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		return "", err
	}
	return b.String(), nil
}

// Alert returns the notice for d: firing (delayed) or, with recovered,
// resolved with the recovered text as its body.
func (n *Notices) Alert(d NoticeData, recovered bool) (alert.Alert, error) {
	delayed, err := n.render(n.Delayed, d)
	if err != nil {
		return alert.Alert{}, fmt.Errorf("delayed notice of %s: %w", d.Model, err)
	}
	a := alert.Alert{
		Type: TypeNotice, Severity: alert.SeverityMedium, Title: delayed,
		Labels:   map[string]string{alert.LabelModel: d.Model},
		StartsAt: d.Now,
	}
	if d.Environment != "" {
		a.Labels[alert.LabelEnvironment] = d.Environment
	}
	if d.Owner != "" {
		a.Labels[alert.LabelTeam] = d.Owner
	}
	if recovered {
		text, err := n.render(n.Recovered, d)
		if err != nil {
			return alert.Alert{}, fmt.Errorf("recovered notice of %s: %w", d.Model, err)
		}
		a.Title, a.EndsAt = text, d.Now
	}
	return a, nil
}
