package dag

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
)

// IndirectSelection is how tests are selected because the vertices they test
// are selected (dbt's --indirect-selection).
type IndirectSelection int

// The indirect selection modes.
const (
	// IndirectEager (the default) adds every test with at least one
	// selected parent, and excludes every test with at least one excluded
	// parent.
	IndirectEager IndirectSelection = iota
	// IndirectCautious adds only tests all of whose parents are selected.
	IndirectCautious
	// IndirectBuildable adds tests with at least one selected parent whose
	// other parents are selected or are ancestors of selected vertices.
	IndirectBuildable
	// IndirectEmpty adds no tests: only explicitly selected tests run.
	IndirectEmpty
)

// String returns the dbt name of the mode ("eager", "cautious", ...).
func (m IndirectSelection) String() string {
	switch m {
	case IndirectEager:
		return "eager"
	case IndirectCautious:
		return "cautious"
	case IndirectBuildable:
		return "buildable"
	case IndirectEmpty:
		return "empty"
	}
	return fmt.Sprintf("IndirectSelection(%d)", int(m))
}

// ParseIndirectSelection parses "eager", "cautious", "buildable" or "empty";
// "" gives IndirectEager.
func ParseIndirectSelection(s string) (IndirectSelection, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "eager":
		return IndirectEager, nil
	case "cautious":
		return IndirectCautious, nil
	case "buildable":
		return IndirectBuildable, nil
	case "empty":
		return IndirectEmpty, nil
	}
	return 0, fmt.Errorf("unknown indirect selection %q (want eager, cautious, buildable or empty)", s)
}

// SelectOptions is a full selection request.
type SelectOptions struct {
	// Select and Exclude are selector expressions (see Graph.Select).
	Select  []string
	Exclude []string
	// Indirect says how tests of selected vertices are selected.
	Indirect IndirectSelection
	// Results maps vertex names to their status in the previous run
	// ("success", "error", "fail", "skipped", ...), for the result: method
	// (as dbt's "result:error" with "dbt retry"). Vertices missing from it
	// match no result: criterion. A nil map means no previous results are
	// known: any result: criterion is then a *SelectorError; an empty
	// non-nil map is a previous run that built nothing.
	Results map[string]string
	// State maps vertex names to how they differ from an environment's
	// manifest ("new", "modified"; unchanged vertices are absent), for the
	// state: method (dbt's "state:modified"). A nil map means no manifest
	// is known: any state: criterion is then a *SelectorError.
	State map[string]string
}

// Selection is the result of a selection.
type Selection struct {
	// Nodes are the selected vertex names in topological order.
	Nodes []string
	// Indirect are the tests in Nodes that were added only by indirect
	// selection, in topological order.
	Indirect []string
	// Unmatched are the select criteria (space-separated parts of the
	// expressions, as written) that matched no vertex, so a CLI can warn.
	Unmatched []string
	// UnmatchedExclude are the exclude criteria that matched no vertex.
	UnmatchedExclude []string
}

// Select returns the names selected by selectExpr minus those selected by
// exclude, plus the tests of selected vertices (IndirectEager), in
// topological order.
//
// The grammar is dbt's node selection syntax. Each expression is a
// space-separated list of criteria whose results are unioned; the
// expressions of the slice are unioned too, like repeated --select flags.
// Within a criterion, comma-separated parts are intersected
// ("tag:hourly,config.materialized:view"). No expression (or only blank
// ones) selects every vertex.
//
// A part is [@][N+]method:value[+N] or [@][N+]value[+N], where method is
//
//   - none: the vertex name, or, if value contains '/', also a path;
//   - tag: one of Tags;
//   - path: the vertex's Path is value, or lies in directory value; globs
//     match file or directory paths, with '*' within one segment and "**"
//     across segments ("path:models/marts/*.sql");
//   - file: the base name of Path, with or without its extension;
//   - config.<key>: Config[key];
//   - resource_type: Kind (model, seed, source, test, task);
//   - source: a source "src" (every "src.*" source) or "src.table";
//   - state: modified (new or changed against an environment's manifest)
//     or new, from SelectOptions.State (dbt's state:modified).
//   - result: the vertex's status in the previous run (success, pass,
//     warn, fail, error, skipped, cancelled, fallback), taken from
//     SelectOptions.Results, so only SelectWith can evaluate it.
//
// Values may be fnmatch globs ("stg_*", "tag:mart*"). The graph operators
// are: "+x" x and all its ancestors, "N+x" ancestors up to N edges away,
// "x+" x and all its descendants, "x+N" descendants up to N edges away, and
// "@x" x, its descendants and all ancestors of those.
//
// A criterion matching nothing is not an error (see SelectDetailed); a part
// that cannot be parsed, such as an unknown method, is a *SelectorError.
func (g *Graph) Select(selectExpr []string, exclude []string) ([]string, error) {
	s, err := g.SelectWith(SelectOptions{Select: selectExpr, Exclude: exclude})
	return s.Nodes, err
}

// SelectDetailed is Select that also reports the criteria that matched
// nothing and the tests selected indirectly.
func (g *Graph) SelectDetailed(selectExpr []string, exclude []string) (Selection, error) {
	return g.SelectWith(SelectOptions{Select: selectExpr, Exclude: exclude})
}

// SelectWith runs the selection described by opts.
//
// The result is (S ∪ T) − X, where S is the union of the select criteria,
// X is the union of the exclude criteria plus, per opts.Indirect, the tests
// of excluded vertices (eager: tests with any excluded parent; cautious and
// buildable: tests whose parents are all excluded), and T are the tests
// added by indirect selection (see IndirectSelection) to the vertices of
// S − X.
func (g *Graph) SelectWith(opts SelectOptions) (Selection, error) {
	sels, err := parseExprs(opts.Select)
	if err != nil {
		return Selection{}, err
	}
	excls, err := parseExprs(opts.Exclude)
	if err != nil {
		return Selection{}, err
	}
	if err := bindResults(sels, opts.Results); err != nil {
		return Selection{}, err
	}
	if err := bindResults(excls, opts.Results); err != nil {
		return Selection{}, err
	}
	if err := bindState(sels, opts.State); err != nil {
		return Selection{}, err
	}
	if err := bindState(excls, opts.State); err != nil {
		return Selection{}, err
	}
	var res Selection
	n := len(g.st.verts)

	var sel []bool
	if len(sels) == 0 {
		sel = make([]bool, n)
		for i := range sel {
			sel[i] = true
		}
	} else {
		sel, res.Unmatched = g.evalUnion(sels)
	}
	var excl []bool
	if len(excls) > 0 {
		excl, res.UnmatchedExclude = g.evalUnion(excls)
		g.excludeTests(excl, opts.Indirect)
		for i, x := range excl {
			if x {
				sel[i] = false
			}
		}
	}
	indirect := g.indirectTests(sel, excl, opts.Indirect)
	for _, i := range g.topo {
		switch {
		case sel[i]:
			res.Nodes = append(res.Nodes, g.st.names[i])
		case indirect[i]:
			res.Nodes = append(res.Nodes, g.st.names[i])
			res.Indirect = append(res.Indirect, g.st.names[i])
		}
	}
	return res, nil
}

// ValidateSelectors reports whether exprs parse, without a graph: useful to
// check flags or configuration early. It returns the first *SelectorError.
// It does not need previous results: "result:error" is valid here even
// though SelectWith rejects it when SelectOptions.Results is nil.
func ValidateSelectors(exprs []string) error {
	_, err := parseExprs(exprs)
	return err
}

// bindResults gives the result: parts of crits the previous run's results,
// or fails if there are none.
func bindResults(crits []criterion, results map[string]string) error {
	for k := range crits {
		for j := range crits[k].parts {
			p := &crits[k].parts[j]
			if p.method != methodResult {
				continue
			}
			if results == nil {
				return &SelectorError{Selector: p.raw, Method: methodResult,
					Reason: "result: needs the previous run's results (SelectOptions.Results)"}
			}
			p.results = results
		}
	}
	return nil
}

// bindState gives the state: parts of crits the manifest comparison, or
// fails if there is none.
func bindState(crits []criterion, state map[string]string) error {
	for k := range crits {
		for j := range crits[k].parts {
			p := &crits[k].parts[j]
			if p.method != methodState {
				continue
			}
			if state == nil {
				return &SelectorError{Selector: p.raw, Method: methodState,
					Reason: "state: needs an environment's manifest to compare with (SelectOptions.State)"}
			}
			p.results = state
		}
	}
	return nil
}

// excludeTests adds to excl the tests excluded along with their parents.
func (g *Graph) excludeTests(excl []bool, mode IndirectSelection) {
	if mode == IndirectEmpty {
		return
	}
	var add []int32
	for i := range g.st.verts {
		if excl[i] || g.st.verts[i].Kind != KindTest || len(g.st.in[i]) == 0 {
			continue
		}
		if g.parentsMatch(int32(i), excl, mode == IndirectEager) {
			add = append(add, int32(i))
		}
	}
	for _, i := range add {
		excl[i] = true
	}
}

// indirectTests returns the tests that indirect selection adds to sel.
func (g *Graph) indirectTests(sel, excl []bool, mode IndirectSelection) []bool {
	n := len(g.st.verts)
	out := make([]bool, n)
	if mode == IndirectEmpty {
		return out
	}
	base := sel
	if mode == IndirectBuildable {
		base = slices.Clone(sel)
		var seeds []int32
		for i, s := range sel {
			if s {
				seeds = append(seeds, int32(i))
			}
		}
		expand(base, seeds, g.st.in, -1)
	}
	for i := range g.st.verts {
		if sel[i] || (excl != nil && excl[i]) || g.st.verts[i].Kind != KindTest || len(g.st.in[i]) == 0 {
			continue
		}
		switch mode {
		case IndirectEager:
			out[i] = g.parentsMatch(int32(i), sel, true)
		case IndirectCautious:
			out[i] = g.parentsMatch(int32(i), sel, false)
		case IndirectBuildable:
			out[i] = g.parentsMatch(int32(i), sel, true) && g.parentsMatch(int32(i), base, false)
		}
	}
	return out
}

// parentsMatch reports whether any (or, with !anyOf, all) of the parents of i
// are in set.
func (g *Graph) parentsMatch(i int32, set []bool, anyOf bool) bool {
	for _, p := range g.st.in[i] {
		if set[p] == anyOf {
			return anyOf
		}
	}
	return !anyOf
}

// evalUnion returns the union of the criteria and those that matched
// nothing.
func (g *Graph) evalUnion(crits []criterion) ([]bool, []string) {
	union := make([]bool, len(g.st.verts))
	var unmatched []string
	for k := range crits {
		set := g.evalCriterion(&crits[k])
		matched := false
		for i, in := range set {
			if in {
				union[i] = true
				matched = true
			}
		}
		if !matched && !slices.Contains(unmatched, crits[k].raw) {
			unmatched = append(unmatched, crits[k].raw)
		}
	}
	return union, unmatched
}

// evalCriterion returns the intersection of the parts of c. Parts without
// graph operators only filter what the others selected.
func (g *Graph) evalCriterion(c *criterion) []bool {
	var set []bool
	for k := range c.parts {
		p := &c.parts[k]
		if !p.hasOperator() {
			continue
		}
		other := g.evalPart(p)
		if set == nil {
			set = other
			continue
		}
		for i := range set {
			set[i] = set[i] && other[i]
		}
	}
	for k := range c.parts {
		p := &c.parts[k]
		if p.hasOperator() {
			continue
		}
		if set == nil {
			set = g.evalPart(p)
			continue
		}
		for i, in := range set {
			if in && !p.matches(&g.st.verts[i]) {
				set[i] = false
			}
		}
	}
	return set
}

// evalPart returns the vertices one part selects, graph operators applied.
func (g *Graph) evalPart(p *part) []bool {
	n := len(g.st.verts)
	set := make([]bool, n)
	var seeds []int32
	if i, ok := g.lookupName(p); ok {
		set[i] = true
		seeds = append(seeds, i)
	} else if !p.nameOnlyLiteral() {
		for i := range g.st.verts {
			if p.matches(&g.st.verts[i]) {
				set[i] = true
				seeds = append(seeds, int32(i))
			}
		}
	}
	if len(seeds) == 0 {
		return set
	}
	switch {
	case p.at:
		expand(set, seeds, g.st.out, -1)
		seeds = seeds[:0]
		for i, in := range set {
			if in {
				seeds = append(seeds, int32(i))
			}
		}
		expand(set, seeds, g.st.in, -1)
	case p.parents && p.children:
		// Expand separately: a vertex marked as an ancestor must not stop
		// the walk to descendants (or vice versa).
		up := slices.Clone(set)
		expand(up, seeds, g.st.in, p.parentDepth)
		expand(set, seeds, g.st.out, p.childDepth)
		for i, in := range up {
			if in {
				set[i] = true
			}
		}
	case p.parents:
		expand(set, seeds, g.st.in, p.parentDepth)
	case p.children:
		expand(set, seeds, g.st.out, p.childDepth)
	}
	return set
}

// lookupName resolves a bare literal name with a map lookup.
func (g *Graph) lookupName(p *part) (int32, bool) {
	if !p.nameOnlyLiteral() {
		return 0, false
	}
	i, ok := g.st.index[p.value]
	return i, ok
}

// criterion is one space-separated element of an expression: the
// intersection of its comma-separated parts.
type criterion struct {
	raw   string
	parts []part
}

// part is one comma-separated element of a criterion.
type part struct {
	raw string

	at          bool
	parents     bool
	parentDepth int // -1: unlimited
	children    bool
	childDepth  int // -1: unlimited

	method string // "" for a bare value
	key    string // for config.<key>
	value  string
	pat    pattern
	pglob  pathGlob // for path globs

	results map[string]string // for result:, bound by SelectWith
}

// The selector methods.
const (
	methodTag          = "tag"
	methodPath         = "path"
	methodFile         = "file"
	methodConfig       = "config"
	methodResourceType = "resource_type"
	methodSource       = "source"
	methodResult       = "result"
	methodState        = "state"
)

// stateValues are the values of the state: method: "modified" matches new
// and modified vertices (as in dbt), "new" only new ones.
var stateValues = []string{"modified", "new"}

// resultStatuses are the statuses a literal result: value may name: those of
// orchestrate.Status, plus "pending" for nodes of a run that died first.
var resultStatuses = []string{"success", "pass", "warn", "fail", "error", "skipped", "cancelled", "fallback", "pending"}

// hasOperator reports whether p uses a graph operator (+ or @).
func (p *part) hasOperator() bool { return p.at || p.parents || p.children }

// nameOnlyLiteral reports whether p is a bare literal without '/', which only
// an exact name can match.
func (p *part) nameOnlyLiteral() bool {
	return p.method == "" && !p.pat.glob && !strings.Contains(p.value, "/")
}

func (p *part) matches(v *Vertex) bool {
	switch p.method {
	case "":
		if p.pat.match(v.Name) {
			return true
		}
		return strings.Contains(p.value, "/") && p.matchPath(v.Path)
	case methodTag:
		for _, t := range v.Tags {
			if p.pat.match(t) {
				return true
			}
		}
		return false
	case methodPath:
		return p.matchPath(v.Path)
	case methodFile:
		if v.Path == "" {
			return false
		}
		base := path.Base(v.Path)
		if p.pat.match(base) {
			return true
		}
		stem := strings.TrimSuffix(base, path.Ext(base))
		return stem != base && p.pat.match(stem)
	case methodConfig:
		val, ok := v.Config[p.key]
		return ok && p.pat.match(val)
	case methodResourceType:
		return p.pat.match(v.Kind)
	case methodSource:
		if v.Kind != KindSource {
			return false
		}
		if strings.Contains(p.value, ".") {
			return p.pat.match(v.Name)
		}
		src, _, _ := strings.Cut(v.Name, ".")
		return p.pat.match(src)
	case methodResult:
		st, ok := p.results[v.Name]
		return ok && p.pat.match(st)
	case methodState:
		st, ok := p.results[v.Name]
		return ok && (p.pat.match(st) || (p.value == "modified" && st == "new"))
	}
	return false
}

// matchPath reports whether file (a vertex's Path) is selected by p's path
// value: file is the value or lies below it; with a glob, the glob matches
// file or one of its parent directories.
func (p *part) matchPath(file string) bool {
	if file == "" {
		return false
	}
	file = cleanPath(file)
	sel := p.value
	if sel == "." {
		return true
	}
	if p.pglob == nil {
		return file == sel || (strings.HasPrefix(file, sel) && file[len(sel)] == '/')
	}
	// Every match starts with the literal prefix, and the parent
	// directories are prefixes of file.
	if !strings.HasPrefix(file, p.pat.prefix) {
		return false
	}
	if p.pglob.match(file) {
		return true
	}
	for i := len(file) - 1; i > 0; i-- {
		if file[i] == '/' && p.pglob.match(file[:i]) {
			return true
		}
	}
	return false
}

// cleanPath normalises a slash-separated relative path: no "./" prefix, no
// trailing or doubled slashes.
func cleanPath(p string) string {
	if strings.HasPrefix(p, "./") || strings.HasSuffix(p, "/") || strings.Contains(p, "//") || strings.Contains(p, "/./") {
		return path.Clean(p)
	}
	return p
}

// parseExprs parses select or exclude expressions; blank ones are ignored.
func parseExprs(exprs []string) ([]criterion, error) {
	var crits []criterion
	for _, e := range exprs {
		for _, raw := range strings.Fields(e) {
			c := criterion{raw: raw}
			for _, ps := range strings.Split(raw, ",") {
				p, err := parsePart(ps, raw)
				if err != nil {
					return nil, err
				}
				c.parts = append(c.parts, p)
			}
			crits = append(crits, c)
		}
	}
	return crits, nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// parsePart parses one part ([@][N+]method:value[+N]) of criterion crit.
func parsePart(raw, crit string) (part, error) {
	p := part{raw: raw, parentDepth: -1, childDepth: -1}
	fail := func(method, format string, args ...any) (part, error) {
		sel := raw
		if sel == "" {
			sel = crit
		}
		return part{}, &SelectorError{Selector: sel, Method: method, Reason: fmt.Sprintf(format, args...)}
	}
	if raw == "" {
		return fail("", "empty selector")
	}
	s := raw
	if strings.HasPrefix(s, "@") {
		p.at = true
		s = s[1:]
	}
	k := 0
	for k < len(s) && isDigit(s[k]) {
		k++
	}
	if k < len(s) && s[k] == '+' {
		if p.at {
			return fail("", `"@" cannot be combined with a "+" prefix`)
		}
		p.parents = true
		if k > 0 {
			d, err := strconv.Atoi(s[:k])
			if err != nil {
				return fail("", "invalid depth %q", s[:k])
			}
			p.parentDepth = d
		}
		s = s[k+1:]
	}
	k = len(s)
	for k > 0 && isDigit(s[k-1]) {
		k--
	}
	if k > 0 && s[k-1] == '+' {
		p.children = true
		if k < len(s) {
			d, err := strconv.Atoi(s[k:])
			if err != nil {
				return fail("", "invalid depth %q", s[k:])
			}
			p.childDepth = d
		}
		s = s[:k-1]
	}

	if i := strings.IndexByte(s, ':'); i > 0 && isMethodName(s[:i]) {
		p.method, s = s[:i], s[i+1:]
	}
	switch {
	case p.method == "", p.method == methodTag, p.method == methodPath, p.method == methodFile,
		p.method == methodResourceType, p.method == methodSource, p.method == methodResult, p.method == methodState:
	case p.method == methodConfig:
		return fail(p.method, `selector method "config" needs a key, as in "config.materialized:view"`)
	case strings.HasPrefix(p.method, methodConfig+"."):
		p.key = p.method[len(methodConfig)+1:]
		p.method = methodConfig
	default:
		return fail(p.method, "unknown selector method %q", p.method)
	}
	if s == "" {
		if p.method != "" {
			return fail(p.method, "missing value for selector method %q", p.method)
		}
		return fail("", "missing node name")
	}
	if p.method == methodPath || (p.method == "" && strings.Contains(s, "/")) {
		s = cleanPath(s)
	}
	pat, err := compilePattern(s)
	if err != nil {
		return fail(p.method, "invalid pattern %q (%v)", s, err)
	}
	if p.method == methodResult && !pat.glob && !slices.Contains(resultStatuses, s) {
		return fail(p.method, "unknown result status %q (want %s)", s, strings.Join(resultStatuses, ", "))
	}
	if p.method == methodState && !slices.Contains(stateValues, s) {
		return fail(p.method, "unknown state %q (want %s)", s, strings.Join(stateValues, " or "))
	}
	p.value, p.pat = s, pat
	if pat.glob && (p.method == methodPath || p.method == "") {
		p.pglob = compilePathGlob(s)
	}
	return p, nil
}

// isMethodName reports whether s looks like a method name ([A-Za-z0-9_.]+).
func isMethodName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c == '.' || isDigit(c) || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')) {
			return false
		}
	}
	return s != ""
}
