// Package sqlident quotes SQL identifiers and string literals for DuckDB.
package sqlident

import "strings"

// Quote returns ident as a double-quoted SQL identifier.
func Quote(ident string) string {
	return `"` + strings.ReplaceAll(ident, `"`, `""`) + `"`
}

// QuoteQualified quotes each non-empty part and joins them with dots.
func QuoteQualified(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		if p == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(Quote(p))
	}
	return b.String()
}

// Literal returns s as a single-quoted SQL string literal.
func Literal(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
