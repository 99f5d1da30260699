package dag_test

import (
	"errors"
	"fmt"

	"github.com/vyaparbazaar/dataops/dag"
)

func shop() []dag.Vertex {
	return []dag.Vertex{
		{Name: "raw_orders", Kind: "seed", Path: "seeds/raw_orders.csv"},
		{Name: "shop.payments", Kind: "source", Path: "models/staging/sources.yml"},
		{Name: "stg_orders", Kind: "model", Path: "models/staging/stg_orders.sql",
			Deps: []string{"raw_orders"}, Tags: []string{"hourly"}, Config: map[string]string{"materialized": "view"}},
		{Name: "stg_payments", Kind: "model", Path: "models/staging/stg_payments.sql",
			Deps: []string{"shop.payments"}, Tags: []string{"hourly"}, Config: map[string]string{"materialized": "view"}},
		{Name: "mart_daily_sales", Kind: "model", Path: "models/marts/mart_daily_sales.sql",
			Deps: []string{"stg_orders", "stg_payments"}, Tags: []string{"daily"}, Config: map[string]string{"materialized": "table"}},
		{Name: "not_null_stg_orders_id", Kind: "test", TestOf: "stg_orders"},
		{Name: "export", Kind: "task", Deps: []string{"mart_daily_sales"}},
	}
}

func ExampleNew() {
	g, err := dag.New(shop())
	if err != nil {
		panic(err)
	}
	fmt.Println(g.TopoOrder())
	fmt.Println(g.Parents("mart_daily_sales"))
	fmt.Println(g.Descendants("stg_orders"))
	// Output:
	// [raw_orders shop.payments stg_orders not_null_stg_orders_id stg_payments mart_daily_sales export]
	// [stg_orders stg_payments]
	// [export mart_daily_sales not_null_stg_orders_id]
}

func ExampleNew_unknownDependency() {
	_, err := dag.New([]dag.Vertex{
		{Name: "stg_orders", Kind: "model"},
		{Name: "x", Kind: "model", Deps: []string{"stg_ordrs"},
			DepLocations: map[string]string{"stg_ordrs": "models/marts/x.sql:12"}},
	})
	fmt.Println(err)
	var ue *dag.UnknownDepError
	fmt.Println(errors.As(err, &ue), ue.Suggestion)
	// Output:
	// models/marts/x.sql:12: model "x" references unknown node "stg_ordrs" (did you mean "stg_orders"?)
	// true stg_orders
}

func ExampleCycleError() {
	_, err := dag.New([]dag.Vertex{
		{Name: "c", Deps: []string{"b"}},
		{Name: "a", Deps: []string{"c"}},
		{Name: "b", Deps: []string{"a"}},
	})
	var ce *dag.CycleError
	if errors.As(err, &ce) {
		fmt.Println(ce.Cycle)
	}
	fmt.Println(err)
	// Output:
	// [a b c a]
	// dependency cycle: a → b → c → a
}

func ExampleGraph_Select() {
	g, _ := dag.New(shop())

	for _, sel := range [][]string{
		{"stg_orders+"},
		{"+mart_daily_sales"},
		{"tag:hourly,config.materialized:view"},
		{"1+mart_daily_sales", "source:shop"},
		{"@stg_payments"},
	} {
		names, err := g.Select(sel, []string{"resource_type:task"})
		if err != nil {
			panic(err)
		}
		fmt.Println(sel, "=>", names)
	}
	// Output:
	// [stg_orders+] => [stg_orders not_null_stg_orders_id mart_daily_sales]
	// [+mart_daily_sales] => [raw_orders shop.payments stg_orders not_null_stg_orders_id stg_payments mart_daily_sales]
	// [tag:hourly,config.materialized:view] => [stg_orders not_null_stg_orders_id stg_payments]
	// [1+mart_daily_sales source:shop] => [shop.payments stg_orders not_null_stg_orders_id stg_payments mart_daily_sales]
	// [@stg_payments] => [raw_orders shop.payments stg_orders not_null_stg_orders_id stg_payments mart_daily_sales]
}

func ExampleGraph_SelectDetailed() {
	g, _ := dag.New(shop())
	sel, err := g.SelectDetailed([]string{"stg_orders tag:nightly"}, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println("nodes:", sel.Nodes)
	fmt.Println("indirect:", sel.Indirect)
	fmt.Println("matched nothing:", sel.Unmatched)

	_, err = g.SelectDetailed([]string{"owner:me"}, nil)
	fmt.Println(err)
	// Output:
	// nodes: [stg_orders not_null_stg_orders_id]
	// indirect: [not_null_stg_orders_id]
	// matched nothing: [tag:nightly]
	// unknown selector method "owner" in "owner:me"
}

func ExampleGraph_SelectWith() {
	g, _ := dag.New(shop())
	sel, _ := g.SelectWith(dag.SelectOptions{
		Select:   []string{"stg_orders"},
		Indirect: dag.IndirectEmpty,
	})
	fmt.Println(sel.Nodes)
	// Output:
	// [stg_orders]
}

func ExampleGraph_Layers() {
	g, _ := dag.New(shop())
	for i, layer := range g.Layers() {
		fmt.Println(i, layer)
	}
	// Output:
	// 0 [raw_orders shop.payments]
	// 1 [stg_orders stg_payments]
	// 2 [mart_daily_sales not_null_stg_orders_id]
	// 3 [export]
}

func ExampleGraph_Mermaid() {
	g, _ := dag.New([]dag.Vertex{
		{Name: "shop.orders", Kind: "source"},
		{Name: "stg_orders", Kind: "model", Deps: []string{"shop.orders"}},
		{Name: "not_null_id", Kind: "test", TestOf: "stg_orders"},
	})
	fmt.Print(g.Mermaid())
	// Output:
	// flowchart LR
	//     not_null_id{{"not_null_id"}}
	//     shop_orders[("shop.orders")]
	//     stg_orders["stg_orders"]
	//     shop_orders --> stg_orders
	//     stg_orders --> not_null_id
}

func ExampleGraph_DOT() {
	g, _ := dag.New([]dag.Vertex{
		{Name: "raw_orders", Kind: "seed"},
		{Name: "stg_orders", Kind: "model", Deps: []string{"raw_orders"}},
	})
	fmt.Print(g.DOT())
	// Output:
	// digraph dag {
	// 	rankdir=LR;
	// 	node [shape=box];
	// 	"raw_orders" [shape=note, class="seed"];
	// 	"stg_orders" [shape=box, class="model"];
	// 	"raw_orders" -> "stg_orders";
	// }
}
