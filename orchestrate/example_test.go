package orchestrate_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/vyaparbazaar/dataops/orchestrate"
)

// Nodes can be plain Go functions: here a small pipeline whose middle step
// fails, so its downstream is skipped with the failure named.
func ExampleExecute() {
	step := func(fail bool) orchestrate.Runner {
		return orchestrate.RunnerFunc(func(ctx context.Context, n *orchestrate.Node) (orchestrate.Outcome, error) {
			if fail {
				return orchestrate.Outcome{}, fmt.Errorf("source file for %s is missing", n.Name)
			}
			return orchestrate.Outcome{RowsAffected: 10}, nil
		})
	}
	p := orchestrate.NewPipeline(
		&orchestrate.Node{Name: "extract", Kind: orchestrate.KindTask, Runner: step(false)},
		&orchestrate.Node{Name: "load", Kind: orchestrate.KindTask, Deps: []string{"extract"}, Runner: step(true)},
		&orchestrate.Node{Name: "report", Kind: orchestrate.KindTask, Deps: []string{"load"}, Runner: step(false)},
	)
	run, err := orchestrate.Execute(context.Background(), p, orchestrate.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range run.Results {
		fmt.Println(strings.TrimSpace(fmt.Sprintf("%s: %s %s%s", r.Node, r.Status, r.Error, r.SkippedBecause)))
	}
	fmt.Println("run:", run.Status)
	// Output:
	// extract: success
	// load: error source file for load is missing
	// report: skipped upstream failed: load
	// run: error
}

// A selection uses dbt's grammar: "+report" is report and its ancestors.
func ExampleNewPlan() {
	p := orchestrate.NewPipeline(
		&orchestrate.Node{Name: "orders", Kind: orchestrate.KindModel},
		&orchestrate.Node{Name: "report", Kind: orchestrate.KindModel, Deps: []string{"orders"}},
		&orchestrate.Node{Name: "other", Kind: orchestrate.KindModel},
	)
	plan, err := orchestrate.NewPlan(p, []string{"+report"}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, n := range plan.Order {
		fmt.Println(n.Name)
	}
	// Output:
	// orders
	// report
}
