package duckenv

import (
	"context"
	"fmt"

	"github.com/vyaparbazaar/dataops/internal/sqlident"
)

// ReplacedTable is one table ReplaceTables copied.
type ReplacedTable struct {
	Schema, Name string
	Rows         int64
}

// ReplaceTables copies every table of the DuckDB file src into this
// environment, replacing the tables of the same names, in one transaction:
// readers see the old data or the new, never a mix, and a failure changes
// nothing. It is how a refresh flips an environment to new data.
func (e *Env) ReplaceTables(ctx context.Context, src string) ([]ReplacedTable, error) {
	conn, err := e.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	const alias = "__dataops_refresh"
	if _, err := conn.ExecContext(ctx, "ATTACH "+sqlident.Literal(src)+" AS "+alias+" (READ_ONLY)"); err != nil {
		return nil, fmt.Errorf("refresh: open %s: %w", src, err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "DETACH "+alias) //nolint:errcheck // best effort
	// dataops' own schemas (history, versions) belong to each environment.
	rows, err := conn.QueryContext(ctx, `SELECT schema_name, table_name FROM duckdb_tables()
WHERE database_name = ? AND NOT starts_with(schema_name, '_dataops') ORDER BY 1, 2`, alias)
	if err != nil {
		return nil, err
	}
	var tables []ReplacedTable
	for rows.Next() {
		var t ReplacedTable
		if err := rows.Scan(&t.Schema, &t.Name); err != nil {
			rows.Close()
			return nil, err
		}
		tables = append(tables, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	for i := range tables {
		t := &tables[i]
		if t.Schema != "main" {
			if _, err := conn.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+sqlident.Quote(t.Schema)); err != nil {
				return nil, fmt.Errorf("refresh: schema %s: %w", t.Schema, err)
			}
		}
		target := sqlident.QuoteQualified(t.Schema, t.Name)
		if _, err := conn.ExecContext(ctx, "CREATE OR REPLACE TABLE "+target+" AS SELECT * FROM "+alias+"."+target); err != nil {
			return nil, fmt.Errorf("refresh: %s.%s: %w", t.Schema, t.Name, err)
		}
		if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM "+target).Scan(&t.Rows); err != nil {
			return nil, err
		}
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return nil, fmt.Errorf("refresh: %w", err)
	}
	ok = true
	return tables, nil
}
