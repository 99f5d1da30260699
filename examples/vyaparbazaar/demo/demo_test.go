package demo_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vyaparbazaar/dataops/env/duckenv"
	"github.com/vyaparbazaar/dataops/examples/vyaparbazaar/demo"
	"github.com/vyaparbazaar/dataops/orchestrate"
	"github.com/vyaparbazaar/dataops/orchestrate/project"
)

// TestDemoProjectBuildsThroughTheEngine loads the embedded project with the
// real loader, generates a small data set and builds everything through the
// executor and the DuckDB runner; then it checks the layers, the tests and
// that the marts agree with the facts they summarize.
func TestDemoProjectBuildsThroughTheEngine(t *testing.T) {
	ctx := t.Context()
	p, err := project.Load(ctx, demo.Project(), project.Options{})
	require.NoError(t, err)

	layers := map[string]int{}
	tests := 0
	for _, n := range p.Nodes() {
		switch n.Kind {
		case orchestrate.KindModel:
			layers[n.Layer]++
		case orchestrate.KindTest:
			tests++
		}
	}
	for _, l := range []string{"staging", "intermediate", "dimensions", "facts", "marts", "ml_features"} {
		assert.Positive(t, layers[l], "layer %s has models (%v)", l, layers)
	}
	assert.Greater(t, tests, 100)
	for name, prio := range map[string]orchestrate.Priority{
		"mart_inventory_status":     orchestrate.PriorityCritical,
		"mart_daily_sales":          orchestrate.PriorityHigh,
		"mart_financial_metrics":    orchestrate.PriorityHigh,
		"mart_campaign_performance": orchestrate.PriorityMedium,
		"ml_customer_segments":      orchestrate.PriorityMedium,
	} {
		n := p.Node(name)
		require.NotNil(t, n, name)
		assert.Equal(t, prio, n.Priority.Effective(), name)
		assert.NotEmpty(t, n.Owner, name)
	}
	assert.True(t, p.Node("mart_inventory_status").Critical)

	e, err := duckenv.Open(ctx, duckenv.Config{Path: filepath.Join(t.TempDir(), "demo.duckdb")})
	require.NoError(t, err)
	defer e.Close()
	_, err = demo.Generate(ctx, e.DB(), demo.Options{Scale: 0.002, Seed: 7})
	require.NoError(t, err)

	build := func(fullRefresh bool) *orchestrate.Run {
		run, err := orchestrate.Execute(ctx, p, orchestrate.Options{Threads: 2, Runner: e.Runner(duckenv.RunnerOptions{FullRefresh: fullRefresh, Now: demo.Now})})
		require.NoError(t, err)
		for _, f := range run.Failed() {
			t.Errorf("%s %s: %s", f.Status, f.Node, f.Error)
		}
		return run
	}
	run := build(false)
	require.True(t, run.OK())
	warned := 0
	for _, r := range run.Results {
		if r.Status == orchestrate.StatusWarn && r.Kind == orchestrate.KindTest {
			warned++
			assert.Positive(t, r.Failures)
		}
	}
	assert.Equal(t, 1, warned, "the warn-severity test on shared household phones finds rows")

	scalar := func(q string) float64 {
		var v float64
		require.NoError(t, e.DB().QueryRowContext(ctx, q).Scan(&v), q)
		return v
	}
	// Marts agree with facts.
	assert.Equal(t, scalar(`select count(*) from core.fct_orders`), scalar(`select sum(orders_placed) from marts.mart_daily_sales`))
	assert.Equal(t, scalar(`select count(*) from core.fct_orders where status = 'cancelled'`), scalar(`select sum(cancelled_orders) from marts.mart_daily_sales`))
	assert.Equal(t, scalar(`select count(*) from raw.customers`), scalar(`select count(*) from core.dim_customers`))
	assert.Positive(t, scalar(`select count(distinct segment) from ml.ml_customer_segments`))

	// A second build is incremental for fct_order_items and keeps its rows.
	before := scalar(`select count(*) from core.fct_order_items`)
	run = build(false)
	require.True(t, run.OK())
	assert.Equal(t, before, scalar(`select count(*) from core.fct_order_items`))
	assert.Equal(t, before, scalar(`select count(distinct order_item_id) from core.fct_order_items`))
}

func TestDemoProjectCompilesEveryNode(t *testing.T) {
	p, err := project.Load(context.Background(), demo.Project(), project.Options{})
	require.NoError(t, err)
	for _, n := range p.Nodes() {
		if n.Kind != orchestrate.KindModel && n.Kind != orchestrate.KindTest {
			continue
		}
		c, err := p.Compile(n.Name, project.CompileState{})
		require.NoError(t, err, n.Name)
		assert.NotContains(t, c.SQL, "{{", n.Name)
		assert.NotContains(t, c.SQL, "{%", n.Name)
	}
}
