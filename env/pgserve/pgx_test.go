package pgserve_test

import (
	"context"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"

	"github.com/vyaparbazaar/dataops/env"
	"github.com/vyaparbazaar/dataops/env/duckenv"
	"github.com/vyaparbazaar/dataops/env/pgserve"
)

var modes = map[string]pgx.QueryExecMode{
	"extended": pgx.QueryExecModeCacheStatement,
	"describe": pgx.QueryExecModeDescribeExec,
	"simple":   pgx.QueryExecModeSimpleProtocol,
}

func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// TestPgxTypes reads every supported type through pgx in the extended
// (binary) and the simple (text) protocol.
func TestPgxTypes(t *testing.T) {
	ts := startServer(t, []*duckenv.Env{demoMart(t)})
	huge, _ := new(big.Int).SetString("170141183460469231731687303715884105727", 10)
	for name, mode := range modes {
		t.Run(name, func(t *testing.T) {
			c := connect(t, ts, "asha", "production", func(cc *pgx.ConnConfig) { cc.DefaultQueryExecMode = mode })
			var (
				tiny, small          int16
				i32                  int32
				big64                int64
				hugeN, hugeNeg, ubig pgtype.Numeric
				dbl                  float64
				flt                  float32
				dec4, dec12, dec38   pgtype.Numeric
				txt                  string
				d, dInf              pgtype.Date
				ts, tstz             time.Time
				tm                   pgtype.Time
				iv                   pgtype.Interval
				id                   pgtype.UUID
				yes, no              bool
				bytes                []byte
				nothing              *int32
				list, strct, mp, js  string
				en                   string
				tsMS                 time.Time
				nested               string
			)
			err := c.QueryRow(context.Background(), typesQuery).Scan(&tiny, &small, &i32, &big64, &hugeN, &hugeNeg, &ubig, &dbl, &flt,
				&dec4, &dec12, &dec38, &txt, &d, &dInf, &ts, &tstz, &tm, &iv, &id, &yes, &no, &bytes, &nothing, &list, &strct, &mp, &js, &en, &tsMS, &nested)
			require.NoError(t, err)
			require.Equal(t, []any{int16(1), int16(2), int32(3), int64(4)}, []any{tiny, small, i32, big64})
			require.Equal(t, huge, hugeN.Int)
			require.Equal(t, new(big.Int).Neg(huge), hugeNeg.Int)
			require.Equal(t, "42", numString(ubig))
			require.Equal(t, 1.5, dbl)
			require.Equal(t, float32(0.25), flt)
			require.Equal(t, []string{"12.34", "-1234567.891", "12345678901234567890.12"}, []string{numString(dec4), numString(dec12), numString(dec38)})
			require.Equal(t, "héllo, 'world'", txt)
			require.Equal(t, time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC), d.Time)
			require.Equal(t, pgtype.Infinity, dInf.InfinityModifier)
			require.Equal(t, time.Date(2025, 6, 30, 12, 34, 56, 789e6, time.UTC), ts.UTC())
			require.True(t, time.Date(2025, 6, 30, 7, 4, 56, 0, time.UTC).Equal(tstz), tstz)
			require.Equal(t, int64((3600+2*60+3)*1e6+5e5), tm.Microseconds)
			require.Equal(t, pgtype.Interval{Months: 1, Days: 2, Microseconds: (3*3600 + 4*60 + 5) * 1e6, Valid: true}, iv)
			require.Equal(t, "6ba7b810-9dad-11d1-80b4-00c04fd430c8", id.String())
			require.True(t, yes)
			require.False(t, no)
			require.Equal(t, []byte{0xde, 0xad}, bytes)
			require.Nil(t, nothing)
			require.Equal(t, []string{"[1, 2, 3]", "{'a': 1, 'b': x}", "{k=1}", `{"b":1,"a":[2]}`, "x", "[[1], [2, 3]]"}, []string{list, strct, mp, js, en, nested})
			require.Equal(t, time.Date(2025, 6, 30, 12, 34, 56, 789e6, time.UTC), tsMS.UTC())
		})
	}
}

func numString(n pgtype.Numeric) string {
	v, err := n.Value()
	if err != nil || v == nil {
		return "<invalid>"
	}
	return v.(string)
}

// TestPgxParamsAndBatches: parameters of several types in both protocols,
// and a batch of statements.
func TestPgxParamsAndBatches(t *testing.T) {
	ts := startServer(t, []*duckenv.Env{demoMart(t)})
	for name, mode := range modes {
		t.Run(name, func(t *testing.T) {
			c := connect(t, ts, "asha", "production", func(cc *pgx.ConnConfig) { cc.DefaultQueryExecMode = mode })
			ctx := context.Background()
			rows, err := c.Query(ctx, "select order_id from fct_orders where order_date = $1 and amount > $2 and status = $3 order by order_id",
				time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC), 50.0, "delivered")
			require.NoError(t, err)
			ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
			require.NoError(t, err)
			require.Equal(t, []int64{1, 2}, ids)

			var n int64
			require.NoError(t, c.QueryRow(ctx, "select count(*) from fct_orders where order_id in ($1, $2) and order_id <> $3", int64(1), int32(3), "7").Scan(&n))
			require.Equal(t, int64(2), n)

			b := &pgx.Batch{}
			b.Queue("select count(*) from fct_orders")
			b.Queue("select revenue from mart_daily_sales where order_date = $1", time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC))
			b.Queue("select $1::varchar || '!'", "hi")
			br := c.SendBatch(ctx, b)
			if mode == pgx.QueryExecModeSimpleProtocol {
				// pgx sends a simple-protocol batch as one string of
				// several statements, which readers may not run.
				require.Equal(t, "42501", sqlState(br.Close()))
				return
			}
			var cnt int64
			var rev pgtype.Numeric
			var s string
			require.NoError(t, br.QueryRow().Scan(&cnt))
			require.NoError(t, br.QueryRow().Scan(&rev))
			require.NoError(t, br.QueryRow().Scan(&s))
			require.NoError(t, br.Close())
			require.Equal(t, int64(3), cnt)
			require.Equal(t, "42.25", numString(rev))
			require.Equal(t, "hi!", s)
		})
	}
}

// cancelRequests makes pgx cancel a query with a CancelRequest on the
// server (keeping the connection) instead of closing the socket.
func cancelRequests(cc *pgx.ConnConfig) {
	cc.BuildContextWatcherHandler = func(pc *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: pc, DeadlineDelay: time.Minute}
	}
}

// waitRunning waits until the server runs n statements.
func waitRunning(t *testing.T, ts *testServer, n int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for ts.Status(ctx).Queries < n {
		require.NoError(t, ctx.Err(), "statement never started")
		time.Sleep(time.Millisecond)
	}
}

// TestCancel: a cancelled query stops in DuckDB with 57014 and the
// connection stays usable.
func TestCancel(t *testing.T) {
	ts := startServer(t, []*duckenv.Env{demoMart(t)})
	const forever = "select count(*) from range(1000000000000) t(i) where i % 7 = 3"
	for name, mode := range modes {
		t.Run(name, func(t *testing.T) {
			c := connect(t, ts, "asha", "production", cancelRequests, func(cc *pgx.ConnConfig) { cc.DefaultQueryExecMode = mode })
			ctx, cancel := context.WithCancel(context.Background())
			go func() { waitRunning(t, ts, 1); cancel() }()
			var n int64
			err := c.QueryRow(ctx, forever).Scan(&n)
			require.Equal(t, "57014", sqlState(err), "%v", err)
			require.ErrorContains(t, err, "canceling statement due to user request")
			var one int
			require.NoError(t, c.QueryRow(context.Background(), "select 1").Scan(&one), "connection usable after cancel")
			require.Equal(t, 1, one)
		})
	}
}

// TestRoleTimeout: the statement timeout of the principal's role.
func TestRoleTimeout(t *testing.T) {
	ts := startServer(t, []*duckenv.Env{demoMart(t)}, func(cfg *pgserve.Config) {
		cfg.Limits[env.RoleReader] = pgserve.Limits{QueryTimeout: 20 * time.Millisecond}
	})
	c := connect(t, ts, "asha", "production")
	var n int64
	err := c.QueryRow(context.Background(), "select count(*) from range(1000000000000) t(i) where i % 7 = 3").Scan(&n)
	require.Equal(t, "57014", sqlState(err), "%v", err)
	require.ErrorContains(t, err, "statement timeout")
	require.NoError(t, c.QueryRow(context.Background(), "select count(*) from fct_orders").Scan(&n))
	require.Equal(t, int64(3), n)
}
