package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const cliTestKey = "cli-test-key-4f1c2a9b7e6d5c3a1b0f"

// demoProd generates the demo's source tables into a fresh file.
func demoProd(t *testing.T) string {
	t.Helper()
	prod := filepath.Join(t.TempDir(), "prod.duckdb")
	code, _, errOut := cliRun(t, "generate", "--database", prod, "--scale", "0.002")
	require.Equal(t, 0, code, errOut)
	return prod
}

func TestAnonymizeCLIEndToEnd(t *testing.T) {
	prod := demoProd(t)
	t.Setenv("MY_ANON_KEY", cliTestKey)
	dir := t.TempDir()
	stg := filepath.Join(dir, "stg_env.duckdb")
	code, out, errOut := cliRun(t, "anonymize", "--from", prod, "--to", stg, "--key-env", "MY_ANON_KEY")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "raw.customers")
	assert.Regexp(t, `raw\.orders\s+[\d,]+ rows\s+\d+\.\d\ds`, out)
	assert.Contains(t, out, "Leak check: PASS")
	assert.NotContains(t, out+errOut, cliTestKey)

	// No customer email or phone of production is left; joins still work.
	prodEmails := queryOne(t, prod, `SELECT string_agg(email || '|' || phone, ',' ORDER BY customer_id) FROM raw.customers`)
	for _, ep := range strings.Split(prodEmails, ",") {
		email, phone, _ := strings.Cut(ep, "|")
		assert.Equal(t, "0", queryOne(t, stg, `SELECT count(*) FROM raw.customers WHERE email = '`+email+`' OR phone = '`+phone+`'`))
	}
	assert.Equal(t, queryOne(t, prod, `SELECT count(*) FROM raw.orders`),
		queryOne(t, stg, `SELECT count(*) FROM raw.orders JOIN raw.customers USING (customer_id)`))

	// The demo pipeline builds and passes its tests on the staging copy.
	code, out, errOut = cliRun(t, "build", "--database", stg)
	require.Equal(t, 0, code, out+errOut)
	assert.Contains(t, out, "ERROR=0 FAIL=0")

	// An existing target is refused without --replace.
	code, _, errOut = cliRun(t, "anonymize", "--from", prod, "--to", stg, "--key-env", "MY_ANON_KEY")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "--replace")
	code, _, errOut = cliRun(t, "anonymize", "--from", prod, "--to", stg, "--key-env", "MY_ANON_KEY", "--replace")
	assert.Equal(t, 0, code, errOut)
}

func TestAnonymizeCLIRefusesBadInput(t *testing.T) {
	prod := demoProd(t)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "anon.key")
	require.NoError(t, os.WriteFile(keyFile, []byte(cliTestKey+"\n"), 0o600))
	out := filepath.Join(t.TempDir(), "out.duckdb")

	// No key at all.
	t.Setenv("DATAOPS_ANON_KEY", "")
	code, _, errOut := cliRun(t, "anonymize", "--from", prod, "--to", out)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "missing key")
	assert.Contains(t, errOut, "DATAOPS_ANON_KEY")

	// A policy with a typo names file and line.
	bad := filepath.Join(dir, "bad.yml")
	require.NoError(t, os.WriteFile(bad, []byte("schema: raw\ntables:\n  customers:\n    columns:\n      email: mask_emial\n"), 0o644))
	code, _, errOut = cliRun(t, "anonymize", "--from", prod, "--to", out, "--key-file", keyFile, "--policy", bad)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "bad.yml:5: table customers column email: unknown rule \"mask_emial\"")

	// A policy that forgets the phone column is refused by the scanner.
	data, err := os.ReadFile("demo/project/anonymize.yml")
	require.NoError(t, err)
	noPhone := filepath.Join(dir, "nophone.yml")
	require.NoError(t, os.WriteFile(noPhone, []byte(strings.Replace(string(data), "      phone: mask_mobile\n", "", 1)), 0o644))
	code, _, errOut = cliRun(t, "anonymize", "--from", prod, "--to", out, "--key-file", keyFile, "--policy", noPhone)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "raw.customers.phone: name looks like mobile number")

	// A leaky escape hatch fails the leak check; nothing is written.
	leaky := filepath.Join(dir, "leaky.yml")
	require.NoError(t, os.WriteFile(leaky, []byte(strings.Replace(string(data), "      state: {keep: \"state-level reporting\"}\n", "      state: {sql: \"phone\"}\n", 1)), 0o644))
	code, _, errOut = cliRun(t, "anonymize", "--from", prod, "--to", out, "--key-file", keyFile, "--policy", leaky)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "Leak check: FAIL")
	assert.Contains(t, errOut, "raw.customers.state")
	assert.NotContains(t, errOut, cliTestKey)
	_, err = os.Stat(out)
	assert.True(t, os.IsNotExist(err), "no target after a failed run")

	code, _, _ = cliRun(t, "sample", "--from", prod, "--to", out, "--key-file", keyFile, "--fraction", "2")
	assert.Equal(t, 2, code)
	code, _, _ = cliRun(t, "anonymize", "--to", out)
	assert.Equal(t, 2, code)
}

func TestSampleCLIKeepsEveryForeignKey(t *testing.T) {
	prod := demoProd(t)
	t.Setenv("DATAOPS_ANON_KEY", cliTestKey)
	dir := t.TempDir()
	dev := filepath.Join(dir, "dev.duckdb")
	code, out, errOut := cliRun(t, "sample", "--from", prod, "--to", dev, "--fraction", "0.1", "--seed", "3")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "Leak check: PASS")
	n := queryOne(t, dev, `SELECT count(*) FROM raw.customers`)
	assert.NotEqual(t, "0", n)
	assert.NotEqual(t, queryOne(t, prod, `SELECT count(*) FROM raw.customers`), n)
	for _, fk := range []string{
		`raw.orders x ANTI JOIN raw.customers p USING (customer_id)`,
		`raw.order_items x ANTI JOIN raw.orders p USING (order_id)`,
		`raw.payments x ANTI JOIN raw.orders p USING (order_id)`,
		`raw.returns x ANTI JOIN raw.order_items p USING (order_item_id)`,
		`raw.returns x ANTI JOIN raw.orders p USING (order_id)`,
		`(SELECT * FROM raw.inventory_movements WHERE reference_id IS NOT NULL) x ANTI JOIN raw.order_items p ON x.reference_id = p.order_item_id`,
		`raw.order_items x ANTI JOIN raw.products p USING (product_id)`,
	} {
		assert.Equal(t, "0", queryOne(t, dev, `SELECT count(*) FROM `+fk), fk)
	}
	assert.NotEqual(t, "0", queryOne(t, dev, `SELECT count(*) FROM raw.orders`))
	// Reference tables are whole.
	assert.Equal(t, queryOne(t, prod, `SELECT count(*) FROM raw.products`), queryOne(t, dev, `SELECT count(*) FROM raw.products`))
	// Same seed → same sample.
	dev2 := filepath.Join(dir, "dev2.duckdb")
	code, _, errOut = cliRun(t, "sample", "--from", prod, "--to", dev2, "--fraction", "0.1", "--seed", "3")
	require.Equal(t, 0, code, errOut)
	sum := `SELECT sum(order_total_inr)::VARCHAR || '/' || count(*) FROM raw.orders`
	assert.Equal(t, queryOne(t, dev, sum), queryOne(t, dev2, sum))
}
