package dag

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// previousRun is a plausible last run of project(): stg_orders errored, so
// everything downstream of it was skipped; a test failed, a test warned and
// mart_sessions fell back to its last good version.
func previousRun() map[string]string {
	return map[string]string{
		"stg_customers":                  "success",
		"stg_orders":                     "error",
		"stg_payments":                   "success",
		"stg_events":                     "success",
		"int_order_payments":             "skipped",
		"mart_customers":                 "skipped",
		"mart_daily_sales":               "skipped",
		"mart_sessions":                  "fallback",
		"not_null_stg_orders_id":         "fail",
		"relationships_orders_customers": "warn",
		"unique_mart_customers_id":       "skipped",
		"relationships_customers_mart":   "skipped",
		"assert_sales_positive":          "skipped",
		"export_sales":                   "skipped",
		"refresh_dashboard":              "skipped",
		"raw_customers":                  "success",
		"raw_orders":                     "success",
		"raw_payments":                   "success",
		// Sources were not part of the previous run.
	}
}

func TestSelectResult(t *testing.T) {
	g := mustNew(t, project())
	stgOrdersDown := []string{"stg_orders", "not_null_stg_orders_id", "relationships_orders_customers", "int_order_payments",
		"mart_customers", "mart_daily_sales", "assert_sales_positive", "export_sales", "refresh_dashboard",
		"relationships_customers_mart", "unique_mart_customers_id"}
	skipped := []string{"int_order_payments", "mart_customers", "mart_daily_sales", "assert_sales_positive", "export_sales",
		"refresh_dashboard", "relationships_customers_mart", "unique_mart_customers_id"}
	cases := []struct {
		name    string
		sel     []string
		exclude []string
		want    []string
	}{
		{"error", []string{"result:error"}, nil, []string{"stg_orders"}},
		{"fail", []string{"result:fail"}, nil, []string{"not_null_stg_orders_id"}},
		{"warn", []string{"result:warn"}, nil, []string{"relationships_orders_customers"}},
		{"pass matches nothing", []string{"result:pass"}, nil, nil},
		{"fallback", []string{"result:fallback"}, nil, []string{"mart_sessions"}},
		{"success", []string{"result:success"}, nil, cat(seeds, []string{"stg_customers", "stg_payments", "stg_events"})},
		{"skipped", []string{"result:skipped"}, nil, skipped},
		{"glob", []string{"result:f*"}, nil, []string{"not_null_stg_orders_id", "mart_sessions"}},
		{"glob class", []string{"result:[ew]*"}, nil, []string{"stg_orders", "relationships_orders_customers"}},
		{"union", []string{"result:error result:fail"}, nil, []string{"stg_orders", "not_null_stg_orders_id"}},
		{"union across expressions", []string{"result:error", "result:fallback"}, nil, []string{"stg_orders", "mart_sessions"}},
		{"descendants", []string{"result:error+"}, nil, stgOrdersDown},
		{"descendants depth 1", []string{"result:error+1"}, nil, []string{"stg_orders", "not_null_stg_orders_id", "relationships_orders_customers", "int_order_payments"}},
		{"ancestors", []string{"+result:fallback"}, nil, []string{"mart_sessions", "stg_events", "shop.events", "shop.sessions"}},
		{"at", []string{"@result:fallback"}, nil, []string{"mart_sessions", "stg_events", "shop.events", "shop.sessions"}},
		{"intersection", []string{"result:skipped,resource_type:model"}, nil, []string{"int_order_payments", "mart_customers", "mart_daily_sales"}},
		{"intersection with tag", []string{"tag:hourly,result:skipped"}, nil, []string{"int_order_payments", "mart_daily_sales"}},
		{"intersection with operator", []string{"result:error+,tag:mart"}, nil, []string{"mart_customers", "mart_daily_sales"}},
		{"exclude", []string{"tag:hourly"}, []string{"result:success"}, []string{"stg_orders", "int_order_payments", "mart_daily_sales"}},
		{"exclude with operator", []string{"result:error+"}, []string{"result:skipped"}, []string{"stg_orders", "not_null_stg_orders_id", "relationships_orders_customers"}},
		{"vertices without a result never match", []string{"result:*,resource_type:source"}, nil, nil},
		{"retry: errors and skips", []string{"result:error result:skipped"}, nil, cat([]string{"stg_orders"}, skipped)},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			got, err := g.SelectWith(SelectOptions{Select: tt.sel, Exclude: tt.exclude, Indirect: IndirectEmpty, Results: previousRun()})
			require.NoError(t, err)
			assert.ElementsMatch(t, tt.want, got.Nodes)
			assertTopological(t, g, got.Nodes)
		})
	}
}

func TestSelectResultIndirect(t *testing.T) {
	g := mustNew(t, project())
	got, err := g.SelectWith(SelectOptions{Select: []string{"result:error"}, Results: previousRun()})
	require.NoError(t, err)
	assert.Equal(t, []string{"stg_orders", "not_null_stg_orders_id", "relationships_orders_customers"}, got.Nodes)
	assert.Equal(t, []string{"not_null_stg_orders_id", "relationships_orders_customers"}, got.Indirect)

	got, err = g.SelectWith(SelectOptions{Select: []string{"result:error"}, Results: previousRun(), Indirect: IndirectCautious})
	require.NoError(t, err)
	assert.Equal(t, []string{"stg_orders", "not_null_stg_orders_id"}, got.Nodes)
}

func TestSelectResultUnmatched(t *testing.T) {
	g := mustNew(t, project())
	// An empty (non-nil) map is a previous run that built nothing.
	got, err := g.SelectWith(SelectOptions{Select: []string{"result:error stg_orders"}, Results: map[string]string{}})
	require.NoError(t, err)
	assert.Equal(t, []string{"stg_orders", "not_null_stg_orders_id", "relationships_orders_customers"}, got.Nodes)
	assert.Equal(t, []string{"result:error"}, got.Unmatched)
}

func TestSelectResultErrors(t *testing.T) {
	g := mustNew(t, project())
	const need = `result: needs the previous run's results (SelectOptions.Results)`
	cases := []struct {
		name         string
		sel, exclude []string
		results      map[string]string
		want         string
		validates    bool
	}{
		{"no results", []string{"result:error"}, nil, nil, need + ` in "result:error"`, true},
		{"no results with operator", []string{"stg_orders result:error+"}, nil, nil, need + ` in "result:error+"`, true},
		{"no results in intersection", []string{"tag:hourly,result:fail"}, nil, nil, need + ` in "result:fail"`, true},
		{"no results in exclude", []string{"tag:hourly"}, []string{"result:success"}, nil, need + ` in "result:success"`, true},
		{"missing value", []string{"result:"}, nil, previousRun(), `missing value for selector method "result" in "result:"`, false},
		{"unknown status", []string{"result:errors"}, nil, previousRun(),
			`unknown result status "errors" (want success, pass, warn, fail, error, skipped, cancelled, fallback, pending) in "result:errors"`, false},
		{"bad glob", []string{"result:[e"}, nil, previousRun(), `invalid pattern "[e" (unterminated '[') in "result:[e"`, false},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			got, err := g.SelectWith(SelectOptions{Select: tt.sel, Exclude: tt.exclude, Results: tt.results})
			assert.Nil(t, got.Nodes)
			var se *SelectorError
			require.ErrorAs(t, err, &se)
			assert.EqualError(t, err, tt.want)
			assert.Equal(t, "result", se.Method)
			if tt.validates {
				assert.NoError(t, ValidateSelectors(cat(tt.sel, tt.exclude)))
			} else {
				assert.Equal(t, err, ValidateSelectors(cat(tt.sel, tt.exclude)))
			}
		})
	}
	// Select and SelectDetailed cannot pass results.
	_, err := g.Select([]string{"result:error"}, nil)
	assert.EqualError(t, err, need+` in "result:error"`)
}
