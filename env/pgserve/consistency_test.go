package pgserve_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/vyaparbazaar/dataops/env/duckenv"
	"github.com/vyaparbazaar/dataops/orchestrate"
	"github.com/vyaparbazaar/dataops/orchestrate/project"
)

// publishPair builds the models pair_a and pair_b with generation gen
// (write, audit, publish: both re-pointed in one transaction).
func publishPair(t testing.TB, e *duckenv.Env, gen, rows int) {
	t.Helper()
	ctx := context.Background()
	r := e.Runner(duckenv.RunnerOptions{})
	for _, name := range []string{"pair_a", "pair_b"} {
		n := &orchestrate.Node{Name: name, Kind: orchestrate.KindModel, Spec: &project.Model{
			Name: name, Materialized: project.MaterializedTable,
			RawSQL: fmt.Sprintf("select %d as gen, i from range(%d) t(i)", gen, rows),
		}}
		_, err := r.Run(ctx, n)
		require.NoError(t, err, name)
	}
	_, err := r.Publish(ctx, nil, nil)
	require.NoError(t, err)
}

const pairQuery = "select a.gen, b.gen, a.i, repeat('x', 250) as pad from pair_a a join pair_b b using (i) order by a.i"

// TestReadAcrossPublish: a long read that started before a publish sees
// the old state of both models to its last row; the publish does not wait
// for it and does not kill it; the next read sees the new state.
func TestReadAcrossPublish(t *testing.T) {
	e := openEnv(t, "production")
	const n = 40_000
	publishPair(t, e, 1, n)
	ts := startServer(t, []*duckenv.Env{e})
	c := connect(t, ts, "asha", "production")
	ctx := context.Background()

	rows, err := c.Query(ctx, pairQuery)
	require.NoError(t, err)
	require.True(t, rows.Next())
	// The read is open (the server is blocked writing rows the client has
	// not read yet); publishing must finish anyway.
	require.Equal(t, int64(1), ts.Status(ctx).Queries)
	publishPair(t, e, 2, n)
	require.Equal(t, int64(1), ts.Status(ctx).Queries, "the read is still running")

	count := 0
	for ok := true; ok; ok = rows.Next() {
		var ga, gb, i int64
		var pad string
		require.NoError(t, rows.Scan(&ga, &gb, &i, &pad))
		require.Equal(t, [2]int64{1, 1}, [2]int64{ga, gb}, "row %d", i)
		count++
	}
	require.NoError(t, rows.Err())
	require.Equal(t, n, count)

	var ga, gb int64
	require.NoError(t, c.QueryRow(ctx, "select min(a.gen), max(b.gen) from pair_a a join pair_b b using (i)").Scan(&ga, &gb))
	require.Equal(t, [2]int64{2, 2}, [2]int64{ga, gb})
}

// loadResult is what a load run measured.
type loadResult struct {
	queries    int
	elapsed    time.Duration
	p50, p99   time.Duration
	publishes  int
	generation int64
}

// runLoad runs readers connections × perReader queries over the marts pair
// while publishes new generations are published; every read must
// succeed and see one generation in both models.
func runLoad(t testing.TB, ts *testServer, e *duckenv.Env, readers, perReader, publishes, rows int) loadResult {
	ctx := context.Background()
	conns := make([]*pgx.Conn, readers)
	for i := range conns {
		conns[i] = connect(t, ts, "asha", "production")
	}
	var (
		mu        sync.Mutex
		latencies []time.Duration
		errs      []error
		maxGen    int64
		wg        sync.WaitGroup
	)
	start := time.Now()
	for _, c := range conns {
		wg.Go(func() {
			for range perReader {
				q0 := time.Now()
				var minA, maxA, minB, maxB, cnt int64
				err := c.QueryRow(ctx, "select min(a.gen), max(a.gen), min(b.gen), max(b.gen), count(*) from pair_a a join pair_b b using (i)").Scan(&minA, &maxA, &minB, &maxB, &cnt)
				d := time.Since(q0)
				mu.Lock()
				latencies = append(latencies, d)
				switch {
				case err != nil:
					errs = append(errs, err)
				case minA != maxA || minB != maxB || minA != minB || cnt != int64(rows):
					errs = append(errs, fmt.Errorf("mixed snapshot: a %d..%d, b %d..%d, %d rows", minA, maxA, minB, maxB, cnt))
				}
				maxGen = max(maxGen, maxA)
				mu.Unlock()
			}
		})
	}
	for g := 2; g < 2+publishes; g++ {
		publishPair(t, e, g, rows)
	}
	wg.Wait()
	elapsed := time.Since(start)
	require.Empty(t, errs)
	slices.Sort(latencies)
	return loadResult{
		queries: len(latencies), elapsed: elapsed, publishes: publishes, generation: maxGen,
		p50: latencies[len(latencies)/2], p99: latencies[len(latencies)*99/100],
	}
}

// TestLoadWhilePublishing: 32 readers query the pair in a loop while new
// builds are published; no read fails and none sees a mix.
func TestLoadWhilePublishing(t *testing.T) {
	e := openEnv(t, "production")
	publishPair(t, e, 1, 1000)
	ts := startServer(t, []*duckenv.Env{e})
	res := runLoad(t, ts, e, 32, 10, 5, 1000)
	require.Equal(t, 320, res.queries)
	var gen int64
	require.NoError(t, connect(t, ts, "asha", "production").QueryRow(context.Background(), "select max(gen) from pair_b").Scan(&gen))
	require.Equal(t, int64(6), gen)
}

// TestPreparedStatementAcrossSchemaChange: a statement prepared before a
// publish that changes a model's columns fails once with 0A000 (pgx then
// drops it from its cache) and works when prepared again.
func TestPreparedStatementAcrossSchemaChange(t *testing.T) {
	e := openEnv(t, "production")
	publishPair(t, e, 1, 10)
	ts := startServer(t, []*duckenv.Env{e})
	c := connect(t, ts, "asha", "production")
	ctx := context.Background()
	var gen any
	require.NoError(t, c.QueryRow(ctx, "select gen from pair_a where i = $1", 3).Scan(&gen))
	require.Equal(t, int32(1), gen)

	r := e.Runner(duckenv.RunnerOptions{})
	_, err := r.Run(ctx, &orchestrate.Node{Name: "pair_a", Kind: orchestrate.KindModel, Spec: &project.Model{
		Name: "pair_a", Materialized: project.MaterializedTable, RawSQL: "select 'two' as gen, i from range(10) t(i)",
	}})
	require.NoError(t, err)
	_, err = r.Publish(ctx, nil, nil)
	require.NoError(t, err)

	err = c.QueryRow(ctx, "select gen from pair_a where i = $1", 3).Scan(&gen)
	require.Equal(t, "0A000", sqlState(err), "%v", err)
	require.ErrorContains(t, err, "cached plan must not change result type")
	require.NoError(t, c.QueryRow(ctx, "select gen from pair_a where i = $1", 3).Scan(&gen))
	require.Equal(t, "two", gen)
}

// TestRepeatedStatementSeesPublishes: a statement the session has
// prepared before (and pgx has cached) sees each new publish.
func TestRepeatedStatementSeesPublishes(t *testing.T) {
	e := openEnv(t, "production")
	publishPair(t, e, 1, 100)
	ts := startServer(t, []*duckenv.Env{e})
	ctx := context.Background()
	conns := map[string]*pgx.Conn{}
	for name, mode := range modes {
		conns[name] = connect(t, ts, "asha", "production", func(cc *pgx.ConnConfig) { cc.DefaultQueryExecMode = mode })
	}
	for gen := int64(1); gen <= 3; gen++ {
		if gen > 1 {
			publishPair(t, e, int(gen), 100)
		}
		for name, c := range conns {
			var a, b int64
			require.NoError(t, c.QueryRow(ctx, "select max(a.gen), max(b.gen) from pair_a a join pair_b b using (i) where a.i >= $1", 0).Scan(&a, &b), name)
			require.Equal(t, [2]int64{gen, gen}, [2]int64{a, b}, name)
		}
	}
}
