package duckenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vyaparbazaar/dataops/orchestrate"
	"github.com/vyaparbazaar/dataops/orchestrate/project"
)

func TestViewModel(t *testing.T) {
	e := openFile(t)
	n := modelNode("v_orders", "models/v_orders.sql", "select 1 as id, 'a' as name", "")
	n.Spec.(*project.Model).Schema = "analytics"
	out := mustRun(t, e, RunnerOptions{}, n)
	assert.Equal(t, int64(-1), out.RowsAffected)
	assert.Equal(t, "CREATE VIEW", out.Message)
	assert.Equal(t, "analytics.v_orders", out.Relation)
	assert.Equal(t, "select 1 as id, 'a' as name", out.CompiledSQL)
	assert.Equal(t, "VIEW", scalar[string](t, e,
		"select table_type from information_schema.tables where table_schema='analytics' and table_name='v_orders'"))
	assert.Equal(t, [][]any{{int32(1), "a"}}, rowsOf(t, e, "select * from analytics.v_orders"))

	// Re-running replaces the view.
	n.Spec.(*project.Model).RawSQL = "select 2 as id"
	mustRun(t, e, RunnerOptions{}, n)
	assert.Equal(t, [][]any{{int32(2)}}, rowsOf(t, e, "select * from analytics.v_orders"))
}

func TestTableModel(t *testing.T) {
	e := openFile(t)
	n := modelNode("orders", "models/orders.sql", "select * from range(5) r(id);\n", "table")
	out := mustRun(t, e, RunnerOptions{}, n)
	assert.Equal(t, int64(5), out.RowsAffected)
	assert.Equal(t, "SELECT 5", out.Message)
	assert.Equal(t, "main.orders", out.Relation)
	// Readers query a view of the published version, a table in the
	// hidden versions schema.
	assert.Equal(t, "VIEW", scalar[string](t, e, "select table_type from information_schema.tables where table_name='orders'"))
	assert.Equal(t, "BASE TABLE", scalar[string](t, e, "select table_type from information_schema.tables where table_schema='_dataops_versions' and table_name like 'main__orders__v%'"))

	n.Spec.(*project.Model).RawSQL = "select * from range(7) r(id)"
	out = mustRun(t, e, RunnerOptions{}, n)
	assert.Equal(t, int64(7), out.RowsAffected)
	assert.Equal(t, int64(7), scalar[int64](t, e, "select count(*) from orders"))
	assert.Empty(t, tempTables(t, e))
}

func TestViewAndTableReplaceEachOther(t *testing.T) {
	e := openFile(t)
	n := modelNode("m", "", "select 1 as x", "table")
	m := n.Spec.(*project.Model)
	// typ is the materialization of the version readers see.
	typ := func() string {
		v, ok, err := e.publishedVersion(t.Context(), e.DB(), "m")
		require.NoError(t, err)
		require.True(t, ok)
		return v.Materialized
	}
	mustRun(t, e, RunnerOptions{}, n)
	assert.Equal(t, "table", typ())

	m.Materialized, m.RawSQL = "view", "select 2 as x"
	mustRun(t, e, RunnerOptions{}, n)
	assert.Equal(t, "view", typ())
	assert.Equal(t, [][]any{{int32(2)}}, rowsOf(t, e, "select * from m"))

	m.Materialized, m.RawSQL = "table", "select 3 as x"
	mustRun(t, e, RunnerOptions{}, n)
	assert.Equal(t, "table", typ())
	assert.Equal(t, [][]any{{int32(3)}}, rowsOf(t, e, "select * from m"))

	m.Materialized = "incremental"
	m.RawSQL = "select 4 as x"
	mustRun(t, e, RunnerOptions{}, n) // a table is not incremental: built anew
	assert.Equal(t, "incremental", typ())
	assert.Equal(t, [][]any{{int32(4)}}, rowsOf(t, e, "select * from m"))
	m.RawSQL = "select 44 as x"
	mustRun(t, e, RunnerOptions{}, n) // now it appends
	assert.Equal(t, int64(2), scalar[int64](t, e, "select count(*) from m"))

	m.Materialized, m.RawSQL = "view", "select 5 as x"
	mustRun(t, e, RunnerOptions{}, n)
	m.Materialized, m.RawSQL = "incremental", "select 6 as x"
	mustRun(t, e, RunnerOptions{}, n) // a view is not incremental: rebuilt
	assert.Equal(t, "incremental", typ())
	assert.Equal(t, [][]any{{int32(6)}}, rowsOf(t, e, "select * from m"))
}

func TestEphemeralModel(t *testing.T) {
	e := openFile(t)
	out := mustRun(t, e, RunnerOptions{}, modelNode("eph", "models/eph.sql", "select 1", "ephemeral"))
	assert.Equal(t, "ephemeral (inlined)", out.Message)
	assert.Equal(t, int64(0), scalar[int64](t, e, "select count(*) from information_schema.tables where table_name='eph'"))
}

func TestUnknownMaterializationAndSpec(t *testing.T) {
	e := openFile(t)
	_, err := run(t, e, RunnerOptions{}, modelNode("m", "models/m.sql", "select 1", "snapshot"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `models/m.sql: model m: unknown materialization "snapshot"`)

	_, err = run(t, e, RunnerOptions{}, &orchestrate.Node{Name: "task1", Kind: orchestrate.KindTask, Spec: 42})
	require.EqualError(t, err, "no runner for node task1 (spec type int)")
	_, err = run(t, e, RunnerOptions{}, &orchestrate.Node{Name: "x"})
	require.EqualError(t, err, "no runner for node x (spec type <nil>)")
}

func TestFailingTableKeepsOldTable(t *testing.T) {
	e := openFile(t)
	n := modelNode("orders", "models/orders.sql", "select * from range(3) r(id)", "table")
	mustRun(t, e, RunnerOptions{}, n)

	// A runtime failure (after binding) during the build.
	n.Spec.(*project.Model).RawSQL = "select id, cast(case when id = 9 then 'nope' else id::varchar end as integer) as y from range(10) r(id)"
	_, err := run(t, e, RunnerOptions{}, n)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "models/orders.sql")
	// A binder failure.
	n.Spec.(*project.Model).RawSQL = "select missing_col from range(10)"
	_, err = run(t, e, RunnerOptions{}, n)
	require.Error(t, err)

	assert.Equal(t, [][]any{{int64(0)}, {int64(1)}, {int64(2)}}, rowsOf(t, e, "select id from orders order by id"))
	assert.Empty(t, tempTables(t, e))
}

// longQuery runs for many seconds unless interrupted.
const longQuery = "select count(*) as n from range(100000) a, range(100000) b"

func TestCancelledBuildKeepsOldTable(t *testing.T) {
	e := openFile(t)
	n := modelNode("orders", "models/orders.sql", "select * from range(3) r(id)", "table")
	mustRun(t, e, RunnerOptions{}, n)

	n.Spec.(*project.Model).RawSQL = longQuery
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	_, err := e.Runner(RunnerOptions{}).Run(ctx, n)
	elapsed := time.Since(start)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Less(t, elapsed, 5*time.Second, "cancellation must interrupt the running query")
	t.Logf("cancelled after %v: %v", elapsed, err)

	assert.Equal(t, int64(3), scalar[int64](t, e, "select count(*) from orders"))
	assert.Empty(t, tempTables(t, e))

	// The pool's connections are usable afterwards.
	n.Spec.(*project.Model).RawSQL = "select * from range(4) r(id)"
	out := mustRun(t, e, RunnerOptions{}, n)
	assert.Equal(t, int64(4), out.RowsAffected)
}

func TestTimeoutInterruptsQueryAndConnStaysUsable(t *testing.T) {
	e := openFile(t)
	conn, err := e.DB().Conn(context.Background())
	require.NoError(t, err)
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = conn.ExecContext(ctx, longQuery)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second)
	var one int
	require.NoError(t, conn.QueryRowContext(context.Background(), "select 1").Scan(&one))
	assert.Equal(t, 1, one)

	// Query honours its context the same way.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel2()
	start = time.Now()
	_, err = e.Query(ctx2, longQuery)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Equal(t, [][]any{{int32(1)}}, rowsOf(t, e, "select 1"))
}

func TestLeftoverScratchTablesAreDropped(t *testing.T) {
	e := openFile(t)
	mustExec(t, e, `create schema s`)
	mustExec(t, e, `create table s."__dataops_tmp_orders_0badf00d" as select 1 as x`)
	mustExec(t, e, `create table s."__dataops_tmp_orders_items_0badf00d" as select 1 as x`)
	n := modelNode("orders", "", "select 1 as id", "table")
	n.Spec.(*project.Model).Schema = "s"
	mustRun(t, e, RunnerOptions{}, n)
	assert.Equal(t, []string{"s.__dataops_tmp_orders_items_0badf00d"}, tempTables(t, e),
		"only the leftovers of the relation being built are dropped")
}

func TestConcurrentModelsInNewSchema(t *testing.T) {
	e := openFile(t)
	r := e.Runner(RunnerOptions{})
	// Twice: the second round replaces every relation concurrently.
	for round := range 2 {
		var wg sync.WaitGroup
		errs := make([]error, 12)
		for i := range 12 {
			wg.Go(func() {
				mat := []string{"table", "view", "incremental"}[i%3]
				n := modelNode(fmt.Sprintf("m%d", i), "", fmt.Sprintf("select %d as x", i), mat)
				n.Spec.(*project.Model).Schema = "mart"
				_, errs[i] = r.Run(context.Background(), n)
			})
		}
		wg.Wait()
		for _, err := range errs {
			require.NoError(t, err, "round %d", round)
		}
		pub, err := r.Publish(t.Context(), nil, nil)
		require.NoError(t, err)
		assert.Len(t, pub.Published, 12)
	}
	assert.Equal(t, int64(12), scalar[int64](t, e, "select count(*) from information_schema.tables where table_schema='mart'"))
	assert.Equal(t, int64(2), scalar[int64](t, e, "select count(*) from mart.m2"), "incremental appended")
	assert.Empty(t, tempTables(t, e))
}

// incrementalEnv prepares raw.events with batch 1 and builds model "ev".
func incrementalEnv(t *testing.T, strategy string, key []string) (*Env, *orchestrate.Node) {
	t.Helper()
	e := openFile(t)
	mustExec(t, e, "create schema raw")
	mustExec(t, e, "create table raw.events (batch int, id int, v varchar)")
	mustExec(t, e, "insert into raw.events values (1, 1, 'a'), (1, 2, 'b')")
	m := &project.Model{
		Name: "ev", Path: "models/ev.sql", Materialized: "incremental",
		IncrementalStrategy: strategy, UniqueKey: key,
		RawSQL: "select id, v from raw.events where batch = (select max(batch) from raw.events)",
	}
	n := &orchestrate.Node{Name: "ev", Kind: orchestrate.KindModel, Spec: m}
	out := mustRun(t, e, RunnerOptions{}, n)
	assert.Equal(t, int64(2), out.RowsAffected)
	assert.Equal(t, "SELECT 2", out.Message)
	mustExec(t, e, "insert into raw.events values (2, 2, 'b2'), (2, 3, 'c')")
	// The second run's SQL lists the columns in another order: inserts
	// match columns by name.
	m.RawSQL = "select v, id from raw.events where batch = (select max(batch) from raw.events)"
	return e, n
}

func TestIncrementalAppend(t *testing.T) {
	e, n := incrementalEnv(t, "", nil)
	out := mustRun(t, e, RunnerOptions{}, n)
	assert.Equal(t, int64(2), out.RowsAffected)
	assert.Equal(t, "INSERT 2", out.Message)
	assert.Equal(t, [][]any{{int32(1), "a"}, {int32(2), "b"}, {int32(2), "b2"}, {int32(3), "c"}},
		rowsOf(t, e, "select id, v from ev order by id, v"))
	assert.Empty(t, tempTables(t, e))
}

func TestIncrementalDeleteInsert(t *testing.T) {
	e, n := incrementalEnv(t, "delete+insert", []string{"id"})
	mustRun(t, e, RunnerOptions{}, n)
	assert.Equal(t, [][]any{{int32(1), "a"}, {int32(2), "b2"}, {int32(3), "c"}},
		rowsOf(t, e, "select id, v from ev order by id"))
	assert.Empty(t, tempTables(t, e))
}

func TestIncrementalDefaultStrategyWithKeyIsDeleteInsert(t *testing.T) {
	e, n := incrementalEnv(t, "", []string{"id"})
	mustRun(t, e, RunnerOptions{}, n)
	assert.Equal(t, [][]any{{int32(1), "a"}, {int32(2), "b2"}, {int32(3), "c"}},
		rowsOf(t, e, "select id, v from ev order by id"))
}

func TestIncrementalMerge(t *testing.T) {
	e, n := incrementalEnv(t, "merge", []string{"id"})
	// Merge replaces the rows whose key matches a new row and adds the
	// others (applied as delete+insert of the new rows' versions).
	mustRun(t, e, RunnerOptions{}, n)
	assert.Equal(t, [][]any{{int32(1), "a"}, {int32(2), "b2"}, {int32(3), "c"}},
		rowsOf(t, e, "select id, v from ev order by id"))
	assert.Empty(t, tempTables(t, e))
}

func TestIncrementalFullRefresh(t *testing.T) {
	e, n := incrementalEnv(t, "delete+insert", []string{"id"})
	out := mustRun(t, e, RunnerOptions{FullRefresh: true}, n)
	assert.Equal(t, "SELECT 2", out.Message)
	assert.Equal(t, [][]any{{int32(2), "b2"}, {int32(3), "c"}}, rowsOf(t, e, "select id, v from ev order by id"))
	// Rebuilt from the new SQL: columns in its order.
	assert.Equal(t, "v", scalar[string](t, e, "select column_name from information_schema.columns where table_name='ev' and ordinal_position=1"))
}

func TestIncrementalTargetDropped(t *testing.T) {
	e, n := incrementalEnv(t, "append", nil)
	// Dropping the view readers query loses no data: the next publish
	// puts it back, with the new rows added.
	mustExec(t, e, "drop view ev")
	out := mustRun(t, e, RunnerOptions{}, n)
	assert.Equal(t, "INSERT 2", out.Message)
	assert.Equal(t, int64(4), scalar[int64](t, e, "select count(*) from ev"))
}

func TestIncrementalErrors(t *testing.T) {
	e, n := incrementalEnv(t, "delete+insert", nil)
	_, err := run(t, e, RunnerOptions{}, n)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "models/ev.sql: model ev: incremental_strategy delete+insert needs a unique_key")

	n.Spec.(*project.Model).IncrementalStrategy = "insert_overwrite"
	_, err = run(t, e, RunnerOptions{}, n)
	require.ErrorContains(t, err, `unknown incremental_strategy "insert_overwrite"`)

	// A failing insert (a column the target lacks) leaves the target as it was.
	m := n.Spec.(*project.Model)
	m.IncrementalStrategy = "append"
	m.RawSQL = "select id, v, 'x' as extra from raw.events"
	_, err = run(t, e, RunnerOptions{}, n)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "models/ev.sql: model ev: ")
	assert.Contains(t, err.Error(), "extra")
	assert.Equal(t, int64(2), scalar[int64](t, e, "select count(*) from ev"))
	assert.Empty(t, tempTables(t, e))
}

func TestSQLErrorPointsAtModelLine(t *testing.T) {
	e := openFile(t)
	mustExec(t, e, "create table src as select 1 as id")
	sql := "select\n  id,\n  no_such_column\nfrom src\n"
	for _, mat := range []string{"view", "table", "incremental"} {
		t.Run(mat, func(t *testing.T) {
			_, err := run(t, e, RunnerOptions{}, modelNode("stg_orders", "models/staging/stg_orders.sql", sql, mat))
			require.Error(t, err)
			msg := err.Error()
			assert.True(t, strings.HasPrefix(msg, "models/staging/stg_orders.sql:3: model stg_orders: Binder Error: "), msg)
			assert.Contains(t, msg, `"no_such_column"`)
			assert.Contains(t, msg, "LINE 3:")
			assert.NotContains(t, msg, "CREATE")

			var se *SQLError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, 3, se.Line)
			var de *duckdb.Error
			require.ErrorAs(t, err, &de, "the driver error stays wrapped")
			assert.Equal(t, duckdb.ErrorTypeBinder, de.Type)
		})
	}

	// Models declared in Go have no file.
	_, err := run(t, e, RunnerOptions{}, modelNode("x", "", sql, "table"))
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "model x: Binder Error: "), err.Error())
}

func TestMapLinesThroughSourceLine(t *testing.T) {
	c := project.Compiled{
		SQL:        "select\n  a,\n  b\nfrom t",
		Path:       "models/m.sql",
		SourceLine: func(n int) int { return n + 10 }, // a Jinja header of 10 lines
	}
	msg := "Binder Error: x\n\nLINE 4:   b\n          ^"
	got, line := mapLines(msg, c)
	assert.Equal(t, 13, line)
	assert.Equal(t, "Binder Error: x\n\nLINE 13:   b\n           ^", got)

	// References outside the SELECT (the wrapper) are left alone.
	got, line = mapLines("Parser Error: x\nLINE 1: CREATE", c)
	assert.Equal(t, 0, line)
	assert.Equal(t, "Parser Error: x\nLINE 1: CREATE", got)

	err := sqlError(errors.New("boom"), "model", "m", "", &c)
	assert.EqualError(t, err, "models/m.sql: model m: boom")
}

func TestTargetDirFiles(t *testing.T) {
	e := openFile(t)
	target := t.TempDir()
	opts := RunnerOptions{TargetDir: target}
	mustRun(t, e, opts, modelNode("orders", "models/staging/orders.sql", "select 1 as id", "table"))
	mustRun(t, e, opts, modelNode("go_model", "", "select 2 as id", "view"))

	compiled, err := os.ReadFile(filepath.Join(target, "compiled", "models", "staging", "orders.sql"))
	require.NoError(t, err)
	assert.Equal(t, "select 1 as id\n", string(compiled))
	ran, err := os.ReadFile(filepath.Join(target, "run", "models", "staging", "orders.sql"))
	require.NoError(t, err)
	assert.Contains(t, string(ran), `CREATE TABLE "_dataops_versions"."main__orders__v`)
	assert.FileExists(t, filepath.Join(target, "compiled", "go_model.sql"))
	ran, err = os.ReadFile(filepath.Join(target, "run", "go_model.sql"))
	require.NoError(t, err)
	assert.Contains(t, string(ran), `CREATE VIEW "_dataops_versions"."main__go_model__r`)

	// Failing nodes still leave their SQL behind.
	_, err = run(t, e, opts, modelNode("bad", "models/bad.sql", "select nope", "table"))
	require.Error(t, err)
	assert.FileExists(t, filepath.Join(target, "compiled", "models", "bad.sql"))
	assert.FileExists(t, filepath.Join(target, "run", "models", "bad.sql"))
}

func TestSchemaNamedLikeTheDatabaseFileIsAClearError(t *testing.T) {
	e, err := Open(t.Context(), Config{Path: filepath.Join(t.TempDir(), "staging.duckdb")})
	require.NoError(t, err)
	defer e.Close()
	n := modelNode("stg_orders", "models/stg_orders.sql", "select 1 as id", "table")
	n.Spec.(*project.Model).Schema = "staging"
	_, err = run(t, e, RunnerOptions{}, n)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `the database file staging.duckdb gives DuckDB the catalog name "staging", the same as schema "staging"`)
}
