package project

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/vyaparbazaar/dataops/internal/sqlident"
)

// Built-in generic test types.
const (
	TestUnique         = "unique"
	TestNotNull        = "not_null"
	TestAcceptedValues = "accepted_values"
	TestRelationships  = "relationships"
	TestSingular       = "singular"
)

// testConfigKeys are keys of a test declaration that are config rather
// than arguments (dbt accepts them outside config: too).
var testConfigKeys = map[string]bool{
	"severity": true, "warn_if": true, "error_if": true, "store_failures": true,
	"store_failures_as": true, "where": true, "limit": true, "tags": true,
	"enabled": true, "meta": true, "fail_calc": true, "alias": true,
	"schema": true, "database": true, "timeout": true,
}

// utilsTests are dbt_utils generic tests implemented natively. They may be
// written with or without the "dbt_utils." prefix.
var utilsTests = map[string]bool{
	"unique_combination_of_columns": true,
	"expression_is_true":            true,
	"accepted_range":                true,
	"not_constant":                  true,
	"at_least_one":                  true,
	"not_empty_string":              true,
}

// parsedTest is a generic test declaration, parsed.
type parsedTest struct {
	typ       string // as written: unique, dbt_utils.expression_is_true, ...
	namespace string
	name      string // typ without namespace
	args      map[string]any
	argOrder  []string
	config    *resolvedConfig
	custom    string // explicit name:
	desc      string
	column    string
}

func (l *loader) parseTestSpec(d *testDecl) (*parsedTest, error) {
	pt := &parsedTest{args: map[string]any{}, column: d.column}
	spec := d.spec
	var body *ynode
	switch {
	case spec.kind == yScalar && spec.str() != "":
		pt.typ = spec.str()
	case spec.isMap() && len(spec.keys) == 1:
		pt.typ = spec.keys[0]
		body = spec.m[pt.typ]
	default:
		return nil, newErr(ErrInvalidTest, d.path, d.line, "a test must be a test name or a mapping with one key (the test name)")
	}
	pt.namespace, pt.name = "", pt.typ
	if i := strings.LastIndexByte(pt.typ, '.'); i >= 0 {
		pt.namespace, pt.name = pt.typ[:i], pt.typ[i+1:]
	}
	cfg := newConfig()
	cfg.applyHierarchy(l.testsCfg, "dbt_project.yml", l.p.Name, d.folders, "")
	pt.config = cfg
	if body != nil && !body.isNull() {
		if !body.isMap() {
			return nil, newErr(ErrInvalidTest, d.path, body.lineOr(d.line), "test %s: arguments must be a mapping", pt.typ)
		}
		addArg := func(k string, v *ynode) {
			if _, seen := pt.args[k]; !seen {
				pt.argOrder = append(pt.argOrder, k)
			}
			pt.args[k] = v.toAny()
		}
		for _, k := range body.keys {
			v := body.m[k]
			switch {
			case k == "config":
				// applied last (highest precedence)
			case k == "arguments" && v.isMap():
				for _, ak := range v.keys {
					addArg(ak, v.m[ak])
				}
			case k == "name":
				pt.custom = v.str()
			case k == "description":
				pt.desc = v.str()
			case k == "column_name":
				pt.column = v.str()
			case testConfigKeys[k]:
				cfg.set(k, v.toAny(), loc(d.path, v.lineOr(d.line)))
			default:
				addArg(k, v)
			}
		}
		cfg.applyNode(body.get("config"), d.path)
	}
	return pt, nil
}

// loadGenericTests turns the collected test declarations into DataTests.
func (l *loader) loadGenericTests() {
	p := l.p
	var pending []*testState
	for _, d := range l.testDecls {
		switch d.kind {
		case "model":
			if _, ok := p.Models[d.target]; !ok {
				if !l.disabled[d.target] && !l.failed[d.target] {
					l.addErr(newErr(ErrMissingNode, d.path, d.line, "test attached to model %q, which does not exist", d.target))
				}
				continue
			}
		case "seed":
			if _, ok := p.Seeds[d.target]; !ok {
				// Seeds are files: a property entry without one is not an
				// error, and its tests have nothing to test.
				if l.opts.Logger != nil && !l.disabled[d.target] {
					l.opts.Logger.Warn("test attached to a seed that has no file; skipped", "seed", d.target, "file", loc(d.path, d.line))
				}
				continue
			}
		}
		pt, err := l.parseTestSpec(d)
		if err != nil {
			l.addErr(err)
			continue
		}
		if en, ok := pt.config.vals["enabled"]; ok {
			if b, ok := toBool(en); ok && !b {
				continue
			}
		}
		ts, err := l.newGenericTest(d, pt)
		if err != nil {
			l.addErr(err)
			continue
		}
		pending = append(pending, ts)
	}
	// Render the tests concurrently (to find their refs), then add them in
	// declaration order.
	l.parallel(len(pending), func(i int) { pending[i].err = p.parseTest(pending[i]) })
	for _, ts := range pending {
		if ts.err != nil {
			var e *Error
			if errors.As(ts.err, &e) {
				e.Path, e.Line = ts.t.Path, ts.t.Line
			}
			l.addErr(ts.err)
			continue
		}
		p.addTest(ts)
	}
}

// targetExpr is the Jinja expression of the node a test is attached to.
func targetExpr(d *testDecl) string {
	if d.kind == "source" {
		src, tbl, _ := strings.Cut(d.target, ".")
		return "source(" + jinjaString(src) + ", " + jinjaString(tbl) + ")"
	}
	return "ref(" + jinjaString(d.target) + ")"
}

var reRefOrSource = regexp.MustCompile(`^\s*(ref|source)\s*\(.*\)\s*$`)

// jinjaExpr turns a test argument such as "ref('customers')" or
// "{{ ref('customers') }}" into a Jinja expression.
func jinjaExpr(v any) (string, bool) {
	s, ok := v.(string)
	if !ok {
		return "", false
	}
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "{{") && strings.HasSuffix(s, "}}") {
		return strings.TrimSpace(s[2 : len(s)-2]), true
	}
	if reRefOrSource.MatchString(s) {
		return s, true
	}
	return "", false
}

// newGenericTest makes the DataTest of a declaration; its SQL is a Jinja
// template rendered like a model.
func (l *loader) newGenericTest(d *testDecl, pt *parsedTest) (*testState, error) {
	p := l.p
	kind := ""
	switch {
	case pt.namespace == "" && slices.Contains([]string{TestUnique, TestNotNull, TestAcceptedValues, TestRelationships}, pt.name):
		kind = "builtin"
	case p.Macros["test_"+pt.name] != "":
		kind = "macro"
	case (pt.namespace == "" || pt.namespace == "dbt_utils") && utilsTests[pt.name]:
		kind = "utils"
	default:
		return nil, newErr(ErrUnknownTest, d.path, d.line, "unknown test type %q (built in: unique, not_null, accepted_values, relationships; or define a {%% test %s(model, column_name) %%} macro)", pt.typ, pt.name)
	}
	cfg := pt.config
	severity := strings.ToLower(firstNonEmpty(cfg.str("severity"), SeverityError))
	if severity != SeverityError && severity != SeverityWarn {
		path, line := splitLoc(cfg.origin["severity"])
		return nil, newErr(ErrConfig, path, line, "test %s: severity must be warn or error, got %q", pt.typ, severity)
	}
	cfg.vals["severity"] = severity
	where := cfg.str("where")

	// The relation under test, filtered by where.
	model := "{{ " + targetExpr(d) + " }}"
	if where != "" {
		model = "(select * from " + model + " where " + where + ") dbt_subquery"
	}
	col := pt.column
	var sql string
	var err error
	switch kind {
	case "builtin":
		sql, err = builtinTestSQL(pt, model, col)
	case "utils":
		sql, err = utilsTestSQL(pt, model, col)
	case "macro":
		sql, err = macroTestSQL(pt, d, model, col)
	}
	if err != nil {
		return nil, &Error{Path: d.path, Line: d.line, Kind: ErrInvalidTest, Msg: fmt.Sprintf("test %s on %s: %v", pt.typ, describeTarget(d, col), err)}
	}

	nameArgs := maps.Clone(pt.args)
	if col != "" {
		nameArgs["column_name"] = col
	}
	if to, ok := nameArgs["to"]; ok {
		if e, ok := jinjaExpr(to); ok {
			nameArgs["to"] = e
		}
	}
	name := pt.custom
	if name == "" {
		name = testName(pt.typ, d.kind == "source", d.label, nameArgs)
	}
	name = l.uniqueTestName(name)

	t := &DataTest{
		Name:        name,
		Type:        pt.typ,
		Path:        d.path,
		Line:        d.line,
		Model:       d.target,
		Column:      col,
		Args:        pt.args,
		Severity:    severity,
		WarnIf:      firstNonEmpty(cfg.str("warn_if"), "!=0"),
		ErrorIf:     firstNonEmpty(cfg.str("error_if"), "!=0"),
		RawSQL:      sql,
		Config:      cfg.vals,
		Description: pt.desc,
	}
	if b, ok := toBool(cfg.vals["store_failures"]); ok {
		t.StoreFailures = b
	}
	return &testState{t: t, generic: true, raw: sql}, nil
}

func describeTarget(d *testDecl, col string) string {
	if col == "" {
		return d.kind + " " + d.target
	}
	return d.kind + " " + d.target + "." + col
}

// uniqueTestName returns name, or name_2, name_3 ... if it is taken.
func (l *loader) uniqueTestName(name string) string {
	p := l.p
	free := func(n string) bool {
		if l.testNames[n] {
			return false
		}
		_, clash := p.byNameAny(n)
		return !clash
	}
	out := name
	for i := 2; !free(out); i++ {
		out = name + "_" + strconv.Itoa(i)
	}
	l.testNames[out] = true
	return out
}

// byNameAny reports whether a model, seed or source has the name.
func (p *Project) byNameAny(name string) (string, bool) {
	if m, ok := p.Models[name]; ok {
		return m.Path, true
	}
	if s, ok := p.Seeds[name]; ok {
		return s.Path, true
	}
	if s, ok := p.Sources[name]; ok {
		return s.Path, true
	}
	return "", false
}

func (p *Project) addTest(ts *testState) {
	t := ts.t
	t.compile = memoCompile(func(st CompileState) (Compiled, error) { return p.compileTest(ts, st) })
	p.Tests[t.Name] = t
	p.tests[t.Name] = ts
}

var reNonIdent = regexp.MustCompile(`[^0-9a-zA-Z_]+`)

// testName builds dbt's name for a generic test:
// <type>_<model>_<column>__<args>, with "source_" before the type for tests
// on sources. Names of 64 characters or more are shortened with a hash.
func testName(typ string, onSource bool, label string, args map[string]any) string {
	var flat []string
	for _, k := range slices.Sorted(maps.Keys(args)) {
		if k == "model" {
			continue
		}
		switch v := args[k].(type) {
		case map[string]any:
			for _, kk := range slices.Sorted(maps.Keys(v)) {
				flat = append(flat, pyStr(v[kk]))
			}
		case []any:
			for _, x := range v {
				flat = append(flat, pyStr(x))
			}
		default:
			flat = append(flat, pyStr(v))
		}
	}
	for i, f := range flat {
		flat[i] = reNonIdent.ReplaceAllString(f, "_")
	}
	prefix := strings.ReplaceAll(typ, ".", "_")
	if onSource {
		prefix = "source_" + prefix
	}
	ident := prefix + "_" + label
	full := ident
	if len(flat) > 0 {
		full += "_" + strings.Join(flat, "__")
	}
	if len(full) < 64 {
		return full
	}
	sum := md5.Sum([]byte(full))
	short := strings.TrimRight(full[:48], "_")
	return short + "_" + hex.EncodeToString(sum[:])[:12]
}

// pyStr formats a value like Python's str().
func pyStr(v any) string {
	switch x := v.(type) {
	case bool:
		if x {
			return "True"
		}
		return "False"
	case nil:
		return "None"
	case []any:
		parts := make([]string, len(x))
		for i, p := range x {
			parts[i] = pyStr(p)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return toStr(v)
}

// jinjaString quotes s as a Jinja string literal.
func jinjaString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`)
	return "'" + r.Replace(s) + "'"
}

// jinjaLiteral writes a Go value as a Jinja literal; strings holding a
// ref()/source() call or a {{ expression }} become that expression.
func jinjaLiteral(v any) string {
	switch x := v.(type) {
	case nil:
		return "none"
	case string:
		if e, ok := jinjaExpr(x); ok {
			return e
		}
		return jinjaString(x)
	case bool:
		if x {
			return "true"
		}
		return "false"
	case []any:
		parts := make([]string, len(x))
		for i, p := range x {
			parts[i] = jinjaLiteral(p)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(x)) {
			parts = append(parts, jinjaString(k)+": "+jinjaLiteral(x[k]))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return scalarString(v)
}

func needColumn(pt *parsedTest, col string) error {
	if col == "" {
		return fmt.Errorf("%s needs a column: declare it under columns: or give column_name", pt.typ)
	}
	return nil
}

// builtinTestSQL generates dbt's SQL for unique, not_null,
// accepted_values and relationships; the result is a Jinja template.
func builtinTestSQL(pt *parsedTest, model, col string) (string, error) {
	if err := needColumn(pt, col); err != nil {
		return "", err
	}
	switch pt.name {
	case TestUnique:
		return fmt.Sprintf(`select
    %[1]s as unique_field,
    count(*) as n_records
from %[2]s
where %[1]s is not null
group by %[1]s
having count(*) > 1`, col, model), nil
	case TestNotNull:
		return fmt.Sprintf(`select *
from %[2]s
where %[1]s is null`, col, model), nil
	case TestAcceptedValues:
		raw, ok := pt.args["values"]
		if !ok {
			return "", errors.New("accepted_values needs values: [...]")
		}
		values, ok := raw.([]any)
		if !ok || len(values) == 0 {
			return "", errors.New("accepted_values: values must be a non-empty list")
		}
		quote := true
		if q, ok := pt.args["quote"]; ok {
			b, ok := toBool(q)
			if !ok {
				return "", fmt.Errorf("accepted_values: quote must be true or false, got %v", q)
			}
			quote = b
		}
		lits := make([]string, len(values))
		for i, v := range values {
			if quote {
				lits[i] = sqlident.Literal(toStr(v))
			} else {
				lits[i] = toStr(v)
			}
		}
		return fmt.Sprintf(`with all_values as (
    select
        %[1]s as value_field,
        count(*) as n_records
    from %[2]s
    group by %[1]s
)
select *
from all_values
where value_field not in (%[3]s)`, col, model, strings.Join(lits, ", ")), nil
	case TestRelationships:
		to, ok := pt.args["to"]
		if !ok || toStr(to) == "" {
			return "", errors.New("relationships needs to: ref('model') (or source('src', 'table'))")
		}
		expr, ok := jinjaExpr(to)
		if !ok {
			s := toStr(to)
			if !reIdent.MatchString(s) {
				return "", fmt.Errorf("relationships: to must be ref('model') or source('src', 'table'), got %q", s)
			}
			expr = "ref(" + jinjaString(s) + ")"
		}
		field := toStr(pt.args["field"])
		if field == "" {
			return "", errors.New("relationships needs field: (the column of the parent)")
		}
		return fmt.Sprintf(`with child as (
    select %[1]s as from_field
    from %[2]s
    where %[1]s is not null
),
parent as (
    select %[3]s as to_field
    from {{ %[4]s }}
)
select from_field
from child
left join parent
    on child.from_field = parent.to_field
where parent.to_field is null`, col, model, field, expr), nil
	}
	return "", fmt.Errorf("unknown test %s", pt.typ)
}

var reIdent = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// utilsTestSQL generates SQL for the dbt_utils tests implemented natively.
func utilsTestSQL(pt *parsedTest, model, col string) (string, error) {
	switch pt.name {
	case "unique_combination_of_columns":
		cols := toStringList(pt.args["combination_of_columns"])
		if len(cols) == 0 {
			return "", errors.New("unique_combination_of_columns needs combination_of_columns: [...]")
		}
		list := strings.Join(cols, ", ")
		return fmt.Sprintf(`select
    %[1]s,
    count(*) as n_records
from %[2]s
group by %[1]s
having count(*) > 1`, list, model), nil
	case "expression_is_true":
		expr := toStr(pt.args["expression"])
		if expr == "" {
			return "", errors.New("expression_is_true needs expression:")
		}
		if col != "" {
			expr = col + " " + expr
		}
		return fmt.Sprintf(`select *
from %s
where not (%s)`, model, expr), nil
	case "accepted_range":
		if err := needColumn(pt, col); err != nil {
			return "", err
		}
		inclusive := true
		if v, ok := pt.args["inclusive"]; ok {
			inclusive, _ = toBool(v)
		}
		ge, le := ">=", "<="
		if !inclusive {
			ge, le = ">", "<"
		}
		var conds []string
		if v, ok := pt.args["min_value"]; ok && v != nil {
			conds = append(conds, fmt.Sprintf("not (%s %s %s)", col, ge, toStr(v)))
		}
		if v, ok := pt.args["max_value"]; ok && v != nil {
			conds = append(conds, fmt.Sprintf("not (%s %s %s)", col, le, toStr(v)))
		}
		if len(conds) == 0 {
			return "", errors.New("accepted_range needs min_value or max_value")
		}
		return fmt.Sprintf(`select *
from %s
where %s`, model, strings.Join(conds, "\n   or ")), nil
	case "not_constant":
		if err := needColumn(pt, col); err != nil {
			return "", err
		}
		return fmt.Sprintf(`select count(distinct %[1]s) as filler_column
from %[2]s
having count(distinct %[1]s) = 1`, col, model), nil
	case "at_least_one":
		if err := needColumn(pt, col); err != nil {
			return "", err
		}
		return fmt.Sprintf(`select count(%[1]s) as n_records
from %[2]s
having count(%[1]s) = 0`, col, model), nil
	case "not_empty_string":
		if err := needColumn(pt, col); err != nil {
			return "", err
		}
		trim := true
		if v, ok := pt.args["trim_whitespace"]; ok {
			trim, _ = toBool(v)
		}
		expr := col
		if trim {
			expr = "trim(" + col + ")"
		}
		return fmt.Sprintf(`select %s
from %s
where %s = ''`, col, model, expr), nil
	}
	return "", fmt.Errorf("unknown test %s", pt.typ)
}

// macroTestSQL calls a project's {% test name(model, column_name, ...) %}.
func macroTestSQL(pt *parsedTest, d *testDecl, model, col string) (string, error) {
	var b strings.Builder
	b.WriteString("{% set __dbt_model %}")
	b.WriteString(model)
	b.WriteString("{% endset %}")
	b.WriteString("{{ test_" + pt.name + "(model=__dbt_model")
	if col != "" {
		b.WriteString(", column_name=" + jinjaString(col))
	}
	for _, k := range pt.argOrder {
		if !reIdent.MatchString(k) {
			return "", fmt.Errorf("argument %q is not a valid name", k)
		}
		b.WriteString(", " + k + "=" + jinjaLiteral(pt.args[k]))
	}
	b.WriteString(") }}")
	return b.String(), nil
}

// parseTest parses and renders a test at load time, recording its refs,
// sources and config() calls.
func (p *Project) parseTest(ts *testState) error {
	rs := &renderState{
		jc:         p.jc,
		path:       ts.t.Path,
		self:       ts.t.Name,
		res:        p,
		baseConfig: ts.t.Config,
	}
	if _, err := rs.render(ts.raw); err != nil {
		return err
	}
	ts.refs = rs.refs
	ts.sources = rs.sources
	ts.configs = rs.configs
	return nil
}

// loadSingularTests reads tests/**/*.sql (but not tests/generic).
func (l *loader) loadSingularTests(files []projectFile) {
	p := l.p
	seen := map[string]string{}
	var states []*testState
	for _, f := range files {
		name := baseName(f.path)
		if prev, dup := seen[name]; dup {
			l.addErr(newErr(ErrDuplicate, f.path, 0, "two tests are named %q: %s and %s", name, prev, f.path))
			continue
		}
		seen[name] = f.path
		if prev, clash := p.byNameAny(name); clash {
			l.addErr(newErr(ErrDuplicate, f.path, 0, "test %q has the same name as %s", name, prev))
			continue
		}
		cfg := newConfig()
		cfg.applyHierarchy(l.testsCfg, "dbt_project.yml", p.Name, folderParts(f.path, p.TestPaths), name)
		t := &DataTest{Name: name, Type: TestSingular, Path: f.path, Line: 1, RawSQL: string(f.data), Config: cfg.vals}
		states = append(states, &testState{t: t, raw: string(f.data), cfgRes: cfg})
	}
	l.parallel(len(states), func(i int) {
		states[i].err = p.parseTest(states[i])
	})
	for _, ts := range states {
		if ts.err != nil {
			l.addErr(ts.err)
			continue
		}
		t := ts.t
		cfgLine := 0
		if k := strings.Index(ts.raw, "config("); k >= 0 {
			cfgLine = lineOf(ts.raw, k)
		}
		for _, c := range ts.configs {
			ts.cfgRes.applyMap(c, loc(t.Path, cfgLine))
		}
		cfg := ts.cfgRes
		if en, ok := cfg.vals["enabled"]; ok {
			if b, ok := toBool(en); ok && !b {
				continue
			}
		}
		t.Config = cfg.vals
		t.Severity = strings.ToLower(firstNonEmpty(cfg.str("severity"), SeverityError))
		if t.Severity != SeverityError && t.Severity != SeverityWarn {
			path, line := splitLoc(cfg.origin["severity"])
			l.addErr(newErr(ErrConfig, path, line, "test %s: severity must be warn or error, got %q", t.Name, t.Severity))
			continue
		}
		cfg.vals["severity"] = t.Severity
		t.WarnIf = firstNonEmpty(cfg.str("warn_if"), "!=0")
		t.ErrorIf = firstNonEmpty(cfg.str("error_if"), "!=0")
		if b, ok := toBool(cfg.vals["store_failures"]); ok {
			t.StoreFailures = b
		}
		if len(ts.refs) > 0 {
			t.Model = ts.refs[0]
		} else if len(ts.sources) > 0 {
			t.Model = ts.sources[0]
		}
		if prev, used := p.Tests[t.Name]; used {
			l.addErr(newErr(ErrDuplicate, t.Path, 0, "test %q has the same name as a generic test declared in %s:%d", t.Name, prev.Path, prev.Line))
			continue
		}
		p.addTest(ts)
	}
}
