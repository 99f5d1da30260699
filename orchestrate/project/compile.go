package project

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// trimSQL removes trailing whitespace and semicolons.
func trimSQL(s string) string {
	return strings.TrimRight(s, " \t\r\n;")
}

// renderAt renders a template at run time, returning the SQL and the
// ephemeral models it references (in order of first use).
func (p *Project) renderAt(src, path, self string, this *relationValue, base map[string]any, incremental bool) (string, []string, error) {
	rs := &renderState{
		jc:          p.jc,
		path:        path,
		self:        self,
		this:        this,
		compile:     true,
		incremental: incremental,
		res:         p,
		baseConfig:  base,
	}
	out, err := rs.render(src)
	if err != nil {
		return "", nil, err
	}
	return trimSQL(out), rs.ephemerals, nil
}

func (p *Project) renderModelBody(ms *modelState, incremental bool) (string, []string, error) {
	return p.renderAt(ms.raw, ms.label, ms.m.Name, newRelationValue(ms.m.Relation()), ms.m.Config, incremental)
}

func (ms *modelState) lines() *lineIndex {
	ms.linesOnce.Do(func() { ms.lineIdx = newLineIndex(ms.raw) })
	return ms.lineIdx
}

func (ts *testState) lines() *lineIndex {
	ts.linesOnce.Do(func() { ts.lineIdx = newLineIndex(ts.raw) })
	return ts.lineIdx
}

// compileModel renders a model for st and inlines its ephemeral refs.
func (p *Project) compileModel(ms *modelState, st CompileState) (Compiled, error) {
	inc := st.IsIncremental && ms.m.Materialized == MaterializedIncremental
	body, ephs, err := p.renderModelBody(ms, inc)
	if err != nil {
		return Compiled{}, err
	}
	c, err := p.inline(body, ephs, ms.raw, ms.lines(), ms.label)
	c.Path = ms.m.Path
	return c, err
}

// compileTest renders a data test with its ephemeral refs inlined.
func (p *Project) compileTest(ts *testState, st CompileState) (Compiled, error) {
	body, ephs, err := p.renderAt(ts.raw, ts.t.Path, ts.t.Name, nil, ts.t.Config, false)
	if err != nil {
		if ts.generic {
			if e, ok := err.(*Error); ok {
				e.Line = ts.t.Line
			}
		}
		return Compiled{}, err
	}
	c, err := p.inline(body, ephs, ts.raw, ts.lines(), ts.t.Path)
	c.Path = ts.t.Path
	if ts.generic {
		line := ts.t.Line
		c.SourceLine = func(int) int { return line }
	}
	return c, err
}

var (
	reWith          = regexp.MustCompile(`(?i)^with(\s+recursive)?\s`)
	reLeadingIgnore = regexp.MustCompile(`^(\s+|--[^\n]*(\n|$)|/\*(?s:.*?)\*/)`)
)

// leadingCommentEnd returns the offset of the first SQL token of s,
// skipping whitespace and comments.
func leadingCommentEnd(s string) int {
	k := 0
	for k < len(s) {
		m := reLeadingIgnore.FindStringIndex(s[k:])
		if m == nil || m[1] == 0 {
			break
		}
		k += m[1]
	}
	return k
}

type cteBlock struct {
	name string
	text string
	// line is the source line its compiled lines map to.
	line int
}

// inline prefixes body with the CTEs of the ephemeral models it references
// (transitively, each once, dependencies first) and maps compiled lines
// back to raw.
func (p *Project) inline(body string, direct []string, raw string, li *lineIndex, label string) (Compiled, error) {
	if len(direct) == 0 {
		lines := strings.Split(body, "\n")
		return Compiled{SQL: body, SourceLine: func(l int) int {
			text := ""
			if l >= 1 && l <= len(lines) {
				text = lines[l-1]
			}
			return li.source(l, text)
		}}, nil
	}
	var ctes []cteBlock
	seen := map[string]bool{}
	var visit func(name string, stack []string, line int) error
	visit = func(name string, stack []string, line int) error {
		for _, s := range stack {
			if s == name {
				return &Error{Path: label, Line: line, Kind: ErrJinja, Msg: fmt.Sprintf("ephemeral models reference each other in a cycle: %s -> %s", strings.Join(stack, " -> "), name)}
			}
		}
		if seen[name] {
			return nil
		}
		ems, ok := p.models[name]
		if !ok {
			return nil
		}
		ebody, eephs, err := p.renderModelBody(ems, false)
		if err != nil {
			return err
		}
		stack = append(stack, name)
		for _, e := range eephs {
			if err := visit(e, stack, line); err != nil {
				return err
			}
		}
		seen[name] = true
		ctes = append(ctes, cteBlock{name: name, text: strings.TrimSpace(ebody), line: line})
		return nil
	}
	for _, e := range direct {
		if err := visit(e, nil, findCallLine(raw, "ref", e)); err != nil {
			return Compiled{}, err
		}
	}
	// Build the CTE list and remember which compiled line maps where.
	var cte strings.Builder
	var cteLines []int // source line for each line of cte text
	for i, c := range ctes {
		if i > 0 {
			cte.WriteString(",\n")
		}
		block := cteName(c.name) + " as (\n" + c.text + "\n)"
		cte.WriteString(block)
		n := strings.Count(block, "\n") + 1
		for j := 0; j < n; j++ {
			cteLines = append(cteLines, c.line)
		}
	}
	nCTE := len(cteLines)
	k := leadingCommentEnd(body)
	rest := body[k:]
	var sql string
	// origin of each compiled line: >0 body line, <0 -(source line) of a CTE.
	var origin []int
	if m := reWith.FindStringIndex(rest); m != nil {
		kw := strings.TrimRight(rest[:m[1]], " \t\r\n")
		after := strings.TrimLeft(rest[len(kw):], " \t")
		dropped := 0
		if strings.HasPrefix(after, "\n") {
			after = after[1:]
			dropped = 1
		} else if strings.HasPrefix(after, "\r\n") {
			after = after[2:]
			dropped = 1
		}
		w := lineOf(body, k) // body line holding "with"
		sql = body[:k] + kw + " " + cte.String() + ",\n" + after
		total := strings.Count(sql, "\n") + 1
		origin = make([]int, total)
		for l := 1; l <= total; l++ {
			switch {
			case l <= w:
				origin[l-1] = l
			case l < w+nCTE:
				origin[l-1] = -cteLines[l-w]
			default:
				origin[l-1] = l - nCTE + dropped
			}
		}
	} else {
		sql = "with " + cte.String() + "\n" + body
		total := strings.Count(sql, "\n") + 1
		origin = make([]int, total)
		for l := 1; l <= total; l++ {
			if l <= nCTE {
				origin[l-1] = -cteLines[l-1]
			} else {
				origin[l-1] = l - nCTE
			}
		}
	}
	lines := strings.Split(sql, "\n")
	return Compiled{SQL: sql, SourceLine: func(l int) int {
		if l < 1 || l > len(origin) {
			return li.source(l, "")
		}
		o := origin[l-1]
		if o < 0 {
			return -o
		}
		return li.source(o, lines[l-1])
	}}, nil
}

// memoCompile caches compile's result per CompileState: rendering depends
// only on the state and on what was fixed at load (vars, env vars, target),
// so a node run many times (retries, schedules) renders once per state.
func memoCompile(compile func(CompileState) (Compiled, error)) func(CompileState) (Compiled, error) {
	type entry struct {
		once sync.Once
		c    Compiled
		err  error
	}
	var cache [2]entry
	return func(st CompileState) (Compiled, error) {
		i := 0
		if st.IsIncremental {
			i = 1
		}
		e := &cache[i]
		e.once.Do(func() { e.c, e.err = compile(st) })
		return e.c, e.err
	}
}
