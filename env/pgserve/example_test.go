package pgserve_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vyaparbazaar/dataops/env/duckenv"
	"github.com/vyaparbazaar/dataops/env/pgserve"
)

// Serve an environment to PostgreSQL clients: users with bcrypt password
// hashes, TLS, the default access policy (business users read
// production), read-only statements.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "pgserve-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	e, err := duckenv.Open(ctx, duckenv.Config{Name: "production", Path: filepath.Join(dir, "production.duckdb")})
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close()
	if _, err := e.DB().ExecContext(ctx, "create table mart_daily_sales as select date '2025-06-30' as day, 200.50::decimal(12,2) as revenue"); err != nil {
		log.Fatal(err)
	}

	hash, err := pgserve.HashPassword("asha-secret") // as `vyaparbazaar users hash` prints
	if err != nil {
		log.Fatal(err)
	}
	users, err := pgserve.NewUsers([]pgserve.User{{Name: "asha", PasswordHash: hash, Groups: []string{"business-users"}}})
	if err != nil {
		log.Fatal(err)
	}
	tlsCfg, err := pgserve.SelfSignedTLS("127.0.0.1")
	if err != nil {
		log.Fatal(err)
	}
	srv, err := pgserve.New(pgserve.Config{Environments: []*duckenv.Env{e}, Auth: users, TLS: tlsCfg})
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go func() { _ = srv.Serve(ctx, ln) }()
	defer srv.Shutdown(ctx)

	// Any PostgreSQL client: the environment's name is the database.
	conn, err := pgx.Connect(ctx, "postgres://asha:asha-secret@"+ln.Addr().String()+"/production?sslmode=require")
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close(ctx)
	var day time.Time
	var revenue string
	if err := conn.QueryRow(ctx, "select day, revenue::varchar from mart_daily_sales").Scan(&day, &revenue); err != nil {
		log.Fatal(err)
	}
	fmt.Println(day.Format(time.DateOnly), revenue)
	_, err = conn.Exec(ctx, "delete from mart_daily_sales")
	fmt.Println(err)
	// Output:
	// 2025-06-30 200.50
	// ERROR: cannot execute DELETE in a read-only transaction (SQLSTATE 25006)
}
