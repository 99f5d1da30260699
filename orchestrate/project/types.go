package project

import (
	"time"

	"github.com/vyaparbazaar/dataops/internal/sqlident"
)

// DefaultSchema is the schema of relations whose config names none.
const DefaultSchema = "main"

// Relation names a table or view.
type Relation struct {
	Schema string
	Name   string
}

// Quoted returns "schema"."name" (schema defaults to DefaultSchema).
func (r Relation) Quoted() string {
	s := r.Schema
	if s == "" {
		s = DefaultSchema
	}
	return sqlident.QuoteQualified(s, r.Name)
}

// String returns schema.name unquoted, for messages.
func (r Relation) String() string {
	s := r.Schema
	if s == "" {
		s = DefaultSchema
	}
	return s + "." + r.Name
}

// Materializations of a model.
const (
	MaterializedView        = "view"
	MaterializedTable       = "table"
	MaterializedIncremental = "incremental"
	MaterializedEphemeral   = "ephemeral"
)

// Incremental strategies.
const (
	StrategyAppend       = "append"
	StrategyDeleteInsert = "delete+insert"
	StrategyMerge        = "merge"
)

// CompileState is what is known only when a model is about to run.
type CompileState struct {
	// IsIncremental is the value of is_incremental(): the model is
	// incremental, its relation exists, and this is not a full refresh.
	IsIncremental bool
}

// Compiled is a rendered SQL statement and how to map its lines back to the
// file it came from.
type Compiled struct {
	// SQL is the rendered SELECT (with ephemeral CTEs inlined).
	SQL string
	// Path is the project-relative source file ("" for Go-declared nodes).
	Path string
	// SourceLine maps a 1-based line of SQL to the 1-based line of Path that
	// produced it; nil means the identity.
	SourceLine func(compiledLine int) int
}

// Line returns the source line for a compiled line.
func (c Compiled) Line(compiledLine int) int {
	if c.SourceLine == nil {
		return compiledLine
	}
	return c.SourceLine(compiledLine)
}

// Model is a SQL model: a SELECT that builds one relation.
type Model struct {
	Name string
	// Path is the project-relative .sql file ("" for models declared in Go).
	Path string
	// RawSQL is the model's text before rendering.
	RawSQL string
	// Materialized is view (default), table, incremental or ephemeral.
	Materialized string
	// Schema and Alias name the relation (defaults: DefaultSchema, Name).
	Schema string
	Alias  string
	// UniqueKey columns for incremental delete+insert or merge.
	UniqueKey []string
	// IncrementalStrategy is append, delete+insert or merge; empty means
	// append without a unique key and delete+insert with one.
	IncrementalStrategy string
	// Config is the model's full resolved config.
	Config map[string]any
	// Meta is the model's meta (owner, priority, critical, ...).
	Meta map[string]any
	// Columns declared in property files.
	Columns []Column

	// compile renders RawSQL; nil means RawSQL is used as is.
	compile func(CompileState) (Compiled, error)
}

// Relation returns the relation the model builds.
func (m *Model) Relation() Relation {
	name := m.Alias
	if name == "" {
		name = m.Name
	}
	return Relation{Schema: m.Schema, Name: name}
}

// Compile renders the model's SQL for the given state.
func (m *Model) Compile(st CompileState) (Compiled, error) {
	if m.compile != nil {
		return m.compile(st)
	}
	return Compiled{SQL: m.RawSQL, Path: m.Path}, nil
}

// Column is a declared column.
type Column struct {
	Name        string
	Type        string
	Description string
}

// Seed is a CSV file loaded into a table.
type Seed struct {
	Name string
	Path string
	// Data is the CSV content.
	Data []byte
	// ColumnTypes maps column names to declared SQL types; other columns are
	// inferred.
	ColumnTypes map[string]string
	Delimiter   string
	Schema      string
	Alias       string
	Config      map[string]any
	// Description and Columns come from property files.
	Description string
	Columns     []Column
}

// Relation returns the relation the seed loads.
func (s *Seed) Relation() Relation {
	name := s.Alias
	if name == "" {
		name = s.Name
	}
	return Relation{Schema: s.Schema, Name: name}
}

// Source is an external table declared under sources:. Its node name is
// "source_name.table_name".
type Source struct {
	SourceName string
	Table      string
	// Schema defaults to SourceName; Identifier to Table.
	Schema     string
	Identifier string
	Path       string
	Line       int
	Columns    []Column
	// Freshness settings (zero when not declared).
	LoadedAtField string
	WarnAfter     time.Duration
	ErrorAfter    time.Duration
	Description   string
	// Tags are the source's and the table's tags.
	Tags []string
	// Meta is the source's meta merged with the table's.
	Meta map[string]any
}

// NodeName returns "source_name.table_name".
func (s *Source) NodeName() string { return s.SourceName + "." + s.Table }

// Relation returns the relation the source reads.
func (s *Source) Relation() Relation {
	schema := s.Schema
	if schema == "" {
		schema = s.SourceName
	}
	name := s.Identifier
	if name == "" {
		name = s.Table
	}
	return Relation{Schema: schema, Name: name}
}

// Severities of a data test.
const (
	SeverityError = "error"
	SeverityWarn  = "warn"
)

// DataTest is a query whose rows are failures: a generic test (unique,
// not_null, accepted_values, relationships) from a property file, or a
// singular test from tests/*.sql.
type DataTest struct {
	Name string
	// Type is the generic test name, or "singular".
	Type string
	// Path and Line locate the declaration.
	Path string
	Line int
	// Model is the node the test is attached to; Column the column, if any.
	Model  string
	Column string
	// Args are the test's arguments (values, to, field, ...).
	Args map[string]any
	// Severity is error (default) or warn.
	Severity string
	// WarnIf and ErrorIf are conditions on the failure count, such as "!=0"
	// (the default) or ">10".
	WarnIf  string
	ErrorIf string
	// StoreFailures keeps the failing rows in a table for inspection.
	StoreFailures bool
	RawSQL        string
	// Config is the test's resolved config (severity, where, tags, ...).
	Config map[string]any
	// Description is the test's description, if any.
	Description string

	compile func(CompileState) (Compiled, error)
}

// Compile renders the test's failing-rows query.
func (t *DataTest) Compile(st CompileState) (Compiled, error) {
	if t.compile != nil {
		return t.compile(st)
	}
	return Compiled{SQL: t.RawSQL, Path: t.Path}, nil
}
