package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ciProject is a small project whose source declares its column types, so
// that compile binds it without any database.
func ciProject() map[string]string {
	return map[string]string{
		"dbt_project.yml": projectYML + "models:\n  shop:\n    marts:\n      +materialized: table\n      +schema: marts\n      +meta:\n        owner: finance\n",
		"models/staging/_sources.yml": `version: 2
sources:
  - name: raw
    tables:
      - name: orders
        columns:
          - {name: id, data_type: integer}
          - {name: amount, data_type: "decimal(12,2)"}
          - {name: ordered_at, data_type: timestamp}
`,
		"models/staging/stg_orders.sql": "select\n    id as order_id,\n    amount,\n    cast(ordered_at as date) as order_date\nfrom {{ source('raw', 'orders') }}\n",
		"models/staging/schema.yml":     "version: 2\nmodels:\n  - name: stg_orders\n    columns:\n      - name: order_id\n        data_tests: [unique, not_null]\n",
		"models/marts/mart_daily.sql":   "select\n    order_date,\n    sum(amount) as revenue\nfrom {{ ref('stg_orders') }}\ngroup by order_date\n",
		"models/marts/schema.yml":       "version: 2\nmodels:\n  - name: mart_daily\n    description: Revenue per day.\n    columns:\n      - name: order_date\n        data_tests: [unique, not_null]\n",
	}
}

func TestCompileBindsWithoutData(t *testing.T) {
	dir := writeProject(t, ciProject())
	code, out, errOut := cliRun(t, "compile", "--project", dir)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	assert.Contains(t, out, "Compiled 6 nodes")
	assert.Regexp(t, `Bound 7 nodes against an empty copy of the schema in [0-9.]+s \(sources: 0 from .*dev.duckdb, 1 declared, 0 unknown\): 0 errors, 0 skipped`, out)
	assert.Contains(t, errOut, "dev.duckdb not found")
	_, err := os.Stat(filepath.Join(dir, "target", "dev.duckdb"))
	assert.True(t, os.IsNotExist(err), "compile must not create the database")
}

func TestCompileReportsBindErrorsWithFileAndLine(t *testing.T) {
	files := ciProject()
	files["models/staging/stg_syntax.sql"] = "select\n    id,\n    amount as as doubled\nfrom {{ source('raw', 'orders') }}\n"
	files["models/staging/stg_unknown.sql"] = "select\n    id,\n    discount\nfrom {{ source('raw', 'orders') }}\n"
	files["models/marts/mart_types.sql"] = "select\n    order_id\nfrom {{ ref('stg_orders') }}\nwhere order_date > 20250101\n"
	files["models/marts/mart_after.sql"] = "select count(*) as n from {{ ref('stg_unknown') }}\n"
	dir := writeProject(t, files)
	code, out, errOut := cliRun(t, "compile", "--project", dir)
	require.Equal(t, 1, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	assert.Contains(t, errOut, "models/staging/stg_syntax.sql:3: model stg_syntax: Parser Error: syntax error")
	assert.Contains(t, errOut, "models/staging/stg_unknown.sql:3: model stg_unknown: Binder Error:")
	assert.Contains(t, errOut, `"discount"`)
	assert.Contains(t, errOut, "models/marts/mart_types.sql:4: model mart_types:")
	assert.Contains(t, errOut, "models/marts/mart_after.sql: model mart_after: skipped: upstream model stg_unknown failed to bind")
	assert.Contains(t, errOut, "compile: 3 nodes failed to bind")
	assert.Contains(t, out, "3 errors, 1 skipped")

	// --bind=false only renders.
	code, out, errOut = cliRun(t, "compile", "--project", dir, "--bind=false")
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	assert.NotContains(t, out, "Bound")

	// One selected node: its SQL on stdout, the check on stderr.
	code, out, errOut = cliRun(t, "compile", "--project", dir, "-s", "mart_types")
	require.Equal(t, 1, code)
	assert.Contains(t, out, "where order_date > 20250101")
	assert.NotContains(t, out, "Bound")
	assert.Contains(t, errOut, "models/marts/mart_types.sql:4:")
}

func TestCompileBindsDemoAgainstItsDatabase(t *testing.T) {
	tp := t.TempDir()
	// Without the sources' database nothing below the sources is checked,
	// which is said, and is not a failure.
	code, out, errOut := cliRun(t, "compile", "--target-path", tp)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, "warning: ")
	assert.Contains(t, errOut, "nodes not checked: source raw.")

	code, _, errOut = cliRun(t, "generate", "--target-path", tp)
	require.Equal(t, 0, code, errOut)
	code, out, errOut = cliRun(t, "compile", "--target-path", tp)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	assert.Regexp(t, `Bound \d+ nodes against an empty copy of the schema in [0-9.]+s \(sources: 11 from .*dev.duckdb, 0 declared, 0 unknown\): 0 errors, 0 skipped`, out)
	assert.Empty(t, errOut)
}

func TestLintCommand(t *testing.T) {
	// The embedded demo passes.
	code, out, errOut := cliRun(t, "lint")
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	assert.Contains(t, out, "Linted 31 models: 0 errors, 0 warnings")

	files := ciProject()
	files["models/marts/daily_orders.sql"] = "with o as (\n    select * from {{ ref('stg_orders') }}\n)\nselect *\nfrom o\n"
	dir := writeProject(t, files)
	code, out, _ = cliRun(t, "lint", "--project", dir)
	require.Equal(t, 1, code, out)
	for _, want := range []string{
		"models/marts/daily_orders.sql:1: error [layer-prefix] model daily_orders: name has no layer prefix: rename it to start with mart_ or dim_ or fct_",
		"models/marts/daily_orders.sql:1: error [mart-description] model daily_orders: mart has no description",
		"models/marts/daily_orders.sql:1: error [primary-key-tests] model daily_orders: no tested primary key",
		"models/marts/daily_orders.sql:4: error [no-select-star] model daily_orders: select * in a mart's output takes the columns of o ({{ ref('stg_orders') }})",
		"Linted 3 models: 4 errors, 0 warnings",
	} {
		assert.Contains(t, out, want)
	}

	// Configured in dataops.yml: warnings only exit 0.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "dataops.yml"), []byte(`retries:
  default: {attempts: 2}
lint:
  rules:
    layer-prefix: warn
    mart-description: warn
    no-select-star: {severity: warn}
    primary-key-tests: {exclude: ["models/marts/daily_*.sql"]}
`), 0o644))
	code, out, errOut = cliRun(t, "lint", "--project", dir)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	assert.Contains(t, out, "Linted 3 models: 0 errors, 3 warnings")
	assert.Contains(t, out, "warn [no-select-star]")

	code, out, _ = cliRun(t, "lint", "--project", dir, "--format", "json")
	require.Equal(t, 0, code)
	var findings []struct {
		Rule, Severity, Path, Model, Message string
		Line                                 int
	}
	require.NoError(t, json.Unmarshal([]byte(out), &findings))
	require.Len(t, findings, 3)
	assert.Equal(t, "models/marts/daily_orders.sql", findings[2].Path)
	assert.Equal(t, 4, findings[2].Line)

	// The other commands still read the same dataops.yml.
	code, _, errOut = cliRun(t, "compile", "--project", dir)
	require.Equal(t, 0, code, errOut)

	// A bad lint section names the file and line.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "dataops.yml"), []byte("lint:\n  rules:\n    no-such-rule: warn\n"), 0o644))
	code, _, errOut = cliRun(t, "lint", "--project", dir)
	require.Equal(t, 1, code)
	assert.Contains(t, errOut, "dataops.yml:3: lint.rules.no-such-rule: unknown rule")

	code, _, _ = cliRun(t, "lint", "--format", "xml")
	assert.Equal(t, 2, code)
}

var hrefRe = regexp.MustCompile(`(?:href|src)="([^"]*)"`)

func TestDocsCommandOnDemo(t *testing.T) {
	tp := t.TempDir()
	code, out, errOut := cliRun(t, "docs", "--target-path", tp)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	assert.Regexp(t, `Wrote 44 pages \(31 models, 11 sources, 1 seeds, \d+ lineage edges\)`, out)
	dir := filepath.Join(tp, "docs")

	pages := 0
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		require.NoError(t, err)
		if d.IsDir() || !strings.HasSuffix(p, ".html") {
			return nil
		}
		pages++
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		assert.NotContains(t, string(data), "<script")
		for _, m := range hrefRe.FindAllStringSubmatch(string(data), -1) {
			assert.NotContains(t, m[1], ":", "%s links outside the site: %s", p, m[1])
			_, err := os.Stat(filepath.Join(filepath.Dir(p), filepath.FromSlash(m[1])))
			assert.NoError(t, err, "%s links to %s", p, m[1])
		}
		return nil
	}))
	assert.Equal(t, 44, pages)

	mart, err := os.ReadFile(filepath.Join(dir, "models", "mart_inventory_status.html"))
	require.NoError(t, err)
	for _, want := range []string{"supply-chain", "marts", "table", "stock_key", "Primary key, warehouse code and SKU", "not_null, unique", "critical", `href="../models/int_inventory_daily.html"`, "days_of_cover"} {
		assert.Contains(t, string(mart), want)
	}
	src, err := os.ReadFile(filepath.Join(dir, "sources", "raw.orders.html"))
	require.NoError(t, err)
	assert.Contains(t, string(src), "Freshness: error after")
}
