package duckenv_test

import (
	"context"
	"errors"
	"fmt"
	"testing/fstest"

	"github.com/vyaparbazaar/dataops/env/duckenv"
	"github.com/vyaparbazaar/dataops/orchestrate/project"
)

// Bind checks a project's SQL against an empty copy of its schema: here a
// model selects a column its source does not have.
func ExampleBind() {
	fsys := fstest.MapFS{
		"dbt_project.yml": {Data: []byte("name: shop\nversion: '1.0'\n")},
		"models/sources.yml": {Data: []byte(`version: 2
sources:
  - name: raw
    tables:
      - name: orders
        columns:
          - {name: id, data_type: integer}
          - {name: amount, data_type: "decimal(12,2)"}
`)},
		"models/stg_orders.sql": {Data: []byte("select\n    id as order_id,\n    amount_inr\nfrom {{ source('raw', 'orders') }}\n")},
		"models/mart_total.sql": {Data: []byte("select sum(amount_inr) as total from {{ ref('stg_orders') }}\n")},
	}
	ctx := context.Background()
	p, err := project.Load(ctx, fsys, project.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	rep, err := duckenv.Bind(ctx, p, duckenv.BindOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range rep.Errors {
		var se *duckenv.SQLError
		if errors.As(e, &se) {
			fmt.Printf("%s:%d: %s %s\n", se.Path, se.Line, se.Kind, se.Node)
		}
	}
	for _, s := range rep.Skipped {
		fmt.Println(s)
	}
	fmt.Println("checked:", rep.Checked)
	// Output:
	// models/stg_orders.sql:3: model stg_orders
	// models/mart_total.sql: model mart_total: skipped: upstream model stg_orders failed to bind
	// checked: 1
}
