// Command vyaparbazaar is the reference binary of dataops: a dbt-like CLI
// that loads a dbt-style project (by default the embedded VyaparBazaar demo)
// and builds it as a DAG on an embedded DuckDB database.
//
//	vyaparbazaar demo                       # generate data, build and test everything
//	vyaparbazaar build --select +mart_daily_sales --threads 4
//	vyaparbazaar query "select * from marts.mart_daily_sales limit 5"
//
// Run `vyaparbazaar help` for every command and flag.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
