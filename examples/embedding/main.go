// Command embedding is the README's embedding example: it loads a dbt-style
// project folder and builds +mart_daily_sales on a DuckDB file.
//
//	go run ./examples/embedding path/to/project
package main

import (
	"context"
	"log"
	"os"

	"github.com/vyaparbazaar/dataops/env/duckenv"
	"github.com/vyaparbazaar/dataops/orchestrate"
	"github.com/vyaparbazaar/dataops/orchestrate/project"
)

func main() {
	ctx := context.Background()
	p, err := project.Load(ctx, os.DirFS(os.Args[1]), project.Options{})
	if err != nil {
		log.Fatal(err) // names file and line: models/x.sql:7: ...
	}
	env, err := duckenv.Open(ctx, duckenv.Config{Path: os.Args[1] + "/target/dev.duckdb"})
	if err != nil {
		log.Fatal(err) // errors.Is(err, duckenv.ErrLocked) when another process holds it
	}
	defer env.Close()
	run, err := orchestrate.Execute(ctx, p, orchestrate.Options{
		Select:    []string{"+mart_daily_sales"},
		Threads:   4,
		Runner:    env.Runner(duckenv.RunnerOptions{}),
		Observers: []orchestrate.Observer{orchestrate.NewProgress(os.Stdout)},
	})
	if err != nil || !run.OK() {
		log.Fatal("build failed: ", err)
	}
}
