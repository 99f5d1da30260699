package duckenv

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vyaparbazaar/dataops/internal/sqlident"
	"github.com/vyaparbazaar/dataops/orchestrate"
	"github.com/vyaparbazaar/dataops/orchestrate/project"
)

// ---- seeds --------------------------------------------------------------

func (r *Runner) runSeed(ctx context.Context, n *orchestrate.Node, sd *project.Seed) (orchestrate.Outcome, error) {
	name := firstNonEmpty(sd.Name, n.Name)
	path := firstNonEmpty(sd.Path, n.Path)
	loc := nodeLoc{kind: "seed", node: name, path: path}
	if path == "" {
		path = name + ".csv"
	}
	rel := sd.Relation()
	if rel.Name == "" {
		rel.Name = name
	}
	if len(bytes.TrimSpace(sd.Data)) == 0 {
		return orchestrate.Outcome{}, loc.errorf(nil, "%s is empty", path)
	}
	delim := sd.Delimiter
	if delim == "" {
		delim = ","
	}
	header, err := csvHeader(sd.Data, delim)
	if err != nil {
		return orchestrate.Outcome{}, loc.errorf(err, "%s: read header: %v", path, err)
	}
	opts, err := readCSVOptions(header, sd.ColumnTypes, delim)
	if err != nil {
		return orchestrate.Outcome{}, loc.errorf(nil, "%s: %v", path, err)
	}

	dir := filepath.Join(r.env.tempDir, "seeds")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return orchestrate.Outcome{}, loc.errorf(err, "scratch file: %v", err)
	}
	f, err := os.CreateTemp(dir, sanitize(name)+"-*.csv")
	if err != nil {
		return orchestrate.Outcome{}, loc.errorf(err, "scratch file: %v", err)
	}
	scratch := f.Name()
	defer os.Remove(scratch)
	_, werr := f.Write(sd.Data)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return orchestrate.Outcome{}, loc.errorf(werr, "scratch file: %v", werr)
	}
	loc.rewrite = func(msg string) string {
		msg = strings.ReplaceAll(msg, scratch, path)
		return strings.ReplaceAll(msg, filepath.Base(scratch), filepath.Base(path))
	}

	s, err := r.env.session(ctx, name)
	if err != nil {
		return orchestrate.Outcome{}, err
	}
	defer s.close()
	// One seed per CSV file: seeds/x.csv runs as seeds/x.sql.
	defer r.writeTarget("run", targetFile(strings.TrimSuffix(path, filepath.Ext(path))+".sql", name), s)

	sel := "SELECT * FROM read_csv(" + sqlident.Literal(scratch) + ", " + opts + ")"
	var rows int64
	if r.opts.Unversioned {
		rows, err = r.buildSwap(ctx, s, rel, sel, loc, nil)
	} else {
		rows, err = r.stageTable(ctx, s, name, "seed", rel, sel, loc, nil)
	}
	if err != nil {
		return orchestrate.Outcome{}, err
	}
	return orchestrate.Outcome{RowsAffected: rows, Message: fmt.Sprintf("INSERT %d", rows), Relation: rel.String()}, nil
}

// csvHeader returns the column names of the CSV's first record.
func csvHeader(data []byte, delim string) ([]string, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if r, size := utf8.DecodeRuneInString(delim); size == len(delim) && r != utf8.RuneError && r != '"' && r != '\n' && r != '\r' {
		cr := csv.NewReader(bytes.NewReader(data))
		cr.Comma = r
		cr.LazyQuotes = true
		cr.FieldsPerRecord = -1
		rec, err := cr.Read()
		if err == io.EOF {
			return nil, fmt.Errorf("no header row")
		}
		return rec, err
	}
	line, _, _ := bytes.Cut(data, []byte("\n"))
	return strings.Split(strings.TrimRight(string(line), "\r"), delim), nil
}

// readCSVOptions returns the read_csv options of a seed: the declared column
// types (all columns declared: columns={...}; some: types={...}; none: type
// detection).
func readCSVOptions(header []string, types map[string]string, delim string) (string, error) {
	byLower := make(map[string]string, len(header))
	for _, h := range header {
		byLower[strings.ToLower(h)] = h
	}
	declared := map[string]string{}
	for col, typ := range types {
		if strings.TrimSpace(typ) == "" {
			continue
		}
		h, ok := byLower[strings.ToLower(col)]
		if !ok {
			return "", fmt.Errorf("column_types names column %q, which is not in the header (%s)", col, strings.Join(header, ", "))
		}
		declared[h] = typ
	}
	opts := []string{"header = true", "delim = " + sqlident.Literal(delim)}
	if len(declared) > 0 {
		var parts []string
		all := true
		for _, h := range header {
			t, ok := declared[h]
			if !ok {
				all = false
				continue
			}
			parts = append(parts, sqlident.Literal(h)+": "+sqlident.Literal(t))
		}
		if all && len(declared) == len(header) {
			var cols []string
			for _, h := range header {
				cols = append(cols, sqlident.Literal(h)+": "+sqlident.Literal(declared[h]))
			}
			opts = append(opts, "columns = {"+strings.Join(cols, ", ")+"}")
		} else {
			opts = append(opts, "types = {"+strings.Join(parts, ", ")+"}")
		}
	}
	return strings.Join(opts, ", "), nil
}

// ---- data tests ---------------------------------------------------------

func (r *Runner) runTest(ctx context.Context, n *orchestrate.Node, t *project.DataTest) (orchestrate.Outcome, error) {
	name := firstNonEmpty(t.Name, n.Name)
	loc := nodeLoc{kind: "test", node: name, path: firstNonEmpty(t.Path, n.Path), line: t.Line}

	severity := strings.ToLower(strings.TrimSpace(t.Severity))
	if severity == "" {
		severity = project.SeverityError
	}
	if severity != project.SeverityError && severity != project.SeverityWarn {
		return orchestrate.Outcome{}, loc.errorf(nil, "unknown severity %q (want error or warn)", t.Severity)
	}
	warnIf, err := parseCondition(t.WarnIf)
	if err != nil {
		return orchestrate.Outcome{}, loc.errorf(err, "warn_if: %v", err)
	}
	errorIf, err := parseCondition(t.ErrorIf)
	if err != nil {
		return orchestrate.Outcome{}, loc.errorf(err, "error_if: %v", err)
	}

	c, err := t.Compile(project.CompileState{})
	if err != nil {
		return orchestrate.Outcome{}, loc.errorf(err, "compile: %v", err)
	}
	if c.Path == "" {
		c.Path = loc.path
	}
	targetPath := targetFile(loc.path, name)
	if err := r.writeFile("compiled", targetPath, trimSelect(c.SQL)+"\n"); err != nil {
		return orchestrate.Outcome{}, loc.errorf(err, "%v", err)
	}
	// Audit what this run built: refs to models staged in this run read
	// their new, not yet published, versions.
	c.SQL = r.resolve(c.SQL)

	s, err := r.env.session(ctx, name)
	if err != nil {
		return orchestrate.Outcome{}, err
	}
	defer s.close()
	defer r.writeTarget("run", targetPath, s)

	var failures int64
	if t.StoreFailures {
		audit := project.Relation{Schema: r.opts.StoreFailuresSchema, Name: name}
		if err := r.ensureSchema(ctx, s, audit.Schema); err != nil {
			return orchestrate.Outcome{}, loc.sqlErr(err, nil)
		}
		if err := s.exec(ctx, wrapSelect("CREATE OR REPLACE TABLE "+audit.Quoted()+" AS", c.SQL)); err != nil {
			return orchestrate.Outcome{}, loc.sqlErr(err, &c)
		}
		if failures, err = s.queryInt(ctx, "SELECT count(*) FROM "+audit.Quoted()); err != nil {
			return orchestrate.Outcome{}, loc.sqlErr(err, nil)
		}
	} else {
		q := wrapSelect("SELECT count(*) FROM", c.SQL) + " AS dbt_internal_test"
		s.record(q)
		if failures, err = s.queryInt(ctx, q); err != nil {
			return orchestrate.Outcome{}, loc.sqlErr(err, &c)
		}
	}

	out := orchestrate.Outcome{Failures: failures, RowsAffected: -1, CompiledSQL: c.SQL}
	if severity == project.SeverityError && errorIf.match(failures) {
		return out, &orchestrate.TestFailure{
			Test:     name,
			Failures: failures,
			Message:  loc.prefix() + fmt.Sprintf("%d failing %s (error_if %s)", failures, plural(failures, "row", "rows"), errorIf),
		}
	}
	if warnIf.match(failures) {
		out.Warn = true
		out.Message = fmt.Sprintf("WARN %d", failures)
		return out, nil
	}
	out.Message = "PASS"
	return out, nil
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// condition is a dbt warn_if/error_if threshold such as "!=0" or ">10".
type condition struct {
	op string
	n  int64
}

// parseCondition parses "!=0", "<>0", ">10", ">=5", "=0", "==0", "<3" and
// "<=3" (blanks allowed); "" is "!=0".
func parseCondition(s string) (condition, error) {
	t := strings.ReplaceAll(strings.TrimSpace(s), " ", "")
	if t == "" {
		return condition{op: "!=", n: 0}, nil
	}
	for _, op := range []string{"!=", "<>", ">=", "<=", "==", ">", "<", "="} {
		if rest, ok := strings.CutPrefix(t, op); ok {
			n, err := strconv.ParseInt(rest, 10, 64)
			if err != nil {
				return condition{}, fmt.Errorf("bad condition %q: want an operator and a number, such as \"!=0\" or \">10\"", s)
			}
			switch op {
			case "<>":
				op = "!="
			case "==":
				op = "="
			}
			return condition{op: op, n: n}, nil
		}
	}
	return condition{}, fmt.Errorf("bad condition %q: want an operator and a number, such as \"!=0\" or \">10\"", s)
}

func (c condition) match(v int64) bool {
	switch c.op {
	case "!=":
		return v != c.n
	case ">=":
		return v >= c.n
	case "<=":
		return v <= c.n
	case ">":
		return v > c.n
	case "<":
		return v < c.n
	case "=":
		return v == c.n
	}
	return false
}

func (c condition) String() string { return c.op + strconv.FormatInt(c.n, 10) }
