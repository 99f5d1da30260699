package dag

import (
	"errors"
	"math/rand"
	"slices"
	"strings"
	"testing"

	"github.com/dominikbraun/graph"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// v is shorthand for a model vertex.
func v(name string, deps ...string) Vertex {
	return Vertex{Name: name, Kind: KindModel, Deps: deps}
}

// diamond:
//
//	a ─┬─> b ─┬─> d ──> e
//	   └─> c ─┘
//	f (isolated)
func diamond() []Vertex {
	return []Vertex{v("e", "d"), v("d", "b", "c"), v("c", "a"), v("b", "a"), v("a"), v("f")}
}

func mustNew(t testing.TB, vs []Vertex) *Graph {
	t.Helper()
	g, err := New(vs)
	require.NoError(t, err)
	return g
}

// allErrors flattens errors.Join trees.
func allErrors(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, allErrors(e)...)
		}
		return out
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

func TestAccessors(t *testing.T) {
	g := mustNew(t, diamond())

	assert.Equal(t, 6, g.Len())
	assert.Equal(t, []string{"a", "b", "c", "d", "e", "f"}, g.Names())

	vx, ok := g.Vertex("d")
	require.True(t, ok)
	assert.Equal(t, "d", vx.Name)
	assert.Equal(t, KindModel, vx.Kind)
	assert.Equal(t, []string{"b", "c"}, vx.Deps)
	_, ok = g.Vertex("nope")
	assert.False(t, ok)

	tests := []struct {
		name                 string
		parents, children    []string
		ancestors, descends  []string
		ancestors1, descend1 []string
	}{
		{"a", nil, []string{"b", "c"}, nil, []string{"b", "c", "d", "e"}, nil, []string{"b", "c"}},
		{"d", []string{"b", "c"}, []string{"e"}, []string{"a", "b", "c"}, []string{"e"}, []string{"b", "c"}, []string{"e"}},
		{"e", []string{"d"}, nil, []string{"a", "b", "c", "d"}, nil, []string{"d"}, nil},
		{"f", nil, nil, nil, nil, nil, nil},
		{"missing", nil, nil, nil, nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.parents, g.Parents(tt.name), "parents")
			assert.Equal(t, tt.children, g.Children(tt.name), "children")
			assert.Equal(t, tt.ancestors, g.Ancestors(tt.name), "ancestors")
			assert.Equal(t, tt.descends, g.Descendants(tt.name), "descendants")
			assert.Equal(t, tt.ancestors1, g.AncestorsWithin(tt.name, 1), "ancestors within 1")
			assert.Equal(t, tt.descend1, g.DescendantsWithin(tt.name, 1), "descendants within 1")
		})
	}
	assert.Equal(t, []string{"b", "c", "d"}, g.DescendantsWithin("a", 2))
	assert.Nil(t, g.DescendantsWithin("a", 0))
}

func TestVertexIsACopy(t *testing.T) {
	g := mustNew(t, []Vertex{{Name: "a", Tags: []string{"x"}, Config: map[string]string{"k": "v"}}})
	vx, _ := g.Vertex("a")
	vx.Tags[0] = "changed"
	vx.Config["k"] = "changed"
	again, _ := g.Vertex("a")
	assert.Equal(t, []string{"x"}, again.Tags)
	assert.Equal(t, "v", again.Config["k"])
}

func TestTestOfIsAnImplicitDependency(t *testing.T) {
	g := mustNew(t, []Vertex{
		v("m"),
		v("n"),
		{Name: "t1", Kind: KindTest, TestOf: "m"},
		{Name: "t2", Kind: KindTest, Deps: []string{"m", "n", "m"}, TestOf: "m"},
	})
	assert.Equal(t, []string{"m"}, g.Parents("t1"))
	assert.Equal(t, []string{"m", "n"}, g.Parents("t2"), "repeated deps make one edge")
	assert.Equal(t, []string{"t1", "t2"}, g.Children("m"))
	assert.Equal(t, []string{"m", "n", "t1", "t2"}, g.TopoOrder())
}

func TestTopoOrder(t *testing.T) {
	g := mustNew(t, diamond())
	// Ready vertices are taken smallest name first.
	assert.Equal(t, []string{"a", "b", "c", "d", "e", "f"}, g.TopoOrder())

	g = mustNew(t, []Vertex{v("z"), v("y", "z"), v("a", "y"), v("m")})
	assert.Equal(t, []string{"m", "z", "y", "a"}, g.TopoOrder())
}

func TestTopoOrderIsDeterministicAndValid(t *testing.T) {
	vs := synthetic(2000)
	want := mustNew(t, vs).TopoOrder()
	r := rand.New(rand.NewSource(7))
	for range 5 {
		r.Shuffle(len(vs), func(i, j int) { vs[i], vs[j] = vs[j], vs[i] })
		g := mustNew(t, vs)
		require.Equal(t, want, g.TopoOrder())
	}

	g := mustNew(t, vs)
	pos := make(map[string]int, len(want))
	for i, n := range want {
		pos[n] = i
	}
	require.Len(t, pos, len(vs))
	for _, n := range g.Names() {
		for _, p := range g.Parents(n) {
			require.Less(t, pos[p], pos[n], "%s before %s", p, n)
		}
	}
}

func TestLayers(t *testing.T) {
	g := mustNew(t, diamond())
	assert.Equal(t, [][]string{{"a", "f"}, {"b", "c"}, {"d"}, {"e"}}, g.Layers())
	assert.Equal(t, 2, g.Layer("d"))
	assert.Equal(t, -1, g.Layer("nope"))

	// A vertex sits one layer after its deepest dependency.
	g = mustNew(t, []Vertex{v("a"), v("b", "a"), v("c", "b"), v("x", "a", "c")})
	assert.Equal(t, [][]string{{"a"}, {"b"}, {"c"}, {"x"}}, g.Layers())

	g = mustNew(t, nil)
	assert.Empty(t, g.Layers())
	assert.Empty(t, g.TopoOrder())
	assert.Empty(t, g.Names())
}

func TestLayersProperty(t *testing.T) {
	g := mustNew(t, synthetic(3000))
	layer := map[string]int{}
	for k, l := range g.Layers() {
		require.True(t, slices.IsSorted(l))
		for _, n := range l {
			layer[n] = k
		}
	}
	require.Len(t, layer, g.Len())
	for n, k := range layer {
		deepest := -1
		for _, p := range g.Parents(n) {
			require.Less(t, layer[p], k)
			deepest = max(deepest, layer[p])
		}
		require.Equal(t, deepest+1, k, n)
	}
}

func TestDuplicateError(t *testing.T) {
	tests := []struct {
		name string
		vs   []Vertex
		want string
	}{
		{
			name: "paths",
			vs: []Vertex{
				{Name: "stg_orders", Path: "models/a/stg_orders.sql"},
				{Name: "other"},
				{Name: "stg_orders", Path: "models/b/stg_orders.sql"},
			},
			want: `duplicate node "stg_orders": defined in models/a/stg_orders.sql and models/b/stg_orders.sql`,
		},
		{
			name: "location wins over path, Go code when neither",
			vs: []Vertex{
				{Name: "x", Path: "models/x.sql", Location: "models/x.sql:1"},
				{Name: "x"},
				{Name: "x", Path: "models/y/x.sql"},
			},
			want: `duplicate node "x": defined in models/x.sql:1, Go code and models/y/x.sql`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.vs)
			require.Error(t, err)
			var de *DuplicateError
			require.ErrorAs(t, err, &de)
			assert.EqualError(t, err, tt.want)
		})
	}

	t.Run("several, sorted by name", func(t *testing.T) {
		_, err := New([]Vertex{v("b"), v("a"), v("b"), v("a"), v("c")})
		errs := allErrors(err)
		require.Len(t, errs, 2)
		assert.Equal(t, "a", errs[0].(*DuplicateError).Name)
		assert.Equal(t, "b", errs[1].(*DuplicateError).Name)
	})
}

func TestInvalidVertex(t *testing.T) {
	_, err := New([]Vertex{v("a"), {Name: "", Location: "main.go:10"}})
	var ie *InvalidVertexError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, 1, ie.Index)
	assert.EqualError(t, err, "main.go:10: invalid node #1: empty name")
}

func TestUnknownDepError(t *testing.T) {
	tests := []struct {
		name string
		vs   []Vertex
		want string
	}{
		{
			name: "location and suggestion",
			vs: []Vertex{
				v("stg_orders"),
				{
					Name: "x", Kind: KindModel, Path: "models/marts/x.sql", Deps: []string{"stg_ordrs"},
					DepLocations: map[string]string{"stg_ordrs": "models/marts/x.sql:12"},
				},
			},
			want: `models/marts/x.sql:12: model "x" references unknown node "stg_ordrs" (did you mean "stg_orders"?)`,
		},
		{
			name: "no location, no close name",
			vs:   []Vertex{v("stg_orders"), {Name: "task1", Kind: KindTask, Deps: []string{"completely_else"}}},
			want: `task "task1" references unknown node "completely_else"`,
		},
		{
			name: "falls back to the vertex location, then its path",
			vs: []Vertex{
				v("orders"),
				{Name: "y", Kind: KindModel, Path: "models/y.sql", Deps: []string{"ordesr"}},
			},
			want: `models/y.sql: model "y" references unknown node "ordesr" (did you mean "orders"?)`,
		},
		{
			name: "kind defaults to node",
			vs:   []Vertex{{Name: "y", Deps: []string{"z"}, Location: "main.go:3"}},
			want: `main.go:3: node "y" references unknown node "z"`,
		},
		{
			name: "unknown TestOf",
			vs:   []Vertex{v("orders"), {Name: "t", Kind: KindTest, TestOf: "order"}},
			want: `test "t" references unknown node "order" (did you mean "orders"?)`,
		},
		{
			name: "closest of several candidates, ties to the smaller name",
			vs:   []Vertex{v("abcd"), v("abce"), v("abcx_long"), v("q", "abcf")},
			want: `model "q" references unknown node "abcf" (did you mean "abcd"?)`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.vs)
			var ue *UnknownDepError
			require.ErrorAs(t, err, &ue)
			assert.EqualError(t, err, tt.want)
		})
	}
}

func TestUnknownDepsAllReported(t *testing.T) {
	_, err := New([]Vertex{
		v("stg_orders"),
		v("b", "missing1", "stg_orders", "missing1", "missing2"),
		v("a", "stg_ordr"),
	})
	errs := allErrors(err)
	require.Len(t, errs, 3)
	var got []string
	for _, e := range errs {
		ue, ok := e.(*UnknownDepError)
		require.True(t, ok, "%T", e)
		got = append(got, ue.Node+"->"+ue.Dep)
	}
	assert.Equal(t, []string{"a->stg_ordr", "b->missing1", "b->missing2"}, got)
	assert.Contains(t, err.Error(), `(did you mean "stg_orders"?)`)
}

func TestUnknownDepIsNotReportedAsCycle(t *testing.T) {
	// a -> b -> c -> a would be a cycle had c spelled "a" correctly, and
	// x <-> y is a real cycle: only the unknown dependency is reported.
	_, err := New([]Vertex{
		v("a", "b"),
		v("b", "c"),
		v("c", "aa"),
		v("x", "y"),
		v("y", "x"),
	})
	require.Error(t, err)
	var ce *CycleError
	assert.False(t, errors.As(err, &ce), "no cycle error: %v", err)
	var ue *UnknownDepError
	require.ErrorAs(t, err, &ue)
	assert.EqualError(t, err, `model "c" references unknown node "aa" (did you mean "a"?)`)
}

func TestCycleError(t *testing.T) {
	tests := []struct {
		name string
		vs   []Vertex
		want []string // one message per cycle
	}{
		{
			// a feeds b, b feeds c, c feeds a.
			name: "three",
			vs:   []Vertex{v("b", "a"), v("c", "b"), v("a", "c")},
			want: []string{"dependency cycle: a → b → c → a"},
		},
		{
			name: "starts at the smallest name",
			vs:   []Vertex{v("zeta", "mid"), v("mid", "beta"), v("beta", "zeta"), v("root"), v("tail", "zeta", "root")},
			want: []string{"dependency cycle: beta → mid → zeta → beta"},
		},
		{
			name: "self-dependency",
			vs:   []Vertex{v("a", "a"), v("b")},
			want: []string{"dependency cycle: a → a"},
		},
		{
			name: "self-dependency through TestOf",
			vs:   []Vertex{{Name: "t", Kind: KindTest, TestOf: "t"}},
			want: []string{"dependency cycle: t → t"},
		},
		{
			name: "two components, each reported",
			vs:   []Vertex{v("p", "q"), v("q", "p"), v("b", "a"), v("a", "c"), v("c", "b"), v("ok")},
			want: []string{"dependency cycle: a → b → c → a", "dependency cycle: p → q → p"},
		},
		{
			name: "cycles joined by a path, with upstream and downstream vertices",
			// root -> a <-> b -> c -> d <-> e -> tail
			vs: []Vertex{
				v("root"), v("a", "root", "b"), v("b", "a"), v("c", "b"),
				v("d", "c", "e"), v("e", "d"), v("tail", "e"),
			},
			want: []string{"dependency cycle: a → b → a", "dependency cycle: d → e → d"},
		},
		{
			name: "shortest cycle through the smallest name",
			// a -> b -> c -> d -> a and the shortcut b -> a.
			vs:   []Vertex{v("b", "a"), v("c", "b"), v("d", "c"), v("a", "d", "b")},
			want: []string{"dependency cycle: a → b → a"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.vs)
			var ce *CycleError
			require.ErrorAs(t, err, &ce)
			var msgs []string
			for _, e := range allErrors(err) {
				msgs = append(msgs, e.Error())
			}
			assert.Equal(t, tt.want, msgs)
			assert.Equal(t, ce.Cycle[0], ce.Cycle[len(ce.Cycle)-1])
		})
	}
}

func TestCycleInLargeGraph(t *testing.T) {
	vs := synthetic(3000)
	byName := map[string]int{}
	for i := range vs {
		byName[vs[i].Name] = i
	}
	// Find a chain x -> y -> z and close it with z -> x.
	g := mustNew(t, vs)
	for _, z := range g.TopoOrder() {
		ps := g.Parents(z)
		if len(ps) == 0 {
			continue
		}
		y := ps[0]
		if pp := g.Parents(y); len(pp) > 0 {
			x := pp[0]
			vs[byName[x]].Deps = append(slices.Clone(vs[byName[x]].Deps), z)
			_, err := New(vs)
			var ce *CycleError
			require.ErrorAs(t, err, &ce)
			assert.GreaterOrEqual(t, len(ce.Cycle), 4)
			assert.Equal(t, ce.Cycle[0], ce.Cycle[len(ce.Cycle)-1])
			assert.Equal(t, slices.Min(ce.Cycle), ce.Cycle[0])
			return
		}
	}
	t.Fatal("no chain found")
}

func TestSubgraph(t *testing.T) {
	g := mustNew(t, diamond())
	sub, err := g.Subgraph([]string{"e", "b", "a", "d", "b"})
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b", "d", "e"}, sub.Names())
	assert.Equal(t, []string{"b"}, sub.Parents("d"), "c is outside the subgraph")
	assert.Equal(t, [][]string{{"a"}, {"b"}, {"d"}, {"e"}}, sub.Layers())
	vx, _ := sub.Vertex("d")
	assert.Equal(t, []string{"b", "c"}, vx.Deps, "vertex data is kept")

	_, err = g.Subgraph([]string{"a", "zz"})
	var ne *UnknownNodeError
	require.ErrorAs(t, err, &ne)
	assert.EqualError(t, err, `unknown node "zz"`)
}

func TestDOT(t *testing.T) {
	g := mustNew(t, []Vertex{
		{Name: "raw_orders", Kind: KindSeed},
		{Name: "shop.events", Kind: KindSource},
		{Name: "stg_orders", Kind: KindModel, Deps: []string{"raw_orders", "shop.events"}},
		{Name: "not_null", Kind: KindTest, TestOf: "stg_orders"},
		{Name: `we"ird`, Kind: KindTask, Deps: []string{"stg_orders"}},
	})
	dot := g.DOT()
	assert.True(t, strings.HasPrefix(dot, "digraph dag {\n"))
	assert.True(t, strings.HasSuffix(dot, "}\n"))
	for _, want := range []string{
		`"raw_orders" [shape=note, class="seed"];`,
		`"shop.events" [shape=cylinder, class="source"];`,
		`"stg_orders" [shape=box, class="model"];`,
		`"not_null" [shape=diamond, class="test"];`,
		`"we\"ird" [shape=hexagon, class="task"];`,
		`"raw_orders" -> "stg_orders";`,
		`"shop.events" -> "stg_orders";`,
		`"stg_orders" -> "not_null";`,
		`"stg_orders" -> "we\"ird";`,
	} {
		assert.Contains(t, dot, want)
	}
	assert.Equal(t, 4, strings.Count(dot, "->"))
	assert.Equal(t, dot, g.DOT(), "deterministic")
}

func TestMermaid(t *testing.T) {
	g := mustNew(t, []Vertex{
		{Name: "raw_orders", Kind: KindSeed},
		{Name: "shop.events", Kind: KindSource},
		{Name: "shop_events", Kind: KindModel, Deps: []string{"shop.events"}},
		{Name: "end", Kind: KindModel, Deps: []string{"shop_events", "raw_orders"}},
		{Name: "t", Kind: KindTest, TestOf: "end"},
		{Name: "job", Kind: KindTask, Deps: []string{"end"}},
	})
	m := g.Mermaid()
	assert.True(t, strings.HasPrefix(m, "flowchart LR\n"))
	for _, want := range []string{
		`    raw_orders[/"raw_orders"/]`,
		`    shop_events[("shop.events")]`,
		`    shop_events_2["shop_events"]`,
		`    end_["end"]`,
		`    t{{"t"}}`,
		`    job(["job"])`,
		`    raw_orders --> end_`,
		`    shop_events --> shop_events_2`,
		`    shop_events_2 --> end_`,
		`    end_ --> t`,
		`    end_ --> job`,
	} {
		assert.Contains(t, m, want+"\n")
	}
	assert.Equal(t, 5, strings.Count(m, "-->"))
}

func TestLibraryView(t *testing.T) {
	g := mustNew(t, diamond())
	lib := g.Library()

	order, err := lib.Order()
	require.NoError(t, err)
	assert.Equal(t, 6, order)
	size, err := lib.Size()
	require.NoError(t, err)
	assert.Equal(t, 5, size)

	path, err := graph.ShortestPath(lib, "a", "e")
	require.NoError(t, err)
	assert.Len(t, path, 4)

	topo, err := graph.TopologicalSort(lib)
	require.NoError(t, err)
	assert.ElementsMatch(t, g.Names(), topo)

	e, err := lib.Edge("b", "d")
	require.NoError(t, err)
	assert.Equal(t, "b", e.Source.Name)
	_, err = lib.Edge("d", "b")
	assert.ErrorIs(t, err, graph.ErrEdgeNotFound)

	assert.ErrorIs(t, lib.AddVertex(v("new")), ErrReadOnly)
	assert.ErrorIs(t, lib.AddEdge("a", "f"), ErrReadOnly)
	assert.ErrorIs(t, lib.RemoveEdge("a", "b"), ErrReadOnly)
	assert.ErrorIs(t, lib.UpdateEdge("a", "b", graph.EdgeWeight(2)), ErrReadOnly)
	assert.ErrorIs(t, lib.RemoveVertex("f"), ErrReadOnly)
	assert.Equal(t, []string{"b", "c"}, g.Children("a"))
}

// TestStore exercises the graph.Store contract of an unfrozen store through
// the library.
func TestStore(t *testing.T) {
	st := loadStore(nil, nil)
	lib := graph.NewWithStore(vertexHash, graph.Store[string, Vertex](st), graph.Directed())

	require.NoError(t, lib.AddVertex(v("a")))
	require.NoError(t, lib.AddVertex(v("b"), graph.VertexAttribute("color", "red")))
	require.NoError(t, lib.AddVertex(v("c")))
	assert.ErrorIs(t, lib.AddVertex(v("a")), graph.ErrVertexAlreadyExists)

	_, props, err := lib.VertexWithProperties("b")
	require.NoError(t, err)
	assert.Equal(t, "red", props.Attributes["color"])
	_, err = lib.Vertex("zz")
	assert.ErrorIs(t, err, graph.ErrVertexNotFound)

	require.NoError(t, lib.AddEdge("a", "b"))
	require.NoError(t, lib.AddEdge("a", "c", graph.EdgeWeight(3)))
	assert.ErrorIs(t, lib.AddEdge("a", "b"), graph.ErrEdgeAlreadyExists)
	assert.ErrorIs(t, lib.AddEdge("a", "zz"), graph.ErrVertexNotFound)

	e, err := lib.Edge("a", "c")
	require.NoError(t, err)
	assert.Equal(t, 3, e.Properties.Weight)
	require.NoError(t, lib.UpdateEdge("a", "b", graph.EdgeAttribute("k", "v")))
	e, err = lib.Edge("a", "b")
	require.NoError(t, err)
	assert.Equal(t, "v", e.Properties.Attributes["k"])
	assert.ErrorIs(t, lib.UpdateEdge("b", "a"), graph.ErrEdgeNotFound)

	edges, err := lib.Edges()
	require.NoError(t, err)
	assert.Len(t, edges, 2)
	adj, err := lib.AdjacencyMap()
	require.NoError(t, err)
	assert.Len(t, adj["a"], 2)

	assert.ErrorIs(t, lib.RemoveVertex("a"), graph.ErrVertexHasEdges)
	require.NoError(t, lib.RemoveEdge("a", "b"))
	assert.ErrorIs(t, lib.RemoveEdge("a", "b"), graph.ErrEdgeNotFound)
	require.NoError(t, lib.RemoveVertex("b"))
	n, err := lib.Order()
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	list, err := st.ListVertices()
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "c"}, list)
	assert.ErrorIs(t, lib.RemoveVertex("b"), graph.ErrVertexNotFound)
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"abc", "abc", 0},
		{"stg_ordrs", "stg_orders", 1},
		{"stg_ordres", "stg_orders", 1}, // transposition
		{"orders", "ordesr", 1},
		{"kitten", "sitting", 3},
		{"", "abc", 3},
		{"ünïcode", "unicode", 2},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, editDistance(tt.a, tt.b, 100), "%q %q", tt.a, tt.b)
		assert.Equal(t, tt.want, editDistance(tt.b, tt.a, 100), "%q %q", tt.b, tt.a)
	}
	assert.GreaterOrEqual(t, editDistance("aaaaaa", "bbbbbb", 3), 3)

	names := []string{"orders", "stg_customers", "stg_orders"}
	assert.Equal(t, "stg_orders", closest("stg_ordrs", names))
	assert.Equal(t, "", closest("xyz", names))
	assert.Equal(t, "", closest("o", []string{"a"}), "no suggestion as long as the word")
}
