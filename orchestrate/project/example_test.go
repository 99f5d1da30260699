package project_test

import (
	"context"
	"fmt"
	"testing/fstest"

	"github.com/vyaparbazaar/dataops/orchestrate/project"
)

func ExampleLoad() {
	fsys := fstest.MapFS{
		"dbt_project.yml": {Data: []byte(`name: shop
models:
  shop:
    marts:
      +materialized: table
`)},
		"macros/cents.sql": {Data: []byte(`{% macro cents(col) %}({{ col }} / 100.0){% endmacro %}`)},
		"models/staging/stg_orders.sql": {Data: []byte(`select id, {{ cents('amount_cents') }} as amount
from {{ source('raw', 'orders') }}`)},
		"models/marts/orders.sql": {Data: []byte(`select * from {{ ref('stg_orders') }}`)},
		"models/schema.yml": {Data: []byte(`version: 2
sources:
  - name: raw
    tables:
      - name: orders
models:
  - name: orders
    columns:
      - name: id
        tests: [unique, not_null]
`)},
	}
	p, err := project.Load(context.Background(), fsys, project.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, n := range p.Nodes() {
		fmt.Printf("%-6s %-20s layer=%-8s deps=%v\n", n.Kind, n.Name, n.Layer, n.Deps)
	}
	c, _ := p.Compile("stg_orders", project.CompileState{})
	fmt.Println(c.SQL)
	// Output:
	// test   not_null_orders_id   layer=marts    deps=[orders]
	// model  orders               layer=marts    deps=[stg_orders]
	// source raw.orders           layer=sources  deps=[]
	// model  stg_orders           layer=staging  deps=[raw.orders]
	// test   unique_orders_id     layer=marts    deps=[orders]
	// select id, (amount_cents / 100.0) as amount
	// from "raw"."orders"
}

func ExampleFromModels() {
	p, err := project.FromModels(project.Options{},
		&project.Model{Name: "raw_orders", RawSQL: "select 1 as id"},
		&project.Model{Name: "orders", Materialized: project.MaterializedTable,
			RawSQL: "select * from {{ ref('raw_orders') }}"},
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Node("orders").Deps)
	c, _ := p.Compile("orders", project.CompileState{})
	fmt.Println(c.SQL)
	// Output:
	// [raw_orders]
	// select * from "main"."raw_orders"
}
