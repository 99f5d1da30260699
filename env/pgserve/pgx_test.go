package pgserve_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vyaparbazaar/dataops/env/duckenv"
)

func TestSmoke(t *testing.T) {
	e := openEnv(t, "production")
	mustExec(t, e, "create table sales(day date, amount decimal(12,2)); insert into sales values ('2025-06-30', 12.5), ('2025-07-01', NULL)")
	ts := startServer(t, []*duckenv.Env{e})
	_ = ts
	c := connect(t, ts, "asha", "production")
	rows, err := c.Query(context.Background(), "select * from sales order by day")
	require.NoError(t, err)
	for rows.Next() {
		v, err := rows.Values()
		require.NoError(t, err)
		t.Log(v)
	}
	require.NoError(t, rows.Err())
}
