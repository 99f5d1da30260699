package anonymize

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/stretchr/testify/require"
)

var testKey = []byte("test-key-0123456789-abcdefghijkl")

// makeDB creates a DuckDB file in a temp dir with stmts run in order.
func makeDB(t *testing.T, stmts ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "prod.duckdb")
	db, err := sql.Open("duckdb", path)
	require.NoError(t, err)
	defer db.Close()
	for _, q := range stmts {
		_, err := db.Exec(q)
		require.NoError(t, err, q)
	}
	return path
}

// shopDB is a small shop with customers, orders, payments and a
// reference table.
func shopDB(t *testing.T) string {
	return makeDB(t,
		`CREATE SCHEMA raw`,
		`CREATE TABLE raw.customers AS SELECT i::BIGINT AS customer_id,
		   (['Priya','Rahul','Ananya','Arjun','Meera'])[1 + i % 5] AS first_name,
		   (['Sharma','Iyer','Das','Patel'])[1 + i % 4] AS last_name,
		   'cust' || i || '@' || (CASE WHEN i % 3 = 0 THEN 'gmail.com' ELSE 'acme-corp.in' END) AS email,
		   CASE WHEN i % 2 = 0 THEN '+91 98' || lpad((i * 7919 % 1000)::VARCHAR, 3, '0') || ' ' || lpad(i::VARCHAR, 5, '0')
		        ELSE '+9198' || lpad((i * 7919 % 1000)::VARCHAR, 3, '0') || lpad(i::VARCHAR, 5, '0') END AS phone,
		   'ABCP' || chr((65 + i % 26)::INTEGER) || lpad((i % 10000)::VARCHAR, 4, '0') || 'K' AS pan,
		   '2345 6789 ' || lpad(i::VARCHAR, 4, '0') AS aadhaar,
		   '27ABCDE' || lpad(i::VARCHAR, 4, '0') || 'F1Z5' AS gstin,
		   (400000 + i % 900)::VARCHAR AS pincode,
		   'cust' || i || '@okaxis' AS upi,
		   '4111 1111 1111 ' || lpad((1000 + i)::VARCHAR, 4, '0') AS card,
		   (['Pune','Delhi','Chennai'])[1 + i % 3] AS city,
		   i || ', Nehru Street, Pune' AS address,
		   DATE '2024-01-01' + (i % 300)::INTEGER AS signup_date,
		   (18 + i % 50)::INTEGER AS age
		 FROM range(1, 201) t(i)`,
		`CREATE TABLE raw.categories AS SELECT i::INTEGER AS category_id, 'Cat ' || i AS label FROM range(1, 6) t(i)`,
		`CREATE TABLE raw.orders AS SELECT i::BIGINT AS order_id, (1 + i % 200)::BIGINT AS customer_id,
		   (1 + i % 5)::INTEGER AS category_id, (100 + i % 997)::DECIMAL(12,2) AS amount,
		   TIMESTAMP '2024-03-01 10:00:00' + to_hours(i::BIGINT) AS order_ts
		 FROM range(1, 1001) t(i)`,
		`CREATE TABLE raw.payments AS SELECT i::BIGINT AS payment_id, (1 + i % 1000)::BIGINT AS order_id,
		   (100 + i % 997)::DECIMAL(12,2) AS paid_inr FROM range(1, 1501) t(i)`,
	)
}

const shopPolicy = `schema: raw
schemas: [raw]
tables:
  customers:
    primary_key: customer_id
    columns:
      customer_id: pseudonymize
      first_name: fake_first_name
      last_name: fake_last_name
      email: mask_email
      phone: mask_mobile
      pan: mask_pan
      aadhaar: mask_aadhaar
      gstin: mask_gstin
      pincode: mask_pin
      upi: mask_upi
      card: mask_card
      city: fake_city
      address: fake_address
      signup_date: {generalize: month}
      age: {bucket: [0, 18, 25, 35, 50]}
  categories:
    primary_key: category_id
  orders:
    primary_key: order_id
    references:
      customer_id: customers.customer_id
      category_id: categories.category_id
    columns:
      amount: {noise: 10}
  payments:
    primary_key: payment_id
    references: {order_id: orders.order_id}
    columns:
      paid_inr: {keep: "amounts are not personal"}
`

func mustPolicy(t *testing.T, y string) *Policy {
	t.Helper()
	p, err := ParsePolicy([]byte(y), "policy.yml")
	require.NoError(t, err)
	return p
}

// q runs one query on a DuckDB file (read-only) and returns the rows as
// strings.
func q(t *testing.T, path, query string) [][]string {
	t.Helper()
	db, err := sql.Open("duckdb", path+"?access_mode=read_only")
	require.NoError(t, err)
	defer db.Close()
	rows, err := db.QueryContext(context.Background(), "SELECT COLUMNS(*)::VARCHAR FROM ("+query+")")
	require.NoError(t, err, query)
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		require.NoError(t, rows.Scan(ptrs...))
		row := make([]string, len(cols))
		for i, v := range vals {
			if v.Valid {
				row[i] = v.String
			} else {
				row[i] = "NULL"
			}
		}
		out = append(out, row)
	}
	require.NoError(t, rows.Err())
	return out
}

func q1(t *testing.T, path, query string) string {
	t.Helper()
	r := q(t, path, query)
	require.Len(t, r, 1)
	return r[0][0]
}
