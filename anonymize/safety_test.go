package anonymize

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dirEntries lists a directory's file names.
func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

func TestCollisionOfATransformedKeyFailsWithItsCount(t *testing.T) {
	src := makeDB(t, `CREATE TABLE accounts AS SELECT 'ACC-' || i AS account_id, i AS n FROM range(1, 51) t(i)`)
	dir := t.TempDir()
	dst := filepath.Join(dir, "out.duckdb")
	// left(…, 5) maps ACC-1..ACC-9 to themselves but ACC-10..ACC-50 onto ACC-1..ACC-5.
	p := mustPolicy(t, "tables:\n  accounts:\n    primary_key: account_id\n    columns:\n      account_id: {sql: \"left({{column}}, 5)\"}\n")
	_, err := Run(t.Context(), src, dst, p, Options{Key: testKey})
	var ce *CollisionError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "main.accounts.account_id", ce.Column)
	assert.Equal(t, int64(50-9), ce.Colliding)
	assert.Contains(t, err.Error(), "41 source key value(s) collide")
	assert.Empty(t, dirEntries(t, dir), "nothing written")
}

func TestScannerRefusesUnprotectedPIIAndListsEachColumn(t *testing.T) {
	src := makeDB(t,
		`CREATE TABLE leads AS SELECT i AS lead_id, '98' || lpad(i::VARCHAR, 8, '0') AS mobile_no,
		   'lead' || i || '@example.com' AS contact, 'ABCPK' || lpad(i::VARCHAR, 4, '0') || 'Q' AS tax_ref,
		   (['Priya Sharma','Rahul Iyer','Meera Das'])[1 + i % 3] AS who, 'note ' || i AS note
		 FROM range(1, 301) t(i)`)
	dir := t.TempDir()
	dst := filepath.Join(dir, "out.duckdb")
	_, err := Run(t.Context(), src, dst, &Policy{Schema: "main"}, Options{Key: testKey})
	var ue *UnprotectedError
	require.ErrorAs(t, err, &ue)
	cols := map[string]string{}
	for _, f := range ue.Findings {
		cols[f.Column] = f.Reason
	}
	assert.Len(t, cols, 4, "%v", cols)
	assert.Contains(t, cols["mobile_no"], "name looks like mobile number")
	assert.Contains(t, cols["contact"], "look like email")
	assert.Contains(t, cols["tax_ref"], "look like PAN")
	assert.Contains(t, cols["who"], "person's name")
	for _, c := range []string{"mobile_no", "contact", "tax_ref", "who"} {
		assert.Contains(t, err.Error(), "main.leads."+c+":")
	}
	assert.Empty(t, dirEntries(t, dir))

	// A keep without a reason is a policy error; with one it passes.
	_, err = ParsePolicy([]byte("tables:\n  leads:\n    columns:\n      who: {keep: \"\"}\n"), "p.yml")
	require.ErrorContains(t, err, "p.yml:4: table leads column who: keep needs a reason")
	p := mustPolicy(t, `tables:
  leads:
    primary_key: lead_id
    columns:
      mobile_no: mask_mobile
      contact: mask_email
      tax_ref: mask_pan
      who: {keep: "synthetic test personas, not customers"}
`)
	res, err := Run(t.Context(), src, dst, p, Options{Key: testKey})
	require.NoError(t, err)
	assert.Equal(t, int64(300), res.Tables[0].Rows)
}

func TestLeakCheckCatchesALeakyPolicyAndWritesNothing(t *testing.T) {
	src := shopDB(t)
	dir := t.TempDir()
	dst := filepath.Join(dir, "staging.duckdb")
	// The escape hatch copies the email into the address column.
	leaky := strings.Replace(shopPolicy, "address: fake_address", "address: {sql: \"email\"}", 1)
	_, err := Run(t.Context(), src, dst, mustPolicy(t, leaky), Options{Key: testKey})
	var le *LeakError
	require.ErrorAs(t, err, &le)
	require.Len(t, le.Report.Hits, 1)
	assert.Equal(t, "raw.customers.address", le.Report.Hits[0].Column)
	assert.Equal(t, int64(200), le.Report.Hits[0].Count)
	assert.NotContains(t, err.Error(), "@gmail.com", "the report never shows values")
	assert.Empty(t, dirEntries(t, dir))

	// An sql rule that returns the value unchanged is caught too.
	leaky = strings.Replace(shopPolicy, "pan: mask_pan", "pan: {sql: \"upper({{column}})\"}", 1)
	_, err = Run(t.Context(), src, dst, mustPolicy(t, leaky), Options{Key: testKey})
	require.ErrorAs(t, err, &le)
	assert.Equal(t, "raw.customers.pan", le.Report.Hits[0].Column)
	assert.Empty(t, dirEntries(t, dir))
}

const samplePolicy = shopPolicy + `sample:
  seed: 7
  fractions: {customers: 0.1}
`

func TestSampleIsConsistentAndDeterministic(t *testing.T) {
	src := shopDB(t)
	dst := filepath.Join(t.TempDir(), "dev.duckdb")
	res, err := Run(t.Context(), src, dst, mustPolicy(t, samplePolicy), Options{Key: testKey})
	require.NoError(t, err)
	n := q1(t, dst, `SELECT count(*) FROM raw.customers`)
	assert.NotEqual(t, "200", n)
	assert.NotEqual(t, "0", n)
	// Every foreign key resolves; reference tables are whole.
	assert.Equal(t, "0", q1(t, dst, `SELECT count(*) FROM raw.orders o ANTI JOIN raw.customers c USING (customer_id)`))
	assert.Equal(t, "0", q1(t, dst, `SELECT count(*) FROM raw.payments p ANTI JOIN raw.orders o USING (order_id)`))
	assert.Equal(t, "5", q1(t, dst, `SELECT count(*) FROM raw.categories`))
	// Everything referencing the sampled customers came along.
	orders := q1(t, dst, `SELECT count(*) FROM raw.orders`)
	assert.NotEqual(t, "0", orders)
	assert.Equal(t, q1(t, dst, `SELECT count(*) FROM raw.orders`), q1(t, dst, `SELECT count(*) FROM raw.orders o SEMI JOIN raw.customers c USING (customer_id)`))
	// Invert the keyed permutation to find the sampled source customers:
	// the sample holds exactly their orders and those orders' payments.
	f := feistel{p: newPRF(testKey, "int")}
	var ids []string
	for _, r := range q(t, dst, `SELECT customer_id FROM raw.customers`) {
		v, err := strconv.ParseInt(r[0], 10, 64)
		require.NoError(t, err)
		ids = append(ids, strconv.FormatUint(f.inverse(uint64(v), 63), 10))
	}
	in := "(" + strings.Join(ids, ",") + ")"
	assert.Equal(t, q1(t, src, `SELECT count(*) FROM raw.orders WHERE customer_id IN `+in), orders)
	assert.Equal(t, q1(t, src, `SELECT count(*) FROM raw.payments WHERE order_id IN (SELECT order_id FROM raw.orders WHERE customer_id IN `+in+`)`),
		q1(t, dst, `SELECT count(*) FROM raw.payments`))
	var sum int64
	for _, tr := range res.Tables {
		sum += tr.Rows
		assert.LessOrEqual(t, tr.Rows, tr.SourceRows)
	}
	assert.Positive(t, sum)
	// Same seed → same sample, another seed → another.
	dst2 := filepath.Join(t.TempDir(), "dev2.duckdb")
	_, err = Run(t.Context(), src, dst2, mustPolicy(t, samplePolicy), Options{Key: []byte("another-key-0123456789abcdef")})
	require.NoError(t, err)
	assert.Equal(t, n, q1(t, dst2, `SELECT count(*) FROM raw.customers`), "the sample depends on the seed, not the key")
	assert.Equal(t, q(t, dst, `SELECT paid_inr FROM raw.payments ORDER BY 1`), q(t, dst2, `SELECT paid_inr FROM raw.payments ORDER BY 1`))
	dst3 := filepath.Join(t.TempDir(), "dev3.duckdb")
	_, err = Run(t.Context(), src, dst3, mustPolicy(t, strings.Replace(samplePolicy, "seed: 7", "seed: 8", 1)), Options{Key: testKey})
	require.NoError(t, err)
	assert.NotEqual(t, q(t, dst, `SELECT customer_id FROM raw.customers ORDER BY 1`), q(t, dst3, `SELECT customer_id FROM raw.customers ORDER BY 1`))
}

func TestBadInputGivesClearErrorsAndWritesNothing(t *testing.T) {
	src := shopDB(t)
	cases := []struct {
		name, policy, want string
	}{
		{"missing table", "schema: raw\ntables:\n  clients:\n    columns:\n      email: mask_email\n", "policy.yml:3: table clients: no such table in the source"},
		{"missing column", "schema: raw\ntables:\n  customers:\n    columns:\n      e_mail: mask_email\n", "policy.yml:5: table customers column e_mail: no such column in raw.customers"},
		{"unknown rule", "schema: raw\ntables:\n  customers:\n    columns:\n      email: mask_emial\n", `policy.yml:5: table customers column email: unknown rule "mask_emial"`},
		{"rule not fitting the type", "schema: raw\ntables:\n  customers:\n    columns:\n      signup_date: mask_email\n", "table raw.customers column signup_date: mask_email fits text columns, not DATE"},
		{"generalize a text", "schema: raw\ntables:\n  customers:\n    columns:\n      email: {generalize: month}\n", "generalize fits DATE and TIMESTAMP columns, not VARCHAR"},
		{"bad reference", "schema: raw\ntables:\n  customers:\n    primary_key: customer_id\n  orders:\n    references: {customer_id: customers.email}\n", "policy.yml:6: table orders column customer_id: references customers.email: email is not the primary_key of customers"},
		{"bad yaml", "schema: raw\ntables: [\n", "policy.yml:"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			p, err := ParsePolicy([]byte(c.policy), "policy.yml")
			if err == nil {
				_, err = Run(t.Context(), src, filepath.Join(dir, "out.duckdb"), p, Options{Key: testKey})
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.Empty(t, dirEntries(t, dir))
		})
	}
	p := mustPolicy(t, shopPolicy)
	dir := t.TempDir()
	_, err := Run(t.Context(), src, filepath.Join(dir, "out.duckdb"), p, Options{})
	require.ErrorIs(t, err, ErrMissingKey)
	_, err = Run(t.Context(), src, filepath.Join(dir, "out.duckdb"), p, Options{Key: []byte("short")})
	require.ErrorIs(t, err, ErrMissingKey)
	_, err = Run(t.Context(), filepath.Join(dir, "nope.duckdb"), filepath.Join(dir, "out.duckdb"), p, Options{Key: testKey})
	require.ErrorContains(t, err, "nope.duckdb")
	assert.Empty(t, dirEntries(t, dir))

	// An existing target is refused without Replace, and survives a failed
	// replacing run untouched.
	dst := filepath.Join(dir, "staging.duckdb")
	require.NoError(t, os.WriteFile(dst, []byte("old"), 0o644))
	_, err = Run(t.Context(), src, dst, p, Options{Key: testKey})
	require.ErrorIs(t, err, ErrTargetExists)
	leaky := strings.Replace(shopPolicy, "address: fake_address", "address: {sql: \"email\"}", 1)
	_, err = Run(t.Context(), src, dst, mustPolicy(t, leaky), Options{Key: testKey, Replace: true})
	require.Error(t, err)
	b, _ := os.ReadFile(dst)
	assert.Equal(t, "old", string(b))
	assert.Equal(t, []string{"staging.duckdb"}, dirEntries(t, dir))
	_, err = Run(t.Context(), src, dst, p, Options{Key: testKey, Replace: true})
	require.NoError(t, err)
	assert.Equal(t, "200", q1(t, dst, `SELECT count(*) FROM raw.customers`))
}

func TestIdentifiersWithQuotesAndSpacesAreQuoted(t *testing.T) {
	src := makeDB(t,
		`CREATE SCHEMA "my schema"`,
		`CREATE TABLE "my schema"."cust ""vip"" list" AS SELECT i AS "id; DROP TABLE x", 'v' || i || '@gmail.com' AS "e mail""s" FROM range(1, 11) t(i)`)
	p := &Policy{Schema: "my schema", Tables: []*Table{{
		Name:       `cust "vip" list`,
		PrimaryKey: "id; DROP TABLE x",
		Columns:    map[string]Rule{`e mail"s`: {Kind: MaskEmail}, "id; DROP TABLE x": {Kind: Pseudonymize}},
	}}}
	dst := filepath.Join(t.TempDir(), "out.duckdb")
	_, err := Run(t.Context(), src, dst, p, Options{Key: testKey})
	require.NoError(t, err)
	assert.Equal(t, "10", q1(t, dst, `SELECT count(DISTINCT "e mail""s") FROM "my schema"."cust ""vip"" list" WHERE "e mail""s" LIKE 'user.%@gmail.com'`))
}

func TestKeyNeverReachesLogsOrErrors(t *testing.T) {
	secret := "s3cr3t-key-NEVER-PRINT-0123456789"
	t.Setenv("ANON_TEST_KEY", secret)
	key, err := KeyFromEnv("ANON_TEST_KEY")
	require.NoError(t, err)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	src := shopDB(t)
	dir := t.TempDir()
	var errs []error
	_, err = Run(t.Context(), src, filepath.Join(dir, "ok.duckdb"), mustPolicy(t, shopPolicy), Options{Key: key, Logger: log})
	require.NoError(t, err)
	leaky := strings.Replace(shopPolicy, "address: fake_address", "address: {sql: \"email\"}", 1)
	_, err = Run(t.Context(), src, filepath.Join(dir, "leak.duckdb"), mustPolicy(t, leaky), Options{Key: key, Logger: log})
	errs = append(errs, err)
	_, err = Run(t.Context(), src, filepath.Join(dir, "bad.duckdb"), mustPolicy(t, "tables:\n  x:\n    columns: {a: mask_email}\n"), Options{Key: key, Logger: log})
	errs = append(errs, err)
	t.Setenv("ANON_SHORT", "abc")
	_, err = KeyFromEnv("ANON_SHORT")
	errs = append(errs, err)
	kf := filepath.Join(t.TempDir(), "key")
	require.NoError(t, os.WriteFile(kf, []byte("tiny\n"), 0o600))
	_, err = KeyFromFile(kf)
	errs = append(errs, err)
	require.NoError(t, os.WriteFile(kf, []byte(secret+"\n"), 0o600))
	k2, err := KeyFromFile(kf)
	require.NoError(t, err)
	assert.Equal(t, key, k2)
	for _, e := range errs {
		require.Error(t, e)
		assert.NotContains(t, e.Error(), secret)
		assert.NotContains(t, e.Error(), "abc")
		assert.NotContains(t, e.Error(), "tiny")
	}
	assert.Contains(t, logs.String(), "table written")
	assert.NotContains(t, logs.String(), secret)
	// Nor does it reach the output database.
	for _, r := range q(t, filepath.Join(dir, "ok.duckdb"), `SELECT count(*) FROM (SELECT COLUMNS(*)::VARCHAR AS v FROM raw.customers) WHERE v LIKE '%NEVER-PRINT%'`) {
		assert.Equal(t, "0", r[0])
	}
}

func TestDroppedTableIsNeitherScannedNorWritten(t *testing.T) {
	src := makeDB(t,
		`CREATE TABLE audit_log AS SELECT i AS id, 'user' || i || '@gmail.com' AS email FROM range(1, 21) t(i)`,
		`CREATE TABLE plans AS SELECT i AS plan_id, 'Plan ' || i AS label FROM range(1, 4) t(i)`)
	dst := filepath.Join(t.TempDir(), "out.duckdb")
	res, err := Run(t.Context(), src, dst, mustPolicy(t, "tables:\n  audit_log: {drop: true}\n"), Options{Key: testKey})
	require.NoError(t, err)
	require.Len(t, res.Tables, 1)
	assert.Equal(t, "main.plans", res.Tables[0].Name)
	assert.Equal(t, "0", q1(t, dst, `SELECT count(*) FROM duckdb_tables() WHERE table_name = 'audit_log'`))
}

func TestMaskedValueEqualToARealOneIsRemasked(t *testing.T) {
	// Customer 2's real number is, by construction, what customer 1's
	// number masks to: without re-masking the output would show it.
	p := newPRF(testKey, "mask")
	st := p.get()
	clash := maskMobile(st, nil, "+919876543210")
	p.put(st)
	src := makeDB(t, `CREATE TABLE customers AS SELECT * FROM (VALUES (1, '+919876543210'), (2, '`+clash+`'), (3, '+917000000001')) t(customer_id, phone)`)
	dst := filepath.Join(t.TempDir(), "out.duckdb")
	res, err := Run(t.Context(), src, dst, mustPolicy(t, "tables:\n  customers:\n    columns:\n      phone: mask_mobile\n"), Options{Key: testKey})
	require.NoError(t, err)
	assert.Empty(t, res.Leaks.Hits)
	phone1 := q1(t, dst, `SELECT phone FROM customers WHERE customer_id = 1`)
	assert.NotEqual(t, clash, phone1)
	assert.Regexp(t, `^\+91[6-9]\d{9}$`, phone1)
	assert.Equal(t, "0", q1(t, dst, `SELECT count(*) FROM customers WHERE phone IN ('+919876543210', '`+clash+`', '+917000000001')`))
}
