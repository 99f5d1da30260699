package pgserve_test

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/vyaparbazaar/dataops/env"
	"github.com/vyaparbazaar/dataops/env/duckenv"
	"github.com/vyaparbazaar/dataops/env/pgserve"
)

// Test users: password is the name + "-pw". bcrypt.MinCost keeps tests
// fast.
var testUsers = []struct {
	name   string
	groups []string
}{
	{"asha", []string{"business-users"}},      // reads production
	{"ravi", []string{"analytics-engineers"}}, // reads production, builds dev and staging
	{"dev", []string{"nobody"}},               // no role anywhere
}

func testAuth(t testing.TB) *pgserve.Users {
	t.Helper()
	var us []pgserve.User
	for _, u := range testUsers {
		h, err := bcrypt.GenerateFromPassword([]byte(u.name+"-pw"), bcrypt.MinCost)
		require.NoError(t, err)
		us = append(us, pgserve.User{Name: u.name, PasswordHash: string(h), Groups: u.groups})
	}
	a, err := pgserve.NewUsers(us)
	require.NoError(t, err)
	return a
}

// openEnv opens a file environment named name in a temp dir.
func openEnv(t testing.TB, name string) *duckenv.Env {
	t.Helper()
	e, err := duckenv.Open(context.Background(), duckenv.Config{Name: name, Path: filepath.Join(t.TempDir(), name+".duckdb"), Threads: 2})
	require.NoError(t, err)
	t.Cleanup(func() { _ = e.Close() })
	return e
}

func mustExec(t testing.TB, e *duckenv.Env, q string) {
	t.Helper()
	_, err := e.DB().ExecContext(context.Background(), q)
	require.NoError(t, err, q)
}

type testServer struct {
	*pgserve.Server
	addr  string
	audit *pgserve.MemoryAuditor
}

// startServer serves envs over TLS (self-signed) on a loopback port.
func startServer(t testing.TB, envs []*duckenv.Env, mutate ...func(*pgserve.Config)) *testServer {
	t.Helper()
	tlsCfg, err := pgserve.SelfSignedTLS("127.0.0.1")
	require.NoError(t, err)
	audit := &pgserve.MemoryAuditor{}
	cfg := pgserve.Config{
		Environments: envs,
		Auth:         testAuth(t),
		Auditor:      audit,
		TLS:          tlsCfg,
		Limits:       map[env.Role]pgserve.Limits{env.RoleReader: {MaxConnections: 64, MaxConcurrentQueries: 64, QueryTimeout: time.Minute}},
	}
	for _, m := range mutate {
		m(&cfg)
	}
	s, err := pgserve.New(cfg)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- s.Serve(context.Background(), ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
		require.NoError(t, <-done)
	})
	return &testServer{Server: s, addr: ln.Addr().String(), audit: audit}
}

func (ts *testServer) url(user, db string) string {
	return fmt.Sprintf("postgres://%s:%s-pw@%s/%s?sslmode=require", user, user, ts.addr, db)
}

func connect(t testing.TB, ts *testServer, user, db string, mutate ...func(*pgx.ConnConfig)) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(ts.url(user, db))
	require.NoError(t, err)
	for _, m := range mutate {
		m(cfg)
	}
	c, err := pgx.ConnectConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}
