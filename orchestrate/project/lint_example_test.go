package project_test

import (
	"context"
	"fmt"
	"testing/fstest"

	"github.com/vyaparbazaar/dataops/orchestrate/project"
)

// Lint checks project rules; dataops.yml's lint: section configures them.
func ExampleProject_Lint() {
	fsys := fstest.MapFS{
		"dbt_project.yml":             {Data: []byte("name: shop\nversion: '1.0'\n")},
		"models/marts/daily.sql":      {Data: []byte("select 1 as day\n")},
		"models/staging/stg_shop.sql": {Data: []byte("select 1 as shop_id\n")},
		"models/staging/schema.yml":   {Data: []byte("version: 2\nmodels:\n  - name: stg_shop\n    columns:\n      - name: shop_id\n        data_tests: [unique, not_null]\n")},
	}
	p, err := project.Load(context.Background(), fsys, project.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg, err := project.ParseLintConfig("dataops.yml", []byte("lint:\n  rules:\n    primary-key-tests: warn\n    mart-owner: off\n"))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range p.Lint(cfg) {
		fmt.Printf("%s:%d: %s [%s] %s\n", f.Path, f.Line, f.Severity, f.Rule, f.Node)
	}
	// Output:
	// models/marts/daily.sql:1: error [layer-prefix] daily
	// models/marts/daily.sql:1: error [mart-description] daily
	// models/marts/daily.sql:1: warn [primary-key-tests] daily
}
