package dag

import (
	"fmt"
	"strings"
)

// InvalidVertexError reports a vertex that cannot be part of a graph at all,
// such as one without a name.
type InvalidVertexError struct {
	// Index is the position of the vertex in the slice passed to New.
	Index int
	// Location is where the vertex was declared, if known.
	Location string
	// Reason says what is wrong.
	Reason string
}

// Error returns "[location: ]invalid node #i: reason".
func (e *InvalidVertexError) Error() string {
	msg := fmt.Sprintf("invalid node #%d: %s", e.Index, e.Reason)
	if e.Location != "" {
		return e.Location + ": " + msg
	}
	return msg
}

// DuplicateError reports a name used by more than one vertex.
type DuplicateError struct {
	Name string
	// Locations are where each definition came from (Vertex.Location, else
	// Vertex.Path, else "Go code"), in the order the vertices were given.
	Locations []string
}

// Error returns `duplicate node "x": defined in a and b`.
func (e *DuplicateError) Error() string {
	return fmt.Sprintf("duplicate node %q: defined in %s", e.Name, joinAnd(e.Locations))
}

// joinAnd joins items as "a", "a and b" or "a, b and c".
func joinAnd(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// UnknownDepError reports a dependency on a vertex that does not exist.
type UnknownDepError struct {
	// Node is the vertex that declares the dependency.
	Node string
	// Kind is the kind of Node ("model", "test", ...); "node" when unset.
	Kind string
	// Dep is the missing vertex.
	Dep string
	// Location is where the dependency was referenced ("models/x.sql:12"):
	// Vertex.DepLocations[Dep], else Vertex.Location, else Vertex.Path.
	Location string
	// Suggestion is the closest existing name (edit distance at most 2), or
	// "".
	Suggestion string
}

// Error returns `[location: ]kind "node" references unknown node "dep"`,
// followed by ` (did you mean "name"?)` when there is a suggestion.
func (e *UnknownDepError) Error() string {
	var b strings.Builder
	if e.Location != "" {
		b.WriteString(e.Location)
		b.WriteString(": ")
	}
	kind := e.Kind
	if kind == "" {
		kind = "node"
	}
	fmt.Fprintf(&b, "%s %q references unknown node %q", kind, e.Node, e.Dep)
	if e.Suggestion != "" {
		fmt.Fprintf(&b, " (did you mean %q?)", e.Suggestion)
	}
	return b.String()
}

// CycleError reports a dependency cycle.
type CycleError struct {
	// Cycle lists the vertices of the cycle in the direction data flows
	// (each vertex is a dependency of the next one), starting at the
	// lexicographically smallest name and ending with that name again. A
	// self-dependency is [a a].
	Cycle []string
}

// Error returns "dependency cycle: a → b → c → a".
func (e *CycleError) Error() string {
	return "dependency cycle: " + strings.Join(e.Cycle, " → ")
}

// UnknownNodeError reports a name that is not a vertex of the graph.
type UnknownNodeError struct {
	Name string
}

// Error returns `unknown node "name"`.
func (e *UnknownNodeError) Error() string {
	return fmt.Sprintf("unknown node %q", e.Name)
}

// SelectorError reports a selector that cannot be parsed.
type SelectorError struct {
	// Selector is the offending criterion as written ("foo:bar", "+tag:").
	Selector string
	// Method is the selector method involved, if any.
	Method string
	// Reason says what is wrong (`unknown selector method "foo"`).
	Reason string
}

// Error returns the reason and the selector, as in
// `unknown selector method "foo" in "foo:bar"`.
func (e *SelectorError) Error() string {
	return fmt.Sprintf("%s in %q", e.Reason, e.Selector)
}
