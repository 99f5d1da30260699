package duckenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vyaparbazaar/dataops/orchestrate"
	"github.com/vyaparbazaar/dataops/orchestrate/project"
)

// thirtyModels builds 30 table models of rows rows each, twice (two
// snapshots), in a file database.
func thirtyModels(b *testing.B, rows int) *Env {
	b.Helper()
	ctx := context.Background()
	e, err := Open(ctx, Config{Path: filepath.Join(b.TempDir(), fmt.Sprintf("r%d.duckdb", rows))})
	if err != nil {
		b.Fatal(err)
	}
	var nodes []*orchestrate.Node
	for i := range 30 {
		name := fmt.Sprintf("m%02d", i)
		nodes = append(nodes, &orchestrate.Node{Name: name, Kind: orchestrate.KindModel, Spec: &project.Model{
			Name: name, Materialized: "table", Schema: "marts",
			RawSQL: fmt.Sprintf("select range as id, hash(range + %d) as v from range(%d)", i, rows),
		}})
	}
	for range 2 {
		run, err := orchestrate.Execute(ctx, orchestrate.NewPipeline(nodes...), orchestrate.Options{Threads: 2, Runner: e.Runner(RunnerOptions{})})
		if err != nil || !run.OK() || run.Publication == nil || run.Publication.Error != "" {
			b.Fatal("build failed", err)
		}
	}
	return e
}

// BenchmarkRollback rolls 30 models back and forth between two snapshots,
// at 10 k rows per model and at 10 M rows per model (set
// DATAOPS_BENCH_BIG_ROWS to change the big size), in the same benchmark.
// Rollback re-points views, so its time must not grow with the data.
// Metrics: ms per rollback at each size and their ratio.
func BenchmarkRollback(b *testing.B) {
	big := 10_000_000
	if s := os.Getenv("DATAOPS_BENCH_BIG_ROWS"); s != "" {
		if _, err := fmt.Sscan(s, &big); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	small, large := thirtyModels(b, 10_000), thirtyModels(b, big)
	defer small.Close()
	defer large.Close()
	var ts, tl time.Duration
	i := 0
	for b.Loop() {
		to := int64(1 + i%2) // alternate: #1, #2 (as a rollback), ...
		for _, side := range []struct {
			e   *Env
			acc *time.Duration
		}{{small, &ts}, {large, &tl}} {
			start := time.Now()
			if _, err := side.e.Rollback(ctx, RollbackOptions{To: to}); err != nil {
				b.Fatal(err)
			}
			*side.acc += time.Since(start)
		}
		i++
	}
	n := float64(b.N)
	b.ReportMetric(float64(ts.Microseconds())/1000/n, "ms/rollback-10k")
	b.ReportMetric(float64(tl.Microseconds())/1000/n, "ms/rollback-big")
	b.ReportMetric(tl.Seconds()/ts.Seconds(), "big/small-ratio")
}

// BenchmarkBackupRestore compares ExportBackup and RestoreBackup with
// DuckDB's own EXPORT DATABASE (FORMAT parquet) and IMPORT DATABASE on the
// same database: 3 tables of DATAOPS_BENCH_ROWS rows (default 10 M) in
// all. Metrics: backup-ratio and restore-ratio (dataops / DuckDB), and
// rows/s of each.
func BenchmarkBackupRestore(b *testing.B) {
	rows := 10_000_000
	if s := os.Getenv("DATAOPS_BENCH_ROWS"); s != "" {
		if _, err := fmt.Sscan(s, &rows); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	dir := b.TempDir()
	e, err := Open(ctx, Config{Path: filepath.Join(dir, "src.duckdb")})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	for i, q := range []string{
		"create schema raw",
		fmt.Sprintf("create table raw.orders as select range as order_id, range %% 50000 as customer_id, (hash(range) %% 100000) / 100.0 as amount, date '2025-01-01' + (range %% 365)::int as order_date from range(%d)", rows/2),
		fmt.Sprintf("create table raw.items as select range as item_id, range // 2 as order_id, 'SKU-' || (range %% 9973) as sku from range(%d)", rows*3/10),
		fmt.Sprintf("create table raw.events as select range as id, md5(range::varchar) as payload from range(%d)", rows/5),
	} {
		if _, err := e.DB().ExecContext(ctx, q); err != nil {
			b.Fatal(i, err)
		}
	}
	var ours, theirs, ourRestore, theirRestore time.Duration
	k := 0
	for b.Loop() {
		k++
		out := filepath.Join(dir, fmt.Sprintf("ours%d", k))
		start := time.Now()
		if _, err := e.ExportBackup(ctx, out); err != nil {
			b.Fatal(err)
		}
		ours += time.Since(start)
		exp := filepath.Join(dir, fmt.Sprintf("export%d", k))
		start = time.Now()
		if _, err := e.DB().ExecContext(ctx, "EXPORT DATABASE '"+exp+"' (FORMAT parquet)"); err != nil {
			b.Fatal(err)
		}
		theirs += time.Since(start)

		start = time.Now()
		if _, err := RestoreBackup(ctx, out, filepath.Join(dir, fmt.Sprintf("ours%d.duckdb", k)), RestoreOptions{}); err != nil {
			b.Fatal(err)
		}
		ourRestore += time.Since(start)
		start = time.Now()
		imp, err := Open(ctx, Config{Path: filepath.Join(dir, fmt.Sprintf("import%d.duckdb", k))})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := imp.DB().ExecContext(ctx, "IMPORT DATABASE '"+exp+"'"); err != nil {
			b.Fatal(err)
		}
		if err := imp.Close(); err != nil {
			b.Fatal(err)
		}
		theirRestore += time.Since(start)
		for _, p := range []string{out, exp} {
			_ = os.RemoveAll(p)
		}
	}
	n := float64(b.N)
	b.ReportMetric(ours.Seconds()/theirs.Seconds(), "backup-ratio")
	b.ReportMetric(ourRestore.Seconds()/theirRestore.Seconds(), "restore-ratio")
	b.ReportMetric(float64(rows)*n/ours.Seconds(), "backup-rows/s")
	b.ReportMetric(float64(rows)*n/ourRestore.Seconds(), "restore-rows/s")
}
