package duckenv

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vyaparbazaar/dataops/orchestrate"
	"github.com/vyaparbazaar/dataops/orchestrate/project"
)

// openFile opens a file database in a fresh temp dir.
func openFile(t *testing.T, mutate ...func(*Config)) *Env {
	t.Helper()
	cfg := Config{Path: filepath.Join(t.TempDir(), "dev.duckdb"), Threads: 2}
	for _, m := range mutate {
		m(&cfg)
	}
	e, err := Open(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = e.Close() })
	return e
}

func modelNode(name, path, sql, mat string) *orchestrate.Node {
	m := &project.Model{Name: name, Path: path, RawSQL: sql, Materialized: mat}
	return &orchestrate.Node{Name: name, Kind: orchestrate.KindModel, Path: path, Spec: m}
}

func specNode(name string, kind orchestrate.Kind, spec any) *orchestrate.Node {
	return &orchestrate.Node{Name: name, Kind: kind, Spec: spec}
}

func mustExec(t *testing.T, e *Env, q string, args ...any) {
	t.Helper()
	_, err := e.DB().ExecContext(context.Background(), q, args...)
	require.NoError(t, err, q)
}

func scalar[T any](t *testing.T, e *Env, q string, args ...any) T {
	t.Helper()
	var v T
	require.NoError(t, e.DB().QueryRowContext(context.Background(), q, args...).Scan(&v), q)
	return v
}

// rowsOf returns a query's rows as strings, for compact assertions.
func rowsOf(t *testing.T, e *Env, q string) [][]any {
	t.Helper()
	res, err := e.Query(context.Background(), q)
	require.NoError(t, err, q)
	return res.Rows
}

func tempTables(t *testing.T, e *Env) []string {
	t.Helper()
	rows, err := e.DB().QueryContext(context.Background(),
		`SELECT table_schema || '.' || table_name FROM information_schema.tables WHERE table_name LIKE '%dataops_tmp%' ORDER BY 1`)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		out = append(out, s)
	}
	require.NoError(t, rows.Err())
	return out
}

// run runs one node and publishes what it built, as a one-node run would.
func run(t *testing.T, e *Env, opts RunnerOptions, n *orchestrate.Node) (orchestrate.Outcome, error) {
	t.Helper()
	r := e.Runner(opts)
	out, err := r.Run(context.Background(), n)
	if err == nil {
		_, perr := r.Publish(context.Background(), nil, nil)
		require.NoError(t, perr, "publish "+n.Name)
	}
	return out, err
}

func mustRun(t *testing.T, e *Env, opts RunnerOptions, n *orchestrate.Node) orchestrate.Outcome {
	t.Helper()
	out, err := run(t, e, opts, n)
	require.NoError(t, err, n.Name)
	return out
}
