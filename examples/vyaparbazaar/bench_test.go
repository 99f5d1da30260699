package main

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/vyaparbazaar/dataops/dag"
	"github.com/vyaparbazaar/dataops/env"
	"github.com/vyaparbazaar/dataops/env/duckenv"
	"github.com/vyaparbazaar/dataops/examples/vyaparbazaar/demo"
	"github.com/vyaparbazaar/dataops/orchestrate"
	"github.com/vyaparbazaar/dataops/orchestrate/project"
	"github.com/vyaparbazaar/dataops/recovery"
	"github.com/vyaparbazaar/dataops/recovery/incident"
	"github.com/vyaparbazaar/dataops/snapshot"
)

// BenchmarkDemoEndToEnd builds the demo project through dataops and, as the
// baseline in the same run, executes the same rendered SQL statements one
// after another through database/sql (CREATE OR REPLACE TABLE/VIEW … AS
// <compiled model>, and select count(*) over each test's query).
//
// Each iteration times the baseline, dataops with 1 thread and dataops with
// 4 threads, alternating the order. The scale defaults to 1.0 (about 1 M
// orders); set DATAOPS_BENCH_SCALE to change it. Metrics: overhead-ratio =
// dataops(1 thread) / baseline, and speedup-4-threads = dataops(1 thread) /
// dataops(4 threads).
func BenchmarkDemoEndToEnd(b *testing.B) {
	scale := benchScale(b, 1.0)
	ctx := context.Background()
	dir := b.TempDir()
	e, err := duckenv.Open(ctx, duckenv.Config{Path: filepath.Join(dir, "bench.duckdb")})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	st, err := demo.Generate(ctx, e.DB(), demo.Options{Scale: scale, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("scale %g: %d orders, %d order items generated in %s", scale, st.Rows["orders"], st.Rows["order_items"], st.Duration)
	p, err := project.Load(ctx, demo.Project(), project.Options{})
	if err != nil {
		b.Fatal(err)
	}
	// Seeds are loaded once; both sides then run sources, models and tests.
	seeds, err := orchestrate.NewPlan(p, []string{"resource_type:seed"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	seeds = seeds.Filter(func(n *orchestrate.Node) bool { return n.Kind == orchestrate.KindSeed })
	if run, _ := orchestrate.ExecutePlan(ctx, seeds, orchestrate.Options{Runner: e.Runner(duckenv.RunnerOptions{Now: demo.Now, Unversioned: true})}); !run.OK() {
		for _, f := range run.Failed() {
			b.Log(f.Node, ": ", f.Error)
		}
		b.Fatal("seeds failed")
	}
	plan, err := orchestrate.NewPlan(p, nil, []string{"resource_type:seed"})
	if err != nil {
		b.Fatal(err)
	}
	stmts, err := renderedStatements(p, plan)
	if err != nil {
		b.Fatal(err)
	}
	checkpoint := func() {
		if _, err := e.DB().ExecContext(ctx, "CHECKPOINT"); err != nil {
			b.Fatal(err)
		}
	}
	dataops := func(threads int) {
		run, err := orchestrate.ExecutePlan(ctx, plan, orchestrate.Options{
			// The engine's own overhead: the plain atomic swap per model
			// (BenchmarkPublishOverhead measures write–audit–publish).
			Threads: threads, Runner: e.Runner(duckenv.RunnerOptions{FullRefresh: true, Now: demo.Now, Unversioned: true}),
		})
		if err != nil {
			b.Fatal(err)
		}
		if !run.OK() {
			for _, f := range run.Failed() {
				b.Log(f.Node, f.Error)
			}
			b.Fatal("build failed")
		}
	}
	// Warm up once (the first build creates every relation), then time the
	// three variants in each iteration, alternating their order, with a
	// CHECKPOINT before each so that no side pays for the other's writes.
	if err := runStatements(ctx, e.DB(), stmts); err != nil {
		b.Fatal(err)
	}
	var base, one, four time.Duration
	timed := func(f func()) time.Duration {
		checkpoint()
		start := time.Now()
		f()
		return time.Since(start)
	}
	i := 0
	for b.Loop() {
		steps := []func(){
			func() {
				base += timed(func() {
					if err := runStatements(ctx, e.DB(), stmts); err != nil {
						b.Fatal(err)
					}
				})
			},
			func() { one += timed(func() { dataops(1) }) },
			func() { four += timed(func() { dataops(4) }) },
		}
		if i%2 == 1 {
			slices.Reverse(steps)
		}
		for _, step := range steps {
			step()
		}
		i++
	}
	n := float64(b.N)
	b.ReportMetric(base.Seconds()/n, "baseline-s")
	b.ReportMetric(one.Seconds()/n, "dataops-1-thread-s")
	b.ReportMetric(four.Seconds()/n, "dataops-4-threads-s")
	b.ReportMetric(one.Seconds()/base.Seconds(), "overhead-ratio")
	b.ReportMetric(one.Seconds()/four.Seconds(), "speedup-4-threads")
}

type stmt struct {
	sql   string
	query bool
}

func renderedStatements(p *project.Project, plan *orchestrate.Plan) ([]stmt, error) {
	var out []stmt
	schemas := map[string]bool{}
	for _, n := range plan.Order {
		switch spec := n.Spec.(type) {
		case *project.Source:
			out = append(out, stmt{sql: "select count(*) from " + spec.Relation().Quoted(), query: true})
		case *project.Model:
			if spec.Materialized == project.MaterializedEphemeral {
				continue
			}
			c, err := spec.Compile(project.CompileState{})
			if err != nil {
				return nil, err
			}
			rel := spec.Relation()
			if !schemas[rel.Schema] && rel.Schema != "" {
				schemas[rel.Schema] = true
				out = append(out, stmt{sql: "create schema if not exists " + `"` + rel.Schema + `"`})
			}
			kind := "table"
			if spec.Materialized == project.MaterializedView {
				kind = "view"
			}
			out = append(out, stmt{sql: fmt.Sprintf("create or replace %s %s as (\n%s\n)", kind, rel.Quoted(), c.SQL)})
		case *project.DataTest:
			c, err := spec.Compile(project.CompileState{})
			if err != nil {
				return nil, err
			}
			out = append(out, stmt{sql: "select count(*) from (\n" + c.SQL + "\n)", query: true})
		}
	}
	return out, nil
}

func runStatements(ctx context.Context, db *sql.DB, stmts []stmt) error {
	for _, s := range stmts {
		if s.query {
			var n int64
			if err := db.QueryRowContext(ctx, s.sql).Scan(&n); err != nil {
				return fmt.Errorf("%s: %w", s.sql, err)
			}
			continue
		}
		if _, err := db.ExecContext(ctx, s.sql); err != nil {
			return fmt.Errorf("%s: %w", s.sql, err)
		}
	}
	return nil
}

// BenchmarkRecoveryOverhead measures what the recovery machinery costs a run
// in which nothing fails: the demo (scale DATAOPS_BENCH_SCALE, default 0.01)
// built with the default retry policy, last-good lookups, node results
// recorded as they finish and incident tracking, against the same build with recovery.NoRetry and no tracking,
// interleaved in each iteration. Metric: recovery-overhead-ratio.
func BenchmarkRecoveryOverhead(b *testing.B) {
	scale := benchScale(b, 0.01)
	ctx := context.Background()
	e := demoEnv(b, "bench.duckdb", scale)
	defer e.Close()
	p, err := project.Load(ctx, demo.Project(), project.Options{})
	if err != nil {
		b.Fatal(err)
	}
	plan, err := orchestrate.NewPlan(p, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	runner := e.Runner(duckenv.RunnerOptions{FullRefresh: true, Now: demo.Now})
	plain := func() {
		run, err := orchestrate.ExecutePlan(ctx, plan, orchestrate.Options{Runner: runner, Recovery: recovery.NoRetry})
		if err != nil || !run.OK() {
			b.Fatal("build failed", err)
		}
	}
	tracker := incident.Tracker{Store: e.Incidents(), Environment: "bench"}
	withRecovery := func() {
		id := orchestrate.NewRunID(time.Now())
		rec, err := e.NodeRecorder(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		run, err := orchestrate.ExecutePlan(ctx, plan, orchestrate.Options{
			RunID: id, Runner: runner, Recovery: &recovery.Policy{}, Observers: []orchestrate.Observer{rec},
			LastGood: func(ctx context.Context, node string) (orchestrate.Serving, bool) {
				id, at, ok, _ := e.LastGood(ctx, node)
				return orchestrate.Serving{RunID: id, BuiltAt: at}, ok
			},
		})
		if err != nil || !run.OK() {
			b.Fatal("build failed", err)
		}
		if err := rec.Close(); err != nil {
			b.Fatal(err)
		}
		if _, err := tracker.Observe(ctx, run.ID, orchestrate.IncidentOutcomes(run, plan)); err != nil {
			b.Fatal(err)
		}
	}
	plain() // warm up
	var off, on time.Duration
	i := 0
	for b.Loop() {
		steps := []func(){
			func() { start := time.Now(); plain(); off += time.Since(start) },
			func() { start := time.Now(); withRecovery(); on += time.Since(start) },
		}
		if i%2 == 1 {
			slices.Reverse(steps)
		}
		for _, s := range steps {
			s()
		}
		i++
	}
	b.ReportMetric(off.Seconds()/float64(b.N), "no-recovery-s")
	b.ReportMetric(on.Seconds()/float64(b.N), "recovery-s")
	b.ReportMetric(on.Seconds()/off.Seconds(), "recovery-overhead-ratio")
}

// BenchmarkPublishOverhead measures write–audit–publish against the
// engine's plain atomic swap on a full demo build (scale
// DATAOPS_BENCH_SCALE, default 0.1): the same data generated into two
// database files, one built with versioned tables, tests against the new
// versions and one publishing transaction that records a snapshot, the
// other with RunnerOptions.Unversioned, interleaved. The versioned side
// runs the janitor after each build (not timed), keeping 2 snapshots.
// Metric: publish-overhead-ratio.
func BenchmarkPublishOverhead(b *testing.B) {
	scale := benchScale(b, 0.1)
	ctx := context.Background()
	plainEnv, wapEnv := demoEnv(b, "plain.duckdb", scale), demoEnv(b, "wap.duckdb", scale)
	defer plainEnv.Close()
	defer wapEnv.Close()
	p, err := project.Load(ctx, demo.Project(), project.Options{})
	if err != nil {
		b.Fatal(err)
	}
	plan, err := orchestrate.NewPlan(p, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	build := func(e *duckenv.Env, unversioned bool) time.Duration {
		if _, err := e.DB().ExecContext(ctx, "CHECKPOINT"); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		run, err := orchestrate.ExecutePlan(ctx, plan, orchestrate.Options{Threads: 4,
			Runner: e.Runner(duckenv.RunnerOptions{FullRefresh: true, Now: demo.Now, Unversioned: unversioned})})
		if err != nil || !run.OK() {
			b.Fatal("build failed", err)
		}
		return time.Since(start)
	}
	build(plainEnv, true)
	build(wapEnv, false)
	var plain, wap time.Duration
	i := 0
	for b.Loop() {
		if i%2 == 0 {
			plain += build(plainEnv, true)
			wap += build(wapEnv, false)
		} else {
			wap += build(wapEnv, false)
			plain += build(plainEnv, true)
		}
		i++
		b.StopTimer()
		if _, err := wapEnv.GC(ctx, duckenv.GCOptions{Retention: &snapshot.Retention{KeepLast: 2}}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	n := float64(b.N)
	b.ReportMetric(plain.Seconds()/n, "plain-swap-s")
	b.ReportMetric(wap.Seconds()/n, "write-audit-publish-s")
	b.ReportMetric(wap.Seconds()/plain.Seconds(), "publish-overhead-ratio")
}

// BenchmarkModifiedOnlyBuild compares a CI build of what changed — one
// staging model (stg_orders) edited, selected with state:modified+ against
// the manifest of the unchanged project — with a full build of the demo
// (scale DATAOPS_BENCH_SCALE, default 0.1), interleaved on the same
// database. Metric: modified-over-full ratio.
func BenchmarkModifiedOnlyBuild(b *testing.B) {
	scale := benchScale(b, 0.1)
	ctx := context.Background()
	e := demoEnv(b, "ci.duckdb", scale)
	defer e.Close()
	orig, err := project.Load(ctx, demo.Project(), project.Options{})
	if err != nil {
		b.Fatal(err)
	}
	// The edited project: stg_orders gets one more column.
	edited := fstest.MapFS{}
	if err := fs.WalkDir(demo.Project(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(demo.Project(), path)
		if err != nil {
			return err
		}
		if strings.HasSuffix(path, "models/staging/stg_orders.sql") {
			data = []byte(strings.Replace(string(data), "select", "select 1 as ci_marker,", 1))
		}
		edited[path] = &fstest.MapFile{Data: data}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	p, err := project.Load(ctx, edited, project.Options{})
	if err != nil {
		b.Fatal(err)
	}
	fp := func(p *project.Project) map[string]env.Fingerprint {
		st, err := p.State()
		if err != nil {
			b.Fatal(err)
		}
		out := map[string]env.Fingerprint{}
		for k, v := range st {
			out[k] = env.Fingerprint{Kind: v.Kind, Own: v.Own, Full: v.Full}
		}
		return out
	}
	dp := env.NewDeployPlan("staging", p.Fingerprint(), "", fp(p), fp(orig))
	if len(dp.Modified) != 1 || dp.Modified[0] != "stg_orders" {
		b.Fatalf("plan: modified %v", dp.Modified)
	}
	full, err := orchestrate.NewPlan(p, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	changed, err := orchestrate.NewPlanWith(p, dag.SelectOptions{Select: []string{"state:modified+"}, State: dp.State()})
	if err != nil {
		b.Fatal(err)
	}
	build := func(plan *orchestrate.Plan) time.Duration {
		if _, err := e.DB().ExecContext(ctx, "CHECKPOINT"); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		run, err := orchestrate.ExecutePlan(ctx, plan, orchestrate.Options{Threads: 4, Runner: e.Runner(duckenv.RunnerOptions{Now: demo.Now})})
		if err != nil || !run.OK() {
			b.Fatal("build failed", err)
		}
		return time.Since(start)
	}
	build(full)
	var tf, tc time.Duration
	i := 0
	for b.Loop() {
		if i%2 == 0 {
			tf += build(full)
			tc += build(changed)
		} else {
			tc += build(changed)
			tf += build(full)
		}
		i++
		b.StopTimer()
		if _, err := e.GC(ctx, duckenv.GCOptions{Retention: &snapshot.Retention{KeepLast: 2}}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	n := float64(b.N)
	b.ReportMetric(float64(len(full.Order)), "full-nodes")
	b.ReportMetric(float64(len(changed.Order)), "modified-nodes")
	b.ReportMetric(tf.Seconds()/n, "full-s")
	b.ReportMetric(tc.Seconds()/n, "modified-s")
	b.ReportMetric(tc.Seconds()/tf.Seconds(), "modified-over-full-ratio")
}

// benchScale is the demo data scale of a benchmark: DATAOPS_BENCH_SCALE,
// else def.
func benchScale(b *testing.B, def float64) float64 {
	b.Helper()
	s := os.Getenv("DATAOPS_BENCH_SCALE")
	if s == "" {
		return def
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		b.Fatal(err)
	}
	return v
}

// demoEnv opens a database file named name and generates the demo's data
// at scale into it.
func demoEnv(b *testing.B, name string, scale float64) *duckenv.Env {
	b.Helper()
	ctx := context.Background()
	e, err := duckenv.Open(ctx, duckenv.Config{Path: filepath.Join(b.TempDir(), name)})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := demo.Generate(ctx, e.DB(), demo.Options{Scale: scale, Seed: 1}); err != nil {
		e.Close()
		b.Fatal(err)
	}
	return e
}
