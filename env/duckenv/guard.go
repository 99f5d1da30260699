package duckenv

import "strings"

// CheckReadOnlySQL is the statement guard of Query, for other read-only
// entry points (the PostgreSQL front in package pgserve): it refuses,
// before anything runs, what a `BEGIN TRANSACTION READ ONLY` transaction
// would still let through (several statements, COPY, EXPORT, ATTACH, SET,
// LOAD/INSTALL, PRAGMA, CALL, CREATE TEMP, transaction control, table
// functions and FROM clauses that read local files, ...). The error
// matches ErrRefused and says why. It does not check the statement's type
// (an INSERT passes the guard and fails in the read-only transaction).
func CheckReadOnlySQL(query string) error {
	return checkReadOnlySQL(query)
}

// MentionsInternalSchemas reports whether a statement names one of
// dataops' hidden schemas (_dataops, _dataops_versions, ...) outside string
// literals: readers may not read dataops' own tables (run history,
// versions, incidents). Table functions that take a table name as a string
// are refused by CheckReadOnlySQL.
func MentionsInternalSchemas(q string) bool {
	var b strings.Builder
	for i := 0; i < len(q); i++ {
		if q[i] != '\'' {
			b.WriteByte(q[i])
			continue
		}
		for i++; i < len(q); i++ {
			if q[i] == '\'' {
				if i+1 < len(q) && q[i+1] == '\'' {
					i++
					continue
				}
				break
			}
		}
	}
	return strings.Contains(strings.ToLower(b.String()), "_dataops")
}
