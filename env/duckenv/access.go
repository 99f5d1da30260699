package duckenv

import (
	"context"
	"strings"

	"github.com/vyaparbazaar/dataops/env"
)

// QueryAs runs one read-only statement for a principal: the access policy
// must allow it to read this environment, and the decision is audited
// (via "api"). The statement then runs like Query: in a read-only DuckDB
// transaction on this database, so a write fails in DuckDB itself, after
// the statements and table functions a read-only transaction would still
// allow are refused.
func (e *Env) QueryAs(ctx context.Context, authz env.Authorizer, auditor env.Auditor, p env.Principal, query string) (*QueryResult, error) {
	object := strings.Join(strings.Fields(query), " ")
	if len(object) > 200 {
		object = object[:200] + "…"
	}
	if err := env.Check(ctx, authz, auditor, p, e.name, env.ActionRead, object, "api"); err != nil {
		return nil, err
	}
	return e.Query(ctx, query)
}
