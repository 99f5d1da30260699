package duckenv

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vyaparbazaar/dataops/orchestrate"
	"github.com/vyaparbazaar/dataops/orchestrate/project"
)

func columnType(t *testing.T, e *Env, schema, table, col string) string {
	t.Helper()
	return scalar[string](t, e, `select data_type from information_schema.columns
where table_catalog = current_database() and table_schema = ? and table_name = ? and column_name = ?`, schema, table, col)
}

func TestSeedDeclaredTypes(t *testing.T) {
	e := openFile(t)
	sd := &project.Seed{
		Name: "countries", Path: "seeds/countries.csv", Schema: "ref",
		Data:        []byte("code,name,population\n01,India,1400\n02,Nepal,30\n"),
		ColumnTypes: map[string]string{"code": "VARCHAR", "name": "VARCHAR", "population": "BIGINT"},
	}
	out := mustRun(t, e, RunnerOptions{}, specNode("countries", orchestrate.KindSeed, sd))
	assert.Equal(t, int64(2), out.RowsAffected)
	assert.Equal(t, "INSERT 2", out.Message)
	assert.Equal(t, "ref.countries", out.Relation)
	assert.Equal(t, "VARCHAR", columnType(t, e, "ref", "countries", "code"))
	assert.Equal(t, "BIGINT", columnType(t, e, "ref", "countries", "population"))
	assert.Equal(t, [][]any{{"01", "India", int64(1400)}, {"02", "Nepal", int64(30)}},
		rowsOf(t, e, "select * from ref.countries order by code"))

	// Partial declarations override only their columns; the rest is
	// detected. Re-running replaces the table.
	sd.ColumnTypes = map[string]string{"Population": "DOUBLE"}
	sd.Data = []byte("code,name,population\n01,India,1400\n02,Nepal,30\n03,Bhutan,1\n")
	out = mustRun(t, e, RunnerOptions{}, specNode("countries", orchestrate.KindSeed, sd))
	assert.Equal(t, int64(3), out.RowsAffected)
	assert.Equal(t, "DOUBLE", columnType(t, e, "ref", "countries", "population"))
	assert.Equal(t, "VARCHAR", columnType(t, e, "ref", "countries", "name"), "detected")

	// Scratch files are removed.
	entries, err := os.ReadDir(filepath.Join(e.TempDir(), "seeds"))
	require.NoError(t, err)
	assert.Empty(t, entries)
	assert.Empty(t, tempTables(t, e))
}

func TestSeedDelimiterAndDetection(t *testing.T) {
	e := openFile(t)
	sd := &project.Seed{Name: "s", Path: "seeds/s.csv", Delimiter: ";", Data: []byte("a;b\n1;x\n2;y\n")}
	mustRun(t, e, RunnerOptions{}, specNode("s", orchestrate.KindSeed, sd))
	assert.Equal(t, "BIGINT", columnType(t, e, "main", "s", "a"))
	assert.Equal(t, [][]any{{int64(1), "x"}, {int64(2), "y"}}, rowsOf(t, e, "select * from s order by a"))
}

func TestSeedErrors(t *testing.T) {
	e := openFile(t)
	good := &project.Seed{Name: "s", Path: "seeds/s.csv", Data: []byte("id,amount\n1,10\n")}
	mustRun(t, e, RunnerOptions{}, specNode("s", orchestrate.KindSeed, good))

	bad := &project.Seed{
		Name: "s", Path: "seeds/s.csv",
		Data:        []byte("id,amount\n1,10\n2,ten\n"),
		ColumnTypes: map[string]string{"id": "INTEGER", "amount": "INTEGER"},
	}
	_, err := run(t, e, RunnerOptions{}, specNode("s", orchestrate.KindSeed, bad))
	require.Error(t, err)
	msg := err.Error()
	assert.Contains(t, msg, "seeds/s.csv: seed s: ")
	assert.Contains(t, msg, "ten")
	assert.NotContains(t, msg, e.TempDir(), "the scratch file is not mentioned")
	var se *SQLError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "seeds/s.csv", se.Path)
	t.Log(msg)
	// The old seed table is untouched.
	assert.Equal(t, int64(1), scalar[int64](t, e, "select count(*) from s"))

	_, err = run(t, e, RunnerOptions{}, specNode("s", orchestrate.KindSeed,
		&project.Seed{Name: "s", Path: "seeds/s.csv", Data: []byte("id\n1\n"), ColumnTypes: map[string]string{"nope": "INT"}}))
	require.ErrorContains(t, err, `seeds/s.csv: seed s: seeds/s.csv: column_types names column "nope", which is not in the header (id)`)

	_, err = run(t, e, RunnerOptions{}, specNode("s", orchestrate.KindSeed, &project.Seed{Name: "s", Path: "seeds/s.csv"}))
	require.ErrorContains(t, err, "seeds/s.csv: seed s: seeds/s.csv is empty")
}

func TestSource(t *testing.T) {
	e := openFile(t)
	src := &project.Source{SourceName: "raw", Table: "orders", Path: "models/sources.yml", Line: 4}
	_, err := run(t, e, RunnerOptions{}, specNode("raw.orders", orchestrate.KindSource, src))
	require.Error(t, err)
	assert.EqualError(t, err, `models/sources.yml:4: source "raw.orders": relation raw.orders does not exist`)
	assert.ErrorIs(t, err, ErrRelationNotFound)

	mustExec(t, e, "create schema raw")
	mustExec(t, e, "create table raw.orders as select * from range(3)")
	out := mustRun(t, e, RunnerOptions{}, specNode("raw.orders", orchestrate.KindSource, src))
	assert.Equal(t, int64(3), out.RowsAffected)
	assert.Equal(t, "raw.orders", out.Relation)

	// Schema and identifier override the names.
	mustExec(t, e, "create schema landing")
	mustExec(t, e, "create view landing.ord_v1 as select 1 as x")
	src2 := &project.Source{SourceName: "shop", Table: "orders", Schema: "landing", Identifier: "ord_v1"}
	out = mustRun(t, e, RunnerOptions{}, specNode("shop.orders", orchestrate.KindSource, src2))
	assert.Equal(t, int64(1), out.RowsAffected)
}

// testEnv makes main.orders with a duplicate id and two null emails.
func testEnv(t *testing.T) *Env {
	e := openFile(t)
	mustExec(t, e, `create table orders as select * from (values
		(1, 'a@x'), (2, null), (2, 'b@x'), (3, null), (4, 'd@x')) v(id, email)`)
	return e
}

func dataTest(name, sql string) *project.DataTest {
	return &project.DataTest{Name: name, Type: "singular", Path: "models/schema.yml", Line: 12, Model: "orders", RawSQL: sql}
}

const (
	notNullEmail = "select * from orders where email is null"
	uniqueID     = "select id, count(*) as n from orders group by id having count(*) > 1"
	notNullID    = "select * from orders where id is null"
)

func TestDataTestPassAndFail(t *testing.T) {
	e := testEnv(t)

	out := mustRun(t, e, RunnerOptions{}, specNode("not_null_orders_id", orchestrate.KindTest, dataTest("not_null_orders_id", notNullID)))
	assert.Equal(t, "PASS", out.Message)
	assert.Equal(t, int64(0), out.Failures)
	assert.False(t, out.Warn)

	_, err := run(t, e, RunnerOptions{}, specNode("not_null_orders_email", orchestrate.KindTest, dataTest("not_null_orders_email", notNullEmail)))
	var tf *orchestrate.TestFailure
	require.True(t, errors.As(err, &tf), "want *TestFailure, got %v", err)
	assert.Equal(t, "not_null_orders_email", tf.Test)
	assert.Equal(t, int64(2), tf.Failures)
	assert.Equal(t, "models/schema.yml:12: test not_null_orders_email: 2 failing rows (error_if !=0)", tf.Message)

	_, err = run(t, e, RunnerOptions{}, specNode("unique_orders_id", orchestrate.KindTest, dataTest("unique_orders_id", uniqueID)))
	require.True(t, errors.As(err, &tf))
	assert.Equal(t, int64(1), tf.Failures)
}

func TestDataTestSeverityAndThresholds(t *testing.T) {
	e := testEnv(t)
	cases := []struct {
		name, severity, warnIf, errorIf string
		wantFail, wantWarn              bool
	}{
		{name: "warn severity", severity: "warn", wantWarn: true},
		{name: "WARN severity any case", severity: "WARN", wantWarn: true},
		{name: "error above threshold only", errorIf: ">10", wantWarn: true},
		{name: "error at threshold", errorIf: ">=2", wantFail: true},
		{name: "error exact", errorIf: "= 2", wantFail: true},
		{name: "warn threshold not reached", errorIf: ">10", warnIf: ">5"},
		{name: "warn severity ignores error_if", severity: "warn", errorIf: "!=0", warnIf: ">1", wantWarn: true},
		{name: "warn severity below warn_if", severity: "warn", warnIf: ">2"},
		{name: "inverted: fail when no rows", errorIf: "=0", warnIf: "<0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dt := dataTest("t", notNullEmail)
			dt.Severity, dt.WarnIf, dt.ErrorIf = c.severity, c.warnIf, c.errorIf
			out, err := run(t, e, RunnerOptions{}, specNode("t", orchestrate.KindTest, dt))
			if c.wantFail {
				var tf *orchestrate.TestFailure
				require.ErrorAs(t, err, &tf)
				assert.Equal(t, int64(2), tf.Failures)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.wantWarn, out.Warn)
			assert.Equal(t, int64(2), out.Failures)
			if c.wantWarn {
				assert.Equal(t, "WARN 2", out.Message)
			} else {
				assert.Equal(t, "PASS", out.Message)
			}
		})
	}

	dt := dataTest("t", notNullEmail)
	dt.ErrorIf = "lots"
	_, err := run(t, e, RunnerOptions{}, specNode("t", orchestrate.KindTest, dt))
	require.ErrorContains(t, err, `models/schema.yml:12: test t: error_if: bad condition "lots"`)
	dt = dataTest("t", notNullEmail)
	dt.Severity = "fatal"
	_, err = run(t, e, RunnerOptions{}, specNode("t", orchestrate.KindTest, dt))
	require.ErrorContains(t, err, `unknown severity "fatal"`)
}

func TestDataTestStoreFailures(t *testing.T) {
	e := testEnv(t)
	dt := dataTest("not_null_orders_email", notNullEmail)
	dt.StoreFailures = true
	dt.Severity = "warn"
	out := mustRun(t, e, RunnerOptions{}, specNode(dt.Name, orchestrate.KindTest, dt))
	assert.True(t, out.Warn)
	assert.Equal(t, [][]any{{int32(2), nil}, {int32(3), nil}},
		rowsOf(t, e, `select * from dbt_test__audit.not_null_orders_email order by id`))

	// Re-running replaces the stored rows; a custom schema is honoured.
	mustExec(t, e, "update orders set email = 'z@x' where id = 2")
	_, err := run(t, e, RunnerOptions{StoreFailuresSchema: "audit"}, specNode(dt.Name, orchestrate.KindTest, dt))
	require.NoError(t, err)
	assert.Equal(t, [][]any{{int32(3), nil}}, rowsOf(t, e, `select * from audit.not_null_orders_email`))
	mustRun(t, e, RunnerOptions{}, specNode(dt.Name, orchestrate.KindTest, dt))
	assert.Equal(t, int64(1), scalar[int64](t, e, `select count(*) from dbt_test__audit.not_null_orders_email`))
}

func TestDataTestSQLError(t *testing.T) {
	e := testEnv(t)
	dt := &project.DataTest{Name: "assert_positive", Type: "singular", Path: "tests/assert_positive.sql",
		RawSQL: "select *\nfrom orders\nwhere amount < 0\n"}
	_, err := run(t, e, RunnerOptions{}, specNode(dt.Name, orchestrate.KindTest, dt))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "tests/assert_positive.sql:3: test assert_positive: Binder Error:")
}

func TestSeedRunSQLFile(t *testing.T) {
	e := openFile(t)
	target := t.TempDir()
	sd := &project.Seed{Name: "s", Path: "seeds/s.csv", Data: []byte("a\n1\n")}
	mustRun(t, e, RunnerOptions{TargetDir: target}, specNode("s", orchestrate.KindSeed, sd))
	b, err := os.ReadFile(filepath.Join(target, "run", "seeds", "s.sql"))
	require.NoError(t, err)
	assert.Contains(t, string(b), "read_csv(")

	dt := dataTest("not_null_s_a", "select * from s where a is null")
	mustRun(t, e, RunnerOptions{TargetDir: target}, specNode(dt.Name, orchestrate.KindTest, dt))
	assert.FileExists(t, filepath.Join(target, "compiled", "models", "schema.yml", "not_null_s_a.sql"))
	assert.FileExists(t, filepath.Join(target, "run", "models", "schema.yml", "not_null_s_a.sql"))
}
