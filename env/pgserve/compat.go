package pgserve

import (
	"context"
	"errors"
	"regexp"
	"strings"

	bindings "github.com/duckdb/duckdb-go-bindings"
	"github.com/jackc/pgx/v5/pgtype"
	wire "github.com/jeroenrinzema/psql-wire"
)

// PostgreSQL settings SHOW answers without DuckDB (clients and drivers ask
// for them); the value "" means the session's own value.
var showSettings = map[string]string{
	"server_version":                ServerVersion,
	"server_version_num":            "150000",
	"server_encoding":               "UTF8",
	"client_encoding":               "UTF8",
	"datestyle":                     "ISO, MDY",
	"intervalstyle":                 "postgres",
	"timezone":                      "UTC",
	"standard_conforming_strings":   "on",
	"integer_datetimes":             "on",
	"transaction_read_only":         "on",
	"default_transaction_read_only": "on",
	"transaction_isolation":         "serializable",
	"max_identifier_length":         "63",
	"is_superuser":                  "off",
	"search_path":                   "main",
	"application_name":              "",
	"session_authorization":         "",
	"lc_collate":                    "C",
	"lc_ctype":                      "C",
}

var (
	showRe        = regexp.MustCompile(`(?is)^\s*show\s+("?[a-z_]+"?)\s*;?\s*$`)
	setRe         = regexp.MustCompile(`(?is)^\s*set\s+(?:session\s+)?([a-z_]+)\s*(?:=|\bto\b)\s*(.*?)\s*;?\s*$`)
	currentUserRe = regexp.MustCompile(`(?is)^\s*select\s+(current_user|session_user|user)\s*;?\s*$`)
)

// compat answers what PostgreSQL clients send that DuckDB does not know or
// that must not reach it: SHOW of PostgreSQL settings, `select
// current_user`, and SET of harmless client settings (application_name,
// extra_float_digits, client_encoding UTF8, DateStyle ISO, TimeZone UTC),
// which are accepted and change nothing. Any other SET is left to the
// guard, which refuses it.
func (s *Server) compat(ctx context.Context, ss *session, query string) (wire.PreparedStatements, bool, error) {
	if m := showRe.FindStringSubmatch(query); m != nil {
		name := strings.ToLower(strings.Trim(m[1], `"`))
		v, ok := showSettings[name]
		if !ok {
			return nil, false, nil
		}
		switch name {
		case "application_name":
			v = ss.app
		case "session_authorization":
			v = ss.principal.Name
		}
		return textResult(name, v), true, nil
	}
	if m := currentUserRe.FindStringSubmatch(query); m != nil {
		return textResult(strings.ToLower(m[1]), ss.principal.Name), true, nil
	}
	if m := setRe.FindStringSubmatch(query); m != nil {
		name := strings.ToLower(m[1])
		val := strings.ToLower(strings.Trim(m[2], `'" `))
		ok := false
		switch name {
		case "application_name", "extra_float_digits":
			ok = true
		case "client_encoding":
			ok = val == "utf8" || val == "utf-8" || val == "unicode"
		case "datestyle":
			ok = strings.HasPrefix(val, "iso")
		case "timezone", "time zone":
			ok = val == "utc" || val == "gmt" || val == "etc/utc"
		}
		if !ok {
			return nil, false, nil
		}
		return wire.Prepared(wire.NewStatement(func(_ context.Context, w wire.DataWriter, _ []wire.Parameter) error {
			return w.Complete("SET")
		})), true, nil
	}
	return nil, false, nil
}

// textResult is a one-row, one-text-column result.
func textResult(name, value string) wire.PreparedStatements {
	cols := wire.Columns{{Name: name, Oid: pgtype.TextOID, Width: -1}}
	return wire.Prepared(wire.NewStatement(func(_ context.Context, w wire.DataWriter, _ []wire.Parameter) error {
		if err := w.Row([]any{value}); err != nil {
			return err
		}
		return w.Complete("SHOW")
	}, wire.WithColumns(cols)))
}

// Rewrites that let DuckDB run the catalog queries psql and BI tools send.
var catalogRewrites = []struct {
	re   *regexp.Regexp
	with string
}{
	// a.relname OPERATOR(pg_catalog.~) '^(x)$' → a.relname ~ '^(x)$'.
	// psql anchors its patterns, so DuckDB's full-match ~ agrees.
	{regexp.MustCompile(`(?i)OPERATOR\s*\(\s*pg_catalog\s*\.\s*([^)\s]+)\s*\)`), " $1 "},
	{regexp.MustCompile(`(?i)COLLATE\s+pg_catalog\s*\.\s*"?default"?`), ""},
	{regexp.MustCompile(`(?i)pg_catalog\s*\.\s*pg_get_userbyid\s*\([^()]*\)`), "'dataops'"},
	{regexp.MustCompile(`(?i)::\s*pg_catalog\s*\.\s*(regclass|regtype|regproc|regnamespace|oid)\b`), "::BIGINT"},
	{regexp.MustCompile(`(?i)::\s*(regclass|regtype|regproc|regnamespace|oid)\b`), "::BIGINT"},
	{regexp.MustCompile(`(?i)::\s*pg_catalog\s*\.\s*text\b`), "::VARCHAR"},
	{regexp.MustCompile(`(?i)(pg_get_expr|pg_get_viewdef|pg_get_constraintdef|pg_get_indexdef|pg_get_triggerdef|pg_get_ruledef)\s*\(([^(),]+),([^(),]+),\s*(?:true|false)\s*\)`), "$1($2,$3)"},
	{regexp.MustCompile(`(?i)pg_catalog\s*\.\s*(array_to_string|pg_relation_is_publishable|pg_get_statisticsobjdef_columns|pg_encoding_to_char|quote_ident|concat_ws)\s*\(`), "$1("},
}

// Columns PostgreSQL clients read that DuckDB's pg_catalog tables lack,
// with the value they have in a DuckDB environment.
var catalogColumns = map[string]string{
	"pg_class": "false AS relforcerowsecurity",
}

var (
	catalogTableRe = regexp.MustCompile(`(?i)pg_catalog\s*\.\s*(pg_[a-z_]+)\b(\s+(?:as\s+)?([a-z_][a-z0-9_]*))?`)
	sqlKeywords    = map[string]bool{
		"where": true, "join": true, "left": true, "right": true, "inner": true, "full": true, "cross": true,
		"natural": true, "on": true, "using": true, "order": true, "group": true, "limit": true, "union": true,
		"except": true, "intersect": true, "having": true, "window": true, "offset": true,
	}
)

// patchCatalogTables replaces references to catalog tables that lack
// columns clients read with a subquery adding them.
func patchCatalogTables(seg string) string {
	return catalogTableRe.ReplaceAllStringFunc(seg, func(m string) string {
		sm := catalogTableRe.FindStringSubmatch(m)
		extra, ok := catalogColumns[strings.ToLower(sm[1])]
		if !ok {
			return m
		}
		sub := "(SELECT *, " + extra + " FROM pg_catalog." + sm[1] + ")"
		alias := strings.ToLower(sm[3])
		if sm[3] == "" || sqlKeywords[alias] {
			return sub + " AS " + sm[1] + sm[2]
		}
		return sub + sm[2]
	})
}

// rewriteCatalog applies catalogRewrites outside string literals and
// quoted identifiers, for queries that mention the PostgreSQL catalog.
func rewriteCatalog(query string, ss *session) string {
	lower := strings.ToLower(query)
	if !strings.Contains(lower, "pg_catalog") && !strings.Contains(lower, "::reg") && !strings.Contains(lower, "::oid") {
		return query
	}
	var b strings.Builder
	flush := func(seg string) {
		for _, r := range catalogRewrites {
			seg = r.re.ReplaceAllString(seg, r.with)
		}
		seg = patchCatalogTables(seg)
		b.WriteString(seg)
	}
	start := 0
	for i := 0; i < len(query); i++ {
		c := query[i]
		if c != '\'' && c != '"' {
			continue
		}
		flush(query[start:i])
		j := i + 1
		for j < len(query) {
			if query[j] == c {
				if j+1 < len(query) && query[j+1] == c {
					j += 2
					continue
				}
				break
			}
			j++
		}
		if j >= len(query) {
			j = len(query) - 1
		}
		b.WriteString(query[i : j+1])
		start = j + 1
		i = j
	}
	if start < len(query) {
		flush(query[start:])
	}
	return b.String()
}

// emptyCatalogResult answers a catalog query about a PostgreSQL catalog
// table DuckDB does not have (pg_inherits, pg_policy, pg_publication,
// pg_statistic_ext, pg_trigger ...) with an empty result: there are no such
// objects in a DuckDB environment.
func emptyCatalogResult(query string, err error) (wire.PreparedStatements, bool) {
	var de *duckError
	if !errors.As(err, &de) || de.typ != bindings.ErrorTypeCatalog {
		return nil, false
	}
	if !strings.Contains(de.msg, "Table with name pg_") || !strings.Contains(strings.ToLower(query), "pg_catalog.pg_") {
		return nil, false
	}
	cols := wire.Columns{{Name: "?column?", Oid: pgtype.TextOID, Width: -1}}
	return wire.Prepared(wire.NewStatement(func(_ context.Context, w wire.DataWriter, _ []wire.Parameter) error {
		return w.Complete("SELECT 0")
	}, wire.WithColumns(cols))), true
}
