package duckenv

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/vyaparbazaar/dataops/internal/sqlident"
)

// ManifestFile is the name of a backup folder's manifest.
const ManifestFile = "manifest.json"

// Manifest describes a backup folder written by ExportBackup: every table
// as a Parquet file with its row count and SHA-256, and the schemas,
// sequences and views to recreate.
type Manifest struct {
	Format      int       `json:"format"`
	Environment string    `json:"environment"`
	CreatedAt   time.Time `json:"created_at"`
	// Snapshot is the environment's latest snapshot when the backup was
	// taken (0 when none).
	Snapshot  int64              `json:"snapshot,omitempty"`
	Schemas   []string           `json:"schemas"`
	Tables    []ManifestTable    `json:"tables"`
	Views     []ManifestView     `json:"views"`
	Sequences []ManifestSequence `json:"sequences"`
}

// ManifestTable is one table of a backup.
type ManifestTable struct {
	Schema string `json:"schema"`
	Name   string `json:"name"`
	// File is the Parquet file, relative to the backup folder.
	File   string `json:"file"`
	Rows   int64  `json:"rows"`
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
	// CreateSQL is the table's CREATE TABLE statement.
	CreateSQL string `json:"create_sql"`
}

// ManifestView is one view of a backup.
type ManifestView struct {
	Schema string `json:"schema"`
	Name   string `json:"name"`
	SQL    string `json:"sql"`
}

// ManifestSequence is one sequence of a backup and the next value it gives.
type ManifestSequence struct {
	Schema string `json:"schema"`
	Name   string `json:"name"`
	Next   int64  `json:"next"`
}

// Rows is the backup's total row count.
func (m *Manifest) Rows() int64 {
	var n int64
	for _, t := range m.Tables {
		n += t.Rows
	}
	return n
}

// Bytes is the size of the backup's data files.
func (m *Manifest) Bytes() int64 {
	var n int64
	for _, t := range m.Tables {
		n += t.Bytes
	}
	return n
}

// ExportBackup writes a full backup of the environment — every table
// (sources, published versions, dataops' own state), view and sequence —
// to the folder dir as Parquet files with a manifest of row counts and
// checksums. The copy is consistent (one read transaction) and readers and
// writers go on meanwhile. dir must not exist or be empty; the backup is
// written next to it and renamed into place when complete.
func (e *Env) ExportBackup(ctx context.Context, dir string) (*Manifest, error) {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("backup: %s exists and is not empty; choose a new folder", dir)
	}
	if err := os.MkdirAll(filepath.Dir(filepath.Clean(dir)), 0o755); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(filepath.Clean(dir)), "."+filepath.Base(dir)+".partial-")
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	done := false
	defer func() {
		if !done {
			_ = os.RemoveAll(tmp)
		}
	}()
	_ = e.ensureVersions(ctx)
	conn, err := e.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION READ ONLY"); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK") //nolint:errcheck // read-only

	m := &Manifest{Format: 1, Environment: e.name, CreatedAt: e.clock().UTC()}
	var snap sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT max(id) FROM "+snapshotsTable).Scan(&snap); err == nil {
		m.Snapshot = snap.Int64
	}
	if m.Schemas, err = queryStrings(ctx, conn, `SELECT schema_name FROM duckdb_schemas()
WHERE database_name = current_database() AND NOT internal AND schema_name NOT IN ('main', 'information_schema', 'pg_catalog') ORDER BY schema_name`); err != nil {
		return nil, fmt.Errorf("backup: list schemas: %w", err)
	}
	rows, err := conn.QueryContext(ctx, `SELECT schema_name, table_name, sql FROM duckdb_tables()
WHERE database_name = current_database() AND NOT temporary AND NOT internal ORDER BY schema_name, table_name`)
	if err != nil {
		return nil, fmt.Errorf("backup: list tables: %w", err)
	}
	for rows.Next() {
		var t ManifestTable
		if err := rows.Scan(&t.Schema, &t.Name, &t.CreateSQL); err != nil {
			rows.Close()
			return nil, err
		}
		m.Tables = append(m.Tables, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	vrows, err := conn.QueryContext(ctx, `SELECT schema_name, view_name, sql FROM duckdb_views()
WHERE database_name = current_database() AND NOT temporary AND NOT internal ORDER BY schema_name, view_name`)
	if err != nil {
		return nil, fmt.Errorf("backup: list views: %w", err)
	}
	for vrows.Next() {
		var v ManifestView
		if err := vrows.Scan(&v.Schema, &v.Name, &v.SQL); err != nil {
			vrows.Close()
			return nil, err
		}
		m.Views = append(m.Views, v)
	}
	vrows.Close()
	srows, err := conn.QueryContext(ctx, `SELECT schema_name, sequence_name, coalesce(last_value + increment_by, start_value) FROM duckdb_sequences()
WHERE database_name = current_database() AND NOT temporary ORDER BY schema_name, sequence_name`)
	if err != nil {
		return nil, fmt.Errorf("backup: list sequences: %w", err)
	}
	for srows.Next() {
		var s ManifestSequence
		if err := srows.Scan(&s.Schema, &s.Name, &s.Next); err != nil {
			srows.Close()
			return nil, err
		}
		m.Sequences = append(m.Sequences, s)
	}
	srows.Close()

	for i := range m.Tables {
		t := &m.Tables[i]
		t.File = fmt.Sprintf("t%04d.parquet", i+1)
		path := filepath.Join(tmp, t.File)
		res, err := conn.ExecContext(ctx, "COPY (SELECT * FROM "+sqlident.QuoteQualified(t.Schema, t.Name)+") TO "+
			sqlident.Literal(path)+" (FORMAT parquet)")
		if err != nil {
			return nil, fmt.Errorf("backup: %s.%s: %w", t.Schema, t.Name, err)
		}
		if t.Rows, err = res.RowsAffected(); err != nil {
			return nil, err
		}
		if t.SHA256, t.Bytes, err = fileSHA256(path); err != nil {
			return nil, fmt.Errorf("backup: %w", err)
		}
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(tmp, ManifestFile), append(data, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	_ = os.Remove(dir) // an empty folder may be there
	if err := os.Rename(tmp, dir); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	done = true
	return m, nil
}

func queryStrings(ctx context.Context, q querier, query string) ([]string, error) {
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func fileSHA256(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// ReadManifest reads and checks a backup folder: the manifest parses and
// every data file exists with its recorded size and SHA-256. The error
// lists every problem found.
func ReadManifest(dir string) (*Manifest, error) {
	data, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s: not a backup folder: %s is missing", dir, ManifestFile)
		}
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, ManifestFile), err)
	}
	if m.Format != 1 {
		return nil, fmt.Errorf("%s: unknown backup format %d", filepath.Join(dir, ManifestFile), m.Format)
	}
	var problems []string
	for _, t := range m.Tables {
		if !filepath.IsLocal(t.File) {
			problems = append(problems, fmt.Sprintf("%s.%s: file %q is outside the backup folder", t.Schema, t.Name, t.File))
			continue
		}
		sum, size, err := fileSHA256(filepath.Join(dir, t.File))
		switch {
		case errors.Is(err, os.ErrNotExist):
			problems = append(problems, fmt.Sprintf("%s.%s: %s is missing", t.Schema, t.Name, t.File))
		case err != nil:
			problems = append(problems, fmt.Sprintf("%s.%s: %v", t.Schema, t.Name, err))
		case size != t.Bytes || sum != t.SHA256:
			problems = append(problems, fmt.Sprintf("%s.%s: %s was altered (checksum mismatch)", t.Schema, t.Name, t.File))
		}
	}
	if len(problems) > 0 {
		return &m, fmt.Errorf("backup %s is damaged; nothing was restored:\n  %s", dir, strings.Join(problems, "\n  "))
	}
	return &m, nil
}

// RestoreOptions configures RestoreBackup.
type RestoreOptions struct {
	// Overwrite replaces an existing database file at the destination.
	Overwrite bool
	// Threads and MemoryLimit configure DuckDB while restoring.
	Threads     int
	MemoryLimit string
}

// RestoreBackup restores the backup in dir into a new database file at
// dbPath, and verifies every table's row count against the manifest. It
// checks the whole backup first (ReadManifest) and writes to a temporary
// file renamed into place at the end, so a damaged backup or a failure
// leaves nothing behind. An existing dbPath is refused unless
// opts.Overwrite.
func RestoreBackup(ctx context.Context, dir, dbPath string, opts RestoreOptions) (*Manifest, error) {
	if dbPath == "" || dbPath == ":memory:" {
		return nil, errors.New("restore: give a database file to restore into")
	}
	if _, err := os.Stat(dbPath); err == nil && !opts.Overwrite {
		return nil, fmt.Errorf("restore: %s already exists; restore into a new file, or overwrite it explicitly (--force)", dbPath)
	}
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(dbPath), 0o755); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	tmp := filepath.Join(filepath.Dir(dbPath), "."+filepath.Base(dbPath)+".restoring-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	cleanup := func() {
		_ = os.Remove(tmp)
		_ = os.Remove(tmp + ".wal")
	}
	e, err := Open(ctx, Config{Name: m.Environment, Path: tmp, Threads: opts.Threads, MemoryLimit: opts.MemoryLimit,
		TempDir: filepath.Join(filepath.Dir(dbPath), ".dataops-restore")})
	if err != nil {
		cleanup()
		return nil, fmt.Errorf("restore: %w", err)
	}
	err = restoreInto(ctx, e, dir, m)
	if cerr := e.Close(); err == nil {
		err = cerr
	}
	_ = os.RemoveAll(filepath.Join(filepath.Dir(dbPath), ".dataops-restore"))
	if err != nil {
		cleanup()
		return nil, err
	}
	if !opts.Overwrite {
		if _, err := os.Stat(dbPath); err == nil {
			cleanup()
			return nil, fmt.Errorf("restore: %s appeared while restoring; not overwritten", dbPath)
		}
	}
	if err := os.Rename(tmp, dbPath); err != nil {
		cleanup()
		return nil, fmt.Errorf("restore: %w", err)
	}
	_ = os.Remove(dbPath + ".wal") // a stale WAL of an overwritten file
	return m, nil
}

func restoreInto(ctx context.Context, e *Env, dir string, m *Manifest) error {
	conn, err := e.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	exec := func(q string) error {
		_, err := conn.ExecContext(ctx, q)
		return err
	}
	if err := exec("BEGIN TRANSACTION"); err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	for _, s := range m.Schemas {
		if err := exec("CREATE SCHEMA IF NOT EXISTS " + sqlident.Quote(s)); err != nil {
			return fmt.Errorf("restore: schema %s: %w", s, err)
		}
	}
	for _, s := range m.Sequences {
		if err := exec(fmt.Sprintf("CREATE SEQUENCE %s START WITH %d", sqlident.QuoteQualified(s.Schema, s.Name), s.Next)); err != nil {
			return fmt.Errorf("restore: sequence %s.%s: %w", s.Schema, s.Name, err)
		}
	}
	for _, t := range m.Tables {
		rel := sqlident.QuoteQualified(t.Schema, t.Name)
		if err := exec(t.CreateSQL); err != nil {
			return fmt.Errorf("restore: table %s.%s: %w", t.Schema, t.Name, err)
		}
		res, err := conn.ExecContext(ctx, "INSERT INTO "+rel+" SELECT * FROM read_parquet("+sqlident.Literal(filepath.Join(dir, t.File))+")")
		if err != nil {
			return fmt.Errorf("restore: table %s.%s from %s: %w", t.Schema, t.Name, t.File, err)
		}
		if n, err := res.RowsAffected(); err != nil || n != t.Rows {
			return fmt.Errorf("restore: table %s.%s: %d rows restored, the manifest says %d", t.Schema, t.Name, n, t.Rows)
		}
	}
	if err := exec("COMMIT"); err != nil {
		return err
	}
	ok = true
	// Views are bound when created: create each after those it reads.
	if err := restoreViews(ctx, conn, m.Views); err != nil {
		return err
	}
	for _, t := range m.Tables {
		var n int64
		if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM "+sqlident.QuoteQualified(t.Schema, t.Name)).Scan(&n); err != nil {
			return err
		}
		if n != t.Rows {
			return fmt.Errorf("restore: verification: %s.%s has %d rows, the manifest says %d", t.Schema, t.Name, n, t.Rows)
		}
	}
	return nil
}

// restoreViews creates views one statement at a time, in passes, until all
// exist (each pass creates those whose relations exist).
func restoreViews(ctx context.Context, conn *sql.Conn, all []ManifestView) error {
	pending := all
	for len(pending) > 0 {
		var next []ManifestView
		var lastErr error
		for _, v := range pending {
			if _, err := conn.ExecContext(ctx, v.SQL); err != nil {
				lastErr = fmt.Errorf("%s.%s: %w", v.Schema, v.Name, err)
				next = append(next, v)
			}
		}
		if len(next) == len(pending) {
			return fmt.Errorf("restore: views: %w", lastErr)
		}
		pending = next
	}
	return nil
}
