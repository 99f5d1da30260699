package project

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vyaparbazaar/dataops/recovery"
)

// lintClean is a project every rule passes.
func lintClean() map[string]string {
	return map[string]string{
		"dbt_project.yml":               "name: shop\nversion: '1.0'\nmodels:\n  shop:\n    marts:\n      +materialized: table\n      +meta:\n        owner: finance\n",
		"models/staging/stg_orders.sql": "with src as (\n    select * from {{ source('raw', 'orders') }}\n)\nselect id as order_id, amount from src\n",
		"models/staging/_sources.yml":   "version: 2\nsources:\n  - name: raw\n    tables:\n      - name: orders\n",
		"models/staging/schema.yml":     "version: 2\nmodels:\n  - name: stg_orders\n    columns:\n      - name: order_id\n        data_tests: [unique, not_null]\n",
		"models/marts/mart_sales.sql": "with orders as (\n    select * from {{ ref('stg_orders') }}\n),\n" +
			"final as (\n    select order_id, amount * 2 as doubled from orders\n)\nselect * from final\n",
		"models/marts/schema.yml": `version: 2
models:
  - name: mart_sales
    description: Sales.
    config:
      meta:
        primary_key: order_id
    columns:
      - name: order_id
        data_tests: [unique, not_null]
`,
	}
}

func lintOf(t *testing.T, fsys map[string]string, cfg LintConfig) []string {
	t.Helper()
	p, err := Load(context.Background(), files(fsys), Options{})
	require.NoError(t, err)
	var out []string
	for _, f := range p.Lint(cfg) {
		out = append(out, f.String())
	}
	return out
}

func TestLintCleanProject(t *testing.T) {
	assert.Empty(t, lintOf(t, lintClean(), LintConfig{}))
}

func TestLintRules(t *testing.T) {
	fsys := lintClean()
	// No prefix, in the staging folder.
	fsys["models/staging/orders_clean.sql"] = "select order_id from {{ ref('stg_orders') }}\n"
	// A staging prefix in the marts folder.
	fsys["models/marts/stg_wrong_place.sql"] = "select order_id from {{ ref('stg_orders') }}\n"
	// A mart without description, owner override to empty, untested key,
	// and select * over a ref (line 3) and a qualified star (line 5).
	fsys["models/marts/mart_bad.sql"] = "{{ config(meta={'owner': ''}) }}\nwith o as (select * from {{ ref('stg_orders') }})\nselect *\nfrom o\nunion all select s.* from {{ ref('stg_orders') }} s\n"
	// A declared composite key with one test missing.
	fsys["models/marts/fct_lines.sql"] = "select 1 as order_id, 2 as line_no, count(*) as n\n"
	fsys["models/marts/props.yml"] = `version: 2
models:
  - name: fct_lines
    description: Lines.
    config:
      meta:
        primary_key: [order_id, line_no]
    columns:
      - name: order_id
        data_tests: [not_null]
      - name: line_no
        data_tests: [not_null]
  - name: mart_bad
    columns:
      - name: x
`
	got := lintOf(t, fsys, LintConfig{})
	want := []string{
		"models/marts/mart_bad.sql:1: error [layer-prefix] model mart_bad:",
		"models/marts/mart_bad.sql:3: error [no-select-star] model mart_bad: select * in a mart's output takes the columns of o ({{ ref('stg_orders') }})",
		"models/marts/mart_bad.sql:5: error [no-select-star] model mart_bad:",
		"models/marts/props.yml:6: error [primary-key-tests] model fct_lines: primary key order_id, line_no (meta primary_key) is not tested: add unique_combination_of_columns on [order_id, line_no]",
		"models/marts/props.yml:13: error [mart-description] model mart_bad: mart has no description",
		"models/marts/props.yml:13: error [mart-owner] model mart_bad: mart has no owner",
		"models/marts/props.yml:13: error [primary-key-tests] model mart_bad: no tested primary key",
		"models/marts/stg_wrong_place.sql:1: error [layer-prefix] model stg_wrong_place: prefix stg_ means layer staging, but the model is in folder marts/ (layer marts): move it or rename it to start with mart_ or dim_ or fct_",
		"models/marts/stg_wrong_place.sql:1: error [primary-key-tests] model stg_wrong_place:",
		"models/staging/orders_clean.sql:1: error [layer-prefix] model orders_clean: name has no layer prefix: rename it to start with stg_",
		"models/staging/orders_clean.sql:1: error [primary-key-tests] model orders_clean:",
	}
	// mart_bad's prefix is fine: the first expected line is a placeholder
	// removed below, so every other line is matched in order.
	want = want[1:]
	require.Len(t, got, len(want), strings.Join(got, "\n"))
	for i := range want {
		assert.True(t, strings.HasPrefix(got[i], want[i]), "finding %d:\n got %s\nwant %s", i, got[i], want[i])
	}
}

func TestLintLayerConfigMismatch(t *testing.T) {
	fsys := lintClean()
	fsys["models/staging/schema.yml"] = "version: 2\nmodels:\n  - name: stg_orders\n    config:\n      layer: intermediate\n    columns:\n      - name: order_id\n        data_tests: [unique, not_null]\n"
	got := lintOf(t, fsys, LintConfig{})
	require.Len(t, got, 1)
	assert.Equal(t, "models/staging/schema.yml:5: error [layer-prefix] model stg_orders: layer is set to intermediate, but the prefix stg_ means layer staging", got[0])
}

func TestLintPrimaryKeyVariants(t *testing.T) {
	fsys := lintClean()
	// Incremental: unique_key is the key.
	fsys["models/marts/fct_events.sql"] = "{{ config(materialized='incremental', unique_key='event_id') }}\nselect 1 as event_id\n"
	// Ephemeral models are not tested.
	fsys["models/staging/stg_tmp.sql"] = "{{ config(materialized='ephemeral') }}\nselect 1 as x\n"
	// A composite key tested by unique_combination_of_columns and not_null.
	fsys["models/marts/fct_lines.sql"] = "select 1 as a, 2 as b\n"
	fsys["models/marts/more.yml"] = `version: 2
models:
  - name: fct_events
    description: Events.
    columns:
      - name: event_id
        data_tests: [unique]
  - name: fct_lines
    description: Lines.
    data_tests:
      - dbt_utils.unique_combination_of_columns:
          combination_of_columns: [a, b]
    columns:
      - name: a
        data_tests: [not_null]
      - name: b
        data_tests: [not_null]
`
	got := lintOf(t, fsys, LintConfig{})
	require.Len(t, got, 1, strings.Join(got, "\n"))
	assert.Contains(t, got[0], "models/marts/fct_events.sql:1: error [primary-key-tests] model fct_events: primary key event_id (unique_key) is not tested: add not_null on event_id")
}

func TestLintSelectStarAllowedShapes(t *testing.T) {
	fsys := lintClean()
	fsys["models/marts/mart_ok.sql"] = `-- select * from x in a comment
{# select * in a Jinja comment #}
with a as (select * from {{ ref('stg_orders') }}),
b as (
    select
        *,
        amount * 2 as doubled
    from a
),
c as (select order_id, doubled, 'select *' as s from b),
d as (select * from c)
select count(*) as n, (select max(order_id) from a) as m, d.*
from d
`
	fsys["models/marts/ok.yml"] = "version: 2\nmodels:\n  - name: mart_ok\n    description: OK.\n    columns:\n      - name: n\n        data_tests: [unique, not_null]\n"
	assert.Empty(t, lintOf(t, fsys, LintConfig{}))

	// A star through a CTE that itself selects * from outside, and a
	// subquery in FROM, are reported.
	fsys["models/marts/mart_ok.sql"] = "with a as (select * from {{ ref('stg_orders') }})\nselect * from (select * from a) x\n"
	got := lintOf(t, fsys, LintConfig{})
	require.Len(t, got, 1, strings.Join(got, "\n"))
	assert.Contains(t, got[0], "models/marts/mart_ok.sql:2: error [no-select-star]")
	fsys["models/marts/mart_ok.sql"] = "select *\nfrom raw.orders\n"
	got = lintOf(t, fsys, LintConfig{})
	require.Len(t, got, 1, strings.Join(got, "\n"))
	assert.Contains(t, got[0], "takes the columns of raw.orders")
}

func TestLintConfigSeverityAndExcludes(t *testing.T) {
	fsys := lintClean()
	fsys["models/marts/stg_wrong.sql"] = "select 1 as id\n"
	fsys["models/legacy/old_thing.sql"] = "select 1 as id\n"
	cfg, err := ParseLintConfig("dataops.yml", []byte(`
retries:
  default: {attempts: 2}
lint:
  exclude: ["models/legacy/**"]
  mart_layers: [marts]
  rules:
    layer-prefix: warn
    primary-key-tests: {severity: error, exclude: ["models/marts/stg_*.sql"]}
`))
	require.NoError(t, err)
	got := lintOf(t, fsys, cfg)
	require.Len(t, got, 1, strings.Join(got, "\n"))
	assert.True(t, strings.HasPrefix(got[0], "models/marts/stg_wrong.sql:1: warn [layer-prefix] model stg_wrong:"), got[0])

	cfg.Rules[RuleLayerPrefix] = LintRule{Severity: LintOff}
	assert.Empty(t, lintOf(t, fsys, cfg))

	// The recovery parser reads the same file and leaves lint: alone.
	rc, err := recovery.ParseConfig([]byte("lint:\n  rules:\n    layer-prefix: off\nretries:\n  default: {attempts: 2}\n"))
	require.NoError(t, err)
	assert.EqualValues(t, 2, rc.Default["attempts"])
	_, err = recovery.ParseConfig([]byte("lint:\n  rules:\n    layer-prefix: off\n"))
	require.NoError(t, err)
}

func TestParseLintConfigErrors(t *testing.T) {
	cfg, err := ParseLintConfig("dataops.yml", []byte("retries:\n  default: {attempts: 2}\n"))
	require.NoError(t, err)
	assert.Equal(t, LintConfig{}, cfg)

	_, err = ParseLintConfig("dataops.yml", []byte(`lint:
  rules:
    layer-prefix: loud
    no-such-rule: warn
    mart-owner: {severity: warn, exlude: [x]}
  excludes: [y]
`))
	require.Error(t, err)
	msg := err.Error()
	assert.Contains(t, msg, `dataops.yml:3: lint.rules.layer-prefix: unknown severity "loud" (want error, warn or off)`)
	assert.Contains(t, msg, "dataops.yml:4: lint.rules.no-such-rule: unknown rule (want one of layer-prefix, mart-owner, mart-description, primary-key-tests, no-select-star)")
	assert.Contains(t, msg, "dataops.yml:5: lint.rules.mart-owner.exlude: unknown key (want severity or exclude)")
	assert.Contains(t, msg, "dataops.yml:6: lint.excludes: unknown key (want rules, exclude or mart_layers)")

	_, err = ParseLintConfig("dataops.yml", []byte("lint: [a]\n"))
	assert.ErrorContains(t, err, "dataops.yml:1: lint: want a mapping")
	_, err = ParseLintConfig("dataops.yml", []byte("lint:\n  exclude: {a: 1}\n"))
	assert.ErrorContains(t, err, "dataops.yml:2: lint.exclude: want a list of strings")
}
