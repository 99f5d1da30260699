package duckenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
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

// PruneBackups deletes the backups of this environment in dir that are
// older than keepFor, always keeping the newest keepMin of them, and returns
// the paths it deleted. Unfinished backups (".partial") older than keepFor
// are deleted too.
func (e *Env) PruneBackups(dir string, keepFor time.Duration, keepMin int, now time.Time) ([]string, error) {
	matches, err := filepath.Glob(filepath.Join(dir, e.name+"-*.duckdb*"))
	if err != nil {
		return nil, fmt.Errorf("prune backups: %w", err)
	}
	type backup struct {
		path string
		at   time.Time
	}
	var done, partial []backup
	for _, m := range matches {
		base := filepath.Base(m)
		stamp := strings.TrimPrefix(base, e.name+"-")
		isPartial := strings.HasSuffix(stamp, ".duckdb.partial")
		stamp = strings.TrimSuffix(strings.TrimSuffix(stamp, ".partial"), ".duckdb")
		at, err := time.Parse("20060102T150405Z", stamp)
		if err != nil {
			continue // not one of ours
		}
		if isPartial {
			partial = append(partial, backup{m, at})
		} else if strings.HasSuffix(base, ".duckdb") {
			done = append(done, backup{m, at})
		}
	}
	sort.Slice(done, func(i, j int) bool { return done[i].at.After(done[j].at) })
	var deleted []string
	for i, b := range done {
		if i < keepMin || now.Sub(b.at) <= keepFor {
			continue
		}
		if err := os.Remove(b.path); err != nil {
			return deleted, fmt.Errorf("prune backups: %w", err)
		}
		deleted = append(deleted, b.path)
	}
	for _, b := range partial {
		if now.Sub(b.at) > keepFor {
			if err := os.Remove(b.path); err == nil {
				deleted = append(deleted, b.path)
			}
		}
	}
	return deleted, nil
}
