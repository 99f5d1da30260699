package anonymize

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vyaparbazaar/dataops/internal/sqlident"
)

// effRule is a column's effective rule: its own, or the one of the key it
// references.
type effRule struct {
	Rule
	// ownerType is the type of the column that owns the rule (the
	// primary key for derived rules): integer pseudonyms use its width.
	ownerType string
	// from names the primary key the rule was derived from, if any.
	from string
}

type planTable struct {
	src   *srcTable
	pol   *Table
	rules map[string]effRule
	refs  map[string]*planTable // FK column → referenced table
	// filter is the sampling WHERE clause ("" = every row).
	filter string
	// keepTemp is the temp table of kept primary keys, when sampled
	// and referenced.
	keepTemp string
	order    int
}

type plan struct {
	tables []*planTable
	sample bool
}

func (t *planTable) srcRef() string {
	return sqlident.QuoteQualified("src", t.src.Schema, t.src.Name)
}

func (t *planTable) dstRef() string {
	return sqlident.QuoteQualified(t.src.Schema, t.src.Name)
}

func (t *planTable) pk() string {
	if t.pol == nil {
		return ""
	}
	return t.pol.PrimaryKey
}

// resolve checks the policy against the source tables and builds the
// plan. All problems are reported together.
func resolve(p *Policy, tables []*srcTable) (*plan, error) {
	var errs []error
	fail := func(l int, table, col, msg string, a ...any) {
		errs = append(errs, &PolicyError{File: p.File, Line: l, Table: table, Column: col, Msg: fmt.Sprintf(msg, a...)})
	}
	bySrc := map[string]*srcTable{}
	var names []string
	for _, t := range tables {
		bySrc[t.key()] = t
		names = append(names, t.key())
	}
	included := func(schema string) bool { return len(p.Schemas) == 0 || slices.Contains(p.Schemas, schema) }
	qualify := func(name string) string {
		if strings.Contains(name, ".") {
			return name
		}
		return p.Schema + "." + name
	}
	pl := &plan{sample: p.Sample != nil}
	byKey := map[string]*planTable{}
	for _, t := range tables {
		if !included(t.Schema) {
			continue
		}
		pt := &planTable{src: t, rules: map[string]effRule{}, refs: map[string]*planTable{}}
		byKey[t.key()] = pt
		pl.tables = append(pl.tables, pt)
	}
	for _, tp := range p.Tables {
		k := qualify(tp.Name)
		pt := byKey[k]
		if pt == nil {
			if bySrc[k] != nil {
				fail(tp.Line, tp.Name, "", "schema %s is not in the policy's schemas %v", bySrc[k].Schema, p.Schemas)
			} else {
				fail(tp.Line, tp.Name, "", "no such table in the source (it has: %s)", strings.Join(names, ", "))
			}
			continue
		}
		pt.pol = tp
		for _, col := range sortedKeys(tp.Columns) {
			if pt.src.col(col) == nil {
				fail(tp.Columns[col].Line, tp.Name, col, "no such column in %s (it has: %s)", k, colNames(pt.src))
			}
		}
		if tp.PrimaryKey != "" && pt.src.col(tp.PrimaryKey) == nil {
			fail(tp.Line, tp.Name, tp.PrimaryKey, "primary_key: no such column in %s", k)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	// dropped tables are neither scanned nor written
	kept := pl.tables[:0]
	for _, pt := range pl.tables {
		if pt.pol != nil && pt.pol.Drop {
			delete(byKey, pt.src.key())
			continue
		}
		kept = append(kept, pt)
	}
	pl.tables = kept
	// references
	for _, pt := range pl.tables {
		if pt.pol == nil {
			continue
		}
		for _, col := range sortedKeys(pt.pol.References) {
			ref := pt.pol.References[col]
			l := pt.pol.refLines[col]
			if pt.src.col(col) == nil {
				fail(l, pt.pol.Name, col, "references: no such column in %s", pt.src.key())
				continue
			}
			i := strings.LastIndexByte(ref, '.')
			if i < 0 {
				fail(l, pt.pol.Name, col, "reference %q: want table.column", ref)
				continue
			}
			parent := byKey[qualify(ref[:i])]
			if parent == nil || parent.pol == nil {
				fail(l, pt.pol.Name, col, "references %s: that table is not in the policy (or is dropped)", ref[:i])
				continue
			}
			if parent.pk() != ref[i+1:] {
				fail(l, pt.pol.Name, col, "references %s: %s is not the primary_key of %s (declare it there)", ref, ref[i+1:], ref[:i])
				continue
			}
			pt.refs[col] = parent
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	// effective rules: own rules, then derived from referenced keys
	for _, pt := range pl.tables {
		if pt.pol == nil {
			continue
		}
		for col, r := range pt.pol.Columns {
			pt.rules[col] = effRule{Rule: r, ownerType: pt.src.col(col).Type}
		}
	}
	var derive func(pt *planTable, col string, depth int) (effRule, bool)
	derive = func(pt *planTable, col string, depth int) (effRule, bool) {
		parent, ok := pt.refs[col]
		if !ok || depth > 16 {
			r, has := pt.rules[col]
			return r, has
		}
		r, has := derive(parent, parent.pk(), depth+1)
		if has && r.from == "" {
			r.from = parent.src.key() + "." + parent.pk()
		}
		return r, has
	}
	for _, pt := range pl.tables {
		for _, col := range sortedKeys(pt.refs) {
			r, has := derive(pt, col, 0)
			if own, ok := pt.pol.Columns[col]; ok {
				fail(own.Line, pt.pol.Name, col, "this column references %s and gets its rule from there; remove its own rule", pt.refs[col].src.key()+"."+pt.refs[col].pk())
				continue
			}
			if has {
				pt.rules[col] = r
			}
		}
	}
	// type fit and expressions are checked by expr
	for _, pt := range pl.tables {
		for _, c := range pt.src.Cols {
			if _, err := pt.expr(c); err != nil {
				r := pt.rules[c.Name]
				fail(r.Line, pt.src.key(), c.Name, "%v", err)
			}
		}
	}
	if p.Sample != nil {
		for _, name := range sortedKeys(p.Sample.Fractions) {
			pt := byKey[qualify(name)]
			if pt == nil {
				fail(p.Sample.Line, name, "", "sample: no such table in the source or policy")
				continue
			}
			if pt.pk() == "" {
				fail(p.Sample.Line, name, "", "sample: the table needs a primary_key to be sampled")
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if err := pl.order(); err != nil {
		return nil, err
	}
	if p.Sample != nil {
		pl.sampleFilters(p, byKey, qualify)
	}
	return pl, nil
}

func colNames(t *srcTable) string {
	var s []string
	for _, c := range t.Cols {
		s = append(s, c.Name)
	}
	return strings.Join(s, ", ")
}

// order sorts tables so that referenced tables come first (sampling
// needs the parents' kept keys). Self-references are ignored.
func (pl *plan) order() error {
	done := map[*planTable]bool{}
	var out []*planTable
	visiting := map[*planTable]bool{}
	var visit func(t *planTable, path []string) error
	visit = func(t *planTable, path []string) error {
		if done[t] {
			return nil
		}
		if visiting[t] {
			return fmt.Errorf("anonymize: references form a cycle: %s", strings.Join(append(path, t.src.key()), " → "))
		}
		visiting[t] = true
		for _, col := range sortedKeys(t.refs) {
			if p := t.refs[col]; p != t {
				if err := visit(p, append(path, t.src.key())); err != nil {
					return err
				}
			}
		}
		visiting[t] = false
		done[t] = true
		out = append(out, t)
		return nil
	}
	for _, t := range pl.tables {
		if err := visit(t, nil); err != nil {
			return err
		}
	}
	pl.tables = out
	return nil
}

// sampleFilters sets each table's WHERE clause: roots keep a keyed,
// seed-determined share of their primary keys; a table referencing
// sampled tables keeps the rows whose references were all kept (NULL
// references resolve trivially).
func (pl *plan) sampleFilters(p *Policy, byKey map[string]*planTable, qualify func(string) string) {
	sampled := map[*planTable]bool{}
	for _, name := range sortedKeys(p.Sample.Fractions) {
		pt := byKey[qualify(name)]
		pt.filter = fmt.Sprintf("_anon_sample(%s::VARCHAR) < %s", sqlident.Quote(pt.pk()), strconv.FormatFloat(p.Sample.Fractions[name], 'g', -1, 64))
		sampled[pt] = true
	}
	for i, pt := range pl.tables { // parents first
		var conds []string
		if pt.filter != "" {
			conds = append(conds, pt.filter)
		}
		for _, col := range sortedKeys(pt.refs) {
			parent := pt.refs[col]
			if !sampled[parent] || parent == pt {
				continue
			}
			q := sqlident.Quote(col)
			conds = append(conds, fmt.Sprintf("(%s IS NULL OR %s IN (SELECT k FROM %s))", q, q, parent.keepTemp))
		}
		if len(conds) == 0 {
			continue
		}
		pt.filter = strings.Join(conds, " AND ")
		sampled[pt] = true
		if pt.pk() != "" {
			pt.keepTemp = "temp.main._anon_keep_" + strconv.Itoa(i)
		}
	}
}

// expr is the SELECT expression of column c.
func (pt *planTable) expr(c column) (string, error) {
	q := sqlident.Quote(c.Name)
	r, ok := pt.rules[c.Name]
	if !ok || r.Kind == Keep {
		return q, nil
	}
	typ := c.Type
	cast := func(e string) string { return "CAST(" + e + " AS " + typ + ")" }
	switch r.Kind {
	case Pseudonymize:
		if isText(typ) {
			return udfName(Pseudonymize) + "(" + q + ")", nil
		}
		bits := intBits(r.ownerType)
		if bits == 0 || intBits(typ) == 0 {
			return "", fmt.Errorf("pseudonymize fits text and signed integer columns, not %s", typ)
		}
		if intBits(typ) < bits {
			return "", fmt.Errorf("%s is narrower than the key it references (%s, %s): pseudonyms would not fit", typ, r.from, r.ownerType)
		}
		return cast(fmt.Sprintf("_anon_int(CAST(%s AS BIGINT), %d)", q, bits)), nil
	case Generalize:
		if !isTemporal(typ) {
			return "", fmt.Errorf("generalize fits DATE and TIMESTAMP columns, not %s", typ)
		}
		return cast(fmt.Sprintf("date_trunc(%s, %s)", sqlident.Literal(r.Unit), q)), nil
	case Bucket:
		if !isNumeric(typ) {
			return "", fmt.Errorf("bucket fits numeric columns, not %s", typ)
		}
		if len(r.Bounds) == 0 {
			w := strconv.FormatFloat(r.Width, 'g', -1, 64)
			return cast(fmt.Sprintf("floor(%s / %s) * %s", q, w, w)), nil
		}
		var b strings.Builder
		b.WriteString("CASE")
		for i := len(r.Bounds) - 1; i >= 1; i-- {
			v := strconv.FormatFloat(r.Bounds[i], 'g', -1, 64)
			fmt.Fprintf(&b, " WHEN %s >= %s THEN %s", q, v, v)
		}
		fmt.Fprintf(&b, " WHEN %s IS NOT NULL THEN %s END", q, strconv.FormatFloat(r.Bounds[0], 'g', -1, 64))
		return cast(b.String()), nil
	case Noise:
		if !isNumeric(typ) {
			return "", fmt.Errorf("noise fits numeric columns, not %s", typ)
		}
		by := r.By
		if by == "" {
			by = pt.pk()
		}
		if by == "" {
			return "", errors.New("noise needs a row identity: set by: <column> or the table's primary_key")
		}
		if pt.src.col(by) == nil {
			return "", fmt.Errorf("noise by %q: no such column", by)
		}
		pct := strconv.FormatFloat(r.Percent/100, 'g', -1, 64)
		e := fmt.Sprintf("%s * (1 + %s * (2 * _anon_noise(CAST(%s AS VARCHAR) || %s) - 1))", q, pct, sqlident.Quote(by), sqlident.Literal("|"+c.Name))
		switch {
		case intBits(typ) > 0:
			e = "round(" + e + ")"
		case strings.HasPrefix(typ, "DECIMAL"):
			e = "round(" + e + ", " + decimalScale(typ) + ")"
		}
		return cast(e), nil
	case Null:
		return cast("NULL"), nil
	case Redact:
		if !isText(typ) {
			return "", fmt.Errorf("redact fits text columns, not %s (use null)", typ)
		}
		v := r.Value
		if v == "" {
			v = "[REDACTED]"
		}
		return fmt.Sprintf("CASE WHEN %s IS NULL THEN NULL ELSE %s END", q, sqlident.Literal(v)), nil
	case SQL:
		return cast("(" + strings.ReplaceAll(r.Expr, "{{column}}", q) + ")"), nil
	}
	if _, ok := stringUDFs[r.Kind]; ok {
		if !isText(typ) {
			return "", fmt.Errorf("%s fits text columns, not %s", r.Kind, typ)
		}
		m := udfName(r.Kind) + "(" + q + ")"
		if walkKinds[r.Kind] {
			// A masked value that equals a real source value (someone
			// else's number, by chance) is re-masked with another
			// sub-key, so the output never shows a real one.
			return fmt.Sprintf("CASE WHEN %s IN (SELECT v FROM _anon_real) THEN %s_2(%s) ELSE %s END", m, udfName(r.Kind), q, m), nil
		}
		return m, nil
	}
	return "", fmt.Errorf("unknown rule %q", r.Kind)
}

func decimalScale(typ string) string {
	if i := strings.LastIndexByte(typ, ','); i >= 0 {
		return strings.TrimSuffix(typ[i+1:], ")")
	}
	return "2"
}

func (pt *planTable) selectSQL() string {
	exprs := make([]string, len(pt.src.Cols))
	for i, c := range pt.src.Cols {
		e, _ := pt.expr(c) // checked by resolve
		exprs[i] = e + " AS " + sqlident.Quote(c.Name)
	}
	q := "SELECT " + strings.Join(exprs, ", ") + " FROM " + pt.srcRef()
	if pt.filter != "" {
		q += " WHERE " + pt.filter
	}
	return q
}

// walkKinds are the masks whose outputs live in a space small enough
// (10^9–10^12 values) to hit real values by chance at scale.
var walkKinds = map[Kind]bool{MaskMobile: true, MaskAadhaar: true, MaskPAN: true, MaskCard: true, MaskGSTIN: true}

// realValues collects the source values of every column masked by a
// walkKinds rule, for the re-masking in expr.
func (s *session) realValues(ctx context.Context, pl *plan) error {
	parts := []string{"SELECT NULL::VARCHAR AS v"}
	for _, pt := range pl.tables {
		for _, c := range pt.src.Cols {
			if r, ok := pt.rules[c.Name]; ok && walkKinds[r.Kind] && isText(c.Type) {
				parts = append(parts, fmt.Sprintf("SELECT %s FROM %s", sqlident.Quote(c.Name), pt.srcRef()))
			}
		}
	}
	q := "CREATE OR REPLACE TEMP TABLE _anon_real AS SELECT DISTINCT v FROM (" + strings.Join(parts, " UNION ALL ") + ") WHERE v IS NOT NULL"
	if _, err := s.conn.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("anonymize: collect masked columns' values: %w", err)
	}
	return nil
}

func (s *session) write(ctx context.Context, pl *plan, res *Result, opts Options, log *slog.Logger) error {
	if err := s.realValues(ctx, pl); err != nil {
		return err
	}
	for _, pt := range pl.tables {
		st := time.Now()
		if pt.keepTemp != "" {
			q := fmt.Sprintf("CREATE TEMP TABLE %s AS SELECT %s AS k FROM %s WHERE %s", strings.TrimPrefix(pt.keepTemp, "temp.main."), sqlident.Quote(pt.pk()), pt.srcRef(), pt.filter)
			if _, err := s.conn.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("anonymize: sample %s: %w", pt.src.key(), err)
			}
		}
		if _, err := s.conn.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+sqlident.Quote(pt.src.Schema)); err != nil {
			return fmt.Errorf("anonymize: create schema %s: %w", pt.src.Schema, err)
		}
		if _, err := s.conn.ExecContext(ctx, "CREATE TABLE "+pt.dstRef()+" AS "+pt.selectSQL()); err != nil {
			return fmt.Errorf("anonymize: write %s: %w", pt.src.key(), err)
		}
		var n, srcN int64
		if err := s.conn.QueryRowContext(ctx, "SELECT (SELECT count(*) FROM "+pt.dstRef()+"), (SELECT count(*) FROM "+pt.srcRef()+")").Scan(&n, &srcN); err != nil {
			return fmt.Errorf("anonymize: count %s: %w", pt.src.key(), err)
		}
		el := time.Since(st)
		res.Tables = append(res.Tables, TableResult{Name: pt.src.key(), Rows: n, SourceRows: srcN, Elapsed: el})
		log.Info("anonymize: table written", "table", pt.src.key(), "rows", n, "elapsed", el)
		if opts.Progress != nil {
			opts.Progress(Progress{Step: "table", Table: pt.src.key(), Rows: n, Elapsed: el})
		}
	}
	return nil
}

// checkCollisions compares, for every transformed primary key, the
// number of distinct values before and after.
func (s *session) checkCollisions(ctx context.Context, pl *plan, opts Options) error {
	st := time.Now()
	for _, pt := range pl.tables {
		pk := pt.pk()
		if pk == "" {
			continue
		}
		r, ok := pt.rules[pk]
		if !ok || r.Kind == Keep {
			continue
		}
		q := sqlident.Quote(pk)
		where := ""
		if pt.filter != "" {
			where = " WHERE " + pt.filter
		}
		var before, after int64
		err := s.conn.QueryRowContext(ctx, fmt.Sprintf("SELECT (SELECT count(DISTINCT %s) FROM %s%s), (SELECT count(DISTINCT %s) FROM %s)",
			q, pt.srcRef(), where, q, pt.dstRef())).Scan(&before, &after)
		if err != nil {
			return fmt.Errorf("anonymize: collision check %s: %w", pt.src.key(), err)
		}
		if before != after {
			return &CollisionError{Column: pt.src.key() + "." + pk, Colliding: before - after}
		}
	}
	if opts.Progress != nil {
		opts.Progress(Progress{Step: "collisions", Elapsed: time.Since(st)})
	}
	return nil
}

// leakable output column types: those an original text value could be
// hidden in.
func leakTarget(typ string) bool {
	return isText(typ) || intBits(typ) > 0 || strings.HasPrefix(typ, "DECIMAL") || typ == "HUGEINT" || strings.HasPrefix(typ, "U")
}

// leakCheck collects the distinct original values of protected text
// columns into a temp table and semi-joins every output column against
// it, all inside DuckDB.
func (s *session) leakCheck(ctx context.Context, pl *plan, rep *LeakReport) error {
	var parts []string
	for _, pt := range pl.tables {
		for _, c := range pt.src.Cols {
			r, ok := pt.rules[c.Name]
			if !ok || r.Kind == Keep {
				continue
			}
			name := pt.src.key() + "." + c.Name
			switch {
			case !isText(c.Type):
				rep.Unchecked = append(rep.Unchecked, name+": not a text column (numbers repeat legitimately elsewhere)")
			case !leakCheckable(r.Kind):
				rep.Unchecked = append(rep.Unchecked, name+": "+string(r.Kind)+" outputs are drawn from small sets that overlap real values")
			default:
				rep.Protected = append(rep.Protected, name)
				parts = append(parts, fmt.Sprintf("SELECT %s AS v FROM %s", sqlident.Quote(c.Name), pt.srcRef()))
			}
		}
	}
	if len(parts) == 0 {
		return nil
	}
	// Pass 1: 64-bit hashes of the distinct originals (8 bytes each, not
	// the strings), and one semi-join per output table of all its
	// columns at once against them: candidates only.
	origins := "SELECT v FROM (" + strings.Join(parts, " UNION ALL ") + ") WHERE length(v) >= " + strconv.Itoa(minLeakLen)
	if _, err := s.conn.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE _anon_orig AS SELECT DISTINCT hash(v) AS h FROM ("+origins+")"); err != nil {
		return fmt.Errorf("anonymize: leak check: %w", err)
	}
	if err := s.conn.QueryRowContext(ctx, "SELECT count(*) FROM _anon_orig").Scan(&rep.Values); err != nil {
		return fmt.Errorf("anonymize: leak check: %w", err)
	}
	if _, err := s.conn.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE _anon_cand (col VARCHAR, v VARCHAR)"); err != nil {
		return fmt.Errorf("anonymize: leak check: %w", err)
	}
	for _, pt := range pl.tables {
		var sub []string
		for _, c := range pt.src.Cols {
			if !leakTarget(c.Type) {
				continue
			}
			rep.Columns++
			sub = append(sub, fmt.Sprintf("SELECT %s AS col, CAST(%s AS VARCHAR) AS v FROM %s",
				sqlident.Literal(pt.src.key()+"."+c.Name), sqlident.Quote(c.Name), pt.dstRef()))
		}
		if len(sub) == 0 {
			continue
		}
		q := "INSERT INTO _anon_cand SELECT DISTINCT col, v FROM (" + strings.Join(sub, " UNION ALL ") + ") x WHERE length(v) >= " + strconv.Itoa(minLeakLen) +
			" AND hash(v) IN (SELECT h FROM _anon_orig)"
		if _, err := s.conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("anonymize: leak check %s: %w", pt.src.key(), err)
		}
	}
	var cands int64
	if err := s.conn.QueryRowContext(ctx, "SELECT count(*) FROM _anon_cand").Scan(&cands); err != nil {
		return fmt.Errorf("anonymize: leak check: %w", err)
	}
	if cands == 0 {
		return nil
	}
	// Pass 2: confirm the (few) candidates against the original strings;
	// a hash collision is not a leak.
	rows, err := s.conn.QueryContext(ctx, "SELECT col, count(DISTINCT v) FROM _anon_cand c SEMI JOIN ("+origins+") o USING (v) GROUP BY col ORDER BY col")
	if err != nil {
		return fmt.Errorf("anonymize: leak check: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var h LeakHit
		if err := rows.Scan(&h.Column, &h.Count); err != nil {
			return fmt.Errorf("anonymize: leak check: %w", err)
		}
		rep.Hits = append(rep.Hits, h)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("anonymize: leak check: %w", err)
	}
	return nil
}
