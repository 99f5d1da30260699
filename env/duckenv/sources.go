package duckenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/vyaparbazaar/dataops/internal/sqlident"
	"github.com/vyaparbazaar/dataops/orchestrate"
	"github.com/vyaparbazaar/dataops/orchestrate/project"
	"github.com/vyaparbazaar/dataops/recovery"
)

// Source meta keys the source node understands.
const (
	metaExternalLocation = "external_location"
	metaFormat           = "format"
	metaDelimiter        = "delimiter"
	metaAllowEmpty       = "allow_empty"
	metaMaxRejectedShare = "max_rejected_share"
)

// rejectsSuffix names the table that keeps an external CSV source's
// malformed rows: "<schema>"."<table>__rejects".
const rejectsSuffix = "__rejects"

// External file formats.
const (
	formatCSV     = "csv"
	formatParquet = "parquet"
)

// sourceSpec is a source node's declaration, resolved.
type sourceSpec struct {
	src  *project.Source
	name string // node name, "source_name.table_name"
	path string
	line int
	rel  project.Relation

	allowEmpty       bool
	location         string // external_location as declared
	display          string // location with credentials and query removed, for messages
	format           string // formatCSV or formatParquet (external only)
	delimiter        string
	maxRejectedShare float64
}

func (sp *sourceSpec) loc() nodeLoc {
	return nodeLoc{kind: "source", node: strconv.Quote(sp.name), path: sp.path, line: sp.line}
}

func (sp *sourceSpec) missingRelation() error {
	return &SourceMissingError{Source: sp.name, Path: sp.path, Line: sp.line, Relation: sp.rel.String()}
}

// ---- the source node ----------------------------------------------------

// runSource checks a source: it exists, matches its declared columns, has
// rows and fresh data; an external source is first (re)loaded from its
// files.
func (r *Runner) runSource(ctx context.Context, n *orchestrate.Node, src *project.Source) (orchestrate.Outcome, error) {
	name := n.Name
	if src.SourceName != "" || src.Table != "" {
		name = src.NodeName()
	}
	sp := &sourceSpec{src: src, name: name, path: firstNonEmpty(src.Path, n.Path), line: src.Line, rel: src.Relation()}
	if err := sp.parseMeta(src.Meta); err != nil {
		return orchestrate.Outcome{}, sp.loc().errorf(nil, "%v", err)
	}
	s, err := r.env.session(ctx, name)
	if err != nil {
		return orchestrate.Outcome{}, err
	}
	defer s.close()
	if sp.location != "" {
		defer r.writeTarget("run", targetFile(sp.path, name), s)
		return r.runExternalSource(ctx, s, sp)
	}
	st, err := r.inspectSource(ctx, s, sp, sp.rel)
	if err != nil {
		return orchestrate.Outcome{}, err
	}
	return st.outcome(sp, fmt.Sprintf("%d %s", st.rows, plural(st.rows, "row", "rows"))), nil
}

// parseMeta reads the source's meta settings.
func (sp *sourceSpec) parseMeta(meta map[string]any) error {
	sp.maxRejectedShare = DefaultMaxRejectedShare
	var err error
	if v, ok := meta[metaAllowEmpty]; ok && v != nil {
		if sp.allowEmpty, err = metaBool(v); err != nil {
			return fmt.Errorf("meta %s: %v", metaAllowEmpty, err)
		}
	}
	if sp.location, err = metaString(meta, metaExternalLocation); err != nil {
		return err
	}
	if sp.delimiter, err = metaString(meta, metaDelimiter); err != nil {
		return err
	}
	format, err := metaString(meta, metaFormat)
	if err != nil {
		return err
	}
	if v, ok := meta[metaMaxRejectedShare]; ok && v != nil {
		if sp.maxRejectedShare, err = metaShare(v); err != nil {
			return fmt.Errorf("meta %s: %v", metaMaxRejectedShare, err)
		}
	}
	sp.display = redactLocation(sp.location)
	if sp.location != "" {
		if sp.format, err = externalFormat(sp.location, format); err != nil {
			return err
		}
	}
	return nil
}

// sourceStats is what inspectSource found.
type sourceStats struct {
	rows int64
	// extra is the number of undeclared columns (-1 when no columns are
	// declared).
	extra int
	// field is the loaded_at_field; loadedAt its newest value (zero when
	// NULL in every row) and age how old that is.
	field    string
	loadedAt time.Time
	age      time.Duration
	// stale is the warning of a source older than warn_after.
	stale string
}

// outcome is the successful outcome of a source: "OK 100 rows; 2 extra
// columns; newest _loaded_at 2025-12-31 23:59 (3h ago)", or
// "warn: stale (...); 100 rows" with Warn set.
func (st sourceStats) outcome(sp *sourceSpec, lead ...string) orchestrate.Outcome {
	parts := append([]string(nil), lead...)
	if st.extra > 0 {
		parts = append(parts, fmt.Sprintf("%d extra %s", st.extra, plural(int64(st.extra), "column", "columns")))
	}
	if st.field != "" && !st.loadedAt.IsZero() && st.stale == "" {
		parts = append(parts, fmt.Sprintf("newest %s %s (%s ago)", st.field, formatLoadedAt(st.loadedAt), formatAge(st.age)))
	}
	out := orchestrate.Outcome{RowsAffected: st.rows, Relation: sp.rel.String()}
	if st.stale != "" {
		out.Warn = true
		out.Message = "warn: stale (" + st.stale + "); " + strings.Join(parts, "; ")
	} else {
		out.Message = "OK " + strings.Join(parts, "; ")
	}
	return out
}

var plainIdent = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_$]*$`)

// inspectSource checks target, the source's relation or the scratch table
// an external source was loaded into: it exists, has the declared columns
// and types, has rows and fresh data. Its errors are located and name the
// source's relation.
func (r *Runner) inspectSource(ctx context.Context, s *session, sp *sourceSpec, target project.Relation) (sourceStats, error) {
	st := sourceStats{extra: -1}
	loc := sp.loc()
	field := strings.TrimSpace(sp.src.LoadedAtField)
	fieldIsColumn := plainIdent.MatchString(field)
	needColumns := len(sp.src.Columns) > 0 || fieldIsColumn
	if needColumns {
		cols, err := relationColumns(ctx, s, target)
		if err != nil {
			return st, loc.sqlErr(err, nil)
		}
		if len(cols) == 0 {
			return st, sp.missingRelation()
		}
		missing, changed, extra := compareColumns(sp.src.Columns, cols, field, fieldIsColumn)
		if len(missing) > 0 || len(changed) > 0 {
			return st, &SchemaChangeError{Source: sp.name, Path: sp.path, Line: sp.line, Missing: missing, Changed: changed}
		}
		if len(sp.src.Columns) > 0 {
			st.extra = extra
		}
	}

	q := "SELECT count(*)"
	if field != "" {
		expr := "(" + field + ")"
		if fieldIsColumn {
			expr = sqlident.Quote(field)
		}
		q += ", max(" + expr + ")"
	}
	q += " FROM " + target.Quoted()
	s.env.log.Debug("query", "env", s.env.name, "node", s.node, "sql", q)
	var newest any
	dest := []any{&st.rows}
	if field != "" {
		dest = append(dest, &newest)
	}
	if err := s.conn.QueryRowContext(ctx, q).Scan(dest...); err != nil {
		if !needColumns {
			// Only on failure look up the catalog, to say plainly that the
			// relation is missing.
			if typ, terr := relationType(ctx, s, target); terr == nil && typ == "" {
				return st, sp.missingRelation()
			}
		}
		return st, loc.sqlErr(err, nil)
	}

	if st.rows == 0 {
		if sp.allowEmpty {
			return st, nil
		}
		return st, &StaleSourceError{Source: sp.name, Path: sp.path, Line: sp.line, Empty: true, Field: field}
	}
	if field == "" {
		return st, nil
	}
	st.field = field
	t, ok, err := asTime(newest)
	if err != nil {
		return st, loc.errorf(nil, "loaded_at_field %s: %v", field, err)
	}
	warnAfter, errorAfter := sp.src.WarnAfter, sp.src.ErrorAfter
	if r.opts.FreshnessWarnOnly && errorAfter > 0 {
		// A sample's newest rows are older than production's: report,
		// do not fail.
		if warnAfter == 0 || warnAfter > errorAfter {
			warnAfter = errorAfter
		}
		errorAfter = 0
	}
	if !ok {
		if errorAfter > 0 {
			return st, &StaleSourceError{Source: sp.name, Path: sp.path, Line: sp.line, Field: field, Threshold: errorAfter}
		}
		if warnAfter > 0 {
			st.stale = field + " is NULL in every row"
		}
		return st, nil
	}
	st.loadedAt = t
	st.age = max(r.now().Sub(t), 0)
	if errorAfter > 0 && st.age > errorAfter {
		return st, &StaleSourceError{Source: sp.name, Path: sp.path, Line: sp.line, Field: field,
			LoadedAt: t, Age: st.age, Threshold: errorAfter}
	}
	if warnAfter > 0 && st.age > warnAfter {
		st.stale = fmt.Sprintf("newest %s %s is %s ago, warn after %s", field, formatLoadedAt(t), formatAge(st.age), formatAge(warnAfter))
	}
	return st, nil
}

// asTime converts the newest loaded-at value; ok is false for NULL.
// Timestamps without a time zone are taken as UTC.
func asTime(v any) (t time.Time, ok bool, err error) {
	switch x := v.(type) {
	case nil:
		return time.Time{}, false, nil
	case time.Time:
		return x, true, nil
	case string:
		for _, layout := range []string{
			"2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999Z07",
			"2006-01-02 15:04:05.999999999", time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02",
		} {
			if t, err := time.Parse(layout, strings.TrimSpace(x)); err == nil {
				return t, true, nil
			}
		}
		return time.Time{}, false, fmt.Errorf("newest value %q is not a timestamp", x)
	}
	return time.Time{}, false, fmt.Errorf("newest value is a %T, want a timestamp or date", v)
}

// relColumn is a column of a relation as the catalog reports it.
type relColumn struct {
	name, typ string
}

// relationColumns returns rel's columns in order (none when rel does not
// exist). It sees tables created in the session's open transaction.
func relationColumns(ctx context.Context, s *session, rel project.Relation) ([]relColumn, error) {
	rows, err := s.conn.QueryContext(ctx, `SELECT column_name, data_type FROM duckdb_columns()
WHERE database_name = current_database() AND lower(schema_name) = lower(?) AND lower(table_name) = lower(?)
ORDER BY column_index`, schemaOf(rel), rel.Name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cols []relColumn
	for rows.Next() {
		var c relColumn
		if err := rows.Scan(&c.name, &c.typ); err != nil {
			return nil, err
		}
		cols = append(cols, c)
	}
	return cols, rows.Err()
}

// compareColumns compares declared columns with a relation's: the declared
// columns it lacks (and field, the loaded_at column, when fieldIsColumn),
// those whose type differs, and how many of its columns are not declared.
// Names compare case-insensitively, types normalized.
func compareColumns(declared []project.Column, actual []relColumn, field string, fieldIsColumn bool) (missing []string, changed []ColumnChange, extra int) {
	byName := make(map[string]relColumn, len(actual))
	for _, c := range actual {
		byName[strings.ToLower(c.name)] = c
	}
	seen := map[string]bool{}
	for _, d := range declared {
		name := strings.TrimSpace(d.Name)
		key := strings.ToLower(name)
		if name == "" || seen[key] {
			continue
		}
		seen[key] = true
		a, ok := byName[key]
		if !ok {
			missing = append(missing, name)
			continue
		}
		if typ := strings.TrimSpace(d.Type); typ != "" && normalizeType(typ) != normalizeType(a.typ) {
			changed = append(changed, ColumnChange{Name: name, Declared: typ, Actual: a.typ})
		}
	}
	for key := range byName {
		if !seen[key] {
			extra++
		}
	}
	if fieldIsColumn && !seen[strings.ToLower(field)] {
		if _, ok := byName[strings.ToLower(field)]; !ok {
			missing = append(missing, field)
		}
	}
	return missing, changed, extra
}

// ---- external sources ---------------------------------------------------

// runExternalSource loads the source's files into a scratch table and, in
// one transaction, checks it and replaces the source's relation with it.
// When a check fails the relation is untouched; the rejects table of a CSV
// source is kept either way.
func (r *Runner) runExternalSource(ctx context.Context, s *session, sp *sourceSpec) (orchestrate.Outcome, error) {
	loc := sp.loc()
	rel := sp.rel
	full := r.resolveLocation(sp.location)
	if !filesExist(full) {
		return orchestrate.Outcome{}, &SourceMissingError{Source: sp.name, Path: sp.path, Line: sp.line, File: sp.display}
	}
	if full != sp.display {
		loc.rewrite = func(msg string) string {
			return strings.ReplaceAll(strings.ReplaceAll(msg, full, sp.display), sp.location, sp.display)
		}
	}

	var b [4]byte
	_, _ = rand.Read(b[:])
	suffix := hex.EncodeToString(b[:])
	rejectsTmp := "__dataops_rejects_" + suffix
	scansTmp := "__dataops_scans_" + suffix
	var sel string
	switch sp.format {
	case formatParquet:
		sel = "SELECT * FROM read_parquet(" + sqlident.Literal(full) + ")"
	default:
		// Malformed rows go to temporary rejects tables instead of failing
		// the load. Declared types are given with types = {...}, not
		// columns = {...}: columns must list every column of the file in
		// order, so a dropped or added column would fail the scan instead
		// of being reported by the schema check.
		opts := []string{
			"header = true",
			"store_rejects = true",
			"rejects_table = " + sqlident.Literal(rejectsTmp),
			"rejects_scan = " + sqlident.Literal(scansTmp),
		}
		if sp.delimiter != "" {
			opts = append(opts, "delim = "+sqlident.Literal(sp.delimiter))
		}
		if types := declaredTypes(sp.src.Columns); types != "" {
			opts = append(opts, "types = {"+types+"}")
		}
		sel = "SELECT * FROM read_csv(" + sqlident.Literal(full) + ", " + strings.Join(opts, ", ") + ")"
	}

	if err := r.ensureSchema(ctx, s, rel.Schema); err != nil {
		return orchestrate.Outcome{}, loc.sqlErr(err, nil)
	}
	if err := r.cleanupTemps(ctx, s, rel); err != nil {
		return orchestrate.Outcome{}, loc.sqlErr(err, nil)
	}
	rejects := project.Relation{Schema: rel.Schema, Name: rel.Name + rejectsSuffix}
	tmp := tempRelation(rel)
	var (
		st                sourceStats
		loaded, rejected  int64
		verdict, buildErr error
	)
	err := s.tx(ctx, func() error {
		if err := s.exec(ctx, wrapSelect("CREATE TABLE "+tmp.Quoted()+" AS", sel)); err != nil {
			buildErr = err
			return err
		}
		var err error
		if loaded, err = s.queryInt(ctx, "SELECT count(*) FROM "+tmp.Quoted()); err != nil {
			return err
		}
		if sp.format == formatCSV {
			rej := "temp.main." + sqlident.Quote(rejectsTmp)
			scans := "temp.main." + sqlident.Quote(scansTmp)
			if rejected, err = s.queryInt(ctx, "SELECT count(*) FROM (SELECT DISTINCT scan_id, file_id, line FROM "+rej+")"); err != nil {
				return err
			}
			if err := s.exec(ctx, "CREATE OR REPLACE TABLE "+rejects.Quoted()+` AS
SELECT s.file_path AS file, e.line::BIGINT AS line, e.column_name, e.error_type::VARCHAR AS error_type,
       e.error_message, e.csv_line, e.byte_position::BIGINT AS byte_position
FROM `+rej+` AS e JOIN `+scans+` AS s USING (scan_id, file_id)
ORDER BY file, line, e.column_idx`); err != nil {
				return err
			}
			for _, t := range []string{rej, scans} {
				if err := s.exec(ctx, "DROP TABLE "+t); err != nil {
					return err
				}
			}
		}
		if total := loaded + rejected; rejected > 0 {
			if share := float64(rejected) / float64(total); share > sp.maxRejectedShare {
				verdict = &CorruptDataError{Source: sp.name, Path: sp.path, Line: sp.line, File: sp.display,
					Rejected: rejected, Total: total, Share: share, Threshold: sp.maxRejectedShare, RejectsTable: rejects.String()}
			}
		}
		if verdict == nil {
			if st, err = r.inspectSource(ctx, s, sp, tmp); err != nil {
				if !isSourceVerdict(err) {
					return err
				}
				verdict = err
			}
		}
		if verdict != nil {
			// Commit only the rejects table: the relation stays as it was.
			return s.exec(ctx, "DROP TABLE "+tmp.Quoted())
		}
		return r.publish(ctx, s, rel, publication{mode: publishTable, build: tmp})
	})
	if err != nil {
		s.dropQuiet(tmp.Quoted())
		if buildErr != nil {
			return orchestrate.Outcome{}, r.externalLoadError(sp, loc, err)
		}
		if isSourceVerdict(err) {
			return orchestrate.Outcome{}, err
		}
		return orchestrate.Outcome{}, loc.sqlErr(err, nil)
	}
	if verdict != nil {
		return orchestrate.Outcome{}, verdict
	}
	lead := []string{fmt.Sprintf("%d %s loaded from %s", loaded, plural(loaded, "row", "rows"), sp.display)}
	if rejected > 0 {
		lead = append(lead, fmt.Sprintf("%d rejected %s in %s", rejected, plural(rejected, "row", "rows"), rejects))
	}
	return st.outcome(sp, lead...), nil
}

// externalLoadError classifies a failed scan of the source's files: files
// that vanished are a missing source; files DuckDB cannot parse (no
// Parquet magic bytes, no CSV dialect) are corrupt data.
func (r *Runner) externalLoadError(sp *sourceSpec, loc nodeLoc, err error) error {
	if isMissingFileMsg(err.Error()) {
		return &SourceMissingError{Source: sp.name, Path: sp.path, Line: sp.line, File: sp.display}
	}
	e := loc.sqlErr(err, nil)
	var se *SQLError
	var de *duckdb.Error
	if errors.As(e, &se) && errors.As(err, &de) {
		switch de.Type {
		case duckdb.ErrorTypeInvalidInput, duckdb.ErrorTypeConversion, duckdb.ErrorTypeSerialization:
			se.class = recovery.ClassCorruptData
		}
	}
	return e
}

// isSourceVerdict reports whether err is one of the source checks' own
// errors (as opposed to a failed statement).
func isSourceVerdict(err error) bool {
	switch err.(type) {
	case *SourceMissingError, *SchemaChangeError, *StaleSourceError, *CorruptDataError:
		return true
	}
	return false
}

// redactLocation removes what must not reach logs, errors or run results
// from a URL location: the user info (credentials) and the query (presigned
// signatures, tokens).
func redactLocation(loc string) string {
	if !strings.Contains(loc, "://") {
		return loc
	}
	u, err := url.Parse(loc)
	if err != nil {
		return "<unparseable URL>"
	}
	if u.User != nil {
		u.User = url.User("REDACTED")
	}
	if u.RawQuery != "" {
		u.RawQuery = "REDACTED"
	}
	return u.String()
}

// resolveLocation makes a relative external_location relative to the
// project directory.
func (r *Runner) resolveLocation(p string) string {
	if strings.Contains(p, "://") || filepath.IsAbs(p) || r.opts.ProjectDir == "" {
		return p
	}
	return filepath.Join(r.opts.ProjectDir, filepath.FromSlash(p))
}

// isGlob reports whether p has glob characters.
func isGlob(p string) bool { return strings.ContainsAny(p, "*?[") }

// filesExist reports whether p names an existing file or matches one.
// URLs and recursive (**) globs are left for DuckDB to decide.
func filesExist(p string) bool {
	if strings.Contains(p, "://") || strings.Contains(p, "**") {
		return true
	}
	if isGlob(p) {
		m, err := filepath.Glob(p)
		return err != nil || len(m) > 0
	}
	_, err := os.Stat(p)
	return !errors.Is(err, fs.ErrNotExist)
}

// externalFormat returns the declared format, or the one the location's
// extension says.
func externalFormat(location, declared string) (string, error) {
	switch f := strings.ToLower(declared); f {
	case formatCSV, formatParquet:
		return f, nil
	case "":
	default:
		return "", fmt.Errorf("meta %s: unknown format %q (want csv or parquet)", metaFormat, declared)
	}
	base := strings.ToLower(location)
	for _, c := range []string{".gz", ".gzip", ".zst", ".zstd"} {
		base = strings.TrimSuffix(base, c)
	}
	switch filepath.Ext(base) {
	case ".parquet", ".pq":
		return formatParquet, nil
	case ".csv", ".tsv", ".txt":
		return formatCSV, nil
	}
	return "", fmt.Errorf("%s %s: cannot tell the file format from the extension; set meta %s to csv or parquet",
		metaExternalLocation, redactLocation(location), metaFormat)
}

// declaredTypes is the read_csv types = {...} body of the declared column
// types ("" when none are declared).
func declaredTypes(cols []project.Column) string {
	var parts []string
	seen := map[string]bool{}
	for _, c := range cols {
		name, typ := strings.TrimSpace(c.Name), strings.TrimSpace(c.Type)
		if name == "" || typ == "" || seen[strings.ToLower(name)] {
			continue
		}
		seen[strings.ToLower(name)] = true
		parts = append(parts, sqlident.Literal(name)+": "+sqlident.Literal(typ))
	}
	return strings.Join(parts, ", ")
}

// ---- meta values --------------------------------------------------------

func metaString(meta map[string]any, key string) (string, error) {
	v, ok := meta[key]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("meta %s: want a string, got %v", key, v)
	}
	return strings.TrimSpace(s), nil
}

func metaBool(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true", "yes", "on", "1":
			return true, nil
		case "false", "no", "off", "0", "":
			return false, nil
		}
	}
	return false, fmt.Errorf("want true or false, got %v", v)
}

// metaShare reads a fraction between 0 and 1, or a percentage ("5%").
func metaShare(v any) (float64, error) {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case float32:
		f = float64(x)
	case int:
		f = float64(x)
	case int64:
		f = float64(x)
	case uint64:
		f = float64(x)
	case string:
		s := strings.TrimSpace(x)
		pct := strings.HasSuffix(s, "%")
		var err error
		if f, err = strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(s, "%")), 64); err != nil {
			return 0, fmt.Errorf("want a fraction such as 0.05 or a percentage such as \"5%%\", got %q", x)
		}
		if pct {
			f /= 100
		}
	default:
		return 0, fmt.Errorf("want a fraction such as 0.05, got %v", v)
	}
	if f < 0 || f > 1 {
		return 0, fmt.Errorf("want a fraction between 0 and 1 (or a percentage such as \"5%%\"), got %v", v)
	}
	return f, nil
}

// ---- column types -------------------------------------------------------

// typeAliases maps DuckDB's type aliases (and common ones of other
// databases) to the names duckdb_columns() reports.
var typeAliases = map[string]string{
	"INT": "INTEGER", "INT4": "INTEGER", "INT32": "INTEGER", "SIGNED": "INTEGER",
	"INT8": "BIGINT", "INT64": "BIGINT", "LONG": "BIGINT",
	"INT2": "SMALLINT", "INT16": "SMALLINT", "SHORT": "SMALLINT",
	"INT1":   "TINYINT",
	"INT128": "HUGEINT",
	"UINT8":  "UTINYINT", "UINT16": "USMALLINT", "UINT32": "UINTEGER", "UINT64": "UBIGINT", "UINT128": "UHUGEINT",
	"TEXT": "VARCHAR", "STRING": "VARCHAR", "CHAR": "VARCHAR", "BPCHAR": "VARCHAR", "NVARCHAR": "VARCHAR",
	"CHARACTER": "VARCHAR", "CHARACTER VARYING": "VARCHAR", "CHAR VARYING": "VARCHAR",
	"FLOAT8": "DOUBLE", "DOUBLE PRECISION": "DOUBLE",
	"FLOAT4": "FLOAT", "REAL": "FLOAT",
	"NUMERIC": "DECIMAL", "DEC": "DECIMAL",
	"BOOL": "BOOLEAN", "LOGICAL": "BOOLEAN",
	"DATETIME": "TIMESTAMP", "TIMESTAMP WITHOUT TIME ZONE": "TIMESTAMP", "TIMESTAMP_US": "TIMESTAMP",
	"TIMESTAMPTZ": "TIMESTAMP WITH TIME ZONE",
	"TIMETZ":      "TIME WITH TIME ZONE", "TIME WITHOUT TIME ZONE": "TIME",
	"BYTEA": "BLOB", "BINARY": "BLOB", "VARBINARY": "BLOB",
}

// normalizeType returns the canonical spelling of a SQL type, for
// comparing a declared type with the one DuckDB reports: upper case,
// aliases resolved (INT4 → INTEGER, TEXT → VARCHAR, DATETIME → TIMESTAMP),
// DECIMAL with its precision and scale (DuckDB's default 18,3), VARCHAR
// without a length, and nested types (STRUCT, MAP, UNION, arrays and
// lists) normalized inside.
func normalizeType(s string) string {
	t := strings.ToUpper(strings.Join(strings.Fields(s), " "))
	if strings.HasSuffix(t, "]") {
		if i := strings.LastIndexByte(t, '['); i > 0 && isDigits(t[i+1:len(t)-1]) {
			return normalizeType(t[:i]) + t[i:]
		}
	}
	name, args, hasArgs := t, "", false
	if i := strings.IndexByte(t, '('); i > 0 && strings.HasSuffix(t, ")") {
		name, args, hasArgs = strings.TrimSpace(t[:i]), t[i+1:len(t)-1], true
	}
	if a, ok := typeAliases[name]; ok {
		name = a
	}
	parts := splitTopLevel(args)
	switch name {
	case "VARCHAR", "BLOB":
		return name // DuckDB ignores lengths
	case "DECIMAL":
		p, sc := "18", "3"
		if hasArgs && len(parts) > 0 {
			p, sc = parts[0], "0"
			if len(parts) > 1 {
				sc = parts[1]
			}
		}
		return "DECIMAL(" + p + "," + sc + ")"
	case "STRUCT", "UNION":
		for i, f := range parts {
			fname, ftype := splitField(f)
			parts[i] = fname + " " + normalizeType(ftype)
		}
		return name + "(" + strings.Join(parts, ", ") + ")"
	case "MAP":
		for i, p := range parts {
			parts[i] = normalizeType(p)
		}
		return name + "(" + strings.Join(parts, ", ") + ")"
	}
	if hasArgs {
		return name + "(" + strings.Join(parts, ",") + ")"
	}
	return name
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// splitTopLevel splits s at the commas outside parentheses and quotes,
// trimming each part.
func splitTopLevel(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	var parts []string
	depth, start := 0, 0
	var quote rune
	for i, c := range s {
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == ',' && depth == 0:
			parts = append(parts, strings.TrimSpace(s[start:i]))
			start = i + 1
		}
	}
	return append(parts, strings.TrimSpace(s[start:]))
}

// splitField splits a STRUCT field "name TYPE" (the name possibly quoted).
func splitField(f string) (name, typ string) {
	if strings.HasPrefix(f, `"`) {
		for i := 1; i < len(f); i++ {
			if f[i] != '"' {
				continue
			}
			if i+1 < len(f) && f[i+1] == '"' {
				i++
				continue
			}
			return f[:i+1], strings.TrimSpace(f[i+1:])
		}
		return f, ""
	}
	name, typ, _ = strings.Cut(f, " ")
	return name, strings.TrimSpace(typ)
}
