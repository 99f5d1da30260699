package orchestrate

import (
	"fmt"
	"slices"

	"github.com/vyaparbazaar/dataops/dag"
)

// Plan is a validated graph and a selection of its nodes in the order they
// may run.
type Plan struct {
	// Graph is the whole pipeline's validated graph.
	Graph *dag.Graph
	// Order is the selected nodes in topological order.
	Order []*Node
	// Unmatched lists selector criteria that matched no node.
	Unmatched []string
	byName    map[string]*Node
	// deps are the effective dependencies: declared ones plus, for dbt build
	// semantics, the data tests attached to a node's parents.
	deps map[string][]string
}

// Vertices converts nodes to the graph's vertices.
func Vertices(nodes []*Node) []dag.Vertex {
	vs := make([]dag.Vertex, len(nodes))
	for i, n := range nodes {
		vs[i] = dag.Vertex{
			Name: n.Name, Kind: string(n.Kind), Deps: n.Deps, DepLocations: n.DepLocations,
			Path: n.Path, Tags: n.Tags, Config: n.Config, TestOf: n.TestOf, Location: n.Path,
		}
	}
	return vs
}

// NewGraph validates the pipeline's nodes as a graph: duplicate names,
// unknown dependencies (with file and line) and cycles are errors.
func NewGraph(p Pipeline) (*dag.Graph, error) {
	return dag.New(Vertices(p.Nodes()))
}

// NewPlan validates the pipeline and selects nodes with dbt's selector
// grammar (empty selectors select everything).
func NewPlan(p Pipeline, selectors, exclude []string) (*Plan, error) {
	return NewPlanWith(p, dag.SelectOptions{Select: selectors, Exclude: exclude})
}

// NewPlanWith is NewPlan with every selection option, such as the previous
// run's results for `result:error+`.
func NewPlanWith(p Pipeline, opts dag.SelectOptions) (*Plan, error) {
	nodes := p.Nodes()
	g, err := dag.New(Vertices(nodes))
	if err != nil {
		return nil, err
	}
	sel, err := g.SelectWith(opts)
	if err != nil {
		return nil, err
	}
	plan := &Plan{Graph: g, Unmatched: sel.Unmatched, byName: make(map[string]*Node, len(nodes))}
	for _, n := range nodes {
		plan.byName[n.Name] = n
	}
	plan.Order = make([]*Node, 0, len(sel.Nodes))
	for _, name := range sel.Nodes {
		n, ok := plan.byName[name]
		if !ok {
			return nil, fmt.Errorf("selector returned unknown node %q", name)
		}
		plan.Order = append(plan.Order, n)
	}
	plan.deps = effectiveDeps(plan.Order)
	return plan, nil
}

// Node returns a node of the pipeline by name.
func (p *Plan) Node(name string) *Node { return p.byName[name] }

// effectiveDeps adds dbt build's edges: a child of model M also waits for
// the tests attached to M, unless that would make a cycle (a test that reads,
// directly or through other added edges, from the child itself).
func effectiveDeps(order []*Node) map[string][]string {
	selected := make(map[string]bool, len(order))
	for _, n := range order {
		selected[n.Name] = true
	}
	deps := make(map[string][]string, len(order))
	testsOf := map[string][]*Node{}
	children := map[string][]string{}
	for _, n := range order {
		deps[n.Name] = n.Deps
		for _, d := range n.Deps {
			children[d] = append(children[d], n.Name)
		}
		if n.Kind == KindTest && n.TestOf != "" && selected[n.TestOf] {
			testsOf[n.TestOf] = append(testsOf[n.TestOf], n)
		}
	}
	// reaches reports whether to is downstream of from over the edges so far.
	reaches := func(from, to string) bool {
		seen := map[string]bool{from: true}
		stack := []string{from}
		for len(stack) > 0 {
			cur := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, c := range children[cur] {
				if c == to {
					return true
				}
				if !seen[c] {
					seen[c] = true
					stack = append(stack, c)
				}
			}
		}
		return false
	}
	for _, n := range order {
		if n.Kind == KindTest {
			continue
		}
		var extra []string
		for _, parent := range n.Deps {
			for _, t := range testsOf[parent] {
				// A test with only its model as input cannot be downstream
				// of the model's child; others are checked.
				if len(t.Deps) > 1 && reaches(n.Name, t.Name) {
					continue
				}
				extra = append(extra, t.Name)
				children[t.Name] = append(children[t.Name], n.Name)
			}
		}
		if len(extra) > 0 {
			deps[n.Name] = append(slices.Clip(n.Deps), extra...)
		}
	}
	return deps
}

// Filter returns a copy of the plan with only the nodes keep accepts, in
// the same order. Dependencies on nodes filtered out are treated as already
// built.
func (p *Plan) Filter(keep func(*Node) bool) *Plan {
	out := *p
	out.Order = nil
	for _, n := range p.Order {
		if keep(n) {
			out.Order = append(out.Order, n)
		}
	}
	return &out
}
