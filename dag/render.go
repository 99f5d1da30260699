package dag

import (
	"strconv"
	"strings"
)

// DOT returns the graph in Graphviz DOT format: one statement per vertex
// (shaped by kind, with its kind as class) and one edge per dependency,
// pointing from the dependency to the dependent. Vertices and edges are
// sorted by name, so the output is deterministic. Render a selection with
// g.Subgraph(names) first.
func (g *Graph) DOT() string {
	var b strings.Builder
	b.WriteString("digraph dag {\n\trankdir=LR;\n\tnode [shape=box];\n")
	for i, name := range g.st.names {
		kind := g.st.verts[i].Kind
		b.WriteString("\t")
		b.WriteString(dotQuote(name))
		b.WriteString(" [shape=")
		b.WriteString(dotShape(kind))
		if kind != "" {
			b.WriteString(", class=")
			b.WriteString(dotQuote(kind))
		}
		b.WriteString("];\n")
	}
	for i, targets := range g.st.out {
		for _, j := range targets {
			b.WriteString("\t")
			b.WriteString(dotQuote(g.st.names[i]))
			b.WriteString(" -> ")
			b.WriteString(dotQuote(g.st.names[j]))
			b.WriteString(";\n")
		}
	}
	b.WriteString("}\n")
	return b.String()
}

func dotShape(kind string) string {
	switch kind {
	case KindSeed:
		return "note"
	case KindSource:
		return "cylinder"
	case KindTest:
		return "diamond"
	case KindTask:
		return "hexagon"
	}
	return "box"
}

// dotQuote returns s as a DOT double-quoted string.
func dotQuote(s string) string {
	if !strings.ContainsAny(s, "\"\\\n") {
		return `"` + s + `"`
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

// Mermaid returns the graph as a Mermaid flowchart (left to right): one node
// per vertex, shaped by kind and labelled with its name, and one arrow per
// dependency, from the dependency to the dependent. Node ids are the names
// made safe for Mermaid. The output is deterministic.
func (g *Graph) Mermaid() string {
	ids := mermaidIDs(g.st.names)
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	for i, name := range g.st.names {
		open, closing := mermaidShape(g.st.verts[i].Kind)
		b.WriteString("    ")
		b.WriteString(ids[i])
		b.WriteString(open)
		b.WriteString(`"`)
		b.WriteString(mermaidEscape(name))
		b.WriteString(`"`)
		b.WriteString(closing)
		b.WriteString("\n")
	}
	for i, targets := range g.st.out {
		for _, j := range targets {
			b.WriteString("    ")
			b.WriteString(ids[i])
			b.WriteString(" --> ")
			b.WriteString(ids[j])
			b.WriteString("\n")
		}
	}
	return b.String()
}

func mermaidShape(kind string) (string, string) {
	switch kind {
	case KindSeed:
		return "[/", "/]"
	case KindSource:
		return "[(", ")]"
	case KindTest:
		return "{{", "}}"
	case KindTask:
		return "([", "])"
	}
	return "[", "]"
}

func mermaidEscape(s string) string {
	return strings.NewReplacer(`"`, "#quot;", "\n", " ").Replace(s)
}

// mermaidReserved are words Mermaid does not accept as node ids.
var mermaidReserved = map[string]bool{
	"end": true, "graph": true, "subgraph": true, "flowchart": true, "style": true,
	"class": true, "classDef": true, "click": true, "linkStyle": true, "direction": true,
	"call": true, "href": true, "default": true,
}

// mermaidIDs returns a unique Mermaid-safe id for each name: the name with
// every character outside [A-Za-z0-9_] replaced by '_', suffixed when that
// collides or is reserved.
func mermaidIDs(names []string) []string {
	ids := make([]string, len(names))
	used := make(map[string]bool, len(names))
	for i, name := range names {
		id := []byte(name)
		for k, c := range id {
			if !(c == '_' || isDigit(c) || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')) {
				id[k] = '_'
			}
		}
		s := string(id)
		if mermaidReserved[s] || mermaidReserved[strings.ToLower(s)] {
			s += "_"
		}
		base := s
		for n := 2; used[s]; n++ {
			s = base + "_" + strconv.Itoa(n)
		}
		used[s] = true
		ids[i] = s
	}
	return ids
}
