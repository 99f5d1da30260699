package pgserve_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/vyaparbazaar/dataops/env"
	"github.com/vyaparbazaar/dataops/env/duckenv"
	"github.com/vyaparbazaar/dataops/env/pgserve"
)

// TestRefusals: everything a reader may not do is refused before DuckDB
// runs it, with SQLSTATE 25006 (writes) or 42501, and audited; nothing
// was written or read.
func TestRefusals(t *testing.T) {
	e := demoMart(t)
	ts := startServer(t, []*duckenv.Env{e})
	secret := filepath.Join(t.TempDir(), "secret.csv")
	require.NoError(t, os.WriteFile(secret, []byte("a,b\n1,2\n"), 0o600))
	out := filepath.Join(t.TempDir(), "out.csv")
	cases := []struct{ sql, state, msg string }{
		{"insert into fct_orders values (9, '2025-07-02', 1, 'x')", "25006", "cannot execute INSERT in a read-only transaction"},
		{"update fct_orders set amount = 0", "25006", "cannot execute UPDATE"},
		{"delete from fct_orders", "25006", "cannot execute DELETE"},
		{"create table t2 as select 1", "25006", "cannot execute CREATE"},
		{"drop view mart_daily_sales", "25006", "cannot execute DROP"},
		{"alter table fct_orders add column x int", "25006", "cannot execute ALTER"},
		{"create temp table tmp as select 1", "42501", "CREATE TEMP"},
		{"copy fct_orders to '" + out + "'", "42501", "COPY"},
		{"copy (select 1) to '" + out + "' (format csv)", "42501", "COPY"},
		{"export database '" + t.TempDir() + "'", "42501", "EXPORT"},
		{"attach '" + filepath.Join(t.TempDir(), "x.duckdb") + "' as x", "42501", "ATTACH"},
		{"set memory_limit = '1GB'", "42501", "SET"},
		{"set search_path = 'marts'", "42501", "SET"},
		{"load httpfs", "42501", "LOAD"},
		{"install httpfs", "42501", "INSTALL"},
		{"pragma enable_profiling", "42501", "PRAGMA"},
		{"call pragma_version()", "42501", "CALL"},
		{"select 1; select 2", "42501", "2 statements"},
		{"select * from read_csv('/etc/passwd')", "42501", "read_csv reads files"},
		{"select * from read_csv_auto('" + secret + "')", "42501", "reads files"},
		{"select * from '" + secret + "'", "42501", "reads a file"},
		{"select * from glob('/etc/*')", "42501", "lists local files"},
		{"select getenv('HOME')", "42501", "reads the process environment"},
		{"checkpoint", "42501", "CHECKPOINT"},
		{"begin", "42501", "transaction control"},
		{`select * from "_DataOps".runs`, "42501", "dataops' own tables"},
		{"select * from _dataops_versions.versions where note = 'x'", "42501", "dataops' own tables"},
	}
	for name, mode := range modes {
		t.Run(name, func(t *testing.T) {
			c := connect(t, ts, "asha", "production", func(cc *pgx.ConnConfig) { cc.DefaultQueryExecMode = mode })
			for _, tc := range cases {
				rows, err := c.Query(context.Background(), tc.sql)
				if err == nil {
					rows.Close()
					err = rows.Err()
				}
				require.Equal(t, tc.state, sqlState(err), "%s: %v", tc.sql, err)
				require.ErrorContains(t, err, tc.msg, tc.sql)
				require.NotContains(t, err.Error(), "Stack Trace")
			}
			var n int64
			require.NoError(t, c.QueryRow(context.Background(), "select count(*) from fct_orders").Scan(&n))
			require.Equal(t, int64(3), n, "nothing was written")
		})
	}
	_, err := os.Stat(out)
	require.True(t, os.IsNotExist(err), "COPY TO wrote %s", out)
	refused := map[string]int{}
	for _, ev := range ts.audit.Events() {
		if !ev.Allowed {
			require.Equal(t, "asha", ev.Principal)
			require.Equal(t, "production", ev.Environment)
			require.Equal(t, "pgwire", ev.Via)
			require.NotEmpty(t, ev.Result)
			refused[ev.Object]++
		}
	}
	for _, tc := range cases {
		require.Equal(t, len(modes), refused[tc.sql], "audit entries for %q", tc.sql)
	}
}

// TestAuthentication: passwords over TLS only, bcrypt-checked; the
// environment's policy decides who may connect; limits hold; each refusal
// is audited without the password.
func TestAuthentication(t *testing.T) {
	prod := demoMart(t)
	dev := openEnv(t, "dev")
	ts := startServer(t, []*duckenv.Env{prod, dev}, func(cfg *pgserve.Config) {
		cfg.Limits[env.RoleAdmin] = pgserve.Limits{MaxConnections: 1} // analytics engineers administer dev
	})
	ctx := context.Background()
	try := func(url string) error {
		c, err := pgx.Connect(ctx, url)
		if err == nil {
			t.Cleanup(func() { _ = c.Close(ctx) })
		}
		return err
	}
	cases := []struct{ name, url, state, msg string }{
		{"wrong password", strings.Replace(ts.url("asha", "production"), "asha-pw", "guess", 1), "28P01", `password authentication failed for user "asha"`},
		{"unknown user", ts.url("mallory", "production"), "28P01", "password authentication failed"},
		{"no TLS", strings.Replace(ts.url("asha", "production"), "sslmode=require", "sslmode=disable", 1), "28000", "requires TLS"},
		{"no role in dev", ts.url("asha", "dev"), "42501", `permission denied for database "dev"`},
		{"no role anywhere", ts.url("dev", "production"), "42501", "permission denied"},
		{"unknown database", ts.url("asha", "staging"), "3D000", `database "staging" does not exist`},
	}
	for _, c := range cases {
		err := try(c.url)
		require.Equal(t, c.state, sqlState(err), "%s: %v", c.name, err)
		require.ErrorContains(t, err, c.msg, c.name)
	}
	// ravi, an analytics engineer, administers dev: one connection at most.
	require.NoError(t, try(ts.url("ravi", "dev")))
	err := try(ts.url("ravi", "dev"))
	require.Equal(t, "53300", sqlState(err), "%v", err)
	// ... and a reader in production, with the reader limits.
	require.NoError(t, try(ts.url("ravi", "production")))

	var denied, allowed int
	for _, ev := range ts.audit.Events() {
		require.NotContains(t, fmt.Sprint(ev), "-pw", "a password reached the audit log")
		require.NotContains(t, fmt.Sprint(ev), "guess")
		if ev.Allowed {
			allowed++
		} else {
			denied++
		}
	}
	require.Equal(t, len(cases)+1, denied)
	require.Equal(t, 2, allowed)
}

// TestUsersFile: the YAML users file, with errors naming the file.
func TestUsersFile(t *testing.T) {
	hashed, err := pgserve.HashPassword("s3cret")
	require.NoError(t, err)
	require.NoError(t, bcrypt.CompareHashAndPassword([]byte(hashed), []byte("s3cret")))
	hb, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	require.NoError(t, err)
	h := string(hb)
	path := filepath.Join(t.TempDir(), "users.yml")
	require.NoError(t, os.WriteFile(path, []byte("users:\n  - name: asha\n    password_hash: "+h+"\n    groups: [business-users]\n"), 0o600))
	u, err := pgserve.LoadUsers(path)
	require.NoError(t, err)
	p, err := u.Authenticate(context.Background(), "asha", "s3cret")
	require.NoError(t, err)
	require.Equal(t, env.Principal{Name: "asha", Groups: []string{"business-users"}}, p)
	_, err = u.Authenticate(context.Background(), "asha", "S3cret")
	require.ErrorIs(t, err, pgserve.ErrBadCredentials)

	_, err = pgserve.ParseUsers([]byte("users:\n  - name: a\n    password_hash: plain\n"), "users.yml")
	require.ErrorContains(t, err, `users.yml: user "a": password_hash is not a bcrypt hash`)
	_, err = pgserve.ParseUsers([]byte("users:\n  - name: a\n    pasword_hash: x\n"), "users.yml")
	require.ErrorContains(t, err, "users.yml")
	require.ErrorContains(t, err, "[3:")
}

// TestResultRowLimit: a role's MaxResultRows ends a larger result with
// 54000; smaller results pass.
func TestResultRowLimit(t *testing.T) {
	ts := startServer(t, []*duckenv.Env{demoMart(t)}, func(cfg *pgserve.Config) {
		cfg.Limits[env.RoleReader] = pgserve.Limits{MaxResultRows: 5000}
	})
	c := connect(t, ts, "asha", "production")
	ctx := context.Background()
	rows, err := c.Query(ctx, "select i from range(100000) t(i)")
	require.NoError(t, err)
	for rows.Next() {
	}
	require.Equal(t, "54000", sqlState(rows.Err()), "%v", rows.Err())
	var n int64
	require.NoError(t, c.QueryRow(ctx, "select count(*) from (select i from range(100000) t(i))").Scan(&n))
	require.Equal(t, int64(100000), n)
}
