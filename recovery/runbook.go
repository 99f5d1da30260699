package recovery

import (
	"maps"
	"time"
)

// Runbooks hold, for each failure class, a short text telling the person
// on call what to check and what to run. Alerts attach Runbooks.For(class).
type Runbooks map[Class]string

// DefaultRunbooks returns a new map with the runbook of every class.
func DefaultRunbooks() Runbooks {
	return Runbooks{
		ClassTransient: "Usually passes on retry; if it persists check disk space, memory_limit and whether " +
			"another process holds the database lock (lsof target/*.duckdb).",
		ClassTimeout: "The attempt ran past its timeout. Check whether the input grew (rows in `vyaparbazaar history`), " +
			"whether another query competes for the database, and the query plan (EXPLAIN ANALYZE in `vyaparbazaar query`); " +
			"raise the node's timeout only once the query itself is sound.",
		ClassPermanent: "Retrying will not help: the error names the problem (Parser/Binder/Catalog Error: the SQL; " +
			"Constraint/Conversion Error: the data). Fix the model or its configuration, check it with " +
			"`vyaparbazaar compile -s <model>`, then `vyaparbazaar retry`.",
		ClassTestFailure: "A data test found failing rows. Look at them with the test's compiled SQL under target/compiled/ " +
			"(`vyaparbazaar query`), then fix the upstream data or the model, or lower the test's severity if the rows " +
			"are expected; rebuild with `vyaparbazaar build -s <model>+`.",
		ClassSchemaChange: "Compare the source's columns with its declaration in _sources.yml; update the declaration " +
			"or the staging model, then `vyaparbazaar retry`.",
		ClassSourceMissing: "The source table or file does not exist. Check that its loader ran and wrote where " +
			"_sources.yml says (schema, table, path), then `vyaparbazaar retry`.",
		ClassStaleSource: "The source has no new data within its freshness threshold. Check the upstream load or export " +
			"job (last success, its logs); downstream models keep serving their last good version meanwhile.",
		ClassCorruptData: "Too many malformed rows in the source. Inspect the rows the error points to, fix the export or " +
			"the declared column types, then `vyaparbazaar retry`; do not raise the threshold just to pass.",
		ClassCancelled: "The run was cancelled (by its caller, a deadline or --fail-fast): nothing to fix here. Look at " +
			"the run's first failure, then `vyaparbazaar retry`.",
	}
}

// For returns the runbook of class c: r's when r has one (even empty),
// else DefaultRunbooks'; "" for a class without any.
func (r Runbooks) For(c Class) string {
	if text, ok := r[c]; ok {
		return text
	}
	return DefaultRunbooks()[c]
}

// With returns a copy of r with the runbooks of over replacing r's, e.g.
// DefaultRunbooks().With(cfg.Runbooks).
func (r Runbooks) With(over Runbooks) Runbooks {
	out := make(Runbooks, len(r)+len(over))
	maps.Copy(out, r)
	maps.Copy(out, over)
	return out
}

// DefaultEscalationAfter is how long an unacknowledged alert waits for its
// primary contact before going to the secondary, when Escalation.After is 0.
const DefaultEscalationAfter = 30 * time.Minute

// Escalation says whom to contact about a team's failures: Primary first,
// then Secondary once an alert has stayed open and unacknowledged for
// After (DefaultEscalationAfter when 0).
type Escalation struct {
	Team      string
	Primary   string
	Secondary string
	After     time.Duration
}

// Contact returns whom to contact about an alert open for sinceOpen: the
// primary contact, or the secondary once sinceOpen reaches After without
// acknowledgement. It returns the primary when there is no secondary.
func (e Escalation) Contact(sinceOpen time.Duration, acknowledged bool) string {
	after := e.After
	if after <= 0 {
		after = DefaultEscalationAfter
	}
	if !acknowledged && e.Secondary != "" && sinceOpen >= after {
		return e.Secondary
	}
	return e.Primary
}

// DefaultTeam is the key of EscalationPolicy's catch-all entry, used for
// teams without an entry of their own.
const DefaultTeam = "default"

// EscalationPolicy holds escalations by owner team; the entry DefaultTeam,
// if any, covers the other teams.
type EscalationPolicy map[string]Escalation

// Contact returns whom to contact about an alert for team's node, open for
// sinceOpen: see Escalation.Contact. It returns "" when neither team nor
// DefaultTeam has an entry.
func (p EscalationPolicy) Contact(team string, sinceOpen time.Duration, acknowledged bool) string {
	e, ok := p[team]
	if !ok {
		if e, ok = p[DefaultTeam]; !ok {
			return ""
		}
	}
	return e.Contact(sinceOpen, acknowledged)
}
