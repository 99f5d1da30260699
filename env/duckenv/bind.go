package duckenv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/vyaparbazaar/dataops/internal/sqlident"
	"github.com/vyaparbazaar/dataops/orchestrate"
	"github.com/vyaparbazaar/dataops/orchestrate/project"
)

// BindOptions configures Bind.
type BindOptions struct {
	// Nodes names the models and data tests to check; empty means every
	// model and data test of the project. The models, seeds and sources
	// they read from are created too (and their errors reported).
	Nodes []string
	// SourceDB is a DuckDB file holding the real source relations. When it
	// exists and no process holds it, it is opened read-only and the column
	// definitions of the sources it has are copied (no rows). A missing or
	// locked file is not an error: BindReport.Notes says so and declared
	// source columns are used instead. It must not be open read-write in
	// this process.
	SourceDB string
	// Sources, when set, is an open environment holding the real source
	// relations, used like SourceDB (its rows are never read).
	Sources *Env
	// Logger receives debug logs; nil discards them.
	Logger *slog.Logger
}

// BindSkip is a node Bind did not check, and why.
type BindSkip struct {
	// Kind is "model", "test", "seed" or "source"; Node its name.
	Kind, Node string
	// Path is the node's file.
	Path string
	// Reason says why, naming the upstream node that failed or whose
	// columns are unknown.
	Reason string
}

// String returns "path: kind node: skipped: reason".
func (s BindSkip) String() string {
	p := ""
	if s.Path != "" {
		p = s.Path + ": "
	}
	return p + s.Kind + " " + s.Node + ": skipped: " + s.Reason
}

// Column origins of a source in BindReport.Sources.
const (
	// SourceColumnsDatabase: copied from the source database.
	SourceColumnsDatabase = "database"
	// SourceColumnsDeclared: the property file's columns and data types.
	SourceColumnsDeclared = "declared"
	// SourceColumnsUnknown: neither; models reading it are skipped.
	SourceColumnsUnknown = "unknown"
)

// BindReport is the outcome of Bind.
type BindReport struct {
	// Checked counts the models, seeds, sources and tests that bound.
	Checked int
	// Errors are the nodes that failed to bind, in build order: *SQLError
	// values (file and line of the model, test or property file) or other
	// located errors (compile errors, unreadable seeds).
	Errors []error
	// Skipped are nodes not checked because something upstream failed or
	// has unknown columns.
	Skipped []BindSkip
	// Sources maps each source used ("source_name.table") to where its
	// columns came from: SourceColumnsDatabase, SourceColumnsDeclared or
	// SourceColumnsUnknown.
	Sources map[string]string
	// Notes are remarks for the user, such as a source database that was
	// locked or missing.
	Notes []string
}

// Err returns the binding errors joined, or nil when everything checked
// bound.
func (r *BindReport) Err() error { return errors.Join(r.Errors...) }

// Bind checks that every selected model and data test of p renders and
// binds, without data: in a fresh in-memory DuckDB it creates every source
// relation empty with its columns (copied from the source database when one
// is available, else the declared columns and data types), every seed empty
// with the columns and types of its CSV header and column_types, and then
// every model in dependency order as an empty table (CREATE TABLE ... AS
// (...) LIMIT 0; incremental models also bind their is_incremental()
// branch against it); each data test's query is bound too. DuckDB's parser
// and binder catch syntax errors, unknown tables and columns, and type
// errors, and each is reported at the line of the model's own file (see
// SQLError). Every failure is reported, not only the first; nodes
// downstream of a failure are skipped.
//
// The returned error is for failures of Bind itself (the in-memory
// database cannot be opened); binding failures are in BindReport.Errors.
func Bind(ctx context.Context, p *project.Project, opts BindOptions) (*BindReport, error) {
	mem, err := Open(ctx, Config{Name: "bind", Path: ":memory:", Threads: 1, Logger: opts.Logger})
	if err != nil {
		return nil, fmt.Errorf("bind: %w", err)
	}
	defer mem.Close()
	s, err := mem.session(ctx, "bind")
	if err != nil {
		return nil, fmt.Errorf("bind: %w", err)
	}
	defer s.close()

	b := &binder{p: p, s: s, env: mem, rep: &BindReport{Sources: map[string]string{}}, state: map[string]string{}}
	order, err := b.order(opts.Nodes)
	if err != nil {
		return nil, err
	}
	dbCols := b.sourceColumns(ctx, order, opts)
	if err := b.schemas(ctx, order); err != nil {
		return nil, fmt.Errorf("bind: %w", err)
	}
	for _, n := range order {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b.bindNode(ctx, n, dbCols)
	}
	return b.rep, nil
}

// binder holds the state of one Bind.
type binder struct {
	p   *project.Project
	s   *session
	env *Env
	rep *BindReport
	// state is "" for a node that bound, else the reason its dependents
	// are skipped.
	state map[string]string
}

// order returns the nodes to create, dependencies first: the selected
// models and tests and everything upstream of them (tests after the
// models).
func (b *binder) order(names []string) ([]*orchestrate.Node, error) {
	var roots []*orchestrate.Node
	if len(names) == 0 {
		for _, n := range b.p.Nodes() {
			if n.Kind == orchestrate.KindModel || n.Kind == orchestrate.KindTest {
				roots = append(roots, n)
			}
		}
	} else {
		for _, name := range names {
			n := b.p.Node(name)
			if n == nil {
				return nil, fmt.Errorf("bind: no node named %q", name)
			}
			roots = append(roots, n)
		}
	}
	var order, tests []*orchestrate.Node
	seen := map[string]bool{}
	var visit func(n *orchestrate.Node)
	visit = func(n *orchestrate.Node) {
		if seen[n.Name] {
			return
		}
		seen[n.Name] = true
		for _, d := range n.Deps {
			if dn := b.p.Node(d); dn != nil && dn.Kind != orchestrate.KindTest {
				visit(dn)
			}
		}
		if n.Kind == orchestrate.KindTest {
			tests = append(tests, n)
			return
		}
		order = append(order, n)
	}
	sort.SliceStable(roots, func(i, j int) bool { return roots[i].Name < roots[j].Name })
	for _, n := range roots {
		visit(n)
	}
	return append(order, tests...), nil
}

// schemas creates every schema the nodes live in.
func (b *binder) schemas(ctx context.Context, order []*orchestrate.Node) error {
	seen := map[string]bool{strings.ToLower(project.DefaultSchema): true}
	for _, n := range order {
		var rel project.Relation
		switch spec := n.Spec.(type) {
		case *project.Model:
			rel = spec.Relation()
		case *project.Seed:
			rel = spec.Relation()
		case *project.Source:
			rel = spec.Relation()
		default:
			continue
		}
		sch := schemaOf(rel)
		if seen[strings.ToLower(sch)] {
			continue
		}
		seen[strings.ToLower(sch)] = true
		if err := b.s.exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+sqlident.Quote(sch)); err != nil {
			return err
		}
	}
	return nil
}

// sourceColumns reads the column definitions of the sources in order from
// the source database, keyed by lower-case "schema.table". Failures to
// open it become notes.
func (b *binder) sourceColumns(ctx context.Context, order []*orchestrate.Node, opts BindOptions) map[string][]bindColumn {
	var want []project.Relation
	for _, n := range order {
		if src, ok := n.Spec.(*project.Source); ok && src != nil {
			want = append(want, src.Relation())
		}
	}
	if len(want) == 0 {
		return nil
	}
	e := opts.Sources
	if e == nil && opts.SourceDB != "" {
		if _, err := os.Stat(opts.SourceDB); err != nil {
			b.rep.Notes = append(b.rep.Notes, fmt.Sprintf("source database %s not found: source columns come from the property files only", opts.SourceDB))
			return nil
		}
		var err error
		e, err = Open(ctx, Config{Name: "bind-sources", Path: opts.SourceDB, ReadOnly: true, Threads: 1, Logger: opts.Logger})
		if err != nil {
			reason := "could not be opened"
			switch {
			case errors.Is(err, ErrLocked):
				reason = "is locked by another process"
			case errors.Is(err, ErrConfigConflict):
				reason = "is open in this process"
			}
			b.rep.Notes = append(b.rep.Notes, fmt.Sprintf("source database %s %s: source columns come from the property files only (%v)", opts.SourceDB, reason, err))
			return nil
		}
		defer e.Close()
	}
	if e == nil {
		return nil
	}
	cols, err := sourceDBColumns(ctx, e, want)
	if err != nil {
		b.rep.Notes = append(b.rep.Notes, fmt.Sprintf("reading source columns from the database failed: %v", err))
		return nil
	}
	return cols
}

// bindColumn is a column name and its DuckDB type.
type bindColumn struct {
	Name, Type string
}

// sourceDBColumns returns the columns of the relations that exist in e,
// keyed by lower-case "schema.name".
func sourceDBColumns(ctx context.Context, e *Env, rels []project.Relation) (map[string][]bindColumn, error) {
	want := map[string]bool{}
	for _, r := range rels {
		want[strings.ToLower(schemaOf(r)+"."+r.Name)] = true
	}
	rows, err := e.db.QueryContext(ctx, `SELECT lower(schema_name || '.' || table_name), column_name, data_type
FROM duckdb_columns() WHERE database_name = current_database() ORDER BY schema_name, table_name, column_index`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]bindColumn{}
	for rows.Next() {
		var key string
		var c bindColumn
		if err := rows.Scan(&key, &c.Name, &c.Type); err != nil {
			return nil, err
		}
		if want[key] {
			out[key] = append(out[key], c)
		}
	}
	return out, rows.Err()
}

// upstreamProblem returns the reason n must be skipped, or "".
func (b *binder) upstreamProblem(n *orchestrate.Node) string {
	for _, d := range n.Deps {
		if reason, ok := b.state[d]; ok && reason != "" {
			return reason
		}
	}
	return ""
}

func (b *binder) skip(n *orchestrate.Node, kind, reason string) {
	b.rep.Skipped = append(b.rep.Skipped, BindSkip{Kind: kind, Node: n.Name, Path: n.Path, Reason: reason})
	b.state[n.Name] = reason
}

func (b *binder) fail(n *orchestrate.Node, err error) {
	b.rep.Errors = append(b.rep.Errors, err)
	b.state[n.Name] = "upstream " + string(n.Kind) + " " + n.Name + " failed to bind"
}

func (b *binder) ok(n *orchestrate.Node) {
	b.rep.Checked++
	b.state[n.Name] = ""
}

func (b *binder) bindNode(ctx context.Context, n *orchestrate.Node, dbCols map[string][]bindColumn) {
	switch spec := n.Spec.(type) {
	case *project.Source:
		b.bindSource(ctx, n, spec, dbCols)
	case *project.Seed:
		b.bindSeed(ctx, n, spec)
	case *project.Model:
		b.bindModel(ctx, n, spec)
	case *project.DataTest:
		b.bindTest(ctx, n, spec)
	}
}

func (b *binder) bindSource(ctx context.Context, n *orchestrate.Node, src *project.Source, dbCols map[string][]bindColumn) {
	rel := src.Relation()
	loc := nodeLoc{kind: "source", node: n.Name, path: src.Path, line: src.Line}
	cols, fromDB := dbCols[strings.ToLower(schemaOf(rel)+"."+rel.Name)]
	origin := SourceColumnsDatabase
	if !fromDB {
		declared := len(src.Columns) > 0
		for _, c := range src.Columns {
			if strings.TrimSpace(c.Type) == "" {
				declared = false
				break
			}
			cols = append(cols, bindColumn{Name: c.Name, Type: c.Type})
		}
		if !declared {
			b.rep.Sources[n.Name] = SourceColumnsUnknown
			b.state[n.Name] = "source " + n.Name + " has no declared column types and no source database to copy them from"
			return
		}
		origin = SourceColumnsDeclared
	}
	b.rep.Sources[n.Name] = origin
	defs := make([]string, len(cols))
	for i, c := range cols {
		defs[i] = sqlident.Quote(c.Name) + " " + c.Type
	}
	if err := b.s.exec(ctx, "CREATE TABLE "+rel.Quoted()+" ("+strings.Join(defs, ", ")+")"); err != nil {
		b.fail(n, loc.sqlErr(err, nil))
		return
	}
	b.ok(n)
}

func (b *binder) bindSeed(ctx context.Context, n *orchestrate.Node, sd *project.Seed) {
	path := firstNonEmpty(sd.Path, n.Path, n.Name+".csv")
	loc := nodeLoc{kind: "seed", node: n.Name, path: path}
	delim := firstNonEmpty(sd.Delimiter, ",")
	header, err := csvHeader(sd.Data, delim)
	if err != nil {
		b.fail(n, loc.errorf(err, "read header: %v", err))
		return
	}
	opts, err := readCSVOptions(header, sd.ColumnTypes, delim)
	if err != nil {
		b.fail(n, loc.errorf(nil, "%v", err))
		return
	}
	// The seed's types are inferred from its rows as the runner does, so
	// the CSV is read; nothing is stored.
	dir := filepath.Join(b.env.tempDir, "seeds")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.fail(n, loc.errorf(err, "scratch file: %v", err))
		return
	}
	f, err := os.CreateTemp(dir, sanitize(n.Name)+"-*.csv")
	if err != nil {
		b.fail(n, loc.errorf(err, "scratch file: %v", err))
		return
	}
	scratch := f.Name()
	defer os.Remove(scratch)
	_, werr := f.Write(sd.Data)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		b.fail(n, loc.errorf(werr, "scratch file: %v", werr))
		return
	}
	loc.rewrite = func(msg string) string {
		msg = strings.ReplaceAll(msg, scratch, path)
		return strings.ReplaceAll(msg, filepath.Base(scratch), filepath.Base(path))
	}
	q := "CREATE TABLE " + sd.Relation().Quoted() + " AS SELECT * FROM read_csv(" + sqlident.Literal(scratch) + ", " + opts + ") LIMIT 0"
	if err := b.s.exec(ctx, q); err != nil {
		b.fail(n, loc.sqlErr(err, nil))
		return
	}
	b.ok(n)
}

func (b *binder) bindModel(ctx context.Context, n *orchestrate.Node, m *project.Model) {
	if reason := b.upstreamProblem(n); reason != "" {
		b.skip(n, "model", reason)
		return
	}
	loc := nodeLoc{kind: "model", node: n.Name, path: firstNonEmpty(m.Path, n.Path)}
	c, err := m.Compile(project.CompileState{})
	if err != nil {
		b.fail(n, loc.errorf(err, "compile: %v", err))
		return
	}
	if c.Path == "" {
		c.Path = loc.path
	}
	mat := strings.ToLower(strings.TrimSpace(m.Materialized))
	if mat == project.MaterializedEphemeral {
		// Inlined into its consumers; bound on its own so that an unused
		// ephemeral model is checked too.
		if err := b.s.exec(ctx, wrapSelect("SELECT * FROM", c.SQL)+" LIMIT 0"); err != nil {
			b.fail(n, loc.sqlErr(err, &c))
			return
		}
		b.ok(n)
		return
	}
	rel := m.Relation()
	if err := b.s.exec(ctx, wrapSelect("CREATE TABLE "+rel.Quoted()+" AS", c.SQL)+" LIMIT 0"); err != nil {
		b.fail(n, loc.sqlErr(err, &c))
		return
	}
	if mat == project.MaterializedIncremental {
		ci, err := m.Compile(project.CompileState{IsIncremental: true})
		if err != nil {
			b.fail(n, loc.errorf(err, "compile (is_incremental): %v", err))
			return
		}
		if ci.Path == "" {
			ci.Path = loc.path
		}
		if err := b.s.exec(ctx, wrapSelect("SELECT * FROM", ci.SQL)+" LIMIT 0"); err != nil {
			e := loc.sqlErr(err, &ci)
			if se, ok := e.(*SQLError); ok {
				se.Msg = "is_incremental() branch: " + se.Msg
			}
			b.fail(n, e)
			return
		}
	}
	b.ok(n)
}

func (b *binder) bindTest(ctx context.Context, n *orchestrate.Node, t *project.DataTest) {
	if reason := b.upstreamProblem(n); reason != "" {
		b.skip(n, "test", reason)
		return
	}
	loc := nodeLoc{kind: "test", node: n.Name, path: firstNonEmpty(t.Path, n.Path), line: t.Line}
	c, err := t.Compile(project.CompileState{})
	if err != nil {
		b.fail(n, loc.errorf(err, "compile: %v", err))
		return
	}
	if c.Path == "" {
		c.Path = loc.path
	}
	if err := b.s.exec(ctx, wrapSelect("SELECT count(*) FROM", c.SQL)); err != nil {
		b.fail(n, loc.sqlErr(err, &c))
		return
	}
	b.ok(n)
}
