package demo

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"
)

func openDB(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func generate(t testing.TB, db *sql.DB, opts Options) Stats {
	t.Helper()
	st, err := Generate(context.Background(), db, opts)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// fingerprints returns, per raw table, the row count and an md5 of all
// rows in primary-key order (the first column of every table).
func fingerprints(t *testing.T, db *sql.DB) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, tbl := range RawTables() {
		var pk string
		if err := db.QueryRow(`SELECT column_name FROM information_schema.columns
			WHERE table_schema = 'raw' AND table_name = ? AND ordinal_position = 1`, tbl).Scan(&pk); err != nil {
			t.Fatal(err)
		}
		var n int64
		var sum string
		q := fmt.Sprintf(`SELECT count(*), md5(string_agg(CAST(t AS VARCHAR), '|' ORDER BY %q)) FROM raw.%s AS t`, pk, tbl)
		if err := db.QueryRow(q).Scan(&n, &sum); err != nil {
			t.Fatal(err)
		}
		out[tbl] = fmt.Sprintf("%d:%s", n, sum)
	}
	return out
}

func TestGenerateIsDeterministic(t *testing.T) {
	a, b, c := openDB(t), openDB(t), openDB(t)
	generate(t, a, Options{Scale: 0.001, Seed: 7})
	generate(t, b, Options{Scale: 0.001, Seed: 7})
	generate(t, c, Options{Scale: 0.001, Seed: 8})
	fa, fb, fc := fingerprints(t, a), fingerprints(t, b), fingerprints(t, c)
	for _, tbl := range RawTables() {
		if fa[tbl] != fb[tbl] {
			t.Errorf("%s differs between two generations with the same seed: %s vs %s", tbl, fa[tbl], fb[tbl])
		}
	}
	// Reference tables do not depend on the seed; everything drawn does.
	for _, tbl := range []string{"customers", "products", "campaigns", "campaign_spend", "orders", "order_items", "payments", "returns", "inventory_movements"} {
		if fa[tbl] == fc[tbl] {
			t.Errorf("%s is the same for seeds 7 and 8", tbl)
		}
	}
	// Regenerating into the same database replaces the tables.
	generate(t, a, Options{Scale: 0.001, Seed: 7})
	if fa2 := fingerprints(t, a); fa2["orders"] != fa["orders"] || fa2["inventory_movements"] != fa["inventory_movements"] {
		t.Errorf("regeneration changed the data")
	}
	var temps int
	if err := a.QueryRow(`SELECT count(*) FROM duckdb_tables() WHERE temporary`).Scan(&temps); err != nil {
		t.Fatal(err)
	}
	if temps != 0 {
		t.Errorf("Generate left %d temporary tables behind", temps)
	}
}

// violations are queries that count rows breaking referential integrity or
// internal consistency; each must return 0.
var violations = []struct{ name, sql string }{
	// primary keys
	{"customers pk", `SELECT count(*) - count(DISTINCT customer_id) FROM raw.customers`},
	{"products pk", `SELECT count(*) - count(DISTINCT product_id) FROM raw.products`},
	{"products sku", `SELECT count(*) - count(DISTINCT sku) FROM raw.products`},
	{"orders pk", `SELECT count(*) - count(DISTINCT order_id) FROM raw.orders`},
	{"order_items pk", `SELECT count(*) - count(DISTINCT order_item_id) FROM raw.order_items`},
	{"payments pk", `SELECT count(*) - count(DISTINCT payment_id) FROM raw.payments`},
	{"returns pk", `SELECT count(*) - count(DISTINCT return_id) FROM raw.returns`},
	{"movements pk", `SELECT count(*) - count(DISTINCT movement_id) FROM raw.inventory_movements`},
	{"campaign_spend pk", `SELECT count(*) - count(DISTINCT spend_id) FROM raw.campaign_spend`},
	{"campaign_spend day", `SELECT count(*) - count(DISTINCT (campaign_id, spend_date)) FROM raw.campaign_spend`},

	// foreign keys
	{"orders.customer_id", `SELECT count(*) FROM raw.orders o ANTI JOIN raw.customers c USING (customer_id)`},
	{"orders.warehouse_id", `SELECT count(*) FROM raw.orders o ANTI JOIN raw.warehouses w USING (warehouse_id)`},
	{"orders.campaign_id", `SELECT count(*) FROM raw.orders o ANTI JOIN raw.campaigns c USING (campaign_id) WHERE o.campaign_id IS NOT NULL`},
	{"order_items.order_id", `SELECT count(*) FROM raw.order_items i ANTI JOIN raw.orders o USING (order_id)`},
	{"order_items.product_id", `SELECT count(*) FROM raw.order_items i ANTI JOIN raw.products p USING (product_id)`},
	{"products.category_id", `SELECT count(*) FROM raw.products p ANTI JOIN raw.categories c USING (category_id)`},
	{"products in leaf categories", `SELECT count(*) FROM raw.products p JOIN raw.categories c USING (category_id) WHERE c.parent_category_id IS NULL`},
	{"categories.parent", `SELECT count(*) FROM raw.categories c WHERE parent_category_id IS NOT NULL
		AND parent_category_id NOT IN (SELECT category_id FROM raw.categories)`},
	{"payments.order_id", `SELECT count(*) FROM raw.payments p ANTI JOIN raw.orders o USING (order_id)`},
	{"returns.order_id", `SELECT count(*) FROM raw.returns r ANTI JOIN raw.orders o USING (order_id)`},
	{"returns.order_item_id in its order", `SELECT count(*) FROM raw.returns r ANTI JOIN raw.order_items i USING (order_item_id, order_id)`},
	{"movements.warehouse_id", `SELECT count(*) FROM raw.inventory_movements m ANTI JOIN raw.warehouses w USING (warehouse_id)`},
	{"movements.product_id", `SELECT count(*) FROM raw.inventory_movements m ANTI JOIN raw.products p USING (product_id)`},
	{"movements.reference_id", `SELECT count(*) FROM raw.inventory_movements m WHERE reference_id IS NOT NULL
		AND reference_id NOT IN (SELECT order_item_id FROM raw.order_items)`},
	{"campaign_spend.campaign_id", `SELECT count(*) FROM raw.campaign_spend s ANTI JOIN raw.campaigns c USING (campaign_id)`},

	// time consistency
	{"data ends at as-of", `SELECT count(*) FROM raw.orders WHERE order_ts < DATE '2025-01-01' OR greatest(order_ts, shipped_at, delivered_at, cancelled_at, updated_at, _loaded_at) > TIMESTAMP '2026-01-01'`},
	{"order after signup", `SELECT count(*) FROM raw.orders o JOIN raw.customers c USING (customer_id) WHERE o.order_ts::DATE < c.signup_date`},
	{"product launched before sale", `SELECT count(*) FROM raw.order_items i JOIN raw.orders o USING (order_id) JOIN raw.products p USING (product_id) WHERE o.order_ts::DATE < p.launched_at`},
	{"campaign active at order", `SELECT count(*) FROM raw.orders o JOIN raw.campaigns c USING (campaign_id) WHERE o.order_ts::DATE NOT BETWEEN c.start_date AND c.end_date`},
	{"spend within campaign", `SELECT count(*) FROM raw.campaign_spend s JOIN raw.campaigns c USING (campaign_id) WHERE s.spend_date NOT BETWEEN c.start_date AND c.end_date`},
	{"event order", `SELECT count(*) FROM raw.orders WHERE shipped_at < order_ts OR delivered_at < shipped_at OR cancelled_at < order_ts`},
	{"status timestamps", `SELECT count(*) FROM raw.orders WHERE
		(status = 'placed' AND (shipped_at IS NOT NULL OR cancelled_at IS NOT NULL)) OR
		(status = 'shipped' AND (shipped_at IS NULL OR delivered_at IS NOT NULL)) OR
		(status IN ('delivered', 'returned') AND (delivered_at IS NULL OR shipped_at IS NULL)) OR
		(status = 'cancelled' AND (cancelled_at IS NULL OR shipped_at IS NOT NULL))`},
	{"returns after delivery", `SELECT count(*) FROM raw.returns r JOIN raw.orders o USING (order_id) WHERE o.status <> 'returned' OR r.returned_at <= o.delivered_at`},
	{"returned orders have returns", `SELECT count(*) FROM raw.orders o WHERE status = 'returned' AND order_id NOT IN (SELECT order_id FROM raw.returns)`},
	{"sales leave after shipping", `SELECT count(*) FROM raw.inventory_movements m JOIN raw.order_items i ON i.order_item_id = m.reference_id
		JOIN raw.orders o ON o.order_id = i.order_id WHERE m.movement_type = 'sale' AND (m.movement_ts <> o.shipped_at OR m.warehouse_id <> o.warehouse_id OR m.quantity <> -i.quantity)`},
	{"every shipped item leaves stock", `SELECT count(*) FROM raw.order_items i JOIN raw.orders o USING (order_id)
		WHERE o.shipped_at IS NOT NULL AND i.order_item_id NOT IN (SELECT reference_id FROM raw.inventory_movements WHERE movement_type = 'sale')`},

	// amounts
	{"items per order 1..5", `SELECT count(*) FROM (SELECT order_id, count(*) n FROM raw.order_items GROUP BY 1) WHERE n NOT BETWEEN 1 AND 5`},
	{"orders without items", `SELECT count(*) FROM raw.orders ANTI JOIN raw.order_items USING (order_id)`},
	{"order total", `SELECT count(*) FROM raw.orders o JOIN (SELECT order_id, sum(unit_price_inr * quantity - discount_inr) AS net FROM raw.order_items GROUP BY 1) i USING (order_id)
		WHERE o.order_total_inr <> i.net + o.shipping_fee_inr`},
	{"positive amounts", `SELECT (SELECT count(*) FROM raw.order_items WHERE unit_price_inr <= 0 OR discount_inr < 0 OR quantity < 1 OR discount_inr >= unit_price_inr * quantity)
		+ (SELECT count(*) FROM raw.payments WHERE amount_inr <= 0)
		+ (SELECT count(*) FROM raw.products WHERE NOT (0 < cost_inr AND cost_inr < selling_price_inr AND selling_price_inr <= mrp_inr))
		+ (SELECT count(*) FROM raw.campaign_spend WHERE spend_inr <= 0 OR clicks > impressions)`},
	{"delivered orders paid in full", `SELECT count(*) FROM raw.orders o LEFT JOIN (SELECT order_id,
		sum(CASE status WHEN 'success' THEN amount_inr WHEN 'refunded' THEN -amount_inr ELSE 0 END) AS net FROM raw.payments GROUP BY 1) p USING (order_id)
		WHERE o.status = 'delivered' AND coalesce(p.net, 0) <> o.order_total_inr`},
	{"refunds match returns", `SELECT count(*) FROM (SELECT order_id, sum(amount_inr) AS refunded FROM raw.payments WHERE status = 'refunded' GROUP BY 1) p
		JOIN raw.orders o USING (order_id) LEFT JOIN (SELECT order_id, sum(refund_amount_inr) r FROM raw.returns GROUP BY 1) r USING (order_id)
		WHERE (o.status = 'returned' AND p.refunded <> r.r) OR (o.status = 'cancelled' AND p.refunded <> o.order_total_inr) OR o.status NOT IN ('returned', 'cancelled')`},
	{"money is DECIMAL(12,2)", `SELECT count(*) FROM information_schema.columns WHERE table_schema = 'raw' AND column_name LIKE '%_inr' AND data_type <> 'DECIMAL(12,2)'`},
	{"_loaded_at everywhere", `SELECT 11 - count(*) FROM information_schema.columns WHERE table_schema = 'raw' AND column_name = '_loaded_at' AND data_type = 'TIMESTAMP'`},

	// addresses and contacts
	{"pincode digits", `SELECT count(*) FROM (SELECT pincode FROM raw.customers UNION ALL SELECT ship_pincode FROM raw.orders) WHERE NOT regexp_full_match(pincode, '[1-8][0-9]{5}')`},
	{"pincode matches city", `SELECT count(*) FROM (SELECT city, count(DISTINCT left(pincode, 3)) n FROM raw.customers GROUP BY 1) WHERE n > 1`},
	{"one state per city", `SELECT count(*) FROM (SELECT ship_city, count(DISTINCT ship_state) n FROM raw.orders GROUP BY 1) WHERE n > 1`},
	{"phone +91 and 10 digits", `SELECT count(*) FROM raw.customers WHERE NOT regexp_full_match(replace(phone, ' ', ''), '\+91[6-9][0-9]{9}')`},
	{"email", `SELECT count(*) FROM raw.customers WHERE NOT regexp_full_match(lower(email), '[a-z]+\.[a-z]+[0-9]+@[a-z.]+')`},
}

func TestGenerateIntegrity(t *testing.T) {
	db := openDB(t)
	generate(t, db, Options{Scale: 0.002, Seed: DefaultSeed})
	for _, v := range violations {
		var n int64
		if err := db.QueryRow(v.sql).Scan(&n); err != nil {
			t.Errorf("%s: %v", v.name, err)
			continue
		}
		if n != 0 {
			t.Errorf("%s: %d violations", v.name, n)
		}
	}
}

func TestGenerateShares(t *testing.T) {
	db := openDB(t)
	generate(t, db, Options{Scale: 0.01, Seed: DefaultSeed})
	share := func(q string) float64 {
		t.Helper()
		var f float64
		if err := db.QueryRow(q).Scan(&f); err != nil {
			t.Fatal(err)
		}
		return f
	}
	checks := []struct {
		name     string
		q        string
		min, max float64
	}{
		{"UPI share", `SELECT avg((payment_method = 'UPI')::INT) FROM raw.orders`, 0.45, 0.55},
		{"COD share", `SELECT avg((payment_method = 'COD')::INT) FROM raw.orders`, 0.18, 0.26},
		{"delivered share", `SELECT avg((status = 'delivered')::INT) FROM raw.orders`, 0.78, 0.90},
		{"cancelled share", `SELECT avg((status = 'cancelled')::INT) FROM raw.orders`, 0.05, 0.11},
		{"returned share", `SELECT avg((status = 'returned')::INT) FROM raw.orders`, 0.04, 0.10},
		{"app share", `SELECT avg((channel = 'app')::INT) FROM raw.orders`, 0.62, 0.74},
		{"items per order", `SELECT count(*) / (SELECT count(*) FROM raw.orders) FROM raw.order_items`, 2.3, 2.7},
		{"campaign attributed", `SELECT avg((campaign_id IS NOT NULL)::INT) FROM raw.orders`, 0.12, 0.25},
		{"failed payment attempts", `SELECT avg((status = 'failed')::INT) FROM raw.payments`, 0.03, 0.10},
		{"Q4 busier than Q1", `SELECT count(*) FILTER (WHERE quarter(order_ts) = 4) / count(*) FILTER (WHERE quarter(order_ts) = 1) FROM raw.orders`, 1.1, 1.8},
	}
	for _, c := range checks {
		if got := share(c.q); got < c.min || got > c.max {
			t.Errorf("%s = %.3f, want [%v, %v]", c.name, got, c.min, c.max)
		}
	}
}

func TestGenerateScales(t *testing.T) {
	small, big := openDB(t), openDB(t)
	s1 := generate(t, small, Options{Scale: 0.001, Seed: 3})
	s2 := generate(t, big, Options{Scale: 0.004, Seed: 3})
	if s1.Rows["orders"] != 1000 || s2.Rows["orders"] != 4000 {
		t.Fatalf("orders = %d, %d; want 1000, 4000", s1.Rows["orders"], s2.Rows["orders"])
	}
	if s1.Rows["customers"] != 200 || s2.Rows["customers"] != 800 {
		t.Errorf("customers = %d, %d; want 200, 800", s1.Rows["customers"], s2.Rows["customers"])
	}
	for _, tbl := range []string{"order_items", "payments", "inventory_movements"} {
		r := float64(s2.Rows[tbl]) / float64(s1.Rows[tbl])
		if r < 3.3 || r > 4.7 {
			t.Errorf("%s grows %.2fx for 4x the scale", tbl, r)
		}
	}
	if s1.Rows["categories"] != s2.Rows["categories"] || s1.Rows["warehouses"] != 5 {
		t.Errorf("reference tables should not scale: %v / %v", s1.Rows, s2.Rows)
	}
	var total int64
	for _, tbl := range RawTables() {
		if s1.Rows[tbl] == 0 {
			t.Errorf("%s is empty", tbl)
		}
		total += s1.Rows[tbl]
	}
	if s1.Total() != total {
		t.Errorf("Total() = %d, want %d", s1.Total(), total)
	}
}

func TestGenerateOptions(t *testing.T) {
	db := openDB(t)
	for _, bad := range []float64{-1, 1e9} {
		if _, err := Generate(context.Background(), db, Options{Scale: bad}); err == nil {
			t.Errorf("scale %v accepted", bad)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Generate(ctx, db, Options{Scale: 0.001}); err == nil {
		t.Errorf("Generate ran with a cancelled context")
	}
	st := generate(t, db, Options{}) // zero Scale means DefaultScale
	if st.Rows["orders"] != 10_000 {
		t.Errorf("default scale gave %d orders, want 10000", st.Rows["orders"])
	}
}

func TestProjectFS(t *testing.T) {
	p := Project()
	for _, f := range []string{"dbt_project.yml", "models/staging/_sources.yml", "seeds/_seeds.yml", "seeds/state_regions.csv",
		"macros/money.sql", "models/marts/mart_daily_sales.sql", "models/ml/ml_customer_segments.sql"} {
		if _, err := fs.Stat(p, f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	// Every raw table is declared as a source.
	b, _ := fs.ReadFile(p, "models/staging/_sources.yml")
	for _, tbl := range RawTables() {
		if !strings.Contains(string(b), "- name: "+tbl+"\n") {
			t.Errorf("source raw.%s is not declared", tbl)
		}
		if _, err := fs.Stat(p, "models/staging/stg_"+tbl+".sql"); err != nil {
			t.Errorf("no staging model for raw.%s", tbl)
		}
	}
}

// BenchmarkGenerate measures generation at $VB_BENCH_SCALE (default 0.1,
// 100,000 orders); set it to 1 for the full million-order data set.
func BenchmarkGenerate(b *testing.B) {
	scale := 0.1
	if s := os.Getenv("VB_BENCH_SCALE"); s != "" {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			b.Fatal(err)
		}
		scale = v
	}
	db := openDB(b)
	var st Stats
	for b.Loop() {
		st = generate(b, db, Options{Scale: scale, Seed: DefaultSeed})
	}
	b.ReportMetric(float64(st.Rows["orders"])*float64(b.N)/b.Elapsed().Seconds(), "orders/s")
	b.ReportMetric(float64(st.Total()), "rows")
}

func ExampleGenerate() {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		panic(err)
	}
	defer db.Close()
	st, err := Generate(context.Background(), db, Options{Scale: 0.001, Seed: 42})
	if err != nil {
		panic(err)
	}
	fmt.Println("orders:", st.Rows["orders"], "customers:", st.Rows["customers"])

	var upi int
	_ = db.QueryRow(`SELECT count(*) FROM raw.orders WHERE payment_method = 'UPI'`).Scan(&upi)
	fmt.Println("UPI is the most used method:", upi > 400)
	// Output:
	// orders: 1000 customers: 200
	// UPI is the most used method: true
}

func ExampleProject() {
	entries, _ := fs.ReadDir(Project(), "models")
	for _, e := range entries {
		fmt.Println(e.Name())
	}
	// Output:
	// intermediate
	// marts
	// ml
	// staging
}
