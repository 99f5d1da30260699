package project

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
)

// projectFile is one file of the project.
type projectFile struct {
	path string
	data []byte
}

// skippedDirs are folders that hold build output or installed packages,
// not project files.
var skippedDirs = map[string]bool{
	"target":       true,
	"dbt_packages": true,
	"dbt_modules":  true,
	"logs":         true,
	"node_modules": true,
}

// propEntry is a models:/seeds: entry of a property file.
type propEntry struct {
	name string
	path string
	line int
	node *ynode
}

// testDecl is a generic test declared in a property file.
type testDecl struct {
	path string
	line int
	// kind is the section: "model", "seed" or "source".
	kind string
	// target is the node the test attaches to; label is the name used in
	// the test's name (model name, or source_table).
	target string
	label  string
	column string
	spec   *ynode
	// folders is the property file's folders, for the data_tests:
	// hierarchy of dbt_project.yml.
	folders []string
}

type loader struct {
	ctx  context.Context
	fsys fs.FS
	opts Options
	p    *Project
	errs []error

	files      []projectFile
	modelsCfg  *ynode
	seedsCfg   *ynode
	testsCfg   *ynode
	modelProps map[string]*propEntry
	seedProps  map[string]*propEntry
	testDecls  []*testDecl
	disabled   map[string]bool
	// failed are resources that exist but could not be loaded; tests on
	// them are skipped rather than reported as attached to nothing.
	failed map[string]bool
	// testNames are the generic test names taken.
	testNames map[string]bool
}

func (l *loader) addErr(err error) {
	if err == nil {
		return
	}
	l.errs = append(l.errs, err)
}

// Load reads the dbt-style project rooted at fsys (os.DirFS(dir), or a
// sub-tree of an embed.FS): dbt_project.yml, models, property files,
// sources, seeds, macros and singular tests. Every model is rendered once
// (with is_incremental() false) to discover its refs, sources and config,
// like dbt parse.
//
// All problems found are reported together, joined with errors.Join; each
// is an *Error naming its file and line.
func Load(ctx context.Context, fsys fs.FS, opts Options) (*Project, error) {
	l := &loader{
		ctx:        ctx,
		fsys:       fsys,
		opts:       opts,
		modelProps: map[string]*propEntry{},
		seedProps:  map[string]*propEntry{},
		disabled:   map[string]bool{},
		failed:     map[string]bool{},
		testNames:  map[string]bool{},
	}
	p, err := l.load()
	if err != nil {
		return nil, err
	}
	return p, nil
}

func (l *loader) load() (*Project, error) {
	if err := l.readFiles(); err != nil {
		return nil, err
	}
	byPath := make(map[string][]byte, len(l.files))
	for _, f := range l.files {
		byPath[f.path] = f.data
	}
	projData, ok := byPath["dbt_project.yml"]
	if !ok {
		if d, ok2 := byPath["dbt_project.yaml"]; ok2 {
			projData = d
		} else {
			return nil, &Error{Path: "dbt_project.yml", Kind: ErrProject, Msg: "dbt_project.yml not found at the project root"}
		}
	}
	if err := l.readProjectFile(projData); err != nil {
		return nil, err
	}
	if err := l.ctx.Err(); err != nil {
		return nil, err
	}
	p := l.p

	// Classify files.
	var macroFiles, propFiles, modelFiles, seedFiles, testFiles []projectFile
	for _, f := range l.files {
		ext := strings.ToLower(path.Ext(f.path))
		inModels := inAny(f.path, p.ModelPaths)
		inSeeds := inAny(f.path, p.SeedPaths)
		inMacros := inAny(f.path, p.MacroPaths)
		inTests := inAny(f.path, p.TestPaths)
		switch {
		case ext == ".sql" && inMacros:
			macroFiles = append(macroFiles, f)
		case ext == ".sql" && inTests && isGenericTestFile(f.path, p.TestPaths):
			macroFiles = append(macroFiles, f)
		case ext == ".sql" && inModels:
			modelFiles = append(modelFiles, f)
		case ext == ".sql" && inTests:
			testFiles = append(testFiles, f)
		case ext == ".csv" && inSeeds:
			seedFiles = append(seedFiles, f)
		case (ext == ".yml" || ext == ".yaml") && (inModels || inSeeds || inMacros || inTests):
			propFiles = append(propFiles, f)
		}
	}

	l.loadMacros(macroFiles)
	for _, f := range propFiles {
		l.readPropertyFile(f)
	}
	if err := l.ctx.Err(); err != nil {
		return nil, err
	}
	l.loadModels(modelFiles)
	if err := l.ctx.Err(); err != nil {
		return nil, err
	}
	l.loadSeeds(seedFiles)
	l.checkNameClashes()
	l.warnUnknownProps()
	l.loadGenericTests()
	l.loadSingularTests(testFiles)
	if err := l.ctx.Err(); err != nil {
		return nil, err
	}
	l.errs = append(l.errs, p.buildNodes()...)
	p.fingerprint = fingerprintFiles(l.files)
	if len(l.errs) > 0 {
		sortErrors(l.errs)
		return nil, errors.Join(l.errs...)
	}
	return p, nil
}

// sortErrors orders errors by file and line so reports are deterministic.
func sortErrors(errs []error) {
	key := func(err error) (string, int) {
		var e *Error
		if errors.As(err, &e) {
			return e.Path, e.Line
		}
		return "", 0
	}
	sort.SliceStable(errs, func(i, j int) bool {
		pi, li := key(errs[i])
		pj, lj := key(errs[j])
		if pi != pj {
			return pi < pj
		}
		return li < lj
	})
}

func (l *loader) readFiles() error {
	err := fs.WalkDir(l.fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != "." && (strings.HasPrefix(d.Name(), ".") || skippedDirs[d.Name()] && path.Dir(p) == ".") {
				return fs.SkipDir
			}
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") {
			return nil
		}
		data, err := fs.ReadFile(l.fsys, p)
		if err != nil {
			return err
		}
		l.files = append(l.files, projectFile{path: p, data: data})
		return nil
	})
	if err != nil {
		return fmt.Errorf("reading project: %w", err)
	}
	sort.Slice(l.files, func(i, j int) bool { return l.files[i].path < l.files[j].path })
	return nil
}

func inAny(p string, dirs []string) bool {
	for _, d := range dirs {
		if _, ok := underPath(p, d); ok {
			return true
		}
	}
	return false
}

// folderParts returns the folders of p below the first of dirs holding it.
func folderParts(p string, dirs []string) []string {
	for _, d := range dirs {
		if rel, ok := underPath(p, d); ok {
			parts := strings.Split(rel, "/")
			return parts[:len(parts)-1]
		}
	}
	parts := strings.Split(p, "/")
	return parts[:len(parts)-1]
}

func isGenericTestFile(p string, testPaths []string) bool {
	parts := folderParts(p, testPaths)
	return len(parts) > 0 && parts[0] == "generic"
}

func baseName(p string) string {
	b := path.Base(p)
	return strings.TrimSuffix(b, path.Ext(b))
}

// readProjectFile parses dbt_project.yml.
func (l *loader) readProjectFile(data []byte) error {
	const file = "dbt_project.yml"
	root, err := parseYAML(file, data)
	if err != nil {
		return err
	}
	if root != nil && !root.isMap() {
		return newErr(ErrProject, file, root.line, "dbt_project.yml must be a mapping")
	}
	cli := l.opts.Vars
	// Render Jinja in dbt_project.yml values (env_var, var from --vars,
	// target), except hooks, which run later.
	jc := newJinjaCtx(root.get("name").str(), "", cloneVars(cli), l.opts)
	if errs := renderYAMLStrings(root, file, jc, nil); len(errs) > 0 {
		return errors.Join(errs...)
	}
	name := root.get("name").str()
	if name == "" {
		return newErr(ErrProject, file, root.lineOr(1), "dbt_project.yml has no name")
	}
	p := &Project{
		Name:       name,
		Version:    root.get("version").str(),
		Profile:    root.get("profile").str(),
		Target:     l.opts.Target.withDefaults(),
		Models:     map[string]*Model{},
		Seeds:      map[string]*Seed{},
		Sources:    map[string]*Source{},
		Tests:      map[string]*DataTest{},
		Macros:     map[string]string{},
		ModelPaths: pathList(root, []string{"models"}, "model-paths", "source-paths"),
		SeedPaths:  pathList(root, []string{"seeds"}, "seed-paths", "data-paths"),
		MacroPaths: pathList(root, []string{"macros"}, "macro-paths"),
		TestPaths:  pathList(root, []string{"tests"}, "test-paths"),
		models:     map[string]*modelState{},
		tests:      map[string]*testState{},
	}
	vars := map[string]any{}
	if v := root.get("vars"); v.isMap() {
		for _, k := range v.keys {
			vv := v.m[k]
			if k == name && vv.isMap() {
				continue
			}
			vars[k] = vv.toAny()
		}
		// Project-scoped vars (vars: {my_project: {...}}) win.
		if scoped := v.get(name); scoped.isMap() {
			for _, k := range scoped.keys {
				vars[k] = scoped.m[k].toAny()
			}
		}
	}
	maps.Copy(vars, cli)
	p.Vars = vars
	p.jc = newJinjaCtx(name, p.Profile, vars, l.opts)
	l.p = p
	l.modelsCfg = root.get("models")
	l.seedsCfg = root.get("seeds")
	l.testsCfg = root.get("data_tests")
	if l.testsCfg == nil {
		l.testsCfg = root.get("tests")
	}
	return nil
}

func cloneVars(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	maps.Copy(out, m)
	return out
}

func pathList(root *ynode, def []string, keys ...string) []string {
	for _, k := range keys {
		v := root.get(k)
		if v == nil || v.isNull() {
			continue
		}
		var out []string
		if v.isSeq() {
			for _, it := range v.seq {
				if s := strings.Trim(it.str(), "/"); s != "" {
					out = append(out, path.Clean(s))
				}
			}
		} else if s := strings.Trim(v.str(), "/"); s != "" {
			out = []string{path.Clean(s)}
		}
		return out
	}
	return def
}

// hookKeys hold SQL run later; they are not rendered at load time.
var hookKeys = map[string]bool{"pre-hook": true, "post-hook": true, "pre_hook": true, "post_hook": true, "on-run-start": true, "on-run-end": true}

// propertySkipKeys are property file keys whose strings are not rendered
// at load time: hooks, descriptions (which may call doc()) and test
// arguments (rendered with the test).
var propertySkipKeys = map[string]bool{"description": true, "tests": true, "data_tests": true}

// renderYAMLStrings renders Jinja in the string values of a YAML tree
// with var, env_var, target and the project's macros; hooks and the keys in
// skip are left alone.
func renderYAMLStrings(n *ynode, file string, jc *jinjaCtx, skip map[string]bool) []error {
	var errs []error
	var walk func(n *ynode, key string)
	walk = func(n *ynode, key string) {
		if n == nil {
			return
		}
		switch n.kind {
		case yMap:
			for _, k := range n.keys {
				kk := strings.TrimPrefix(k, "+")
				if hookKeys[kk] || skip[kk] {
					continue
				}
				walk(n.m[k], kk)
			}
		case ySeq:
			for _, it := range n.seq {
				walk(it, key)
			}
		default:
			s, ok := n.val.(string)
			if !ok || !hasJinja(s) {
				return
			}
			out, err := renderString(file, n.line, s, jc)
			if err != nil {
				errs = append(errs, err)
				return
			}
			n.val = out
		}
	}
	walk(n, "")
	return errs
}

func hasJinja(s string) bool {
	return strings.Contains(s, "{{") || strings.Contains(s, "{%")
}

// renderString renders a Jinja string from a YAML file; errors carry the
// YAML line.
func renderString(file string, line int, s string, jc *jinjaCtx) (string, error) {
	rs := &renderState{jc: jc, path: file, res: loadResolver{schema: jc.target.Schema}}
	out, err := rs.render(s)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.Line = line
		}
		return "", err
	}
	return strings.TrimSpace(out), nil
}

// loadMacros parses macro files once; their macros are shared by every
// render.
func (l *loader) loadMacros(files []projectFile) {
	p := l.p
	for _, f := range files {
		t, err := parseTemplate(p.jc.genv, f.path, preprocessMacros(string(f.data)))
		if err != nil {
			l.addErr(err)
			continue
		}
		names := slices.Sorted(maps.Keys(t.Macros()))
		for _, name := range names {
			node := t.Macros()[name]
			line := 0
			if tk := node.Position(); tk != nil {
				line = tk.Line
			}
			if prev, dup := p.Macros[name]; dup {
				l.addErr(newErr(ErrDuplicate, f.path, line, "macro %q is defined twice: in %s and %s", name, prev, f.path))
				continue
			}
			p.Macros[name] = f.path
			p.jc.macros = append(p.jc.macros, &macroDef{name: name, path: f.path, line: line, node: node})
			if p.jc.macroTmpl == nil {
				p.jc.macroTmpl = t
			}
		}
	}
}

// readPropertyFile reads the models:, seeds: and sources: of a property
// file and collects its generic tests.
func (l *loader) readPropertyFile(f projectFile) {
	root, err := parseYAML(f.path, f.data)
	if err != nil {
		l.addErr(err)
		return
	}
	if root == nil {
		return
	}
	if !root.isMap() {
		l.addErr(newErr(ErrYAML, f.path, root.line, "a property file must be a mapping"))
		return
	}
	if errs := renderYAMLStrings(root, f.path, l.p.jc, propertySkipKeys); len(errs) > 0 {
		l.errs = append(l.errs, errs...)
		return
	}
	folders := folderParts(f.path, slices.Concat(l.p.ModelPaths, l.p.SeedPaths, l.p.TestPaths, l.p.MacroPaths))
	read := func(section, kind string, props map[string]*propEntry) {
		sec := root.get(section)
		if sec == nil || sec.isNull() {
			return
		}
		if !sec.isSeq() {
			l.addErr(newErr(ErrYAML, f.path, sec.line, "%s: must be a list", section))
			return
		}
		for _, it := range sec.seq {
			if !it.isMap() {
				l.addErr(newErr(ErrYAML, f.path, it.line, "%s: each entry must be a mapping with a name", section))
				continue
			}
			name := it.get("name").str()
			if name == "" {
				l.addErr(newErr(ErrYAML, f.path, it.line, "%s: entry has no name", section))
				continue
			}
			if prev, dup := props[name]; dup {
				l.addErr(newErr(ErrDuplicate, f.path, it.line, "%s %q is described twice: in %s:%d and %s:%d", kind, name, prev.path, prev.line, f.path, it.line))
				continue
			}
			props[name] = &propEntry{name: name, path: f.path, line: it.line, node: it}
			l.collectTests(f.path, kind, name, name, it, folders)
		}
	}
	read("models", "model", l.modelProps)
	read("seeds", "seed", l.seedProps)
	l.readSources(f.path, root.get("sources"), folders)
}

// collectTests gathers the tests of a models:/seeds:/sources table entry:
// model-level tests and column tests.
func (l *loader) collectTests(file, kind, target, label string, entry *ynode, folders []string) {
	add := func(list *ynode, column string) {
		for _, spec := range list.items() {
			l.testDecls = append(l.testDecls, &testDecl{
				path: file, line: spec.line, kind: kind, target: target, label: label,
				column: column, spec: spec, folders: folders,
			})
		}
	}
	for _, key := range []string{"data_tests", "tests"} {
		add(entry.get(key), "")
	}
	for _, col := range entry.get("columns").items() {
		cname := col.get("name").str()
		if cname == "" {
			continue
		}
		for _, key := range []string{"data_tests", "tests"} {
			add(col.get(key), cname)
		}
	}
}

var periods = map[string]int64{
	"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400,
}

// freshness reads {count, period} of warn_after or error_after.
func freshnessAfter(n *ynode) (int64, bool) {
	if !n.isMap() {
		return 0, false
	}
	var count int64
	if _, err := fmt.Sscan(n.get("count").str(), &count); err != nil {
		return 0, false
	}
	period := strings.TrimSuffix(strings.ToLower(n.get("period").str()), "s")
	secs, ok := periods[period]
	if !ok {
		return 0, false
	}
	return count * secs, true
}

func (l *loader) readSources(file string, sec *ynode, folders []string) {
	if sec == nil || sec.isNull() {
		return
	}
	if !sec.isSeq() {
		l.addErr(newErr(ErrYAML, file, sec.line, "sources: must be a list"))
		return
	}
	p := l.p
	for _, src := range sec.seq {
		sname := src.get("name").str()
		if sname == "" {
			l.addErr(newErr(ErrYAML, file, src.line, "sources: entry has no name"))
			continue
		}
		if en, ok := toBool(src.get("config").get("enabled").toAny()); ok && !en && src.get("config").get("enabled") != nil {
			continue
		}
		srcMeta, _ := src.get("meta").toAny().(map[string]any)
		srcTags := toStringList(src.get("tags").toAny())
		srcTags = appendTags(srcTags, toStringList(src.get("config").get("tags").toAny()))
		srcFresh := src.get("freshness")
		if srcFresh == nil {
			srcFresh = src.get("config").get("freshness")
		}
		srcLoaded := src.get("loaded_at_field").str()
		for _, tbl := range src.get("tables").items() {
			tname := tbl.get("name").str()
			if tname == "" {
				l.addErr(newErr(ErrYAML, file, tbl.line, "source %s: table has no name", sname))
				continue
			}
			if en := tbl.get("config").get("enabled"); en != nil {
				if b, ok := toBool(en.toAny()); ok && !b {
					continue
				}
			}
			s := &Source{
				SourceName:    sname,
				Table:         tname,
				Schema:        src.get("schema").str(),
				Identifier:    tbl.get("identifier").str(),
				Path:          file,
				Line:          tbl.line,
				Description:   tbl.get("description").str(),
				LoadedAtField: srcLoaded,
			}
			if s.Description == "" {
				s.Description = src.get("description").str()
			}
			if lf := tbl.get("loaded_at_field").str(); lf != "" {
				s.LoadedAtField = lf
			}
			fresh := srcFresh
			if f, ok := tbl.m["freshness"]; ok {
				fresh = f
			} else if f := tbl.get("config").get("freshness"); f != nil {
				fresh = f
			}
			if w, ok := freshnessAfter(fresh.get("warn_after")); ok {
				s.WarnAfter = secondsDuration(w)
			}
			if e, ok := freshnessAfter(fresh.get("error_after")); ok {
				s.ErrorAfter = secondsDuration(e)
			}
			if lf := fresh.get("loaded_at_field").str(); lf != "" && tbl.get("loaded_at_field") == nil {
				s.LoadedAtField = lf
			}
			s.Tags = appendTags(slices.Clone(srcTags), toStringList(tbl.get("tags").toAny()))
			s.Tags = appendTags(s.Tags, toStringList(tbl.get("config").get("tags").toAny()))
			meta := map[string]any{}
			maps.Copy(meta, srcMeta)
			if tm, ok := tbl.get("meta").toAny().(map[string]any); ok {
				maps.Copy(meta, tm)
			}
			if len(meta) > 0 {
				s.Meta = meta
			}
			for _, col := range tbl.get("columns").items() {
				s.Columns = append(s.Columns, Column{
					Name:        col.get("name").str(),
					Type:        firstNonEmpty(col.get("data_type").str(), col.get("type").str()),
					Description: col.get("description").str(),
				})
			}
			key := s.NodeName()
			if prev, dup := p.Sources[key]; dup {
				l.addErr(newErr(ErrDuplicate, file, tbl.line, "source %s is declared twice: in %s:%d and %s:%d", key, prev.Path, prev.Line, file, tbl.line))
				continue
			}
			p.Sources[key] = s
			l.collectTests(file, "source", key, sname+"_"+tname, tbl, folders)
		}
	}
}

func appendTags(tags, more []string) []string {
	for _, t := range more {
		tags = addUnique(tags, t)
	}
	return tags
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// loadModels reads every model file, renders it concurrently to discover
// refs and config, and resolves its final config.
func (l *loader) loadModels(files []projectFile) {
	p := l.p
	seen := map[string]string{}
	var states []*modelState
	for _, f := range files {
		name := baseName(f.path)
		if prev, dup := seen[name]; dup {
			l.addErr(newErr(ErrDuplicate, f.path, 0, "two models are named %q: %s and %s", name, prev, f.path))
			l.failed[name] = true
			continue
		}
		seen[name] = f.path
		cfg := newConfig()
		cfg.applyHierarchy(l.modelsCfg, "dbt_project.yml", p.Name, folderParts(f.path, p.ModelPaths), name)
		props := l.modelProps[name]
		if props != nil {
			applyProps(cfg, props)
		}
		ms := &modelState{
			m:     &Model{Name: name, Path: f.path, RawSQL: string(f.data)},
			label: f.path,
			raw:   string(f.data),
			cfg:   cfg,
			props: props,
		}
		states = append(states, ms)
	}
	l.parallel(len(states), func(i int) {
		ms := states[i]
		ms.err = p.parseModel(ms)
	})
	var enabled []*modelState
	for _, ms := range states {
		if ms.err != nil {
			l.addErr(ms.err)
			l.failed[ms.m.Name] = true
			continue
		}
		p.applyInlineConfig(ms)
		if en, ok := ms.cfg.vals["enabled"]; ok {
			if b, ok := toBool(en); ok && !b {
				l.disabled[ms.m.Name] = true
				continue
			}
		}
		enabled = append(enabled, ms)
	}
	l.parallel(len(enabled), func(i int) { enabled[i].err = p.finishModel(enabled[i]) })
	for _, ms := range enabled {
		if ms.err != nil {
			l.addErr(ms.err)
		}
		p.models[ms.m.Name] = ms
		p.Models[ms.m.Name] = ms.m
	}
}

// schemaFor returns the schema of a resource: the project's
// generate_schema_name(custom_schema_name, node) macro when it defines one,
// else the custom schema as is, else the target schema.
func (p *Project) schemaFor(name, path string, custom string, origin string) (string, error) {
	if _, ok := p.Macros["generate_schema_name"]; !ok {
		return firstNonEmpty(custom, p.Target.Schema), nil
	}
	arg := "none"
	if custom != "" {
		arg = jinjaString(custom)
	}
	src := "{{ generate_schema_name(" + arg + ", {'name': " + jinjaString(name) + ", 'path': " + jinjaString(path) + "}) }}"
	rs := &renderState{jc: p.jc, path: p.Macros["generate_schema_name"], self: name, res: loadResolver{schema: p.Target.Schema}}
	out, err := rs.render(src)
	if err != nil {
		file, line := splitLoc(origin)
		if file == "" {
			file = path
		}
		return "", &Error{Path: file, Line: line, Kind: ErrJinja, Msg: fmt.Sprintf("generate_schema_name for %s: %v", name, err)}
	}
	return firstNonEmpty(strings.TrimSpace(out), p.Target.Schema), nil
}

// applyProps applies a property file entry's config (and legacy top-level
// meta and tags) to cfg.
func applyProps(cfg *resolvedConfig, props *propEntry) {
	n := props.node
	if m := n.get("meta"); m.isMap() {
		cfg.set("meta", m.toAny(), loc(props.path, m.line))
	}
	if t := n.get("tags"); t != nil && !t.isNull() {
		cfg.set("tags", t.toAny(), loc(props.path, t.line))
	}
	cfg.applyNode(n.get("config"), props.path)
}

// parseModel parses and renders a model at load time, recording its refs,
// sources and config() calls.
func (p *Project) parseModel(ms *modelState) error {
	rs := &renderState{
		jc:         p.jc,
		path:       ms.label,
		self:       ms.m.Name,
		this:       newRelationValue(Relation{Schema: firstNonEmpty(ms.cfg.str("schema"), p.Target.Schema), Name: firstNonEmpty(ms.cfg.str("alias"), ms.m.Name)}),
		res:        loadResolver{schema: p.Target.Schema},
		baseConfig: ms.cfg.vals,
	}
	if _, err := rs.render(ms.raw); err != nil {
		return err
	}
	ms.refs = rs.refs
	ms.sources = rs.sources
	ms.configs = rs.configs
	return nil
}

var validMaterializations = []string{MaterializedView, MaterializedTable, MaterializedIncremental, MaterializedEphemeral}

// applyInlineConfig applies the model's config() calls (the highest
// precedence).
func (p *Project) applyInlineConfig(ms *modelState) {
	cfgLine := 0
	if k := strings.Index(ms.raw, "config("); k >= 0 {
		cfgLine = lineOf(ms.raw, k)
	}
	for _, c := range ms.configs {
		ms.cfg.applyMap(c, loc(ms.label, cfgLine))
	}
	ms.configs = nil
}

// finishModel fills the Model from its resolved config.
func (p *Project) finishModel(ms *modelState) error {
	m := ms.m
	vals := ms.cfg.vals
	m.Materialized = firstNonEmpty(strings.ToLower(toStr(vals["materialized"])), MaterializedView)
	vals["materialized"] = m.Materialized
	schema, err := p.schemaFor(m.Name, m.Path, toStr(vals["schema"]), ms.cfg.origin["schema"])
	if err != nil {
		return err
	}
	m.Schema = schema
	m.Alias = toStr(vals["alias"])
	m.UniqueKey = toStringList(vals["unique_key"])
	m.IncrementalStrategy = toStr(vals["incremental_strategy"])
	m.Config = vals
	if meta, ok := vals["meta"].(map[string]any); ok {
		m.Meta = meta
	} else {
		m.Meta = map[string]any{}
	}
	if ms.props != nil {
		m.Columns = propColumns(ms.props.node)
	}
	m.compile = memoCompile(func(st CompileState) (Compiled, error) { return p.compileModel(ms, st) })
	if !slices.Contains(validMaterializations, m.Materialized) {
		path, line := splitLoc(ms.cfg.origin["materialized"])
		return newErr(ErrConfig, path, line, "model %s: unknown materialization %q (want view, table, incremental or ephemeral)", m.Name, m.Materialized)
	}
	switch m.IncrementalStrategy {
	case "", StrategyAppend, StrategyDeleteInsert, StrategyMerge:
	default:
		path, line := splitLoc(ms.cfg.origin["incremental_strategy"])
		return newErr(ErrConfig, path, line, "model %s: unknown incremental_strategy %q (want append, delete+insert or merge)", m.Name, m.IncrementalStrategy)
	}
	return nil
}

// propColumns reads the columns: of a property file entry.
func propColumns(entry *ynode) []Column {
	var cols []Column
	for _, col := range entry.get("columns").items() {
		cols = append(cols, Column{
			Name:        col.get("name").str(),
			Type:        firstNonEmpty(col.get("data_type").str(), col.get("type").str()),
			Description: col.get("description").str(),
		})
	}
	return cols
}

// parallel runs fn(0..n-1) on GOMAXPROCS workers.
func (l *loader) parallel(n int, fn func(i int)) {
	workers := runtime.GOMAXPROCS(0)
	if workers > n {
		workers = n
	}
	var next atomic.Int64
	var g errgroup.Group
	for w := 0; w < workers; w++ {
		g.Go(func() error {
			for {
				if l.ctx.Err() != nil {
					return nil
				}
				i := int(next.Add(1)) - 1
				if i >= n {
					return nil
				}
				fn(i)
			}
		})
	}
	_ = g.Wait()
}

func (l *loader) loadSeeds(files []projectFile) {
	p := l.p
	seen := map[string]string{}
	for _, f := range files {
		name := baseName(f.path)
		if prev, dup := seen[name]; dup {
			l.addErr(newErr(ErrDuplicate, f.path, 0, "two seeds are named %q: %s and %s", name, prev, f.path))
			continue
		}
		seen[name] = f.path
		cfg := newConfig()
		cfg.applyHierarchy(l.seedsCfg, "dbt_project.yml", p.Name, folderParts(f.path, p.SeedPaths), name)
		props := l.seedProps[name]
		if props != nil {
			applyProps(cfg, props)
		}
		if en, ok := cfg.vals["enabled"]; ok {
			if b, ok := toBool(en); ok && !b {
				l.disabled[name] = true
				continue
			}
		}
		schema, err := p.schemaFor(name, f.path, toStr(cfg.vals["schema"]), cfg.origin["schema"])
		if err != nil {
			l.addErr(err)
			continue
		}
		s := &Seed{
			Name:      name,
			Path:      f.path,
			Data:      f.data,
			Delimiter: firstNonEmpty(toStr(cfg.vals["delimiter"]), ","),
			Schema:    schema,
			Alias:     toStr(cfg.vals["alias"]),
			Config:    cfg.vals,
		}
		if props != nil {
			s.Description = props.node.get("description").str()
			s.Columns = propColumns(props.node)
		}
		if ct, ok := cfg.vals["column_types"].(map[string]any); ok && len(ct) > 0 {
			s.ColumnTypes = make(map[string]string, len(ct))
			for k, v := range ct {
				s.ColumnTypes[k] = toStr(v)
			}
		}
		p.Seeds[name] = s
	}
}

// checkNameClashes reports models and seeds sharing a name.
func (l *loader) checkNameClashes() {
	for _, name := range slices.Sorted(maps.Keys(l.p.Seeds)) {
		if m, ok := l.p.Models[name]; ok {
			l.addErr(newErr(ErrDuplicate, m.Path, 0, "model %q has the same name as seed %s", name, l.p.Seeds[name].Path))
		}
	}
}

// warnUnknownProps logs property file entries naming no model or seed
// (dbt warns too).
func (l *loader) warnUnknownProps() {
	if l.opts.Logger == nil {
		return
	}
	for _, name := range slices.Sorted(maps.Keys(l.modelProps)) {
		if _, ok := l.p.Models[name]; !ok && !l.disabled[name] {
			pe := l.modelProps[name]
			l.opts.Logger.Warn("property file describes a model that does not exist", "model", name, "file", loc(pe.path, pe.line))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(l.seedProps)) {
		if _, ok := l.p.Seeds[name]; !ok && !l.disabled[name] {
			pe := l.seedProps[name]
			l.opts.Logger.Debug("property file describes a seed with no file", "seed", name, "file", loc(pe.path, pe.line))
		}
	}
}
