package duckenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vyaparbazaar/dataops/orchestrate"
	"github.com/vyaparbazaar/dataops/orchestrate/project"
	"github.com/vyaparbazaar/dataops/snapshot"
	"github.com/vyaparbazaar/dataops/snapshot/snapshottest"
)

func TestSnapshotStoreConformance(t *testing.T) {
	snapshottest.RunStoreTests(t, func(t *testing.T) snapshot.Store { return openFile(t).Snapshots() })
}

// fakeClock is a settable clock for versions and snapshots.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

// wapPipeline is raw.src → a (table, tested: no negative x) → b (view) →
// c (table), and inc (incremental append of src's rows with batch = the
// max batch).
type wapPipeline struct {
	a, inc *project.Model
	nodes  []*orchestrate.Node
}

func newWAP() *wapPipeline {
	p := &wapPipeline{
		a:   &project.Model{Name: "a", Path: "models/a.sql", Materialized: "table", Schema: "core", RawSQL: `select x from "raw"."src"`},
		inc: &project.Model{Name: "inc", Path: "models/inc.sql", Materialized: "incremental", Schema: "core", RawSQL: `select batch, x from "raw"."src" where batch = (select max(batch) from "raw"."src")`},
	}
	b := &project.Model{Name: "b", Materialized: "view", Schema: "marts", RawSQL: `select x * 10 as y from "core"."a"`}
	c := &project.Model{Name: "c", Materialized: "table", Schema: "marts", RawSQL: `select sum(y) as total from "marts"."b"`}
	test := &project.DataTest{Name: "positive_a_x", Model: "a", Path: "models/a.yml", Line: 3,
		RawSQL: `select * from "core"."a" where x < 0`}
	p.nodes = []*orchestrate.Node{
		{Name: "a", Kind: orchestrate.KindModel, Spec: p.a},
		{Name: "positive_a_x", Kind: orchestrate.KindTest, Deps: []string{"a"}, TestOf: "a", Spec: test},
		{Name: "b", Kind: orchestrate.KindModel, Deps: []string{"a"}, Spec: b},
		{Name: "c", Kind: orchestrate.KindModel, Deps: []string{"b"}, Spec: c},
		{Name: "inc", Kind: orchestrate.KindModel, Spec: p.inc},
	}
	return p
}

func (p *wapPipeline) run(t *testing.T, e *Env, opts RunnerOptions) *orchestrate.Run {
	t.Helper()
	run, err := orchestrate.Execute(t.Context(), orchestrate.NewPipeline(p.nodes...), orchestrate.Options{
		Threads: 2, Runner: e.Runner(opts),
		LastGood: func(ctx context.Context, node string) (orchestrate.Serving, bool) {
			id, at, ok, _ := e.LastGood(ctx, node)
			return orchestrate.Serving{RunID: id, BuiltAt: at}, ok
		},
	})
	require.NoError(t, err)
	return run
}

func wapEnv(t *testing.T) (*Env, *fakeClock) {
	t.Helper()
	clk := &fakeClock{t: time.Date(2026, 11, 25, 5, 0, 0, 0, time.UTC)}
	e := openFile(t, func(c *Config) { c.Now = clk.now })
	mustExec(t, e, "create schema raw")
	mustExec(t, e, "create table raw.src (batch int, x int)")
	mustExec(t, e, "insert into raw.src values (1, 1), (1, 2)")
	return e, clk
}

func TestTestsRunBeforePublishAndFailuresAreWithheld(t *testing.T) {
	e, clk := wapEnv(t)
	p := newWAP()
	run1 := p.run(t, e, RunnerOptions{})
	require.True(t, run1.OK(), "%+v", run1.Failed())
	require.NotNil(t, run1.Publication)
	assert.Equal(t, "1", run1.Publication.Snapshot)
	assert.ElementsMatch(t, []string{"a", "b", "c", "inc"}, run1.Publication.Published)
	assert.Equal(t, [][]any{{int64(30)}}, rowsOf(t, e, "select total::bigint from marts.c"))

	// Bad data: the test of a fails against the new version, so a is not
	// published; b and c are skipped; inc (independent) is published.
	clk.t = clk.t.Add(time.Hour)
	mustExec(t, e, "insert into raw.src values (2, -5)")
	run2 := p.run(t, e, RunnerOptions{})
	assert.False(t, run2.OK())
	assert.Equal(t, orchestrate.StatusFail, run2.Result("positive_a_x").Status)
	assert.Equal(t, orchestrate.StatusSuccess, run2.Result("a").Status)
	assert.Equal(t, "test positive_a_x failed", run2.Publication.Withheld["a"])
	assert.Contains(t, run2.Result("a").Message, "built but not published: test positive_a_x failed; still serving the version of run "+run1.ID)
	assert.Equal(t, []string{"inc"}, run2.Publication.Published)
	assert.Equal(t, "2", run2.Publication.Snapshot)

	// Readers see the old a, b and c, consistently.
	assert.Equal(t, [][]any{{int32(1)}, {int32(2)}}, rowsOf(t, e, "select x from core.a order by x"))
	assert.Equal(t, [][]any{{int64(30)}}, rowsOf(t, e, "select total::bigint from marts.c"))
	assert.Equal(t, [][]any{{int32(2), int32(-5)}}, rowsOf(t, e, "select batch, x from core.inc where batch = 2"))

	// The failure's fallback points at the version still served.
	id, at, ok, err := e.LastGood(t.Context(), "a")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, run1.ID, id)
	assert.True(t, at.Equal(time.Date(2026, 11, 25, 5, 0, 0, 0, time.UTC)), at)
}

func TestUpstreamWithheldWithholdsDownstream(t *testing.T) {
	staged := map[string]*stagedVersion{"a": {row: &versionRow{}}, "b": {row: &versionRow{}}, "c": {row: &versionRow{}}}
	plan, err := orchestrate.NewPlan(orchestrate.NewPipeline(
		&orchestrate.Node{Name: "a", Kind: orchestrate.KindModel},
		&orchestrate.Node{Name: "t", Kind: orchestrate.KindTest, Deps: []string{"a"}, TestOf: "a"},
		&orchestrate.Node{Name: "b", Kind: orchestrate.KindModel, Deps: []string{"a"}},
		&orchestrate.Node{Name: "c", Kind: orchestrate.KindModel},
	), nil, nil)
	require.NoError(t, err)
	// The test warned (published), but say the plan had no test edge and b
	// ran: a withheld because its test errored → b withheld too.
	run := &orchestrate.Run{Results: []*orchestrate.NodeResult{
		{Node: "a", Status: orchestrate.StatusSuccess}, {Node: "t", Status: orchestrate.StatusError},
		{Node: "b", Status: orchestrate.StatusSuccess}, {Node: "c", Status: orchestrate.StatusSuccess},
	}}
	order, withheld := publishable(staged, run, plan)
	assert.Equal(t, []string{"c"}, order)
	assert.Equal(t, map[string]string{"a": "test t errored", "b": "upstream a was not published"}, withheld)
}

func TestIncrementalRollbackIsCorrectAndUndoable(t *testing.T) {
	e, clk := wapEnv(t)
	p := newWAP()
	require.True(t, p.run(t, e, RunnerOptions{}).OK()) // snapshot 1: inc = batch 1
	for batch := 2; batch <= 3; batch++ {
		clk.t = clk.t.Add(time.Hour)
		mustExec(t, e, fmt.Sprintf("insert into raw.src values (%d, %d)", batch, batch*10))
		require.True(t, p.run(t, e, RunnerOptions{}).OK())
	}
	count := func() int64 { return scalar[int64](t, e, "select count(*) from core.inc") }
	assert.Equal(t, int64(4), count())
	// One lineage table holds every version: no copies per run.
	assert.Equal(t, int64(1), scalar[int64](t, e, "select count(*) from duckdb_tables() where schema_name = '_dataops_versions' and table_name like 'core__inc__L%'"))

	// Roll inc back to snapshot 1: the rows of batches 2 and 3 disappear.
	rb, err := e.Rollback(t.Context(), RollbackOptions{To: 1, Models: []string{"inc"}, Actor: "dba"})
	require.NoError(t, err)
	assert.Equal(t, snapshot.KindRollback, rb.Kind)
	assert.Equal(t, int64(1), rb.RestoredFrom)
	assert.Equal(t, "dba", rb.Actor)
	assert.Equal(t, int64(2), count())
	assert.Equal(t, [][]any{{int64(530)}}, rowsOf(t, e, "select total::bigint from marts.c"), "models not selected keep their version")

	// Undo: back again.
	_, err = e.UndoRollback(t.Context(), "dba")
	require.NoError(t, err)
	assert.Equal(t, int64(4), count())

	// Roll back again, then build: the build continues from the rolled-back
	// version and the abandoned versions are purged.
	_, err = e.Rollback(t.Context(), RollbackOptions{To: 1, Models: []string{"inc"}})
	require.NoError(t, err)
	clk.t = clk.t.Add(time.Hour)
	mustExec(t, e, "insert into raw.src values (4, 40)")
	require.True(t, p.run(t, e, RunnerOptions{}).OK())
	assert.Equal(t, [][]any{{int32(1)}, {int32(1)}, {int32(4)}}, rowsOf(t, e, "select batch from core.inc order by batch"))

	// Snapshot 3 had batches 2 and 3: that version was purged, and a
	// rollback to it is refused, changing nothing.
	_, err = e.Rollback(t.Context(), RollbackOptions{To: 3, Models: []string{"inc"}})
	var ce *CollectedError
	require.ErrorAs(t, err, &ce)
	assert.Contains(t, err.Error(), "cannot roll back to snapshot #3: the data of inc (version")
	assert.Equal(t, int64(3), count())
}

func TestRollbackWholeEnvironmentAndRestoreAt(t *testing.T) {
	e, clk := wapEnv(t)
	p := newWAP()
	start := clk.t
	require.True(t, p.run(t, e, RunnerOptions{}).OK()) // #1 at 05:00
	clk.t = start.Add(time.Hour)
	mustExec(t, e, "update raw.src set x = x + 100")
	p.a.RawSQL = `select x, 'v2' as tag from "raw"."src"` // a new column too
	require.True(t, p.run(t, e, RunnerOptions{}).OK())    // #2 at 06:00
	total := func() int64 { return scalar[int64](t, e, "select total::bigint from marts.c") }
	assert.Equal(t, int64(2030), total())

	// As it was at 05:30: snapshot #1, every model, one transaction.
	rb, err := e.Rollback(t.Context(), RollbackOptions{At: start.Add(30 * time.Minute)})
	require.NoError(t, err)
	assert.Equal(t, int64(1), rb.RestoredFrom)
	assert.Contains(t, rb.Note, "restore as of 2026-11-25T05:30:00Z")
	assert.Equal(t, int64(30), total())
	assert.Equal(t, []string{"x"}, rowsColumns(t, e, "select * from core.a"), "the old shape of a is back")

	// The rollback is a snapshot; undo returns to #2.
	list, err := e.Snapshots().List(t.Context(), 0)
	require.NoError(t, err)
	require.Len(t, list, 3)
	assert.Empty(t, snapshot.Diff(mustSnap(t, e, 1), list[0]), "the rollback's state is #1's")
	_, err = e.UndoRollback(t.Context(), "")
	require.NoError(t, err)
	assert.Equal(t, int64(2030), total())

	// Bad input changes nothing.
	_, err = e.Rollback(t.Context(), RollbackOptions{To: 99})
	require.ErrorIs(t, err, snapshot.ErrNotFound)
	assert.Contains(t, err.Error(), "snapshot #99 not found (snapshots go up to #4")
	_, err = e.Rollback(t.Context(), RollbackOptions{At: start.Add(-time.Hour)})
	require.ErrorIs(t, err, snapshot.ErrNoSnapshot)
	assert.Contains(t, err.Error(), "the first retained snapshot is from 2026-11-25T05:00:00Z")
	_, err = e.Rollback(t.Context(), RollbackOptions{To: 1, Models: []string{"nope", `x"; drop table raw.src; --`}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "snapshot #1 has no model nope")
	assert.Equal(t, int64(2030), total())
	assert.Equal(t, int64(2), scalar[int64](t, e, "select count(*) from raw.src"))
}

func rowsColumns(t *testing.T, e *Env, q string) []string {
	t.Helper()
	res, err := e.Query(t.Context(), q)
	require.NoError(t, err)
	return res.Columns
}

func mustSnap(t *testing.T, e *Env, id int64) snapshot.Snapshot {
	t.Helper()
	s, err := e.Snapshots().Get(t.Context(), id)
	require.NoError(t, err)
	return s
}

func TestGCKeepsRetainedVersionsAndIsIdempotent(t *testing.T) {
	e, clk := wapEnv(t)
	p := newWAP()
	for i := range 6 {
		clk.t = clk.t.Add(time.Hour)
		mustExec(t, e, fmt.Sprintf("insert into raw.src values (%d, %d)", i+2, i+2))
		require.True(t, p.run(t, e, RunnerOptions{}).OK())
	}
	physical := func() int64 {
		return scalar[int64](t, e, "select count(*) from duckdb_tables() where schema_name = '_dataops_versions'")
	}
	assert.Equal(t, int64(6*2+1), physical(), "a and c per run, one lineage table for inc")
	ret := snapshot.Retention{KeepLast: 2}

	// A crash halfway (the second drop fails) leaves a consistent state...
	calls := 0
	testHookGCDrop = func(string) error {
		calls++
		if calls == 2 {
			return errors.New("killed")
		}
		return nil
	}
	_, err := e.GC(t.Context(), GCOptions{Retention: &ret})
	testHookGCDrop = nil
	require.Error(t, err)
	assert.Contains(t, err.Error(), "run gc again to finish")
	// ...and every retained snapshot still restores.
	_, err = e.Rollback(t.Context(), RollbackOptions{To: 5})
	require.NoError(t, err)
	assert.Equal(t, int64(5), scalar[int64](t, e, "select count(*) from core.inc"))
	_, err = e.UndoRollback(t.Context(), "")
	require.NoError(t, err)

	rep, err := e.GC(t.Context(), GCOptions{Retention: &ret})
	require.NoError(t, err)
	assert.Equal(t, []int64{8, 7}, rep.Kept, "the two newest: the undo and the rollback")
	assert.Positive(t, rep.Trimmed+int64(len(rep.Dropped)))
	// Snapshots 7 and 8 reference the versions of runs 5 and 6.
	assert.Equal(t, int64(2*2+1), physical())
	for _, id := range []int64{7, 8} {
		s := mustSnap(t, e, id)
		for _, v := range s.Models {
			if v.Physical != "" {
				ok, err := tableExists(t.Context(), e.DB(), v.Physical)
				require.NoError(t, err)
				assert.True(t, ok, "snapshot #%d needs %s", id, v.Physical)
			}
		}
	}
	_, err = e.Rollback(t.Context(), RollbackOptions{To: 7})
	require.NoError(t, err)
	assert.Equal(t, int64(5), scalar[int64](t, e, "select count(*) from core.inc"), "run 5's inc: 5 rows (its first build had 1)")
	_, err = e.Rollback(t.Context(), RollbackOptions{To: 2})
	require.ErrorIs(t, err, snapshot.ErrNotFound, "forgotten snapshots are gone")

	// Idempotent: nothing more to do.
	again, err := e.GC(t.Context(), GCOptions{Retention: &ret})
	require.NoError(t, err)
	assert.Empty(t, again.Dropped)
	assert.Zero(t, again.Collected)
}

func TestGCDropsLeftoversAndUnpublishedVersions(t *testing.T) {
	e, clk := wapEnv(t)
	p := newWAP()
	require.True(t, p.run(t, e, RunnerOptions{}).OK())
	// A withheld version, and a leftover the catalog does not know.
	clk.t = clk.t.Add(time.Hour)
	mustExec(t, e, "insert into raw.src values (2, -1)")
	require.False(t, p.run(t, e, RunnerOptions{}).OK())
	mustExec(t, e, `create table "_dataops_versions"."stray" as select 1 as x`)
	rep, err := e.GC(t.Context(), GCOptions{})
	require.NoError(t, err)
	assert.Contains(t, rep.Dropped, `"_dataops_versions"."stray"`)
	var droppedA bool
	for _, d := range rep.Dropped {
		droppedA = droppedA || strings.HasPrefix(d, `"_dataops_versions"."core__a__v`)
	}
	assert.True(t, droppedA, "the withheld version of a is collected: %v", rep.Dropped)
	assert.Equal(t, [][]any{{int32(1)}, {int32(2)}}, rowsOf(t, e, "select x from core.a order by x"))
}

func TestBackupAndRestore(t *testing.T) {
	e, _ := wapEnv(t)
	p := newWAP()
	require.True(t, p.run(t, e, RunnerOptions{}).OK())
	// A name with a quote, a slash and a space reaches SQL quoted and no path.
	mustExec(t, e, `create table raw."we""ird/../name x" as select 42 as answer`)
	dir := filepath.Join(t.TempDir(), "backup")
	m, err := e.ExportBackup(t.Context(), dir)
	require.NoError(t, err)
	assert.Equal(t, int64(1), m.Snapshot)
	assert.Positive(t, m.Rows())
	_, err = e.ExportBackup(t.Context(), dir)
	require.ErrorContains(t, err, "exists and is not empty")

	dest := filepath.Join(t.TempDir(), "restored.duckdb")
	got, err := RestoreBackup(t.Context(), dir, dest, RestoreOptions{})
	require.NoError(t, err)
	assert.Equal(t, m.Rows(), got.Rows())
	r, err := Open(t.Context(), Config{Path: dest})
	require.NoError(t, err)
	res, err := r.Query(t.Context(), "select total::bigint from marts.c")
	require.NoError(t, err)
	assert.Equal(t, [][]any{{int64(30)}}, res.Rows)
	assert.Equal(t, int32(42), scalar[int32](t, r, `select answer from raw."we""ird/../name x"`))
	// Snapshots came along: the restored database can roll back too.
	s, err := r.Snapshots().Get(t.Context(), 1)
	require.NoError(t, err)
	assert.Len(t, s.Models, 4)
	require.NoError(t, r.Close())

	// An existing target is refused without Overwrite.
	_, err = RestoreBackup(t.Context(), dir, dest, RestoreOptions{})
	require.ErrorContains(t, err, "already exists")

	// A damaged backup is refused before anything is written.
	data := filepath.Join(dir, m.Tables[0].File)
	require.NoError(t, os.WriteFile(data, []byte("not parquet"), 0o644))
	require.NoError(t, os.Remove(filepath.Join(dir, m.Tables[1].File)))
	fresh := filepath.Join(t.TempDir(), "fresh.duckdb")
	_, err = RestoreBackup(t.Context(), dir, fresh, RestoreOptions{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), m.Tables[0].File+" was altered (checksum mismatch)")
	assert.Contains(t, err.Error(), m.Tables[1].File+" is missing")
	assert.NoFileExists(t, fresh)
	entries, _ := os.ReadDir(filepath.Dir(fresh))
	assert.Empty(t, entries, "no temporary file left")

	_, err = RestoreBackup(t.Context(), t.TempDir(), fresh, RestoreOptions{})
	require.ErrorContains(t, err, "not a backup folder: manifest.json is missing")
}

func TestCompactShrinksTheFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.duckdb")
	e, err := Open(t.Context(), Config{Path: path})
	require.NoError(t, err)
	mustExec(t, e, "create table big as select range as id, md5(range::varchar) || md5((range + 1)::varchar) as pad from range(300000)")
	mustExec(t, e, "create table small as select 1 as id")
	mustExec(t, e, "checkpoint")
	mustExec(t, e, "drop table big")
	mustExec(t, e, "checkpoint")
	require.NoError(t, e.Close())
	rep, err := CompactFile(t.Context(), Config{Path: path})
	require.NoError(t, err)
	assert.Less(t, rep.BytesAfter, rep.BytesBefore/2, "%+v", rep)
	e, err = Open(t.Context(), Config{Path: path})
	require.NoError(t, err)
	defer e.Close()
	assert.Equal(t, int64(1), scalar[int64](t, e, "select count(*) from small"))
}

// TestGCLeavesAStagedIncrementalAlone: the janitor running while a run has
// staged new rows of an incremental model (not yet published, so not in
// the catalog) must not trim them.
func TestGCLeavesAStagedIncrementalAlone(t *testing.T) {
	e, clk := wapEnv(t)
	p := newWAP()
	require.True(t, p.run(t, e, RunnerOptions{}).OK())
	clk.t = clk.t.Add(time.Hour)
	mustExec(t, e, "insert into raw.src values (2, 20), (2, 21)")
	r := e.Runner(RunnerOptions{})
	_, err := r.Run(t.Context(), p.nodes[4]) // inc
	require.NoError(t, err)
	_, err = e.GC(t.Context(), GCOptions{Retention: &snapshot.Retention{KeepLast: 1}})
	require.NoError(t, err)
	_, err = r.Publish(t.Context(), nil, nil)
	require.NoError(t, err)
	assert.Equal(t, int64(4), scalar[int64](t, e, "select count(*) from core.inc"), "the staged rows survived the janitor")
}

// TestReplaceTablesLeavesDataopsSchemasAlone: a refresh copies data, not
// another environment's history or versions.
func TestReplaceTablesLeavesDataopsSchemasAlone(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src.duckdb")
	s, err := Open(t.Context(), Config{Path: src})
	require.NoError(t, err)
	mustExec(t, s, "create schema raw; create table raw.t as select 1 as x")
	mustExec(t, s, `create schema "_dataops_versions"; create table "_dataops_versions"."main__m__v1" as select 'production' as who`)
	require.NoError(t, s.Close())
	e := openFile(t)
	mustExec(t, e, `create schema "_dataops_versions"; create table "_dataops_versions"."main__m__v1" as select 'staging' as who`)
	tables, err := e.ReplaceTables(t.Context(), src)
	require.NoError(t, err)
	require.Len(t, tables, 1)
	assert.Equal(t, "raw", tables[0].Schema)
	assert.Equal(t, "staging", scalar[string](t, e, `select who from "_dataops_versions"."main__m__v1"`))
}
