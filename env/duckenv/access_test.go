package duckenv

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vyaparbazaar/dataops/env"
)

func TestQueryAsEnforcesAndAuditsTheSeedsPolicy(t *testing.T) {
	e := openFile(t, func(c *Config) { c.Name = "production" })
	mustExec(t, e, "create schema marts")
	mustExec(t, e, "create table marts.sales as select 1 as amount")
	aud := &env.MemoryAuditor{}
	pol := env.DefaultPolicy()
	biz := env.Principal{Name: "ravi", Groups: []string{"business-users"}}
	res, err := e.QueryAs(t.Context(), pol, aud, biz, "select amount from marts.sales")
	require.NoError(t, err)
	assert.Equal(t, [][]any{{int32(1)}}, res.Rows)

	// A write through the reader's path fails in DuckDB itself (read-only
	// transaction) or in the statement check, and nothing changes.
	for _, q := range []string{"insert into marts.sales values (2)", "update marts.sales set amount = 9", "select * from read_csv('/etc/passwd')"} {
		_, err = e.QueryAs(t.Context(), pol, aud, biz, q)
		require.Error(t, err, q)
	}
	assert.Equal(t, int32(1), scalar[int32](t, e, "select sum(amount)::int from marts.sales"))

	// Someone without a role in production is denied, and audited.
	_, err = e.QueryAs(t.Context(), pol, aud, env.Principal{Name: "eve"}, "select 1")
	require.ErrorIs(t, err, env.ErrDenied)
	evs := aud.Events()
	require.Len(t, evs, 5)
	assert.True(t, evs[0].Allowed)
	assert.Equal(t, "ravi", evs[0].Principal)
	assert.Equal(t, "production", evs[0].Environment)
	assert.False(t, evs[4].Allowed)
	assert.Equal(t, "eve", evs[4].Principal)
	assert.Contains(t, evs[4].Result, "permission denied")
}
