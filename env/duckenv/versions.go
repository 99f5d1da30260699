package duckenv

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vyaparbazaar/dataops/internal/sqlident"
	"github.com/vyaparbazaar/dataops/orchestrate"
	"github.com/vyaparbazaar/dataops/orchestrate/project"
	"github.com/vyaparbazaar/dataops/recovery"
	"github.com/vyaparbazaar/dataops/snapshot"
)

// Write–audit–publish.
//
// Every build of a table, seed or incremental model writes a new physical
// version in the hidden schema VersionsSchema; a view model's version is
// its SQL. Data tests of the run read the new versions (ref() of a model
// staged in the run resolves to its version), and only at the end of the
// run does Runner.Publish re-point the relations readers query — views in
// the models' schemas — at the new versions, all in one transaction that
// also records a snapshot. A model that failed, or failed a test, is not
// published and its readers keep the previous version.
//
// Incremental models keep one physical "lineage" table per full build,
// with two hidden columns: the version that inserted a row and the version
// that deleted it. Version K of the model is the rows inserted at or
// before K and not deleted at or before K, so a new version costs only its
// new rows, and rolling back is re-pointing a view at an older K. The next
// build after a rollback (or after a withheld version) first purges the
// rows of versions newer than the published one.

// VersionsSchema is the hidden schema holding the physical versions of
// models.
const VersionsSchema = "_dataops_versions"

// Hidden columns of incremental lineage tables.
const (
	insCol = "_dataops_ins"
	delCol = "_dataops_del"
)

const (
	versionsTable       = `"` + HistorySchema + `"."versions"`
	snapshotsTable      = `"` + HistorySchema + `"."snapshots"`
	snapshotModelsTable = `"` + HistorySchema + `"."snapshot_models"`
	versionIDs          = `"` + HistorySchema + `"."version_ids"`
	snapshotIDs         = `"` + HistorySchema + `"."snapshot_ids"`
)

// Version states in the catalog.
const (
	stateStaged    = "staged"    // built, not (yet) in a snapshot
	statePublished = "published" // in at least one snapshot
	stateCollected = "collected" // its data was dropped by the janitor or purged
)

// ensureVersions creates the version and snapshot catalog on first use.
func (e *Env) ensureVersions(ctx context.Context) error {
	e.versionsOnce.Lock()
	defer e.versionsOnce.Unlock()
	if e.versionsReady {
		return nil
	}
	if err := e.ensureHistory(ctx); err != nil {
		return err
	}
	stmts := []string{
		"CREATE SCHEMA IF NOT EXISTS " + sqlident.Quote(VersionsSchema),
		"CREATE SEQUENCE IF NOT EXISTS " + versionIDs,
		"CREATE SEQUENCE IF NOT EXISTS " + snapshotIDs,
		`CREATE TABLE IF NOT EXISTS ` + versionsTable + ` (
	id BIGINT NOT NULL, model VARCHAR NOT NULL, rel_schema VARCHAR NOT NULL, rel_name VARCHAR NOT NULL,
	materialized VARCHAR NOT NULL, physical VARCHAR, lineage VARCHAR, select_sql VARCHAR NOT NULL,
	run_view VARCHAR, run_id VARCHAR, built_at TIMESTAMPTZ NOT NULL, rows BIGINT NOT NULL,
	state VARCHAR NOT NULL, collected_at TIMESTAMPTZ)`,
		`CREATE TABLE IF NOT EXISTS ` + snapshotsTable + ` (
	id BIGINT NOT NULL, created_at TIMESTAMPTZ NOT NULL, environment VARCHAR, kind VARCHAR NOT NULL,
	run_id VARCHAR, fingerprint VARCHAR, git_commit VARCHAR, actor VARCHAR, note VARCHAR, restored_from BIGINT)`,
		`CREATE TABLE IF NOT EXISTS ` + snapshotModelsTable + ` (snapshot_id BIGINT NOT NULL, model VARCHAR NOT NULL, version_id BIGINT NOT NULL)`,
	}
	for _, q := range stmts {
		if _, err := e.db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("create version catalog: %w", err)
		}
	}
	e.versionsReady = true
	return nil
}

// versionRow is a version as the catalog holds it.
type versionRow struct {
	snapshot.Version
	schema, name string // the public relation
	lineage      string // quoted lineage table (incremental)
	selectSQL    string // what the public view selects
	runView      string // quoted view the run's refs read (view, incremental)
	state        string
	collectedAt  time.Time
}

func (v *versionRow) public() project.Relation {
	return project.Relation{Schema: v.schema, Name: v.name}
}

const versionCols = `v.id, v.model, v.rel_schema, v.rel_name, v.materialized, coalesce(v.physical, ''), coalesce(v.lineage, ''),
v.select_sql, coalesce(v.run_view, ''), coalesce(v.run_id, ''), v.built_at, v.rows, v.state, v.collected_at`

type scanner interface{ Scan(...any) error }

func scanVersion(sc scanner) (*versionRow, error) {
	v := &versionRow{}
	var collected sql.NullTime
	if err := sc.Scan(&v.ID, &v.Model, &v.schema, &v.name, &v.Materialized, &v.Physical, &v.lineage,
		&v.selectSQL, &v.runView, &v.RunID, &v.BuiltAt, &v.Rows, &v.state, &collected); err != nil {
		return nil, err
	}
	v.Relation = v.public().Quoted()
	if collected.Valid {
		v.collectedAt = collected.Time
	}
	return v, nil
}

// querier is a *sql.DB, *sql.Conn or *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// currentVersions returns the latest snapshot's id (0 when there is none)
// and its models' versions.
func currentVersions(ctx context.Context, q querier) (int64, map[string]*versionRow, error) {
	var id sql.NullInt64
	if err := q.QueryRowContext(ctx, "SELECT max(id) FROM "+snapshotsTable).Scan(&id); err != nil {
		return 0, nil, err
	}
	if !id.Valid {
		return 0, map[string]*versionRow{}, nil
	}
	vs, err := snapshotVersions(ctx, q, id.Int64)
	return id.Int64, vs, err
}

// snapshotVersions returns the versions a snapshot maps its models to.
func snapshotVersions(ctx context.Context, q querier, id int64) (map[string]*versionRow, error) {
	rows, err := q.QueryContext(ctx, `SELECT sm.model, `+versionCols+` FROM `+snapshotModelsTable+` sm
JOIN `+versionsTable+` v ON v.id = sm.version_id WHERE sm.snapshot_id = ?`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]*versionRow{}
	for rows.Next() {
		var model string
		v := &versionRow{}
		var collected sql.NullTime
		if err := rows.Scan(&model, &v.ID, &v.Model, &v.schema, &v.name, &v.Materialized, &v.Physical, &v.lineage,
			&v.selectSQL, &v.runView, &v.RunID, &v.BuiltAt, &v.Rows, &v.state, &collected); err != nil {
			return nil, err
		}
		v.Relation = v.public().Quoted()
		if collected.Valid {
			v.collectedAt = collected.Time
		}
		out[model] = v
	}
	return out, rows.Err()
}

// publishedVersion returns the version of model readers see now.
func (e *Env) publishedVersion(ctx context.Context, q querier, model string) (*versionRow, bool, error) {
	row := q.QueryRowContext(ctx, `SELECT `+versionCols+` FROM `+snapshotModelsTable+` sm
JOIN `+versionsTable+` v ON v.id = sm.version_id
WHERE sm.snapshot_id = (SELECT max(id) FROM `+snapshotsTable+`) AND sm.model = ?`, model)
	v, err := scanVersion(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return v, true, nil
}

// ---- staging (the runner's side) ------------------------------------------

// stagedVersion is a version built by a runner and not yet published.
type stagedVersion struct {
	row  *versionRow
	node string
}

// hiddenName is the name of a version object: <schema>__<name>__<tag><id>.
func hiddenName(rel project.Relation, tag string, id int64) project.Relation {
	return project.Relation{Schema: VersionsSchema, Name: schemaOf(rel) + "__" + rel.Name + "__" + tag + strconv.FormatInt(id, 10)}
}

// resolve rewrites refs to models staged by this runner (this run) to their
// new versions, so that downstream models and tests read what the run
// built rather than what readers see.
func (r *Runner) resolve(sqlText string) string {
	r.mu.Lock()
	pairs := r.refPairs
	r.mu.Unlock()
	if len(pairs) == 0 {
		return sqlText
	}
	return strings.NewReplacer(pairs...).Replace(sqlText)
}

// stage remembers a version built in this run (after its transaction
// committed).
func (r *Runner) stage(node string, v *versionRow, runRel string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.staged == nil {
		r.staged = map[string]*stagedVersion{}
	}
	if old, ok := r.staged[node]; ok {
		r.env.unstage(old.row.ID)
	}
	r.staged[node] = &stagedVersion{row: v, node: node}
	r.refPairs = append(r.refPairs, v.Relation, runRel)
	r.env.markStaged(v.ID)
}

func (e *Env) markStaged(id int64) {
	e.stagedMu.Lock()
	defer e.stagedMu.Unlock()
	if e.activeVersions == nil {
		e.activeVersions = map[int64]bool{}
	}
	e.activeVersions[id] = true
}

func (e *Env) unstage(id int64) {
	e.stagedMu.Lock()
	defer e.stagedMu.Unlock()
	delete(e.activeVersions, id)
}

func (e *Env) active() map[int64]bool {
	e.stagedMu.Lock()
	defer e.stagedMu.Unlock()
	out := make(map[int64]bool, len(e.activeVersions))
	for id := range e.activeVersions {
		out[id] = true
	}
	return out
}

// lockLineage gives one runner at a time the right to add a version to an
// incremental model's lineage table until it publishes.
func (e *Env) lockLineage(lineage string, r *Runner) bool {
	e.stagedMu.Lock()
	defer e.stagedMu.Unlock()
	if e.lineageOwner == nil {
		e.lineageOwner = map[string]*Runner{}
	}
	if owner, ok := e.lineageOwner[lineage]; ok && owner != r {
		return false
	}
	e.lineageOwner[lineage] = r
	return true
}

func (e *Env) unlockLineages(r *Runner) {
	e.stagedMu.Lock()
	defer e.stagedMu.Unlock()
	for l, owner := range e.lineageOwner {
		if owner == r {
			delete(e.lineageOwner, l)
		}
	}
}

// nextID allocates a version id.
func nextID(ctx context.Context, s *session, seq string) (int64, error) {
	return s.queryInt(ctx, "SELECT nextval('"+strings.ReplaceAll(seq, "'", "''")+"')")
}

// insertVersions adds published versions to the catalog in one statement.
func insertVersions(ctx context.Context, s *session, vs []*versionRow) error {
	if len(vs) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString(`INSERT INTO ` + versionsTable + `
(id, model, rel_schema, rel_name, materialized, physical, lineage, select_sql, run_id, built_at, rows, state) VALUES `)
	args := make([]any, 0, 12*len(vs))
	for i, v := range vs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, ?, ?, NULLIF(?, ''), NULLIF(?, ''), ?, NULLIF(?, ''), ?, ?, ?)")
		args = append(args, v.ID, v.Model, schemaOf(v.public()), v.name, v.Materialized, v.Physical, v.lineage, v.selectSQL, v.RunID, v.BuiltAt.UTC(), v.Rows, statePublished)
	}
	return s.exec(ctx, b.String(), args...)
}

// stageTable builds sel into a new physical version of rel (a table or
// seed), in one transaction with its catalog row.
func (r *Runner) stageTable(ctx context.Context, s *session, node, mat string, rel project.Relation, sel string, loc nodeLoc, c *project.Compiled) (int64, error) {
	if err := r.env.ensureVersions(ctx); err != nil {
		return 0, loc.errorf(err, "%v", err)
	}
	if err := r.ensureSchema(ctx, s, rel.Schema); err != nil {
		return 0, loc.sqlErr(err, nil)
	}
	if err := r.cleanupTemps(ctx, s, rel); err != nil {
		return 0, loc.sqlErr(err, nil)
	}
	// Ids come from a sequence outside the build's transaction: a
	// transaction that used nextval would hold the sequence until it
	// commits and serialize concurrent builds.
	id, err := nextID(ctx, s, versionIDs)
	if err != nil {
		return 0, loc.sqlErr(err, nil)
	}
	var v *versionRow
	var buildErr error
	err = s.tx(ctx, func() error {
		phys := hiddenName(rel, "v", id)
		if err := s.exec(ctx, wrapSelect("CREATE TABLE "+phys.Quoted()+" AS", sel)); err != nil {
			buildErr = err
			return err
		}
		rows, err := s.queryInt(ctx, "SELECT count(*) FROM "+phys.Quoted())
		if err != nil {
			return err
		}
		v = &versionRow{
			Version: snapshot.Version{ID: id, Model: node, Relation: rel.Quoted(), Materialized: mat,
				Physical: phys.Quoted(), RunID: r.opts.RunID, BuiltAt: r.env.clock(), Rows: rows},
			schema: schemaOf(rel), name: rel.Name, selectSQL: "SELECT * FROM " + phys.Quoted(),
		}
		return nil
	})
	if err != nil {
		if buildErr != nil {
			return 0, loc.sqlErr(err, c)
		}
		return 0, loc.sqlErr(err, nil)
	}
	r.stage(node, v, v.Physical)
	return v.Rows, nil
}

// stageView stages a view model: readers' view selects publicSQL (refs to
// the relations readers see), the run's refs read a hidden view of runSQL.
func (r *Runner) stageView(ctx context.Context, s *session, node string, rel project.Relation, publicSQL, runSQL string, loc nodeLoc, c *project.Compiled) error {
	if err := r.env.ensureVersions(ctx); err != nil {
		return loc.errorf(err, "%v", err)
	}
	if err := r.ensureSchema(ctx, s, rel.Schema); err != nil {
		return loc.sqlErr(err, nil)
	}
	id, err := nextID(ctx, s, versionIDs)
	if err != nil {
		return loc.sqlErr(err, nil)
	}
	var v *versionRow
	var buildErr error
	err = s.tx(ctx, func() error {
		rv := hiddenName(rel, "r", id)
		if err := s.exec(ctx, wrapSelect("CREATE VIEW "+rv.Quoted()+" AS", runSQL)); err != nil {
			buildErr = err
			return err
		}
		v = &versionRow{
			Version: snapshot.Version{ID: id, Model: node, Relation: rel.Quoted(), Materialized: project.MaterializedView,
				RunID: r.opts.RunID, BuiltAt: r.env.clock(), Rows: -1},
			schema: schemaOf(rel), name: rel.Name, selectSQL: trimSelect(publicSQL), runView: rv.Quoted(),
		}
		return nil
	})
	if err != nil {
		if buildErr != nil {
			return loc.sqlErr(err, c)
		}
		return loc.sqlErr(err, nil)
	}
	r.stage(node, v, v.runView)
	return nil
}

// incrementalSelect is the SELECT of version id of a lineage table.
func incrementalSelect(lineage string, id int64) string {
	n := strconv.FormatInt(id, 10)
	return "SELECT * EXCLUDE (" + insCol + ", " + delCol + ") FROM " + lineage +
		" WHERE " + insCol + " <= " + n + " AND (" + delCol + " IS NULL OR " + delCol + " > " + n + ")"
}

// stageIncremental builds a new version of an incremental model: a new
// lineage table on a full build, else the new rows added to the published
// version's lineage table.
func (r *Runner) stageIncremental(ctx context.Context, s *session, node string, m *project.Model, rel project.Relation, loc nodeLoc,
	compile func(project.CompileState) (project.Compiled, error), mode publishMode, modeErr error) (orchestrate.Outcome, error) {
	if err := r.env.ensureVersions(ctx); err != nil {
		return orchestrate.Outcome{}, loc.errorf(err, "%v", err)
	}
	if err := r.ensureSchema(ctx, s, rel.Schema); err != nil {
		return orchestrate.Outcome{}, loc.sqlErr(err, nil)
	}
	cur, ok, err := r.env.publishedVersion(ctx, s.conn, node)
	if err != nil {
		return orchestrate.Outcome{}, loc.sqlErr(err, nil)
	}
	full := r.opts.FullRefresh || !ok || cur.Materialized != project.MaterializedIncremental || cur.lineage == "" || cur.state == stateCollected
	if !full {
		exists, err := tableExists(ctx, s.conn, cur.lineage)
		if err != nil {
			return orchestrate.Outcome{}, loc.sqlErr(err, nil)
		}
		full = !exists
	}
	if !full && modeErr != nil {
		return orchestrate.Outcome{}, modeErr
	}
	c, err := compile(project.CompileState{IsIncremental: !full})
	if err != nil {
		return orchestrate.Outcome{}, err
	}
	runSQL := r.resolve(c.SQL)
	var v *versionRow
	var buildErr error
	var inserted, deleted int64
	if !full && !r.env.lockLineage(cur.lineage, r) {
		return orchestrate.Outcome{}, &locatedError{msg: loc.prefix() + "another run is building a new version of this incremental model; try again when it has published",
			class: recovery.ClassTransient}
	}
	id, err := nextID(ctx, s, versionIDs)
	if err != nil {
		return orchestrate.Outcome{}, loc.sqlErr(err, nil)
	}
	err = s.tx(ctx, func() error {
		var err error
		v = &versionRow{
			Version: snapshot.Version{ID: id, Model: node, Relation: rel.Quoted(), Materialized: project.MaterializedIncremental,
				RunID: r.opts.RunID, BuiltAt: r.env.clock()},
			schema: schemaOf(rel), name: rel.Name,
		}
		idText := strconv.FormatInt(id, 10)
		if full {
			lin := hiddenName(rel, "L", id)
			r.env.lockLineage(lin.Quoted(), r)
			v.lineage = lin.Quoted()
			if err := s.exec(ctx, wrapSelect("CREATE TABLE "+v.lineage+" AS SELECT *, "+idText+"::BIGINT AS "+insCol+", NULL::BIGINT AS "+delCol+" FROM (",
				runSQL)+")"); err != nil {
				buildErr = err
				return err
			}
			if v.Rows, err = s.queryInt(ctx, "SELECT count(*) FROM "+v.lineage); err != nil {
				return err
			}
			inserted = v.Rows
		} else {
			v.lineage = cur.lineage
			curID := strconv.FormatInt(cur.ID, 10)
			// Purge what versions newer than the published one (withheld,
			// or rolled back from) wrote.
			if err := s.exec(ctx, "DELETE FROM "+v.lineage+" WHERE "+insCol+" > "+curID); err != nil {
				return err
			}
			if err := s.exec(ctx, "UPDATE "+v.lineage+" SET "+delCol+" = NULL WHERE "+delCol+" > "+curID); err != nil {
				return err
			}
			if err := s.exec(ctx, "UPDATE "+versionsTable+" SET state = ?, collected_at = ? WHERE lineage = ? AND id > ? AND state <> ?",
				stateCollected, r.env.clock().UTC(), v.lineage, cur.ID, stateCollected); err != nil {
				return err
			}
			tmp := hiddenName(rel, "tmp", id)
			if err := s.exec(ctx, wrapSelect("CREATE TABLE "+tmp.Quoted()+" AS", runSQL)); err != nil {
				buildErr = err
				return err
			}
			if inserted, err = s.queryInt(ctx, "SELECT count(*) FROM "+tmp.Quoted()); err != nil {
				return err
			}
			if mode == publishDeleteInsert || mode == publishMerge {
				res, err := s.conn.ExecContext(ctx, "UPDATE "+v.lineage+" AS __dataops_target SET "+delCol+" = "+idText+
					" WHERE "+delCol+" IS NULL AND EXISTS (SELECT 1 FROM "+tmp.Quoted()+" AS __dataops_new WHERE "+keyMatch(m.UniqueKey)+")")
				s.record("UPDATE " + v.lineage + " SET " + delCol + " = " + idText + " WHERE <unique key matches a new row>")
				if err != nil {
					return err
				}
				if deleted, err = res.RowsAffected(); err != nil {
					return err
				}
			}
			if err := s.exec(ctx, "INSERT INTO "+v.lineage+" BY NAME SELECT *, "+idText+"::BIGINT AS "+insCol+" FROM "+tmp.Quoted()); err != nil {
				return err
			}
			if err := s.exec(ctx, "DROP TABLE "+tmp.Quoted()); err != nil {
				return err
			}
			v.Rows = cur.Rows + inserted - deleted
		}
		v.selectSQL = incrementalSelect(v.lineage, id)
		rv := hiddenName(rel, "r", id)
		if err := s.exec(ctx, "CREATE VIEW "+rv.Quoted()+" AS "+v.selectSQL); err != nil {
			return err
		}
		v.runView = rv.Quoted()
		return nil
	})
	if err != nil {
		if buildErr != nil {
			return orchestrate.Outcome{}, loc.sqlErr(err, &c)
		}
		return orchestrate.Outcome{}, loc.sqlErr(err, nil)
	}
	r.stage(node, v, v.runView)
	msg := fmt.Sprintf("SELECT %d", inserted)
	if !full {
		msg = fmt.Sprintf("INSERT %d", inserted)
		if deleted > 0 {
			msg += fmt.Sprintf(", REPLACED %d", deleted)
		}
	}
	return orchestrate.Outcome{RowsAffected: inserted, Message: msg, Relation: rel.String(), CompiledSQL: c.SQL}, nil
}

// tableExists reports whether a quoted "schema"."name" table exists.
func tableExists(ctx context.Context, q querier, quoted string) (bool, error) {
	schema, name, ok := sqlident.SplitQualified(quoted)
	if !ok {
		return false, fmt.Errorf("bad relation name %s", quoted)
	}
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_tables()
WHERE database_name = current_database() AND schema_name = ? AND table_name = ?`, schema, name).Scan(&n)
	return n > 0, err
}

// ---- publish ----------------------------------------------------------------

// Publish implements orchestrate.Publisher: it makes the versions this
// runner staged visible, in one transaction that re-points every
// published model's relation and records a snapshot.
//
// With a run and its plan, a staged model is published when its node
// succeeded, every data test of it in the plan passed (or warned), and
// every model of the plan upstream of it that was staged is published
// too; the others are withheld, with the reason. With a nil run, every
// staged version is published (for callers that run nodes one by one).
//
// Staged versions that are not published stay in the hidden schema until
// the janitor (GC) drops them.
func (r *Runner) Publish(ctx context.Context, run *orchestrate.Run, plan *orchestrate.Plan) (*orchestrate.Publication, error) {
	r.mu.Lock()
	staged := r.staged
	r.staged = nil
	r.refPairs = nil
	r.mu.Unlock()
	defer r.env.unlockLineages(r)
	defer func() {
		for _, sv := range staged {
			r.env.unstage(sv.row.ID)
		}
	}()
	pub := &orchestrate.Publication{}
	if len(staged) == 0 {
		return pub, nil
	}
	order, withheld := publishable(staged, run, plan)
	pub.Withheld = withheld
	if len(order) == 0 {
		r.dropRunViews(staged)
		return pub, nil
	}
	meta := snapshot.Snapshot{Kind: snapshot.KindPublish, RunID: r.opts.RunID, Actor: r.opts.Actor,
		Fingerprint: r.opts.Fingerprint, GitCommit: r.opts.GitCommit}
	if run != nil && meta.RunID == "" {
		meta.RunID = run.ID
	}
	rows := make([]*versionRow, 0, len(order))
	for _, name := range order {
		rows = append(rows, staged[name].row)
	}
	var runViews []string
	for _, sv := range staged {
		if sv.row.runView != "" {
			runViews = append(runViews, sv.row.runView)
		}
		if sv.row.RunID == "" {
			sv.row.RunID = meta.RunID
		}
	}
	snap, err := r.env.repoint(ctx, rows, nil, meta, runViews...)
	if err != nil {
		pub.Withheld = nil
		r.dropRunViews(staged)
		return pub, err
	}
	pub.Snapshot = strconv.FormatInt(snap.ID, 10)
	pub.Published = order
	return pub, nil
}

// publishable orders the staged models to publish (plan order) and says
// why the others are withheld.
func publishable(staged map[string]*stagedVersion, run *orchestrate.Run, plan *orchestrate.Plan) ([]string, map[string]string) {
	withheld := map[string]string{}
	if run == nil || plan == nil {
		names := make([]string, 0, len(staged))
		for n := range staged {
			names = append(names, n)
		}
		slices.SortFunc(names, func(a, b string) int { return cmpInt(staged[a].row.ID, staged[b].row.ID) })
		return names, withheld
	}
	status := map[string]orchestrate.Status{}
	for _, res := range run.Results {
		status[res.Node] = res.Status
	}
	// Tests of each model in the plan, in plan order.
	tests := map[string][]string{}
	for _, n := range plan.Order {
		if n.Kind == orchestrate.KindTest && n.TestOf != "" {
			tests[n.TestOf] = append(tests[n.TestOf], n.Name)
		}
	}
	tainted := map[string]string{} // node → the withheld model it derives from
	var order []string
	for _, n := range plan.Order {
		for _, d := range n.Deps {
			if t, ok := tainted[d]; ok {
				tainted[n.Name] = t
				break
			}
		}
		sv, ok := staged[n.Name]
		if !ok {
			continue
		}
		reason := ""
		switch st := status[n.Name]; {
		case st != orchestrate.StatusSuccess && st != orchestrate.StatusWarn && st != orchestrate.StatusPass:
			reason = "the node ended " + string(st)
		default:
			for _, t := range tests[n.Name] {
				if ts := status[t]; ts != orchestrate.StatusPass && ts != orchestrate.StatusWarn && ts != orchestrate.StatusSuccess {
					reason = "test " + t + " " + describeTestStatus(ts)
					break
				}
			}
		}
		if reason == "" {
			if t, ok := tainted[n.Name]; ok {
				reason = "upstream " + t + " was not published"
			}
		}
		if reason != "" {
			withheld[n.Name] = reason
			if _, ok := tainted[n.Name]; !ok {
				tainted[n.Name] = n.Name
			}
			continue
		}
		_ = sv
		order = append(order, n.Name)
	}
	// Staged versions of nodes outside the plan (should not happen) are
	// withheld rather than published blindly.
	for name := range staged {
		if _, ok := withheld[name]; !ok && !slices.Contains(order, name) {
			withheld[name] = "not in the run's plan"
		}
	}
	return order, withheld
}

func describeTestStatus(s orchestrate.Status) string {
	switch s {
	case orchestrate.StatusFail:
		return "failed"
	case orchestrate.StatusError:
		return "errored"
	case "":
		return "did not run"
	}
	return "was " + string(s)
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// dropRunViews drops the hidden views the run's refs read (best effort:
// the janitor drops leftovers).
func (r *Runner) dropRunViews(staged map[string]*stagedVersion) {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	for _, sv := range staged {
		if sv.row.runView == "" {
			continue
		}
		if _, err := r.env.db.ExecContext(ctx, "DROP VIEW IF EXISTS "+sv.row.runView); err != nil {
			r.env.log.Warn("could not drop run view", "env", r.env.name, "view", sv.row.runView, "error", err)
		}
	}
}

// testHookRepoint, when set (tests only), runs inside the publish or
// rollback transaction after half of the relations were re-pointed.
var testHookRepoint func()

// repoint makes readers see the given versions, in one transaction that
// records the new snapshot: the latest snapshot's models, with set's
// models replaced and remove's models dropped. It serializes with other
// publishes and rollbacks of the environment.
// New versions (built by a run, not yet in the catalog) are added to it;
// dropViews are the run's hidden views, dropped in the same transaction.
func (e *Env) repoint(ctx context.Context, set []*versionRow, remove []*versionRow, meta snapshot.Snapshot, dropViews ...string) (snapshot.Snapshot, error) {
	if err := e.ensureVersions(ctx); err != nil {
		return snapshot.Snapshot{}, err
	}
	e.publishMu.Lock()
	defer e.publishMu.Unlock()
	s, err := e.session(ctx, "publish")
	if err != nil {
		return snapshot.Snapshot{}, err
	}
	defer s.close()
	var snapID int64
	created := e.clock().UTC()
	err = s.tx(ctx, func() error {
		curID, _, err := currentVersionsID(ctx, s)
		if err != nil {
			return err
		}
		types, err := relationTypes(ctx, s)
		if err != nil {
			return err
		}
		var fresh []*versionRow
		for _, v := range set {
			if v.state == "" {
				fresh = append(fresh, v)
			}
		}
		if err := insertVersions(ctx, s, fresh); err != nil {
			return err
		}
		for _, v := range remove {
			if err := dropPublic(ctx, s, v.public()); err != nil {
				return err
			}
		}
		for i, v := range set {
			if i == len(set)/2 && testHookRepoint != nil {
				testHookRepoint()
			}
			typ, known := types[strings.ToLower(v.schema+"."+v.name)]
			if !known {
				if err := e.ensureSchemaTx(ctx, s, v.schema); err != nil {
					return err
				}
			}
			if typ == relTable {
				// A table from before versioning (or made by hand):
				// the new version replaces it.
				if err := s.exec(ctx, "DROP TABLE "+v.Relation); err != nil {
					return err
				}
			}
			if err := s.exec(ctx, "CREATE OR REPLACE VIEW "+v.Relation+" AS "+v.selectSQL); err != nil {
				return fmt.Errorf("re-point %s at version %d: %w", v.Relation, v.ID, err)
			}
		}
		meta.CreatedAt, meta.Environment = created, e.name
		if snapID, err = insertSnapshot(ctx, s, meta); err != nil {
			return err
		}
		replaced := make([]string, 0, len(set)+len(remove))
		for _, v := range set {
			replaced = append(replaced, v.Model)
		}
		for _, v := range remove {
			replaced = append(replaced, v.Model)
		}
		if curID > 0 {
			if err := s.exec(ctx, `INSERT INTO `+snapshotModelsTable+` SELECT ?, model, version_id FROM `+snapshotModelsTable+`
WHERE snapshot_id = ? AND NOT list_contains(?::VARCHAR[], model)`, snapID, curID, replaced); err != nil {
				return err
			}
		}
		if len(set) > 0 {
			names, ids := make([]string, len(set)), make([]int64, len(set))
			for i, v := range set {
				names[i], ids[i] = v.Model, v.ID
			}
			if err := s.exec(ctx, "INSERT INTO "+snapshotModelsTable+" SELECT ?, unnest(?::VARCHAR[]), unnest(?::BIGINT[])", snapID, names, ids); err != nil {
				return err
			}
		}
		for _, rv := range dropViews {
			if err := s.exec(ctx, "DROP VIEW IF EXISTS "+rv); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return snapshot.Snapshot{}, err
	}
	return e.Snapshots().Get(ctx, snapID)
}

func currentVersionsID(ctx context.Context, s *session) (int64, bool, error) {
	var id sql.NullInt64
	if err := s.conn.QueryRowContext(ctx, "SELECT max(id) FROM "+snapshotsTable).Scan(&id); err != nil {
		return 0, false, err
	}
	return id.Int64, id.Valid, nil
}

// dropPublic drops the relation readers query (a view, or a legacy table).
func dropPublic(ctx context.Context, s *session, rel project.Relation) error {
	typ, err := relationType(ctx, s, rel)
	if err != nil {
		return err
	}
	switch typ {
	case relView:
		return s.exec(ctx, "DROP VIEW "+rel.Quoted())
	case relTable:
		return s.exec(ctx, "DROP TABLE "+rel.Quoted())
	}
	return nil
}

// ensureSchemaTx creates schema inside the caller's transaction.
func (e *Env) ensureSchemaTx(ctx context.Context, s *session, schema string) error {
	if schema == "" || strings.EqualFold(schema, project.DefaultSchema) {
		return nil
	}
	return s.exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+sqlident.Quote(schema))
}

// clock is the environment's time source for versions and snapshots.
func (e *Env) clock() time.Time {
	if e.now != nil {
		return e.now()
	}
	return time.Now()
}

// versionState holds the Env's bookkeeping of versions (embedded in Env).
type versionState struct {
	versionsOnce   sync.Mutex
	versionsReady  bool
	publishMu      sync.Mutex
	stagedMu       sync.Mutex
	activeVersions map[int64]bool
	lineageOwner   map[string]*Runner
	now            func() time.Time
}
