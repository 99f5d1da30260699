package pgserve_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/vyaparbazaar/dataops/env/duckenv"
	"github.com/vyaparbazaar/dataops/env/pgserve"
)

// TestResultsStream: rows of a result far too large to materialise
// (10^12 rows) reach the client while DuckDB is still producing them;
// cancelling stops the statement.
func TestResultsStream(t *testing.T) {
	ts := startServer(t, []*duckenv.Env{demoMart(t)})
	for name, mode := range modes {
		t.Run(name, func(t *testing.T) {
			c := connect(t, ts, "asha", "production", cancelRequests, func(cc *pgx.ConnConfig) { cc.DefaultQueryExecMode = mode })
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			rows, err := c.Query(ctx, "select i, 'row ' || i as label from range(1000000000000) t(i)")
			require.NoError(t, err)
			var i int64
			var label string
			for n := range int64(5_000) {
				require.True(t, rows.Next(), "row %d: %v", n, rows.Err())
				require.NoError(t, rows.Scan(&i, &label))
				require.Equal(t, n, i)
			}
			require.Equal(t, "row 4999", label)
			cancel()
			for rows.Next() {
			}
			require.Equal(t, "57014", sqlState(rows.Err()), "%v", rows.Err())
			var one int
			require.NoError(t, c.QueryRow(context.Background(), "select 1").Scan(&one))
		})
	}
}

// TestShutdownDrains: Shutdown stops new connections and statements at
// once, lets a running statement finish, and then returns.
func TestShutdownDrains(t *testing.T) {
	e := openEnv(t, "production")
	publishPair(t, e, 1, 40_000)
	ts := startServer(t, []*duckenv.Env{e})
	ctx := context.Background()
	c := connect(t, ts, "asha", "production")
	rows, err := c.Query(ctx, pairQuery)
	require.NoError(t, err)
	require.True(t, rows.Next())

	done := make(chan error, 1)
	go func() { done <- ts.Shutdown(context.Background()) }()
	for ts.Ready() {
		select {
		case err := <-done:
			t.Fatalf("Shutdown returned %v while a statement ran", err)
		default:
		}
	}
	// No new connections: the listener is closed (a connection accepted
	// just before gets 57P03).
	_, err = pgx.Connect(ctx, ts.url("asha", "production"))
	require.Error(t, err)
	if s := sqlState(err); s != "" {
		require.Equal(t, "57P03", s, "%v", err)
	}

	n := 1
	for rows.Next() {
		n++
	}
	require.NoError(t, rows.Err())
	require.Equal(t, 40_000, n, "the running statement finished")
	require.NoError(t, <-done)
}

// TestShutdownDeadline: statements still running when Shutdown's context
// ends are cancelled.
func TestShutdownDeadline(t *testing.T) {
	ts := startServer(t, []*duckenv.Env{demoMart(t)})
	c := connect(t, ts, "asha", "production")
	errc := make(chan error, 1)
	go func() {
		var n int64
		errc <- c.QueryRow(context.Background(), "select count(*) from range(1000000000000) t(i) where i % 7 = 3").Scan(&n)
	}()
	waitRunning(t, ts, 1)
	sctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ts.Shutdown(sctx) }()
	for ts.Ready() {
	}
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	err := <-errc
	require.Error(t, err)
	if s := sqlState(err); s != "" {
		require.Equal(t, "57014", s, "%v", err)
	}
}

// TestHealthHandler: /healthz and /readyz report the server's state.
func TestHealthHandler(t *testing.T) {
	ts := startServer(t, []*duckenv.Env{demoMart(t)})
	_ = connect(t, ts, "asha", "production")
	h := ts.HealthHandler()
	for _, path := range []string{"/healthz", "/readyz"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		require.Equal(t, http.StatusOK, rec.Code, path)
		var st pgserve.Status
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &st))
		require.Equal(t, pgserve.Status{Ready: true, Healthy: true, Environments: []string{"production"}, Connections: 1}, st)
	}
	require.NoError(t, ts.Shutdown(context.Background()))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
}
