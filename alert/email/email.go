// Package email delivers alert notifications by SMTP
// (github.com/wneessen/go-mail): STARTTLS or implicit TLS, authentication,
// and one message per notification (a group of alerts) with a plain-text
// and an HTML part. The password never appears in errors or logs.
package email

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"strings"
	"text/template"
	"time"

	mail "github.com/wneessen/go-mail"

	"github.com/vyaparbazaar/dataops/alert"
)

// TLSMode says how the connection is secured.
type TLSMode string

// The TLS modes.
const (
	// STARTTLS upgrades a plain connection (port 587); required, not
	// opportunistic.
	STARTTLS TLSMode = "starttls"
	// ImplicitTLS connects over TLS from the start (port 465).
	ImplicitTLS TLSMode = "tls"
	// NoTLS sends in the clear (a local relay only).
	NoTLS TLSMode = "none"
)

// Notifier sends notifications by email.
type Notifier struct {
	Host string
	// Port defaults to 587 (STARTTLS), 465 (TLS) or 25 (none).
	Port int
	// TLS defaults to STARTTLS.
	TLS TLSMode
	// Username and Password authenticate (SMTP AUTH PLAIN) when Username
	// is set. The password is a secret.
	Username string
	Password string
	From     string
	To       []string
	// TLSConfig overrides the TLS settings (e.g. RootCAs for a private
	// CA); ServerName defaults to Host.
	TLSConfig *tls.Config
	// InsecureSkipVerify accepts any server certificate (a test relay
	// with a self-signed certificate); the connection is still encrypted
	// but not authenticated. Never for a real mail server.
	InsecureSkipVerify bool
	// Timeout bounds dialling and each SMTP command (default 15s).
	Timeout time.Duration
}

// Notify sends n as one message to every address in To.
func (e *Notifier) Notify(ctx context.Context, n alert.Notification) error {
	if e.Host == "" || e.From == "" || len(e.To) == 0 {
		return errors.New("email: host, from and to are required")
	}
	msg, err := e.message(n)
	if err != nil {
		return e.redact(err)
	}
	client, err := mail.NewClient(e.Host, e.options()...)
	if err != nil {
		return e.redact(err)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return e.redact(err)
	}
	return nil
}

// SendDocument sends one message with a plain-text and an HTML part (a
// report rather than alerts) to every address in To, over the same
// transport and with the same secrecy as Notify.
func (e *Notifier) SendDocument(ctx context.Context, subject, text, html string) error {
	if e.Host == "" || e.From == "" || len(e.To) == 0 {
		return errors.New("email: host, from and to are required")
	}
	m := mail.NewMsg()
	if err := m.From(e.From); err != nil {
		return fmt.Errorf("from %q: %w", e.From, err)
	}
	if err := m.To(e.To...); err != nil {
		return fmt.Errorf("to %q: %w", strings.Join(e.To, ", "), err)
	}
	m.Subject(subject)
	m.SetDate()
	m.SetMessageID()
	m.SetBodyString(mail.TypeTextPlain, text)
	m.AddAlternativeString(mail.TypeTextHTML, html)
	client, err := mail.NewClient(e.Host, e.options()...)
	if err != nil {
		return e.redact(err)
	}
	if err := client.DialAndSendWithContext(ctx, m); err != nil {
		return e.redact(err)
	}
	return nil
}

func (e *Notifier) options() []mail.Option {
	mode := e.TLS
	if mode == "" {
		mode = STARTTLS
	}
	port := e.Port
	tlsConf := &tls.Config{ServerName: e.Host, MinVersion: tls.VersionTLS12}
	if e.TLSConfig != nil {
		tlsConf = e.TLSConfig.Clone()
		if tlsConf.ServerName == "" {
			tlsConf.ServerName = e.Host
		}
	}
	if e.InsecureSkipVerify {
		tlsConf.InsecureSkipVerify = true // #nosec G402 -- explicit opt-in (insecure_skip_verify)
	}
	timeout := e.Timeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	opts := []mail.Option{mail.WithTimeout(timeout), mail.WithTLSConfig(tlsConf)}
	switch mode {
	case ImplicitTLS:
		if port == 0 {
			port = 465
		}
		opts = append(opts, mail.WithSSL())
	case NoTLS:
		if port == 0 {
			port = 25
		}
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	default:
		if port == 0 {
			port = 587
		}
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	opts = append(opts, mail.WithPort(port))
	if e.Username != "" {
		auth := mail.SMTPAuthPlain
		if mode == NoTLS {
			auth = mail.SMTPAuthPlainNoEnc
		}
		opts = append(opts, mail.WithSMTPAuth(auth), mail.WithUsername(e.Username), mail.WithPassword(e.Password))
	}
	return opts
}

// redact takes the password out of an error's text.
func (e *Notifier) redact(err error) error {
	msg := err.Error()
	if len(e.Password) > 0 {
		msg = strings.ReplaceAll(msg, e.Password, "[redacted]")
	}
	out := &Error{msg: "email: " + msg}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		out.cause = context.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		out.cause = context.Canceled
	}
	return out
}

// Error is a delivery failure with the password taken out.
type Error struct {
	msg   string
	cause error
}

func (e *Error) Error() string { return e.msg }

// Unwrap returns a context error when the failure was one.
func (e *Error) Unwrap() error { return e.cause }

func (e *Notifier) message(n alert.Notification) (*mail.Msg, error) {
	subject, text, html, err := Render(n)
	if err != nil {
		return nil, err
	}
	m := mail.NewMsg()
	if err := m.From(e.From); err != nil {
		return nil, fmt.Errorf("from %q: %w", e.From, err)
	}
	if err := m.To(e.To...); err != nil {
		return nil, fmt.Errorf("to %q: %w", strings.Join(e.To, ", "), err)
	}
	m.Subject(subject)
	m.SetDate()
	m.SetMessageID()
	m.SetGenHeader("X-Dataops-Status", n.Status())
	m.SetGenHeader("X-Dataops-Severity", string(n.Severity()))
	if n.GroupKey != "" {
		m.SetGenHeader("X-Dataops-Group", n.GroupKey)
	}
	m.SetBodyString(mail.TypeTextPlain, text)
	m.AddAlternativeString(mail.TypeTextHTML, html)
	return m, nil
}

var textTmpl = template.Must(template.New("text").Funcs(funcs).Parse(`{{.Title}}
{{- if .Contacts}}
Contacts: {{join .Contacts ", "}}{{end}}
{{range .Alerts}}
== [{{status .}}] {{.Title}}
{{- if .Body}}

{{.Body}}{{end}}

{{range facts .}}  {{.}}
{{end}}
{{- if .Runbook}}
Runbook: {{.Runbook}}
{{end}}
{{- range .Links}}{{.Title}}: {{.URL}}
{{end}}{{end}}
-- dataops alerting`))

var htmlTmpl = htmltemplate.Must(htmltemplate.New("html").Funcs(funcs).Parse(`<!DOCTYPE html>
<html><body style="font-family: sans-serif">
<h2>{{.Title}}</h2>
{{if .Contacts}}<p>Contacts: {{join .Contacts ", "}}</p>{{end}}
{{range .Alerts}}<div style="border-left: 6px solid {{color .}}; padding: 4px 12px; margin: 12px 0">
<h3>[{{status .}}] {{.Title}}</h3>
{{if .Body}}<pre>{{.Body}}</pre>{{end}}
<table>{{range facts .}}<tr><td>{{.}}</td></tr>{{end}}</table>
{{if .Runbook}}<p><b>Runbook:</b> {{.Runbook}}</p>{{end}}
{{range .Links}}<p><a href="{{.URL}}">{{.Title}}</a></p>{{end}}
</div>{{end}}
<p style="color: #888">dataops alerting</p>
</body></html>`))

func status(a alert.Alert) string {
	if a.Resolved() {
		return "RESOLVED"
	}
	return strings.ToUpper(string(a.Severity))
}

func color(a alert.Alert) string {
	if a.Resolved() {
		return "#2EB67D"
	}
	switch a.Severity {
	case alert.SeverityCritical:
		return "#B00020"
	case alert.SeverityHigh:
		return "#E01E5A"
	case alert.SeverityMedium:
		return "#ECB22E"
	}
	return "#36C5F0"
}

var funcs = map[string]any{"join": strings.Join, "status": status, "facts": alert.Describe, "color": color}

// Render returns the subject, the plain-text body and the HTML body of a
// notification.
func Render(n alert.Notification) (subject, text, html string, err error) {
	subject = "[dataops] " + n.Title()
	data := struct {
		Title    string
		Contacts []string
		Alerts   []alert.Alert
	}{n.Title(), n.Contacts, n.Alerts}
	var tb, hb bytes.Buffer
	if err := textTmpl.Execute(&tb, data); err != nil {
		return "", "", "", fmt.Errorf("render text: %w", err)
	}
	if err := htmlTmpl.Execute(&hb, data); err != nil {
		return "", "", "", fmt.Errorf("render html: %w", err)
	}
	return subject, tb.String(), hb.String(), nil
}
