package anonymize

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/vyaparbazaar/dataops/internal/sqlident"
)

// Finding is a column the PII scanner flagged.
type Finding struct {
	// Table is "schema.table".
	Table string
	// Column is the column name.
	Column string
	// Reason says why: its name, or the share of sampled values that
	// match a format.
	Reason string
}

// namePatterns flag columns by name alone.
var namePatterns = []struct {
	re   *regexp.Regexp
	what string
}{
	{regexp.MustCompile(`(^|_)(e_?mail|email_?id|mail)($|_)`), "email"},
	{regexp.MustCompile(`(^|_)(phone|mobile|msisdn|whatsapp|contact_?no)($|_)`), "mobile number"},
	{regexp.MustCompile(`(^|_)pan($|_no|_number|_card)`), "PAN"},
	{regexp.MustCompile(`(^|_)(aadhaar|aadhar|uidai)`), "Aadhaar number"},
	{regexp.MustCompile(`(^|_)gstin?($|_no|_number)`), "GSTIN"},
	{regexp.MustCompile(`(^|_)(pin_?code|pin|zip_?code|zip|postal_?code)$`), "PIN code"},
	{regexp.MustCompile(`(^|_)(upi|vpa)($|_)`), "UPI id"},
	{regexp.MustCompile(`(^|_)(card_?(no|num|number)|cc_?number|pan_?masked)$`), "card number"},
	{regexp.MustCompile(`(^|_)(first|last|middle|full|sur|given|family|customer|user|contact|father|mother|holder|nominee)_?name$|^surname$`), "person name"},
	{regexp.MustCompile(`(^|_)(address|addr|street|address_?line\d?)($|_)`), "address"},
	{regexp.MustCompile(`(^|_)(dob|birth_?date|date_?of_?birth|birthday)$`), "date of birth"},
	{regexp.MustCompile(`(^|_)ip_?(address|addr)?$`), "IP address"},
}

// valuePatterns flag text columns by the share of sampled values that
// match (DuckDB regular expressions, run on the sample inside DuckDB).
var valuePatterns = []struct{ what, re string }{
	{"email", `[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}`},
	{"mobile number", `(\+?91[ -]?)?[6-9][0-9]{4}[ -]?[0-9]{5}`},
	{"PAN", `[A-Za-z]{5}[0-9]{4}[A-Za-z]`},
	{"Aadhaar number", `[2-9][0-9]{3}[ -]?[0-9]{4}[ -]?[0-9]{4}`},
	{"GSTIN", `[0-9]{2}[A-Za-z]{5}[0-9]{4}[A-Za-z][1-9A-Za-z][Zz][0-9A-Za-z]`},
	{"UPI id", `[A-Za-z0-9._-]{2,}@[A-Za-z]{2,}`},
	{"card number", `[0-9]{4}([ -]?[0-9]{4}){2}[ -]?[0-9]{1,4}`},
	{"PIN code", `[1-9][0-9]{5}`},
}

// valueShare is the share of sampled non-NULL values that must match a
// format (or the names list) for the column to be flagged.
const valueShare = 0.5

func nameReason(col string) string {
	l := strings.ToLower(col)
	for _, p := range namePatterns {
		if p.re.MatchString(l) {
			return "name looks like " + p.what
		}
	}
	return ""
}

// ScanOptions configure Scan.
type ScanOptions struct {
	// SampleRows is the number of rows sampled per table (default 2000).
	SampleRows int
	// Schemas limits the scan (default: all but _dataops).
	Schemas []string
}

// Scan opens the DuckDB file path read-only and returns every column that
// looks like PII, by name or by sampled values.
func Scan(ctx context.Context, path string, opts ScanOptions) ([]Finding, error) {
	c, err := duckdb.NewConnector("", nil)
	if err != nil {
		return nil, fmt.Errorf("anonymize: scan: %w", err)
	}
	db := sql.OpenDB(c)
	defer db.Close()
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("anonymize: scan: %w", err)
	}
	defer conn.Close()
	for _, q := range []string{"SET autoinstall_known_extensions = false", "SET autoload_known_extensions = false", "ATTACH " + sqlident.Literal(path) + " AS src (READ_ONLY)"} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("anonymize: scan %s: %w", path, err)
		}
	}
	tables, err := readSchema(ctx, conn, "src")
	if err != nil {
		return nil, err
	}
	var out []Finding
	for _, t := range tables {
		if len(opts.Schemas) > 0 && !containsStr(opts.Schemas, t.Schema) {
			continue
		}
		f, err := scanTable(ctx, conn, t, opts.SampleRows)
		if err != nil {
			return nil, err
		}
		out = append(out, f...)
	}
	return out, nil
}

func containsStr(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// scanTable flags t's columns by name, and its text columns by a sample
// of their values.
func scanTable(ctx context.Context, conn *sql.Conn, t *srcTable, sampleRows int) ([]Finding, error) {
	if sampleRows <= 0 {
		sampleRows = 2000
	}
	var out []Finding
	flagged := map[string]bool{}
	for _, c := range t.Cols {
		if r := nameReason(c.Name); r != "" {
			out = append(out, Finding{Table: t.key(), Column: c.Name, Reason: r})
			flagged[c.Name] = true
		}
	}
	var text []column
	for _, c := range t.Cols {
		if isText(c.Type) && !flagged[c.Name] {
			text = append(text, c)
		}
	}
	if len(text) == 0 {
		return out, nil
	}
	names := make([]string, 0, len(FirstNames)+len(LastNames))
	for _, n := range append(append([]string{}, FirstNames...), LastNames...) {
		names = append(names, sqlident.Literal(strings.ToLower(n)))
	}
	nameList := "[" + strings.Join(names, ",") + "]"
	var cols, aggs []string
	for i, c := range text {
		cols = append(cols, fmt.Sprintf("trim(%s) AS c%d", sqlident.Quote(c.Name), i))
		aggs = append(aggs, fmt.Sprintf("count(c%d)", i))
		for _, p := range valuePatterns {
			aggs = append(aggs, fmt.Sprintf("count_if(regexp_full_match(c%d, %s))", i, sqlident.Literal(p.re)))
		}
		aggs = append(aggs, fmt.Sprintf("count_if(list_contains(%s, lower(split_part(c%d, ' ', 1))))", nameList, i))
	}
	src := sqlident.QuoteQualified("src", t.Schema, t.Name)
	var total int64
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM "+src).Scan(&total); err != nil {
		return nil, fmt.Errorf("anonymize: scan %s: %w", t.key(), err)
	}
	// Small tables: a reservoir sample (reads them whole, cheaply). Large
	// ones: a system sample, which reads whole vectors at random places,
	// so the cost does not grow with the table.
	// A system sample that picked no vector (possible on a small share)
	// falls back to the first rows: a column is never left unread.
	froms := []string{fmt.Sprintf("%s USING SAMPLE reservoir(%d ROWS) REPEATABLE (7)", src, sampleRows)}
	if total > int64(50*sampleRows) {
		pct := 100 * float64(max(4*sampleRows, 16*2048)) / float64(total)
		froms = []string{
			fmt.Sprintf("(SELECT * FROM %s USING SAMPLE %s%% (system, 7) LIMIT %d)", src, strconv.FormatFloat(pct, 'f', 4, 64), sampleRows),
			fmt.Sprintf("(SELECT * FROM %s LIMIT %d)", src, sampleRows),
		}
	}
	for i, a := range aggs {
		aggs[i] = "coalesce(" + a + ", 0)"
	}
	aggs = append(aggs, "count(*)")
	vals := make([]int64, len(aggs))
	ptrs := make([]any, len(aggs))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for _, from := range froms {
		q := fmt.Sprintf("WITH s AS (SELECT %s FROM %s) SELECT %s FROM s", strings.Join(cols, ", "), from, strings.Join(aggs, ", "))
		if err := conn.QueryRowContext(ctx, q).Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("anonymize: scan %s: %w", t.key(), err)
		}
		if vals[len(vals)-1] > 0 {
			break
		}
	}
	per := len(valuePatterns) + 2
	for i, c := range text {
		n := vals[i*per]
		if n == 0 {
			continue
		}
		best, bestWhat := int64(0), ""
		for j, p := range valuePatterns {
			if m := vals[i*per+1+j]; m > best {
				best, bestWhat = m, p.what
			}
		}
		if float64(best) >= valueShare*float64(n) {
			out = append(out, Finding{Table: t.key(), Column: c.Name, Reason: fmt.Sprintf("%d of %d sampled values look like %s", best, n, bestWhat)})
			continue
		}
		if m := vals[i*per+per-1]; float64(m) >= 0.3*float64(n) {
			out = append(out, Finding{Table: t.key(), Column: c.Name, Reason: fmt.Sprintf("%d of %d sampled values start with a person's name", m, n)})
		}
	}
	return out, nil
}

// scanRefuse scans every table of the plan and returns an
// *UnprotectedError listing flagged columns without a rule.
func scanRefuse(ctx context.Context, conn *sql.Conn, pl *plan, sampleRows int) error {
	var missing []Finding
	for _, pt := range pl.tables {
		fs, err := scanTable(ctx, conn, pt.src, sampleRows)
		if err != nil {
			return err
		}
		for _, f := range fs {
			if _, ok := pt.rules[f.Column]; !ok {
				missing = append(missing, f)
			}
		}
	}
	if len(missing) > 0 {
		return &UnprotectedError{Findings: missing}
	}
	return nil
}
