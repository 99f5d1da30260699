// Package docsite writes a project's documentation as a static HTML site
// that opens from disk (file://): an index of every model, seed and source
// by layer with a lineage picture (SVG drawn here, no JavaScript, nothing
// fetched from the network), and one page per node with its description,
// owner, layer, materialization, columns with their descriptions and tests,
// freshness settings, rendered SQL and upstream and downstream links.
//
// Every text is escaped by html/template.
package docsite

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/vyaparbazaar/dataops/orchestrate"
	"github.com/vyaparbazaar/dataops/orchestrate/project"
)

// Options configures Write.
type Options struct {
	// Title heads every page; default the project's name.
	Title string
	// Generated is the time printed in the footer; zero prints none.
	Generated time.Time
}

// Stats says what Write wrote.
type Stats struct {
	// Pages is the number of HTML files written, index included.
	Pages int
	// Models, Sources and Seeds are the nodes documented.
	Models, Sources, Seeds int
	// Edges is the number of lineage edges drawn.
	Edges int
}

// Write renders the site for p into dir (created if needed; files of an
// earlier site are replaced): index.html, lineage.svg, style.css and
// models/, sources/, seeds/ with one page per node. The site is written to
// a fresh folder next to dir and swapped in at the end, so a failure
// leaves the previous site in place.
func Write(ctx context.Context, p *project.Project, dir string, opts Options) (Stats, error) {
	if opts.Title == "" {
		opts.Title = p.Name
	}
	s := newSite(p, opts)
	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return Stats{}, fmt.Errorf("docs: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+"-")
	if err != nil {
		return Stats{}, fmt.Errorf("docs: %w", err)
	}
	defer os.RemoveAll(tmp)
	stats, err := s.write(ctx, tmp)
	if err != nil {
		return Stats{}, err
	}
	old := dir + ".old"
	_ = os.RemoveAll(old)
	if _, err := os.Stat(dir); err == nil {
		if err := os.Rename(dir, old); err != nil {
			return Stats{}, fmt.Errorf("docs: %w", err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		_ = os.Rename(old, dir)
		return Stats{}, fmt.Errorf("docs: %w", err)
	}
	_ = os.RemoveAll(old)
	return stats, nil
}

// item is one documented node (model, seed or source).
type item struct {
	Node *orchestrate.Node
	Kind string // "model", "seed" or "source"
	// Href is the page's path relative to the site root.
	Href string
	// Depth is the longest path from a node without parents.
	Depth int
	Up    []*item
	Down  []*item
	Tests []*project.DataTest
}

type site struct {
	p     *project.Project
	opts  Options
	items []*item
	by    map[string]*item
	// tests by the node they test.
	tests map[string][]*project.DataTest
}

func newSite(p *project.Project, opts Options) *site {
	s := &site{p: p, opts: opts, by: map[string]*item{}, tests: map[string][]*project.DataTest{}}
	used := map[string]bool{}
	for _, n := range p.Nodes() {
		var folder string
		switch n.Kind {
		case orchestrate.KindModel:
			folder = "models"
		case orchestrate.KindSeed:
			folder = "seeds"
		case orchestrate.KindSource:
			folder = "sources"
		default:
			continue
		}
		base := fileName(n.Name)
		href := folder + "/" + base + ".html"
		for k := 2; used[strings.ToLower(href)]; k++ {
			href = fmt.Sprintf("%s/%s-%d.html", folder, base, k)
		}
		used[strings.ToLower(href)] = true
		it := &item{Node: n, Kind: string(n.Kind), Href: href}
		s.items = append(s.items, it)
		s.by[n.Name] = it
	}
	for _, t := range p.Tests {
		s.tests[t.Model] = append(s.tests[t.Model], t)
	}
	for _, ts := range s.tests {
		slices.SortFunc(ts, func(a, b *project.DataTest) int {
			return cmp.Or(cmp.Compare(a.Column, b.Column), cmp.Compare(a.Name, b.Name))
		})
	}
	for _, it := range s.items {
		it.Tests = s.tests[it.Node.Name]
		for _, d := range it.Node.Deps {
			if up := s.by[d]; up != nil {
				it.Up = append(it.Up, up)
				up.Down = append(up.Down, it)
			}
		}
	}
	// Depth: longest path from a root (nodes come sorted by name, so the
	// layout is deterministic).
	depth := map[*item]int{}
	var visit func(it *item, guard int) int
	visit = func(it *item, guard int) int {
		if d, ok := depth[it]; ok {
			return d
		}
		d := 0
		if guard < len(s.items) {
			for _, up := range it.Up {
				d = max(d, visit(up, guard+1)+1)
			}
		}
		depth[it] = d
		return d
	}
	for _, it := range s.items {
		it.Depth = visit(it, 0)
	}
	// A model that reads nothing (a generated calendar) sits just left of
	// its first reader rather than with the sources.
	for _, it := range s.items {
		if it.Kind == "model" && len(it.Up) == 0 && len(it.Down) > 0 {
			d := -1
			for _, down := range it.Down {
				if d < 0 || down.Depth-1 < d {
					d = down.Depth - 1
				}
			}
			it.Depth = max(d, 0)
		}
	}
	return s
}

// fileName keeps a node name usable as a file name.
func fileName(name string) string {
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	out := strings.Trim(b.String(), ".")
	if out == "" {
		out = "node"
	}
	return out
}

func (s *site) write(ctx context.Context, dir string) (Stats, error) {
	var st Stats
	svg, edges, err := s.lineage("")
	if err != nil {
		return st, err
	}
	st.Edges = edges
	files := map[string][]byte{
		"style.css":   []byte(styleCSS),
		"lineage.svg": svg,
	}
	index, err := s.render(indexTmpl, s.indexData(svg))
	if err != nil {
		return st, err
	}
	files["index.html"] = index
	for _, it := range s.items {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		page, err := s.render(pageTmpl, s.pageData(it))
		if err != nil {
			return st, fmt.Errorf("docs: %s: %w", it.Node.Name, err)
		}
		files[it.Href] = page
		switch it.Kind {
		case "model":
			st.Models++
		case "source":
			st.Sources++
		case "seed":
			st.Seeds++
		}
	}
	for _, name := range slices.Sorted(mapsKeys(files)) {
		full := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return st, fmt.Errorf("docs: %w", err)
		}
		if err := os.WriteFile(full, files[name], 0o644); err != nil {
			return st, fmt.Errorf("docs: %w", err)
		}
		if strings.HasSuffix(name, ".html") {
			st.Pages++
		}
	}
	return st, nil
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func (s *site) render(t *template.Template, data any) ([]byte, error) {
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// ---- page data ------------------------------------------------------------

type link struct {
	Name, Href, Kind, Layer string
}

type column struct {
	Name, Type, Description string
	Tests                   []string
}

type layerGroup struct {
	Layer string
	Items []indexRow
}

type indexRow struct {
	Link                             link
	Owner, Materialized, Description string
	Tests                            int
}

type indexData struct {
	Title     string
	Root      string
	Generated string
	Counts    Stats
	SVG       template.HTML
	Layers    []layerGroup
}

func (s *site) generated() string {
	if s.opts.Generated.IsZero() {
		return ""
	}
	return s.opts.Generated.UTC().Format(time.RFC3339)
}

// layerOrder sorts layers from sources to ML features, others after.
var layerOrder = []string{"sources", "seeds", "staging", "base", "intermediate", "dimensions", "facts", "marts", "reporting", "ml_features"}

func layerRank(l string) int {
	if i := slices.Index(layerOrder, l); i >= 0 {
		return i
	}
	return len(layerOrder)
}

func (s *site) indexData(svg []byte) indexData {
	d := indexData{Title: s.opts.Title, Root: "", Generated: s.generated(), SVG: template.HTML(svg)}
	groups := map[string]*layerGroup{}
	for _, it := range s.items {
		l := it.Node.Layer
		if l == "" {
			l = "(no layer)"
		}
		g := groups[l]
		if g == nil {
			g = &layerGroup{Layer: l}
			groups[l] = g
		}
		g.Items = append(g.Items, indexRow{
			Link:         s.link(it, ""),
			Owner:        it.Node.Owner,
			Materialized: it.Node.Config["materialized"],
			Description:  firstLine(it.Node.Description),
			Tests:        len(it.Tests),
		})
		switch it.Kind {
		case "model":
			d.Counts.Models++
		case "source":
			d.Counts.Sources++
		case "seed":
			d.Counts.Seeds++
		}
	}
	for _, g := range groups {
		d.Layers = append(d.Layers, *g)
	}
	slices.SortFunc(d.Layers, func(a, b layerGroup) int {
		return cmp.Or(cmp.Compare(layerRank(a.Layer), layerRank(b.Layer)), cmp.Compare(a.Layer, b.Layer))
	})
	return d
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\n"); i >= 0 {
		s = s[:i]
	}
	if len(s) > 160 {
		s = s[:157] + "..."
	}
	return s
}

// link returns a link to it from a page at depth "" (root) or "../".
func (s *site) link(it *item, root string) link {
	return link{Name: it.Node.Name, Href: root + it.Href, Kind: it.Kind, Layer: it.Node.Layer}
}

type fact struct{ Key, Value string }

type pageData struct {
	Title, Root, Generated  string
	Name, Kind, Description string
	Facts                   []fact
	Columns                 []column
	OtherTests              []string
	SQL, SQLError           string
	Up, Down                []link
	SVG                     template.HTML
}

func (s *site) pageData(it *item) pageData {
	n := it.Node
	d := pageData{Title: s.opts.Title, Root: "../", Generated: s.generated(), Name: n.Name, Kind: it.Kind, Description: strings.TrimSpace(n.Description)}
	add := func(k, v string) {
		if v != "" {
			d.Facts = append(d.Facts, fact{k, v})
		}
	}
	add("Owner", n.Owner)
	add("Layer", n.Layer)
	add("Materialization", n.Config["materialized"])
	if it.Kind != "source" {
		add("Relation", n.Config["schema"]+"."+n.Config["alias"])
	}
	add("File", n.Path)
	add("Tags", strings.Join(n.Tags, ", "))
	if n.Priority.Effective() != orchestrate.PriorityMedium {
		add("Priority", n.Priority.String())
	}
	if n.Critical {
		add("Critical", "yes")
	}
	var declared []project.Column
	switch spec := n.Spec.(type) {
	case *project.Model:
		declared = spec.Columns
		if len(spec.UniqueKey) > 0 {
			add("Unique key", strings.Join(spec.UniqueKey, ", "))
		}
		if pk := fmt.Sprint(spec.Meta["primary_key"]); spec.Meta["primary_key"] != nil {
			add("Primary key", strings.Trim(pk, "[]"))
		}
		c, err := spec.Compile(project.CompileState{})
		if err != nil {
			d.SQLError = err.Error()
		} else {
			d.SQL = strings.TrimSpace(c.SQL)
		}
	case *project.Seed:
		declared = spec.Columns
	case *project.Source:
		declared = spec.Columns
		add("Relation", spec.Relation().String())
		add("Loaded-at field", spec.LoadedAtField)
		if spec.WarnAfter > 0 {
			add("Freshness: warn after", spec.WarnAfter.String())
		}
		if spec.ErrorAfter > 0 {
			add("Freshness: error after", spec.ErrorAfter.String())
		}
		if spec.LoadedAtField != "" && spec.WarnAfter == 0 && spec.ErrorAfter == 0 {
			add("Freshness", "not checked (no warn_after or error_after)")
		}
		if loc, ok := spec.Meta["external_location"]; ok {
			add("External location", fmt.Sprint(loc))
		}
	}
	byCol := map[string][]string{}
	for _, t := range it.Tests {
		label := testLabel(t)
		if t.Column == "" {
			d.OtherTests = append(d.OtherTests, label)
			continue
		}
		byCol[strings.ToLower(t.Column)] = append(byCol[strings.ToLower(t.Column)], label)
	}
	seen := map[string]bool{}
	for _, c := range declared {
		k := strings.ToLower(c.Name)
		seen[k] = true
		d.Columns = append(d.Columns, column{Name: c.Name, Type: c.Type, Description: c.Description, Tests: byCol[k]})
	}
	for _, t := range it.Tests {
		k := strings.ToLower(t.Column)
		if t.Column != "" && !seen[k] {
			seen[k] = true
			d.Columns = append(d.Columns, column{Name: t.Column, Tests: byCol[k]})
		}
	}
	for _, up := range it.Up {
		d.Up = append(d.Up, s.link(up, "../"))
	}
	for _, down := range it.Down {
		d.Down = append(d.Down, s.link(down, "../"))
	}
	svg, _, err := s.lineage(n.Name)
	if err == nil {
		d.SVG = template.HTML(svg)
	}
	return d
}

// testLabel describes a test: its type and its main arguments.
func testLabel(t *project.DataTest) string {
	typ := t.Type
	var args []string
	switch strings.TrimPrefix(typ, "dbt_utils.") {
	case project.TestAcceptedValues:
		args = append(args, fmt.Sprint(t.Args["values"]))
	case project.TestRelationships:
		args = append(args, fmt.Sprintf("%v.%v", t.Args["to"], t.Args["field"]))
	case "unique_combination_of_columns":
		args = append(args, fmt.Sprint(t.Args["combination_of_columns"]))
	case "expression_is_true":
		args = append(args, fmt.Sprint(t.Args["expression"]))
	}
	if t.Severity == project.SeverityWarn {
		args = append(args, "warn")
	}
	if len(args) > 0 {
		return typ + " (" + strings.Join(args, ", ") + ")"
	}
	return typ
}
