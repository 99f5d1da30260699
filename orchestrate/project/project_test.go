package project

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vyaparbazaar/dataops/orchestrate"
)

// files builds a MapFS from path → content.
func files(m map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for p, c := range m {
		fsys[p] = &fstest.MapFile{Data: []byte(c)}
	}
	return fsys
}

func mustLoad(t *testing.T, m map[string]string, opts ...Options) *Project {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	p, err := Load(context.Background(), files(m), o)
	require.NoError(t, err)
	return p
}

func loadErr(t *testing.T, m map[string]string, opts ...Options) error {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	p, err := Load(context.Background(), files(m), o)
	require.Error(t, err)
	require.Nil(t, p)
	return err
}

func compile(t *testing.T, p *Project, name string, st CompileState) Compiled {
	t.Helper()
	c, err := p.Compile(name, st)
	require.NoError(t, err)
	return c
}

// norm collapses whitespace for SQL comparisons.
func norm(s string) string { return strings.Join(strings.Fields(s), " ") }

const shopProject = `name: shop
version: "1.2"
profile: shop_profile
vars:
  start_date: '2024-01-01'
  shop:
    scoped: from_project_scope
models:
  +meta:
    team: data
  shop:
    +materialized: view
    +tags: [nightly]
    +meta:
      owner: platform
    staging:
      +tags: [stg]
      +schema: staging
      stg_payments:
        +materialized: table
        +tags: payments
    marts:
      materialized: table
      tags: [mart]
      +priority: high
      finance:
        +owner: finance-team
        +critical: true
        +timeout: 90s
        +incremental_strategy: merge
`

func TestConfigHierarchyAndPrecedence(t *testing.T) {
	p := mustLoad(t, map[string]string{
		"dbt_project.yml":                   shopProject,
		"models/staging/stg_orders.sql":     "select 1 as id",
		"models/staging/stg_payments.sql":   "select 1 as id",
		"models/staging/stg_customers.sql":  "{{ config(materialized='table', tags=['inline'], schema='override') }}\nselect 1 as id",
		"models/marts/finance/revenue.sql":  "{{ config(materialized='incremental', unique_key=['day', 'shop']) }}\nselect 1 as id",
		"models/marts/orders.sql":           "select 1 as id",
		"models/marts/finance/by_props.sql": "{{ config(meta={'owner': 'inline-owner'}) }}\nselect 1 as id",
		"models/properties.yml": `version: 2
models:
  - name: stg_customers
    description: Customers, cleaned.
    config:
      materialized: incremental
      tags: [props]
      alias: customers_v2
  - name: by_props
    config:
      materialized: view
      timeout: 30
      meta:
        owner: props-owner
        tier: gold
  - name: orders
    config:
      enabled: true
      priority: low
`,
	})

	orders := p.Models["stg_orders"]
	require.NotNil(t, orders)
	assert.Equal(t, "view", orders.Materialized)
	assert.Equal(t, "staging", orders.Schema)
	assert.Equal(t, []string{"nightly", "stg"}, p.Node("stg_orders").Tags)
	assert.Equal(t, map[string]any{"team": "data", "owner": "platform"}, orders.Meta)
	assert.Equal(t, "platform", p.Node("stg_orders").Owner)

	// Resource-name level of the hierarchy; tags given as a string.
	pay := p.Models["stg_payments"]
	assert.Equal(t, "table", pay.Materialized)
	assert.Equal(t, []string{"nightly", "stg", "payments"}, p.Node("stg_payments").Tags)

	// In-file config() beats the property file, which beats dbt_project.yml;
	// tags accumulate through every level.
	cust := p.Models["stg_customers"]
	assert.Equal(t, "table", cust.Materialized)
	assert.Equal(t, "override", cust.Schema)
	assert.Equal(t, "customers_v2", cust.Alias)
	assert.Equal(t, `"override"."customers_v2"`, cust.Relation().Quoted())
	n := p.Node("stg_customers")
	assert.Equal(t, []string{"nightly", "stg", "props", "inline"}, n.Tags)
	assert.Equal(t, "Customers, cleaned.", n.Description)
	assert.Equal(t, "table", n.Config["materialized"])
	assert.Equal(t, "override", n.Config["schema"])
	assert.Equal(t, "customers_v2", n.Config["alias"])

	// Keys without "+" are config too; priority, owner, critical, timeout.
	mart := p.Node("orders")
	assert.Equal(t, "table", p.Models["orders"].Materialized)
	assert.Equal(t, []string{"nightly", "mart"}, mart.Tags)
	assert.Equal(t, orchestrate.PriorityLow, mart.Priority, "property file priority beats dbt_project.yml")

	rev := p.Models["revenue"]
	assert.Equal(t, "incremental", rev.Materialized)
	assert.Equal(t, []string{"day", "shop"}, rev.UniqueKey)
	assert.Equal(t, StrategyMerge, rev.IncrementalStrategy)
	rn := p.Node("revenue")
	assert.Equal(t, "finance-team", rn.Owner)
	assert.True(t, rn.Critical)
	assert.Equal(t, orchestrate.PriorityHigh, rn.Priority)
	assert.Equal(t, 90*time.Second, rn.Timeout)
	assert.Equal(t, "day,shop", rn.Config["unique_key"])
	assert.Equal(t, "merge", rn.Config["incremental_strategy"])

	// meta merges: project < property file < config().
	bp := p.Models["by_props"]
	assert.Equal(t, "view", bp.Materialized)
	assert.Equal(t, map[string]any{"team": "data", "owner": "inline-owner", "tier": "gold"}, bp.Meta)
	assert.Equal(t, "finance-team", p.Node("by_props").Owner, "config owner beats meta owner")
	assert.Equal(t, 30*time.Second, p.Node("by_props").Timeout)

	assert.Equal(t, "shop", p.Name)
	assert.Equal(t, "1.2", p.Version)
	assert.Equal(t, "shop_profile", p.Profile)
}

func TestDisabledModel(t *testing.T) {
	p := mustLoad(t, map[string]string{
		"dbt_project.yml":       "name: shop\nmodels:\n  shop:\n    legacy:\n      +enabled: false\n",
		"models/legacy/old.sql": "select 1",
		"models/new.sql":        "{{ config(enabled=false) }}select 1",
		"models/kept.sql":       "select * from {{ ref('old') }}",
		"models/schema.yml":     "version: 2\nmodels:\n  - name: old\n    columns:\n      - name: id\n        tests: [unique]\n",
	})
	assert.Contains(t, p.Models, "kept")
	assert.NotContains(t, p.Models, "old")
	assert.NotContains(t, p.Models, "new")
	assert.Empty(t, p.Tests, "tests of disabled models are disabled too")
}

func TestJinjaFeatures(t *testing.T) {
	t.Setenv("DATAOPS_TEST_REGION", "ignored-because-env-is-set")
	env := map[string]string{"REGION": "eu", "EMPTY": ""}
	p := mustLoad(t, map[string]string{
		"dbt_project.yml": "name: shop\nvars:\n  min_amount: 10\n  statuses: [placed, shipped]\n",
		"macros/helpers.sql": `{% macro cents(col, scale=2) -%}
({{ col }} / 100)::numeric(16, {{ scale }})
{%- endmacro %}

{% macro status_list() %}
  {{ return(var('statuses') + ['returned']) }}
{% endmacro %}

{% macro first_match(x) %}
  {%- for i in [1, 2, 3] -%}
    {%- if i == x -%}{{ return(i * 10) }}{%- endif -%}
  {%- endfor -%}
  {{ return(-1) }}
{% endmacro %}

{% macro orders_rel() %}{{ return(ref('stg_orders')) }}{% endmacro %}
`,
		"models/stg_orders.sql": "select 1 as id, 100 as amount, 'placed' as status",
		"models/report.sql": `{{ config(materialized='table', tags=['r']) }}
{%- set statuses = status_list() %}
select
    id,
    {{ cents('amount') }} as amount,
    {{ cents('amount', scale=4) }} as amount4,
    {{ first_match(2) }} as m2,
    {{ first_match(7) }} as m7,
{%- for s in statuses %}
    sum(case when status = '{{ s }}' then 1 else 0 end) as n_{{ s }},
{%- endfor %}
    '{{ env_var('REGION') }}' as region,
    '{{ env_var('MISSING', 'fallback') }}' as region2,
    '{{ var('min_amount') }}' as min_amount,
    '{{ var('absent', 'dflt') }}' as absent,
    '{{ target.name }}/{{ target.schema }}/{{ target.type }}/{{ target.threads }}' as tgt,
    '{{ this }}' as this_rel,
    '{{ this.name }}' as this_name
from {{ orders_rel() }}
join {{ ref('shop', 'stg_orders') }} using (id)
join {{ ref('stg_orders', v=2) }} using (id)
{% if is_incremental() %}where false{% endif %}
{% do log('rendering report') %}
group by all
`,
	}, Options{Env: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})

	c := compile(t, p, "report", CompileState{})
	sql := c.SQL
	assert.Contains(t, sql, "(amount / 100)::numeric(16, 2) as amount,")
	assert.Contains(t, sql, "(amount / 100)::numeric(16, 4) as amount4,")
	assert.Contains(t, sql, "20 as m2,")
	assert.Contains(t, sql, "-1 as m7,")
	for _, s := range []string{"placed", "shipped", "returned"} {
		assert.Contains(t, sql, "when status = '"+s+"' then 1 else 0 end) as n_"+s+",")
	}
	assert.Contains(t, sql, "'eu' as region,")
	assert.Contains(t, sql, "'fallback' as region2,")
	assert.Contains(t, sql, "'10' as min_amount,")
	assert.Contains(t, sql, "'dflt' as absent,")
	assert.Contains(t, sql, "'dev/main/duckdb/1' as tgt,")
	assert.Contains(t, sql, `'"main"."report"' as this_rel,`)
	assert.Contains(t, sql, "'report' as this_name")
	assert.Contains(t, sql, `from "main"."stg_orders"`)
	assert.Contains(t, sql, `join "main"."stg_orders" using (id)`)
	assert.NotContains(t, sql, "where false")
	assert.NotContains(t, sql, "{{")
	// Whitespace control: the for loop leaves no blank lines.
	assert.NotContains(t, sql, ",\n\n")

	n := p.Node("report")
	assert.Equal(t, []string{"stg_orders"}, n.Deps, "refs made inside macros are dependencies")
	assert.Equal(t, []string{"r"}, n.Tags)
	assert.Equal(t, "table", p.Models["report"].Materialized)
}

func TestTargetOption(t *testing.T) {
	p := mustLoad(t, map[string]string{
		"dbt_project.yml": "name: shop\n",
		"models/a.sql":    "select '{{ target.name }}' as t, {{ target.threads }} as n from {{ ref('b') }}",
		"models/b.sql":    "select 1",
	}, Options{Target: Target{Name: "prod", Schema: "analytics", Threads: 8}})
	c := compile(t, p, "a", CompileState{})
	assert.Equal(t, `select 'prod' as t, 8 as n from "analytics"."b"`, c.SQL)
	assert.Equal(t, "analytics", p.Models["a"].Schema)
	assert.Equal(t, Target{Name: "prod", Schema: "analytics", Type: "duckdb", Threads: 8}, p.Target)
}

func TestVarsOverride(t *testing.T) {
	m := map[string]string{
		"dbt_project.yml": `name: shop
vars:
  a: project_a
  b: project_b
  shop:
    b: scoped_b
  other_pkg:
    c: not_ours
`,
		"models/x.sql": "select '{{ var('a') }}' as a, '{{ var('b') }}' as b, '{{ var('c', 'none') }}' as c",
	}
	p := mustLoad(t, m)
	assert.Equal(t, "select 'project_a' as a, 'scoped_b' as b, 'none' as c", compile(t, p, "x", CompileState{}).SQL)

	p = mustLoad(t, m, Options{Vars: map[string]any{"a": "cli_a", "b": 42}})
	assert.Equal(t, "select 'cli_a' as a, '42' as b, 'none' as c", compile(t, p, "x", CompileState{}).SQL)
	assert.Equal(t, "cli_a", p.Vars["a"])
}

func TestProjectFileJinja(t *testing.T) {
	p := mustLoad(t, map[string]string{
		"dbt_project.yml": `name: shop
profile: "{{ env_var('PROFILE', 'default_profile') }}"
vars:
  schema_name: "{{ env_var('SCHEMA', 'raw') }}"
`,
		"models/x.sql": "select '{{ var('schema_name') }}'",
	}, Options{Env: func(k string) (string, bool) {
		if k == "SCHEMA" {
			return "landing", true
		}
		return "", false
	}})
	assert.Equal(t, "default_profile", p.Profile)
	assert.Equal(t, "select 'landing'", compile(t, p, "x", CompileState{}).SQL)
}

func TestEnvVarDefaultsToOS(t *testing.T) {
	t.Setenv("DATAOPS_PROJECT_TEST_VAR", "from_os")
	p := mustLoad(t, map[string]string{
		"dbt_project.yml": "name: shop\n",
		"models/x.sql":    "select '{{ env_var('DATAOPS_PROJECT_TEST_VAR') }}'",
	})
	assert.Equal(t, "select 'from_os'", compile(t, p, "x", CompileState{}).SQL)
}

func TestIsIncrementalRerender(t *testing.T) {
	p := mustLoad(t, map[string]string{
		"dbt_project.yml": "name: shop\n",
		"models/events.sql": `{{ config(materialized='incremental', unique_key='id') }}
select * from {{ source('raw', 'events') }}
{% if is_incremental() %}
where ts > (select max(ts) from {{ this }})
{% endif %}`,
		"models/snap.sql": `{{ config(materialized='table') }}
select 1 {% if is_incremental() %}where true{% endif %}`,
	})
	full := compile(t, p, "events", CompileState{IsIncremental: false})
	assert.NotContains(t, full.SQL, "max(ts)")
	inc := compile(t, p, "events", CompileState{IsIncremental: true})
	assert.Contains(t, inc.SQL, `where ts > (select max(ts) from "main"."events")`)
	assert.Equal(t, 4, inc.Line(4), "line of the where clause")
	assert.Equal(t, []string{"id"}, p.Models["events"].UniqueKey)

	// is_incremental() is false for models that are not incremental.
	assert.NotContains(t, compile(t, p, "snap", CompileState{IsIncremental: true}).SQL, "where true")
	// Model.Compile is the same as Project.Compile.
	mc, err := p.Models["events"].Compile(CompileState{IsIncremental: true})
	require.NoError(t, err)
	assert.Equal(t, inc.SQL, mc.SQL)
	assert.Equal(t, "models/events.sql", mc.Path)
}

func TestEphemeralInlining(t *testing.T) {
	p := mustLoad(t, map[string]string{
		"dbt_project.yml": "name: shop\nmodels:\n  shop:\n    eph:\n      +materialized: ephemeral\n",
		"models/base.sql": "select 1 as id",
		// eph_c is the deepest ephemeral; eph_b and eph_d both use it.
		"models/eph/eph_c.sql": "select id from {{ ref('base') }};\n",
		"models/eph/eph_b.sql": "select id from {{ ref('eph_c') }}",
		"models/eph/eph_d.sql": "select id from {{ ref('eph_c') }}",
		"models/plain.sql":     "select *\nfrom {{ ref('eph_b') }}\n",
		"models/merged.sql": `-- leading comment
/* block
   comment */
WITH x AS (
    select * from {{ ref('eph_b') }}
),
y as (select * from {{ ref('eph_d') }})
select * from x join y using (id)
`,
		"models/with_newline.sql": "with\n  x as (select * from {{ ref('eph_c') }})\nselect * from x",
	})
	assert.Equal(t, MaterializedEphemeral, p.Models["eph_c"].Materialized)
	assert.Equal(t, orchestrate.KindModel, p.Node("eph_c").Kind)
	assert.Equal(t, []string{"eph_b"}, p.Node("plain").Deps, "the graph keeps ephemeral nodes")

	plain := compile(t, p, "plain", CompileState{})
	assert.Equal(t, `with __dbt__cte__eph_c as (
select id from "main"."base"
),
__dbt__cte__eph_b as (
select id from __dbt__cte__eph_c
)
select *
from __dbt__cte__eph_b`, plain.SQL)
	// CTE lines map to the ref line; model lines to their own lines.
	assert.Equal(t, 2, plain.Line(1))
	assert.Equal(t, 2, plain.Line(5))
	assert.Equal(t, 1, plain.Line(7))
	assert.Equal(t, 2, plain.Line(8))

	merged := compile(t, p, "merged", CompileState{})
	assert.Equal(t, `-- leading comment
/* block
   comment */
WITH __dbt__cte__eph_c as (
select id from "main"."base"
),
__dbt__cte__eph_b as (
select id from __dbt__cte__eph_c
),
__dbt__cte__eph_d as (
select id from __dbt__cte__eph_c
),
x AS (
    select * from __dbt__cte__eph_b
),
y as (select * from __dbt__cte__eph_d)
select * from x join y using (id)`, merged.SQL)
	assert.Equal(t, 1, strings.Count(merged.SQL, "__dbt__cte__eph_c as ("), "each CTE once")
	assert.Equal(t, 1, merged.Line(1))
	assert.Equal(t, 4, merged.Line(4), "the with line")
	assert.Equal(t, 5, merged.Line(6), "CTE lines map to the ref line")
	assert.Equal(t, 4, merged.Line(13), "x AS ( was on the with line")
	assert.Equal(t, 5, merged.Line(14))
	assert.Equal(t, 7, merged.Line(16))
	assert.Equal(t, 8, merged.Line(17))

	wn := compile(t, p, "with_newline", CompileState{})
	assert.Equal(t, "with __dbt__cte__eph_c as (\nselect id from \"main\".\"base\"\n),\n  x as (select * from __dbt__cte__eph_c)\nselect * from x", wn.SQL)
	assert.Equal(t, 2, wn.Line(4))
	assert.Equal(t, 3, wn.Line(5))

	// Compiling an ephemeral model inlines its own ephemeral refs.
	b := compile(t, p, "eph_b", CompileState{})
	assert.True(t, strings.HasPrefix(b.SQL, "with __dbt__cte__eph_c as ("))
}

func TestEphemeralTestInlining(t *testing.T) {
	p := mustLoad(t, map[string]string{
		"dbt_project.yml": "name: shop\n",
		"models/e.sql":    "{{ config(materialized='ephemeral') }}\nselect 1 as id",
		"models/schema.yml": `version: 2
models:
  - name: e
    columns:
      - name: id
        tests: [not_null]
`,
		"tests/e_positive.sql": "select * from {{ ref('e') }} where id <= 0",
	})
	c := compile(t, p, "not_null_e_id", CompileState{})
	assert.Contains(t, c.SQL, "with __dbt__cte__e as (")
	assert.Contains(t, c.SQL, "from __dbt__cte__e")
	s := compile(t, p, "e_positive", CompileState{})
	assert.Contains(t, s.SQL, "with __dbt__cte__e as (")
}

const testsSchema = `version: 2
sources:
  - name: raw
    schema: landing
    loaded_at_field: _loaded_at
    freshness:
      warn_after: {count: 12, period: hour}
      error_after: {count: 1, period: day}
    tables:
      - name: orders
        identifier: orders_v1
        columns:
          - name: id
            data_type: bigint
            tests: [unique]
      - name: customers
        freshness:
          warn_after: {count: 30, period: minute}
models:
  - name: stg_orders
    description: Orders.
    tests:
      - dbt_utils.unique_combination_of_columns:
          combination_of_columns: [id, status]
      - relationships:
          column_name: customer_id
          to: ref('customers')
          field: id
    columns:
      - name: id
        data_type: integer
        description: The key.
        tests:
          - unique
          - not_null:
              config:
                severity: warn
                where: "status != 'test'"
          - not_null
      - name: status
        data_tests:
          - accepted_values:
              values: ['placed', 'shipped']
          - accepted_values:
              name: status_numbers
              values: [1, 2]
              quote: false
              severity: warn
              warn_if: ">10"
              error_if: ">100"
              store_failures: true
      - name: customer_id
        tests:
          - relationships:
              to: "{{ ref('customers') }}"
              field: id
          - relationships:
              to: source('raw', 'customers')
              field: customer_id
      - name: amount
        tests:
          - dbt_utils.accepted_range:
              min_value: 0
              inclusive: true
          - dbt_utils.expression_is_true:
              expression: ">= 0"
seeds:
  - name: countries
    config:
      column_types:
        code: varchar(2)
    columns:
      - name: code
        tests: [unique]
  - name: no_such_seed
    columns:
      - name: x
        tests: [unique]
`

func loadTestsProject(t *testing.T) *Project {
	return mustLoad(t, map[string]string{
		"dbt_project.yml":       "name: shop\n",
		"models/stg_orders.sql": "select * from {{ source('raw', 'orders') }}",
		"models/customers.sql":  "select * from {{ source('raw', 'customers') }}",
		"models/schema.yml":     testsSchema,
		"seeds/countries.csv":   "code,name\nIN,India\n",
	})
}

func TestGenericTests(t *testing.T) {
	p := loadTestsProject(t)
	names := make([]string, 0, len(p.Tests))
	for n := range p.Tests {
		names = append(names, n)
	}
	assert.ElementsMatch(t, []string{
		"source_unique_raw_orders_id",
		"dbt_utils_unique_combination_of_columns_stg_orders_id__status",
		"relationships_stg_orders_customer_id__id__ref_customers_",
		"unique_stg_orders_id",
		"not_null_stg_orders_id",
		"not_null_stg_orders_id_2",
		"accepted_values_stg_orders_status__placed__shipped",
		"status_numbers",
		"relationships_stg_orders_customer_id__id__ref_customers__2",
		"relationships_stg_orders_customer_id__customer_i_f293c6023d5d",
		"dbt_utils_accepted_range_stg_orders_amount__True__0",
		"dbt_utils_expression_is_true_stg_orders_amount___0",
		"unique_countries_code",
	}, names)

	unique := compile(t, p, "unique_stg_orders_id", CompileState{})
	assert.Equal(t, norm(`select id as unique_field, count(*) as n_records from "main"."stg_orders"
		where id is not null group by id having count(*) > 1`), norm(unique.SQL))
	assert.Equal(t, "models/schema.yml", unique.Path)
	assert.Equal(t, 34, unique.Line(3), "every line maps to the declaration")

	nn := p.Tests["not_null_stg_orders_id"]
	assert.Equal(t, SeverityWarn, nn.Severity)
	assert.Equal(t, "stg_orders", nn.Model)
	assert.Equal(t, "id", nn.Column)
	assert.Equal(t, TestNotNull, nn.Type)
	assert.Equal(t, norm(`select * from (select * from "main"."stg_orders" where status != 'test') dbt_subquery where id is null`),
		norm(compile(t, p, "not_null_stg_orders_id", CompileState{}).SQL))
	assert.Equal(t, SeverityError, p.Tests["not_null_stg_orders_id_2"].Severity)

	av := compile(t, p, "accepted_values_stg_orders_status__placed__shipped", CompileState{})
	assert.Contains(t, norm(av.SQL), "select status as value_field, count(*) as n_records from \"main\".\"stg_orders\" group by status")
	assert.Contains(t, av.SQL, "where value_field not in ('placed', 'shipped')")

	num := p.Tests["status_numbers"]
	assert.Contains(t, compile(t, p, "status_numbers", CompileState{}).SQL, "not in (1, 2)")
	assert.Equal(t, SeverityWarn, num.Severity)
	assert.Equal(t, ">10", num.WarnIf)
	assert.Equal(t, ">100", num.ErrorIf)
	assert.True(t, num.StoreFailures)
	assert.Equal(t, map[string]any{"values": []any{uint64(1), uint64(2)}, "quote": false}, num.Args)
	assert.Equal(t, "warn", p.Node("status_numbers").Config["severity"])
	assert.Equal(t, "true", p.Node("status_numbers").Config["store_failures"])

	// relationships written with and without braces compile the same.
	r1 := compile(t, p, "relationships_stg_orders_customer_id__id__ref_customers_", CompileState{})
	r2 := compile(t, p, "relationships_stg_orders_customer_id__id__ref_customers__2", CompileState{})
	assert.Equal(t, r1.SQL, r2.SQL)
	assert.Equal(t, norm(`with child as ( select customer_id as from_field from "main"."stg_orders" where customer_id is not null ),
		parent as ( select id as to_field from "main"."customers" )
		select from_field from child left join parent on child.from_field = parent.to_field
		where parent.to_field is null`), norm(r1.SQL))
	rn := p.Node("relationships_stg_orders_customer_id__id__ref_customers_")
	assert.Equal(t, []string{"customers", "stg_orders"}, rn.Deps)
	assert.Equal(t, "stg_orders", rn.TestOf)
	assert.Equal(t, orchestrate.KindTest, rn.Kind)
	assert.Equal(t, "models/schema.yml:25", rn.DepLocations["customers"], "the model-level test")
	assert.Equal(t, "models/schema.yml:54", p.Node("relationships_stg_orders_customer_id__id__ref_customers__2").DepLocations["customers"])

	// Long names are shortened with a hash.
	rs := p.Node("relationships_stg_orders_customer_id__customer_i_f293c6023d5d")
	assert.Equal(t, []string{"raw.customers", "stg_orders"}, rs.Deps)
	assert.Contains(t, compile(t, p, rs.Name, CompileState{}).SQL, `from "landing"."customers"`)

	// Model-level tests.
	ucc := compile(t, p, "dbt_utils_unique_combination_of_columns_stg_orders_id__status", CompileState{})
	assert.Contains(t, norm(ucc.SQL), "group by id, status having count(*) > 1")
	assert.Equal(t, "customer_id", p.Tests["relationships_stg_orders_customer_id__id__ref_customers_"].Column)
	assert.Contains(t, compile(t, p, "dbt_utils_accepted_range_stg_orders_amount__True__0", CompileState{}).SQL, "not (amount >= 0)")
	assert.Contains(t, compile(t, p, "dbt_utils_expression_is_true_stg_orders_amount___0", CompileState{}).SQL, "where not (amount >= 0)")

	// Source tests attach to the source node, seed tests to the seed.
	st := p.Node("source_unique_raw_orders_id")
	assert.Equal(t, "raw.orders", st.TestOf)
	assert.Equal(t, []string{"raw.orders"}, st.Deps)
	assert.Contains(t, compile(t, p, st.Name, CompileState{}).SQL, `from "landing"."orders_v1"`)
	sd := p.Node("unique_countries_code")
	assert.Equal(t, "countries", sd.TestOf)
	assert.Equal(t, []string{"countries"}, sd.Deps)

	// Sources.
	src := p.Sources["raw.orders"]
	require.NotNil(t, src)
	assert.Equal(t, `"landing"."orders_v1"`, src.Relation().Quoted())
	assert.Equal(t, "_loaded_at", src.LoadedAtField)
	assert.Equal(t, 12*time.Hour, src.WarnAfter)
	assert.Equal(t, 24*time.Hour, src.ErrorAfter)
	assert.Equal(t, []Column{{Name: "id", Type: "bigint"}}, src.Columns)
	cst := p.Sources["raw.customers"]
	assert.Equal(t, 30*time.Minute, cst.WarnAfter)
	assert.Equal(t, time.Duration(0), cst.ErrorAfter, "table freshness replaces the source's")
	sn := p.Node("raw.orders")
	assert.Equal(t, orchestrate.KindSource, sn.Kind)
	assert.Equal(t, "sources", sn.Layer)
	assert.Equal(t, "models/schema.yml", sn.Path)
	assert.Equal(t, src, sn.Spec)

	// Model columns from the property file.
	assert.Equal(t, Column{Name: "id", Type: "integer", Description: "The key."}, p.Models["stg_orders"].Columns[0])
}

func TestCustomGenericTest(t *testing.T) {
	p := mustLoad(t, map[string]string{
		"dbt_project.yml": "name: shop\n",
		"tests/generic/is_positive.sql": `{% test is_positive(model, column_name, strict=true) %}
select * from {{ model }} where {{ column_name }} {% if strict %}<={% else %}<{% endif %} 0
{% endtest %}`,
		"macros/more.sql": `{%- test has_rows(model, min_rows) -%}
select 1 from (select count(*) as n from {{ model }}) where n < {{ min_rows }}
{%- endtest %}`,
		"models/payments.sql": "select 1 as amount",
		"models/schema.yml": `version: 2
models:
  - name: payments
    tests:
      - has_rows:
          min_rows: 5
    columns:
      - name: amount
        tests:
          - is_positive
          - is_positive:
              strict: false
              config: {severity: warn}
`,
	})
	assert.Contains(t, p.Macros, "test_is_positive")
	c := compile(t, p, "is_positive_payments_amount", CompileState{})
	assert.Equal(t, `select * from "main"."payments" where amount <= 0`, strings.TrimSpace(c.SQL))
	c2 := compile(t, p, "is_positive_payments_amount__False", CompileState{})
	assert.Contains(t, c2.SQL, "where amount < 0")
	assert.Equal(t, SeverityWarn, p.Tests["is_positive_payments_amount__False"].Severity)
	c3 := compile(t, p, "has_rows_payments_5", CompileState{})
	assert.Equal(t, `select 1 from (select count(*) as n from "main"."payments") where n < 5`, c3.SQL)
	assert.Empty(t, p.Node("has_rows_payments_5").Config["column"])
}

func TestTestNamesAreShortenedAndUnique(t *testing.T) {
	var values []string
	for i := 0; i < 30; i++ {
		values = append(values, "'status_value_"+strings.Repeat("x", i%3)+string(rune('a'+i%26))+"'")
	}
	p := mustLoad(t, map[string]string{
		"dbt_project.yml":   "name: shop\n",
		"models/orders.sql": "select 1",
		"models/schema.yml": "version: 2\nmodels:\n  - name: orders\n    columns:\n      - name: status\n        tests:\n" +
			"          - accepted_values:\n              values: [" + strings.Join(values, ", ") + "]\n" +
			"          - accepted_values:\n              values: [" + strings.Join(values, ", ") + "]\n",
	})
	require.Len(t, p.Tests, 2)
	for name := range p.Tests {
		assert.LessOrEqual(t, len(name), 64)
		assert.True(t, strings.HasPrefix(name, "accepted_values_orders_status__status_value_"), name)
	}
}

func TestSingularTests(t *testing.T) {
	p := mustLoad(t, map[string]string{
		"dbt_project.yml":        "name: shop\ndata_tests:\n  shop:\n    +severity: warn\n    strict:\n      +severity: error\n",
		"models/orders.sql":      "select 1 as id",
		"models/payments.sql":    "select 1 as id",
		"tests/no_orphans.sql":   "-- orphans\nselect p.id\nfrom {{ ref('payments') }} p\nleft join {{ ref('orders') }} o using (id)\nwhere o.id is null",
		"tests/strict/fresh.sql": "{{ config(store_failures=true) }}\nselect * from {{ source('raw', 'events') }} where false",
		"tests/readme.md":        "{% docs x %}not jinja we can parse{% enddocs %}",
	})
	tn := p.Node("no_orphans")
	require.NotNil(t, tn)
	assert.Equal(t, orchestrate.KindTest, tn.Kind)
	assert.Equal(t, []string{"orders", "payments"}, tn.Deps)
	assert.Equal(t, "payments", tn.TestOf, "the first ref'd node")
	assert.Equal(t, "tests/no_orphans.sql:3", tn.DepLocations["payments"])
	assert.Equal(t, "tests/no_orphans.sql:4", tn.DepLocations["orders"])
	dt := p.Tests["no_orphans"]
	assert.Equal(t, TestSingular, dt.Type)
	assert.Equal(t, SeverityWarn, dt.Severity)
	c := compile(t, p, "no_orphans", CompileState{})
	assert.Contains(t, c.SQL, `from "main"."payments" p`)
	assert.Equal(t, 4, c.Line(4))

	f := p.Tests["fresh"]
	assert.Equal(t, SeverityError, f.Severity)
	assert.True(t, f.StoreFailures)
	assert.Equal(t, "raw.events", f.Model)
	assert.Equal(t, "raw.events", p.Node("fresh").TestOf)
}

func TestSeeds(t *testing.T) {
	p := mustLoad(t, map[string]string{
		"dbt_project.yml":          "name: shop\nseeds:\n  shop:\n    +schema: ref_data\n    lookups:\n      +delimiter: ';'\n      +tags: [lookup]\n",
		"seeds/countries.csv":      "code,name\nIN,India\n",
		"seeds/lookups/status.csv": "code;label\n1;placed\n",
		"seeds/props.yml": `version: 2
seeds:
  - name: countries
    description: Country codes.
    config:
      column_types: {code: varchar(2)}
      alias: country_codes
  - name: missing
    config:
      column_types: {x: int}
`,
		"models/x.sql": "select * from {{ ref('countries') }}",
	})
	s := p.Seeds["countries"]
	require.NotNil(t, s)
	assert.Equal(t, "Country codes.", s.Description)
	assert.Equal(t, "Country codes.", p.Node("countries").Description)
	assert.Equal(t, []byte("code,name\nIN,India\n"), s.Data)
	assert.Equal(t, map[string]string{"code": "varchar(2)"}, s.ColumnTypes)
	assert.Equal(t, `"ref_data"."country_codes"`, s.Relation().Quoted())
	assert.Equal(t, ",", s.Delimiter)
	st := p.Seeds["status"]
	assert.Equal(t, ";", st.Delimiter)
	n := p.Node("status")
	assert.Equal(t, orchestrate.KindSeed, n.Kind)
	assert.Equal(t, "seeds", n.Layer)
	assert.Equal(t, []string{"lookup"}, n.Tags)
	assert.Equal(t, "seeds/lookups/status.csv", n.Path)
	assert.NotContains(t, p.Seeds, "missing")
	assert.Equal(t, `select * from "ref_data"."country_codes"`, compile(t, p, "x", CompileState{}).SQL)
	_, err := p.Compile("countries", CompileState{})
	assert.Error(t, err)
}

func TestDepLocations(t *testing.T) {
	p := mustLoad(t, map[string]string{
		"dbt_project.yml": "name: shop\n",
		"models/marts/x.sql": `{{ config(materialized='table') }}
select *
from {{ ref('a') }}
join {{ ref("shop", "b") }} using (id)
join {{   source( 'raw' ,
   'events') }} using (id)
{% for m in ['c'] %}join {{ ref(m) }} using (id){% endfor %}
`,
	})
	n := p.Node("x")
	assert.Equal(t, []string{"a", "b", "c", "raw.events"}, n.Deps)
	assert.Equal(t, map[string]string{
		"a":          "models/marts/x.sql:3",
		"b":          "models/marts/x.sql:4",
		"raw.events": "models/marts/x.sql:5",
		"c":          "models/marts/x.sql:7",
	}, n.DepLocations)
}

func TestLayers(t *testing.T) {
	p := mustLoad(t, map[string]string{
		"dbt_project.yml":                    "name: shop\nmodels:\n  shop:\n    custom:\n      +layer: gold\n",
		"models/staging/orders.sql":          "select 1",
		"models/intermediate/joined.sql":     "select 1",
		"models/marts/finance/revenue.sql":   "select 1",
		"models/custom/anything.sql":         "select 1",
		"models/stg_flat.sql":                "select 1",
		"models/int_flat.sql":                "select 1",
		"models/dim_customer.sql":            "select 1",
		"models/fct_sales.sql":               "select 1",
		"models/mart_kpis.sql":               "select 1",
		"models/ml_churn.sql":                "select 1",
		"models/other.sql":                   "{{ config(layer='bronze') }}select 1",
		"models/plain.sql":                   "select 1",
		"models/misc/stg_in_misc_folder.sql": "select 1",
		"seeds/s.csv":                        "a\n1\n",
		"models/src.yml":                     "version: 2\nsources:\n  - name: raw\n    tables: [{name: t}]\n",
	})
	want := map[string]string{
		"orders": "staging", "joined": "intermediate", "revenue": "marts", "anything": "gold",
		"stg_flat": "staging", "int_flat": "intermediate", "dim_customer": "dimensions",
		"fct_sales": "facts", "mart_kpis": "marts", "ml_churn": "ml_features", "other": "bronze",
		"plain": "", "stg_in_misc_folder": "staging", "s": "seeds", "raw.t": "sources",
	}
	for name, layer := range want {
		require.NotNil(t, p.Node(name), name)
		assert.Equal(t, layer, p.Node(name).Layer, name)
	}
}

func TestNodes(t *testing.T) {
	p := loadTestsProject(t)
	nodes := p.Nodes()
	var prev string
	for _, n := range nodes {
		assert.Less(t, prev, n.Name, "sorted by name")
		prev = n.Name
		assert.Same(t, n, p.Node(n.Name))
		if n.Kind == orchestrate.KindModel {
			assert.IsType(t, &Model{}, n.Spec)
			assert.Equal(t, "view", n.Config["materialized"])
		}
		if n.Kind == orchestrate.KindTest {
			assert.IsType(t, &DataTest{}, n.Spec)
			assert.NotEmpty(t, n.TestOf)
			assert.Contains(t, n.Deps, n.TestOf)
		}
	}
	assert.Nil(t, p.Node("nope"))
	var pl orchestrate.Pipeline = p
	assert.Len(t, pl.Nodes(), len(p.Models)+len(p.Seeds)+len(p.Sources)+len(p.Tests))
	m := p.Node("stg_orders")
	assert.Equal(t, "models/stg_orders.sql", m.Path)
	assert.Equal(t, "Orders.", m.Description)
	assert.Equal(t, []string{"raw.orders"}, m.Deps)
	assert.Equal(t, "models/stg_orders.sql:1", m.DepLocations["raw.orders"])
}

func TestLoadIsDeterministic(t *testing.T) {
	a := loadTestsProject(t)
	b := loadTestsProject(t)
	require.Equal(t, len(a.Nodes()), len(b.Nodes()))
	for i := range a.Nodes() {
		assert.Equal(t, a.Nodes()[i].Name, b.Nodes()[i].Name)
		assert.Equal(t, a.Nodes()[i].Deps, b.Nodes()[i].Deps)
	}
	assert.Equal(t, a.Fingerprint(), b.Fingerprint())
}

func TestFingerprint(t *testing.T) {
	m := map[string]string{
		"dbt_project.yml": "name: shop\n",
		"models/a.sql":    "select 1",
		"models/docs.md":  "{% docs a %}A{% enddocs %}",
	}
	fp := mustLoad(t, m).Fingerprint()
	assert.Len(t, fp, 64)
	assert.Equal(t, fp, mustLoad(t, m).Fingerprint())
	m["models/docs.md"] = "{% docs a %}B{% enddocs %}"
	fp2 := mustLoad(t, m).Fingerprint()
	assert.NotEqual(t, fp, fp2)
	m["models/a.sql"] = "select 2"
	assert.NotEqual(t, fp2, mustLoad(t, m).Fingerprint())
	// Build output is not part of the project.
	m["target/compiled/a.sql"] = "select 2"
	m["models/a.sql"] = "select 2"
	fp3 := mustLoad(t, m).Fingerprint()
	m["target/compiled/a.sql"] = "select 3"
	assert.Equal(t, fp3, mustLoad(t, m).Fingerprint())
}

func TestCustomPaths(t *testing.T) {
	p := mustLoad(t, map[string]string{
		"dbt_project.yml":    "name: shop\nmodel-paths: [transform]\nseed-paths: [data]\nmacro-paths: [jinja]\ntest-paths: [checks]\n",
		"transform/a.sql":    "select {{ one() }} from {{ ref('s') }}",
		"data/s.csv":         "a\n1\n",
		"jinja/one.sql":      "{% macro one() %}1{% endmacro %}",
		"checks/a_ok.sql":    "select * from {{ ref('a') }} where false",
		"models/ignored.sql": "this is not read {{",
	})
	assert.Equal(t, []string{"transform"}, p.ModelPaths)
	assert.Contains(t, p.Models, "a")
	assert.NotContains(t, p.Models, "ignored")
	assert.Contains(t, p.Seeds, "s")
	assert.Contains(t, p.Tests, "a_ok")
	assert.Equal(t, `select 1 from "main"."s"`, compile(t, p, "a", CompileState{}).SQL)
}

func TestPropertyFileUnknownModelWarns(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	p := mustLoad(t, map[string]string{
		"dbt_project.yml":   "name: shop\n",
		"models/a.sql":      "select 1",
		"models/schema.yml": "version: 2\nmodels:\n  - name: ghost\n    description: not here\n",
	}, Options{Logger: logger})
	assert.Contains(t, p.Models, "a")
	assert.Contains(t, buf.String(), "ghost")
	assert.Contains(t, buf.String(), "models/schema.yml:3")
}

func TestLogAndRaise(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	p := mustLoad(t, map[string]string{
		"dbt_project.yml": "name: shop\n",
		"models/a.sql":    "{% do log('hello from a', info=true) %}select 1",
	}, Options{Logger: logger})
	assert.Equal(t, "select 1", compile(t, p, "a", CompileState{}).SQL)
	assert.Contains(t, buf.String(), "hello from a")

	err := loadErr(t, map[string]string{
		"dbt_project.yml": "name: shop\n",
		"models/a.sql":    "select 1\n{% if true %}\n{{ exceptions.raise_compiler_error('a is broken') }}\n{% endif %}",
	})
	assert.Contains(t, err.Error(), "models/a.sql:3: a is broken")
}

func TestFromModels(t *testing.T) {
	in := []*Model{
		{Name: "raw_orders", RawSQL: "select 1 as id, 'placed' as status"},
		{Name: "orders", Materialized: MaterializedTable, Schema: "marts", RawSQL: `{{ config(tags=['go']) }}
select * from {{ ref('raw_orders') }} where status != '{{ var('skip', 'x') }}'`},
		{Name: "eph", RawSQL: "{{ config(materialized='ephemeral') }}select 2 as id"},
		{Name: "inc", Materialized: MaterializedIncremental, UniqueKey: []string{"id"}, Meta: map[string]any{"owner": "go-team", "priority": "critical"},
			RawSQL: "select * from {{ ref('eph') }}{% if is_incremental() %} where id > (select max(id) from {{ this }}){% endif %}"},
	}
	p, err := FromModels(Options{Vars: map[string]any{"skip": "cancelled"}}, in...)
	require.NoError(t, err)
	assert.Len(t, p.Nodes(), 4)
	assert.Empty(t, in[1].Config, "inputs are not modified")

	o := p.Node("orders")
	assert.Equal(t, []string{"raw_orders"}, o.Deps)
	assert.Equal(t, []string{"go"}, o.Tags)
	assert.Equal(t, "table", o.Config["materialized"])
	assert.Equal(t, "", o.Path)
	c := compile(t, p, "orders", CompileState{})
	assert.Equal(t, "\nselect * from \"main\".\"raw_orders\" where status != 'cancelled'", c.SQL)
	assert.Equal(t, "", c.Path)

	inc := p.Node("inc")
	assert.Equal(t, "go-team", inc.Owner)
	assert.Equal(t, orchestrate.PriorityCritical, inc.Priority)
	ci := compile(t, p, "inc", CompileState{IsIncremental: true})
	assert.Equal(t, "with __dbt__cte__eph as (\nselect 2 as id\n)\nselect * from __dbt__cte__eph where id > (select max(id) from \"main\".\"inc\")", ci.SQL)
	assert.NotEmpty(t, p.Fingerprint())

	_, err = FromModels(Options{}, &Model{Name: "a", RawSQL: "select 1"}, &Model{Name: "a", RawSQL: "select 2"})
	assert.ErrorIs(t, err, ErrDuplicate)
	_, err = FromModels(Options{}, &Model{Name: "bad", RawSQL: "select {{ var('nope') }}"})
	assert.ErrorIs(t, err, ErrUndefinedVar)
	assert.Contains(t, err.Error(), "model bad:1:")
}

func TestCompileUnknown(t *testing.T) {
	p := loadTestsProject(t)
	_, err := p.Compile("nope", CompileState{})
	assert.Error(t, err)
	_, err = p.Compile("raw.orders", CompileState{})
	assert.Error(t, err)
}

func errorKinds(err error) []*Error {
	var out []*Error
	var walk func(error)
	walk = func(e error) {
		if pe, ok := e.(*Error); ok {
			out = append(out, pe)
			return
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
		}
	}
	walk(err)
	return out
}

func TestErrors(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		kind  error
		want  string
	}{
		{
			name: "malformed yaml",
			files: map[string]string{
				"models/schema.yml": "version: 2\nmodels:\n  - name: a\n    columns:\n      - name: id\n        tests: [unique\n",
			},
			kind: ErrYAML,
			want: "models/schema.yml:6:",
		},
		{
			name:  "malformed dbt_project.yml",
			files: map[string]string{"dbt_project.yml": "name: shop\nmodels:\n  - a\n  b: c\n"},
			kind:  ErrYAML,
			want:  "dbt_project.yml:",
		},
		{
			name:  "jinja syntax error",
			files: map[string]string{"models/staging/stg_orders.sql": "select 1\nfrom x\n{% if true %}\nwhere a = 1\n"},
			kind:  ErrJinja,
			want:  "models/staging/stg_orders.sql:",
		},
		{
			name:  "jinja expression syntax error",
			files: map[string]string{"models/a.sql": "select 1,\n  2,\n  {{ ref('b' }}\n"},
			kind:  ErrJinja,
			want:  "models/a.sql:3: jinja syntax error",
		},
		{
			name:  "unknown var",
			files: map[string]string{"models/a.sql": "select 1\nwhere d > '{{ var(\"start\") }}'"},
			kind:  ErrUndefinedVar,
			want:  `models/a.sql:2: var "start" is not defined`,
		},
		{
			name:  "unknown var inside a macro",
			files: map[string]string{"macros/m.sql": "{% macro m() %}{{ var('nope') }}{% endmacro %}", "models/a.sql": "select\n\n{{ m() }}"},
			kind:  ErrUndefinedVar,
			want:  `models/a.sql:3: var "nope" is not defined`,
		},
		{
			name:  "missing env var",
			files: map[string]string{"models/a.sql": "select '{{ env_var(\"DATAOPS_SURELY_UNSET_VAR\") }}'"},
			kind:  ErrMissingEnvVar,
			want:  `models/a.sql:1: env var "DATAOPS_SURELY_UNSET_VAR" is not set`,
		},
		{
			name: "unknown test type",
			files: map[string]string{
				"models/a.sql":      "select 1 as id",
				"models/schema.yml": "version: 2\nmodels:\n  - name: a\n    columns:\n      - name: id\n        tests:\n          - unique\n          - is_even\n",
			},
			kind: ErrUnknownTest,
			want: `models/schema.yml:8: unknown test type "is_even"`,
		},
		{
			name: "relationships without to",
			files: map[string]string{
				"models/a.sql":      "select 1 as id",
				"models/schema.yml": "version: 2\nmodels:\n  - name: a\n    columns:\n      - name: id\n        tests:\n          - relationships:\n              field: id\n",
			},
			kind: ErrInvalidTest,
			want: "models/schema.yml:7: test relationships on model a.id: relationships needs to:",
		},
		{
			name: "accepted_values without values",
			files: map[string]string{
				"models/a.sql":      "select 1 as id",
				"models/schema.yml": "version: 2\nmodels:\n  - name: a\n    columns:\n      - name: id\n        tests: [accepted_values]\n",
			},
			kind: ErrInvalidTest,
			want: "models/schema.yml:6:",
		},
		{
			name: "test on a missing model",
			files: map[string]string{
				"models/schema.yml": "version: 2\nmodels:\n  - name: ghost\n    columns:\n      - name: id\n        tests: [unique]\n",
			},
			kind: ErrMissingNode,
			want: `models/schema.yml:6: test attached to model "ghost", which does not exist`,
		},
		{
			name: "duplicate model names",
			files: map[string]string{
				"models/staging/orders.sql": "select 1",
				"models/marts/orders.sql":   "select 2",
			},
			kind: ErrDuplicate,
			want: `two models are named "orders": models/marts/orders.sql and models/staging/orders.sql`,
		},
		{
			name:  "bad materialization",
			files: map[string]string{"models/a.sql": "\n{{ config(materialized='snapshot') }}select 1"},
			kind:  ErrConfig,
			want:  `models/a.sql:2: model a: unknown materialization "snapshot"`,
		},
		{
			name:  "bad priority",
			files: map[string]string{"dbt_project.yml": "name: shop\nmodels:\n  shop:\n    +priority: urgent\n", "models/a.sql": "select 1"},
			kind:  ErrConfig,
			want:  `dbt_project.yml:4: a: unknown priority "urgent"`,
		},
		{
			name:  "bad timeout",
			files: map[string]string{"models/a.sql": "{{ config(timeout='soon') }}select 1"},
			kind:  ErrConfig,
			want:  `models/a.sql:1: a: invalid timeout "soon"`,
		},
		{
			name:  "bad severity",
			files: map[string]string{"models/a.sql": "select 1 as id", "models/s.yml": "version: 2\nmodels:\n  - name: a\n    columns:\n      - name: id\n        tests:\n          - unique:\n              severity: fatal\n"},
			kind:  ErrConfig,
			want:  `models/s.yml:8: test unique: severity must be warn or error`,
		},
		{
			name:  "duplicate macro",
			files: map[string]string{"macros/a.sql": "{% macro m() %}1{% endmacro %}", "macros/b.sql": "\n{% macro m() %}2{% endmacro %}"},
			kind:  ErrDuplicate,
			want:  `macros/b.sql:2: macro "m" is defined twice`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := map[string]string{"dbt_project.yml": "name: shop\n"}
			for k, v := range tc.files {
				m[k] = v
			}
			err := loadErr(t, m)
			assert.ErrorIs(t, err, tc.kind)
			assert.Contains(t, err.Error(), tc.want)
			var pe *Error
			require.True(t, errors.As(err, &pe))
			assert.NotEmpty(t, pe.Path)
		})
	}
}

func TestErrorsAreCollected(t *testing.T) {
	err := loadErr(t, map[string]string{
		"dbt_project.yml": "name: shop\n",
		"models/a.sql":    "select {{ var('x') }}",
		"models/b.sql":    "select {% if %}",
		"models/c.sql":    "select 1",
		"models/bad.yml":  "models: [\n",
		"models/s.yml":    "version: 2\nmodels:\n  - name: c\n    columns:\n      - name: id\n        tests: [nope]\n  - name: a\n    columns:\n      - name: id\n        tests: [unique]\n",
	})
	errs := errorKinds(err)
	require.Len(t, errs, 4, err.Error())
	assert.NotContains(t, err.Error(), "does not exist", "no cascading errors for models that failed to load")
	var locs []string
	for _, e := range errs {
		locs = append(locs, e.Path)
	}
	assert.Equal(t, []string{"models/a.sql", "models/b.sql", "models/bad.yml", "models/s.yml"}, locs)
}

func TestMissingProjectFile(t *testing.T) {
	_, err := Load(context.Background(), files(map[string]string{"models/a.sql": "select 1"}), Options{})
	assert.ErrorIs(t, err, ErrProject)
	_, err = Load(context.Background(), files(map[string]string{"dbt_project.yml": "version: 1\n"}), Options{})
	assert.ErrorIs(t, err, ErrProject)
}

func TestContextCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Load(ctx, files(map[string]string{"dbt_project.yml": "name: shop\n", "models/a.sql": "select 1"}), Options{})
	assert.ErrorIs(t, err, context.Canceled)
}

func TestYAMLAnchorsAndMergeKeys(t *testing.T) {
	p := mustLoad(t, map[string]string{
		"dbt_project.yml": "name: shop\n",
		"models/a.sql":    "select 1 as id",
		"models/b.sql":    "select 1 as id",
		"models/schema.yml": `version: 2
x-defaults: &defaults
  config:
    tags: [anchored]
models:
  - name: a
    <<: *defaults
  - name: b
    <<: *defaults
    description: B
`,
	})
	assert.Equal(t, []string{"anchored"}, p.Node("a").Tags)
	assert.Equal(t, []string{"anchored"}, p.Node("b").Tags)
	assert.Equal(t, "B", p.Node("b").Description)
}

func TestLineMappingHeuristic(t *testing.T) {
	p := mustLoad(t, map[string]string{
		"dbt_project.yml": "name: shop\n",
		"models/a.sql": `{%- set cols = ['a', 'b', 'c'] -%}
select
{%- for c in cols %}
  {{ c }},
{%- endfor %}
  unique_line_here
from t`,
	})
	c := compile(t, p, "a", CompileState{})
	lines := strings.Split(c.SQL, "\n")
	require.Equal(t, "  unique_line_here", lines[4])
	assert.Equal(t, 6, c.Line(5), "a unique line maps to its raw line")
	assert.Equal(t, 7, c.Line(6))
	assert.Equal(t, 2, c.Line(2), "other lines keep their number")
	assert.Equal(t, 7, c.Line(99), "clamped to the file")
}

func TestConcurrentCompile(t *testing.T) {
	p := loadTestsProject(t)
	done := make(chan error)
	for i := 0; i < 8; i++ {
		go func() {
			for _, n := range p.Nodes() {
				if n.Kind == orchestrate.KindModel || n.Kind == orchestrate.KindTest {
					if _, err := p.Compile(n.Name, CompileState{IsIncremental: i%2 == 0}); err != nil {
						done <- err
						return
					}
				}
			}
			done <- nil
		}()
	}
	for i := 0; i < 8; i++ {
		require.NoError(t, <-done)
	}
}

func TestGenerateSchemaName(t *testing.T) {
	p := mustLoad(t, map[string]string{
		"dbt_project.yml": "name: shop\nmodels:\n  shop:\n    marts:\n      +schema: marts\n",
		"macros/schema.sql": `{% macro generate_schema_name(custom_schema_name, node) -%}
  {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ target.schema }}_{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}`,
		"models/marts/orders.sql": "select 1",
		"models/base.sql":         "select * from {{ ref('orders') }}",
		"seeds/s.csv":             "a\n1\n",
	})
	assert.Equal(t, "main_marts", p.Models["orders"].Schema)
	assert.Equal(t, "main", p.Models["base"].Schema)
	assert.Equal(t, "main", p.Seeds["s"].Schema)
	assert.Equal(t, `select * from "main_marts"."orders"`, compile(t, p, "base", CompileState{}).SQL)
}

func TestPropertyFileJinja(t *testing.T) {
	p := mustLoad(t, map[string]string{
		"dbt_project.yml": "name: shop\nvars:\n  raw_schema: landing\n",
		"models/a.sql":    "select * from {{ source('raw', 'orders') }}",
		"models/schema.yml": `version: 2
sources:
  - name: raw
    schema: "{{ var('raw_schema') }}"
    tables:
      - name: orders
        identifier: "{{ 'orders_' ~ target.name }}"
models:
  - name: a
    description: "{{ doc('a') }} is left alone"
    config:
      tags: ["{{ target.name }}"]
`,
	})
	assert.Equal(t, `select * from "landing"."orders_dev"`, compile(t, p, "a", CompileState{}).SQL)
	assert.Equal(t, []string{"dev"}, p.Node("a").Tags)
	assert.Equal(t, "{{ doc('a') }} is left alone", p.Node("a").Description)

	err := loadErr(t, map[string]string{
		"dbt_project.yml":   "name: shop\n",
		"models/schema.yml": "version: 2\nsources:\n  - name: raw\n    schema: \"{{ var('nope') }}\"\n    tables: [{name: t}]\n",
	})
	assert.ErrorIs(t, err, ErrUndefinedVar)
	assert.Contains(t, err.Error(), "models/schema.yml:4:")
}
