package dag

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// project is a small dbt-like pipeline:
//
//	raw_customers ─> stg_customers ─────────────────────┬─> mart_customers ─┬─> refresh_dashboard
//	raw_orders ────> stg_orders ───┬─> int_order_payments ┤                  │        ^
//	raw_payments ──> stg_payments ─┘                      └─> mart_daily_sales ─> export_sales
//	shop.events ───> stg_events ───┬─> mart_sessions
//	shop.sessions ─────────────────┘
//	erp.invoices
//
// plus tests: not_null_stg_orders_id (stg_orders), relationships_orders_customers
// (stg_orders, stg_customers), unique_mart_customers_id (mart_customers),
// relationships_customers_mart (mart_customers, stg_customers) and
// assert_sales_positive (mart_daily_sales).
func project() []Vertex {
	model := func(name, path string, tags []string, mat, schema string, deps ...string) Vertex {
		return Vertex{
			Name: name, Kind: KindModel, Path: path, Tags: tags, Deps: deps,
			Config: map[string]string{"materialized": mat, "schema": schema},
		}
	}
	test := func(name, of string, deps ...string) Vertex {
		return Vertex{Name: name, Kind: KindTest, TestOf: of, Deps: deps}
	}
	return []Vertex{
		{Name: "raw_customers", Kind: KindSeed, Path: "seeds/raw_customers.csv"},
		{Name: "raw_orders", Kind: KindSeed, Path: "seeds/raw_orders.csv"},
		{Name: "raw_payments", Kind: KindSeed, Path: "seeds/raw_payments.csv"},
		{Name: "shop.events", Kind: KindSource, Path: "models/staging/sources.yml"},
		{Name: "shop.sessions", Kind: KindSource, Path: "models/staging/sources.yml"},
		{Name: "erp.invoices", Kind: KindSource, Path: "models/erp/sources.yml"},
		model("stg_customers", "models/staging/stg_customers.sql", []string{"staging", "daily"}, "view", "staging", "raw_customers"),
		model("stg_orders", "models/staging/stg_orders.sql", []string{"staging", "hourly"}, "view", "staging", "raw_orders"),
		model("stg_payments", "models/staging/stg_payments.sql", []string{"staging", "hourly"}, "view", "staging", "raw_payments"),
		model("stg_events", "models/staging/stg_events.sql", []string{"staging", "hourly"}, "view", "staging", "shop.events"),
		model("int_order_payments", "models/intermediate/int_order_payments.sql", []string{"hourly"}, "ephemeral", "intermediate", "stg_orders", "stg_payments"),
		model("mart_customers", "models/marts/mart_customers.sql", []string{"mart", "daily"}, "table", "marts", "stg_customers", "int_order_payments"),
		model("mart_daily_sales", "models/marts/finance/mart_daily_sales.sql", []string{"mart", "finance", "hourly"}, "incremental", "marts", "int_order_payments"),
		model("mart_sessions", "models/marts/mart_sessions.sql", []string{"mart"}, "view", "marts", "stg_events", "shop.sessions"),
		test("not_null_stg_orders_id", "stg_orders", "stg_orders"),
		test("relationships_orders_customers", "stg_orders", "stg_orders", "stg_customers"),
		test("unique_mart_customers_id", "mart_customers"),
		test("relationships_customers_mart", "mart_customers", "mart_customers", "stg_customers"),
		{Name: "assert_sales_positive", Kind: KindTest, Path: "tests/assert_sales_positive.sql", Deps: []string{"mart_daily_sales"}},
		{Name: "export_sales", Kind: KindTask, Deps: []string{"mart_daily_sales"}},
		{Name: "refresh_dashboard", Kind: KindTask, Deps: []string{"export_sales", "mart_customers"}},
	}
}

var (
	seeds   = []string{"raw_customers", "raw_orders", "raw_payments"}
	sources = []string{"erp.invoices", "shop.events", "shop.sessions"}
	stgs    = []string{"stg_customers", "stg_orders", "stg_payments", "stg_events"}
	marts   = []string{"mart_customers", "mart_daily_sales", "mart_sessions"}
	tests   = []string{"not_null_stg_orders_id", "relationships_orders_customers", "unique_mart_customers_id", "relationships_customers_mart", "assert_sales_positive"}
	tasks   = []string{"export_sales", "refresh_dashboard"}
)

func cat(lists ...[]string) []string { return slices.Concat(lists...) }

func without(list []string, drop ...string) []string {
	return slices.DeleteFunc(slices.Clone(list), func(s string) bool { return slices.Contains(drop, s) })
}

func TestProjectTopoOrder(t *testing.T) {
	g := mustNew(t, project())
	assert.Equal(t, []string{
		"erp.invoices", "raw_customers", "raw_orders", "raw_payments", "shop.events", "shop.sessions",
		"stg_customers", "stg_events", "mart_sessions", "stg_orders", "not_null_stg_orders_id",
		"relationships_orders_customers", "stg_payments", "int_order_payments", "mart_customers",
		"mart_daily_sales", "assert_sales_positive", "export_sales", "refresh_dashboard",
		"relationships_customers_mart", "unique_mart_customers_id",
	}, g.TopoOrder())
}

// assertTopological checks that names are in the graph's topological order.
func assertTopological(t *testing.T, g *Graph, names []string) {
	t.Helper()
	set := map[string]bool{}
	for _, n := range names {
		set[n] = true
	}
	var want []string
	for _, n := range g.TopoOrder() {
		if set[n] {
			want = append(want, n)
		}
	}
	assert.Equal(t, want, names, "topological order")
}

// TestSelectGrammar covers the selector grammar without indirect test
// selection.
func TestSelectGrammar(t *testing.T) {
	all := cat(seeds, sources, stgs, []string{"int_order_payments"}, marts, tests, tasks)
	atDescendants := []string{"stg_payments", "int_order_payments", "mart_customers", "mart_daily_sales",
		"unique_mart_customers_id", "relationships_customers_mart", "assert_sales_positive", "export_sales", "refresh_dashboard"}
	cases := []struct {
		name    string
		sel     []string
		exclude []string
		want    []string
	}{
		{"nothing selects all", nil, nil, all},
		{"blank selects all", []string{"", "  "}, nil, all},

		// Names and globs.
		{"name", []string{"stg_orders"}, nil, []string{"stg_orders"}},
		{"name with a dot", []string{"erp.invoices"}, nil, []string{"erp.invoices"}},
		{"glob star", []string{"stg_*"}, nil, stgs},
		{"glob question mark", []string{"?tg_orders"}, nil, []string{"stg_orders"}},
		{"glob class", []string{"stg_[ce]*"}, nil, []string{"stg_customers", "stg_events"}},
		{"glob negated class", []string{"stg_[!ce]*"}, nil, []string{"stg_orders", "stg_payments"}},
		{"glob range", []string{"stg_[a-d]*"}, nil, []string{"stg_customers"}},
		{"unknown name", []string{"stg_nothing"}, nil, nil},

		// tag:
		{"tag", []string{"tag:finance"}, nil, []string{"mart_daily_sales"}},
		{"tag glob", []string{"tag:mart*"}, nil, marts},
		{"tag staging", []string{"tag:staging"}, nil, stgs},

		// path: and bare paths.
		{"path dir", []string{"path:models/marts"}, nil, marts},
		{"path dir trailing slash", []string{"path:models/marts/"}, nil, marts},
		{"path dir dot slash", []string{"path:./models/marts"}, nil, marts},
		{"path is not a string prefix", []string{"path:models/mart"}, nil, nil},
		{"path file", []string{"path:models/marts/mart_customers.sql"}, nil, []string{"mart_customers"}},
		{"path glob one level", []string{"path:models/marts/*.sql"}, nil, []string{"mart_customers", "mart_sessions"}},
		{"path glob any depth", []string{"path:models/marts/**/*.sql"}, nil, marts},
		{"path glob matches dirs", []string{"path:models/m*"}, nil, marts},
		{"path glob seeds", []string{"path:seeds/*.csv"}, nil, seeds},
		{"path with sources", []string{"path:models/staging"}, nil, cat(stgs, []string{"shop.events", "shop.sessions"})},
		{"bare dir path", []string{"models/staging"}, nil, cat(stgs, []string{"shop.events", "shop.sessions"})},
		{"bare glob path", []string{"models/marts/*.sql"}, nil, []string{"mart_customers", "mart_sessions"}},
		{"path everything", []string{"path:."}, nil, cat(seeds, sources, stgs, []string{"int_order_payments", "assert_sales_positive"}, marts)},

		// file:
		{"file", []string{"file:mart_customers.sql"}, nil, []string{"mart_customers"}},
		{"file stem", []string{"file:mart_customers"}, nil, []string{"mart_customers"}},
		{"file shared", []string{"file:sources.yml"}, nil, sources},
		{"file glob", []string{"file:*.csv"}, nil, seeds},

		// config.<key>:
		{"config", []string{"config.materialized:view"}, nil, cat(stgs, []string{"mart_sessions"})},
		{"config schema", []string{"config.schema:marts"}, nil, marts},
		{"config glob", []string{"config.materialized:incr*"}, nil, []string{"mart_daily_sales"}},
		{"config missing key", []string{"config.owner:x"}, nil, nil},

		// resource_type:
		{"resource_type seed", []string{"resource_type:seed"}, nil, seeds},
		{"resource_type test", []string{"resource_type:test"}, nil, tests},
		{"resource_type task", []string{"resource_type:task"}, nil, tasks},
		{"resource_type source", []string{"resource_type:source"}, nil, sources},

		// source:
		{"source name", []string{"source:shop"}, nil, []string{"shop.events", "shop.sessions"}},
		{"source table", []string{"source:shop.events"}, nil, []string{"shop.events"}},
		{"source all", []string{"source:*"}, nil, sources},
		{"source glob", []string{"source:sh*"}, nil, []string{"shop.events", "shop.sessions"}},
		{"source table glob", []string{"source:shop.s*"}, nil, []string{"shop.sessions"}},
		{"source is only sources", []string{"source:stg_orders"}, nil, nil},

		// Graph operators.
		{"ancestors", []string{"+int_order_payments"}, nil, []string{"int_order_payments", "stg_orders", "stg_payments", "raw_orders", "raw_payments"}},
		{"ancestors depth 1", []string{"1+int_order_payments"}, nil, []string{"int_order_payments", "stg_orders", "stg_payments"}},
		{"descendants", []string{"int_order_payments+"}, nil, atDescendants[1:]},
		{"descendants depth 1", []string{"int_order_payments+1"}, nil, []string{"int_order_payments", "mart_customers", "mart_daily_sales"}},
		{"both depth 1", []string{"1+int_order_payments+1"}, nil, []string{"stg_orders", "stg_payments", "int_order_payments", "mart_customers", "mart_daily_sales"}},
		{"both unlimited", []string{"+mart_daily_sales+"}, nil, []string{"raw_orders", "raw_payments", "stg_orders", "stg_payments", "int_order_payments", "mart_daily_sales", "assert_sales_positive", "export_sales", "refresh_dashboard"}},
		{"descendants depth 1 of a mart", []string{"mart_daily_sales+1"}, nil, []string{"mart_daily_sales", "assert_sales_positive", "export_sales"}},
		{"descendants depth 2", []string{"mart_daily_sales+2"}, nil, []string{"mart_daily_sales", "assert_sales_positive", "export_sales", "refresh_dashboard"}},
		{"depth 0", []string{"0+stg_orders+0"}, nil, []string{"stg_orders"}},
		{"at", []string{"@stg_payments"}, nil, cat(atDescendants, []string{"raw_payments", "stg_orders", "raw_orders", "stg_customers", "raw_customers"})},
		{"operator on tag", []string{"+tag:finance"}, nil, []string{"mart_daily_sales", "int_order_payments", "stg_orders", "stg_payments", "raw_orders", "raw_payments"}},
		{"operator on source", []string{"source:shop+"}, nil, []string{"shop.events", "shop.sessions", "stg_events", "mart_sessions"}},
		{"operator on glob", []string{"2+mart_c*"}, nil, []string{"mart_customers", "stg_customers", "int_order_payments", "raw_customers", "stg_orders", "stg_payments"}},

		// Union and intersection.
		{"union in one expression", []string{"stg_orders stg_payments"}, nil, []string{"stg_orders", "stg_payments"}},
		{"union across expressions", []string{"stg_orders", "stg_payments stg_orders"}, nil, []string{"stg_orders", "stg_payments"}},
		{"extra spaces", []string{"  stg_orders \t  stg_payments "}, nil, []string{"stg_orders", "stg_payments"}},
		{"intersection", []string{"tag:hourly,config.materialized:view"}, nil, []string{"stg_orders", "stg_payments", "stg_events"}},
		{"intersection of tags", []string{"tag:hourly,tag:mart"}, nil, []string{"mart_daily_sales"}},
		{"intersection of three", []string{"resource_type:model,path:models/marts,config.materialized:table"}, nil, []string{"mart_customers"}},
		{"intersection with operator", []string{"+mart_customers,tag:staging"}, nil, []string{"stg_customers", "stg_orders", "stg_payments"}},
		{"intersection of operators", []string{"+mart_customers,+mart_daily_sales"}, nil, []string{"int_order_payments", "stg_orders", "stg_payments", "raw_orders", "raw_payments"}},
		{"union of intersections", []string{"tag:finance,tag:mart tag:daily,resource_type:model"}, nil, []string{"mart_daily_sales", "stg_customers", "mart_customers"}},

		// Exclusion.
		{"exclude", []string{"+mart_customers"}, []string{"tag:staging"}, []string{"mart_customers", "raw_customers", "int_order_payments", "raw_orders", "raw_payments"}},
		{"exclude with operator", []string{"resource_type:model"}, []string{"stg_orders+"}, []string{"stg_customers", "stg_payments", "stg_events", "mart_sessions"}},
		{"exclude from all", nil, []string{"path:models"}, cat(seeds, tests, tasks)},
		{"exclude union", []string{"+int_order_payments"}, []string{"tag:staging", "resource_type:seed"}, []string{"int_order_payments"}},
		{"exclude intersection", []string{"tag:staging"}, []string{"tag:hourly,config.materialized:view"}, []string{"stg_customers"}},
		{"exclude everything", []string{"stg_orders"}, []string{"stg_*"}, nil},
	}
	g := mustNew(t, project())
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			got, err := g.SelectWith(SelectOptions{Select: tt.sel, Exclude: tt.exclude, Indirect: IndirectEmpty})
			require.NoError(t, err)
			assert.ElementsMatch(t, tt.want, got.Nodes)
			assertTopological(t, g, got.Nodes)
			assert.Empty(t, got.Indirect)
		})
	}
}

func TestSelectIndirect(t *testing.T) {
	g := mustNew(t, project())
	cases := []struct {
		name         string
		sel, exclude []string
		want         []string // in topological order
		indirect     []string
	}{
		{
			name:     "tests of a selected model",
			sel:      []string{"stg_orders"},
			want:     []string{"stg_orders", "not_null_stg_orders_id", "relationships_orders_customers"},
			indirect: []string{"not_null_stg_orders_id", "relationships_orders_customers"},
		},
		{
			name:     "tests with any selected parent",
			sel:      []string{"mart_customers"},
			want:     []string{"mart_customers", "relationships_customers_mart", "unique_mart_customers_id"},
			indirect: []string{"relationships_customers_mart", "unique_mart_customers_id"},
		},
		{
			name:     "with graph operators",
			sel:      []string{"+int_order_payments"},
			want:     []string{"raw_orders", "raw_payments", "stg_orders", "not_null_stg_orders_id", "relationships_orders_customers", "stg_payments", "int_order_payments"},
			indirect: []string{"not_null_stg_orders_id", "relationships_orders_customers"},
		},
		{
			name:     "by tag",
			sel:      []string{"tag:hourly"},
			want:     []string{"stg_events", "stg_orders", "not_null_stg_orders_id", "relationships_orders_customers", "stg_payments", "int_order_payments", "mart_daily_sales", "assert_sales_positive"},
			indirect: []string{"not_null_stg_orders_id", "relationships_orders_customers", "assert_sales_positive"},
		},
		{
			name:    "a test with an excluded parent is excluded",
			sel:     []string{"stg_orders stg_customers"},
			exclude: []string{"stg_customers"},
			want:    []string{"stg_orders", "not_null_stg_orders_id"},
			// relationships_orders_customers also tests stg_customers.
			indirect: []string{"not_null_stg_orders_id"},
		},
		{
			name:     "an excluded test stays out",
			sel:      []string{"stg_orders"},
			exclude:  []string{"not_null_stg_orders_id"},
			want:     []string{"stg_orders", "relationships_orders_customers"},
			indirect: []string{"relationships_orders_customers"},
		},
		{
			name:    "excluding all tests",
			sel:     []string{"stg_orders"},
			exclude: []string{"resource_type:test"},
			want:    []string{"stg_orders"},
		},
		{
			name: "an explicitly selected test",
			sel:  []string{"not_null_stg_orders_id"},
			want: []string{"not_null_stg_orders_id"},
		},
		{
			name: "tests are not selected through their own ancestors",
			sel:  []string{"raw_orders"},
			want: []string{"raw_orders"},
		},
		{
			name:    "selecting all but a model drops its tests",
			exclude: []string{"stg_orders"},
			want:    without(g.TopoOrder(), "stg_orders", "not_null_stg_orders_id", "relationships_orders_customers"),
		},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			got, err := g.Select(tt.sel, tt.exclude)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)

			det, err := g.SelectDetailed(tt.sel, tt.exclude)
			require.NoError(t, err)
			assert.Equal(t, tt.want, det.Nodes)
			assert.Equal(t, tt.indirect, det.Indirect)
		})
	}
}

func TestSelectIndirectModes(t *testing.T) {
	g := mustNew(t, project())
	cases := []struct {
		sel     []string
		exclude []string
		mode    IndirectSelection
		want    []string
	}{
		{[]string{"mart_customers"}, nil, IndirectEager, []string{"mart_customers", "relationships_customers_mart", "unique_mart_customers_id"}},
		{[]string{"mart_customers"}, nil, IndirectCautious, []string{"mart_customers", "unique_mart_customers_id"}},
		// stg_customers is an ancestor of mart_customers.
		{[]string{"mart_customers"}, nil, IndirectBuildable, []string{"mart_customers", "relationships_customers_mart", "unique_mart_customers_id"}},
		{[]string{"mart_customers"}, nil, IndirectEmpty, []string{"mart_customers"}},
		{[]string{"stg_orders"}, nil, IndirectCautious, []string{"stg_orders", "not_null_stg_orders_id"}},
		// stg_customers is not an ancestor of stg_orders.
		{[]string{"stg_orders"}, nil, IndirectBuildable, []string{"stg_orders", "not_null_stg_orders_id"}},
		{[]string{"stg_orders stg_customers"}, nil, IndirectCautious, []string{"stg_customers", "stg_orders", "not_null_stg_orders_id", "relationships_orders_customers"}},
		// Buildable needs a selected parent: tests on ancestors only stay out.
		{[]string{"int_order_payments"}, nil, IndirectBuildable, []string{"int_order_payments"}},
		// Cautious exclusion drops only tests whose parents are all excluded.
		{nil, []string{"mart_customers"}, IndirectCautious, without(g.TopoOrder(), "mart_customers", "unique_mart_customers_id")},
		{nil, []string{"mart_customers"}, IndirectEmpty, without(g.TopoOrder(), "mart_customers")},
	}
	for _, tt := range cases {
		t.Run(tt.mode.String()+" "+strings.Join(tt.sel, " ")+" -"+strings.Join(tt.exclude, " "), func(t *testing.T) {
			got, err := g.SelectWith(SelectOptions{Select: tt.sel, Exclude: tt.exclude, Indirect: tt.mode})
			require.NoError(t, err)
			assert.Equal(t, tt.want, got.Nodes)
		})
	}
}

func TestParseIndirectSelection(t *testing.T) {
	for _, m := range []IndirectSelection{IndirectEager, IndirectCautious, IndirectBuildable, IndirectEmpty} {
		got, err := ParseIndirectSelection(strings.ToUpper(m.String()))
		require.NoError(t, err)
		assert.Equal(t, m, got)
	}
	got, err := ParseIndirectSelection("")
	require.NoError(t, err)
	assert.Equal(t, IndirectEager, got)
	_, err = ParseIndirectSelection("lazy")
	assert.EqualError(t, err, `unknown indirect selection "lazy" (want eager, cautious, buildable or empty)`)
	assert.Equal(t, "IndirectSelection(9)", IndirectSelection(9).String())
}

func TestSelectUnmatched(t *testing.T) {
	g := mustNew(t, project())
	cases := []struct {
		name             string
		sel, exclude     []string
		want             []string
		unmatched        []string
		unmatchedExclude []string
	}{
		{
			name:      "one criterion matches nothing",
			sel:       []string{"stg_payments tag:nope"},
			want:      []string{"stg_payments"},
			unmatched: []string{"tag:nope"},
		},
		{
			name:      "empty intersection",
			sel:       []string{"tag:finance,config.materialized:view", "tag:nope", "tag:nope"},
			unmatched: []string{"tag:finance,config.materialized:view", "tag:nope"},
		},
		{
			name:      "operators keep the criterion as written",
			sel:       []string{"+nothing+"},
			unmatched: []string{"+nothing+"},
		},
		{
			name:             "exclude",
			sel:              []string{"stg_payments"},
			exclude:          []string{"tag:nope stg_orders"},
			want:             []string{"stg_payments"},
			unmatchedExclude: []string{"tag:nope"},
		},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			got, err := g.SelectDetailed(tt.sel, tt.exclude)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got.Nodes)
			assert.Equal(t, tt.unmatched, got.Unmatched)
			assert.Equal(t, tt.unmatchedExclude, got.UnmatchedExclude)
		})
	}
}

func TestSelectErrors(t *testing.T) {
	g := mustNew(t, project())
	cases := []struct {
		sel, exclude []string
		want         string
		method       string
	}{
		{[]string{"foo:bar"}, nil, `unknown selector method "foo" in "foo:bar"`, "foo"},
		{[]string{"+foo:bar+"}, nil, `unknown selector method "foo" in "+foo:bar+"`, "foo"},
		{[]string{"stg_orders tag:x,foo:bar"}, nil, `unknown selector method "foo" in "foo:bar"`, "foo"},
		{nil, []string{"fqn:x"}, `unknown selector method "fqn" in "fqn:x"`, "fqn"},
		{[]string{"config:view"}, nil, `selector method "config" needs a key, as in "config.materialized:view" in "config:view"`, "config"},
		{[]string{"tag:"}, nil, `missing value for selector method "tag" in "tag:"`, "tag"},
		{[]string{"2+tag:+1"}, nil, `missing value for selector method "tag" in "2+tag:+1"`, "tag"},
		{[]string{"+"}, nil, `missing node name in "+"`, ""},
		{[]string{"@"}, nil, `missing node name in "@"`, ""},
		{[]string{"@2+a"}, nil, `"@" cannot be combined with a "+" prefix in "@2+a"`, ""},
		{[]string{"tag:[abc"}, nil, `invalid pattern "[abc" (unterminated '[') in "tag:[abc"`, "tag"},
		{[]string{"a,,b"}, nil, `empty selector in "a,,b"`, ""},
		{[]string{"a,"}, nil, `empty selector in "a,"`, ""},
		{[]string{"99999999999999999999+a"}, nil, `invalid depth "99999999999999999999" in "99999999999999999999+a"`, ""},
	}
	for _, tt := range cases {
		t.Run(strings.Join(cat(tt.sel, tt.exclude), " "), func(t *testing.T) {
			got, err := g.Select(tt.sel, tt.exclude)
			assert.Nil(t, got)
			var se *SelectorError
			require.ErrorAs(t, err, &se)
			assert.EqualError(t, err, tt.want)
			assert.Equal(t, tt.method, se.Method)
			assert.Equal(t, err, ValidateSelectors(cat(tt.sel, tt.exclude)))
		})
	}
	assert.NoError(t, ValidateSelectors([]string{"+tag:a,config.x:y+2 @b source:s.t path:a/**/b file:x resource_type:model"}))
}

func TestSelectLargeGraphIsTopological(t *testing.T) {
	g := mustNew(t, synthetic(3000))
	for _, sel := range [][]string{nil, {"tag:hourly"}, {"@model_01500"}, {"+model_02999", "source:src_1+"}} {
		got, err := g.Select(sel, []string{"tag:finance"})
		require.NoError(t, err)
		require.NotEmpty(t, got)
		assertTopological(t, g, got)
	}
}

func TestFnmatch(t *testing.T) {
	cases := []struct {
		pat, s string
		want   bool
	}{
		{"abc", "abc", true},
		{"abc", "abd", false},
		{"*", "", true},
		{"*", "anything/at/all", true},
		{"a*", "a", true},
		{"a*c", "abbbc", true},
		{"a*c", "abbbd", false},
		{"*_orders", "stg_orders", true},
		{"*o*o*", "foo_bar_o", true},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"a?c", "aéc", true},
		{"[abc]x", "bx", true},
		{"[abc]x", "dx", false},
		{"[!abc]x", "dx", true},
		{"[^abc]x", "ax", false},
		{"[a-c]*", "cat", true},
		{"[a-c]*", "dog", false},
		{"[]a]", "]", true},
		{"[!]]", "]", false},
		{"x[-]y", "x-y", true},
		{"*.sql", "models/a.sql", true},
		{"stg_*_v[0-9]", "stg_orders_v2", true},
		{"stg_*_v[0-9]", "stg_orders_vx", false},
	}
	for _, tt := range cases {
		p, err := compilePattern(tt.pat)
		require.NoError(t, err, tt.pat)
		assert.Equal(t, tt.want, p.match(tt.s), "%q ~ %q", tt.pat, tt.s)
	}
	_, err := compilePattern("a[bc")
	assert.Error(t, err)
}

func TestPathGlob(t *testing.T) {
	cases := []struct {
		pat, s string
		want   bool
	}{
		{"models/*.sql", "models/a.sql", true},
		{"models/*.sql", "models/x/a.sql", false},
		{"models/**/*.sql", "models/a.sql", true},
		{"models/**/*.sql", "models/x/y/a.sql", true},
		{"models/**", "models/x/y/a.sql", true},
		{"**/a.sql", "models/x/a.sql", true},
		{"**/**/a.sql", "a.sql", true},
		{"models/*/a.sql", "models/x/a.sql", true},
		{"models/*/a.sql", "models/a.sql", false},
		{"m*", "models", true},
		{"m*", "models/a.sql", false},
		{"models/**/b", "models/a", false},
	}
	for _, tt := range cases {
		assert.Equal(t, tt.want, compilePathGlob(tt.pat).match(tt.s), "%q ~ %q", tt.pat, tt.s)
	}
}
