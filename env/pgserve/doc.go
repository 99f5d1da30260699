// Package pgserve serves DuckDB environments over the PostgreSQL wire
// protocol (github.com/jeroenrinzema/psql-wire) to read-only clients: psql,
// BI tools, pgx. The process that owns an environment's database (builds
// and publishes into it) serves everyone else's queries on the same
// *sql.DB; each environment is a PostgreSQL database name.
//
// Users authenticate with a password over TLS (bcrypt hashes in a users
// file), map to an env.Principal, and the env.Authorizer decides who may
// read which environment. Every statement runs in its own `BEGIN
// TRANSACTION READ ONLY` transaction, so it sees the last published
// snapshot as a whole however long it streams; writes are refused with
// SQLSTATE 25006, and what a read-only transaction would still let through
// (COPY, ATTACH, SET, file-reading table functions, several statements,
// ...) with 42501, each with an audit event. Results stream chunk by chunk
// from DuckDB's streaming result. See docs/pgserve.md.
package pgserve
