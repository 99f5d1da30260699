package project

import (
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Lint rules.
const (
	// RuleLayerPrefix: a model's name starts with the prefix of its layer
	// (stg_, int_, dim_, fct_, mart_, ml_), and the prefix agrees with the
	// model's folder and with its layer config.
	RuleLayerPrefix = "layer-prefix"
	// RuleMartOwner: every mart has an owner (config or meta owner).
	RuleMartOwner = "mart-owner"
	// RuleMartDescription: every mart has a description in a property file.
	RuleMartDescription = "mart-description"
	// RulePrimaryKeyTests: every model's primary key is tested unique and
	// not null.
	RulePrimaryKeyTests = "primary-key-tests"
	// RuleNoSelectStar: a mart's own SQL lists its columns.
	RuleNoSelectStar = "no-select-star"
)

// LintRules lists every lint rule.
var LintRules = []string{RuleLayerPrefix, RuleMartOwner, RuleMartDescription, RulePrimaryKeyTests, RuleNoSelectStar}

// Lint severities; LintOff disables a rule.
const (
	LintError = "error"
	LintWarn  = "warn"
	LintOff   = "off"
)

// LintConfig configures Project.Lint. The zero value checks every rule as
// an error with the default mart layers.
type LintConfig struct {
	// Rules sets a rule's severity and its own excludes; rules not listed
	// are errors.
	Rules map[string]LintRule
	// Exclude are paths no rule checks (see LintRule.Exclude).
	Exclude []string
	// MartLayers are the layers whose models are marts (default marts,
	// dimensions and facts: the models of dbt's marts folder).
	MartLayers []string
}

// LintRule configures one rule.
type LintRule struct {
	// Severity is LintError (default), LintWarn or LintOff.
	Severity string
	// Exclude are project-relative paths the rule does not check: a
	// path.Match pattern ("models/legacy/*.sql"), or a folder ending in
	// "/**" or "/" for everything under it.
	Exclude []string
}

// DefaultMartLayers are the layers of marts when LintConfig.MartLayers is
// empty.
var DefaultMartLayers = []string{"marts", "dimensions", "facts"}

// LintFinding is one broken rule.
type LintFinding struct {
	// Rule and Severity (LintError or LintWarn).
	Rule, Severity string
	// Path and Line locate the problem (Line 0 when unknown).
	Path string
	Line int
	// Node is the model's name.
	Node string
	// Msg says what is wrong and how to fix it.
	Msg string
}

// String returns "path:line: severity [rule] model node: message".
func (f LintFinding) String() string {
	var b strings.Builder
	if f.Path != "" {
		b.WriteString(f.Path)
		if f.Line > 0 {
			b.WriteString(":" + strconv.Itoa(f.Line))
		}
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "%s [%s] model %s: %s", f.Severity, f.Rule, f.Node, f.Msg)
	return b.String()
}

// Lint checks the project's models against the rules of cfg and returns
// what it found, sorted by path and line.
//
// How a model declares its primary key: config or meta primary_key (a
// column or a list of columns); else, for incremental models, unique_key.
// A declared key needs a not_null test on each column and a unique test
// (one column) or a unique_combination_of_columns test over exactly those
// columns (several). A model that declares none passes when one of its
// columns is tested both unique and not_null, or it has a
// unique_combination_of_columns test whose columns are all tested not_null.
// Ephemeral models have no primary key to test.
//
// no-select-star is about the columns a mart produces: a * in its
// top-level SELECT list fails when its columns come from outside the file
// (a ref, a source, a table), directly or through a CTE that itself
// selects *; import CTEs whose columns the mart lists are fine.
func (p *Project) Lint(cfg LintConfig) []LintFinding {
	l := &linter{p: p, cfg: cfg, marts: cfg.MartLayers}
	if len(l.marts) == 0 {
		l.marts = DefaultMartLayers
	}
	l.testsByModel = map[string][]*DataTest{}
	for _, t := range p.Tests {
		if t.Model != "" {
			l.testsByModel[t.Model] = append(l.testsByModel[t.Model], t)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(p.models)) {
		ms := p.models[name]
		if matchAny(cfg.Exclude, ms.m.Path) {
			continue
		}
		l.layerPrefix(ms)
		if ms.m.Materialized != MaterializedEphemeral {
			l.primaryKey(ms) // an ephemeral model is no relation to test
		}
		if slices.Contains(l.marts, l.node(ms).Layer) {
			l.martOwner(ms)
			l.martDescription(ms)
			l.noSelectStar(ms)
		}
	}
	slices.SortStableFunc(l.out, func(a, b LintFinding) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return strings.Compare(a.Rule, b.Rule)
	})
	return l.out
}

type linter struct {
	p            *Project
	cfg          LintConfig
	marts        []string
	testsByModel map[string][]*DataTest
	out          []LintFinding
}

func (l *linter) node(ms *modelState) nodeInfo {
	if n := l.p.byName[ms.m.Name]; n != nil {
		return nodeInfo{Layer: n.Layer, Owner: n.Owner, Description: n.Description}
	}
	return nodeInfo{Layer: modelLayer(ms.m, l.p.ModelPaths)}
}

type nodeInfo struct{ Layer, Owner, Description string }

// report records a finding unless the rule is off or excludes path.
func (l *linter) report(rule string, ms *modelState, file string, line int, format string, args ...any) {
	rc := l.cfg.Rules[rule]
	sev := rc.Severity
	if sev == "" {
		sev = LintError
	}
	if sev == LintOff || matchAny(rc.Exclude, ms.m.Path) || (file != ms.m.Path && matchAny(rc.Exclude, file)) {
		return
	}
	l.out = append(l.out, LintFinding{Rule: rule, Severity: sev, Path: file, Line: line, Node: ms.m.Name, Msg: fmt.Sprintf(format, args...)})
}

// propsLoc is where a model is described: its property file entry, else
// line 1 of its SQL file.
func propsLoc(ms *modelState) (string, int) {
	if ms.props != nil {
		return ms.props.path, ms.props.line
	}
	return ms.m.Path, 1
}

// prefixLayers maps a folder layer to the layers its models' prefixes may
// name.
var folderPrefixLayers = map[string][]string{
	"staging":      {"staging"},
	"base":         {"staging"},
	"intermediate": {"intermediate"},
	"marts":        {"marts", "dimensions", "facts"},
	"reporting":    {"marts"},
	"dimensions":   {"dimensions"},
	"facts":        {"facts"},
	"ml_features":  {"ml_features"},
}

func prefixLayer(name string) (prefix, layer string) {
	for _, lp := range layerByPrefix {
		if strings.HasPrefix(name, lp.prefix) {
			return lp.prefix, lp.layer
		}
	}
	return "", ""
}

func prefixOf(layer string) string {
	var out []string
	for _, lp := range layerByPrefix {
		if lp.layer == layer {
			out = append(out, lp.prefix)
		}
	}
	return strings.Join(out, " or ")
}

// folderLayer returns the layer of the first known folder of a model's
// path, and that folder.
func (l *linter) folderLayer(m *Model) (string, string) {
	rel := m.Path
	for _, mp := range l.p.ModelPaths {
		if r, ok := underPath(m.Path, mp); ok {
			rel = r
			break
		}
	}
	parts := strings.Split(rel, "/")
	for _, dir := range parts[:len(parts)-1] {
		if layer, ok := layerByFolder[strings.ToLower(dir)]; ok {
			return layer, dir
		}
	}
	return "", ""
}

func (l *linter) layerPrefix(ms *modelState) {
	m := ms.m
	prefix, layer := prefixLayer(m.Name)
	if prefix == "" {
		want := "stg_, int_, dim_, fct_, mart_ or ml_"
		if fl, _ := l.folderLayer(m); fl != "" {
			if allowed, ok := folderPrefixLayers[fl]; ok {
				want = prefixesOf(allowed)
			}
		}
		l.report(RuleLayerPrefix, ms, m.Path, 1, "name has no layer prefix: rename it to start with %s", want)
		return
	}
	if fl, dir := l.folderLayer(m); fl != "" {
		if allowed, ok := folderPrefixLayers[fl]; ok && !slices.Contains(allowed, layer) {
			l.report(RuleLayerPrefix, ms, m.Path, 1, "prefix %s means layer %s, but the model is in folder %s/ (layer %s): move it or rename it to start with %s",
				prefix, layer, dir, fl, prefixesOf(allowed))
		}
	}
	for _, key := range []string{"layer"} {
		v := toStr(m.Config[key])
		origin := ms.cfg.origin[key]
		if v == "" {
			v = toStr(m.Meta[key])
			origin = ms.cfg.origin["meta"]
		}
		if v != "" && v != layer {
			file, line := splitLoc(origin)
			if file == "" {
				file, line = m.Path, 1
			}
			l.report(RuleLayerPrefix, ms, file, line, "layer is set to %s, but the prefix %s means layer %s", v, prefix, layer)
		}
	}
}

func prefixesOf(layers []string) string {
	var out []string
	for _, layer := range layers {
		out = append(out, prefixOf(layer))
	}
	return strings.Join(out, " or ")
}

func (l *linter) martOwner(ms *modelState) {
	if strings.TrimSpace(l.node(ms).Owner) != "" {
		return
	}
	file, line := propsLoc(ms)
	l.report(RuleMartOwner, ms, file, line, "mart has no owner: set config or meta owner (the team answering for it)")
}

func (l *linter) martDescription(ms *modelState) {
	if strings.TrimSpace(l.node(ms).Description) != "" {
		return
	}
	file, line := propsLoc(ms)
	if ms.props == nil {
		l.report(RuleMartDescription, ms, file, line, "mart has no description: describe it under models: in a property file")
		return
	}
	l.report(RuleMartDescription, ms, file, line, "mart has no description: add description: to its entry")
}

// primaryKey checks the model's primary key is tested.
func (l *linter) primaryKey(ms *modelState) {
	m := ms.m
	tests := l.testsByModel[m.Name]
	colTests := map[string]map[string]bool{} // lower column -> test types
	var combos [][]string
	for _, t := range tests {
		typ := strings.TrimPrefix(t.Type, "dbt_utils.")
		if typ == "unique_combination_of_columns" {
			combos = append(combos, toStringList(t.Args["combination_of_columns"]))
			continue
		}
		if t.Column == "" {
			continue
		}
		c := strings.ToLower(t.Column)
		if colTests[c] == nil {
			colTests[c] = map[string]bool{}
		}
		colTests[c][typ] = true
	}
	has := func(col, typ string) bool { return colTests[strings.ToLower(col)][typ] }

	var key []string
	var origin, how string
	if v, ok := m.Config["primary_key"]; ok && v != nil {
		key, origin, how = toStringList(v), ms.cfg.origin["primary_key"], "primary_key"
	} else if v, ok := m.Meta["primary_key"]; ok && v != nil {
		key, origin, how = toStringList(v), ms.cfg.origin["meta"], "meta primary_key"
	} else if m.Materialized == MaterializedIncremental && len(m.UniqueKey) > 0 {
		key, origin, how = m.UniqueKey, ms.cfg.origin["unique_key"], "unique_key"
	}
	file, line := splitLoc(origin)
	if file == "" {
		file, line = propsLoc(ms)
	}
	if len(key) == 0 {
		for _, ts := range colTests {
			if ts[TestUnique] && ts[TestNotNull] {
				return
			}
		}
		for _, combo := range combos {
			all := len(combo) > 0
			for _, c := range combo {
				all = all && has(c, TestNotNull)
			}
			if all {
				return
			}
		}
		l.report(RulePrimaryKeyTests, ms, file, line, "no tested primary key: test its key column unique and not_null (or set meta primary_key and test those columns)")
		return
	}
	var missing []string
	for _, c := range key {
		if !has(c, TestNotNull) {
			missing = append(missing, "not_null on "+c)
		}
	}
	if len(key) == 1 {
		if !has(key[0], TestUnique) {
			missing = append(missing, "unique on "+key[0])
		}
	} else {
		found := false
		for _, combo := range combos {
			if sameColumns(combo, key) {
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, "unique_combination_of_columns on ["+strings.Join(key, ", ")+"]")
		}
	}
	if len(missing) > 0 {
		l.report(RulePrimaryKeyTests, ms, file, line, "primary key %s (%s) is not tested: add %s", strings.Join(key, ", "), how, strings.Join(missing, ", "))
	}
}

func sameColumns(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	set := map[string]bool{}
	for _, c := range a {
		set[strings.ToLower(c)] = true
	}
	for _, c := range b {
		if !set[strings.ToLower(c)] {
			return false
		}
	}
	return true
}

var jinjaTag = regexp.MustCompile(`(?s)\{\{.*?\}\}|\{%.*?%\}`)

// noSelectStar reports each * in the model's own top-level SELECT list
// whose columns come, directly or through the file's CTEs, from a relation
// outside the file (a ref, a source, a table): the columns the mart
// produces must be listed. A * over a CTE that lists its columns is fine,
// and so are import CTEs ("orders as (select * from {{ ref('x') }})")
// whose columns the mart then lists.
func (l *linter) noSelectStar(ms *modelState) {
	text := blankComments(ms.raw)
	// Expressions become one external-relation token (\x01) followed by
	// blanks; statements are blanked.
	text = jinjaTag.ReplaceAllStringFunc(text, func(m string) string {
		out := []byte(blankOut(m))
		if strings.HasPrefix(m, "{{") {
			out[0] = 1
		}
		return string(out)
	})
	toks := sqlTokens(text)
	q := &starQuery{toks: toks, raw: ms.raw, ctes: map[string]bool{}}
	main := q.parseWith()
	stars, from := q.analyze(main)
	if len(stars) == 0 || from == "" {
		return
	}
	for _, off := range stars {
		l.report(RuleNoSelectStar, ms, ms.m.Path, lineOf(text, off),
			"select * in a mart's output takes the columns of %s: list them, so that a change upstream cannot change the mart's columns unnoticed", from)
	}
}

// sqlToken is a word (lower-cased), a punctuation byte, or \x01 for a
// Jinja expression.
type sqlToken struct {
	s   string
	off int
}

func sqlTokens(s string) []sqlToken {
	var out []sqlToken
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case isSpace(c):
			i++
		case isWordByte(c) || c == '"':
			j := i
			if c == '"' {
				j++
				for j < len(s) && s[j] != '"' {
					j++
				}
				j++
			} else {
				for j < len(s) && isWordByte(s[j]) {
					j++
				}
			}
			out = append(out, sqlToken{strings.ToLower(strings.Trim(s[i:min(j, len(s))], `"`)), i})
			i = j
		default:
			out = append(out, sqlToken{string(c), i})
			i++
		}
	}
	return out
}

// starQuery analyses the * projections of one model file.
type starQuery struct {
	toks []sqlToken
	raw  string
	// ctes maps each CTE of the file to whether its columns come from
	// outside the file through a *.
	ctes map[string]bool
	// cteFrom names the outside relation of an open CTE.
	cteFrom map[string]string
}

// match returns the index of the parenthesis closing the one at i.
func (q *starQuery) match(i int, end int) int {
	depth := 0
	for k := i; k < end; k++ {
		switch q.toks[k].s {
		case "(":
			depth++
		case ")":
			depth--
			if depth == 0 {
				return k
			}
		}
	}
	return end
}

// parseWith reads a leading WITH clause, analysing each CTE, and returns
// the token range of the main query.
func (q *starQuery) parseWith() [2]int {
	q.cteFrom = map[string]string{}
	n := len(q.toks)
	i := 0
	for i < n && q.toks[i].s == "\x01" { // {{ config(...) }} and the like
		i++
	}
	if i >= n || q.toks[i].s != "with" {
		return [2]int{i, n}
	}
	i++
	if i < n && q.toks[i].s == "recursive" {
		i++
	}
	for i < n {
		name := q.toks[i].s
		i++
		if i < n && q.toks[i].s == "(" { // column list
			i = q.match(i, n) + 1
		}
		for i < n && q.toks[i].s != "(" { // AS [NOT] MATERIALIZED
			i++
		}
		if i >= n {
			break
		}
		close := q.match(i, n)
		stars, from := q.analyze([2]int{i + 1, close})
		q.ctes[name] = len(stars) > 0 && from != ""
		q.cteFrom[name] = from
		i = close + 1
		if i < n && q.toks[i].s == "," {
			i++
			continue
		}
		break
	}
	return [2]int{i, n}
}

var fromEnd = map[string]bool{
	"where": true, "group": true, "order": true, "having": true, "limit": true, "qualify": true,
	"window": true, "union": true, "except": true, "intersect": true, "on": true, "using": true,
	"select": true, "offset": true,
}

// analyze returns the select-list stars at the top level of the token
// range and, when one of its FROM relations brings columns from outside
// the file, a name for that relation ("" when every relation is a CTE of
// the file that lists its columns).
func (q *starQuery) analyze(r [2]int) (stars []int, from string) {
	const (
		other = iota
		selectList
		fromList
	)
	state := other
	expectRel := false
	for i := r[0]; i < r[1]; i++ {
		t := q.toks[i]
		switch {
		case t.s == "(":
			close := q.match(i, r[1])
			if expectRel && state == fromList {
				subStars, subFrom := q.analyze([2]int{i + 1, close})
				if len(subStars) > 0 && subFrom != "" && from == "" {
					from = subFrom
				}
				expectRel = false
			}
			i = close
			continue
		case t.s == "select":
			state, expectRel = selectList, false
		case t.s == "from" || t.s == "join":
			state, expectRel = fromList, true
		case fromEnd[t.s]:
			state, expectRel = other, false
		case t.s == "*" && state == selectList:
			if i > r[0] {
				prev := q.toks[i-1].s
				if prev == "select" || prev == "distinct" || prev == "all" || prev == "," || prev == "." {
					stars = append(stars, t.off)
				}
			}
		case t.s == "," && state == fromList:
			expectRel = true
		case expectRel && state == fromList:
			expectRel = false
			if from != "" {
				continue
			}
			switch open, local := q.ctes[t.s]; {
			case t.s == "\x01":
				from = q.jinjaText(t.off)
			case local && open:
				from = t.s + " (" + q.cteFrom[t.s] + ")"
			case !local:
				// A table of the database, possibly schema-qualified.
				name := t.s
				for i+2 < r[1] && q.toks[i+1].s == "." {
					name += "." + q.toks[i+2].s
					i += 2
				}
				from = name
			}
		}
	}
	return stars, from
}

// jinjaText returns the {{ ... }} expression starting at off in the raw
// file.
func (q *starQuery) jinjaText(off int) string {
	end := strings.Index(q.raw[off:], "}}")
	if end < 0 {
		return "a Jinja expression"
	}
	return strings.Join(strings.Fields(q.raw[off:off+end+2]), " ")
}

func isWordByte(b byte) bool {
	return b == '_' || b == '$' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b >= 0x80
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

func blankOut(m string) string {
	b := []byte(m)
	for i, c := range b {
		if c != '\n' {
			b[i] = ' '
		}
	}
	return string(b)
}

// blankComments blanks Jinja comments, SQL comments and string literals
// (keeping newlines, so offsets and lines stay).
func blankComments(s string) string {
	b := []byte(s)
	n := len(b)
	fill := func(from, to int) {
		for k := from; k < to && k < n; k++ {
			if b[k] != '\n' {
				b[k] = ' '
			}
		}
	}
	for i := 0; i < n; {
		switch {
		case strings.HasPrefix(s[i:], "{#"):
			end := strings.Index(s[i+2:], "#}")
			to := n
			if end >= 0 {
				to = i + 2 + end + 2
			}
			fill(i, to)
			i = to
		case strings.HasPrefix(s[i:], "--"):
			end := strings.IndexByte(s[i:], '\n')
			to := n
			if end >= 0 {
				to = i + end
			}
			fill(i, to)
			i = to
		case strings.HasPrefix(s[i:], "/*"):
			end := strings.Index(s[i+2:], "*/")
			to := n
			if end >= 0 {
				to = i + 2 + end + 2
			}
			fill(i, to)
			i = to
		case s[i] == '\'':
			// A SQL string, unless inside a Jinja tag (kept for the
			// import CTE match, blanked later).
			if insideJinja(s, i) {
				i++
				continue
			}
			to := i + 1
			for to < n {
				if s[to] == '\'' {
					if to+1 < n && s[to+1] == '\'' {
						to += 2
						continue
					}
					break
				}
				to++
			}
			fill(i, to+1)
			i = to + 1
		default:
			i++
		}
	}
	return string(b)
}

// insideJinja reports whether offset i is inside a {{ }} or {% %} tag.
func insideJinja(s string, i int) bool {
	open := max(strings.LastIndex(s[:i], "{{"), strings.LastIndex(s[:i], "{%"))
	if open < 0 {
		return false
	}
	close := max(strings.LastIndex(s[:i], "}}"), strings.LastIndex(s[:i], "%}"))
	return close < open
}

// matchAny reports whether p matches one of the exclude patterns.
func matchAny(patterns []string, p string) bool {
	if p == "" {
		return false
	}
	for _, pat := range patterns {
		pat = strings.TrimPrefix(strings.TrimSpace(pat), "./")
		switch {
		case pat == "":
		case strings.HasSuffix(pat, "/**"):
			if strings.HasPrefix(p, strings.TrimSuffix(pat, "**")) {
				return true
			}
		case strings.HasSuffix(pat, "/"):
			if strings.HasPrefix(p, pat) {
				return true
			}
		default:
			if ok, _ := path.Match(pat, p); ok {
				return true
			}
		}
	}
	return false
}
