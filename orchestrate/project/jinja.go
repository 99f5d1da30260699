package project

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/nikolalohinski/gonja/v2/builtins"
	gconfig "github.com/nikolalohinski/gonja/v2/config"
	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/loaders"
	"github.com/nikolalohinski/gonja/v2/nodes"
)

// jinjaConfig is the gonja configuration used for every template.
var jinjaConfig = gconfig.New()

// baseEnvironment holds gonja's built-in filters, tests, statements and
// global functions. It is shared (read-only) by every render.
var baseEnvironment = &exec.Environment{
	Context:           exec.EmptyContext().Update(builtins.GlobalFunctions).Update(builtins.GlobalVariables),
	Filters:           builtins.Filters,
	Tests:             builtins.Tests,
	ControlStructures: builtins.ControlStructures,
	Methods:           builtins.Methods,
}

// oneLoader serves a single template source; includes and imports of other
// files are not supported.
type oneLoader struct {
	name string
	src  string
}

func (l oneLoader) Read(p string) (io.Reader, error) {
	if p != l.name {
		return nil, fmt.Errorf("cannot load template %q: include and import are not supported", p)
	}
	return strings.NewReader(l.src), nil
}
func (l oneLoader) Resolve(p string) (string, error)       { return p, nil }
func (l oneLoader) Inherit(string) (loaders.Loader, error) { return l, nil }

var (
	reParseLine = regexp.MustCompile(`\(Line: (\d+) Col: \d+(?:, near "((?s:.*?))")?\)`)
	reExecLine  = regexp.MustCompile(`at line (\d+)`)
	// reExecPrefix matches gonja's location prefixes, redundant once the
	// line is in the error's location.
	reExecPrefix = regexp.MustCompile(`Unable to (?:render expression|execute controlStructure) at line \d+: `)
)

// parseTemplate parses a Jinja template; syntax errors name path and line.
// Renders of the template start from env's context.
func parseTemplate(env *exec.Environment, path, src string) (*exec.Template, error) {
	t, err := exec.NewTemplate(path, jinjaConfig, oneLoader{name: path, src: src}, env)
	if err != nil {
		msg := err.Error()
		msg = strings.TrimPrefix(msg, "failed to parse template '"+src+"': ")
		line := 0
		if m := reParseLine.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = strings.TrimSpace(strings.Replace(msg, m[0], "", 1))
			if m[2] != "" {
				msg += fmt.Sprintf(" (near %q)", m[2])
			}
		}
		return nil, &Error{Path: path, Line: line, Kind: ErrJinja, Msg: "jinja syntax error: " + msg, Cause: err}
	}
	return t, nil
}

var (
	reTestBlock    = regexp.MustCompile(`\{%(-?)\s*test\s+([A-Za-z_][A-Za-z0-9_]*)\s*\(`)
	reEndTestBlock = regexp.MustCompile(`\{%(-?)\s*endtest\s*(-?)%\}`)
	reMatBlock     = regexp.MustCompile(`(?s)\{%-?\s*materialization\s.*?\{%-?\s*endmaterialization\s*-?%\}`)
)

// preprocessMacros rewrites dbt's {% test name(...) %} blocks into
// {% macro test_name(...) %} and blanks {% materialization %} blocks,
// keeping line numbers.
func preprocessMacros(src string) string {
	if strings.Contains(src, "test") {
		src = reTestBlock.ReplaceAllString(src, "{%$1 macro test_$2(")
		src = reEndTestBlock.ReplaceAllString(src, "{%$1 endmacro $2%}")
	}
	if strings.Contains(src, "materialization") {
		src = reMatBlock.ReplaceAllStringFunc(src, func(s string) string {
			return strings.Repeat("\n", strings.Count(s, "\n"))
		})
	}
	return src
}

// macroDef is one {% macro %} of a macro file, parsed once and shared by
// every render.
type macroDef struct {
	name string
	path string
	line int
	node *nodes.Macro
}

// relationValue is what ref(), source() and this return: it renders as the
// quoted relation and has dbt's Relation attributes.
type relationValue struct {
	rel    Relation
	quoted string
}

func newRelationValue(r Relation) *relationValue {
	return &relationValue{rel: r, quoted: r.Quoted()}
}

// String renders the relation.
func (r *relationValue) String() string { return r.quoted }

// GetAttribute implements exec.AttributeGetter.
func (r *relationValue) GetAttribute(name string) (*exec.Value, bool) {
	schema := r.rel.Schema
	if schema == "" {
		schema = DefaultSchema
	}
	switch name {
	case "schema":
		return exec.AsValue(schema), true
	case "identifier", "name", "table":
		return exec.AsValue(r.rel.Name), true
	case "database":
		return exec.AsValue(""), true
	case "render":
		return exec.AsValue(func() string { return r.quoted }), true
	}
	return exec.AsValue(nil), false
}

// ctxFunc is the function type gonja calls with positional and keyword
// arguments.
type ctxFunc func(*exec.VarArgs) *exec.Value

// configFunc is config(...) with config.get / config.require.
type configFunc func(*exec.VarArgs) *exec.Value

// GetAttribute implements exec.AttributeGetter: config.get and
// config.require call the function with a marker.
func (f configFunc) GetAttribute(name string) (*exec.Value, bool) {
	switch name {
	case "get", "require":
		return exec.AsValue(func(va *exec.VarArgs) *exec.Value {
			nva := &exec.VarArgs{Args: append([]*exec.Value{exec.AsValue(configGetMarker{name})}, va.Args...), KwArgs: va.KwArgs}
			return f(nva)
		}), true
	}
	return exec.AsValue(nil), false
}

type configGetMarker struct{ op string }

// varFunc is var(...) with var.has_var.
type varFunc func(*exec.VarArgs) *exec.Value

// GetAttribute implements exec.AttributeGetter for var.has_var.
func (f varFunc) GetAttribute(name string) (*exec.Value, bool) {
	if name == "has_var" {
		return exec.AsValue(func(va *exec.VarArgs) *exec.Value {
			nva := &exec.VarArgs{Args: append([]*exec.Value{exec.AsValue(configGetMarker{"has_var"})}, va.Args...), KwArgs: va.KwArgs}
			return f(nva)
		}), true
	}
	return exec.AsValue(nil), false
}

// errReturn unwinds a macro after return(); the macro's wrapper replaces
// it with the returned value.
var errReturn = errors.New("macro returned")

type retSlot struct {
	set bool
	val any
}

// resolver answers ref() and source() for a render.
type resolver interface {
	// refRelation returns the relation for a ref, and whether it is an
	// ephemeral model (rendered as a CTE at compile time).
	refRelation(name string) (Relation, bool)
	sourceRelation(source, table string) Relation
}

// renderState is the per-render Jinja context: it records refs, sources and
// config() calls, and raises typed errors.
type renderState struct {
	jc   *jinjaCtx
	path string
	// self is the node being rendered ("" for YAML values).
	self string
	this *relationValue
	// compile is true at run time: ephemeral refs become CTE names.
	compile     bool
	incremental bool
	res         resolver
	baseConfig  map[string]any

	refs       []string
	sources    []string
	ephemerals []string
	configs    []map[string]any
	retStack   []*retSlot
	firstErr   *Error
}

// jinjaCtx is what every render of a project shares: macros, vars, target,
// env lookup.
type jinjaCtx struct {
	project string
	vars    map[string]any
	target  Target
	env     func(string) (string, bool)
	logger  *slog.Logger
	macros  []*macroDef
	// macroTmpl is any macro template, used as the renderer's template.
	macroTmpl *exec.Template
	// genv is the gonja environment of every template: the built-ins plus
	// the project's static context (target, project_name, ...).
	genv *exec.Environment
	// sessions pools *session values.
	sessions sync.Pool
}

// newEnvironment makes the gonja environment shared by a project's renders.
func newEnvironment(project, profile string, t Target) *exec.Environment {
	target := map[string]any{
		"name":         t.Name,
		"target_name":  t.Name,
		"schema":       t.Schema,
		"type":         t.Type,
		"threads":      t.Threads,
		"database":     "",
		"profile_name": profile,
	}
	static := map[string]any{
		"target":       target,
		"project_name": project,
		"tojson": func(v any) string {
			b, err := json.Marshal(v)
			if err != nil {
				return ""
			}
			return string(b)
		},
		"fromjson": func(s string) any {
			var v any
			if json.Unmarshal([]byte(s), &v) != nil {
				return nil
			}
			return v
		},
	}
	return &exec.Environment{
		Context:           baseEnvironment.Context.Inherit().Update(exec.NewContext(static)),
		Filters:           baseEnvironment.Filters,
		Tests:             baseEnvironment.Tests,
		ControlStructures: baseEnvironment.ControlStructures,
		Methods:           baseEnvironment.Methods,
	}
}

func (rs *renderState) fail(kind error, format string, args ...any) *exec.Value {
	e := &Error{Path: rs.path, Kind: kind, Msg: fmt.Sprintf(format, args...)}
	if rs.firstErr == nil {
		rs.firstErr = e
	}
	return exec.AsValue(e)
}

func addUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

func (rs *renderState) ref(va *exec.VarArgs) *exec.Value {
	var names []string
	for _, a := range va.Args {
		names = append(names, a.String())
	}
	if len(names) == 0 {
		if v, ok := va.KwArgs["name"]; ok {
			names = append(names, v.String())
		}
	}
	if len(names) == 0 || len(names) > 2 {
		return rs.fail(ErrJinja, "ref() takes a model name, or a package and a model name")
	}
	name := names[len(names)-1]
	rs.refs = addUnique(rs.refs, name)
	rel, eph := rs.res.refRelation(name)
	if eph && rs.compile {
		rs.ephemerals = addUnique(rs.ephemerals, name)
		return exec.AsSafeValue(&relationValue{rel: Relation{Name: cteName(name)}, quoted: cteName(name)})
	}
	return exec.AsSafeValue(newRelationValue(rel))
}

func cteName(model string) string { return "__dbt__cte__" + model }

func (rs *renderState) source(va *exec.VarArgs) *exec.Value {
	if len(va.Args) != 2 {
		return rs.fail(ErrJinja, "source() takes a source name and a table name")
	}
	src, tbl := va.Args[0].String(), va.Args[1].String()
	rs.sources = addUnique(rs.sources, src+"."+tbl)
	return exec.AsSafeValue(newRelationValue(rs.res.sourceRelation(src, tbl)))
}

func (rs *renderState) config(va *exec.VarArgs) *exec.Value {
	if len(va.Args) > 0 {
		if m, ok := va.Args[0].Interface().(configGetMarker); ok {
			if len(va.Args) < 2 {
				return rs.fail(ErrJinja, "config.%s() needs a key", m.op)
			}
			key := va.Args[1].String()
			v, found := rs.configValue(key)
			if found {
				return exec.AsValue(v)
			}
			if len(va.Args) > 2 {
				return va.Args[2]
			}
			if d, ok := va.KwArgs["default"]; ok {
				return d
			}
			if m.op == "require" {
				return rs.fail(ErrConfig, "config %q is required", key)
			}
			return exec.AsValue(nil)
		}
		if d, ok := goValue(va.Args[0]).(map[string]any); ok {
			rs.configs = append(rs.configs, d)
		}
	}
	if len(va.KwArgs) > 0 {
		m := make(map[string]any, len(va.KwArgs))
		for k, v := range va.KwArgs {
			m[k] = goValue(v)
		}
		rs.configs = append(rs.configs, m)
	}
	return exec.AsValue("")
}

// goValue converts a Jinja value to plain Go values (map[string]any,
// []any, scalars); values that do not convert are rendered as text.
func goValue(v *exec.Value) any {
	g := v.ToGoSimpleType(false)
	if _, isErr := g.(error); isErr {
		return v.String()
	}
	return g
}

func (rs *renderState) configValue(key string) (any, bool) {
	for i := len(rs.configs) - 1; i >= 0; i-- {
		if v, ok := rs.configs[i][key]; ok {
			return v, true
		}
	}
	v, ok := rs.baseConfig[key]
	return v, ok
}

func (rs *renderState) varFn(va *exec.VarArgs) *exec.Value {
	if len(va.Args) > 0 {
		if m, ok := va.Args[0].Interface().(configGetMarker); ok && m.op == "has_var" {
			if len(va.Args) < 2 {
				return exec.AsValue(false)
			}
			_, found := rs.jc.vars[va.Args[1].String()]
			return exec.AsValue(found)
		}
	}
	if len(va.Args) == 0 {
		return rs.fail(ErrJinja, "var() needs a variable name")
	}
	name := va.Args[0].String()
	if v, ok := rs.jc.vars[name]; ok {
		return exec.AsValue(v)
	}
	if len(va.Args) > 1 {
		return va.Args[1]
	}
	if d, ok := va.KwArgs["default"]; ok {
		return d
	}
	return rs.fail(ErrUndefinedVar, "var %q is not defined and has no default (set it under vars: in dbt_project.yml or with --vars)", name)
}

func (rs *renderState) envVar(va *exec.VarArgs) *exec.Value {
	if len(va.Args) == 0 {
		return rs.fail(ErrJinja, "env_var() needs a variable name")
	}
	name := va.Args[0].String()
	lookup := rs.jc.env
	if v, ok := lookup(name); ok {
		return exec.AsValue(v)
	}
	if len(va.Args) > 1 {
		return exec.AsValue(va.Args[1].String())
	}
	if d, ok := va.KwArgs["default"]; ok {
		return exec.AsValue(d.String())
	}
	return rs.fail(ErrMissingEnvVar, "env var %q is not set and env_var() has no default", name)
}

func (rs *renderState) ret(va *exec.VarArgs) *exec.Value {
	if len(rs.retStack) == 0 {
		return rs.fail(ErrJinja, "return() called outside of a macro")
	}
	s := rs.retStack[len(rs.retStack)-1]
	s.set = true
	if len(va.Args) > 0 {
		s.val = va.Args[0].Interface()
	}
	return exec.AsValue(errReturn)
}

func (rs *renderState) log(va *exec.VarArgs) *exec.Value {
	if rs.jc.logger != nil && len(va.Args) > 0 {
		level := slog.LevelDebug
		info := len(va.Args) > 1 && va.Args[1].IsTrue()
		if v, ok := va.KwArgs["info"]; ok && v.IsTrue() {
			info = true
		}
		if info {
			level = slog.LevelInfo
		}
		rs.jc.logger.Log(nil, level, va.Args[0].String(), "file", rs.path)
	}
	return exec.AsValue("")
}

func (rs *renderState) raise(va *exec.VarArgs) *exec.Value {
	msg := "compiler error"
	if len(va.Args) > 0 {
		msg = va.Args[0].String()
	}
	return rs.fail(ErrJinja, "%s", msg)
}

func (rs *renderState) warn(va *exec.VarArgs) *exec.Value {
	if rs.jc.logger != nil && len(va.Args) > 0 {
		rs.jc.logger.Warn(va.Args[0].String(), "file", rs.path)
	}
	return exec.AsValue("")
}

// session is a Jinja environment reused by one goroutine at a time: the
// project's macros are bound to it once, and its context functions (ref,
// source, config, ...) forward to the render in progress, cur. Templates
// parsed with a session's environment must be rendered with that session.
type session struct {
	jc  *jinjaCtx
	env *exec.Environment
	cur *renderState
}

// getSession takes a session from the project's pool.
func (jc *jinjaCtx) getSession() *session {
	if s, ok := jc.sessions.Get().(*session); ok {
		return s
	}
	return jc.newSession()
}

func (jc *jinjaCtx) putSession(s *session) {
	s.cur = nil
	jc.sessions.Put(s)
}

func (jc *jinjaCtx) newSession() *session {
	s := &session{jc: jc}
	ctx := jc.genv.Context.Inherit()
	s.env = &exec.Environment{
		Context:           ctx,
		Filters:           jc.genv.Filters,
		Tests:             jc.genv.Tests,
		ControlStructures: jc.genv.ControlStructures,
		Methods:           jc.genv.Methods,
	}
	ref := ctxFunc(func(va *exec.VarArgs) *exec.Value { return s.cur.ref(va) })
	source := ctxFunc(func(va *exec.VarArgs) *exec.Value { return s.cur.source(va) })
	config := configFunc(func(va *exec.VarArgs) *exec.Value { return s.cur.config(va) })
	builtin := map[string]any{
		"ref":            ref,
		"source":         source,
		"config":         config,
		"var":            varFunc(func(va *exec.VarArgs) *exec.Value { return s.cur.varFn(va) }),
		"env_var":        ctxFunc(func(va *exec.VarArgs) *exec.Value { return s.cur.envVar(va) }),
		"is_incremental": func() bool { return s.cur.incremental },
		"return":         ctxFunc(func(va *exec.VarArgs) *exec.Value { return s.cur.ret(va) }),
		"log":            ctxFunc(func(va *exec.VarArgs) *exec.Value { return s.cur.log(va) }),
		"exceptions": map[string]any{
			"raise_compiler_error": ctxFunc(func(va *exec.VarArgs) *exec.Value { return s.cur.raise(va) }),
			"warn":                 ctxFunc(func(va *exec.VarArgs) *exec.Value { return s.cur.warn(va) }),
		},
		"model":    modelInfo{s},
		"builtins": map[string]any{"ref": ref, "source": source, "config": config},
	}
	for k, v := range builtin {
		ctx.Set(k, v)
	}
	if len(jc.macros) > 0 {
		r := exec.NewRenderer(s.env, io.Discard, jinjaConfig, oneLoader{}, jc.macroTmpl)
		for _, m := range jc.macros {
			if _, isBuiltin := builtin[m.name]; isBuiltin || m.name == "this" || m.name == "execute" {
				continue
			}
			inner, err := exec.MacroNodeToFunc(m.node, r)
			if err != nil {
				continue // MacroNodeToFunc does not fail
			}
			ctx.Set(m.name, s.wrapMacro(inner))
		}
	}
	return s
}

// modelInfo is the model variable: the node being rendered.
type modelInfo struct{ s *session }

// String returns the node's name.
func (m modelInfo) String() string { return m.s.cur.self }

// GetAttribute implements exec.AttributeGetter.
func (m modelInfo) GetAttribute(name string) (*exec.Value, bool) {
	rs := m.s.cur
	switch name {
	case "name", "alias":
		return exec.AsValue(rs.self), true
	case "path", "original_file_path":
		return exec.AsValue(rs.path), true
	case "config":
		return exec.AsValue(rs.baseConfig), true
	}
	return exec.AsValue(nil), false
}

// wrapMacro makes return() work: it runs the macro with a fresh return
// slot and, if return() was called, yields the returned value instead of
// the (aborted) output.
func (s *session) wrapMacro(inner exec.Macro) exec.Macro {
	return func(params *exec.VarArgs) *exec.Value {
		rs := s.cur
		slot := &retSlot{}
		rs.retStack = append(rs.retStack, slot)
		v := inner(params)
		rs.retStack = rs.retStack[:len(rs.retStack)-1]
		if slot.set {
			return exec.AsValue(slot.val)
		}
		return v
	}
}

// render parses and renders src. Errors name rs.path and the line.
func (rs *renderState) render(src string) (out string, err error) {
	s := rs.jc.getSession()
	defer rs.jc.putSession(s)
	t, err := parseTemplate(s.env, rs.path, src)
	if err != nil {
		return "", err
	}
	defer func() {
		if r := recover(); r != nil {
			err = &Error{Path: rs.path, Kind: ErrJinja, Msg: fmt.Sprintf("jinja render panic: %v", r)}
		}
	}()
	s.cur = rs
	ctx := s.env.Context
	ctx.Set("execute", rs.compile)
	if rs.this != nil {
		ctx.Set("this", rs.this)
	} else {
		ctx.Set("this", nil)
	}
	out, err = t.ExecuteToString(nil)
	if err != nil {
		return "", rs.wrapExecError(err)
	}
	if rs.firstErr != nil {
		// A failing call whose error value was swallowed (e.g. by a filter).
		return "", rs.firstErr
	}
	return out, nil
}

func (rs *renderState) wrapExecError(err error) error {
	msg := err.Error()
	// The innermost line of this template: the last "at line N" before
	// the chain enters a macro (whose lines belong to another file).
	scope := msg
	if k := strings.Index(scope, "execute macro"); k >= 0 {
		scope = scope[:k]
	}
	line := 0
	if all := reExecLine.FindAllStringSubmatch(scope, -1); len(all) > 0 {
		line, _ = strconv.Atoi(all[len(all)-1][1])
	}
	if rs.firstErr != nil {
		e := *rs.firstErr
		if e.Line == 0 {
			e.Line = line
		}
		return &e
	}
	msg = strings.TrimPrefix(msg, "unable to execute template: ")
	msg = reExecPrefix.ReplaceAllString(msg, "")
	return &Error{Path: rs.path, Line: line, Kind: ErrJinja, Msg: "jinja render error: " + msg, Cause: err}
}
