// Package dag builds and validates the dependency graph of a pipeline and
// selects nodes from it with dbt's node selection syntax.
//
// A Graph is immutable once New has returned it, so it is safe for
// concurrent use. Vertices are stored in a github.com/dominikbraun/graph
// graph backed by a compact adjacency-list store; traversals, topological
// ordering and selection read that store directly so that pipelines with
// tens of thousands of nodes build and select in milliseconds.
//
// Edges point the way data flows: from a dependency to the vertex that
// depends on it. Parents are dependencies, children are dependents.
//
// New validates the vertices and returns typed errors (*DuplicateError,
// *UnknownDepError, *CycleError, ...) for errors.As. Graph.Select and its
// variants take dbt selector expressions ("+tag:hourly,config.materialized:view",
// "stg_orders+1", "@path:models/marts") and return names in topological
// order, adding the tests of the selected vertices the way dbt's default
// "eager" indirect selection does. DOT and Mermaid render the graph for a
// `graph` command.
//
// The package does not depend on the rest of the module.
package dag

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/dominikbraun/graph"
)

// The kinds of vertex the selector grammar knows about (resource_type:...).
const (
	KindSeed   = "seed"
	KindSource = "source"
	KindModel  = "model"
	KindTest   = "test"
	KindTask   = "task"
)

// Vertex is one node as the graph sees it.
type Vertex struct {
	// Name identifies the vertex; it must be unique and non-empty. Sources
	// are named "source_name.table".
	Name string
	// Kind is "seed", "source", "model", "test" or "task".
	Kind string
	// Deps are the names of the upstream vertices this one reads from.
	Deps []string
	// DepLocations optionally maps a dependency name to where it was
	// referenced ("models/x.sql:12"), for error messages.
	DepLocations map[string]string
	// Path is the project-relative, slash-separated file that defines the
	// vertex ("models/marts/mart_daily_sales.sql"); "" for vertices declared
	// in Go.
	Path string
	// Tags are selectable with tag:<tag>.
	Tags []string
	// Config holds selectable configuration (config.<key>:<value>), e.g.
	// {"materialized": "view", "schema": "marts"}.
	Config map[string]string
	// TestOf names the vertex a test is attached to. It is an implicit
	// dependency: New adds the edge TestOf -> test if Deps lacks it.
	TestOf string
	// Location optionally says where the vertex was declared ("file:line"),
	// for duplicate-name errors.
	Location string
}

// clone returns a deep copy of v.
func (v Vertex) clone() Vertex {
	v.Deps = slices.Clone(v.Deps)
	v.Tags = slices.Clone(v.Tags)
	v.DepLocations = maps.Clone(v.DepLocations)
	v.Config = maps.Clone(v.Config)
	return v
}

// where returns the best known location of v's definition.
func (v *Vertex) where() string {
	switch {
	case v.Location != "":
		return v.Location
	case v.Path != "":
		return v.Path
	}
	return "Go code"
}

// Graph is a validated, acyclic dependency graph of vertices.
type Graph struct {
	lib graph.Graph[string, Vertex]
	st  *store

	topo    []int32 // vertex indices in topological order
	gen     []int32 // gen[i]: layer of vertex i
	nlayers int
}

func vertexHash(v Vertex) string { return v.Name }

// New builds a Graph from vertices. It validates, in this order, and stops at
// the first stage that fails:
//
//   - every vertex has a name (*InvalidVertexError) and no name is used
//     twice (*DuplicateError);
//   - every dependency (Deps and TestOf) names a vertex (*UnknownDepError,
//     all of them, with a "did you mean" suggestion when a close name
//     exists);
//   - there is no dependency cycle (*CycleError, one per strongly connected
//     component that contains a cycle).
//
// When a stage finds several problems they are combined with errors.Join;
// use errors.As to get at the typed errors. Repeated dependencies are
// allowed and make one edge.
//
// The Graph keeps the slices and maps of the vertices (it does not copy
// them); do not modify them after calling New.
func New(vertices []Vertex) (*Graph, error) {
	order, index, err := checkNames(vertices)
	if err != nil {
		return nil, err
	}
	sorted := make([]Vertex, len(order))
	for i, k := range order {
		sorted[i] = vertices[k]
	}
	return build(sorted, index, true)
}

// checkNames returns the indices of vertices sorted by name and a map from
// each name to its position in that order, or the name-level errors.
// Duplicates are found as neighbours after sorting.
func checkNames(vertices []Vertex) ([]int32, map[string]int32, error) {
	var errs []error
	type entry struct {
		name string
		idx  int32
	}
	entries := make([]entry, 0, len(vertices))
	for i := range vertices {
		if vertices[i].Name == "" {
			errs = append(errs, &InvalidVertexError{Index: i, Location: vertices[i].Location, Reason: "empty name"})
			continue
		}
		entries = append(entries, entry{vertices[i].Name, int32(i)})
	}
	cmp := func(a, b entry) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		return int(a.idx - b.idx)
	}
	if !slices.IsSortedFunc(entries, cmp) {
		slices.SortFunc(entries, cmp)
	}
	order := make([]int32, 0, len(entries))
	for k := 0; k < len(entries); {
		e := entries[k]
		end := k + 1
		for end < len(entries) && entries[end].name == e.name {
			end++
		}
		if end-k > 1 {
			d := &DuplicateError{Name: e.name}
			for _, x := range entries[k:end] {
				d.Locations = append(d.Locations, vertices[x.idx].where())
			}
			errs = append(errs, d)
		}
		order = append(order, e.idx)
		k = end
	}
	if len(errs) > 0 {
		return nil, nil, joinErrors(errs)
	}
	index := make(map[string]int32, len(order))
	for k, i := range order {
		index[vertices[i].Name] = int32(k)
	}
	return order, index, nil
}

// joinErrors returns the only error of errs, or errors.Join of all of them.
func joinErrors(errs []error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}

// build makes a Graph of vertices sorted by unique name; index maps each
// name to its position (nil: build it). With strict, a dependency on a
// missing vertex is an error; otherwise it is dropped (used by Subgraph).
//
// The store is bulk-loaded: going through graph.Graph.AddEdge costs six
// vertex and edge look-ups and a map allocation per edge, which alone takes
// longer than everything else New does on a large pipeline. The finished
// store is then frozen and wrapped as a graph.Graph.
func build(sorted []Vertex, index map[string]int32, strict bool) (*Graph, error) {
	st := loadStore(sorted, index)
	missing := st.loadEdges(func(i int32, add func(dep string)) {
		v := &sorted[i]
		for _, d := range v.Deps {
			add(d)
		}
		if v.TestOf != "" {
			add(v.TestOf)
		}
	})
	if missing && strict {
		return nil, checkDeps(st, sorted)
	}
	st.frozen = true

	g := &Graph{
		lib: graph.NewWithStore(vertexHash, graph.Store[string, Vertex](st), graph.Directed(), graph.Acyclic()),
		st:  st,
	}
	if !g.sortTopologically() {
		return nil, g.cycleErrors()
	}
	g.computeLayers()
	return g, nil
}

// checkDeps reports every dependency on a vertex that does not exist.
func checkDeps(st *store, sorted []Vertex) error {
	var errs []error
	var suggestions map[string]string
	for i := range sorted {
		v := &sorted[i]
		var reported []string
		check := func(d string) {
			if _, ok := st.index[d]; ok || slices.Contains(reported, d) {
				return
			}
			reported = append(reported, d)
			if suggestions == nil {
				suggestions = make(map[string]string)
			}
			s, done := suggestions[d]
			if !done {
				s = closest(d, st.names)
				suggestions[d] = s
			}
			loc := v.DepLocations[d]
			if loc == "" {
				loc = v.Location
			}
			if loc == "" {
				loc = v.Path
			}
			errs = append(errs, &UnknownDepError{Node: v.Name, Kind: v.Kind, Dep: d, Location: loc, Suggestion: s})
		}
		for _, d := range v.Deps {
			check(d)
		}
		if v.TestOf != "" {
			check(v.TestOf)
		}
	}
	if len(errs) > 0 {
		return joinErrors(errs)
	}
	return nil
}

// sortTopologically runs Kahn's algorithm, always taking the ready vertex
// with the smallest name. It reports false if a cycle prevents ordering all
// vertices; g.topo then holds the vertices it could order.
func (g *Graph) sortTopologically() bool {
	n := len(g.st.verts)
	indeg := make([]int32, n)
	h := make(minHeap, 0, n)
	for i := range n {
		indeg[i] = int32(len(g.st.in[i]))
		if indeg[i] == 0 {
			h = append(h, int32(i)) // ascending, hence already a heap
		}
	}
	topo := make([]int32, 0, n)
	for len(h) > 0 {
		u := h.pop()
		topo = append(topo, u)
		for _, v := range g.st.out[u] {
			indeg[v]--
			if indeg[v] == 0 {
				h.push(v)
			}
		}
	}
	g.topo = topo // partial when there is a cycle: see cycleErrors
	return len(topo) == n
}

// computeLayers assigns each vertex the length of the longest path reaching
// it from a vertex without dependencies.
func (g *Graph) computeLayers() {
	g.gen = make([]int32, len(g.topo))
	g.nlayers = 0
	for _, u := range g.topo {
		var l int32
		for _, p := range g.st.in[u] {
			l = max(l, g.gen[p]+1)
		}
		g.gen[u] = l
		g.nlayers = max(g.nlayers, int(l)+1)
	}
}

// cycleErrors describes the cycles of a graph that could not be sorted: one
// CycleError per strongly connected component that contains a cycle, each
// starting at the component's smallest name, ordered by that name.
func (g *Graph) cycleErrors() error {
	// Kahn's algorithm ordered everything upstream of the cycles. Peel off
	// what is only downstream of them the same way in reverse: what is left
	// lies on cycles or between them. Find the strongly connected
	// components of that (usually small) rest with the library.
	n := len(g.st.verts)
	left := make([]bool, n)
	for i := range left {
		left[i] = true
	}
	for _, i := range g.topo {
		left[i] = false
	}
	outdeg := make([]int32, n)
	var queue []int32
	for i := range n {
		if !left[i] {
			continue
		}
		for _, j := range g.st.out[i] {
			if left[j] {
				outdeg[i]++
			}
		}
		if outdeg[i] == 0 {
			queue = append(queue, int32(i))
		}
	}
	for len(queue) > 0 {
		i := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		left[i] = false
		for _, p := range g.st.in[i] {
			if left[p] {
				if outdeg[p]--; outdeg[p] == 0 {
					queue = append(queue, p)
				}
			}
		}
	}
	rest := graph.New(graph.StringHash, graph.Directed())
	for i, name := range g.st.names {
		if left[i] {
			_ = rest.AddVertex(name)
		}
	}
	for i, targets := range g.st.out {
		for _, j := range targets {
			if left[i] && left[j] {
				_ = rest.AddEdge(g.st.names[i], g.st.names[j])
			}
		}
	}
	sccs, err := graph.StronglyConnectedComponents(rest)
	if err != nil {
		return fmt.Errorf("dependency cycle (cannot locate it: %w)", err)
	}
	var starts []int32
	member := make([]int32, n) // component number + 1; 0: none
	for c, comp := range sccs {
		start := g.st.index[comp[0]]
		for _, name := range comp {
			i := g.st.index[name]
			member[i] = int32(c + 1)
			start = min(start, i)
		}
		if len(comp) > 1 || g.st.hasEdge(start, start) {
			starts = append(starts, start)
		}
	}
	slices.Sort(starts)
	errs := make([]error, 0, len(starts))
	for _, s := range starts {
		errs = append(errs, &CycleError{Cycle: g.shortestCycle(s, member)})
	}
	if len(errs) == 0 { // cannot happen: Kahn stalls only on a cycle
		return errors.New("dependency cycle")
	}
	return joinErrors(errs)
}

// shortestCycle returns a shortest cycle through start (by breadth-first
// search over name-sorted children within start's component), as names from
// start back to start.
func (g *Graph) shortestCycle(start int32, member []int32) []string {
	comp := member[start]
	prev := map[int32]int32{start: -1}
	queue := []int32{start}
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		for _, v := range g.st.out[u] {
			if v == start {
				var rev []string
				for x := u; x != -1; x = prev[x] {
					rev = append(rev, g.st.names[x])
				}
				slices.Reverse(rev)
				return append(rev, g.st.names[start])
			}
			if _, seen := prev[v]; seen || member[v] != comp {
				continue
			}
			prev[v] = u
			queue = append(queue, v)
		}
	}
	return []string{g.st.names[start], g.st.names[start]} // unreachable
}

// Library returns the graph as a github.com/dominikbraun/graph Graph, for
// use with that library's algorithms (graph.ShortestPath,
// graph.AllPathsBetween, draw.DOT, ...). Its vertices are hashed by name and
// its edges point from dependency to dependent. It is read-only: mutating
// methods return ErrReadOnly. The Vertex values it returns share their
// slices and maps with the Graph; do not modify them.
func (g *Graph) Library() graph.Graph[string, Vertex] { return g.lib }

// Len returns the number of vertices.
func (g *Graph) Len() int { return len(g.st.verts) }

// Vertex returns a copy of the vertex called name.
func (g *Graph) Vertex(name string) (Vertex, bool) {
	v, err := g.lib.Vertex(name)
	if err != nil {
		return Vertex{}, false
	}
	return v.clone(), true
}

// Names returns the names of all vertices, sorted.
func (g *Graph) Names() []string { return slices.Clone(g.st.names) }

// TopoOrder returns all vertex names in topological order (every vertex
// after its dependencies). Among vertices that are ready at the same time
// the smallest name comes first, so the order is deterministic.
func (g *Graph) TopoOrder() []string { return g.namesOf(g.topo) }

// Layers returns the vertices grouped into generations: layer 0 holds the
// vertices without dependencies and every vertex of layer k has all its
// dependencies in layers before k (and at least one in layer k-1). Each
// layer is sorted by name.
func (g *Graph) Layers() [][]string {
	layers := make([][]string, g.nlayers)
	for i, name := range g.st.names {
		l := g.gen[i]
		layers[l] = append(layers[l], name)
	}
	return layers
}

// Layer returns the layer (see Layers) of the vertex called name, or -1.
func (g *Graph) Layer(name string) int {
	i, ok := g.st.index[name]
	if !ok {
		return -1
	}
	return int(g.gen[i])
}

// Parents returns the direct dependencies of name, sorted; nil if name is
// not a vertex.
func (g *Graph) Parents(name string) []string {
	i, ok := g.st.index[name]
	if !ok {
		return nil
	}
	return g.namesOf(g.st.in[i])
}

// Children returns the vertices that depend directly on name, sorted; nil
// if name is not a vertex.
func (g *Graph) Children(name string) []string {
	i, ok := g.st.index[name]
	if !ok {
		return nil
	}
	return g.namesOf(g.st.out[i])
}

// Ancestors returns every vertex name depends on, directly or not, sorted.
func (g *Graph) Ancestors(name string) []string { return g.AncestorsWithin(name, -1) }

// AncestorsWithin returns the ancestors of name at most depth edges away
// (depth < 0: no limit), sorted. name itself is not included.
func (g *Graph) AncestorsWithin(name string, depth int) []string {
	return g.reachable(name, g.st.in, depth)
}

// Descendants returns every vertex that depends on name, directly or not,
// sorted.
func (g *Graph) Descendants(name string) []string { return g.DescendantsWithin(name, -1) }

// DescendantsWithin returns the descendants of name at most depth edges away
// (depth < 0: no limit), sorted. name itself is not included.
func (g *Graph) DescendantsWithin(name string, depth int) []string {
	return g.reachable(name, g.st.out, depth)
}

func (g *Graph) reachable(name string, adj [][]int32, depth int) []string {
	i, ok := g.st.index[name]
	if !ok {
		return nil
	}
	set := make([]bool, len(adj))
	set[i] = true
	expand(set, []int32{i}, adj, depth)
	set[i] = false
	var out []string
	for j, in := range set {
		if in {
			out = append(out, g.st.names[j])
		}
	}
	return out
}

// expand marks in set every vertex reachable from seeds (which must already
// be marked) in at most depth steps along adj; depth < 0 means no limit.
func expand(set []bool, seeds []int32, adj [][]int32, depth int) {
	var bufs [2][]int32
	frontier := seeds
	for d := 0; len(frontier) > 0 && (depth < 0 || d < depth); d++ {
		next := bufs[d%2][:0]
		for _, u := range frontier {
			for _, v := range adj[u] {
				if !set[v] {
					set[v] = true
					next = append(next, v)
				}
			}
		}
		bufs[d%2] = next
		frontier = next
	}
}

// Subgraph returns the graph induced by names: those vertices and the edges
// between them. Dependencies on vertices outside names are dropped from the
// edges (the vertices' Deps are kept as they are). An unknown name is an
// *UnknownNodeError.
func (g *Graph) Subgraph(names []string) (*Graph, error) {
	idx := make([]int32, 0, len(names))
	seen := make(map[int32]bool, len(names))
	for _, n := range names {
		i, ok := g.st.index[n]
		if !ok {
			return nil, &UnknownNodeError{Name: n}
		}
		if !seen[i] {
			seen[i] = true
			idx = append(idx, i)
		}
	}
	slices.Sort(idx)
	sorted := make([]Vertex, len(idx))
	for k, i := range idx {
		sorted[k] = g.st.verts[i]
	}
	return build(sorted, nil, false)
}

func (g *Graph) namesOf(idx []int32) []string {
	if len(idx) == 0 {
		return nil
	}
	out := make([]string, len(idx))
	for k, i := range idx {
		out[k] = g.st.names[i]
	}
	return out
}

// minHeap is a binary min-heap of vertex indices.
type minHeap []int32

func (h *minHeap) push(x int32) {
	*h = append(*h, x)
	a := *h
	for i := len(a) - 1; i > 0; {
		p := (i - 1) / 2
		if a[p] <= a[i] {
			break
		}
		a[p], a[i] = a[i], a[p]
		i = p
	}
}

func (h *minHeap) pop() int32 {
	a := *h
	top := a[0]
	last := len(a) - 1
	a[0] = a[last]
	a = a[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(a) && a[l] < a[m] {
			m = l
		}
		if r < len(a) && a[r] < a[m] {
			m = r
		}
		if m == i {
			break
		}
		a[i], a[m] = a[m], a[i]
		i = m
	}
	*h = a
	return top
}

// closest returns the name among candidates nearest to s by edit distance
// (optimal string alignment, so a transposition counts once), if that
// distance is at most 2 and smaller than len(s); ties go to the smaller
// name. candidates must be sorted.
func closest(s string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := len(c) - len(s); d >= bestD || -d >= bestD {
			continue
		}
		if d := editDistance(s, c, bestD); d < bestD && d < len(s) {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance returns the optimal-string-alignment distance between a and
// b, or a value >= limit once it is known to reach limit.
func editDistance(a, b string, limit int) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if rowMin >= limit {
			return limit
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
