package project

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStateFingerprints(t *testing.T) {
	load := func(stg string) map[string]NodeState {
		t.Helper()
		p, err := FromModels(Options{},
			&Model{Name: "stg_orders", RawSQL: stg},
			&Model{Name: "fct_orders", Materialized: "table", RawSQL: "select * from {{ ref('stg_orders') }}"},
			&Model{Name: "other", RawSQL: "select 2 as y"},
		)
		require.NoError(t, err)
		st, err := p.State()
		require.NoError(t, err)
		return st
	}
	base := load("select 1 as x -- the id\n")
	reformatted := load("select   1 as x\n\n/* a comment */")
	assert.Equal(t, base, reformatted, "formatting and comments do not change fingerprints")

	changed := load("select 2 as x")
	assert.NotEqual(t, base["stg_orders"].Own, changed["stg_orders"].Own)
	assert.Equal(t, base["fct_orders"].Own, changed["fct_orders"].Own, "fct's own SQL did not change")
	assert.NotEqual(t, base["fct_orders"].Full, changed["fct_orders"].Full, "but what it is built from did")
	assert.Equal(t, base["other"], changed["other"])
	assert.NotEqual(t, load("select 'a  b' as x")["stg_orders"].Own, load("select 'a b' as x")["stg_orders"].Own,
		"whitespace inside a string literal matters")
}

func TestNormalizeSQL(t *testing.T) {
	assert.Equal(t, `select a, "x -- y" from t where s = 'it''s -- no'`,
		NormalizeSQL("select a,   \"x -- y\"\n  from t -- comment\n where s = 'it''s -- no';"))
}

func TestStateSeesTheIncrementalBranch(t *testing.T) {
	load := func(filter string) NodeState {
		t.Helper()
		p, err := FromModels(Options{}, &Model{Name: "ev", Materialized: MaterializedIncremental,
			RawSQL: "select * from raw.events {% if is_incremental() %}where " + filter + "{% endif %}"})
		require.NoError(t, err)
		st, err := p.State()
		require.NoError(t, err)
		return st["ev"]
	}
	assert.NotEqual(t, load("id > 10").Own, load("id > 20").Own, "an edit inside is_incremental() is a change")
}
