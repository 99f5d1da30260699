package duckenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/vyaparbazaar/dataops/internal/sqlident"
	"github.com/vyaparbazaar/dataops/orchestrate"
	"github.com/vyaparbazaar/dataops/orchestrate/project"
	"github.com/vyaparbazaar/dataops/recovery"
)

// DefaultStoreFailuresSchema is the schema data tests store their failing
// rows in when RunnerOptions.StoreFailuresSchema is empty.
const DefaultStoreFailuresSchema = "dbt_test__audit"

// tempPrefix starts the name of every scratch table a build makes.
const tempPrefix = "__dataops_tmp_"

// ErrRelationNotFound is matched by the error a source node returns when its
// relation does not exist. It is classified recovery.ClassSourceMissing.
var ErrRelationNotFound error = &sentinelError{msg: "relation does not exist", class: recovery.ClassSourceMissing}

// RunnerOptions configures Env.Runner.
type RunnerOptions struct {
	// FullRefresh rebuilds incremental models from scratch.
	FullRefresh bool
	// StoreFailuresSchema is where data tests with store_failures keep
	// their failing rows; default "dbt_test__audit".
	StoreFailuresSchema string
	// TargetDir, when set, receives each node's compiled SELECT under
	// TargetDir/compiled/<path> and the statements that ran under
	// TargetDir/run/<path>.
	TargetDir string
	// ProjectDir resolves relative external_location paths of sources;
	// when empty they are relative to the working directory.
	ProjectDir string
	// Now is the clock source freshness is measured against; nil means
	// time.Now.
	Now func() time.Time

	// FreshnessWarnOnly turns source freshness errors into warnings (a
	// dev environment of sampled data is older than production's by
	// design).
	FreshnessWarnOnly bool
	// Unversioned builds tables in place, each swapped in by one
	// transaction when it is built: no versions, no tests before publish,
	// no snapshots. By default (false) the runner is write–audit–publish:
	// see Runner.Publish.
	Unversioned bool
	// RunID, Actor, Fingerprint and GitCommit are recorded with the
	// versions the runner builds and the snapshot it publishes (RunID
	// defaults to the run's ID; Actor to "dataops").
	RunID, Actor, Fingerprint, GitCommit string
}

// Runner returns an orchestrate.Runner that executes nodes whose Spec is a
// *project.Model, *project.Seed, *project.Source or *project.DataTest in
// this environment. Each node attempt uses its own connection; cancelling
// the attempt's context interrupts the running statement.
//
// Every error the runner returns implements recovery.Classified.
//
// A source node checks its relation and fails with a classified, located
// error naming what is wrong:
//
//   - *SourceMissingError (recovery.ClassSourceMissing): the relation, or
//     the external file, does not exist; errors.Is(err, ErrRelationNotFound)
//     holds for a missing relation.
//   - *SchemaChangeError (recovery.ClassSchemaChange): declared columns are
//     missing or have another type (types are compared normalized, so INT
//     matches INTEGER and TEXT matches VARCHAR). Undeclared columns are
//     fine and counted in the outcome's message.
//   - *StaleSourceError (recovery.ClassStaleSource): the relation has no
//     rows (unless meta allow_empty is true), or the newest loaded_at_field
//     value is older than freshness error_after. Older than warn_after only,
//     the node succeeds with Outcome.Warn set and a "warn: stale (...)"
//     message.
//   - *CorruptDataError (recovery.ClassCorruptData): more than
//     max_rejected_share of an external CSV source's rows are malformed.
//
// A source whose meta has external_location (a CSV or Parquet file or glob;
// meta format: csv or parquet overrides the extension, meta delimiter sets
// the CSV delimiter) is loaded from its files into its relation on every
// run, in one transaction that replaces the relation only when every check
// passes. Malformed CSV rows do not fail the load: they are stored, with
// file, line, column and error, in the table "<schema>"."<table>__rejects",
// and the load fails only when they are more than meta max_rejected_share
// of the rows (default DefaultMaxRejectedShare).
func (e *Env) Runner(opts RunnerOptions) *Runner {
	if opts.StoreFailuresSchema == "" {
		opts.StoreFailuresSchema = DefaultStoreFailuresSchema
	}
	if opts.Actor == "" {
		opts.Actor = "dataops"
	}
	return &Runner{env: e, opts: opts}
}

var _ orchestrate.Publisher = (*Runner)(nil)

// now returns the runner's current time.
func (r *Runner) now() time.Time {
	if r.opts.Now != nil {
		return r.opts.Now()
	}
	return time.Now()
}

// Runner executes orchestrate nodes in an Env; it is an orchestrate.Runner
// and, unless RunnerOptions.Unversioned, an orchestrate.Publisher. Use one
// Runner per run.
type Runner struct {
	env  *Env
	opts RunnerOptions
	// mu guards the versions staged in the current run.
	mu       sync.Mutex
	staged   map[string]*stagedVersion
	refPairs []string // public quoted relation, run relation, ...
	// schemas this runner has seen exist, and relations whose leftover
	// scratch tables it has cleaned (lower-case keys).
	schemas sync.Map
	cleaned sync.Map
}

// Run executes one attempt of n.
func (r *Runner) Run(ctx context.Context, n *orchestrate.Node) (orchestrate.Outcome, error) {
	if n == nil {
		return orchestrate.Outcome{}, &classifiedError{err: errors.New("duckenv: nil node"), class: recovery.ClassPermanent}
	}
	switch spec := n.Spec.(type) {
	case *project.Model:
		if spec != nil {
			return r.runModel(ctx, n, spec)
		}
	case *project.Seed:
		if spec != nil {
			return r.runSeed(ctx, n, spec)
		}
	case *project.Source:
		if spec != nil {
			return r.runSource(ctx, n, spec)
		}
	case *project.DataTest:
		if spec != nil {
			return r.runTest(ctx, n, spec)
		}
	}
	return orchestrate.Outcome{}, &classifiedError{err: fmt.Errorf("no runner for node %s (spec type %T)", n.Name, n.Spec), class: recovery.ClassPermanent}
}

// nodeLoc says where a node is defined, for errors.
type nodeLoc struct {
	kind, node, path string
	line             int
	// rewrite, when set, edits DuckDB's message (seed scratch paths).
	rewrite func(string) string
}

// sqlErr locates a failed statement; c is the compiled SELECT the statement
// wrapped with wrapSelect, or nil.
func (l nodeLoc) sqlErr(err error, c *project.Compiled) error {
	e := sqlError(err, l.kind, l.node, l.path, c)
	if se, ok := e.(*SQLError); ok {
		if se.Line == 0 && l.line > 0 && se.Path == l.path {
			se.Line = l.line
		}
		if l.rewrite != nil {
			se.Msg = l.rewrite(se.Msg)
		}
	}
	return e
}

// errorf makes a located error that is not a database error. It is
// classified as the error it wraps, or ClassPermanent when it wraps none.
func (l nodeLoc) errorf(wrapped error, format string, args ...any) error {
	msg := l.prefix() + fmt.Sprintf(format, args...)
	return &locatedError{msg: msg, err: wrapped}
}

func (l nodeLoc) prefix() string {
	var b strings.Builder
	if l.path != "" {
		b.WriteString(l.path)
		if l.line > 0 {
			fmt.Fprintf(&b, ":%d", l.line)
		}
		b.WriteString(": ")
	}
	b.WriteString(l.kind)
	b.WriteByte(' ')
	b.WriteString(l.node)
	b.WriteString(": ")
	return b.String()
}

type locatedError struct {
	msg string
	err error
	// class, when set, overrides the class of err.
	class recovery.Class
}

func (e *locatedError) Error() string { return e.msg }
func (e *locatedError) Unwrap() error { return e.err }

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// ---- models -------------------------------------------------------------

func (r *Runner) runModel(ctx context.Context, n *orchestrate.Node, m *project.Model) (orchestrate.Outcome, error) {
	name := firstNonEmpty(m.Name, n.Name)
	loc := nodeLoc{kind: "model", node: name, path: firstNonEmpty(m.Path, n.Path)}
	mat := strings.ToLower(strings.TrimSpace(m.Materialized))
	if mat == "" {
		mat = project.MaterializedView
	}
	rel := m.Relation()
	if rel.Name == "" {
		rel.Name = name
	}
	switch mat {
	case project.MaterializedEphemeral:
		return orchestrate.Outcome{RowsAffected: -1, Message: "ephemeral (inlined)"}, nil
	case project.MaterializedView, project.MaterializedTable, project.MaterializedIncremental:
	default:
		return orchestrate.Outcome{}, loc.errorf(nil, "unknown materialization %q (want view, table, incremental or ephemeral)", mat)
	}

	s, err := r.env.session(ctx, name)
	if err != nil {
		return orchestrate.Outcome{}, err
	}
	defer s.close()
	targetPath := targetFile(loc.path, name)
	defer r.writeTarget("run", targetPath, s)

	compile := func(st project.CompileState) (project.Compiled, error) {
		c, err := m.Compile(st)
		if err != nil {
			return c, loc.errorf(err, "compile: %v", err)
		}
		if c.Path == "" {
			c.Path = loc.path
		}
		if err := r.writeFile("compiled", targetPath, trimSelect(c.SQL)+"\n"); err != nil {
			return c, loc.errorf(err, "%v", err)
		}
		return c, nil
	}

	switch mat {
	case project.MaterializedView:
		c, err := compile(project.CompileState{})
		if err != nil {
			return orchestrate.Outcome{}, err
		}
		if !r.opts.Unversioned {
			if err := r.stageView(ctx, s, name, rel, c.SQL, r.resolve(c.SQL), loc, &c); err != nil {
				return orchestrate.Outcome{}, err
			}
			return orchestrate.Outcome{RowsAffected: -1, Message: "CREATE VIEW", Relation: rel.String(), CompiledSQL: c.SQL}, nil
		}
		if err := r.ensureSchema(ctx, s, rel.Schema); err != nil {
			return orchestrate.Outcome{}, loc.sqlErr(err, nil)
		}
		err = s.tx(ctx, func() error {
			return r.publish(ctx, s, rel, publication{mode: publishView, viewSQL: c.SQL})
		})
		if err != nil {
			return orchestrate.Outcome{}, loc.sqlErr(err, &c)
		}
		return orchestrate.Outcome{RowsAffected: -1, Message: "CREATE VIEW", Relation: rel.String(), CompiledSQL: c.SQL}, nil

	}
	// A full build: tables, and incremental models on their first run or a
	// full refresh.
	fullBuild := func() (orchestrate.Outcome, error) {
		c, err := compile(project.CompileState{})
		if err != nil {
			return orchestrate.Outcome{}, err
		}
		var rows int64
		if r.opts.Unversioned {
			rows, err = r.buildSwap(ctx, s, rel, c.SQL, loc, &c)
		} else {
			rows, err = r.stageTable(ctx, s, name, project.MaterializedTable, rel, r.resolve(c.SQL), loc, &c)
		}
		if err != nil {
			return orchestrate.Outcome{}, err
		}
		return orchestrate.Outcome{RowsAffected: rows, Message: fmt.Sprintf("SELECT %d", rows), Relation: rel.String(), CompiledSQL: c.SQL}, nil
	}
	if mat == project.MaterializedTable {
		return fullBuild()
	}

	// Incremental.
	if !r.opts.Unversioned {
		strategy := strings.ToLower(strings.TrimSpace(m.IncrementalStrategy))
		mode := publishAppend
		var modeErr error
		switch strategy {
		case "":
			if len(m.UniqueKey) > 0 {
				mode = publishDeleteInsert
			}
		case project.StrategyAppend:
		case project.StrategyDeleteInsert:
			if len(m.UniqueKey) == 0 {
				// Only an incremental build needs the key.
				modeErr = loc.errorf(nil, "incremental_strategy delete+insert needs a unique_key")
			}
			mode = publishDeleteInsert
		case project.StrategyMerge:
			if len(m.UniqueKey) > 0 {
				mode = publishMerge
			}
		default:
			return orchestrate.Outcome{}, loc.errorf(nil, "unknown incremental_strategy %q (want append, delete+insert or merge)", strategy)
		}
		return r.stageIncremental(ctx, s, name, m, rel, loc, compile, mode, modeErr)
	}
	typ, err := relationType(ctx, s, rel)
	if err != nil {
		return orchestrate.Outcome{}, loc.sqlErr(err, nil)
	}
	if r.opts.FullRefresh || typ != relTable {
		return fullBuild()
	}

	p := publication{uniqueKey: m.UniqueKey}
	strategy := strings.ToLower(strings.TrimSpace(m.IncrementalStrategy))
	if strategy == "" {
		strategy = project.StrategyAppend
		if len(m.UniqueKey) > 0 {
			strategy = project.StrategyDeleteInsert
		}
	}
	switch strategy {
	case project.StrategyAppend:
		p.mode = publishAppend
	case project.StrategyDeleteInsert:
		if len(m.UniqueKey) == 0 {
			return orchestrate.Outcome{}, loc.errorf(nil, "incremental_strategy delete+insert needs a unique_key")
		}
		p.mode = publishDeleteInsert
	case project.StrategyMerge:
		p.mode = publishMerge
		if len(m.UniqueKey) == 0 {
			p.mode = publishAppend
		}
	default:
		return orchestrate.Outcome{}, loc.errorf(nil, "unknown incremental_strategy %q (want append, delete+insert or merge)", strategy)
	}

	c, err := compile(project.CompileState{IsIncremental: true})
	if err != nil {
		return orchestrate.Outcome{}, err
	}
	if err := r.cleanupTemps(ctx, s, rel); err != nil {
		return orchestrate.Outcome{}, loc.sqlErr(err, nil)
	}
	// New rows go to a scratch table and are applied in the same
	// transaction, so a failure leaves neither the scratch table nor a
	// partial insert behind.
	tmp := tempRelation(rel)
	p.build = tmp
	var rows int64
	var buildErr error
	err = s.tx(ctx, func() error {
		if err := s.exec(ctx, wrapSelect("CREATE TABLE "+tmp.Quoted()+" AS", c.SQL)); err != nil {
			buildErr = err
			return err
		}
		var err error
		if rows, err = s.queryInt(ctx, "SELECT count(*) FROM "+tmp.Quoted()); err != nil {
			return err
		}
		if err := r.publish(ctx, s, rel, p); err != nil {
			return err
		}
		return s.exec(ctx, "DROP TABLE "+tmp.Quoted())
	})
	if err != nil {
		s.dropQuiet(tmp.Quoted())
		if buildErr != nil {
			return orchestrate.Outcome{}, loc.sqlErr(err, &c)
		}
		return orchestrate.Outcome{}, loc.sqlErr(err, nil)
	}
	return orchestrate.Outcome{RowsAffected: rows, Message: fmt.Sprintf("INSERT %d", rows), Relation: rel.String(), CompiledSQL: c.SQL}, nil
}

// buildSwap builds sel into a scratch table next to rel and, in one
// transaction, replaces rel with it. When anything fails the scratch table
// is dropped and rel is untouched. c, when set, maps build errors to lines.
func (r *Runner) buildSwap(ctx context.Context, s *session, rel project.Relation, sel string, loc nodeLoc, c *project.Compiled) (int64, error) {
	if err := r.ensureSchema(ctx, s, rel.Schema); err != nil {
		return 0, loc.sqlErr(err, nil)
	}
	if err := r.cleanupTemps(ctx, s, rel); err != nil {
		return 0, loc.sqlErr(err, nil)
	}
	// The scratch table is created, counted and swapped in within one
	// transaction: other connections never see it, a failure or a killed
	// process leaves nothing behind, and the build costs one commit.
	tmp := tempRelation(rel)
	var rows int64
	var buildErr error
	err := s.tx(ctx, func() error {
		if err := s.exec(ctx, wrapSelect("CREATE TABLE "+tmp.Quoted()+" AS", sel)); err != nil {
			buildErr = err
			return err
		}
		var err error
		if rows, err = s.queryInt(ctx, "SELECT count(*) FROM "+tmp.Quoted()); err != nil {
			return err
		}
		return r.publish(ctx, s, rel, publication{mode: publishTable, build: tmp})
	})
	if err != nil {
		s.dropQuiet(tmp.Quoted())
		if buildErr != nil {
			return 0, loc.sqlErr(err, c)
		}
		return 0, loc.sqlErr(err, nil)
	}
	return rows, nil
}

// ---- publish ------------------------------------------------------------

type publishMode int

const (
	// publishTable replaces the relation with the built table.
	publishTable publishMode = iota
	// publishView replaces the relation with a view of viewSQL.
	publishView
	// publishAppend inserts the built rows.
	publishAppend
	// publishDeleteInsert deletes rows whose unique key is among the built
	// rows, then inserts the built rows.
	publishDeleteInsert
	// publishMerge updates rows whose unique key matches and inserts the
	// others.
	publishMerge
)

// publication is what publish makes visible.
type publication struct {
	mode publishMode
	// build is the scratch table holding the new rows (all modes but view).
	build project.Relation
	// viewSQL is the SELECT of a view.
	viewSQL string
	// uniqueKey are the key columns of delete+insert and merge.
	uniqueKey []string
}

// publish is the one place where the relation a model or seed builds is
// written. It runs inside the caller's open transaction on s; columns are
// matched by name.
func (r *Runner) publish(ctx context.Context, s *session, rel project.Relation, p publication) error {
	if !s.inTx {
		return errors.New("duckenv: publish outside a transaction")
	}
	target := rel.Quoted()
	switch p.mode {
	case publishTable, publishView:
		typ, err := relationType(ctx, s, rel)
		if err != nil {
			return err
		}
		switch {
		case typ == relView && p.mode == publishTable:
			if err := s.exec(ctx, "DROP VIEW "+target); err != nil {
				return err
			}
		case typ == relTable:
			if err := s.exec(ctx, "DROP TABLE "+target); err != nil {
				return err
			}
		}
		if p.mode == publishView {
			return s.exec(ctx, wrapSelect("CREATE OR REPLACE VIEW "+target+" AS", p.viewSQL))
		}
		return s.exec(ctx, "ALTER TABLE "+p.build.Quoted()+" RENAME TO "+sqlident.Quote(rel.Name))
	case publishAppend:
		return s.exec(ctx, "INSERT INTO "+target+" BY NAME SELECT * FROM "+p.build.Quoted())
	case publishDeleteInsert:
		if err := s.exec(ctx, "DELETE FROM "+target+" AS __dataops_target WHERE EXISTS (SELECT 1 FROM "+
			p.build.Quoted()+" AS __dataops_new WHERE "+keyMatch(p.uniqueKey)+")"); err != nil {
			return err
		}
		return s.exec(ctx, "INSERT INTO "+target+" BY NAME SELECT * FROM "+p.build.Quoted())
	case publishMerge:
		return s.exec(ctx, "MERGE INTO "+target+" AS __dataops_target USING "+p.build.Quoted()+
			" AS __dataops_new ON ("+keyMatch(p.uniqueKey)+
			") WHEN MATCHED THEN UPDATE BY NAME WHEN NOT MATCHED THEN INSERT BY NAME")
	}
	return fmt.Errorf("duckenv: unknown publish mode %d", p.mode)
}

func keyMatch(keys []string) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		q := sqlident.Quote(k)
		parts[i] = "__dataops_new." + q + " = __dataops_target." + q
	}
	return strings.Join(parts, " AND ")
}

// ---- relation helpers ---------------------------------------------------

const (
	relTable = "table"
	relView  = "view"
)

func schemaOf(rel project.Relation) string {
	if rel.Schema == "" {
		return project.DefaultSchema
	}
	return rel.Schema
}

// relationType returns relTable, relView, or "" when rel does not exist in
// the current database. (duckdb_tables() and duckdb_views() are about twice
// as fast as information_schema.tables.)
func relationType(ctx context.Context, s *session, rel project.Relation) (string, error) {
	schema := schemaOf(rel)
	rows, err := s.conn.QueryContext(ctx, `SELECT 'table' FROM duckdb_tables()
WHERE database_name = current_database() AND lower(schema_name) = lower(?) AND lower(table_name) = lower(?)
UNION ALL
SELECT 'view' FROM duckdb_views()
WHERE database_name = current_database() AND NOT internal AND lower(schema_name) = lower(?) AND lower(view_name) = lower(?)`,
		schema, rel.Name, schema, rel.Name)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	typ := ""
	for rows.Next() {
		if err := rows.Scan(&typ); err != nil {
			return "", err
		}
	}
	return typ, rows.Err()
}

// relationTypes maps "schema.name" (lower case) of every relation and
// schema of the current database to relTable, relView or "" (a schema).
func relationTypes(ctx context.Context, s *session) (map[string]string, error) {
	rows, err := s.conn.QueryContext(ctx, `SELECT lower(schema_name || '.' || table_name), 'table' FROM duckdb_tables() WHERE database_name = current_database()
UNION ALL
SELECT lower(schema_name || '.' || view_name), 'view' FROM duckdb_views() WHERE database_name = current_database() AND NOT internal`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, rows.Err()
}

// ensureSchema creates schema if it does not exist yet.
func (r *Runner) ensureSchema(ctx context.Context, s *session, schema string) error {
	if schema == "" || strings.EqualFold(schema, project.DefaultSchema) {
		return nil
	}
	key := strings.ToLower(schema)
	if _, ok := r.schemas.Load(key); ok {
		return nil // already checked by this runner
	}
	r.env.schemaMu.Lock()
	defer r.env.schemaMu.Unlock()
	n, err := s.queryInt(ctx, `SELECT count(*) FROM information_schema.schemata
WHERE catalog_name = current_database() AND lower(schema_name) = lower(?)`, schema)
	if err != nil {
		return err
	}
	var catalog string
	if err := s.conn.QueryRowContext(ctx, "SELECT current_database()").Scan(&catalog); err != nil {
		return err
	}
	if strings.EqualFold(catalog, schema) {
		// DuckDB names the catalog after the file: "staging"."x" would be
		// ambiguous between the catalog and the schema.
		return fmt.Errorf("the database file %s gives DuckDB the catalog name %q, the same as schema %q: references to it would be ambiguous; rename the file (e.g. %s_env.duckdb)",
			filepath.Base(r.env.path), catalog, schema, catalog)
	}
	if n == 0 {
		if err := s.exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+sqlident.Quote(schema)); err != nil {
			return err
		}
	}
	r.schemas.Store(key, true)
	return nil
}

// tempRelation returns a fresh scratch relation next to rel.
func tempRelation(rel project.Relation) project.Relation {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return project.Relation{Schema: rel.Schema, Name: tempPrefix + rel.Name + "_" + hex.EncodeToString(b[:])}
}

// cleanupTemps drops scratch tables that an interrupted build of rel left
// behind (exactly tempPrefix + name + "_" + 8 hex digits, so the scratch
// tables of other relations are never touched).
//
// Builds create their scratch tables inside the transaction that publishes
// them, so only a process of an older version can have left one behind;
// the check runs once per relation and runner.
func (r *Runner) cleanupTemps(ctx context.Context, s *session, rel project.Relation) error {
	key := strings.ToLower(schemaOf(rel) + "." + rel.Name)
	if _, done := r.cleaned.LoadOrStore(key, true); done {
		return nil
	}
	prefix := strings.ToLower(tempPrefix + rel.Name + "_")
	rows, err := s.conn.QueryContext(ctx, `SELECT table_name FROM information_schema.tables
WHERE table_catalog = current_database() AND lower(table_schema) = lower(?) AND starts_with(lower(table_name), ?)`,
		schemaOf(rel), prefix)
	if err != nil {
		return err
	}
	var stale []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return err
		}
		if isHex8(strings.ToLower(name)[len(prefix):]) {
			stale = append(stale, name)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, name := range stale {
		q := project.Relation{Schema: rel.Schema, Name: name}.Quoted()
		r.env.log.Info("dropping leftover scratch table", "env", r.env.name, "table", q)
		if err := s.exec(ctx, "DROP TABLE IF EXISTS "+q); err != nil {
			return err
		}
	}
	return nil
}

func isHex8(s string) bool {
	if len(s) != 8 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// ---- target files -------------------------------------------------------

// targetFile is the project-relative file a node's SQL is written to: the
// node's .sql file, <file>/<name>.sql for nodes declared in another kind of
// file (tests in property files), or <name>.sql without a file.
func targetFile(path, name string) string {
	p := filepath.FromSlash(path)
	if p == "" || !filepath.IsLocal(p) {
		return sanitize(name) + ".sql"
	}
	if filepath.Ext(p) != ".sql" {
		return filepath.Join(p, sanitize(name)+".sql")
	}
	return p
}

// writeFile writes content to TargetDir/sub/rel when TargetDir is set.
func (r *Runner) writeFile(sub, rel, content string) error {
	if r.opts.TargetDir == "" {
		return nil
	}
	full := filepath.Join(r.opts.TargetDir, sub, rel)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return fmt.Errorf("write %s SQL: %w", sub, err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		return fmt.Errorf("write %s SQL: %w", sub, err)
	}
	return nil
}

// writeTarget writes the statements s ran to TargetDir/run (best effort:
// the node's own outcome matters more than the record of it).
func (r *Runner) writeTarget(sub, rel string, s *session) {
	sqlText := s.runSQL()
	if sqlText == "" {
		return
	}
	if err := r.writeFile(sub, rel, sqlText); err != nil {
		r.env.log.Warn("could not write run SQL", "env", r.env.name, "node", s.node, "error", err)
	}
}
