package duckenv

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vyaparbazaar/dataops/snapshot"
)

// SnapshotStore is the snapshot.Store of an Env: snapshots live in the
// database they describe (`_dataops`.snapshots), so a publish and its
// snapshot commit in one transaction. Record is for importing snapshots;
// publishes and rollbacks record theirs themselves.
type SnapshotStore struct{ env *Env }

var _ snapshot.Store = (*SnapshotStore)(nil)

// Snapshots returns the environment's snapshot store.
func (e *Env) Snapshots() *SnapshotStore { return &SnapshotStore{env: e} }

// Record implements snapshot.Store. The versions the snapshot names are
// recorded in the catalog when they are not there yet.
func (st *SnapshotStore) Record(ctx context.Context, sn snapshot.Snapshot) (snapshot.Snapshot, error) {
	e := st.env
	if err := e.ensureVersions(ctx); err != nil {
		return snapshot.Snapshot{}, err
	}
	e.publishMu.Lock()
	defer e.publishMu.Unlock()
	s, err := e.session(ctx, "snapshot")
	if err != nil {
		return snapshot.Snapshot{}, err
	}
	defer s.close()
	if sn.CreatedAt.IsZero() {
		sn.CreatedAt = e.clock()
	}
	if sn.Environment == "" {
		sn.Environment = e.name
	}
	var id int64
	err = s.tx(ctx, func() error {
		if id, err = insertSnapshot(ctx, s, sn); err != nil {
			return err
		}
		for _, name := range sn.Names() {
			v := sn.Models[name]
			n, err := s.queryInt(ctx, "SELECT count(*) FROM "+versionsTable+" WHERE id = ?", v.ID)
			if err != nil {
				return err
			}
			if n == 0 {
				schema, rel, _ := strings.Cut(strings.Trim(v.Relation, `"`), `"."`)
				if err := s.exec(ctx, `INSERT INTO `+versionsTable+`
(id, model, rel_schema, rel_name, materialized, physical, select_sql, run_id, built_at, rows, state)
VALUES (?, ?, ?, ?, ?, NULLIF(?, ''), ?, NULLIF(?, ''), ?, ?, ?)`,
					v.ID, name, schema, rel, v.Materialized, v.Physical, "SELECT * FROM "+v.Physical, v.RunID, v.BuiltAt.UTC(), v.Rows, statePublished); err != nil {
					return err
				}
			}
			if err := s.exec(ctx, "INSERT INTO "+snapshotModelsTable+" VALUES (?, ?, ?)", id, name, v.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return snapshot.Snapshot{}, fmt.Errorf("record snapshot: %w", err)
	}
	return st.Get(ctx, id)
}

// insertSnapshot allocates the snapshot's id and writes its row (not its
// models) inside the caller's transaction.
func insertSnapshot(ctx context.Context, s *session, sn snapshot.Snapshot) (int64, error) {
	id, err := nextID(ctx, s, snapshotIDs)
	if err != nil {
		return 0, err
	}
	return id, s.exec(ctx, `INSERT INTO `+snapshotsTable+` (id, created_at, environment, kind, run_id, fingerprint, git_commit, actor, note, restored_from)
VALUES (?, ?, ?, ?, NULLIF(?, ''), NULLIF(?, ''), NULLIF(?, ''), NULLIF(?, ''), NULLIF(?, ''), NULLIF(?, 0))`,
		id, sn.CreatedAt.UTC(), sn.Environment, string(sn.Kind), sn.RunID, sn.Fingerprint, sn.GitCommit, sn.Actor, sn.Note, sn.RestoredFrom)
}

const snapshotCols = `id, created_at, coalesce(environment, ''), kind, coalesce(run_id, ''), coalesce(fingerprint, ''),
coalesce(git_commit, ''), coalesce(actor, ''), coalesce(note, ''), coalesce(restored_from, 0)`

func scanSnapshot(sc scanner) (snapshot.Snapshot, error) {
	var sn snapshot.Snapshot
	var kind string
	err := sc.Scan(&sn.ID, &sn.CreatedAt, &sn.Environment, &kind, &sn.RunID, &sn.Fingerprint, &sn.GitCommit, &sn.Actor, &sn.Note, &sn.RestoredFrom)
	sn.Kind = snapshot.Kind(kind)
	return sn, err
}

// fill loads a snapshot's models.
func (st *SnapshotStore) fill(ctx context.Context, sn *snapshot.Snapshot) error {
	vs, err := snapshotVersions(ctx, st.env.db, sn.ID)
	if err != nil {
		return err
	}
	sn.Models = make(map[string]snapshot.Version, len(vs))
	for name, v := range vs {
		sn.Models[name] = v.Version
	}
	return nil
}

func (st *SnapshotStore) latestID(ctx context.Context) (int64, error) {
	var id sql.NullInt64
	err := st.env.db.QueryRowContext(ctx, "SELECT max(id) FROM "+snapshotsTable).Scan(&id)
	return id.Int64, err
}

// Get implements snapshot.Store.
func (st *SnapshotStore) Get(ctx context.Context, id int64) (snapshot.Snapshot, error) {
	if err := st.env.ensureVersions(ctx); err != nil {
		return snapshot.Snapshot{}, err
	}
	sn, err := scanSnapshot(st.env.db.QueryRowContext(ctx, "SELECT "+snapshotCols+" FROM "+snapshotsTable+" WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		latest, lerr := st.latestID(ctx)
		if lerr != nil {
			return snapshot.Snapshot{}, lerr
		}
		return snapshot.Snapshot{}, &snapshot.NotFoundError{ID: id, Latest: latest}
	}
	if err != nil {
		return snapshot.Snapshot{}, fmt.Errorf("snapshot #%d: %w", id, err)
	}
	if err := st.fill(ctx, &sn); err != nil {
		return snapshot.Snapshot{}, fmt.Errorf("snapshot #%d: %w", id, err)
	}
	return sn, nil
}

// List implements snapshot.Store.
func (st *SnapshotStore) List(ctx context.Context, limit int) ([]snapshot.Snapshot, error) {
	if err := st.env.ensureVersions(ctx); err != nil {
		return nil, err
	}
	q := "SELECT " + snapshotCols + " FROM " + snapshotsTable + " ORDER BY id DESC"
	if limit > 0 {
		q += " LIMIT " + strconv.Itoa(limit)
	}
	rows, err := st.env.db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("list snapshots: %w", err)
	}
	out := []snapshot.Snapshot{}
	for rows.Next() {
		sn, err := scanSnapshot(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, sn)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if err := st.fill(ctx, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// At implements snapshot.Store.
func (st *SnapshotStore) At(ctx context.Context, t time.Time) (snapshot.Snapshot, error) {
	if err := st.env.ensureVersions(ctx); err != nil {
		return snapshot.Snapshot{}, err
	}
	var id int64
	err := st.env.db.QueryRowContext(ctx, "SELECT id FROM "+snapshotsTable+" WHERE created_at <= ? ORDER BY created_at DESC, id DESC LIMIT 1", t.UTC()).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		e := &snapshot.BeforeFirstError{At: t}
		var first sql.NullTime
		if err := st.env.db.QueryRowContext(ctx, "SELECT min(created_at) FROM "+snapshotsTable).Scan(&first); err != nil {
			return snapshot.Snapshot{}, err
		}
		if first.Valid {
			e.First = first.Time
		}
		return snapshot.Snapshot{}, e
	}
	if err != nil {
		return snapshot.Snapshot{}, err
	}
	return st.Get(ctx, id)
}

// Forget implements snapshot.Store. Forgetting a snapshot does not drop
// data: the janitor (GC) drops versions no retained snapshot references.
func (st *SnapshotStore) Forget(ctx context.Context, ids []int64) error {
	if err := st.env.ensureVersions(ctx); err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	tx, err := st.env.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	for _, q := range []string{
		"DELETE FROM " + snapshotModelsTable + " WHERE list_contains(?::BIGINT[], snapshot_id)",
		"DELETE FROM " + snapshotsTable + " WHERE list_contains(?::BIGINT[], id)",
	} {
		if _, err := tx.ExecContext(ctx, q, ids); err != nil {
			return fmt.Errorf("forget snapshots: %w", err)
		}
	}
	return tx.Commit()
}

// RollbackOptions says what to roll back to.
type RollbackOptions struct {
	// To is the snapshot to return to; when zero, At is used.
	To int64
	// At returns to the state as of this time (point-in-time restore):
	// the newest snapshot taken at or before it.
	At time.Time
	// Models limits the rollback to these models (and leaves the others
	// as they are); empty means the whole environment.
	Models []string
	// Actor is recorded as who rolled back.
	Actor string
}

// CollectedError is returned by Rollback when the versions it needs were
// already dropped by the janitor (or purged by a later build of an
// incremental model). Nothing was changed.
type CollectedError struct {
	Snapshot int64
	// Models lists "model (version N)" entries whose data is gone.
	Models []string
}

func (e *CollectedError) Error() string {
	return fmt.Sprintf("cannot roll back to snapshot #%d: the data of %s was already collected (retention); nothing was changed",
		e.Snapshot, strings.Join(e.Models, ", "))
}

// Rollback re-points models at the versions of an earlier snapshot (or of
// the state as of a time), in one transaction, and records the result as a
// new snapshot of kind rollback, which is returned. The whole environment
// is rolled back unless opts.Models names some: models that did not exist
// then are dropped. Undo it with UndoRollback, or by rolling back to the
// snapshot before it.
//
// Rollback refuses, changing nothing, when the snapshot is unknown, the
// time is before the first snapshot, a named model is not in the target
// snapshot, or the versions needed were collected (*CollectedError).
func (e *Env) Rollback(ctx context.Context, opts RollbackOptions) (snapshot.Snapshot, error) {
	st := e.Snapshots()
	var target snapshot.Snapshot
	var err error
	switch {
	case opts.To != 0:
		target, err = st.Get(ctx, opts.To)
	case !opts.At.IsZero():
		target, err = st.At(ctx, opts.At)
	default:
		return snapshot.Snapshot{}, errors.New("rollback: say which snapshot (an id) or which time to return to")
	}
	if err != nil {
		return snapshot.Snapshot{}, fmt.Errorf("rollback: %w", err)
	}
	note := fmt.Sprintf("rollback to #%d", target.ID)
	if opts.To == 0 {
		note = fmt.Sprintf("restore as of %s (snapshot #%d)", opts.At.Format(time.RFC3339), target.ID)
	}
	return e.rollbackTo(ctx, target, opts.Models, opts.Actor, note)
}

// UndoRollback undoes the latest snapshot when it is a rollback: it
// returns the environment to the snapshot before it.
func (e *Env) UndoRollback(ctx context.Context, actor string) (snapshot.Snapshot, error) {
	st := e.Snapshots()
	list, err := st.List(ctx, 2)
	if err != nil {
		return snapshot.Snapshot{}, err
	}
	if len(list) < 2 || list[0].Kind != snapshot.KindRollback {
		return snapshot.Snapshot{}, errors.New("undo: the latest snapshot is not a rollback; nothing to undo")
	}
	return e.rollbackTo(ctx, list[1], nil, actor, fmt.Sprintf("undo of #%d (back to #%d)", list[0].ID, list[1].ID))
}

func (e *Env) rollbackTo(ctx context.Context, target snapshot.Snapshot, models []string, actor, note string) (snapshot.Snapshot, error) {
	if err := e.ensureVersions(ctx); err != nil {
		return snapshot.Snapshot{}, err
	}
	targetRows, err := snapshotVersions(ctx, e.db, target.ID)
	if err != nil {
		return snapshot.Snapshot{}, err
	}
	_, current, err := currentVersions(ctx, e.db)
	if err != nil {
		return snapshot.Snapshot{}, err
	}
	var set, remove []*versionRow
	if len(models) > 0 {
		var unknown []string
		for _, m := range models {
			v, ok := targetRows[m]
			if !ok {
				unknown = append(unknown, m)
				continue
			}
			set = append(set, v)
		}
		if len(unknown) > 0 {
			return snapshot.Snapshot{}, fmt.Errorf("rollback: snapshot #%d has no model %s (it has %d models; `snapshots show %d` lists them)",
				target.ID, strings.Join(unknown, ", "), len(targetRows), target.ID)
		}
	} else {
		for _, v := range targetRows {
			set = append(set, v)
		}
		for name, v := range current {
			if _, ok := targetRows[name]; !ok {
				remove = append(remove, v)
			}
		}
	}
	var gone []string
	for _, v := range set {
		ok := v.state != stateCollected
		if ok && v.Physical != "" {
			ok, err = tableExists(ctx, e.db, v.Physical)
		} else if ok && v.lineage != "" {
			ok, err = tableExists(ctx, e.db, v.lineage)
		}
		if err != nil {
			return snapshot.Snapshot{}, err
		}
		if !ok {
			gone = append(gone, fmt.Sprintf("%s (version %d)", v.Model, v.ID))
		}
	}
	if len(gone) > 0 {
		slices.Sort(gone)
		return snapshot.Snapshot{}, &CollectedError{Snapshot: target.ID, Models: gone}
	}
	set = orderForCreate(set)
	snap, err := e.repoint(ctx, set, remove, snapshot.Snapshot{Kind: snapshot.KindRollback, Actor: actor, Note: note, RestoredFrom: target.ID})
	if err != nil {
		return snap, err
	}
	// The environment no longer runs the code its manifest records for
	// these models: forget them, so plans and state:modified rebuild them.
	var changed []string
	for _, v := range set {
		if cur, ok := current[v.Model]; !ok || cur.ID != v.ID {
			changed = append(changed, v.Model)
		}
	}
	for _, v := range remove {
		changed = append(changed, v.Model)
	}
	if err := e.UpdateManifest(ctx, nil, changed); err != nil {
		return snap, fmt.Errorf("rolled back, but the manifest was not updated: %w", err)
	}
	return snap, nil
}

// orderForCreate orders versions so that a view is created after the
// relations its SQL names (views are bound when created): tables first,
// then views, each after the views it selects from.
func orderForCreate(vs []*versionRow) []*versionRow {
	slices.SortFunc(vs, func(a, b *versionRow) int { return strings.Compare(a.Model, b.Model) })
	var out, views []*versionRow
	for _, v := range vs {
		if v.Materialized == "view" {
			views = append(views, v)
		} else {
			out = append(out, v)
		}
	}
	placed := map[string]bool{}
	for len(views) > 0 {
		progress := false
		rest := views[:0:0]
		for _, v := range views {
			ready := true
			for _, w := range views {
				if w != v && !placed[w.Relation] && strings.Contains(v.selectSQL, w.Relation) {
					ready = false
					break
				}
			}
			if ready {
				out = append(out, v)
				placed[v.Relation] = true
				progress = true
			} else {
				rest = append(rest, v)
			}
		}
		if !progress { // a cycle cannot happen between views; keep going
			out = append(out, rest...)
			break
		}
		views = rest
	}
	return out
}

// Unpublish removes models from what readers see — their relations are
// dropped — in one transaction that records a publish snapshot without
// them (a deploy of a project that no longer has them). Their versions stay
// until the janitor collects them, so a rollback brings them back. Names
// that are not published are ignored; it returns the models removed.
func (e *Env) Unpublish(ctx context.Context, models []string, meta snapshot.Snapshot) ([]string, error) {
	if err := e.ensureVersions(ctx); err != nil {
		return nil, err
	}
	_, current, err := currentVersions(ctx, e.db)
	if err != nil {
		return nil, err
	}
	var remove []*versionRow
	var names []string
	for _, m := range models {
		if v, ok := current[m]; ok {
			remove = append(remove, v)
			names = append(names, m)
		}
	}
	if len(remove) == 0 {
		return nil, nil
	}
	if meta.Kind == "" {
		meta.Kind = snapshot.KindPublish
	}
	if meta.Note == "" {
		meta.Note = "removed " + strings.Join(names, ", ")
	}
	if _, err := e.repoint(ctx, nil, remove, meta); err != nil {
		return nil, err
	}
	return names, nil
}
