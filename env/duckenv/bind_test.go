package duckenv

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vyaparbazaar/dataops/orchestrate/project"
)

// bindProject is a small project whose source declares its columns and
// types: raw.orders → stg_orders → (int_paid ephemeral) → mart_revenue, an
// incremental model, a seed and tests.
func bindProject(extra map[string]string) fstest.MapFS {
	files := map[string]string{
		"dbt_project.yml": "name: shop\nversion: '1.0'\nmodels:\n  shop:\n    marts:\n      +materialized: table\n      +schema: marts\n",
		"models/sources.yml": `version: 2
sources:
  - name: raw
    tables:
      - name: orders
        columns:
          - {name: id, data_type: integer}
          - {name: customer_id, data_type: integer}
          - {name: amount, data_type: "decimal(12,2)"}
          - {name: ordered_at, data_type: timestamp}
          - {name: status, data_type: varchar}
`,
		"seeds/regions.csv":             "customer_id,region\n1,west\n2,north\n",
		"models/staging/stg_orders.sql": "select\n    id as order_id,\n    customer_id,\n    amount,\n    cast(ordered_at as date) as order_date,\n    status\nfrom {{ source('raw', 'orders') }}\n",
		"models/staging/int_paid.sql":   "{{ config(materialized='ephemeral') }}\nselect * from {{ ref('stg_orders') }} where status = 'paid'\n",
		"models/marts/mart_revenue.sql": "select\n    p.order_date,\n    r.region,\n    sum(p.amount) as revenue\nfrom {{ ref('int_paid') }} p\njoin {{ ref('regions') }} r using (customer_id)\ngroup by 1, 2\n",
		"models/marts/fct_orders_inc.sql": "{{ config(materialized='incremental', unique_key='order_id') }}\nselect order_id, order_date, amount\nfrom {{ ref('stg_orders') }}\n" +
			"{% if is_incremental() %}\nwhere order_date > (select max(order_date) from {{ this }})\n{% endif %}\n",
		"models/marts/schema.yml": `version: 2
models:
  - name: mart_revenue
    columns:
      - name: order_date
        data_tests: [not_null]
`,
	}
	for k, v := range extra {
		if v == "" {
			delete(files, k)
			continue
		}
		files[k] = v
	}
	fsys := fstest.MapFS{}
	for k, v := range files {
		fsys[k] = &fstest.MapFile{Data: []byte(v)}
	}
	return fsys
}

func loadFS(t testing.TB, fsys fstest.MapFS) *project.Project {
	t.Helper()
	p, err := project.Load(context.Background(), fsys, project.Options{})
	require.NoError(t, err)
	return p
}

func TestBindValidProject(t *testing.T) {
	p := loadFS(t, bindProject(nil))
	rep, err := Bind(t.Context(), p, BindOptions{})
	require.NoError(t, err)
	require.NoError(t, rep.Err())
	assert.Empty(t, rep.Skipped)
	// source, seed, 4 models, 1 test.
	assert.Equal(t, 7, rep.Checked)
	assert.Equal(t, map[string]string{"raw.orders": SourceColumnsDeclared}, rep.Sources)
}

func TestBindReportsEveryErrorWithFileAndLine(t *testing.T) {
	p := loadFS(t, bindProject(map[string]string{
		// A syntax error on line 3.
		"models/staging/stg_syntax.sql": "select\n    id,\n    amount as as doubled\nfrom {{ source('raw', 'orders') }}\n",
		// An unknown column on line 4.
		"models/staging/stg_unknown.sql": "select\n    id,\n    customer_id,\n    discount_amount\nfrom {{ source('raw', 'orders') }}\n",
		// A type error on line 5: a DATE compared with an INTEGER.
		"models/marts/mart_types.sql": "select\n    order_id,\n    order_date\nfrom {{ ref('stg_orders') }}\nwhere order_date > 20250101\n",
		// Downstream of a failure: skipped, not reported as an error.
		"models/marts/mart_after_syntax.sql": "select count(*) as n from {{ ref('stg_syntax') }}\n",
		// The is_incremental() branch has an unknown column on line 4.
		"models/marts/fct_orders_inc.sql": "{{ config(materialized='incremental') }}\nselect order_id, order_date, amount\nfrom {{ ref('stg_orders') }}\n" +
			"{% if is_incremental() %}where order_dt > (select max(order_date) from {{ this }}){% endif %}\n",
	}))
	rep, err := Bind(t.Context(), p, BindOptions{})
	require.NoError(t, err)
	var msgs []string
	for _, e := range rep.Errors {
		msgs = append(msgs, e.Error())
	}
	all := strings.Join(msgs, "\n")
	require.Len(t, rep.Errors, 4, all)

	byNode := map[string]*SQLError{}
	for _, e := range rep.Errors {
		var se *SQLError
		require.True(t, errors.As(e, &se), e.Error())
		byNode[se.Node] = se
	}
	if se := byNode["stg_syntax"]; assert.NotNil(t, se, all) {
		assert.Equal(t, "models/staging/stg_syntax.sql", se.Path)
		assert.Equal(t, 3, se.Line)
		assert.Contains(t, se.Msg, "syntax error")
		assert.True(t, strings.HasPrefix(se.Error(), "models/staging/stg_syntax.sql:3: model stg_syntax: "), se.Error())
	}
	if se := byNode["stg_unknown"]; assert.NotNil(t, se, all) {
		assert.Equal(t, 4, se.Line)
		assert.Contains(t, se.Msg, "discount_amount")
	}
	if se := byNode["mart_types"]; assert.NotNil(t, se, all) {
		assert.Equal(t, "models/marts/mart_types.sql", se.Path)
		assert.Equal(t, 5, se.Line)
		assert.Contains(t, strings.ToLower(se.Msg), "date")
	}
	if se := byNode["fct_orders_inc"]; assert.NotNil(t, se, all) {
		assert.Equal(t, 4, se.Line)
		assert.Contains(t, se.Msg, "is_incremental() branch")
		assert.Contains(t, se.Msg, "order_dt")
	}
	require.Len(t, rep.Skipped, 1)
	assert.Equal(t, "mart_after_syntax", rep.Skipped[0].Node)
	assert.Contains(t, rep.Skipped[0].String(), "upstream model stg_syntax failed")
	// Everything else still bound: the source, the seed, stg_orders,
	// int_paid, mart_revenue and its test.
	assert.Equal(t, 6, rep.Checked)
}

func TestBindTestAndSeedErrors(t *testing.T) {
	p := loadFS(t, bindProject(map[string]string{
		"models/marts/schema.yml": `version: 2
models:
  - name: mart_revenue
    columns:
      - name: order_date
        data_tests: [not_null]
      - name: no_such_column
        data_tests: [unique]
`,
		"seeds/_seeds.yml": "version: 2\nseeds:\n  - name: regions\n    config:\n      column_types: {customer_id: no_such_type}\n",
	}))
	rep, err := Bind(t.Context(), p, BindOptions{})
	require.NoError(t, err)
	all := rep.Err()
	require.Error(t, all)
	assert.Contains(t, all.Error(), "seeds/regions.csv: seed regions:")
	assert.Contains(t, all.Error(), "no_such_type")
	// mart_revenue reads the seed, so it and its tests are skipped.
	var skipped []string
	for _, s := range rep.Skipped {
		skipped = append(skipped, s.Node)
	}
	assert.Contains(t, skipped, "mart_revenue")

	p = loadFS(t, bindProject(map[string]string{
		"models/marts/schema.yml": "version: 2\nmodels:\n  - name: mart_revenue\n    columns:\n      - name: order_date\n        data_tests: [not_null]\n      - name: no_such_column\n        data_tests: [unique]\n",
	}))
	rep, err = Bind(t.Context(), p, BindOptions{})
	require.NoError(t, err)
	require.Len(t, rep.Errors, 1, rep.Err())
	var se *SQLError
	require.ErrorAs(t, rep.Errors[0], &se)
	assert.Equal(t, "test", se.Kind)
	assert.Equal(t, "models/marts/schema.yml", se.Path)
	assert.Equal(t, 8, se.Line)
	assert.Contains(t, se.Msg, "no_such_column")
}

// A source without declared types is created from the real database's
// column definitions; without a database its dependents are skipped.
func TestBindSourceColumnsFromDatabase(t *testing.T) {
	undeclared := map[string]string{
		"models/sources.yml": "version: 2\nsources:\n  - name: raw\n    tables:\n      - name: orders\n",
	}
	p := loadFS(t, bindProject(undeclared))

	// No database: skipped, with a note.
	missing := filepath.Join(t.TempDir(), "missing.duckdb")
	rep, err := Bind(t.Context(), p, BindOptions{SourceDB: missing})
	require.NoError(t, err)
	require.NoError(t, rep.Err())
	assert.Equal(t, SourceColumnsUnknown, rep.Sources["raw.orders"])
	assert.NotEmpty(t, rep.Skipped)
	assert.Contains(t, rep.Skipped[0].Reason, "raw.orders has no declared column types")
	require.Len(t, rep.Notes, 1)
	assert.Contains(t, rep.Notes[0], "not found")
	_, err = os.Stat(missing)
	assert.True(t, os.IsNotExist(err), "Bind must not create the source database")

	// A real database: columns copied, rows never needed.
	dbPath := filepath.Join(t.TempDir(), "dev.duckdb")
	src, err := Open(t.Context(), Config{Path: dbPath})
	require.NoError(t, err)
	mustExec(t, src, `CREATE SCHEMA raw; CREATE TABLE raw.orders (id BIGINT, customer_id INTEGER, amount DECIMAL(12,2), ordered_at TIMESTAMP, status VARCHAR, extra STRUCT(a INT, b VARCHAR[]))`)
	require.NoError(t, src.Close())
	rep, err = Bind(t.Context(), p, BindOptions{SourceDB: dbPath})
	require.NoError(t, err)
	require.NoError(t, rep.Err())
	assert.Empty(t, rep.Skipped)
	assert.Empty(t, rep.Notes)
	assert.Equal(t, SourceColumnsDatabase, rep.Sources["raw.orders"])

	// An environment this process already has open serves the same way.
	open, err := Open(t.Context(), Config{Path: dbPath})
	require.NoError(t, err)
	defer open.Close()
	rep, err = Bind(t.Context(), p, BindOptions{Sources: open})
	require.NoError(t, err)
	require.NoError(t, rep.Err())
	assert.Empty(t, rep.Skipped)
	assert.Equal(t, SourceColumnsDatabase, rep.Sources["raw.orders"])
	// Its path is refused (a second instance must not attach a file this
	// process writes): declared columns only, with a note.
	rep, err = Bind(t.Context(), p, BindOptions{SourceDB: dbPath})
	require.NoError(t, err)
	require.Len(t, rep.Notes, 1)
	assert.Contains(t, rep.Notes[0], "source database "+dbPath+" is open in this process")
	require.NoError(t, open.Close())

	// An unknown column against the database's columns is reported.
	p = loadFS(t, bindProject(map[string]string{
		"models/sources.yml":            undeclared["models/sources.yml"],
		"models/staging/stg_orders.sql": "select\n    id as order_id,\n    customer_id,\n    amount,\n    cast(ordered_at as date) as order_date,\n    state as status\nfrom {{ source('raw', 'orders') }}\n",
	}))
	rep, err = Bind(t.Context(), p, BindOptions{SourceDB: dbPath})
	require.NoError(t, err)
	require.Len(t, rep.Errors, 1)
	assert.Contains(t, rep.Errors[0].Error(), "models/staging/stg_orders.sql:6: model stg_orders:")
}

// A source database held by another process is not an error: Bind falls
// back to the declared columns and says so.
func TestBindSourceDatabaseLocked(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "dev.duckdb")
	release := holdDatabase(t, dbPath)
	defer release()

	p := loadFS(t, bindProject(nil))
	rep, err := Bind(t.Context(), p, BindOptions{SourceDB: dbPath})
	require.NoError(t, err)
	require.NoError(t, rep.Err())
	require.Len(t, rep.Notes, 1)
	assert.Contains(t, rep.Notes[0], "locked by another process")
	assert.Equal(t, SourceColumnsDeclared, rep.Sources["raw.orders"])
	assert.Empty(t, rep.Skipped)
}

func TestBindSelectedNodesOnly(t *testing.T) {
	p := loadFS(t, bindProject(map[string]string{
		"models/staging/stg_broken.sql": "select nope from {{ source('raw', 'orders') }}\n",
	}))
	rep, err := Bind(t.Context(), p, BindOptions{Nodes: []string{"mart_revenue"}})
	require.NoError(t, err)
	require.NoError(t, rep.Err())
	// raw.orders, stg_orders, int_paid, regions, mart_revenue.
	assert.Equal(t, 5, rep.Checked)

	_, err = Bind(t.Context(), p, BindOptions{Nodes: []string{"nope"}})
	require.ErrorContains(t, err, `no node named "nope"`)
}
