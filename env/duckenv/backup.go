package duckenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/vyaparbazaar/dataops/internal/sqlident"
)

// Backup copies the whole database — published relations and dataops' own
// state — into a new DuckDB file in dir named <env>-<UTC time>.duckdb, and
// returns its path. It runs while the environment stays open (readers and
// writers go on); the copy is consistent as of the start of its
// transaction. The file is written under a temporary name and renamed when
// complete, so a failed or interrupted backup never looks like a good one.
func (e *Env) Backup(ctx context.Context, dir string, now time.Time) (string, error) {
	if e.path == "" || e.path == ":memory:" {
		return "", errors.New("backup: an in-memory database has no file to back up")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("backup: %w", err)
	}
	final := filepath.Join(dir, fmt.Sprintf("%s-%s.duckdb", e.name, now.UTC().Format("20060102T150405Z")))
	tmp := final + ".partial"
	_ = os.Remove(tmp)
	conn, err := e.db.Conn(ctx)
	if err != nil {
		return "", fmt.Errorf("backup: %w", err)
	}
	defer conn.Close()
	var catalog string
	if err := conn.QueryRowContext(ctx, "SELECT current_database()").Scan(&catalog); err != nil {
		return "", fmt.Errorf("backup: %w", err)
	}
	alias := "dataops_backup"
	steps := []string{
		"ATTACH " + sqlident.Literal(tmp) + " AS " + sqlident.Quote(alias),
		"COPY FROM DATABASE " + sqlident.Quote(catalog) + " TO " + sqlident.Quote(alias),
		"DETACH " + sqlident.Quote(alias),
	}
	for i, q := range steps {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			if i > 0 {
				_, _ = conn.ExecContext(context.WithoutCancel(ctx), "DETACH DATABASE IF EXISTS "+sqlident.Quote(alias))
			}
			_ = os.Remove(tmp)
			_ = os.Remove(tmp + ".wal")
			return "", fmt.Errorf("backup to %s: %w", final, err)
		}
	}
	if err := os.Rename(tmp, final); err != nil {
		return "", fmt.Errorf("backup: %w", err)
	}
	return final, nil
}
