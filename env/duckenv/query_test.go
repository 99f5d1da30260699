package duckenv

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQueryRunsSelects(t *testing.T) {
	e := openFile(t)
	mustExec(t, e, "create table t as select * from (values (1, 'a'), (2, 'b')) v(id, name)")
	res, err := e.Query(context.Background(), "select id, name from t order by id")
	require.NoError(t, err)
	assert.Equal(t, []string{"id", "name"}, res.Columns)
	assert.Equal(t, [][]any{{int32(1), "a"}, {int32(2), "b"}}, res.Rows)

	for _, q := range []string{
		"from t",
		"  (select 1) ;  ",
		"with x as (select 1 as a) select * from x",
		"select 'read_csv(''x.csv'')' as s, ';' as semi -- ; trailing comment",
		"/* ; */ select count(*) from t, (select 1) as u(x)",
		"select * from main.t",
		"describe t",
		"show tables",
		"summarize t",
		"explain select * from t",
		"select * from generate_series(1, 3)",
		"select $$it's; fine$$ as s",
		"values (1), (2)",
		"pivot t on name using count(*)",
	} {
		_, err := e.Query(context.Background(), q)
		assert.NoError(t, err, q)
	}
	empty, err := e.Query(context.Background(), "select * from t where false")
	require.NoError(t, err)
	assert.NotNil(t, empty.Rows)
	assert.Empty(t, empty.Rows)
}

func TestQueryRefusals(t *testing.T) {
	e := openFile(t)
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "data.csv")
	require.NoError(t, os.WriteFile(csvPath, []byte("a,b\n1,2\n"), 0o644))
	mustExec(t, e, "create table t as select 1 as x")
	out := filepath.Join(dir, "out.csv")

	cases := map[string]string{
		"multi":              "select 1; select 2",
		"multi with write":   "select 1; drop table t",
		"copy":               "COPY t TO '" + out + "'",
		"copy lower":         "copy (select 1) to '" + out + "'",
		"export":             "EXPORT DATABASE '" + dir + "/exp'",
		"import":             "IMPORT DATABASE '" + dir + "/exp'",
		"attach":             "ATTACH ':memory:' AS other",
		"detach":             "DETACH other",
		"set":                "SET threads = 1",
		"set global":         "set global threads=1",
		"reset":              "RESET threads",
		"load":               "LOAD httpfs",
		"install":            "INSTALL httpfs",
		"force install":      "FORCE INSTALL httpfs",
		"pragma":             "PRAGMA threads=1",
		"call":               "CALL pragma_version()",
		"create temp":        "CREATE TEMP TABLE x AS SELECT 1",
		"create or repl tmp": "create or replace temporary view v as select 1",
		"create temp macro":  "create temp macro m(x) as x",
		"create secret":      "create secret s (type s3)",
		"checkpoint":         "CHECKPOINT",
		"force checkpoint":   "FORCE CHECKPOINT",
		"checkpoint fn":      "select * from checkpoint()",
		"use":                "USE memory",
		"begin":              "BEGIN",
		"commit":             "commit",
		"read_csv":           "select * from read_csv('" + csvPath + "')",
		"read_csv_auto":      "select * from READ_CSV_AUTO('" + csvPath + "')",
		"read_csv quoted fn": `select * from "read_csv"('` + csvPath + `')`,
		"read_csv in where":  "select 1 where exists (select * from read_csv('" + csvPath + "'))",
		"read_parquet":       "select * from read_parquet('x.parquet')",
		"parquet_scan":       "select * from parquet_scan('x.parquet')",
		"parquet_metadata":   "select * from parquet_metadata('x.parquet')",
		"read_json":          "select * from read_json('x.json')",
		"read_json_auto":     "select * from read_json_auto('x.json')",
		"read_ndjson":        "select * from read_ndjson('x.json')",
		"read_text":          "select * from read_text('/etc/passwd')",
		"read_blob":          "select * from read_blob('/etc/passwd')",
		"glob":               "select * from glob('/etc/*')",
		"sniff_csv":          "select * from sniff_csv('" + csvPath + "')",
		"from string":        "select * from '" + csvPath + "'",
		"from quoted path":   `select * from "` + csvPath + `"`,
		"from dotted file":   "from data.csv",
		"join string":        "select * from t join '" + csvPath + "' on true",
		"comma string":       "select * from t, '" + csvPath + "'",
		"describe file":      "describe '" + csvPath + "'",
		"summarize file":     "summarize '" + csvPath + "'",
		"subquery file":      "select * from (from '" + csvPath + "')",
		"query fn":           "select * from query('select 1')",
		"explain copy":       "explain analyze copy t to '" + out + "'",
		"empty":              "  -- nothing\n ; ",
		"unterminated":       "select 'abc",
		// A line comment ends at \r for DuckDB: what follows must be seen.
		"cr comment file":    "select * from t --\r, read_text('" + csvPath + "')",
		"cr comment copy":    "select 1 --\r; copy (select 42) to '" + out + "'",
		"cr comment drop":    "select 1 --\r; commit; drop table t; select 1",
		"enable_logging":     "select * from enable_logging(storage := 'file', storage_path := '" + dir + "')",
		"enable_profiling":   "select * from enable_profiling()",
		"disable_peg_parser": "select * from disable_peg_parser()",
		"arrow_scan":         "select * from arrow_scan(0, 0, 0)",
	}
	for name, q := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := e.Query(context.Background(), q)
			require.Error(t, err, q)
			assert.ErrorIs(t, err, ErrRefused, q)
			t.Log(err)
		})
	}
	assert.NoFileExists(t, out)
	assert.Equal(t, "2", scalar[string](t, e, "select current_setting('threads')::VARCHAR"), "SET was not run")
	assert.Equal(t, int64(1), scalar[int64](t, e, "select count(*) from t"))
}

func TestQueryIsReadOnly(t *testing.T) {
	e := openFile(t)
	mustExec(t, e, "create table t as select 1 as x")
	for _, q := range []string{
		"CREATE TABLE y AS SELECT 1",
		"insert into t values (2)",
		"drop table t",
		"create schema s",
	} {
		_, err := e.Query(context.Background(), q)
		require.Error(t, err, q)
		// DuckDB's parser types the statement and it is refused before it runs.
		assert.Contains(t, err.Error(), "read-only", q)
	}
	assert.Equal(t, int64(1), scalar[int64](t, e, "select count(*) from t"))
	// The failed transaction was rolled back: the pool stays usable.
	for range 5 {
		assert.Equal(t, [][]any{{int32(1)}}, rowsOf(t, e, "select * from t"))
	}
	_, err := e.Query(context.Background(), "select * from no_such_table")
	require.ErrorContains(t, err, "no_such_table")
}

func TestRunHistoryRoundTrip(t *testing.T) {
	e := openFile(t)
	h, err := e.RunHistory(context.Background(), 10)
	require.NoError(t, err)
	assert.Empty(t, h)

	t0 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	r1 := RunRecord{RunID: "r1", StartedAt: t0, FinishedAt: t0.Add(time.Minute), Status: "success",
		Invocation: "dataops build", NodeCounts: map[string]int{"success": 3},
		Results: json.RawMessage(`[{"node":"a","status":"success"}]`)}
	require.NoError(t, e.RecordRun(context.Background(), r1))
	// Recorded while running, then finished: the row is replaced.
	r2 := RunRecord{RunID: "r2", StartedAt: t0.Add(time.Hour), Status: "running", Invocation: "dataops run -s x"}
	require.NoError(t, e.RecordRun(context.Background(), r2))
	r2.Status, r2.FinishedAt = "error", t0.Add(time.Hour+time.Second)
	r2.NodeCounts = map[string]int{"success": 1, "error": 1, "skipped": 2}
	require.NoError(t, e.RecordRun(context.Background(), r2))

	h, err = e.RunHistory(context.Background(), 0)
	require.NoError(t, err)
	require.Len(t, h, 2)
	assert.Equal(t, "r2", h[0].RunID)
	assert.Equal(t, "error", h[0].Status)
	assert.Equal(t, "dev", h[0].Environment)
	assert.Equal(t, map[string]int{"success": 1, "error": 1, "skipped": 2}, h[0].NodeCounts)
	assert.True(t, h[0].FinishedAt.Equal(t0.Add(time.Hour+time.Second)))
	assert.Nil(t, h[0].Results)

	assert.Equal(t, "r1", h[1].RunID)
	assert.True(t, h[1].StartedAt.Equal(t0), h[1].StartedAt)
	assert.Equal(t, "dataops build", h[1].Invocation)
	assert.JSONEq(t, string(r1.Results), string(h[1].Results))

	h, err = e.RunHistory(context.Background(), 1)
	require.NoError(t, err)
	require.Len(t, h, 1)
	assert.Equal(t, "r2", h[0].RunID)

	// The history lives in the database file.
	path := e.Path()
	require.NoError(t, e.Close())
	e2, err := Open(context.Background(), Config{Path: path, Threads: 2})
	require.NoError(t, err)
	defer e2.Close()
	h, err = e2.RunHistory(context.Background(), 0)
	require.NoError(t, err)
	assert.Len(t, h, 2)

	require.Error(t, e2.RecordRun(context.Background(), RunRecord{}))
	require.Error(t, e2.RecordRun(context.Background(), RunRecord{RunID: "x", Results: json.RawMessage("{")}))
}

func TestLexAndGuardDetails(t *testing.T) {
	toks, err := lexSQL(`select "a""b", 'c''d', E'e\'f', $t$g;h$t$, x.y /* /* nested */ ; */ -- z`)
	require.NoError(t, err)
	var texts []string
	for _, tk := range toks {
		texts = append(texts, tk.text)
	}
	assert.Equal(t, []string{"select", `a"b`, ",", "c'd", ",", "e'f", ",", "g;h", ",", "x", ".", "y"}, texts)

	assert.NoError(t, checkReadOnlySQL("select read_count from stats"))
	assert.NoError(t, checkReadOnlySQL("select * from s.t, u where a in (1, 'b.csv')"))
	assert.NoError(t, checkReadOnlySQL("select $1"))
	assert.ErrorIs(t, checkReadOnlySQL("select * from t1 join t2 on t1.a = t2.a, 'x.csv'"), ErrRefused)
}

func TestParseCondition(t *testing.T) {
	for in, want := range map[string]string{"": "!=0", "!=0": "!=0", "<>0": "!=0", ">10": ">10", ">= 5": ">=5", "=0": "=0", "==3": "=3", "<2": "<2", "<=2": "<=2"} {
		c, err := parseCondition(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, c.String(), in)
	}
	for _, bad := range []string{"10", ">", "> x", "~5"} {
		_, err := parseCondition(bad)
		assert.Error(t, err, bad)
	}
	c, _ := parseCondition(">=5")
	assert.True(t, c.match(5))
	assert.False(t, c.match(4))
}
