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

// SplitQualified parses a name made by QuoteQualified of two parts,
// `"schema"."name"`, and returns the parts unquoted.
func SplitQualified(q string) (schema, name string, ok bool) {
	parts, ok := splitQuoted(q)
	if !ok || len(parts) != 2 {
		return "", "", false
	}
	return parts[0], parts[1], true
}

func splitQuoted(q string) ([]string, bool) {
	var parts []string
	for len(q) > 0 {
		if q[0] != '"' {
			return nil, false
		}
		var b strings.Builder
		i := 1
		for {
			if i >= len(q) {
				return nil, false
			}
			if q[i] == '"' {
				if i+1 < len(q) && q[i+1] == '"' {
					b.WriteByte('"')
					i += 2
					continue
				}
				break
			}
			b.WriteByte(q[i])
			i++
		}
		parts = append(parts, b.String())
		q = q[i+1:]
		if len(q) > 0 {
			if q[0] != '.' || len(q) == 1 {
				return nil, false
			}
			q = q[1:]
		}
	}
	return parts, len(parts) > 0
}
