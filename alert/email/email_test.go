package email_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vyaparbazaar/dataops/alert"
	"github.com/vyaparbazaar/dataops/alert/alerttest"
	"github.com/vyaparbazaar/dataops/alert/email"
)

const (
	user     = "alerts"
	password = "s3cret-Pa55word"
)

// received is one message the test server accepted.
type received struct {
	from   string
	to     []string
	data   []byte
	authed bool
	tls    bool
}

type backend struct {
	mu   sync.Mutex
	msgs []received
}

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	return &session{b: b, tls: isTLS, conn: c}, nil
}

type session struct {
	b      *backend
	conn   *smtp.Conn
	tls    bool
	authed bool
	cur    received
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, pw string) error {
		if username != user || pw != password {
			return errors.New("invalid credentials")
		}
		s.authed = true
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if !s.authed {
		return smtp.ErrAuthRequired
	}
	s.cur = received{from: from}
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.cur.to = append(s.cur.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.data, s.cur.authed = data, s.authed
	_, s.cur.tls = s.conn.TLSConnectionState()
	s.b.mu.Lock()
	s.b.msgs = append(s.b.msgs, s.cur)
	s.b.mu.Unlock()
	return nil
}

func (s *session) Reset()        {}
func (s *session) Logout() error { return nil }

// testCert makes a self-signed certificate for 127.0.0.1 and a pool that
// trusts it.
func testCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "dataops test SMTP"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, pool
}

// startServer runs a real SMTP server; implicit chooses TLS from the
// first byte, else STARTTLS is offered (and required for AUTH).
func startServer(t *testing.T, implicit bool) (*backend, int, *x509.CertPool) {
	t.Helper()
	cert, pool := testCert(t)
	be := &backend{}
	srv := smtp.NewServer(be)
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	var ln net.Listener
	var err error
	if implicit {
		ln, err = tls.Listen("tcp", "127.0.0.1:0", srv.TLSConfig)
	} else {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	require.NoError(t, err)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return be, ln.Addr().(*net.TCPAddr).Port, pool
}

func group() alert.Notification {
	a := alerttest.Sample("fct_orders")
	b := alerttest.Sample("fct_payments")
	b.Severity = alert.SeverityCritical
	b.Title = "Model fct_payments failed <b>badly</b>"
	return alert.Notification{Receiver: "email", GroupKey: `0.1{type="run_failed"}`, GroupLabels: map[string]string{"type": "run_failed"},
		Alerts: []alert.Alert{b, a}, Contacts: []string{"asha@example.com"}}
}

// parts splits a multipart/alternative message into its parts by type.
func parts(t *testing.T, raw []byte) (*mail.Message, map[string]string) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	require.NoError(t, err)
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	require.NoError(t, err)
	require.Equal(t, "multipart/alternative", mt)
	out := map[string]string{}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		body, err := io.ReadAll(p) // quoted-printable is decoded by multipart
		require.NoError(t, err)
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		out[ct] = string(body)
	}
	return msg, out
}

func TestSTARTTLSWithAuthSendsOneMessagePerGroup(t *testing.T) {
	be, port, pool := startServer(t, false)
	n := &email.Notifier{Host: "127.0.0.1", Port: port, TLS: email.STARTTLS, Username: user, Password: password,
		From: "dataops@vyaparbazaar.example", To: []string{"data-team@vyaparbazaar.example", "oncall@vyaparbazaar.example"},
		TLSConfig: &tls.Config{RootCAs: pool}}
	require.NoError(t, n.Notify(context.Background(), group()))
	resolved := alerttest.Sample("dim_dates")
	resolved.EndsAt = resolved.StartsAt.Add(time.Hour)
	require.NoError(t, n.Notify(context.Background(), alert.Notification{Alerts: []alert.Alert{resolved}}))

	be.mu.Lock()
	defer be.mu.Unlock()
	require.Len(t, be.msgs, 2, "one message per notification, not per alert or recipient")
	got := be.msgs[0]
	assert.True(t, got.tls, "upgraded with STARTTLS before sending")
	assert.True(t, got.authed)
	assert.Equal(t, "dataops@vyaparbazaar.example", got.from)
	assert.Equal(t, []string{"data-team@vyaparbazaar.example", "oncall@vyaparbazaar.example"}, got.to)

	msg, ps := parts(t, got.data)
	assert.Equal(t, "[dataops] [CRITICAL] 2 firing alerts: type=run_failed", msg.Header.Get("Subject"))
	assert.Equal(t, "<dataops@vyaparbazaar.example>", msg.Header.Get("From"))
	assert.Contains(t, msg.Header.Get("To"), "data-team@vyaparbazaar.example")
	assert.Equal(t, "firing", msg.Header.Get("X-Dataops-Status"))
	assert.Equal(t, "critical", msg.Header.Get("X-Dataops-Severity"))
	assert.NotEmpty(t, msg.Header.Get("Message-Id"))
	_, err := msg.Header.Date()
	assert.NoError(t, err)
	text, html := ps["text/plain"], ps["text/html"]
	require.NotEmpty(t, text)
	require.NotEmpty(t, html)
	for _, want := range []string{"== [CRITICAL] Model fct_payments failed <b>badly</b>", "== [HIGH] Model fct_orders failed",
		"model: fct_orders", "team: analytics", "Runbook: Fix the model.", "Contacts: asha@example.com", "run: http://localhost:8080/runs/run-1"} {
		assert.Contains(t, text, want)
	}
	assert.Less(t, strings.Index(text, "fct_payments"), strings.Index(text, "fct_orders"), "in the notification's order")
	assert.Contains(t, html, "Model fct_payments failed &lt;b&gt;badly&lt;/b&gt;", "HTML is escaped")
	assert.Contains(t, html, `<a href="http://localhost:8080/runs/run-1">run</a>`)
	assert.Contains(t, html, "border-left: 6px solid #B00020")

	msg2, ps2 := parts(t, be.msgs[1].data)
	assert.Equal(t, "[dataops] RESOLVED: Model dim_dates failed", msg2.Header.Get("Subject"))
	assert.Equal(t, "resolved", msg2.Header.Get("X-Dataops-Status"))
	assert.Contains(t, ps2["text/plain"], "[RESOLVED]")
}

func TestImplicitTLS(t *testing.T) {
	be, port, pool := startServer(t, true)
	n := &email.Notifier{Host: "127.0.0.1", Port: port, TLS: email.ImplicitTLS, Username: user, Password: password,
		From: "dataops@vyaparbazaar.example", To: []string{"data-team@vyaparbazaar.example"}, TLSConfig: &tls.Config{RootCAs: pool}}
	require.NoError(t, n.Notify(context.Background(), group()))
	be.mu.Lock()
	defer be.mu.Unlock()
	require.Len(t, be.msgs, 1)
	assert.True(t, be.msgs[0].tls)
	assert.True(t, be.msgs[0].authed)
}

func TestUntrustedCertificateIsRefused(t *testing.T) {
	be, port, _ := startServer(t, false)
	n := &email.Notifier{Host: "127.0.0.1", Port: port, Username: user, Password: password,
		From: "dataops@vyaparbazaar.example", To: []string{"x@vyaparbazaar.example"}, Timeout: 5 * time.Second}
	err := n.Notify(context.Background(), group())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "certificate")
	be.mu.Lock()
	defer be.mu.Unlock()
	assert.Empty(t, be.msgs)
}

func TestWrongPasswordIsNotInTheError(t *testing.T) {
	be, port, pool := startServer(t, false)
	wrong := "wrong-" + password
	n := &email.Notifier{Host: "127.0.0.1", Port: port, Username: user, Password: wrong,
		From: "dataops@vyaparbazaar.example", To: []string{"x@vyaparbazaar.example"}, TLSConfig: &tls.Config{RootCAs: pool}}
	err := n.Notify(context.Background(), group())
	require.Error(t, err)
	assert.NotContains(t, err.Error(), wrong)
	assert.Contains(t, strings.ToLower(err.Error()), "auth")
	be.mu.Lock()
	defer be.mu.Unlock()
	assert.Empty(t, be.msgs)
}

func TestUnreachableServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	n := &email.Notifier{Host: "127.0.0.1", Port: port, Username: user, Password: password,
		From: "dataops@vyaparbazaar.example", To: []string{"x@vyaparbazaar.example"}}
	err = n.Notify(context.Background(), group())
	require.Error(t, err)
	assert.Contains(t, err.Error(), strconv.Itoa(port))
	assert.NotContains(t, err.Error(), password)
	assert.Error(t, (&email.Notifier{}).Notify(context.Background(), group()), "host, from and to are required")
}

func TestInsecureSkipVerifyAcceptsAnUntrustedCertificate(t *testing.T) {
	be, port, _ := startServer(t, false)
	n := &email.Notifier{Host: "127.0.0.1", Port: port, Username: user, Password: password, InsecureSkipVerify: true,
		From: "dataops@vyaparbazaar.example", To: []string{"x@vyaparbazaar.example"}, Timeout: 5 * time.Second}
	require.NoError(t, n.Notify(context.Background(), group()))
	be.mu.Lock()
	defer be.mu.Unlock()
	require.Len(t, be.msgs, 1)
	assert.True(t, be.msgs[0].tls, "still encrypted with STARTTLS")
}
