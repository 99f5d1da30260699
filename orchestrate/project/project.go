package project

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/vyaparbazaar/dataops/orchestrate"
	"github.com/vyaparbazaar/dataops/recovery"
)

// Target describes where the project runs; Jinja sees it as target.
type Target struct {
	// Name is the target name (default "dev").
	Name string
	// Schema is the default schema of relations (default "main").
	Schema string
	// Type is the adapter type (default "duckdb").
	Type string
	// Threads is the number of threads (default 1).
	Threads int
}

// withDefaults fills unset fields: dev, main, duckdb, 1 thread.
func (t Target) withDefaults() Target {
	if t.Name == "" {
		t.Name = "dev"
	}
	if t.Schema == "" {
		t.Schema = DefaultSchema
	}
	if t.Type == "" {
		t.Type = "duckdb"
	}
	if t.Threads <= 0 {
		t.Threads = 1
	}
	return t
}

// Options configure Load and FromModels.
type Options struct {
	// Vars override the vars of dbt_project.yml (like dbt's --vars).
	Vars map[string]any
	// Target is the target; unset fields default to dev, main, duckdb and
	// 1 thread.
	Target Target
	// Env looks up env_var() values; nil means os.LookupEnv.
	Env func(string) (string, bool)
	// Logger receives warnings (such as a property file describing a
	// model that does not exist) and log() calls; nil discards them.
	Logger *slog.Logger
}

// Project is a loaded dbt-style project. It is an orchestrate.Pipeline.
type Project struct {
	// Name, Version and Profile come from dbt_project.yml.
	Name    string
	Version string
	Profile string
	// Vars are the effective vars: dbt_project.yml vars overridden by
	// Options.Vars.
	Vars map[string]any
	// Target is the effective target.
	Target Target
	// Models are keyed by model name; disabled models are left out.
	Models map[string]*Model
	// Seeds are keyed by seed name.
	Seeds map[string]*Seed
	// Sources are keyed by "source_name.table_name".
	Sources map[string]*Source
	// Tests are keyed by test name.
	Tests map[string]*DataTest
	// Macros maps each macro name to the file that defines it.
	Macros map[string]string
	// ModelPaths, SeedPaths, MacroPaths and TestPaths are the folders
	// read, relative to the project root.
	ModelPaths []string
	SeedPaths  []string
	MacroPaths []string
	TestPaths  []string

	jc          *jinjaCtx
	models      map[string]*modelState
	tests       map[string]*testState
	nodes       []*orchestrate.Node
	byName      map[string]*orchestrate.Node
	fingerprint string
}

// modelState is what the project keeps about a model to compile it.
type modelState struct {
	m     *Model
	label string
	raw   string
	cfg   *resolvedConfig
	// props is the model's property file entry, if any.
	props *propEntry
	// load-time render results.
	refs    []string
	sources []string
	configs []map[string]any
	err     error

	linesOnce sync.Once
	lineIdx   *lineIndex
}

// testState is what the project keeps about a data test to compile it.
type testState struct {
	t *DataTest
	// generic tests map every compiled line to the declaration line.
	generic bool
	raw     string
	refs    []string
	sources []string
	configs []map[string]any
	err     error
	// cfgRes is a singular test's config being resolved.
	cfgRes *resolvedConfig

	linesOnce sync.Once
	lineIdx   *lineIndex
}

var _ orchestrate.Pipeline = (*Project)(nil)

// Nodes returns every node of the project sorted by name: models, seeds,
// sources and data tests. Callers must not modify them.
func (p *Project) Nodes() []*orchestrate.Node { return p.nodes }

// Node returns the node with the given name, or nil.
func (p *Project) Node(name string) *orchestrate.Node { return p.byName[name] }

// Fingerprint returns a SHA-256 (hex) over the contents of every project
// file, sorted by path; for projects made by FromModels, over the models'
// names and SQL. It changes whenever any file changes.
func (p *Project) Fingerprint() string { return p.fingerprint }

// Compile renders the named model or data test for the given state, with
// ephemeral models inlined as CTEs.
func (p *Project) Compile(name string, st CompileState) (Compiled, error) {
	if m, ok := p.Models[name]; ok {
		return m.Compile(st)
	}
	if t, ok := p.Tests[name]; ok {
		return t.Compile(st)
	}
	if _, ok := p.Seeds[name]; ok {
		return Compiled{}, fmt.Errorf("%s is a seed: it has no SQL to compile", name)
	}
	if _, ok := p.Sources[name]; ok {
		return Compiled{}, fmt.Errorf("%s is a source: it has no SQL to compile", name)
	}
	return Compiled{}, fmt.Errorf("no model or test named %q", name)
}

// refRelation implements resolver with the final relations.
func (p *Project) refRelation(name string) (Relation, bool) {
	if m, ok := p.Models[name]; ok {
		return m.Relation(), m.Materialized == MaterializedEphemeral
	}
	if s, ok := p.Seeds[name]; ok {
		return s.Relation(), false
	}
	return Relation{Schema: p.Target.Schema, Name: name}, false
}

// sourceRelation implements resolver.
func (p *Project) sourceRelation(source, table string) Relation {
	if s, ok := p.Sources[source+"."+table]; ok {
		return s.Relation()
	}
	return Relation{Schema: source, Name: table}
}

// loadResolver answers ref() and source() while models are being parsed,
// before their final relations are known.
type loadResolver struct{ schema string }

func (r loadResolver) refRelation(name string) (Relation, bool) {
	return Relation{Schema: r.schema, Name: name}, false
}

func (r loadResolver) sourceRelation(source, table string) Relation {
	return Relation{Schema: source, Name: table}
}

func newJinjaCtx(name, profile string, vars map[string]any, opts Options) *jinjaCtx {
	env := opts.Env
	if env == nil {
		env = os.LookupEnv
	}
	target := opts.Target.withDefaults()
	return &jinjaCtx{
		project: name,
		vars:    vars,
		target:  target,
		env:     env,
		logger:  opts.Logger,
		genv:    newEnvironment(name, profile, target),
	}
}

// buildNodes makes the orchestrate nodes from the loaded resources.
func (p *Project) buildNodes() []error {
	var errs []error
	var nodes []*orchestrate.Node
	for _, name := range slices.Sorted(maps.Keys(p.models)) {
		ms := p.models[name]
		n, err := p.modelNode(ms)
		errs = append(errs, err...)
		nodes = append(nodes, n)
	}
	for _, name := range slices.Sorted(maps.Keys(p.Seeds)) {
		n, err := p.seedNode(p.Seeds[name])
		errs = append(errs, err...)
		nodes = append(nodes, n)
	}
	for _, name := range slices.Sorted(maps.Keys(p.Sources)) {
		nodes = append(nodes, p.sourceNode(p.Sources[name]))
	}
	byName := make(map[string]*orchestrate.Node, len(nodes))
	for _, n := range nodes {
		byName[n.Name] = n
	}
	for _, name := range slices.Sorted(maps.Keys(p.tests)) {
		n := p.testNode(p.tests[name], byName)
		nodes = append(nodes, n)
		byName[n.Name] = n
	}
	sort.SliceStable(nodes, func(i, j int) bool { return nodes[i].Name < nodes[j].Name })
	p.nodes = nodes
	p.byName = byName
	return errs
}

// stringConfig renders a config map as strings for selection.
func stringConfig(vals map[string]any) map[string]string {
	out := make(map[string]string, len(vals)+6)
	for k, v := range vals {
		if _, isMap := v.(map[string]any); isMap || v == nil {
			continue
		}
		out[k] = toStr(v)
	}
	return out
}

// applyOps fills Owner, Priority, Critical and Timeout from config and
// meta (config wins).
func applyOps(n *orchestrate.Node, cfg *resolvedConfig, meta map[string]any, label string) []error {
	var errs []error
	pick := func(key string) (any, string) {
		if v, ok := cfg.vals[key]; ok && v != nil {
			return v, cfg.origin[key]
		}
		if v, ok := meta[key]; ok && v != nil {
			o := cfg.origin["meta"]
			if o == "" {
				o = label
			}
			return v, o
		}
		return nil, ""
	}
	if v, _ := pick("owner"); v != nil {
		n.Owner = toStr(v)
	}
	if v, origin := pick("priority"); v != nil {
		pr, err := orchestrate.ParsePriority(toStr(v))
		if err != nil {
			path, line := splitLoc(origin)
			errs = append(errs, &Error{Path: path, Line: line, Kind: ErrConfig, Msg: fmt.Sprintf("%s: %v", n.Name, err)})
		}
		n.Priority = pr
	}
	if v, origin := pick("critical"); v != nil {
		b, ok := toBool(v)
		if !ok {
			path, line := splitLoc(origin)
			errs = append(errs, &Error{Path: path, Line: line, Kind: ErrConfig, Msg: fmt.Sprintf("%s: critical must be true or false, got %v", n.Name, v)})
		}
		n.Critical = b
	}
	if v, origin := pick("timeout"); v != nil {
		d, err := toDuration(v)
		if err != nil {
			path, line := splitLoc(origin)
			errs = append(errs, &Error{Path: path, Line: line, Kind: ErrConfig, Msg: fmt.Sprintf("%s: %v", n.Name, err)})
		}
		n.Timeout = d
	}
	if v, origin := pick("retries"); v != nil {
		b, err := parseRetries(v)
		if err != nil {
			path, line := splitLoc(origin)
			errs = append(errs, &Error{Path: path, Line: line, Kind: ErrConfig, Msg: fmt.Sprintf("%s: retries: %v", n.Name, err)})
		} else {
			n.Retry = &b
		}
	}
	return errs
}

// parseRetries reads the retries config: a number of attempts, or a map
// with attempts, initial_delay, multiplier, max_delay and jitter.
func parseRetries(v any) (recovery.Backoff, error) {
	switch x := v.(type) {
	case map[string]any:
		return recovery.ParseBackoff(x)
	case int, int64, uint64, float64:
		return recovery.ParseBackoff(map[string]any{"attempts": x})
	}
	return recovery.Backoff{}, fmt.Errorf("want a number of attempts or a map (attempts, initial_delay, multiplier, max_delay, jitter), got %v", v)
}

func (p *Project) modelNode(ms *modelState) (*orchestrate.Node, []error) {
	m := ms.m
	deps := make([]string, 0, len(ms.refs)+len(ms.sources))
	deps = append(deps, ms.refs...)
	deps = append(deps, ms.sources...)
	deps = sortedUnique(deps)
	locs := make(map[string]string, len(deps))
	for _, r := range ms.refs {
		locs[r] = loc(ms.label, findCallLine(ms.raw, "ref", r))
	}
	for _, s := range ms.sources {
		src, tbl, _ := strings.Cut(s, ".")
		locs[s] = loc(ms.label, findSourceLine(ms.raw, src, tbl))
	}
	cfg := stringConfig(m.Config)
	cfg["materialized"] = m.Materialized
	cfg["schema"] = m.Relation().Schema
	if cfg["schema"] == "" {
		cfg["schema"] = DefaultSchema
	}
	cfg["alias"] = m.Relation().Name
	cfg["unique_key"] = strings.Join(m.UniqueKey, ",")
	cfg["incremental_strategy"] = m.IncrementalStrategy
	desc := ""
	if ms.props != nil {
		desc = ms.props.node.get("description").str()
	}
	n := &orchestrate.Node{
		Name:         m.Name,
		Kind:         orchestrate.KindModel,
		Deps:         deps,
		DepLocations: locs,
		Path:         m.Path,
		Tags:         toStringList(m.Config["tags"]),
		Layer:        modelLayer(m, p.ModelPaths),
		TestOf:       "",
		Config:       cfg,
		Description:  desc,
		Spec:         m,
	}
	errs := applyOps(n, ms.cfg, m.Meta, ms.label)
	return n, errs
}

func (p *Project) seedNode(s *Seed) (*orchestrate.Node, []error) {
	cfg := stringConfig(s.Config)
	cfg["materialized"] = "seed"
	cfg["schema"] = s.Relation().Schema
	if cfg["schema"] == "" {
		cfg["schema"] = DefaultSchema
	}
	cfg["alias"] = s.Relation().Name
	layer := toStr(s.Config["layer"])
	if layer == "" {
		layer = "seeds"
	}
	meta, _ := s.Config["meta"].(map[string]any)
	rc := newConfig()
	maps.Copy(rc.vals, s.Config)
	n := &orchestrate.Node{
		Name:        s.Name,
		Kind:        orchestrate.KindSeed,
		Path:        s.Path,
		Tags:        toStringList(s.Config["tags"]),
		Layer:       layer,
		Config:      cfg,
		Description: s.Description,
		Spec:        s,
	}
	errs := applyOps(n, rc, meta, s.Path)
	return n, errs
}

func (p *Project) sourceNode(s *Source) *orchestrate.Node {
	rel := s.Relation()
	cfg := map[string]string{
		"schema":          rel.Schema,
		"identifier":      rel.Name,
		"alias":           rel.Name,
		"loaded_at_field": s.LoadedAtField,
		"materialized":    "source",
	}
	n := &orchestrate.Node{
		Name:        s.NodeName(),
		Kind:        orchestrate.KindSource,
		Path:        s.Path,
		Tags:        slices.Clone(s.Tags),
		Layer:       "sources",
		Config:      cfg,
		Description: s.Description,
		Spec:        s,
	}
	if s.Meta != nil {
		rc := newConfig()
		_ = applyOps(n, rc, s.Meta, s.Path)
	}
	return n
}

func (p *Project) testNode(ts *testState, byName map[string]*orchestrate.Node) *orchestrate.Node {
	t := ts.t
	deps := make([]string, 0, len(ts.refs)+len(ts.sources)+1)
	if t.Model != "" {
		deps = append(deps, t.Model)
	}
	deps = append(deps, ts.refs...)
	deps = append(deps, ts.sources...)
	deps = sortedUnique(deps)
	locs := make(map[string]string, len(deps))
	for _, d := range deps {
		line := t.Line
		if !ts.generic {
			if src, tbl, ok := strings.Cut(d, "."); ok && slices.Contains(ts.sources, d) {
				line = findSourceLine(ts.raw, src, tbl)
			} else {
				line = findCallLine(ts.raw, "ref", d)
			}
		}
		locs[d] = loc(t.Path, line)
	}
	cfg := map[string]string{
		"materialized":   "test",
		"severity":       t.Severity,
		"warn_if":        t.WarnIf,
		"error_if":       t.ErrorIf,
		"store_failures": fmt.Sprint(t.StoreFailures),
		"test_type":      t.Type,
	}
	for k, v := range t.Config {
		if _, ok := cfg[k]; !ok {
			if s := toStr(v); s != "" {
				cfg[k] = s
			}
		}
	}
	n := &orchestrate.Node{
		Name:         t.Name,
		Kind:         orchestrate.KindTest,
		Deps:         deps,
		DepLocations: locs,
		Path:         t.Path,
		TestOf:       t.Model,
		Config:       cfg,
		Description:  t.Description,
		Spec:         t,
	}
	tags := toStringList(t.Config["tags"])
	if parent := byName[t.Model]; parent != nil {
		for _, tg := range parent.Tags {
			tags = addUnique(tags, tg)
		}
		n.Layer = parent.Layer
		n.Owner = parent.Owner
		n.Priority = parent.Priority
		n.Critical = parent.Critical
	}
	n.Tags = tags
	if v := t.Config["timeout"]; v != nil {
		if d, err := toDuration(v); err == nil {
			n.Timeout = d
		}
	}
	return n
}

func sortedUnique(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

// layerByFolder maps model folder names to layers.
var layerByFolder = map[string]string{
	"staging":      "staging",
	"stage":        "staging",
	"stg":          "staging",
	"intermediate": "intermediate",
	"int":          "intermediate",
	"marts":        "marts",
	"mart":         "marts",
	"dimensions":   "dimensions",
	"dims":         "dimensions",
	"facts":        "facts",
	"ml_features":  "ml_features",
	"features":     "ml_features",
	"ml":           "ml_features",
	"reporting":    "reporting",
	"reports":      "reporting",
	"base":         "base",
}

// layerByPrefix maps model name prefixes to layers.
var layerByPrefix = []struct{ prefix, layer string }{
	{"stg_", "staging"},
	{"int_", "intermediate"},
	{"dim_", "dimensions"},
	{"fct_", "facts"},
	{"mart_", "marts"},
	{"ml_", "ml_features"},
}

// modelLayer derives a model's layer: config or meta layer, else the name
// prefix (stg_, int_, dim_, fct_, mart_, ml_), else a known folder under the
// model path.
func modelLayer(m *Model, modelPaths []string) string {
	if l := toStr(m.Config["layer"]); l != "" {
		return l
	}
	if l := toStr(m.Meta["layer"]); l != "" {
		return l
	}
	for _, lp := range layerByPrefix {
		if strings.HasPrefix(m.Name, lp.prefix) {
			return lp.layer
		}
	}
	if m.Path != "" {
		rel := m.Path
		for _, mp := range modelPaths {
			if r, ok := underPath(m.Path, mp); ok {
				rel = r
				break
			}
		}
		parts := strings.Split(rel, "/")
		for _, dir := range parts[:len(parts)-1] {
			if l, ok := layerByFolder[strings.ToLower(dir)]; ok {
				return l
			}
		}
	}
	return ""
}

// underPath reports whether p is inside dir and returns p relative to it.
func underPath(p, dir string) (string, bool) {
	dir = strings.Trim(dir, "/")
	if dir == "" || dir == "." {
		return p, true
	}
	if strings.HasPrefix(p, dir+"/") {
		return p[len(dir)+1:], true
	}
	return "", false
}

// fingerprintFiles hashes files sorted by path.
func fingerprintFiles(files []projectFile) string {
	h := sha256.New()
	for _, f := range files {
		fmt.Fprintf(h, "%s\x00%d\x00", f.path, len(f.data))
		h.Write(f.data)
	}
	return hex.EncodeToString(h.Sum(nil))
}
