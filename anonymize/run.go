package anonymize

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/vyaparbazaar/dataops/internal/sqlident"
)

// Options configure Run.
type Options struct {
	// Key is the secret key of every keyed rule (at least MinKeyLen
	// bytes). Read it with KeyFromEnv or KeyFromFile; it never appears
	// in logs, errors or outputs.
	Key []byte
	// Replace allows overwriting an existing target file.
	Replace bool
	// MemoryLimit is DuckDB's memory_limit, such as "2GB" ("" = DuckDB's
	// default, 80% of RAM). Larger tables spill to a temporary directory
	// next to the target.
	MemoryLimit string
	// Threads is DuckDB's thread count (0 = all cores).
	Threads int
	// Progress, when set, is called after each table and step.
	Progress func(Progress)
	// Logger receives one line per table; nil discards.
	Logger *slog.Logger
	// ScanSampleRows is how many rows per table the PII scanner reads
	// (default 2000).
	ScanSampleRows int
	// NoLeakCheck skips the leak check (benchmarks only: a run without it
	// proves nothing about leaks, and Result.Leaks.Skipped says so).
	NoLeakCheck bool
}

// Progress reports one finished step of a run.
type Progress struct {
	// Step is "table", "collisions" or "leak-check".
	Step string
	// Table is the target table ("schema.table") for Step "table".
	Table string
	// Rows written (Step "table").
	Rows int64
	// Elapsed is the step's duration.
	Elapsed time.Duration
}

// TableResult is one written table.
type TableResult struct {
	// Name is "schema.table".
	Name string
	// Rows is the row count written.
	Rows int64
	// SourceRows is the source's row count (differs when sampling).
	SourceRows int64
	// Elapsed is the time spent writing it.
	Elapsed time.Duration
}

// LeakReport is the result of the leak check.
type LeakReport struct {
	// Skipped is true when Options.NoLeakCheck was set.
	Skipped bool
	// Protected lists the source columns whose original values were
	// searched for ("schema.table.column").
	Protected []string
	// Unchecked lists protected columns left out of the search, with the
	// reason (low-entropy outputs such as fake names collide with real
	// ones by chance).
	Unchecked []string
	// Values is the number of distinct original values searched for.
	Values int64
	// Columns is the number of output columns searched.
	Columns int
	// Hits lists output columns holding original values (never the
	// values themselves).
	Hits []LeakHit
}

// LeakHit is an output column that holds original protected values.
type LeakHit struct {
	// Column is "schema.table.column" in the target.
	Column string
	// Count is the number of distinct original values found in it.
	Count int64
}

// Result is what Run did.
type Result struct {
	// Tables are the written tables, in order.
	Tables []TableResult
	// Leaks is the leak check's report.
	Leaks LeakReport
	// Elapsed is the whole run's duration.
	Elapsed time.Duration
}

// ErrTargetExists means the target file exists and Options.Replace is
// false.
var ErrTargetExists = errors.New("anonymize: target exists (use Replace / --replace to overwrite it)")

// UnprotectedError lists PII-looking columns without a rule; the run
// refused to write anything.
type UnprotectedError struct {
	// Findings are the columns, each with the scanner's reason.
	Findings []Finding
}

func (e *UnprotectedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "anonymize: refusing to write: %d column(s) look like PII and have no rule (add a rule, or {keep: \"reason\"}):", len(e.Findings))
	for _, f := range e.Findings {
		fmt.Fprintf(&b, "\n  %s.%s: %s", f.Table, f.Column, f.Reason)
	}
	return b.String()
}

// CollisionError means a transformed key column lost uniqueness.
type CollisionError struct {
	// Column is "schema.table.column".
	Column string
	// Colliding is the number of distinct source values that merged.
	Colliding int64
}

func (e *CollisionError) Error() string {
	return fmt.Sprintf("anonymize: %s: %d source key value(s) collide after the transform (the key would no longer be unique)", e.Column, e.Colliding)
}

// LeakError means the leak check found original values in the output;
// nothing was written.
type LeakError struct {
	// Report is the full leak report.
	Report LeakReport
}

func (e *LeakError) Error() string {
	var b strings.Builder
	b.WriteString("anonymize: leak check failed, nothing written: original values of protected columns appear in the output:")
	for _, h := range e.Report.Hits {
		fmt.Fprintf(&b, "\n  %s: %d value(s)", h.Column, h.Count)
	}
	return b.String()
}

// Run reads the source DuckDB database file from, applies policy and
// writes the target database file to. It works inside DuckDB (SQL plus Go
// vector functions registered once on a private database), streaming
// table by table within Options.MemoryLimit. The target is written under
// a temporary name in its directory and renamed at the end: on any error
// (bad policy, PII without a rule, key collision, leak) nothing is left
// at to.
func Run(ctx context.Context, from, to string, policy *Policy, opts Options) (res *Result, err error) {
	start := time.Now()
	if policy == nil {
		return nil, errors.New("anonymize: no policy")
	}
	if len(opts.Key) < MinKeyLen {
		return nil, ErrMissingKey
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := policy.Check(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(from); err != nil {
		return nil, fmt.Errorf("anonymize: source %s: %w", from, err)
	}
	absFrom, _ := filepath.Abs(from)
	absTo, _ := filepath.Abs(to)
	if absFrom == absTo {
		return nil, fmt.Errorf("anonymize: source and target are the same file %s", from)
	}
	if _, err := os.Stat(to); err == nil && !opts.Replace {
		return nil, fmt.Errorf("%w: %s", ErrTargetExists, to)
	}
	var rb [6]byte
	_, _ = rand.Read(rb[:])
	tmp := filepath.Join(filepath.Dir(absTo), "."+filepath.Base(absTo)+".tmp-"+hex.EncodeToString(rb[:]))
	spill := tmp + ".spill"
	defer func() {
		os.RemoveAll(spill)
		if err != nil {
			os.Remove(tmp)
			os.Remove(tmp + ".wal")
		}
	}()

	s, err := openSession(ctx, tmp, absFrom, spill, opts)
	if err != nil {
		return nil, err
	}
	defer func() {
		if s != nil {
			s.close()
		}
	}()
	seed := int64(0)
	if policy.Sample != nil {
		seed = policy.Sample.Seed
	}
	if err := registerUDFs(s.conn, opts.Key, seed); err != nil {
		return nil, err
	}
	schema, err := readSchema(ctx, s.conn, "src")
	if err != nil {
		return nil, err
	}
	plan, err := resolve(policy, schema)
	if err != nil {
		return nil, err
	}
	if err := scanRefuse(ctx, s.conn, plan, opts.ScanSampleRows); err != nil {
		return nil, err
	}
	res = &Result{}
	if err := s.write(ctx, plan, res, opts, log); err != nil {
		return nil, err
	}
	if err := s.checkCollisions(ctx, plan, opts); err != nil {
		return nil, err
	}
	if opts.NoLeakCheck {
		res.Leaks.Skipped = true
	} else {
		st := time.Now()
		if err := s.leakCheck(ctx, plan, &res.Leaks); err != nil {
			return nil, err
		}
		if opts.Progress != nil {
			opts.Progress(Progress{Step: "leak-check", Elapsed: time.Since(st)})
		}
		if len(res.Leaks.Hits) > 0 {
			return nil, &LeakError{Report: res.Leaks}
		}
	}
	if err := s.finish(ctx); err != nil {
		return nil, err
	}
	s = nil
	if err := os.Rename(tmp, absTo); err != nil {
		return nil, fmt.Errorf("anonymize: move %s into place: %w", to, err)
	}
	res.Elapsed = time.Since(start)
	log.Info("anonymize: done", "target", to, "tables", len(res.Tables), "elapsed", res.Elapsed)
	return res, nil
}

type session struct {
	db   *sql.DB
	conn *sql.Conn
}

// openSession opens the temporary target as the main database and
// attaches the source read-only as "src".
func openSession(ctx context.Context, tmp, from, spill string, opts Options) (*session, error) {
	if err := os.MkdirAll(spill, 0o700); err != nil {
		return nil, fmt.Errorf("anonymize: %w", err)
	}
	c, err := duckdb.NewConnector(tmp, nil)
	if err != nil {
		return nil, fmt.Errorf("anonymize: open target: %w", err)
	}
	db := sql.OpenDB(c)
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("anonymize: open target: %w", err)
	}
	s := &session{db: db, conn: conn}
	stmts := []string{
		"SET autoinstall_known_extensions = false",
		"SET autoload_known_extensions = false",
		"SET temp_directory = " + sqlident.Literal(spill),
		"SET preserve_insertion_order = false",
	}
	if opts.MemoryLimit != "" {
		stmts = append(stmts, "SET memory_limit = "+sqlident.Literal(opts.MemoryLimit))
	}
	if opts.Threads > 0 {
		stmts = append(stmts, "SET threads = "+strconv.Itoa(opts.Threads))
	}
	stmts = append(stmts, "ATTACH "+sqlident.Literal(from)+" AS src (READ_ONLY)")
	for _, q := range stmts {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			s.close()
			return nil, fmt.Errorf("anonymize: prepare (%s): %w", strings.SplitN(q, " ", 3)[1], err)
		}
	}
	return s, nil
}

func (s *session) close() {
	s.conn.Close()
	s.db.Close()
}

func (s *session) finish(ctx context.Context) error {
	_, err := s.conn.ExecContext(ctx, "DETACH src")
	if err == nil {
		_, err = s.conn.ExecContext(ctx, "CHECKPOINT")
	}
	s.close()
	if err != nil {
		return fmt.Errorf("anonymize: finish target: %w", err)
	}
	return nil
}

// column is a source column.
type column struct {
	Name, Type string
}

// srcTable is a source table.
type srcTable struct {
	Schema, Name string
	Cols         []column
}

func (t *srcTable) key() string { return t.Schema + "." + t.Name }

func (t *srcTable) col(name string) *column {
	for i := range t.Cols {
		if t.Cols[i].Name == name {
			return &t.Cols[i]
		}
	}
	return nil
}

// readSchema lists the base tables of catalog (views and the hidden
// _dataops schema are left out).
func readSchema(ctx context.Context, conn *sql.Conn, catalog string) ([]*srcTable, error) {
	rows, err := conn.QueryContext(ctx, `SELECT c.schema_name, c.table_name, c.column_name, c.data_type
FROM duckdb_columns() c JOIN duckdb_tables() t USING (database_name, schema_name, table_name)
WHERE c.database_name = ? AND NOT starts_with(c.schema_name, '_dataops') AND NOT t.temporary
ORDER BY c.schema_name, c.table_name, c.column_index`, catalog)
	if err != nil {
		return nil, fmt.Errorf("anonymize: read source schema: %w", err)
	}
	defer rows.Close()
	var out []*srcTable
	for rows.Next() {
		var sch, tab, col, typ string
		if err := rows.Scan(&sch, &tab, &col, &typ); err != nil {
			return nil, fmt.Errorf("anonymize: read source schema: %w", err)
		}
		if len(out) == 0 || out[len(out)-1].Schema != sch || out[len(out)-1].Name != tab {
			out = append(out, &srcTable{Schema: sch, Name: tab})
		}
		t := out[len(out)-1]
		t.Cols = append(t.Cols, column{Name: col, Type: typ})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("anonymize: read source schema: %w", err)
	}
	return out, nil
}

func isText(typ string) bool { return typ == "VARCHAR" || strings.HasPrefix(typ, "VARCHAR(") }

func intBits(typ string) int {
	switch typ {
	case "TINYINT":
		return 8
	case "SMALLINT":
		return 16
	case "INTEGER":
		return 32
	case "BIGINT":
		return 64
	}
	return 0
}

func isNumeric(typ string) bool {
	switch typ {
	case "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "FLOAT", "DOUBLE":
		return true
	}
	return strings.HasPrefix(typ, "DECIMAL")
}

func isTemporal(typ string) bool {
	return typ == "DATE" || strings.HasPrefix(typ, "TIMESTAMP")
}

// leakCheckable reports whether a rule's outputs are high-entropy enough
// that finding an original value in the output means a leak, not chance.
func leakCheckable(k Kind) bool {
	switch k {
	case Pseudonymize, MaskEmail, MaskMobile, MaskPAN, MaskAadhaar, MaskGSTIN, MaskUPI, MaskCard, Null, Redact, SQL:
		return true
	}
	return false
}

// minLeakLen is the shortest original value the leak check searches for:
// shorter ones ("M", "12") match unrelated data by chance.
const minLeakLen = 6
