package duckenv_test

import (
	"context"
	"fmt"
	"log"

	"github.com/vyaparbazaar/dataops/env/duckenv"
	"github.com/vyaparbazaar/dataops/orchestrate"
	"github.com/vyaparbazaar/dataops/orchestrate/project"
)

func ExampleOpen() {
	ctx := context.Background()
	e, err := duckenv.Open(ctx, duckenv.Config{Name: "dev", Path: ":memory:", Threads: 2})
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close()

	// Runner builds each model into a new version; its tests read that
	// version; Publish makes what passed visible at once.
	runner := e.Runner(duckenv.RunnerOptions{})
	seed := &orchestrate.Node{Name: "countries", Kind: orchestrate.KindSeed, Spec: &project.Seed{
		Name: "countries", Path: "seeds/countries.csv",
		Data:        []byte("code,name\nIN,India\nNP,Nepal\n"),
		ColumnTypes: map[string]string{"code": "VARCHAR", "name": "VARCHAR"},
	}}
	// ref() resolves to the version built in this run.
	model := &orchestrate.Node{Name: "country_names", Kind: orchestrate.KindModel, Spec: &project.Model{
		Name: "country_names", Materialized: project.MaterializedTable,
		RawSQL: `select upper(name) as name from "main"."countries" order by code`,
	}}
	for _, n := range []*orchestrate.Node{seed, model} {
		out, err := runner.Run(ctx, n)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: %s\n", n.Name, out.Message)
	}
	pub, err := runner.Publish(ctx, nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("published", pub.Published, "as snapshot", pub.Snapshot)

	res, err := e.Query(ctx, "select name from country_names order by name")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Columns, res.Rows)

	_, err = e.Query(ctx, "copy country_names to 'names.csv'")
	fmt.Println(err)
	// Output:
	// countries: INSERT 2
	// country_names: SELECT 2
	// published [countries country_names] as snapshot 1
	// [name] [[INDIA] [NEPAL]]
	// refused in a read-only query: COPY reads and writes files
}
