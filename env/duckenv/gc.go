package duckenv

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/vyaparbazaar/dataops/internal/sqlident"
	"github.com/vyaparbazaar/dataops/snapshot"
)

// GCOptions configures GC.
type GCOptions struct {
	// Retention says which snapshots to keep; the zero value means
	// snapshot.DefaultRetention of the environment's name.
	Retention *snapshot.Retention
	// Now is the time retention is measured at; zero means the Env's
	// clock.
	Now time.Time
	// DryRun reports what would be dropped without dropping it.
	DryRun bool
}

// GCReport says what GC did.
type GCReport struct {
	// Kept and Forgotten are the snapshot ids kept and forgotten.
	Kept, Forgotten []int64
	// Dropped lists the physical relations dropped (or that would be, on a
	// dry run).
	Dropped []string
	// Collected counts versions marked collected.
	Collected int
	// Trimmed counts rows removed from incremental lineage tables (rows no
	// retained version can see).
	Trimmed int64
	// FreedBytes is how much of the database file became free for reuse
	// (the file itself only shrinks by Compact).
	FreedBytes int64
	// FileBytes is the database file's size.
	FileBytes int64
}

// testHookGCDrop, when set (tests only), is called before each drop; an
// error stops GC there, as a crash would.
var testHookGCDrop func(relation string) error

// GC is the janitor: it forgets snapshots outside the retention, then
// drops the versions no retained snapshot references (and no run is
// building), trims rows of incremental lineage tables that no retained
// version can see, and drops leftovers in the versions schema that the
// catalog does not know. It never drops a version a retained snapshot
// references; the newest snapshot is always retained.
//
// GC is idempotent and safe to stop at any point: each drop commits with
// its catalog change, so running it again finishes the work.
func (e *Env) GC(ctx context.Context, opts GCOptions) (GCReport, error) {
	var rep GCReport
	if err := e.ensureVersions(ctx); err != nil {
		return rep, err
	}
	ret := snapshot.DefaultRetention(e.name)
	if opts.Retention != nil {
		ret = *opts.Retention
	}
	now := opts.Now
	if now.IsZero() {
		now = e.clock()
	}
	usedBefore, _ := e.usedBytes(ctx)

	// Serialize with publishes and rollbacks: what is retained must not
	// change under us.
	e.publishMu.Lock()
	defer e.publishMu.Unlock()

	st := e.Snapshots()
	snaps, err := st.List(ctx, 0)
	if err != nil {
		return rep, err
	}
	keep, forget := ret.Split(snaps, now)
	for _, s := range keep {
		rep.Kept = append(rep.Kept, s.ID)
	}
	for _, s := range forget {
		rep.Forgotten = append(rep.Forgotten, s.ID)
	}
	if !opts.DryRun {
		if err := st.Forget(ctx, rep.Forgotten); err != nil {
			return rep, err
		}
	}
	retained := map[int64]bool{}
	for _, s := range keep {
		for _, v := range s.Models {
			retained[v.ID] = true
		}
	}
	for id := range e.active() {
		retained[id] = true
	}

	rows, err := e.db.QueryContext(ctx, "SELECT "+versionCols+" FROM "+versionsTable+" v WHERE state <> ? ORDER BY id", stateCollected)
	if err != nil {
		return rep, err
	}
	var all []*versionRow
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			rows.Close()
			return rep, err
		}
		all = append(all, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return rep, err
	}

	// Lineages: the smallest and largest retained version of each.
	type span struct{ min, max int64 }
	lineages := map[string]*span{}
	for _, v := range all {
		if v.lineage == "" {
			continue
		}
		sp := lineages[v.lineage]
		if sp == nil {
			sp = &span{}
			lineages[v.lineage] = sp
		}
		if retained[v.ID] {
			if sp.min == 0 || v.ID < sp.min {
				sp.min = v.ID
			}
			sp.max = max(sp.max, v.ID)
		}
	}
	collect := func(v *versionRow, drop []string) error {
		for _, d := range drop {
			rep.Dropped = append(rep.Dropped, d)
		}
		rep.Collected++
		if opts.DryRun {
			return nil
		}
		tx, err := e.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback() //nolint:errcheck // no-op after Commit
		for _, d := range drop {
			if testHookGCDrop != nil {
				if err := testHookGCDrop(d); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, "DROP TABLE IF EXISTS "+d); err != nil {
				return fmt.Errorf("drop %s: %w", d, err)
			}
		}
		if v.runView != "" {
			if _, err := tx.ExecContext(ctx, "DROP VIEW IF EXISTS "+v.runView); err != nil {
				return fmt.Errorf("drop %s: %w", v.runView, err)
			}
		}
		if _, err := tx.ExecContext(ctx, "UPDATE "+versionsTable+" SET state = ?, collected_at = ?, run_view = NULL WHERE id = ?",
			stateCollected, now.UTC(), v.ID); err != nil {
			return err
		}
		return tx.Commit()
	}
	// A lineage a run is adding a version to right now is left alone: its
	// new rows are not in the catalog until the run publishes.
	staging := e.stagingLineages()
	droppedLineage := map[string]bool{}
	for _, v := range all {
		if retained[v.ID] || (v.lineage != "" && staging[v.lineage]) {
			continue
		}
		var drop []string
		switch {
		case v.Physical != "":
			drop = []string{v.Physical}
		case v.lineage != "" && lineages[v.lineage].max == 0 && !droppedLineage[v.lineage]:
			// No retained version reads this lineage table any more.
			drop = []string{v.lineage}
			droppedLineage[v.lineage] = true
		}
		if err := collect(v, drop); err != nil {
			return rep, fmt.Errorf("gc: version %d of %s: %w (run gc again to finish)", v.ID, v.Model, err)
		}
	}
	// Trim lineage tables that stay: rows deleted at or before the oldest
	// retained version, and rows of versions newer than the newest
	// retained one that no run is building, are seen by no one.
	for _, lin := range slices.Sorted(mapKeysOf(lineages)) {
		sp := lineages[lin]
		if sp.max == 0 || droppedLineage[lin] || staging[lin] {
			continue
		}
		exists, err := tableExists(ctx, e.db, lin)
		if err != nil || !exists {
			continue
		}
		for _, q := range []string{
			"DELETE FROM " + lin + " WHERE " + delCol + " IS NOT NULL AND " + delCol + " <= " + strconv.FormatInt(sp.min, 10),
			"DELETE FROM " + lin + " WHERE " + insCol + " > " + strconv.FormatInt(sp.max, 10),
		} {
			if opts.DryRun {
				q = "SELECT count(*) FROM " + lin + q[len("DELETE FROM "+lin):]
				var n int64
				if err := e.db.QueryRowContext(ctx, q).Scan(&n); err != nil {
					return rep, err
				}
				rep.Trimmed += n
				continue
			}
			res, err := e.db.ExecContext(ctx, q)
			if err != nil {
				return rep, fmt.Errorf("gc: trim %s: %w", lin, err)
			}
			n, _ := res.RowsAffected()
			rep.Trimmed += n
		}
	}
	// Leftovers the catalog does not know (a process that died between
	// creating a scratch table and committing cannot leave one, but older
	// versions or hand-made objects can).
	known := map[string]bool{}
	krows, err := e.db.QueryContext(ctx, "SELECT coalesce(physical, ''), coalesce(lineage, ''), coalesce(run_view, '') FROM "+versionsTable+" WHERE state <> ?", stateCollected)
	if err != nil {
		return rep, err
	}
	for krows.Next() {
		var a, b, c string
		if err := krows.Scan(&a, &b, &c); err != nil {
			krows.Close()
			return rep, err
		}
		known[a], known[b], known[c] = true, true, true
	}
	krows.Close()
	orows, err := e.db.QueryContext(ctx, `SELECT table_name, table_type FROM information_schema.tables
WHERE table_catalog = current_database() AND table_schema = ?`, VersionsSchema)
	if err != nil {
		return rep, err
	}
	type obj struct{ q, kind string }
	var orphans []obj
	for orows.Next() {
		var name, typ string
		if err := orows.Scan(&name, &typ); err != nil {
			orows.Close()
			return rep, err
		}
		q := sqlident.QuoteQualified(VersionsSchema, name)
		if !known[q] {
			kind := "TABLE"
			if typ == "VIEW" {
				kind = "VIEW"
			}
			orphans = append(orphans, obj{q, kind})
		}
	}
	orows.Close()
	for _, o := range orphans {
		if e.isActiveObject(o.q) {
			continue
		}
		rep.Dropped = append(rep.Dropped, o.q)
		if opts.DryRun {
			continue
		}
		if _, err := e.db.ExecContext(ctx, "DROP "+o.kind+" IF EXISTS "+o.q); err != nil {
			return rep, fmt.Errorf("gc: drop leftover %s: %w", o.q, err)
		}
	}
	if !opts.DryRun {
		if _, err := e.db.ExecContext(ctx, "CHECKPOINT"); err != nil {
			e.log.Warn("checkpoint after gc failed", "env", e.name, "error", err)
		}
	}
	if usedAfter, err := e.usedBytes(ctx); err == nil && usedBefore > usedAfter {
		rep.FreedBytes = usedBefore - usedAfter
	}
	if e.path != "" {
		if fi, err := os.Stat(e.path); err == nil {
			rep.FileBytes = fi.Size()
		}
	}
	return rep, nil
}

// isActiveObject reports whether a hidden relation belongs to a version a
// run of this process is building. (Builds create their objects and
// catalog rows in one transaction, so other connections see both or
// neither; this is a second guard.)
func (e *Env) isActiveObject(quoted string) bool {
	e.stagedMu.Lock()
	defer e.stagedMu.Unlock()
	for id := range e.activeVersions {
		suffix := strconv.FormatInt(id, 10) + `"`
		if len(quoted) > len(suffix) && quoted[len(quoted)-len(suffix):] == suffix {
			return true
		}
	}
	return false
}

// stagingLineages are the lineage tables runs are adding versions to.
func (e *Env) stagingLineages() map[string]bool {
	e.stagedMu.Lock()
	defer e.stagedMu.Unlock()
	out := make(map[string]bool, len(e.lineageOwner))
	for l := range e.lineageOwner {
		out[l] = true
	}
	return out
}

func mapKeysOf[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// usedBytes is the database's used blocks times the block size.
func (e *Env) usedBytes(ctx context.Context) (int64, error) {
	var name, size string
	var blockSize, total, used, free int64
	var wal, mem, limit sql.NullString
	err := e.db.QueryRowContext(ctx, "SELECT database_name, database_size, block_size, total_blocks, used_blocks, free_blocks, wal_size, memory_usage, memory_limit FROM pragma_database_size() WHERE database_name = current_database()").
		Scan(&name, &size, &blockSize, &total, &used, &free, &wal, &mem, &limit)
	if err != nil {
		return 0, err
	}
	return used * blockSize, nil
}

// CompactReport says what Compact did.
type CompactReport struct {
	Path                    string
	BytesBefore, BytesAfter int64
}

// CompactTo writes a compacted copy of the database to dest (which must not
// exist): DuckDB files never shrink after drops, so compaction is a copy
// into a new file. Swap the files while no process has the database open
// (CompactFile does all of it).
func (e *Env) CompactTo(ctx context.Context, dest string) (CompactReport, error) {
	rep := CompactReport{Path: dest}
	if e.path == "" {
		return rep, fmt.Errorf("compact: an in-memory database has no file")
	}
	if _, err := os.Stat(dest); err == nil {
		return rep, fmt.Errorf("compact: %s already exists; remove it first", dest)
	}
	if fi, err := os.Stat(e.path); err == nil {
		rep.BytesBefore = fi.Size()
	}
	conn, err := e.db.Conn(ctx)
	if err != nil {
		return rep, err
	}
	defer conn.Close()
	alias := "__dataops_compact"
	if _, err := conn.ExecContext(ctx, "ATTACH "+sqlident.Literal(dest)+" AS "+alias); err != nil {
		return rep, fmt.Errorf("compact: %w", err)
	}
	var cur string
	if err := conn.QueryRowContext(ctx, "SELECT current_database()").Scan(&cur); err != nil {
		return rep, err
	}
	_, err = conn.ExecContext(ctx, "COPY FROM DATABASE "+sqlident.Quote(cur)+" TO "+alias)
	if _, derr := conn.ExecContext(context.WithoutCancel(ctx), "DETACH "+alias); err == nil {
		err = derr
	}
	if err != nil {
		_ = os.Remove(dest)
		_ = os.Remove(dest + ".wal")
		return rep, fmt.Errorf("compact: %w", err)
	}
	if fi, err := os.Stat(dest); err == nil {
		rep.BytesAfter = fi.Size()
	}
	return rep, nil
}

// CompactFile compacts the database file at path in place: it opens it,
// writes a compacted copy next to it, and renames the copy over the
// original. No other process may have the file open (Open reports
// ErrLocked otherwise). A crash before the rename leaves the original
// untouched and a *.compact-* file to delete.
func CompactFile(ctx context.Context, cfg Config) (CompactReport, error) {
	if cfg.Path == "" || cfg.Path == ":memory:" {
		return CompactReport{}, fmt.Errorf("compact: no database file")
	}
	e, err := Open(ctx, cfg)
	if err != nil {
		return CompactReport{}, err
	}
	tmp := filepath.Join(filepath.Dir(cfg.Path), "."+filepath.Base(cfg.Path)+".compact-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	rep, err := e.CompactTo(ctx, tmp)
	if cerr := e.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(tmp)
		return rep, err
	}
	if _, err := os.Stat(cfg.Path + ".wal"); err == nil {
		// Close checkpoints; a WAL left means another process wrote.
		_ = os.Remove(tmp)
		return rep, fmt.Errorf("compact: %s.wal exists after closing the database; is another process using it?", cfg.Path)
	}
	if err := os.Rename(tmp, cfg.Path); err != nil {
		_ = os.Remove(tmp)
		return rep, fmt.Errorf("compact: %w", err)
	}
	rep.Path = cfg.Path
	return rep, nil
}
