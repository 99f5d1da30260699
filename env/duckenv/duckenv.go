// Package duckenv is the DuckDB Environment: a database file (or an
// in-memory database) that models, seeds and tests are built in, a Runner
// that executes orchestrate nodes against it, a run history and a guarded
// read-only query entry point.
//
// One Env holds one *sql.DB for the life of the process. DuckDB lets a single
// process open a file read-write; Open reports another process holding the
// file with an error that matches ErrLocked.
package duckenv

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/vyaparbazaar/dataops/env"
	"github.com/vyaparbazaar/dataops/recovery"
)

// DefaultName is the environment name used when Config.Name is empty.
const DefaultName = "dev"

// ErrLocked is matched (errors.Is) by the error Open returns when another
// process holds the database file. It is classified recovery.ClassTransient,
// and so is every error that wraps it: the other process may let go.
var ErrLocked error = &sentinelError{msg: "locked by another process", class: recovery.ClassTransient}

// ErrConfigConflict is matched by the error Open returns when this process
// already has the database file open with different settings (DuckDB shares
// one instance per file and process). It is classified
// recovery.ClassPermanent.
var ErrConfigConflict error = &sentinelError{msg: "already open in this process with different settings", class: recovery.ClassPermanent}

// Config configures Open.
type Config struct {
	// Name is the environment name; default "dev".
	Name string
	// Path is the database file; "" or ":memory:" opens an in-memory
	// database. The file's directory is created if needed.
	Path string
	// Threads is DuckDB's worker thread count (0 = DuckDB's default).
	Threads int
	// MemoryLimit is DuckDB's memory_limit, such as "4GB" ("" = default).
	MemoryLimit string
	// TempDir holds runner scratch files (seed CSVs) and DuckDB's temp and
	// extension directories. Default: <dir of Path>/.dataops, or a fresh
	// directory under os.TempDir() (removed by Close) for in-memory
	// databases.
	TempDir string
	// ReadOnly opens the database in read-only mode.
	ReadOnly bool
	// Logger receives debug logs of executed statements; nil discards.
	Logger *slog.Logger
	// Now stamps versions and snapshots; nil means time.Now.
	Now func() time.Time
}

// Env is a DuckDB environment. It is safe for concurrent use.
type Env struct {
	name     string
	path     string // as configured; "" for in-memory
	readOnly bool
	db       *sql.DB
	log      *slog.Logger

	tempDir   string   // scratch root
	removeDir []string // directories Close removes

	schemaMu  sync.Mutex // serialises CREATE SCHEMA
	historyMu sync.Mutex // serialises run-history DDL

	closeOnce sync.Once
	closeErr  error

	versionState
}

var _ env.Environment = (*Env)(nil)

// Open opens (creating if needed) the DuckDB database described by cfg and
// applies its settings: threads, memory_limit,
// autoinstall_known_extensions=false (nothing is downloaded; built-in
// extensions still autoload), and extension_directory and temp_directory
// under TempDir.
func Open(ctx context.Context, cfg Config) (*Env, error) {
	e := &Env{
		name:     cfg.Name,
		readOnly: cfg.ReadOnly,
		log:      cfg.Logger,
	}
	e.now = cfg.Now
	if e.name == "" {
		e.name = DefaultName
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	inMemory := cfg.Path == "" || cfg.Path == ":memory:"
	display := cfg.Path
	if inMemory {
		display = ":memory:"
	} else {
		e.path = cfg.Path
	}
	if cfg.Threads < 0 {
		return nil, fmt.Errorf("open database %s: threads must be >= 0, got %d", display, cfg.Threads)
	}

	dbPath := ""
	if !inMemory {
		abs, err := filepath.Abs(cfg.Path)
		if err != nil {
			return nil, fmt.Errorf("open database %s: %w", display, err)
		}
		if strings.ContainsAny(abs, "?#%") {
			return nil, fmt.Errorf("open database %s: the path must not contain '?', '#' or '%%'", display)
		}
		dbPath = abs
		if !cfg.ReadOnly {
			if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
				return nil, fmt.Errorf("open database %s: %w", display, err)
			}
		}
	}

	// Scratch layout: <TempDir>/extensions, <TempDir>/seeds and a DuckDB
	// temp directory per database (DuckDB names its spill files the same
	// way in every instance, so instances must not share one).
	e.tempDir = cfg.TempDir
	if e.tempDir == "" {
		if inMemory {
			d, err := os.MkdirTemp("", "dataops-"+sanitize(e.name)+"-")
			if err != nil {
				return nil, fmt.Errorf("open database %s: temp dir: %w", display, err)
			}
			e.tempDir = d
			e.removeDir = append(e.removeDir, d)
		} else {
			e.tempDir = filepath.Join(filepath.Dir(dbPath), ".dataops")
		}
	}
	abs, err := filepath.Abs(e.tempDir)
	if err != nil {
		return nil, fmt.Errorf("open database %s: temp dir: %w", display, err)
	}
	e.tempDir = abs
	extDir := filepath.Join(e.tempDir, "extensions")
	if err := os.MkdirAll(extDir, 0o755); err != nil {
		e.cleanupDirs()
		return nil, fmt.Errorf("open database %s: temp dir: %w", display, err)
	}
	var duckTmp string
	if inMemory {
		if err := os.MkdirAll(filepath.Join(e.tempDir, "tmp"), 0o755); err != nil {
			e.cleanupDirs()
			return nil, fmt.Errorf("open database %s: temp dir: %w", display, err)
		}
		d, err := os.MkdirTemp(filepath.Join(e.tempDir, "tmp"), "memory-")
		if err != nil {
			e.cleanupDirs()
			return nil, fmt.Errorf("open database %s: temp dir: %w", display, err)
		}
		duckTmp = d
		e.removeDir = append(e.removeDir, d)
	} else {
		duckTmp = filepath.Join(e.tempDir, "tmp", filepath.Base(dbPath))
	}

	q := url.Values{}
	if cfg.ReadOnly {
		q.Set("access_mode", "READ_ONLY")
	}
	if cfg.Threads > 0 {
		q.Set("threads", strconv.Itoa(cfg.Threads))
	}
	if cfg.MemoryLimit != "" {
		q.Set("memory_limit", cfg.MemoryLimit)
	}
	q.Set("autoinstall_known_extensions", "false")
	q.Set("autoload_known_extensions", "true")
	q.Set("extension_directory", extDir)
	q.Set("temp_directory", duckTmp)
	dsn := dbPath
	if inMemory {
		dsn = ":memory:"
	}
	dsn += "?" + q.Encode()

	connector, err := duckdb.NewConnector(dsn, nil)
	if err != nil {
		e.cleanupDirs()
		return nil, openError(display, err)
	}
	e.db = sql.OpenDB(connector)
	e.db.SetMaxIdleConns(8)
	if err := e.db.PingContext(ctx); err != nil {
		_ = e.db.Close()
		e.cleanupDirs()
		return nil, openError(display, err)
	}
	e.log.Debug("opened database", "env", e.name, "path", display, "read_only", cfg.ReadOnly)
	return e, nil
}

// openError classifies a DuckDB open failure; the error it returns
// implements recovery.Classified.
func openError(path string, err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "Could not set lock on file") || strings.Contains(msg, "Conflicting lock"):
		return withClass(fmt.Errorf("open database %s: %w (%w)", path, ErrLocked, err))
	case strings.Contains(msg, "different configuration"):
		return withClass(fmt.Errorf("open database %s: %w (%w)", path, ErrConfigConflict, err))
	}
	return withClass(fmt.Errorf("open database %s: %w", path, err))
}

func (e *Env) cleanupDirs() {
	for i := len(e.removeDir) - 1; i >= 0; i-- {
		_ = os.RemoveAll(e.removeDir[i])
	}
	e.removeDir = nil
}

// DB returns the environment's database handle. Callers must not close it.
func (e *Env) DB() *sql.DB { return e.db }

// Name returns the environment's name.
func (e *Env) Name() string { return e.name }

// Path returns the database file as configured, or "" for an in-memory
// database.
func (e *Env) Path() string { return e.path }

// TempDir returns the directory holding the environment's scratch files.
func (e *Env) TempDir() string { return e.tempDir }

// Close closes the database and removes the scratch directories Open made.
// It is safe to call more than once.
func (e *Env) Close() error {
	e.closeOnce.Do(func() {
		e.closeErr = e.db.Close()
		e.cleanupDirs()
	})
	return e.closeErr
}

// sanitize keeps a name usable in a file name.
func sanitize(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "x"
	}
	return b.String()
}
