package duckenv

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
