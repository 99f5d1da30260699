package duckenv

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vyaparbazaar/dataops/env"
)

func TestOpenAppliesSettings(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "target", "dev.duckdb")
	e, err := Open(context.Background(), Config{Path: path, Threads: 3, MemoryLimit: "1GB"})
	require.NoError(t, err)
	defer e.Close()

	var _ env.Environment = e
	assert.Equal(t, "dev", e.Name())
	assert.Equal(t, path, e.Path())
	assert.Equal(t, filepath.Join(dir, "target", ".dataops"), e.TempDir())
	assert.FileExists(t, path)

	assert.Equal(t, "3", scalar[string](t, e, "select current_setting('threads')::VARCHAR"))
	// DuckDB reports memory_limit in its own units (1GB = 953.6 MiB).
	assert.NotEqual(t, "", scalar[string](t, e, "select current_setting('memory_limit')::VARCHAR"))
	assert.Equal(t, false, scalar[bool](t, e, "select current_setting('autoinstall_known_extensions')"))
	assert.Equal(t, filepath.Join(e.TempDir(), "extensions"), scalar[string](t, e, "select current_setting('extension_directory')"))
	assert.True(t, strings.HasPrefix(scalar[string](t, e, "select current_setting('temp_directory')"), e.TempDir()+string(filepath.Separator)))
	// The catalog is named after the file; nothing may assume "main".
	assert.Equal(t, "dev", scalar[string](t, e, "select current_database()"))

	// Every pooled connection sees the settings (they are database-wide).
	conns := make([]interface{ Close() error }, 0, 3)
	for range 3 {
		c, err := e.DB().Conn(context.Background())
		require.NoError(t, err)
		var threads string
		require.NoError(t, c.QueryRowContext(context.Background(), "select current_setting('threads')::VARCHAR").Scan(&threads))
		assert.Equal(t, "3", threads)
		conns = append(conns, c)
	}
	for _, c := range conns {
		require.NoError(t, c.Close())
	}

	// Built-in extensions still work with autoinstall off (json, parquet).
	assert.Equal(t, int64(1), scalar[int64](t, e, `select json_extract('{"a":1}', '$.a')::BIGINT`))
	require.NoError(t, e.Close())
	require.NoError(t, e.Close(), "Close is idempotent")
}

func TestOpenMemoryDefaultsAndCleanup(t *testing.T) {
	e, err := Open(context.Background(), Config{Name: "staging"})
	require.NoError(t, err)
	assert.Equal(t, "staging", e.Name())
	assert.Equal(t, "", e.Path())
	tmp := e.TempDir()
	assert.DirExists(t, tmp)
	assert.True(t, strings.HasPrefix(tmp, os.TempDir()))
	assert.Equal(t, "memory", scalar[string](t, e, "select current_database()"))
	require.NoError(t, e.Close())
	assert.NoDirExists(t, tmp, "the scratch dir of an in-memory env is removed by Close")

	// ":memory:" is in-memory too, and two in-memory envs are separate.
	a, err := Open(context.Background(), Config{Path: ":memory:"})
	require.NoError(t, err)
	defer a.Close()
	b, err := Open(context.Background(), Config{Path: ":memory:"})
	require.NoError(t, err)
	defer b.Close()
	mustExec(t, a, "create table t as select 1 as x")
	_, err = b.Query(context.Background(), "select * from t")
	require.Error(t, err)
}

func TestOpenSamePathDifferentSettings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dev.duckdb")
	a, err := Open(context.Background(), Config{Path: path, Threads: 1})
	require.NoError(t, err)
	defer a.Close()
	_, err = Open(context.Background(), Config{Path: path, Threads: 2})
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrConfigConflict)
	assert.Contains(t, err.Error(), path)
}

func TestOpenReadOnly(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "prod.duckdb")
	w, err := Open(context.Background(), Config{Path: path})
	require.NoError(t, err)
	mustExec(t, w, "create table t as select 42 as x")
	require.NoError(t, w.Close())

	ro, err := Open(context.Background(), Config{Name: "production", Path: path, ReadOnly: true})
	require.NoError(t, err)
	defer ro.Close()
	assert.Equal(t, [][]any{{int32(42)}}, rowsOf(t, ro, "select x from t"))
	_, err = run(t, ro, RunnerOptions{}, modelNode("m", "", "select 1 as a", "table"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "read-only")

	_, err = Open(context.Background(), Config{Path: filepath.Join(dir, "missing.duckdb"), ReadOnly: true})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "missing.duckdb")
}

func TestOpenRejectsBadConfig(t *testing.T) {
	_, err := Open(context.Background(), Config{Path: filepath.Join(t.TempDir(), "a?b.duckdb")})
	require.Error(t, err)
	_, err = Open(context.Background(), Config{Threads: -1})
	require.Error(t, err)
	_, err = Open(context.Background(), Config{MemoryLimit: "lots"})
	require.Error(t, err)
}

const lockHelperEnv = "DATAOPS_DUCKENV_LOCK_HELPER_DB"

// TestLockHelperProcess is not a test: TestOpenLockedByAnotherProcess runs
// the test binary again with only this function selected, and it holds the
// database open until its stdin closes.
func TestLockHelperProcess(t *testing.T) {
	path := os.Getenv(lockHelperEnv)
	if path == "" {
		return // only meaningful as the child process of TestOpenLockedByAnotherProcess
	}
	e, err := Open(context.Background(), Config{Path: path})
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(2)
	}
	fmt.Println("HOLDING")
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = e.Close()
}

func TestOpenLockedByAnotherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "target", "dev.duckdb")
	release := holdDatabase(t, path)

	_, err := Open(context.Background(), Config{Path: path})
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrLocked)
	assert.Contains(t, err.Error(), "open database "+path+": locked by another process (")
	t.Log(err)

	// Once the other process exits, the file opens.
	release()
	e, err := Open(context.Background(), Config{Path: path})
	require.NoError(t, err)
	require.NoError(t, e.Close())
}
