package duckenv

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vyaparbazaar/dataops/orchestrate"
	"github.com/vyaparbazaar/dataops/orchestrate/project"
	"github.com/vyaparbazaar/dataops/recovery"
)

const sourcesYML = "models/staging/_sources.yml"

func ordersSource(cols ...project.Column) *project.Source {
	return &project.Source{SourceName: "raw", Table: "orders", Path: sourcesYML, Line: 12, Columns: cols}
}

func sourceNode(src *project.Source) *orchestrate.Node {
	return &orchestrate.Node{Name: src.NodeName(), Kind: orchestrate.KindSource, Path: src.Path, Spec: src}
}

func col(name, typ string) project.Column { return project.Column{Name: name, Type: typ} }

func clockAt(t time.Time) func() time.Time { return func() time.Time { return t } }

func TestSourceMissingRelation(t *testing.T) {
	e := openFile(t)
	_, err := run(t, e, RunnerOptions{}, sourceNode(ordersSource()))
	assert.EqualError(t, err, sourcesYML+`:12: source "raw.orders": relation raw.orders does not exist`)
	assert.ErrorIs(t, err, ErrRelationNotFound)
	var me *SourceMissingError
	require.ErrorAs(t, err, &me)
	assert.Equal(t, "raw.orders", me.Relation)
	assert.Equal(t, recovery.ClassSourceMissing, classOf(t, err))
	assert.Equal(t, recovery.ClassSourceMissing, recovery.Classify(err))

	// With declared columns the catalog is read first; same error.
	_, err = run(t, e, RunnerOptions{}, sourceNode(ordersSource(col("id", "INTEGER"))))
	assert.EqualError(t, err, sourcesYML+`:12: source "raw.orders": relation raw.orders does not exist`)
	assert.ErrorIs(t, err, ErrRelationNotFound)
}

func TestSourceSchemaChange(t *testing.T) {
	e := openFile(t)
	mustExec(t, e, "create schema raw")
	mustExec(t, e, `create table raw.orders as select 1::INTEGER as order_id, '2025-12-31 10:00'::VARCHAR as order_ts,
		'c1'::VARCHAR as customer, 9.5::DECIMAL(12,2) as amount, 1 as x1, 2 as x2`)
	declared := []project.Column{
		col("order_id", "INT"),
		col("amount_inr", "DECIMAL(12,2)"),
		col("order_ts", "TIMESTAMP"),
		col("customer", "text"),
		col("amount", "numeric(12, 2)"),
	}
	_, err := run(t, e, RunnerOptions{}, sourceNode(ordersSource(declared...)))
	require.Error(t, err)
	assert.EqualError(t, err, sourcesYML+`:12: source "raw.orders": schema changed: column "amount_inr" is missing; column "order_ts" is VARCHAR, declared TIMESTAMP`)
	var sc *SchemaChangeError
	require.ErrorAs(t, err, &sc)
	assert.Equal(t, "raw.orders", sc.Source)
	assert.Equal(t, []string{"amount_inr"}, sc.Missing)
	assert.Equal(t, []ColumnChange{{Name: "order_ts", Declared: "TIMESTAMP", Actual: "VARCHAR"}}, sc.Changed)
	assert.Equal(t, recovery.ClassSchemaChange, classOf(t, err))
	assert.Equal(t, recovery.ClassSchemaChange, recovery.Classify(err))

	// A changed decimal scale is a change too.
	_, err = run(t, e, RunnerOptions{}, sourceNode(ordersSource(col("amount", "DECIMAL(12,3)"))))
	assert.ErrorContains(t, err, `schema changed: column "amount" is DECIMAL(12,2), declared DECIMAL(12,3)`)

	// Names only: only presence is checked; undeclared columns are fine
	// and counted.
	out := mustRun(t, e, RunnerOptions{}, sourceNode(ordersSource(col("ORDER_ID", ""), col("order_ts", ""))))
	assert.Equal(t, "OK 1 row; 4 extra columns", out.Message)
	assert.False(t, out.Warn)

	// Once the table matches (aliases compare equal), the source passes.
	mustExec(t, e, "alter table raw.orders alter order_ts type TIMESTAMP")
	mustExec(t, e, "alter table raw.orders add column amount_inr DECIMAL(12,2)")
	out = mustRun(t, e, RunnerOptions{}, sourceNode(ordersSource(declared...)))
	assert.Equal(t, "OK 1 row; 2 extra columns", out.Message)
	assert.Equal(t, int64(1), out.RowsAffected)
	assert.Equal(t, "raw.orders", out.Relation)
}

func TestNormalizeType(t *testing.T) {
	same := [][2]string{
		{"INT", "INTEGER"}, {"int4", "INTEGER"}, {"signed", "INTEGER"},
		{"INT8", "BIGINT"}, {"long", "BIGINT"}, {"int2", "SMALLINT"},
		{"TEXT", "VARCHAR"}, {"string", "VARCHAR"}, {"varchar(255)", "VARCHAR"}, {"character varying", "VARCHAR"},
		{"FLOAT8", "DOUBLE"}, {"double precision", "DOUBLE"}, {"real", "FLOAT"},
		{"numeric(12, 2)", "DECIMAL(12,2)"}, {"DECIMAL", "DECIMAL(18,3)"}, {"decimal(10)", "DECIMAL(10,0)"},
		{"DATETIME", "TIMESTAMP"}, {"timestamp without time zone", "TIMESTAMP"},
		{"timestamptz", "TIMESTAMP WITH TIME ZONE"}, {"bool", "BOOLEAN"}, {"bytea", "BLOB"},
		{"int[]", "INTEGER[]"}, {"text[3]", "VARCHAR[3]"},
		{"struct(a int, \"my f\" text)", `STRUCT(a INTEGER, "my f" VARCHAR)`},
		{"map(text, int)", "MAP(VARCHAR, INTEGER)"},
	}
	for _, c := range same {
		assert.Equal(t, normalizeType(c[1]), normalizeType(c[0]), "%s vs %s", c[0], c[1])
	}
	differ := [][2]string{
		{"INTEGER", "BIGINT"}, {"DECIMAL(12,2)", "DECIMAL(12,3)"}, {"TIMESTAMP", "TIMESTAMP WITH TIME ZONE"},
		{"FLOAT", "DOUBLE"}, {"VARCHAR", "TIMESTAMP"}, {"INTEGER[]", "BIGINT[]"}, {"DATE", "TIMESTAMP"},
	}
	for _, c := range differ {
		assert.NotEqual(t, normalizeType(c[1]), normalizeType(c[0]), "%s vs %s", c[0], c[1])
	}
}

func TestSourceFreshness(t *testing.T) {
	e := openFile(t)
	mustExec(t, e, "create schema raw")
	mustExec(t, e, `create table raw.orders as select range as id,
		TIMESTAMP '2025-12-31 23:59:00' - to_hours(range) as _loaded_at from range(10)`)
	newest := time.Date(2025, 12, 31, 23, 59, 0, 0, time.UTC)
	src := ordersSource()
	src.LoadedAtField = "_loaded_at"
	src.WarnAfter = 6 * time.Hour
	src.ErrorAfter = 12 * time.Hour

	// Fresh.
	out := mustRun(t, e, RunnerOptions{Now: clockAt(newest.Add(3 * time.Hour))}, sourceNode(src))
	assert.Equal(t, "OK 10 rows; newest _loaded_at 2025-12-31 23:59 (3h ago)", out.Message)
	assert.False(t, out.Warn)
	assert.Equal(t, int64(10), out.RowsAffected)

	// Older than warn_after: a warning, not a failure.
	out = mustRun(t, e, RunnerOptions{Now: clockAt(newest.Add(7*time.Hour + 30*time.Minute))}, sourceNode(src))
	assert.True(t, out.Warn)
	assert.Equal(t, "warn: stale (newest _loaded_at 2025-12-31 23:59 is 7h30m ago, warn after 6h); 10 rows", out.Message)

	// Older than error_after: no new data.
	_, err := run(t, e, RunnerOptions{Now: clockAt(newest.Add(26 * time.Hour))}, sourceNode(src))
	require.Error(t, err)
	assert.EqualError(t, err, sourcesYML+`:12: source "raw.orders": no new data: newest _loaded_at 2025-12-31 23:59 is 26h ago (error after 12h)`)
	var se *StaleSourceError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, newest, se.LoadedAt.UTC())
	assert.Equal(t, 26*time.Hour, se.Age)
	assert.Equal(t, 12*time.Hour, se.Threshold)
	assert.Equal(t, recovery.ClassStaleSource, classOf(t, err))
	assert.Equal(t, recovery.ClassStaleSource, recovery.Classify(err))

	// The default clock is the real one: years later, stale.
	_, err = run(t, e, RunnerOptions{}, sourceNode(src))
	require.ErrorAs(t, err, &se)

	// A TIMESTAMPTZ column and a declared loaded_at column work the same.
	mustExec(t, e, "alter table raw.orders alter _loaded_at type TIMESTAMPTZ")
	src.Columns = []project.Column{col("id", "BIGINT"), col("_loaded_at", "timestamptz")}
	out = mustRun(t, e, RunnerOptions{Now: clockAt(newest.Add(time.Hour))}, sourceNode(src))
	assert.Equal(t, "OK 10 rows; newest _loaded_at 2025-12-31 23:59 (1h ago)", out.Message)

	// A loaded_at column that disappeared is a schema change.
	src.Columns = nil
	src.LoadedAtField = "_ingested_at"
	_, err = run(t, e, RunnerOptions{Now: clockAt(newest)}, sourceNode(src))
	assert.EqualError(t, err, sourcesYML+`:12: source "raw.orders": schema changed: column "_ingested_at" is missing`)

	// NULL in every row is stale too.
	src.LoadedAtField = "_loaded_at"
	mustExec(t, e, "update raw.orders set _loaded_at = null")
	_, err = run(t, e, RunnerOptions{Now: clockAt(newest)}, sourceNode(src))
	assert.EqualError(t, err, sourcesYML+`:12: source "raw.orders": no new data: _loaded_at is NULL in every row`)
}

func TestSourceEmpty(t *testing.T) {
	e := openFile(t)
	mustExec(t, e, "create schema raw")
	mustExec(t, e, "create table raw.orders (id INTEGER, _loaded_at TIMESTAMP)")
	src := ordersSource()
	_, err := run(t, e, RunnerOptions{}, sourceNode(src))
	assert.EqualError(t, err, sourcesYML+`:12: source "raw.orders": no new data: source has no rows`)
	var se *StaleSourceError
	require.ErrorAs(t, err, &se)
	assert.True(t, se.Empty)
	assert.Equal(t, recovery.ClassStaleSource, classOf(t, err))

	src.Meta = map[string]any{"allow_empty": true}
	src.LoadedAtField = "_loaded_at"
	src.ErrorAfter = time.Hour
	out := mustRun(t, e, RunnerOptions{}, sourceNode(src))
	assert.Equal(t, "OK 0 rows", out.Message)
	assert.Equal(t, int64(0), out.RowsAffected)

	src.Meta = map[string]any{"allow_empty": "sometimes"}
	_, err = run(t, e, RunnerOptions{}, sourceNode(src))
	assert.ErrorContains(t, err, sourcesYML+`:12: source "raw.orders": meta allow_empty: want true or false`)
	assert.Equal(t, recovery.ClassPermanent, classOf(t, err))
}

// ordersCSV writes 100 data rows to dir/data/orders.csv; rows listed in bad
// are malformed (row 10: a non-numeric amount; row 20: a missing column).
// Amounts are row + bump.
func ordersCSV(t *testing.T, dir string, bump int, bad ...int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("order_id,amount,_loaded_at\n")
	isBad := map[int]bool{}
	for _, r := range bad {
		isBad[r] = true
	}
	for i := 1; i <= 100; i++ {
		switch {
		case isBad[i] && i%20 == 0:
			fmt.Fprintf(&b, "%d,%d.50\n", i, i)
		case isBad[i]:
			fmt.Fprintf(&b, "%d,lots,2025-12-31 23:00:00\n", i)
		default:
			fmt.Fprintf(&b, "%d,%d.50,2025-12-31 %02d:%02d:00\n", i, i+bump, i%24, i%60)
		}
	}
	path := filepath.Join(dir, "data", "orders.csv")
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
	return path
}

func externalOrders(share any) *project.Source {
	src := ordersSource(col("order_id", "INTEGER"), col("amount", "DECIMAL(10,2)"), col("_loaded_at", "TIMESTAMP"))
	src.LoadedAtField = "_loaded_at" // no thresholds: only reported
	src.Meta = map[string]any{"external_location": "data/orders.csv"}
	if share != nil {
		src.Meta["max_rejected_share"] = share
	}
	return src
}

func TestExternalCSVSourceRejects(t *testing.T) {
	e := openFile(t)
	projDir := t.TempDir()
	path := ordersCSV(t, projDir, 0, 10, 20)
	opts := RunnerOptions{ProjectDir: projDir, Now: clockAt(time.Date(2026, 1, 1, 1, 47, 0, 0, time.UTC))}

	// 2 malformed rows of 100 pass under 5%.
	out := mustRun(t, e, opts, sourceNode(externalOrders(0.05)))
	assert.Equal(t, int64(98), out.RowsAffected)
	assert.Equal(t, "OK 98 rows loaded from data/orders.csv; 2 rejected rows in raw.orders__rejects; newest _loaded_at 2025-12-31 23:47 (2h ago)", out.Message)
	assert.False(t, out.Warn)
	assert.Equal(t, "raw.orders", out.Relation)
	assert.Equal(t, int64(98), scalar[int64](t, e, "select count(*) from raw.orders"))
	assert.Equal(t, "DECIMAL(10,2)", columnType(t, e, "raw", "orders", "amount"))
	assert.Equal(t, [][]any{
		{path, int64(11), "amount", "CAST"},
		{path, int64(21), "_loaded_at", "MISSING COLUMNS"},
	}, rowsOf(t, e, "select file, line, column_name, error_type from raw.orders__rejects order by line"))
	assert.Contains(t, scalar[string](t, e, "select error_message from raw.orders__rejects where line = 11"), `"lots"`)
	assert.Empty(t, tempTables(t, e))
	assert.Empty(t, rowsOf(t, e, "select table_name from duckdb_tables() where temporary"))

	// A new file with the same 2% malformed fails under 1%, the default:
	// the relation keeps the previous load; the rejects are kept.
	ordersCSV(t, projDir, 1000, 10, 20)
	for _, share := range []any{nil, "1%", 0.01} {
		_, err := run(t, e, opts, sourceNode(externalOrders(share)))
		require.Error(t, err)
		assert.EqualError(t, err, sourcesYML+`:12: source "raw.orders": corrupt data: 2 of 100 rows (2%) of data/orders.csv rejected, more than max_rejected_share 1% (see raw.orders__rejects)`)
		var ce *CorruptDataError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, CorruptDataError{Source: "raw.orders", Path: sourcesYML, Line: 12, File: "data/orders.csv",
			Rejected: 2, Total: 100, Share: 0.02, Threshold: 0.01, RejectsTable: "raw.orders__rejects"}, *ce)
		assert.Equal(t, recovery.ClassCorruptData, classOf(t, err))
		assert.Equal(t, recovery.ClassCorruptData, recovery.Classify(err))
		assert.Equal(t, int64(98), scalar[int64](t, e, "select count(*) from raw.orders"))
		assert.Equal(t, "1.50", scalar[string](t, e, "select amount::VARCHAR from raw.orders where order_id = 1"), "old rows")
		assert.Equal(t, int64(2), scalar[int64](t, e, "select count(*) from raw.orders__rejects"))
		assert.Empty(t, tempTables(t, e))
	}

	// A clean file loads and empties the rejects table.
	ordersCSV(t, projDir, 1000)
	out = mustRun(t, e, opts, sourceNode(externalOrders(nil)))
	assert.Equal(t, int64(100), out.RowsAffected)
	assert.Equal(t, "OK 100 rows loaded from data/orders.csv; newest _loaded_at 2025-12-31 23:47 (2h ago)", out.Message)
	assert.Equal(t, "1001.50", scalar[string](t, e, "select amount::VARCHAR from raw.orders where order_id = 1"))
	assert.Equal(t, int64(0), scalar[int64](t, e, "select count(*) from raw.orders__rejects"))

	// Bad settings are permanent errors.
	_, err := run(t, e, opts, sourceNode(externalOrders(5)))
	assert.ErrorContains(t, err, "meta max_rejected_share: want a fraction between 0 and 1")
	assert.Equal(t, recovery.ClassPermanent, classOf(t, err))
}

func TestExternalSourceFileDeleted(t *testing.T) {
	e := openFile(t)
	projDir := t.TempDir()
	path := ordersCSV(t, projDir, 0)
	opts := RunnerOptions{ProjectDir: projDir}
	mustRun(t, e, opts, sourceNode(externalOrders(nil)))

	require.NoError(t, os.Remove(path))
	_, err := run(t, e, opts, sourceNode(externalOrders(nil)))
	require.Error(t, err)
	assert.EqualError(t, err, sourcesYML+`:12: source "raw.orders": file data/orders.csv does not exist`)
	var me *SourceMissingError
	require.ErrorAs(t, err, &me)
	assert.Equal(t, "data/orders.csv", me.File)
	assert.ErrorIs(t, err, fs.ErrNotExist)
	assert.False(t, errors.Is(err, ErrRelationNotFound))
	assert.Equal(t, recovery.ClassSourceMissing, classOf(t, err))
	assert.Equal(t, recovery.ClassSourceMissing, recovery.Classify(err))
	assert.Equal(t, int64(100), scalar[int64](t, e, "select count(*) from raw.orders"), "the old relation is intact")

	// A glob that matches nothing.
	src := externalOrders(nil)
	src.Meta["external_location"] = "data/orders_*.csv"
	_, err = run(t, e, opts, sourceNode(src))
	assert.EqualError(t, err, sourcesYML+`:12: source "raw.orders": no files match data/orders_*.csv`)
	assert.Equal(t, recovery.ClassSourceMissing, classOf(t, err))
	assert.Equal(t, int64(100), scalar[int64](t, e, "select count(*) from raw.orders"))
}

func TestExternalSourceSchemaChange(t *testing.T) {
	e := openFile(t)
	projDir := t.TempDir()
	ordersCSV(t, projDir, 0)
	opts := RunnerOptions{ProjectDir: projDir}
	mustRun(t, e, opts, sourceNode(externalOrders(nil)))

	// The export drops a column: named, and the relation is untouched.
	require.NoError(t, os.WriteFile(filepath.Join(projDir, "data", "orders.csv"),
		[]byte("order_id,_loaded_at,channel\n1,2025-12-31 23:00:00,web\n"), 0o644))
	_, err := run(t, e, opts, sourceNode(externalOrders(nil)))
	assert.EqualError(t, err, sourcesYML+`:12: source "raw.orders": schema changed: column "amount" is missing`)
	assert.Equal(t, recovery.ClassSchemaChange, classOf(t, err))
	assert.Equal(t, int64(100), scalar[int64](t, e, "select count(*) from raw.orders"))
	assert.Empty(t, tempTables(t, e))

	// An export with no rows is no new data; the relation is untouched.
	require.NoError(t, os.WriteFile(filepath.Join(projDir, "data", "orders.csv"),
		[]byte("order_id,amount,_loaded_at\n"), 0o644))
	_, err = run(t, e, opts, sourceNode(externalOrders(nil)))
	assert.EqualError(t, err, sourcesYML+`:12: source "raw.orders": no new data: source has no rows`)
	assert.Equal(t, recovery.ClassStaleSource, classOf(t, err))
	assert.Equal(t, int64(100), scalar[int64](t, e, "select count(*) from raw.orders"))
	assert.Empty(t, tempTables(t, e))
}

func TestExternalParquetSource(t *testing.T) {
	e := openFile(t)
	projDir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(projDir, "data"), 0o755))
	for i, f := range []string{"events_1.parquet", "events_2.parquet"} {
		mustExec(t, e, fmt.Sprintf(`copy (select range + %d as event_id, 'click' as kind,
			TIMESTAMP '2025-12-31 20:00:00' + to_hours(range) as _loaded_at from range(3))
			to '%s' (format parquet)`, i*10, filepath.Join(projDir, "data", f)))
	}
	src := &project.Source{SourceName: "app", Table: "events", Schema: "landing", Path: sourcesYML, Line: 30,
		Columns:       []project.Column{col("event_id", "BIGINT"), col("kind", "TEXT"), col("_loaded_at", "datetime")},
		LoadedAtField: "_loaded_at", WarnAfter: time.Hour, ErrorAfter: 24 * time.Hour,
		Meta: map[string]any{"external_location": "data/events_*.parquet"}}
	opts := RunnerOptions{ProjectDir: projDir, Now: clockAt(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))}
	out := mustRun(t, e, opts, sourceNode(src))
	assert.Equal(t, "warn: stale (newest _loaded_at 2025-12-31 22:00 is 2h ago, warn after 1h); 6 rows loaded from data/events_*.parquet", out.Message)
	assert.True(t, out.Warn)
	assert.Equal(t, "landing.events", out.Relation)
	assert.Equal(t, int64(6), scalar[int64](t, e, "select count(*) from landing.events"))
	assert.Equal(t, "BIGINT", columnType(t, e, "landing", "events", "event_id"))

	// An absolute single file works without ProjectDir; the declared
	// types are checked against the file's.
	abs := filepath.Join(projDir, "data", "events_1.parquet")
	src.Meta = map[string]any{"external_location": abs}
	src.Columns[0].Type = "INTEGER"
	_, err := run(t, e, RunnerOptions{Now: opts.Now}, sourceNode(src))
	assert.EqualError(t, err, sourcesYML+`:30: source "app.events": schema changed: column "event_id" is BIGINT, declared INTEGER`)
	assert.Equal(t, int64(6), scalar[int64](t, e, "select count(*) from landing.events"))

	// A file that is not Parquet is corrupt data.
	require.NoError(t, os.WriteFile(abs, []byte("not,parquet\n"), 0o644))
	src.Columns[0].Type = "BIGINT"
	_, err = run(t, e, RunnerOptions{Now: opts.Now}, sourceNode(src))
	require.Error(t, err)
	assert.Contains(t, err.Error(), sourcesYML+`:30: source "app.events": Invalid Input Error`)
	assert.Equal(t, recovery.ClassCorruptData, classOf(t, err))
	assert.Equal(t, int64(6), scalar[int64](t, e, "select count(*) from landing.events"))
	assert.Empty(t, tempTables(t, e))
}

func TestExternalSourceFormat(t *testing.T) {
	for loc, want := range map[string]string{"a.csv": "csv", "a.CSV.gz": "csv", "x/*.parquet": "parquet", "a.pq": "parquet"} {
		got, err := externalFormat(loc, "")
		require.NoError(t, err)
		assert.Equal(t, want, got, loc)
	}
	got, err := externalFormat("a.dat", "Parquet")
	require.NoError(t, err)
	assert.Equal(t, "parquet", got)
	_, err = externalFormat("a.dat", "")
	assert.ErrorContains(t, err, "set meta format to csv or parquet")
	_, err = externalFormat("a.csv", "json")
	assert.ErrorContains(t, err, `unknown format "json"`)
}

func TestFormatAge(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * time.Second: "30s", 5 * time.Minute: "5m", 26 * time.Hour: "26h", 90 * time.Minute: "1h30m",
		76 * time.Hour: "3d4h", 72 * time.Hour: "3d", -time.Hour: "0s",
	} {
		assert.Equal(t, want, formatAge(d), d.String())
	}
}

func TestExternalLocationSecretsNeverReachErrors(t *testing.T) {
	assert.Equal(t, "https://REDACTED@example.invalid/orders.csv?REDACTED",
		redactLocation("https://analyst:s3cr3t@example.invalid/orders.csv?X-Amz-Signature=abc123"))
	assert.Equal(t, "data/orders.csv", redactLocation("data/orders.csv"))

	e := openFile(t)
	src := externalOrders(nil)
	src.Meta["external_location"] = "https://analyst:s3cr3t@example.invalid/orders.csv?X-Amz-Signature=abc123"
	out, err := run(t, e, RunnerOptions{}, sourceNode(src))
	require.Error(t, err, "offline: the URL cannot be read")
	for _, secret := range []string{"s3cr3t", "abc123", "X-Amz-Signature"} {
		assert.NotContains(t, err.Error(), secret)
		assert.NotContains(t, out.Message, secret)
	}
}
