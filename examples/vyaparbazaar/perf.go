package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/vyaparbazaar/dataops/alert/monitor"
	"github.com/vyaparbazaar/dataops/orchestrate"
)

// perfBaselineRuns is how many recent successful runs make a baseline.
const perfBaselineRuns = 10

// perfCmd builds the critical models (or the selection) and compares each
// one's build time with its baseline — the median of its last successful
// runs in this environment — failing when one is above --threshold
// (default 1.5, the seed's 150%).
func (c *cli) perfCmd(ctx context.Context) error {
	p, targetPath, e, err := c.loadOpen(ctx)
	if err != nil {
		return err
	}
	defer e.Close()
	runs, err := e.AlertHistory().Runs(ctx, 200)
	if err != nil {
		return err
	}
	baselines := monitor.Baselines(runs, perfBaselineRuns, 3)
	plan, err := c.plan(p)
	if err != nil {
		return err
	}
	if len(c.opts.selects) == 0 {
		plan = plan.Filter(func(n *orchestrate.Node) bool { return n.Critical && n.Kind == orchestrate.KindModel })
	} else {
		plan = plan.Filter(func(n *orchestrate.Node) bool { return n.Kind == orchestrate.KindModel })
	}
	if len(plan.Order) == 0 {
		return &exitError{code: 1, err: fmt.Errorf("perf: no critical model (mark models critical in meta or config, or --select them)")}
	}
	fmt.Fprintf(c.stdout, "Building %d models to compare with their baselines (median of the last %d successful runs)\n", len(plan.Order), perfBaselineRuns)
	run, err := c.execute(ctx, e, plan, targetPath, "perf")
	if err != nil {
		return err
	}
	if !run.OK() {
		return &exitError{code: 1, err: fmt.Errorf("perf: the build failed (run %s)", run.ID)}
	}
	threshold := c.opts.threshold
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nMODEL\tNOW\tBASELINE\tRATIO\tVERDICT")
	var slow []string
	for _, n := range plan.Order {
		res := run.Result(n.Name)
		if res == nil {
			continue
		}
		b, ok := baselines[n.Name]
		if !ok {
			fmt.Fprintf(tw, "%s\t%s\t-\t-\tno baseline yet (fewer than 3 successful runs)\n", n.Name, res.ExecutionTime.Round(time.Millisecond))
			continue
		}
		ratio := float64(res.ExecutionTime) / float64(max(b.Median, time.Microsecond))
		verdict := "ok"
		// Sub-10 ms builds are noise, not regressions.
		if ratio > threshold && res.ExecutionTime > 10*time.Millisecond {
			verdict = fmt.Sprintf("SLOWER than %.0f%%", threshold*100)
			slow = append(slow, n.Name)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.2f\t%s\n", n.Name, res.ExecutionTime.Round(time.Millisecond), b.Median.Round(time.Millisecond), ratio, verdict)
	}
	_ = tw.Flush()
	if len(slow) > 0 {
		return &exitError{code: 1, err: fmt.Errorf("perf: %d %s above %.0f%% of the baseline: %v", len(slow), plural(int64(len(slow)), "model", "models"), threshold*100, slow)}
	}
	return nil
}
