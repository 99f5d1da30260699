package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/vyaparbazaar/dataops/env"
)

// TestServeOverPostgres: `serve --pg-addr` serves the demo's production
// environment next to the scheduler; psql describes and reads a mart over
// TLS, a write is refused and audited, health and metrics report it.
func TestServeOverPostgres(t *testing.T) {
	psqlPath, err := exec.LookPath("psql")
	require.NoError(t, err, "psql is needed: apt-get install -y postgresql-client (.ci/run does it)")
	target := t.TempDir()
	code, _, errOut := cliRun(t, "demo", "--target", "production", "--target-path", target, "--scale", "0.001", "--as", "deploy-bot")
	require.Equal(t, 0, code, errOut)

	hash, err := bcrypt.GenerateFromPassword([]byte("asha-secret"), bcrypt.MinCost)
	require.NoError(t, err)
	users := filepath.Join(t.TempDir(), "users.yml")
	require.NoError(t, os.WriteFile(users, []byte("users:\n  - name: asha\n    password_hash: \""+string(hash)+"\"\n    groups: [business-users]\n"), 0o600))
	audit := filepath.Join(t.TempDir(), "audit.jsonl")

	runCtx, stop := context.WithCancel(t.Context())
	defer stop()
	var stdout, stderr syncBuffer
	done := make(chan int)
	go func() {
		done <- Main(runCtx, []string{"serve", "--target", "production", "--target-path", target, "--addr", "127.0.0.1:0",
			"--pg-addr", "127.0.0.1:0", "--users", users, "--audit-log", audit, "--as", "deploy-bot"}, &stdout, &stderr)
	}()
	var httpBase, pgHost, pgPort string
	pgRe := regexp.MustCompile(`PostgreSQL clients on (127\.0\.0\.1):(\d+) `)
	require.Eventually(t, func() bool {
		out := stdout.String()
		m := pgRe.FindStringSubmatch(out)
		i := strings.Index(out, "http://")
		if m == nil || i < 0 {
			return false
		}
		pgHost, pgPort = m[1], m[2]
		httpBase = strings.Fields(out[i:])[0]
		return true
	}, 30*time.Second, 10*time.Millisecond, stderr.String())

	runPsql := func(cmd string) (string, bool) {
		c := exec.Command(psqlPath, "-X", "-v", "VERBOSITY=verbose", "-c", cmd,
			fmt.Sprintf("host=%s port=%s dbname=production user=asha sslmode=require", pgHost, pgPort))
		c.Env = append(os.Environ(), "PGPASSWORD=asha-secret", "PGCONNECT_TIMEOUT=10")
		out, err := c.CombinedOutput()
		return string(out), err == nil
	}
	out, ok := runPsql(`\d marts.mart_daily_sales`)
	require.True(t, ok, out)
	assert.Contains(t, out, `View "marts.mart_daily_sales"`)
	assert.Regexp(t, `(?m)^ order_date\s+\| date`, out)
	out, ok = runPsql(`select count(*) > 0 as has_rows from marts.mart_daily_sales`)
	require.True(t, ok, out)
	assert.Contains(t, out, " t\n")
	out, ok = runPsql(`delete from marts.mart_daily_sales`)
	require.False(t, ok, out)
	assert.Contains(t, out, "ERROR:  25006: cannot execute DELETE in a read-only transaction")

	get := func(path string) (int, string) {
		resp, err := http.Get(httpBase + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	status, body := get("/pg/readyz")
	assert.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, `"ready":true`)
	_, body = get("/metrics")
	assert.Contains(t, body, "dataops_pg_queries_total{")
	assert.Contains(t, body, `dataops_pg_refusals_total{environment="production"`)

	stop()
	require.Equal(t, 0, <-done, stderr.String())

	f, err := os.Open(audit)
	require.NoError(t, err)
	defer f.Close()
	var events []env.AuditEvent
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var ev env.AuditEvent
		require.NoError(t, json.Unmarshal(sc.Bytes(), &ev))
		events = append(events, ev)
	}
	var refused []string
	for _, ev := range events {
		if !ev.Allowed {
			refused = append(refused, ev.Object)
		}
	}
	assert.Equal(t, []string{"delete from marts.mart_daily_sales"}, refused)
	raw, _ := os.ReadFile(audit)
	assert.NotContains(t, string(raw), "asha-secret")
}

// TestUsersCommand: `users hash` reads the password from stdin; `users
// check` shows each user's roles under the default policy.
func TestUsersCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	require.Equal(t, 0, usersMain([]string{"hash"}, strings.NewReader("s3cret\n"), &out, &errOut), errOut.String())
	h := strings.TrimSpace(out.String())
	require.NoError(t, bcrypt.CompareHashAndPassword([]byte(h), []byte("s3cret")))
	require.NotContains(t, out.String(), "s3cret")

	out.Reset()
	require.Equal(t, 0, usersMain([]string{"check", filepath.Join("demo", "project", "users.yml")}, nil, &out, &errOut), errOut.String())
	assert.Regexp(t, `(?m)^asha\s+business-users\s+-\s+-\s+reader\s*$`, out.String())
	assert.Regexp(t, `(?m)^ravi\s+analytics-engineers\s+admin\s+engineer\s+reader\s*$`, out.String())

	bad := filepath.Join(t.TempDir(), "users.yml")
	require.NoError(t, os.WriteFile(bad, []byte("users:\n  - name: x\n    password_hash: secret\n"), 0o600))
	errOut.Reset()
	require.Equal(t, 1, usersMain([]string{"check", bad}, nil, &out, &errOut))
	assert.Contains(t, errOut.String(), bad+`: user "x": password_hash is not a bcrypt hash`)
	assert.NotContains(t, errOut.String(), "secret\n")
	require.Equal(t, 2, usersMain(nil, nil, &out, &errOut))
}
