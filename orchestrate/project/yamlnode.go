package project

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

type ykind int

const (
	yScalar ykind = iota
	yMap
	ySeq
)

// ynode is a YAML value that remembers the line it was declared on.
type ynode struct {
	kind ykind
	line int
	keys []string
	m    map[string]*ynode
	seq  []*ynode
	val  any
}

// get returns the value of key in a mapping (nil if absent or not a map).
func (n *ynode) get(key string) *ynode {
	if n == nil || n.kind != yMap {
		return nil
	}
	return n.m[key]
}

func (n *ynode) isMap() bool { return n != nil && n.kind == yMap }
func (n *ynode) isSeq() bool { return n != nil && n.kind == ySeq }
func (n *ynode) isNull() bool {
	return n == nil || (n.kind == yScalar && n.val == nil)
}

// str returns a scalar's text ("" for null, maps and sequences).
func (n *ynode) str() string {
	if n == nil || n.kind != yScalar || n.val == nil {
		return ""
	}
	return scalarString(n.val)
}

// lineOr returns the node's line, or def when the node is nil.
func (n *ynode) lineOr(def int) int {
	if n == nil || n.line == 0 {
		return def
	}
	return n.line
}

// items returns a sequence's items (nil otherwise).
func (n *ynode) items() []*ynode {
	if n == nil || n.kind != ySeq {
		return nil
	}
	return n.seq
}

// toAny converts the node to plain Go values: map[string]any, []any and
// scalars.
func (n *ynode) toAny() any {
	if n == nil {
		return nil
	}
	switch n.kind {
	case yMap:
		out := make(map[string]any, len(n.keys))
		for _, k := range n.keys {
			out[k] = n.m[k].toAny()
		}
		return out
	case ySeq:
		out := make([]any, len(n.seq))
		for i, v := range n.seq {
			out[i] = v.toAny()
		}
		return out
	}
	return n.val
}

func (n *ynode) set(key string, v *ynode) {
	if _, ok := n.m[key]; !ok {
		n.keys = append(n.keys, key)
	}
	n.m[key] = v
}

// parseYAML parses a YAML file into a ynode tree. An empty file gives nil.
func parseYAML(path string, data []byte) (*ynode, error) {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, yamlError(path, err)
	}
	c := &yconv{anchors: map[string]*ynode{}}
	for _, doc := range f.Docs {
		if doc == nil || doc.Body == nil {
			continue
		}
		n, err := c.conv(doc.Body, 0)
		if err != nil {
			return nil, &Error{Path: path, Line: c.errLine, Kind: ErrYAML, Msg: err.Error()}
		}
		return n, nil
	}
	return nil, nil
}

func yamlError(path string, err error) error {
	var ye yaml.Error
	if errors.As(err, &ye) {
		line := 0
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			line = tk.Position.Line
		}
		return &Error{Path: path, Line: line, Kind: ErrYAML, Msg: ye.GetMessage(), Cause: err}
	}
	return &Error{Path: path, Kind: ErrYAML, Msg: err.Error(), Cause: err}
}

type yconv struct {
	anchors map[string]*ynode
	errLine int
	depth   int
}

func tokenLine(n ast.Node) int {
	if n == nil {
		return 0
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return 0
	}
	return tk.Position.Line
}

func (c *yconv) conv(n ast.Node, line int) (*ynode, error) {
	c.depth++
	defer func() { c.depth-- }()
	if c.depth > 200 {
		c.errLine = tokenLine(n)
		return nil, errors.New("YAML nested too deeply")
	}
	if n == nil {
		return &ynode{kind: yScalar, line: line}, nil
	}
	if line == 0 {
		line = tokenLine(n)
	}
	switch v := n.(type) {
	case *ast.DocumentNode:
		return c.conv(v.Body, line)
	case *ast.MappingNode:
		out := &ynode{kind: yMap, line: line, m: map[string]*ynode{}}
		for _, mv := range v.Values {
			if err := c.mappingValue(out, mv); err != nil {
				return nil, err
			}
		}
		return out, nil
	case *ast.MappingValueNode:
		out := &ynode{kind: yMap, line: tokenLine(v.Key), m: map[string]*ynode{}}
		if err := c.mappingValue(out, v); err != nil {
			return nil, err
		}
		return out, nil
	case *ast.SequenceNode:
		out := &ynode{kind: ySeq, line: line}
		for _, item := range v.Values {
			child, err := c.conv(item, tokenLine(item))
			if err != nil {
				return nil, err
			}
			out.seq = append(out.seq, child)
		}
		return out, nil
	case *ast.AnchorNode:
		child, err := c.conv(v.Value, line)
		if err != nil {
			return nil, err
		}
		if v.Name != nil {
			c.anchors[anchorName(v.Name)] = child
		}
		return child, nil
	case *ast.AliasNode:
		name := anchorName(v.Value)
		a, ok := c.anchors[name]
		if !ok {
			c.errLine = tokenLine(v)
			return nil, fmt.Errorf("unknown alias %q", name)
		}
		return a, nil
	case *ast.TagNode:
		child, err := c.conv(v.Value, line)
		if err != nil {
			return nil, err
		}
		if tk := v.Start; tk != nil && (tk.Value == "!!str" || tk.Value == "!str") && child.kind == yScalar && child.val != nil {
			child.val = scalarString(child.val)
		}
		return child, nil
	case *ast.LiteralNode:
		s := ""
		if v.Value != nil {
			s = v.Value.Value
		}
		return &ynode{kind: yScalar, line: line, val: s}, nil
	case *ast.StringNode:
		return &ynode{kind: yScalar, line: line, val: v.Value}, nil
	case *ast.NullNode:
		return &ynode{kind: yScalar, line: line}, nil
	case *ast.CommentNode, *ast.CommentGroupNode:
		return &ynode{kind: yScalar, line: line}, nil
	case ast.ScalarNode:
		return &ynode{kind: yScalar, line: line, val: v.GetValue()}, nil
	}
	c.errLine = tokenLine(n)
	return nil, fmt.Errorf("unsupported YAML node %s", n.Type())
}

func anchorName(n ast.Node) string {
	if s, ok := n.(*ast.StringNode); ok {
		return s.Value
	}
	return strings.TrimLeft(n.String(), "*&")
}

func (c *yconv) mappingValue(out *ynode, mv *ast.MappingValueNode) error {
	if mv == nil {
		return nil
	}
	keyLine := tokenLine(mv.Key)
	if mv.Key != nil && mv.Key.IsMergeKey() {
		val, err := c.conv(mv.Value, keyLine)
		if err != nil {
			return err
		}
		var srcs []*ynode
		if val.kind == ySeq {
			srcs = val.seq
		} else {
			srcs = []*ynode{val}
		}
		for _, s := range srcs {
			if s.kind != yMap {
				c.errLine = keyLine
				return errors.New("merge key << needs a mapping")
			}
			for _, k := range s.keys {
				if _, exists := out.m[k]; !exists {
					out.set(k, s.m[k])
				}
			}
		}
		return nil
	}
	key, err := c.keyString(mv.Key)
	if err != nil {
		c.errLine = keyLine
		return err
	}
	val, err := c.conv(mv.Value, keyLine)
	if err != nil {
		return err
	}
	if val.line == 0 || val.kind != yScalar {
		// Maps and sequences are located at their key.
		cp := *val
		cp.line = keyLine
		val = &cp
	}
	out.set(key, val)
	return nil
}

func (c *yconv) keyString(k ast.MapKeyNode) (string, error) {
	switch v := k.(type) {
	case nil:
		return "", nil
	case *ast.StringNode:
		return v.Value, nil
	case *ast.MappingKeyNode:
		n, err := c.conv(v.Value, 0)
		if err != nil {
			return "", err
		}
		return n.str(), nil
	case ast.ScalarNode:
		return scalarString(v.GetValue()), nil
	}
	return k.String(), nil
}

// scalarString formats a scalar value as text.
func scalarString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return fmt.Sprint(v)
}
