package pgserve_test

import (
	"bufio"
	"context"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/vyaparbazaar/dataops/env/duckenv"
)

const streamQuery = "select i, i * 1.5 as d, 'customer-' || i as s from range(%d) t(i)"

func rowsQuery(n int) string { return strings.Replace(streamQuery, "%d", strconv.Itoa(n), 1) }

// readSQL reads a query's rows in process through database/sql.
func readSQL(b *testing.B, e *duckenv.Env, q string) int {
	rows, err := e.DB().QueryContext(context.Background(), q)
	require.NoError(b, err)
	defer rows.Close()
	n := 0
	var i int64
	var d float64
	var s string
	for rows.Next() {
		require.NoError(b, rows.Scan(&i, &d, &s))
		n++
	}
	require.NoError(b, rows.Err())
	return n
}

// readPgx reads a query's rows through pgx (extended protocol, binary).
func readPgx(b *testing.B, c *pgx.Conn, q string) int {
	rows, err := c.Query(context.Background(), q)
	require.NoError(b, err)
	defer rows.Close()
	n := 0
	var i int64
	var d float64
	var s string
	for rows.Next() {
		require.NoError(b, rows.Scan(&i, &d, &s))
		n++
	}
	require.NoError(b, rows.Err())
	return n
}

// BenchmarkStream1M: 1 M rows through pgx against the same rows read in
// process through database/sql; pgx/sql is the throughput ratio (target
// >= 0.5).
func BenchmarkStream1M(b *testing.B) {
	e := openEnv(b, "production")
	ts := startServer(b, []*duckenv.Env{e})
	c := connect(b, ts, "asha", "production")
	q := rowsQuery(1_000_000)
	var tSQL, tPgx time.Duration
	for b.Loop() {
		t0 := time.Now()
		require.Equal(b, 1_000_000, readSQL(b, e, q))
		t1 := time.Now()
		require.Equal(b, 1_000_000, readPgx(b, c, q))
		tSQL += t1.Sub(t0)
		tPgx += time.Since(t1)
	}
	b.ReportMetric(float64(b.N)*1e6/tSQL.Seconds(), "sql_rows/s")
	b.ReportMetric(float64(b.N)*1e6/tPgx.Seconds(), "pgx_rows/s")
	b.ReportMetric(tSQL.Seconds()/tPgx.Seconds(), "pgx/sql")
}

// BenchmarkSelect1: `select 1` round trips through pgx against in process
// (database/sql on one connection); p50 ratio target <= 2.
func BenchmarkSelect1(b *testing.B) {
	e := openEnv(b, "production")
	ts := startServer(b, []*duckenv.Env{e})
	c := connect(b, ts, "asha", "production")
	conn, err := e.DB().Conn(context.Background())
	require.NoError(b, err)
	defer conn.Close()
	ctx := context.Background()
	var pg, local []time.Duration
	for b.Loop() {
		var one int
		t0 := time.Now()
		require.NoError(b, conn.QueryRowContext(ctx, "select 1").Scan(&one))
		t1 := time.Now()
		require.NoError(b, c.QueryRow(ctx, "select 1").Scan(&one))
		local = append(local, t1.Sub(t0))
		pg = append(pg, time.Since(t1))
	}
	slices.Sort(pg)
	slices.Sort(local)
	pct := func(ds []time.Duration, p int) float64 { return float64(ds[len(ds)*p/100].Microseconds()) }
	b.ReportMetric(pct(pg, 50), "pgx_p50_µs")
	b.ReportMetric(pct(pg, 99), "pgx_p99_µs")
	b.ReportMetric(pct(local, 50), "sql_p50_µs")
	b.ReportMetric(pct(local, 99), "sql_p99_µs")
	b.ReportMetric(pct(pg, 50)/max(pct(local, 50), 1), "p50_pgx/sql")
}

// peakRSS resets and reads the process's peak resident set size.
type peakRSS struct{}

func (peakRSS) reset() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

func (peakRSS) read(b *testing.B) float64 {
	f, err := os.Open("/proc/self/status")
	require.NoError(b, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			require.NoError(b, err)
			return float64(kb) / 1024
		}
	}
	b.Fatal("no VmHWM in /proc/self/status")
	return 0
}

// heapSampler records the peak Go heap while it runs.
func heapSampler() (stop func() float64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
	return func() float64 { close(done); wg.Wait(); return float64(peak.Load()) / (1 << 20) }
}

// BenchmarkStream10MMemory: peak memory while 10 M rows (about 330 MB of
// values) stream through pgx, against reading the same result in process
// through database/sql (which materialises it inside DuckDB).
func BenchmarkStream10MMemory(b *testing.B) {
	e := openEnv(b, "production")
	ts := startServer(b, []*duckenv.Env{e})
	c := connect(b, ts, "asha", "production")
	q := rowsQuery(10_000_000)
	var rss peakRSS
	for b.Loop() {
		runtime.GC()
		base := rss.read(b)
		rss.reset()
		base = rss.read(b)
		stop := heapSampler()
		require.Equal(b, 10_000_000, readPgx(b, c, q))
		heap := stop()
		pgRSS := rss.read(b) - base
		runtime.GC()
		rss.reset()
		base = rss.read(b)
		require.Equal(b, 10_000_000, readSQL(b, e, q))
		sqlRSS := rss.read(b) - base
		b.ReportMetric(pgRSS, "pgx_peak_rss_growth_MB")
		b.ReportMetric(heap, "pgx_peak_go_heap_MB")
		b.ReportMetric(sqlRSS, "sql_peak_rss_growth_MB")
	}
}

// BenchmarkLoad: 32 reader connections querying the marts pair while new
// builds are published.
func BenchmarkLoad(b *testing.B) {
	e := openEnv(b, "production")
	publishPair(b, e, 1, 10_000)
	ts := startServer(b, []*duckenv.Env{e})
	for b.Loop() {
		res := runLoad(b, ts, e, 32, 20, 5, 10_000)
		b.ReportMetric(float64(res.queries)/res.elapsed.Seconds(), "queries/s")
		b.ReportMetric(float64(res.p50.Microseconds())/1000, "p50_ms")
		b.ReportMetric(float64(res.p99.Microseconds())/1000, "p99_ms")
	}
}
