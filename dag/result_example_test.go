package dag_test

import (
	"fmt"

	"github.com/vyaparbazaar/dataops/dag"
)

// Retrying the nodes that failed last time, and everything downstream of
// them, as with dbt's "dbt retry".
func ExampleGraph_SelectWith_result() {
	g, err := dag.New(shop())
	if err != nil {
		panic(err)
	}
	last := map[string]string{
		"raw_orders": "success", "shop.payments": "success", "stg_orders": "success",
		"stg_payments": "error", "not_null_stg_orders_id": "pass",
		"mart_daily_sales": "skipped", "export": "skipped",
	}
	sel, err := g.SelectWith(dag.SelectOptions{Select: []string{"result:error+"}, Results: last})
	if err != nil {
		panic(err)
	}
	fmt.Println(sel.Nodes)

	_, err = g.SelectWith(dag.SelectOptions{Select: []string{"result:error+"}})
	fmt.Println(err)
	// Output:
	// [stg_payments mart_daily_sales export]
	// result: needs the previous run's results (SelectOptions.Results) in "result:error+"
}
