package docsite

import (
	"cmp"
	"fmt"
	"html/template"
	"slices"
	"strings"

	"github.com/vyaparbazaar/dataops/orchestrate"
	"github.com/vyaparbazaar/dataops/orchestrate/project"
)

// Lineage picture geometry, in SVG user units.
const (
	boxW    = 200
	boxH    = 26
	colGap  = 70
	rowGap  = 8
	margin  = 12
	headerH = 22
	maxText = 28
)

// layerFill colours boxes by layer.
var layerFill = map[string]string{
	"sources":      "#eceff1",
	"seeds":        "#f3e5f5",
	"staging":      "#e3f2fd",
	"base":         "#e3f2fd",
	"intermediate": "#e8f5e9",
	"dimensions":   "#fff8e1",
	"facts":        "#fff3e0",
	"marts":        "#fce4ec",
	"reporting":    "#fce4ec",
	"ml_features":  "#ede7f6",
}

type svgBox struct {
	X, Y, W, H   int
	TX, TY       int
	Label, Title string
	Href, Fill   string
	Stroke       string
	StrokeW      int
	Name, Status string
}

type svgEdge struct {
	D      string
	Stroke string
}

type svgHeader struct {
	X, Y  int
	Label string
}

type svgData struct {
	W, H    int
	Boxes   []svgBox
	Edges   []svgEdge
	Headers []svgHeader
	Title   string
}

// lineage draws the lineage of the site's models, seeds and sources as an
// SVG: one column per topological depth (sources and seeds on the left,
// each node right of everything it reads), boxes linking to the node's page
// and coloured by layer, and a curve per dependency. With focus set it
// draws only that node, its ancestors and its descendants, the focus
// outlined, with links relative to a page one folder down. It returns the
// SVG and the number of edges.
func (s *site) lineage(focus string) ([]byte, int, error) {
	return s.draw(LineageOptions{Focus: focus})
}

// LineageOptions adapt the lineage picture to a live view (a dashboard).
type LineageOptions struct {
	// Focus draws only this node, its ancestors and its descendants, the
	// focus outlined.
	Focus string
	// Only, when not nil, draws only these nodes (a selection); it wins
	// over Focus's subset, Focus is still outlined.
	Only map[string]bool
	// Href returns a box's link (nil: the docs site's page).
	Href func(name string) string
	// Style returns a box's fill colour ("" keeps the layer's), a status
	// written as the box's data-status attribute, and a note added to its
	// tooltip.
	Style func(n *orchestrate.Node) (fill, status, note string)
	// Title names the picture (default "Lineage").
	Title string
}

// Lineage draws the project's models, seeds and sources as an SVG picture,
// laid out as the docs site's lineage (one column per topological depth),
// with opts' selection, links and colours. Boxes carry data-node (and
// data-status) attributes.
func Lineage(p *project.Project, opts LineageOptions) ([]byte, error) {
	out, _, err := newSite(p, Options{}).draw(opts)
	return out, err
}

func (s *site) draw(opts LineageOptions) ([]byte, int, error) {
	focus := opts.Focus
	root := ""
	subset := map[*item]bool{}
	switch {
	case opts.Only != nil:
		for _, it := range s.items {
			if opts.Only[it.Node.Name] {
				subset[it] = true
			}
		}
	case focus == "":
		for _, it := range s.items {
			subset[it] = true
		}
	default:
		if opts.Href == nil {
			root = "../"
		}
		f := s.by[focus]
		if f == nil {
			return nil, 0, fmt.Errorf("docs: no node %q", focus)
		}
		var walk func(it *item, up bool)
		walk = func(it *item, up bool) {
			next := it.Down
			if up {
				next = it.Up
			}
			for _, n := range next {
				if !subset[n] {
					subset[n] = true
					walk(n, up)
				}
			}
		}
		subset[f] = true
		walk(f, true)
		walk(f, false)
	}
	if len(subset) == 0 {
		return nil, 0, fmt.Errorf("lineage: the selection draws no model, seed or source")
	}
	// Columns by depth, compressed.
	var depths []int
	for it := range subset {
		if !slices.Contains(depths, it.Depth) {
			depths = append(depths, it.Depth)
		}
	}
	slices.Sort(depths)
	cols := make([][]*item, len(depths))
	for _, it := range s.items {
		if subset[it] {
			c := slices.Index(depths, it.Depth)
			cols[c] = append(cols[c], it)
		}
	}
	// Order: the first column by layer and name, the others by the mean
	// row of their parents (fewer crossings), then by name.
	row := map[*item]float64{}
	for c, col := range cols {
		key := map[*item]float64{}
		for _, it := range col {
			if c == 0 {
				continue
			}
			sum, n := 0.0, 0
			for _, up := range it.Up {
				if subset[up] {
					sum += row[up]
					n++
				}
			}
			if n > 0 {
				key[it] = sum / float64(n)
			}
		}
		slices.SortStableFunc(col, func(a, b *item) int {
			if c == 0 {
				return cmp.Or(cmp.Compare(layerRank(a.Node.Layer), layerRank(b.Node.Layer)), cmp.Compare(a.Node.Name, b.Node.Name))
			}
			return cmp.Or(cmp.Compare(key[a], key[b]), cmp.Compare(a.Node.Name, b.Node.Name))
		})
		for r, it := range col {
			row[it] = float64(r)
		}
	}
	d := svgData{Title: "Lineage"}
	if opts.Title != "" {
		d.Title = opts.Title
	} else if focus != "" {
		d.Title = "Lineage of " + focus
	}
	pos := map[*item][2]int{}
	maxRows := 0
	for c, col := range cols {
		x := margin + c*(boxW+colGap)
		var layers []string
		for r, it := range col {
			y := margin + headerH + r*(boxH+rowGap)
			pos[it] = [2]int{x, y}
			label := it.Node.Name
			if len(label) > maxText {
				label = label[:maxText-1] + "…"
			}
			fill := layerFill[it.Node.Layer]
			if fill == "" {
				fill = "#ffffff"
			}
			b := svgBox{X: x, Y: y, W: boxW, H: boxH, TX: x + 8, TY: y + boxH/2 + 4, Label: label, Name: it.Node.Name,
				Title: it.Kind + " " + it.Node.Name + layerSuffix(it.Node.Layer), Href: root + it.Href, Fill: fill, Stroke: "#607d8b", StrokeW: 1}
			if opts.Href != nil {
				b.Href = opts.Href(it.Node.Name)
			}
			if opts.Style != nil {
				f, status, note := opts.Style(it.Node)
				if f != "" {
					b.Fill = f
				}
				b.Status = status
				if note != "" {
					b.Title += ": " + note
				}
			}
			if it.Node.Name == focus {
				b.Stroke, b.StrokeW = "#d81b60", 3
			}
			d.Boxes = append(d.Boxes, b)
			if l := it.Node.Layer; l != "" && !slices.Contains(layers, l) {
				layers = append(layers, l)
			}
		}
		maxRows = max(maxRows, len(col))
		d.Headers = append(d.Headers, svgHeader{X: x, Y: margin + 14, Label: headerLabel(layers)})
	}
	for _, it := range s.items {
		if !subset[it] {
			continue
		}
		to := pos[it]
		for _, up := range it.Up {
			if !subset[up] {
				continue
			}
			from := pos[up]
			x1, y1 := from[0]+boxW, from[1]+boxH/2
			x2, y2 := to[0], to[1]+boxH/2
			stroke := "#90a4ae"
			if focus != "" && (it.Node.Name == focus || up.Node.Name == focus) {
				stroke = "#d81b60"
			}
			d.Edges = append(d.Edges, svgEdge{
				D:      fmt.Sprintf("M%d %d C%d %d, %d %d, %d %d", x1, y1, x1+colGap/2, y1, x2-colGap/2, y2, x2, y2),
				Stroke: stroke,
			})
		}
	}
	d.W = 2*margin + len(cols)*boxW + max(len(cols)-1, 0)*colGap
	d.H = 2*margin + headerH + maxRows*(boxH+rowGap)
	out, err := s.render(svgTmpl, d)
	return out, len(d.Edges), err
}

func layerSuffix(l string) string {
	if l == "" {
		return ""
	}
	return " (" + l + ")"
}

func headerLabel(layers []string) string {
	slices.SortFunc(layers, func(a, b string) int { return cmp.Compare(layerRank(a), layerRank(b)) })
	s := strings.Join(layers, ", ")
	if len(s) > maxText+4 {
		s = s[:maxText+3] + "…"
	}
	return s
}

var svgTmpl = template.Must(template.New("svg").Parse(`<svg xmlns="http://www.w3.org/2000/svg" width="{{.W}}" height="{{.H}}" viewBox="0 0 {{.W}} {{.H}}" role="img" aria-label="{{.Title}}" font-family="sans-serif" font-size="12">
<title>{{.Title}}</title>
{{- range .Headers}}
<text x="{{.X}}" y="{{.Y}}" fill="#455a64" font-weight="bold">{{.Label}}</text>
{{- end}}
{{- range .Edges}}
<path d="{{.D}}" fill="none" stroke="{{.Stroke}}" stroke-width="1.2"/>
{{- end}}
{{- range .Boxes}}
<a href="{{.Href}}" data-node="{{.Name}}"{{if .Status}} data-status="{{.Status}}"{{end}}><title>{{.Title}}</title><rect x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}" rx="4" fill="{{.Fill}}" stroke="{{.Stroke}}" stroke-width="{{.StrokeW}}"/><text x="{{.TX}}" y="{{.TY}}" fill="#263238">{{.Label}}</text></a>
{{- end}}
</svg>
`))
