package pgserve_test

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vyaparbazaar/dataops/env/duckenv"
)

// psql runs one psql command against the server and returns its output
// (stdout and stderr) and whether it succeeded.
func psql(t *testing.T, ts *testServer, user, db string, args ...string) (string, bool) {
	t.Helper()
	path, err := exec.LookPath("psql")
	require.NoError(t, err, "psql is needed for this test: apt-get install -y postgresql-client (.ci/run does it)")
	cmd := exec.Command(path, append([]string{"-X", "-v", "ON_ERROR_STOP=1", ts.url(user, db)}, args...)...)
	cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=10", "PGTZ=UTC", "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	return string(out), err == nil
}

// demoMart builds tables and views shaped like the demo project's marts.
func demoMart(t *testing.T) *duckenv.Env {
	e := openEnv(t, "production")
	mustExec(t, e, `create table fct_orders(order_id bigint not null, order_date date not null, amount decimal(12,2), status varchar);
insert into fct_orders values (1, '2025-06-30', 120.50, 'delivered'), (2, '2025-06-30', 80.00, 'delivered'), (3, '2025-07-01', 42.25, 'returned');
create view mart_daily_sales as select order_date, count(*) as orders, sum(amount) as revenue from fct_orders group by order_date;
create schema marts;
create table marts.mart_customer_ltv(customer_id integer, ltv double)`)
	return e
}

var update = flag.Bool("update", false, "rewrite the golden files in testdata/psql")

// golden compares out with testdata/psql/NAME.out (rewritten with -update).
func golden(t *testing.T, name, out string) {
	t.Helper()
	path := filepath.Join("testdata", "psql", name+".out")
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(out), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, string(want), out, name)
}

// TestPsqlCatalog: psql's describe commands and the catalog queries BI
// tools send, with psql's exact output.
func TestPsqlCatalog(t *testing.T) {
	ts := startServer(t, []*duckenv.Env{demoMart(t)})
	cases := []struct{ name, cmd string }{
		{"dt", `\dt`},
		{"d_mart_daily_sales", `\d mart_daily_sales`},
		{"d_fct_orders", `\d fct_orders`},
		{"dn", `\dn`},
		{"dv", `\dv`},
		{"information_schema_tables", `select table_schema, table_name, table_type from information_schema.tables order by 1, 2`},
		{"information_schema_columns", `select column_name, data_type, is_nullable from information_schema.columns where table_name = 'fct_orders' order by ordinal_position`},
		{"show_server_version", `SHOW server_version`},
		{"current_user", `select current_user`},
		{"mart_daily_sales", `select * from mart_daily_sales order by order_date`},
	}
	for _, c := range cases {
		out, ok := psql(t, ts, "asha", "production", "-c", c.cmd)
		require.True(t, ok, "%s: %s", c.cmd, out)
		golden(t, c.name, out)
	}
}

// TestPsqlTypes: one query per type, in psql's text form.
func TestPsqlTypes(t *testing.T) {
	ts := startServer(t, []*duckenv.Env{demoMart(t)})
	out, ok := psql(t, ts, "asha", "production", "-x", "-c", typesQuery)
	require.True(t, ok, out)
	golden(t, "types", out)
}

const typesQuery = `select 1::tinyint as tiny, 2::smallint as small, 3::integer as int, 4::bigint as big,
 170141183460469231731687303715884105727::hugeint as huge, -170141183460469231731687303715884105727::hugeint as huge_neg,
 42::ubigint as ubig, 1.5::double as dbl, 0.25::float as flt,
 12.34::decimal(4,2) as dec4, -1234567.891::decimal(12,3) as dec12, 12345678901234567890.12::decimal(38,2) as dec38,
 'héllo, ''world'''::varchar as txt, date '2025-06-30' as d, 'infinity'::date as d_inf,
 timestamp '2025-06-30 12:34:56.789' as ts, timestamptz '2025-06-30 12:34:56+05:30' as tstz,
 time '01:02:03.5' as tm, interval '1 month 2 days 03:04:05' as iv,
 uuid '6ba7b810-9dad-11d1-80b4-00c04fd430c8' as id, true as yes, false as no,
 '\xDE\xAD'::blob as bytes, null::integer as nothing, [1, 2, 3] as list, {'a': 1, 'b': 'x'} as struct,
 map {'k': 1} as map, '{"b":1,"a":[2]}'::json as js, 'x'::enum('x', 'y') as en,
 timestamp_ms '2025-06-30 12:34:56.789' as ts_ms, [[1], [2, 3]] as nested`

// TestPsqlRefusals: a write and a file read are refused with their
// SQLSTATEs (psql shows them with VERBOSITY verbose), each audited.
func TestPsqlRefusals(t *testing.T) {
	ts := startServer(t, []*duckenv.Env{demoMart(t)})
	for _, c := range []struct{ name, cmd string }{
		{"refused_write", "insert into fct_orders values (4, '2025-07-02', 1, 'x')"},
		{"refused_read_csv", "select * from read_csv('/etc/passwd')"},
		{"refused_copy", "copy fct_orders to '/tmp/out.csv'"},
	} {
		out, ok := psql(t, ts, "asha", "production", "-v", "VERBOSITY=verbose", "-c", c.cmd)
		require.False(t, ok, out)
		golden(t, c.name, out)
	}
	var refused []string
	for _, ev := range ts.audit.Events() {
		if !ev.Allowed {
			refused = append(refused, ev.Object)
		}
	}
	require.Equal(t, []string{"insert into fct_orders values (4, '2025-07-02', 1, 'x')", "select * from read_csv('/etc/passwd')", "copy fct_orders to '/tmp/out.csv'"}, refused)
}
