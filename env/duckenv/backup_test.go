package duckenv

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBackupCopiesEverythingIntoANewFile(t *testing.T) {
	e := openFile(t)
	ctx := context.Background()
	mustExec(t, e, "create schema marts")
	mustExec(t, e, "create table marts.sales as select range as id, range * 2.5 as amount from range(1000)")
	mustExec(t, e, "create view marts.big_sales as select * from marts.sales where amount > 100")
	require.NoError(t, e.RecordRun(ctx, RunRecord{RunID: "r1", StartedAt: time.Now(), Status: "success"}))

	dir := filepath.Join(t.TempDir(), "backups")
	at := time.Date(2026, 11, 25, 0, 15, 0, 0, time.UTC)
	path, err := e.Backup(ctx, dir, at)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, e.Name()+"-20261125T001500Z.duckdb"), path)

	// The backup opens on its own and holds the data, views and history.
	mustExec(t, e, "delete from marts.sales")
	db, err := sql.Open("duckdb", path+"?access_mode=read_only")
	require.NoError(t, err)
	defer db.Close()
	var n int
	require.NoError(t, db.QueryRow("select count(*) from marts.sales").Scan(&n))
	assert.Equal(t, 1000, n)
	require.NoError(t, db.QueryRow("select count(*) from marts.big_sales").Scan(&n))
	assert.Equal(t, 959, n)
	require.NoError(t, db.QueryRow(`select count(*) from "_dataops".run_history`).Scan(&n))
	assert.Equal(t, 1, n)
}

func TestBackupOfMemoryDatabaseIsRefused(t *testing.T) {
	e, err := Open(context.Background(), Config{})
	require.NoError(t, err)
	defer e.Close()
	_, err = e.Backup(context.Background(), t.TempDir(), time.Now())
	assert.ErrorContains(t, err, "in-memory")
}

func TestPruneBackupsKeepsRecentAndMinimum(t *testing.T) {
	e := openFile(t)
	dir := t.TempDir()
	now := time.Date(2026, 11, 25, 5, 15, 0, 0, time.UTC)
	var all []string
	for d := range 20 {
		at := now.Add(-time.Duration(d) * 24 * time.Hour)
		p := filepath.Join(dir, e.Name()+"-"+at.Format("20060102T150405Z")+".duckdb")
		require.NoError(t, os.WriteFile(p, []byte("x"), 0o644))
		all = append(all, p)
	}
	other := filepath.Join(dir, "staging-20200101T000000Z.duckdb")
	require.NoError(t, os.WriteFile(other, []byte("x"), 0o644))

	deleted, err := e.PruneBackups(dir, 7*24*time.Hour, 10, now)
	require.NoError(t, err)
	assert.ElementsMatch(t, all[10:], deleted, "7 days would keep 8; the minimum of 10 wins")
	for _, p := range all[:10] {
		assert.FileExists(t, p)
	}
	assert.FileExists(t, other, "another environment's backups are not touched")
}
