package anonymize

import (
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunShopEndToEnd(t *testing.T) {
	src := shopDB(t)
	dst := filepath.Join(t.TempDir(), "staging.duckdb")
	var steps []Progress
	res, err := Run(t.Context(), src, dst, mustPolicy(t, shopPolicy), Options{Key: testKey, Progress: func(p Progress) { steps = append(steps, p) }})
	require.NoError(t, err)
	require.Len(t, res.Tables, 4)
	assert.NotEmpty(t, res.Leaks.Protected)
	assert.Empty(t, res.Leaks.Hits)
	assert.Positive(t, res.Leaks.Values)
	assert.GreaterOrEqual(t, len(steps), 5)
	assert.Equal(t, []string{"staging.duckdb"}, dirEntries(t, filepath.Dir(dst)), "no temporary or spill files left")
	assert.Equal(t, "0", q1(t, dst, `SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE '\_anon%' ESCAPE '\'`))

	// Row counts and referential integrity.
	assert.Equal(t, "200", q1(t, dst, `SELECT count(*) FROM raw.customers`))
	assert.Equal(t, "1000", q1(t, dst, `SELECT count(*) FROM raw.orders o JOIN raw.customers c USING (customer_id)`))
	assert.Equal(t, "1500", q1(t, dst, `SELECT count(*) FROM raw.payments p JOIN raw.orders o USING (order_id)`))
	assert.Equal(t, "1000", q1(t, dst, `SELECT count(*) FROM raw.orders o JOIN raw.categories c USING (category_id)`))
	// Same per-customer order counts as the source, through the join.
	assert.Equal(t, q(t, src, `SELECT count(*) AS n FROM raw.orders GROUP BY customer_id ORDER BY n`),
		q(t, dst, `SELECT count(*) AS n FROM raw.orders GROUP BY customer_id ORDER BY n`))
	// Pseudonymized ids are new, positive, unique.
	assert.Equal(t, "0", q1(t, dst, `SELECT count(*) FROM raw.customers WHERE customer_id BETWEEN 1 AND 200 OR customer_id < 0`))
	assert.Equal(t, "200", q1(t, dst, `SELECT count(DISTINCT customer_id) FROM raw.customers`))

	formats := map[string]string{
		"email":   `^user\.[a-z2-7]{12}@(gmail\.com|example\.in)$`,
		"phone":   `^\+91( [6-9]\d{4} \d{5}|[6-9]\d{9})$`,
		"pan":     `^[A-Z]{3}P[A-Z]\d{4}[A-Z]$`,
		"aadhaar": `^[2-9]\d{3} \d{4} \d{4}$`,
		"gstin":   `^27[A-Z]{5}\d{4}[A-Z][1-9A-Z]Z[0-9A-Z]$`,
		"pincode": `^4\d{5}$`,
		"upi":     `^u[a-z2-7]{11}@okaxis$`,
		"card":    `^4\d{3} \d{4} \d{4} \d{4}$`,
	}
	for col, re := range formats {
		vals := q(t, dst, `SELECT `+col+` FROM raw.customers`)
		for _, v := range vals {
			assert.Regexp(t, regexp.MustCompile(re), v[0], col)
		}
	}
	// Layout follows the source: spaced phones stay spaced.
	assert.Equal(t, q(t, src, `SELECT count(*) FROM raw.customers WHERE phone LIKE '+91 %'`), q(t, dst, `SELECT count(*) FROM raw.customers WHERE phone LIKE '+91 %'`))
	// Aadhaar check digits, card Luhn and last 4, GSTIN checksum.
	for _, r := range q(t, dst, `SELECT aadhaar, card, gstin FROM raw.customers`) {
		assert.True(t, verhoeffValid(digitsOf(r[0])), r[0])
		assert.True(t, luhnValid(digitsOf(r[1])), r[1])
		assert.Equal(t, string(gstinCheck(r[2])), r[2][14:], r[2])
	}
	assert.Equal(t, q(t, src, `SELECT right(card, 4) FROM raw.customers ORDER BY 1`), q(t, dst, `SELECT right(card, 4) FROM raw.customers ORDER BY 1`))
	// PIN keeps its district, names and cities come from the lists.
	assert.Equal(t, q(t, src, `SELECT DISTINCT left(pincode, 3) FROM raw.customers ORDER BY 1`), q(t, dst, `SELECT DISTINCT left(pincode, 3) FROM raw.customers ORDER BY 1`))
	for _, r := range q(t, dst, `SELECT first_name, last_name, city FROM raw.customers`) {
		assert.Contains(t, FirstNames, r[0])
		assert.Contains(t, LastNames, r[1])
		assert.Contains(t, Cities, r[2])
	}
	// Generalize, bucket, noise within bounds, keep.
	assert.Equal(t, "0", q1(t, dst, `SELECT count(*) FROM raw.customers WHERE day(signup_date) <> 1`))
	assert.Equal(t, "[18, 25, 35, 50]", q1(t, dst, `SELECT list_sort(list(DISTINCT age))::VARCHAR FROM raw.customers`))
	assert.Equal(t, "0", q1(t, dst, `SELECT count(*) FROM raw.orders o JOIN raw.payments p ON false`))
	noise := q(t, dst, `SELECT min(amount)::VARCHAR, max(amount)::VARCHAR, count(*) FILTER (WHERE amount < 90 OR amount > 1206.7) FROM raw.orders`)
	assert.Equal(t, "0", noise[0][2])
	assert.Equal(t, q(t, src, `SELECT sum(paid_inr) FROM raw.payments`), q(t, dst, `SELECT sum(paid_inr) FROM raw.payments`))
	assert.NotEqual(t, q(t, src, `SELECT sum(amount) FROM raw.orders`), q(t, dst, `SELECT sum(amount) FROM raw.orders`))
	// Emails of private domains lose them; gmail stays.
	assert.Equal(t, q1(t, src, `SELECT count(*) FROM raw.customers WHERE email LIKE '%@gmail.com'`), q1(t, dst, `SELECT count(*) FROM raw.customers WHERE email LIKE '%@gmail.com'`))

	// Deterministic: same key → identical output; another key → different.
	dst2 := filepath.Join(t.TempDir(), "again.duckdb")
	_, err = Run(t.Context(), src, dst2, mustPolicy(t, shopPolicy), Options{Key: testKey})
	require.NoError(t, err)
	all := `SELECT * FROM raw.customers ORDER BY email`
	assert.Equal(t, q(t, dst, all), q(t, dst2, all))
	allOrders := `SELECT * FROM raw.orders ORDER BY order_id`
	assert.Equal(t, q(t, dst, allOrders), q(t, dst2, allOrders))
	dst3 := filepath.Join(t.TempDir(), "other.duckdb")
	_, err = Run(t.Context(), src, dst3, mustPolicy(t, shopPolicy), Options{Key: []byte("another-key-0123456789abcdef")})
	require.NoError(t, err)
	assert.NotEqual(t, q(t, dst, `SELECT email FROM raw.customers ORDER BY 1`), q(t, dst3, `SELECT email FROM raw.customers ORDER BY 1`))
	assert.NotEqual(t, q(t, dst, `SELECT customer_id FROM raw.customers ORDER BY 1`), q(t, dst3, `SELECT customer_id FROM raw.customers ORDER BY 1`))
}
