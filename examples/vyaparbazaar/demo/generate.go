package demo

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"hash/fnv"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// DefaultScale is the scale the demo uses when Options.Scale is zero: about
// 10,000 orders.
const DefaultScale = 0.01

// DefaultSeed is the seed the demo uses by default.
const DefaultSeed int64 = 42

// RawSchema is the schema Generate writes to.
const RawSchema = "raw"

// The generated data covers one calendar year of trading, AnchorDate to
// AsOf (exclusive). Every timestamp in the data is at or before AsOf.
const (
	AnchorDate = "2025-01-01"
	EndDate    = "2025-12-31"
	AsOf       = "2026-01-01 00:00:00"
)

// Options sizes and seeds the generated data set.
type Options struct {
	// Scale 1.0 is about 1,000,000 orders (and 2.5 M order items, 200,000
	// customers, 20,000 products). Zero means DefaultScale.
	Scale float64
	// Seed selects the data set: the same Scale and Seed give byte-identical
	// tables.
	Seed int64
}

// Stats describes a generated data set.
type Stats struct {
	// Rows maps each raw table name (without schema) to its row count.
	Rows map[string]int64
	// Duration is the wall time Generate took.
	Duration time.Duration
}

// Total returns the number of rows over all tables.
func (s Stats) Total() int64 {
	var n int64
	for _, v := range s.Rows {
		n += v
	}
	return n
}

// RawTables returns the names of the tables Generate creates in schema raw,
// in the order they are generated.
func RawTables() []string {
	return []string{
		"customers", "categories", "products", "warehouses",
		"campaigns", "campaign_spend", "orders", "order_items",
		"payments", "returns", "inventory_movements",
	}
}

// sizes are the row targets derived from Options.Scale.
type sizes struct {
	orders, customers, products, campaigns int64
}

func sizesFor(scale float64) sizes {
	r := func(x float64, min int64) int64 {
		n := int64(math.Round(x))
		if n < min {
			return min
		}
		return n
	}
	o := r(1_000_000*scale, 100)
	return sizes{
		orders:    o,
		customers: r(0.2*float64(o), 20),
		products:  r(20_000*scale, 50),
		campaigns: r(240*scale, 12),
	}
}

// Generate (re)creates schema raw and its tables in db with a deterministic
// synthetic data set of an Indian e-commerce marketplace: customers,
// categories, products, warehouses, campaigns and their daily spend, orders,
// order items, payments, returns and inventory movements for calendar year
// 2025. The rows are produced inside DuckDB from range() and hash(), so a
// million orders take seconds; previous tables of the same names are
// replaced. The statements run one by one on a single connection (a single
// transaction would make DuckDB about a third slower), so if Generate fails
// schema raw may hold a mix of old and new tables: run it again.
func Generate(ctx context.Context, db *sql.DB, opts Options) (Stats, error) {
	start := time.Now()
	if opts.Scale == 0 {
		opts.Scale = DefaultScale
	}
	if opts.Scale < 0 || math.IsNaN(opts.Scale) || math.IsInf(opts.Scale, 0) || opts.Scale > 1000 {
		return Stats{}, fmt.Errorf("demo: scale %v out of range (0, 1000]", opts.Scale)
	}
	sz := sizesFor(opts.Scale)

	conn, err := db.Conn(ctx)
	if err != nil {
		return Stats{}, fmt.Errorf("demo: connection: %w", err)
	}
	defer func() {
		// Temporary tables and macros live on this connection: drop it
		// rather than hand it back to the pool, whatever happened.
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		_ = conn.Close()
	}()

	for _, st := range generationSteps(opts.Seed, sz) {
		if _, err := conn.ExecContext(ctx, st.sql); err != nil {
			return Stats{}, fmt.Errorf("demo: generate %s: %w", st.name, err)
		}
	}
	stats := Stats{Rows: map[string]int64{}}
	for _, t := range RawTables() {
		var n int64
		q := fmt.Sprintf(`SELECT count(*) FROM %s.%s`, RawSchema, t)
		if err := conn.QueryRowContext(ctx, q).Scan(&n); err != nil {
			return Stats{}, fmt.Errorf("demo: count %s: %w", t, err)
		}
		stats.Rows[t] = n
	}
	for _, st := range cleanupSteps() {
		if _, err := conn.ExecContext(ctx, st); err != nil {
			return Stats{}, fmt.Errorf("demo: cleanup: %w", err)
		}
	}
	stats.Duration = time.Since(start)
	return stats, nil
}

type step struct {
	name string
	sql  string
}

var tempTables = []string{
	"_vb_cities", "_vb_city_bag", "_vb_first", "_vb_last", "_vb_last_n", "_vb_cat", "_vb_cat_bag",
	"_vb_days", "_vb_tod", "_vb_fest", "_vb_coupons", "_vb_cust", "_vb_prod", "_vb_camp",
	"_vb_camp_days", "_vb_camp_n", "_vb_o0", "_vb_ord", "_vb_ord_tot",
}

func cleanupSteps() []string {
	var out []string
	for _, t := range tempTables {
		out = append(out, "DROP TABLE IF EXISTS temp."+t)
	}
	return append(out, "DROP MACRO IF EXISTS temp._vb_u", "DROP MACRO IF EXISTS temp._vb_u2", "DROP MACRO IF EXISTS temp._vb_h")
}

// sqlStr quotes s as an SQL string literal.
func sqlStr(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// sqlList renders a VARCHAR[] literal.
func sqlList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = sqlStr(x)
	}
	return "([" + strings.Join(q, ", ") + "]::VARCHAR[])"
}

func ff(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

// bag spreads weights over n slots (largest remainder), returning for each
// slot the index of the item that owns it: drawing a uniform slot then picks
// items in proportion to their weights with a plain equi-join.
func bag(weights []float64, n int) []int {
	var total float64
	for _, w := range weights {
		total += w
	}
	out := make([]int, 0, n)
	cum := 0.0
	prev := 0
	for i, w := range weights {
		cum += w
		end := int(math.Round(cum / total * float64(n)))
		if i == len(weights)-1 {
			end = n
		}
		for ; prev < end; prev++ {
			out = append(out, i)
		}
	}
	return out
}

func bagSQL(table, col string, idx []int, ids func(int) string) string {
	vals := make([]string, len(idx))
	for s, i := range idx {
		vals[s] = fmt.Sprintf("(%d, %s)", s, ids(i))
	}
	return fmt.Sprintf("CREATE TEMP TABLE %s(slot INTEGER, %s INTEGER);\nINSERT INTO %s VALUES %s", table, col, table, strings.Join(vals, ", "))
}

// splitmix64 is the Go-side pseudo-random function for the small plan
// tables (days and time-of-day), so that their cumulative sums are exact.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func goUniform(seed int64, stream, i uint64) float64 {
	h := splitmix64(splitmix64(uint64(seed)^stream*0x2545f4914f6cdd1d) ^ i)
	return float64(h>>11) / (1 << 53)
}

// dayPlan is one day of the anchor year.
type dayPlan struct {
	idx         int
	date        time.Time
	orders      int64
	cumStart    int64 // orders before this day
	custKnown   int64 // customers signed up by this day (ids 1..custKnown)
	custKnown30 int64 // customers signed up by 30 days earlier
	prodKnown   int64 // products launched by this day (ids 1..prodKnown)
	festival    int   // index into festivals, -1 for none
}

func anchorTime() time.Time {
	t, _ := time.Parse(time.DateOnly, AnchorDate)
	return t
}

func asOfTime() time.Time {
	t, _ := time.Parse(time.DateTime, AsOf)
	return t
}

func planDays(seed int64, sz sizes) []dayPlan {
	anchor := anchorTime()
	type fw struct {
		s, e time.Time
		lift float64
	}
	fws := make([]fw, len(festivals))
	for i, f := range festivals {
		s, _ := time.Parse(time.DateOnly, f.Start)
		e, _ := time.Parse(time.DateOnly, f.End)
		fws[i] = fw{s, e, f.Lift}
	}
	const days = 365
	plans := make([]dayPlan, days)
	weights := make([]float64, days)
	var total float64
	for i := range days {
		d := anchor.AddDate(0, 0, i)
		w := 1 + 0.35*float64(i)/float64(days-1) // growth over the year
		if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
			w *= 1.12
		}
		if d.Day() <= 5 { // salary week
			w *= 1.08
		}
		fest := -1
		lift := 1.0
		for j, f := range fws {
			if !d.Before(f.s) && !d.After(f.e) && f.lift > lift {
				fest, lift = j, f.lift
			}
		}
		w *= lift
		// float64() keeps the compiler from fusing multiply and add (it
		// may on arm64), which would change the plan across platforms.
		w *= 0.92 + float64(0.16*goUniform(seed, 1, uint64(i)))
		weights[i] = w
		total += w
		plans[i] = dayPlan{idx: i, date: d, festival: fest}
	}
	// Orders per day by largest remainder on the cumulative weight, so the
	// days add up to exactly sz.orders.
	cum := 0.0
	var prev int64
	for i := range plans {
		cum += weights[i]
		end := int64(math.Floor(cum / total * float64(sz.orders)))
		if i == days-1 {
			end = sz.orders
		}
		plans[i].cumStart = prev
		plans[i].orders = end - prev
		prev = end
	}
	// Customers sign up evenly over 2023-01-01 .. 2025-12-31 (1096 days),
	// in id order: customer i signs up on day (i-1)*1096/N.
	pOld := sz.products * 4 / 5
	pNew := sz.products - pOld
	for i := range plans {
		dd := int64(731 + i) // days since 2023-01-01
		plans[i].custKnown = min(sz.customers, ((dd+1)*sz.customers+1095)/1096)
		plans[i].custKnown30 = min(plans[i].custKnown-1, ((dd-29)*sz.customers+1095)/1096)
		t := int64(i)
		plans[i].prodKnown = pOld + min(pNew, ((t+1)*pNew+333)/334)
	}
	return plans
}

// timeOfDay returns 1001 boundaries (seconds after midnight) of the inverse
// CDF of the hour-of-day order curve (IST), at fractions 0, 0.001, ... 1.
func timeOfDay() []float64 {
	hours := []float64{0.8, 0.4, 0.25, 0.2, 0.2, 0.3, 0.6, 1.2, 1.8, 2.4, 3.0, 3.4,
		3.6, 3.8, 3.6, 3.4, 3.4, 3.6, 4.0, 4.6, 5.2, 5.6, 4.6, 2.6}
	var total float64
	for _, h := range hours {
		total += h
	}
	out := make([]float64, 1001)
	h, cumLo := 0, 0.0
	for s := 0; s <= 1000; s++ {
		target := float64(s) / 1000 * total
		for h < 23 && cumLo+hours[h] < target {
			cumLo += hours[h]
			h++
		}
		frac := (target - cumLo) / hours[h]
		out[s] = math.Min(86399.999, (float64(h)+math.Min(frac, 1))*3600)
	}
	return out
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func generationSteps(seed int64, sz sizes) []step {
	plans := planDays(seed, sz)
	pOld := sz.products * 4 / 5
	pNew := sz.products - pOld
	permA := int64(1_000_003)
	for gcd(permA, sz.products) != 1 {
		permA += 2
	}
	permB := int64(splitmix64(uint64(seed)) % uint64(sz.products))

	// Campaign budgets: marketing spend is about Rs 180 per order overall.
	budgetBase := 180 * float64(sz.orders) / float64(sz.campaigns)

	vars := map[string]string{
		"n_orders":    strconv.FormatInt(sz.orders, 10),
		"n_cust":      strconv.FormatInt(sz.customers, 10),
		"n_prod":      strconv.FormatInt(sz.products, 10),
		"p_old":       strconv.FormatInt(pOld, 10),
		"p_new":       strconv.FormatInt(max(pNew, 1), 10),
		"n_camp":      strconv.FormatInt(sz.campaigns, 10),
		"n_first":     strconv.Itoa(len(firstNames)),
		"n_domains":   strconv.Itoa(len(emailDomains)),
		"n_fest":      strconv.Itoa(len(festivals)),
		"n_coupons":   strconv.Itoa(len(genericCoupons)),
		"n_wh":        strconv.Itoa(len(warehouses)),
		"pin_span":    strconv.Itoa(pinSpan),
		"perm_a":      strconv.FormatInt(permA, 10),
		"perm_b":      strconv.FormatInt(permB, 10),
		"budget_base": ff(math.Round(budgetBase*100) / 100),
		"as_of":       "TIMESTAMP '" + AsOf + "'",
		"as_of_us":    strconv.FormatInt(asOfTime().UnixMicro(), 10),
		"anchor_us":   strconv.FormatInt(anchorTime().UnixMicro(), 10),
		"anchor":      "DATE '" + AnchorDate + "'",
		"end_date":    "DATE '" + EndDate + "'",
		"adjectives":  sqlList([]string{"Classic", "Premium", "Essential", "Pro", "Ultra", "Lite", "Max", "Neo", "Prime", "Eco", "Plus", "Elite"}),
		"month_theme": sqlList(monthThemes),
		"domains":     sqlList(emailDomains),
	}
	expand := func(s string) string { return streamConsts(seed, expandVars(s, vars)) }

	var steps []step
	add := func(name, sql string) { steps = append(steps, step{name, expand(sql)}) }

	add("macros", `
CREATE SCHEMA IF NOT EXISTS raw;
CREATE OR REPLACE TEMP MACRO _vb_h(c, i) AS hash(xor(i::BIGINT, c));
CREATE OR REPLACE TEMP MACRO _vb_u(c, i) AS ((hash(xor(i::BIGINT, c)) >> 11)::DOUBLE / 9007199254740992.0);
CREATE OR REPLACE TEMP MACRO _vb_u2(c, i, j) AS ((hash(xor(hash(xor(i::BIGINT, c)), j::UBIGINT)) >> 11)::DOUBLE / 9007199254740992.0)`)

	// Reference tables from Go.
	var cityRows []string
	var cityW []float64
	for i, c := range cities {
		cityRows = append(cityRows, fmt.Sprintf("(%d, %s, %s, %s, %d, %d, %d)", i, sqlStr(c.Name), sqlStr(c.State), sqlStr(c.Region), c.PinBase, c.Tier, c.Warehouse))
		cityW = append(cityW, c.Weight)
	}
	add("cities", `CREATE TEMP TABLE _vb_cities(city_idx INTEGER, city VARCHAR, state VARCHAR, region VARCHAR, pin_base INTEGER, tier INTEGER, warehouse_id INTEGER);
INSERT INTO _vb_cities VALUES `+strings.Join(cityRows, ", "))
	add("city_bag", bagSQL("_vb_city_bag", "city_idx", bag(cityW, 1000), strconv.Itoa))

	var fn []string
	for i, n := range firstNames {
		fn = append(fn, fmt.Sprintf("(%d, %s)", i, sqlStr(n)))
	}
	var ln, lnN []string
	for _, r := range lastNameRegions {
		for i, n := range lastNames[r] {
			ln = append(ln, fmt.Sprintf("(%s, %d, %s)", sqlStr(r), i, sqlStr(n)))
		}
		lnN = append(lnN, fmt.Sprintf("(%s, %d)", sqlStr(r), len(lastNames[r])))
	}
	add("names", `CREATE TEMP TABLE _vb_first(idx INTEGER, name VARCHAR);
INSERT INTO _vb_first VALUES `+strings.Join(fn, ", ")+`;
CREATE TEMP TABLE _vb_last(region VARCHAR, idx INTEGER, name VARCHAR);
INSERT INTO _vb_last VALUES `+strings.Join(ln, ", ")+`;
CREATE TEMP TABLE _vb_last_n(region VARCHAR, n INTEGER);
INSERT INTO _vb_last_n VALUES `+strings.Join(lnN, ", "))

	var catRows, leafRows []string
	var leafW []float64
	var leafIDs []int
	for _, c := range categories {
		parent := "NULL"
		if c.Parent != 0 {
			parent = strconv.Itoa(c.Parent)
		}
		catRows = append(catRows, fmt.Sprintf("(%d, %s, %s)", c.ID, sqlStr(c.Name), parent))
		if c.Parent == 0 {
			continue
		}
		leafRows = append(leafRows, fmt.Sprintf("(%d, %d, %s, %s, %s, %s, %s, %s, %s, %s, %v, %s, %d, %s, %s, %s)",
			c.ID, c.Parent, sqlStr(c.Code), ff(c.PriceMin), ff(c.PriceMax), ff(c.DiscLo), ff(c.DiscHi),
			ff(c.MarginLo), ff(c.MarginHi), ff(c.GST), c.GSTLow, ff(c.SaleExtra), c.QtyMax,
			sqlList(c.Brands), sqlList(c.Nouns), sqlList(c.Variants)))
		leafW = append(leafW, c.Weight)
		leafIDs = append(leafIDs, c.ID)
	}
	add("categories", `CREATE TEMP TABLE _vb_cat(category_id INTEGER, parent_id INTEGER, code VARCHAR, price_min DOUBLE, price_max DOUBLE,
  disc_lo DOUBLE, disc_hi DOUBLE, margin_lo DOUBLE, margin_hi DOUBLE, gst DOUBLE, gst_low BOOLEAN, sale_extra DOUBLE, qty_max INTEGER,
  brands VARCHAR[], nouns VARCHAR[], variants VARCHAR[]);
INSERT INTO _vb_cat VALUES `+strings.Join(leafRows, ",\n")+`;
CREATE OR REPLACE TABLE raw.categories AS
SELECT category_id::INTEGER AS category_id, name::VARCHAR AS name, parent_category_id::INTEGER AS parent_category_id,
       TIMESTAMP '2024-12-31 22:00:00' AS _loaded_at
FROM (VALUES `+strings.Join(catRows, ", ")+`) t(category_id, name, parent_category_id)
ORDER BY category_id`)
	add("category_bag", bagSQL("_vb_cat_bag", "category_id", bag(leafW, 1000), func(i int) string { return strconv.Itoa(leafIDs[i]) }))

	var whRows []string
	for _, w := range warehouses {
		whRows = append(whRows, fmt.Sprintf("(%d, %s, %s, %s, %s, %s, DATE '%s')", w.ID, sqlStr(w.Code), sqlStr(w.Name), sqlStr(w.City), sqlStr(w.State), sqlStr(w.Pincode), w.Opened))
	}
	add("warehouses", `CREATE OR REPLACE TABLE raw.warehouses AS
SELECT warehouse_id::INTEGER AS warehouse_id, code::VARCHAR AS code, name::VARCHAR AS name, city::VARCHAR AS city,
       state::VARCHAR AS state, pincode::VARCHAR AS pincode, opened_on::DATE AS opened_on,
       TIMESTAMP '2024-12-31 22:00:00' AS _loaded_at
FROM (VALUES `+strings.Join(whRows, ", ")+`) t(warehouse_id, code, name, city, state, pincode, opened_on)
ORDER BY warehouse_id`)

	var festRows []string
	for i, f := range festivals {
		festRows = append(festRows, fmt.Sprintf("(%d, %s, %s, DATE '%s', DATE '%s')", i, sqlStr(f.Name), sqlStr(f.Code), f.Start, f.End))
	}
	add("festivals", `CREATE TEMP TABLE _vb_fest(idx INTEGER, name VARCHAR, code VARCHAR, start_date DATE, end_date DATE);
INSERT INTO _vb_fest VALUES `+strings.Join(festRows, ", "))
	var cpRows []string
	for i, c := range genericCoupons {
		cpRows = append(cpRows, fmt.Sprintf("(%d, %s, %d)", i, sqlStr(c.Code), c.Pct))
	}
	add("coupons", `CREATE TEMP TABLE _vb_coupons(idx INTEGER, code VARCHAR, pct INTEGER);
INSERT INTO _vb_coupons VALUES `+strings.Join(cpRows, ", "))

	var dayRows []string
	for _, p := range plans {
		dayRows = append(dayRows, fmt.Sprintf("(%d, DATE '%s', %d, %d, %d, %d, %d, %d, %v)",
			p.idx, p.date.Format(time.DateOnly), p.date.UnixMicro(), p.orders, p.cumStart, p.custKnown, p.custKnown30, p.prodKnown, p.festival >= 0))
	}
	add("days", `CREATE TEMP TABLE _vb_days(day_idx INTEGER, day DATE, day_us BIGINT, n_orders BIGINT, cum_start BIGINT, k_cust BIGINT, k_cust30 BIGINT, k_prod BIGINT, is_sale BOOLEAN);
INSERT INTO _vb_days VALUES `+strings.Join(dayRows, ", "))
	tod := timeOfDay()
	var todRows []string
	for s := 0; s < 1000; s++ {
		todRows = append(todRows, fmt.Sprintf("(%d, %s, %s)", s, ff(math.Round(tod[s]*1000)/1000), ff(math.Round(tod[s+1]*1000)/1000)))
	}
	add("time_of_day", `CREATE TEMP TABLE _vb_tod(slot INTEGER, sec_lo DOUBLE, sec_hi DOUBLE);
INSERT INTO _vb_tod VALUES `+strings.Join(todRows, ", "))

	add("customers", sqlCustomers)
	add("products", sqlProducts)
	add("campaigns", sqlCampaigns)
	add("orders_plan", sqlOrdersPlan)
	add("order_items", sqlOrderItems)
	add("orders", sqlOrders)
	add("returns", sqlReturns)
	add("payments", sqlPayments)
	add("inventory_movements", sqlInventory)
	return steps
}

// streamRE matches a random-stream call such as _vb_u('o_cust', ...).
var streamRE = regexp.MustCompile(`(_vb_u2?|_vb_h)\('([a-z0-9_]+)',`)

// streamConsts replaces each stream name with its 63-bit constant derived
// from the seed and the name. The row key is XORed with that constant and
// hashed once (DuckDB's hash of a BIGINT is a strong 64-bit mixer), so
// streams are independent of each other; DuckDB's multi-argument hash()
// combines its arguments almost linearly and would correlate them.
func streamConsts(seed int64, sql string) string {
	return streamRE.ReplaceAllStringFunc(sql, func(m string) string {
		sub := streamRE.FindStringSubmatch(m)
		h := fnv.New64a()
		h.Write([]byte(sub[2]))
		c := splitmix64(splitmix64(uint64(seed))^h.Sum64()) >> 1
		return fmt.Sprintf("%s(%d::BIGINT,", sub[1], c)
	})
}

// expandVars replaces ${name} with vars[name]; unknown names panic, since
// they are programming errors in the SQL below.
func expandVars(s string, vars map[string]string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			panic("demo: unterminated ${ in SQL")
		}
		name := s[i+2 : i+j]
		v, ok := vars[name]
		if !ok {
			panic("demo: unknown SQL variable " + name)
		}
		b.WriteString(s[:i])
		b.WriteString(v)
		s = s[i+j+1:]
	}
}

// Now is the demo's "now": the moment the generated data was loaded
// (AsOf). Freshness checks of the demo's sources measure against it, so the
// fixed, deterministic data set never looks stale.
func Now() time.Time { return asOfTime() }
