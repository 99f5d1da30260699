package duckenv

import (
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/vyaparbazaar/dataops/recovery"
)

// DefaultMaxRejectedShare is the share of malformed rows an external CSV
// source tolerates when its meta sets no max_rejected_share: 1%.
const DefaultMaxRejectedShare = 0.01

// sourcePrefix is "path:line: source \"name\": " (path and line when known).
func sourcePrefix(path string, line int, source string) string {
	return nodeLoc{kind: "source", node: strconv.Quote(source), path: path, line: line}.prefix()
}

// SourceMissingError is a source whose relation or external file does not
// exist:
//
//	models/staging/_sources.yml:12: source "raw.orders": relation raw.orders does not exist
//	models/staging/_sources.yml:12: source "raw.orders": file data/orders.csv does not exist
//
// It matches ErrRelationNotFound (a relation) or fs.ErrNotExist (a file)
// and is classified recovery.ClassSourceMissing.
type SourceMissingError struct {
	// Source is the source's node name, "source_name.table_name".
	Source string
	// Path and Line locate the source's declaration ("" and 0 when
	// unknown).
	Path string
	Line int
	// Relation is the missing relation (schema.name), when it is one.
	Relation string
	// File is the missing file or glob as declared in external_location,
	// when it is one.
	File string
}

// Error names the missing relation or file.
func (e *SourceMissingError) Error() string {
	p := sourcePrefix(e.Path, e.Line, e.Source)
	switch {
	case e.File != "" && isGlob(e.File):
		return p + "no files match " + e.File
	case e.File != "":
		return p + "file " + e.File + " does not exist"
	}
	return p + "relation " + e.Relation + " does not exist"
}

// Unwrap returns ErrRelationNotFound for a relation, fs.ErrNotExist for a
// file.
func (e *SourceMissingError) Unwrap() error {
	if e.File != "" {
		return fs.ErrNotExist
	}
	return ErrRelationNotFound
}

// FailureClass returns recovery.ClassSourceMissing.
func (e *SourceMissingError) FailureClass() recovery.Class { return recovery.ClassSourceMissing }

// ColumnChange is a declared column whose actual type differs.
type ColumnChange struct {
	Name string
	// Declared is the type as declared (data_type); Actual the type DuckDB
	// reports.
	Declared string
	Actual   string
}

// SchemaChangeError is a source whose relation no longer matches its
// declared columns: every missing column and every changed type, in one
// error:
//
//	models/staging/_sources.yml:12: source "raw.orders": schema changed: column "amount_inr" is missing; column "order_ts" is VARCHAR, declared TIMESTAMP
//
// It is classified recovery.ClassSchemaChange.
type SchemaChangeError struct {
	// Source is the source's node name, "source_name.table_name".
	Source string
	// Path and Line locate the source's declaration.
	Path string
	Line int
	// Missing are the declared columns (and the loaded_at_field) that the
	// relation lacks, in declaration order.
	Missing []string
	// Changed are the declared columns whose type differs.
	Changed []ColumnChange
}

// Error names every missing column and changed type.
func (e *SchemaChangeError) Error() string {
	var parts []string
	for _, m := range e.Missing {
		parts = append(parts, fmt.Sprintf("column %q is missing", m))
	}
	for _, c := range e.Changed {
		parts = append(parts, fmt.Sprintf("column %q is %s, declared %s", c.Name, c.Actual, c.Declared))
	}
	return sourcePrefix(e.Path, e.Line, e.Source) + "schema changed: " + strings.Join(parts, "; ")
}

// FailureClass returns recovery.ClassSchemaChange.
func (e *SchemaChangeError) FailureClass() recovery.Class { return recovery.ClassSchemaChange }

// StaleSourceError is a source with no new data: no rows at all, or a
// newest loaded_at_field value older than its error_after threshold:
//
//	models/staging/_sources.yml:12: source "raw.orders": no new data: newest _loaded_at 2025-12-31 23:59 is 26h ago (error after 12h)
//
// It is classified recovery.ClassStaleSource.
type StaleSourceError struct {
	// Source is the source's node name, "source_name.table_name".
	Source string
	// Path and Line locate the source's declaration.
	Path string
	Line int
	// Empty is set when the relation has no rows.
	Empty bool
	// Field is the loaded_at_field.
	Field string
	// LoadedAt is the newest Field value (zero when Empty, or when Field
	// is NULL in every row); Age is how old it was at the runner's clock.
	LoadedAt time.Time
	Age      time.Duration
	// Threshold is the freshness error_after that Age exceeds.
	Threshold time.Duration
}

// Error says why the source has no new data.
func (e *StaleSourceError) Error() string {
	p := sourcePrefix(e.Path, e.Line, e.Source) + "no new data: "
	switch {
	case e.Empty:
		return p + "source has no rows"
	case e.LoadedAt.IsZero():
		return p + e.Field + " is NULL in every row"
	}
	return p + fmt.Sprintf("newest %s %s is %s ago (error after %s)", e.Field, formatLoadedAt(e.LoadedAt), formatAge(e.Age), formatAge(e.Threshold))
}

// FailureClass returns recovery.ClassStaleSource.
func (e *StaleSourceError) FailureClass() recovery.Class { return recovery.ClassStaleSource }

// CorruptDataError is an external CSV source with more malformed rows than
// its max_rejected_share allows. The source's relation is left as it was;
// the malformed rows are in RejectsTable:
//
//	models/staging/_sources.yml:12: source "raw.orders": corrupt data: 2 of 100 rows (2%) of data/orders.csv rejected, more than max_rejected_share 1% (see raw.orders__rejects)
//
// It is classified recovery.ClassCorruptData.
type CorruptDataError struct {
	// Source is the source's node name, "source_name.table_name".
	Source string
	// Path and Line locate the source's declaration.
	Path string
	Line int
	// File is the external_location as declared.
	File string
	// Rejected of Total rows (loaded + rejected) were malformed; Share is
	// Rejected/Total, more than Threshold.
	Rejected  int64
	Total     int64
	Share     float64
	Threshold float64
	// RejectsTable (schema.name) holds the malformed rows with their file,
	// line, column and error.
	RejectsTable string
}

// Error says how many rows were rejected and where they are.
func (e *CorruptDataError) Error() string {
	of := ""
	if e.File != "" {
		of = " of " + e.File
	}
	return sourcePrefix(e.Path, e.Line, e.Source) + fmt.Sprintf(
		"corrupt data: %d of %d rows (%s)%s rejected, more than max_rejected_share %s (see %s)",
		e.Rejected, e.Total, formatShare(e.Share), of, formatShare(e.Threshold), e.RejectsTable)
}

// FailureClass returns recovery.ClassCorruptData.
func (e *CorruptDataError) FailureClass() recovery.Class { return recovery.ClassCorruptData }

// formatLoadedAt formats a loaded-at time in UTC to the minute.
func formatLoadedAt(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04")
}

// formatAge formats a duration compactly: 45s, 5m, 26h, 1h30m, 3d4h.
func formatAge(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	if d < time.Minute {
		return strconv.Itoa(int(d/time.Second)) + "s"
	}
	d = d.Round(time.Minute)
	days, hours, mins := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour), int(d%time.Hour/time.Minute)
	if d >= 48*time.Hour {
		s := strconv.Itoa(days) + "d"
		if hours > 0 {
			s += strconv.Itoa(hours) + "h"
		}
		return s
	}
	hours += days * 24
	switch {
	case hours == 0:
		return strconv.Itoa(mins) + "m"
	case mins == 0:
		return strconv.Itoa(hours) + "h"
	}
	return strconv.Itoa(hours) + "h" + strconv.Itoa(mins) + "m"
}

// formatShare formats a fraction as a percentage with at most two
// decimals: 0.02 → "2%", 1/3 → "33.33%".
func formatShare(f float64) string {
	s := strconv.FormatFloat(f*100, 'f', 2, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s + "%"
}
