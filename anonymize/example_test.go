package anonymize_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/vyaparbazaar/dataops/anonymize"
)

// Example anonymizes a small production file into a staging file with a
// YAML policy: the customer key is pseudonymized once and the orders'
// foreign key follows it, so joins still work.
func Example() {
	dir, _ := os.MkdirTemp("", "anonymize-example")
	defer os.RemoveAll(dir)
	prod := filepath.Join(dir, "prod.duckdb")
	db, _ := sql.Open("duckdb", prod)
	db.Exec(`CREATE TABLE customers AS SELECT i AS customer_id, 'user' || i || '@gmail.com' AS email,
	           '+91 98765 4321' || i AS phone FROM range(1, 4) t(i)`)
	db.Exec(`CREATE TABLE orders AS SELECT i AS order_id, 1 + i % 3 AS customer_id, 100.0 * i AS amount FROM range(1, 10) t(i)`)
	db.Close()

	policy, err := anonymize.ParsePolicy([]byte(`
tables:
  customers:
    primary_key: customer_id
    columns:
      customer_id: pseudonymize
      email: mask_email
      phone: mask_mobile
  orders:
    primary_key: order_id
    references: {customer_id: customers.customer_id}
    columns:
      amount: {keep: "order values are not personal"}
`), "policy.yml")
	if err != nil {
		fmt.Println(err)
		return
	}
	// In production: key, err := anonymize.KeyFromEnv("DATAOPS_ANON_KEY")
	key := []byte("example-key-0123456789abcdef")
	res, err := anonymize.Run(context.Background(), prod, filepath.Join(dir, "staging.duckdb"), policy, anonymize.Options{Key: key})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, t := range res.Tables {
		fmt.Println(t.Name, t.Rows)
	}
	fmt.Println("leaks:", len(res.Leaks.Hits), "protected columns checked:", len(res.Leaks.Protected))

	staging, _ := sql.Open("duckdb", filepath.Join(dir, "staging.duckdb"))
	defer staging.Close()
	var joined int
	staging.QueryRow(`SELECT count(*) FROM orders JOIN customers USING (customer_id)`).Scan(&joined)
	fmt.Println("orders joined to customers:", joined)
	// Output:
	// main.customers 3
	// main.orders 9
	// leaks: 0 protected columns checked: 2
	// orders joined to customers: 9
}

// ExampleParsePolicy shows how a policy error names the file and line.
func ExampleParsePolicy() {
	_, err := anonymize.ParsePolicy([]byte("tables:\n  customers:\n    columns:\n      email: mask_emial\n      city: {keep: \"\"}\n"), "anonymize.yml")
	fmt.Println(err)
	// Output:
	// anonymize.yml:4: table customers column email: unknown rule "mask_emial" (known: bucket, fake_address, fake_city, fake_first_name, fake_last_name, fake_name, generalize, keep, mask_aadhaar, mask_card, mask_email, mask_gstin, mask_mobile, mask_pan, mask_pin, mask_upi, noise, null, pseudonymize, redact, sql)
	// anonymize.yml:5: table customers column city: keep needs a reason: {keep: "why this column is safe"}
}
