package docsite

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vyaparbazaar/dataops/orchestrate/project"
)

func load(t *testing.T, files map[string]string) *project.Project {
	t.Helper()
	fsys := fstest.MapFS{}
	for k, v := range files {
		fsys[k] = &fstest.MapFile{Data: []byte(v)}
	}
	p, err := project.Load(context.Background(), fsys, project.Options{})
	require.NoError(t, err)
	return p
}

// shop has a source with freshness, a seed, a staging model, a mart, and
// text that must be escaped (<script>, quotes, ampersands).
func shop() map[string]string {
	return map[string]string{
		"dbt_project.yml": "name: shop\nversion: '1.0'\nmodels:\n  shop:\n    marts:\n      +materialized: table\n      +meta:\n        owner: finance & <ops>\n",
		"models/staging/_sources.yml": `version: 2
sources:
  - name: raw
    loaded_at_field: _loaded_at
    freshness:
      warn_after: {count: 2, period: hour}
      error_after: {count: 1, period: day}
    tables:
      - name: orders
        description: Orders from the shop <b>database</b>.
        columns:
          - name: id
            data_type: integer
            data_tests: [unique, not_null]
`,
		"seeds/regions.csv":             "customer_id,region\n1,west\n",
		"models/staging/stg_orders.sql": "select id as order_id, customer_id, amount, '<script>alert(1)</script>' as note\nfrom {{ source('raw', 'orders') }}\n",
		"models/marts/mart_sales.sql":   "select o.order_id, r.region, o.amount\nfrom {{ ref('stg_orders') }} o\njoin {{ ref('regions') }} r using (customer_id)\n",
		"models/marts/schema.yml": `version: 2
models:
  - name: mart_sales
    description: "Sales by region: \"quoted\" & <escaped>."
    columns:
      - name: order_id
        description: Primary key.
        data_tests: [unique, not_null]
      - name: region
        data_tests:
          - accepted_values:
              values: [west, north]
`,
	}
}

// parsePage parses an HTML page as XML (the site writes well-formed
// markup) and returns its text and every href and src.
func parsePage(t *testing.T, path string) (text string, links []string) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	d := xml.NewDecoder(strings.NewReader(string(data)))
	d.Strict = true
	var b strings.Builder
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "%s is not well-formed", path)
		switch x := tok.(type) {
		case xml.StartElement:
			require.NotEqual(t, "script", strings.ToLower(x.Name.Local), "%s has a script element", path)
			for _, a := range x.Attr {
				if a.Name.Local == "href" || a.Name.Local == "src" {
					links = append(links, a.Value)
				}
			}
		case xml.CharData:
			b.Write(x)
		}
	}
	return b.String(), links
}

// checkSite parses every page of the site and checks that every link is
// relative and points at a file that exists.
func checkSite(t *testing.T, dir string) map[string]string {
	t.Helper()
	texts := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		if d.IsDir() || !(strings.HasSuffix(p, ".html") || strings.HasSuffix(p, ".svg")) {
			return nil
		}
		text, links := parsePage(t, p)
		rel, _ := filepath.Rel(dir, p)
		texts[filepath.ToSlash(rel)] = text
		for _, l := range links {
			u, err := url.Parse(l)
			require.NoError(t, err, l)
			require.Empty(t, u.Scheme, "%s links outside the site: %s", rel, l)
			require.Empty(t, u.Host, "%s links outside the site: %s", rel, l)
			target := filepath.Join(filepath.Dir(p), filepath.FromSlash(u.Path))
			_, err = os.Stat(target)
			require.NoError(t, err, "%s links to a missing file: %s", rel, l)
		}
		return nil
	}))
	return texts
}

func TestWriteSite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "target", "docs")
	when := time.Date(2025, 6, 30, 12, 0, 0, 0, time.UTC)
	st, err := Write(t.Context(), load(t, shop()), dir, Options{Generated: when})
	require.NoError(t, err)
	assert.Equal(t, Stats{Pages: 5, Models: 2, Sources: 1, Seeds: 1, Edges: 3}, st)

	texts := checkSite(t, dir)
	require.Contains(t, texts, "index.html")
	require.Contains(t, texts, "models/mart_sales.html")
	require.Contains(t, texts, "models/stg_orders.html")
	require.Contains(t, texts, "sources/raw.orders.html")
	require.Contains(t, texts, "seeds/regions.html")
	require.Contains(t, texts, "lineage.svg")

	mart := texts["models/mart_sales.html"]
	assert.Contains(t, mart, `Sales by region: "quoted" & <escaped>.`)
	assert.Contains(t, mart, "finance & <ops>")
	assert.Contains(t, mart, "marts")
	assert.Contains(t, mart, "table")
	assert.Contains(t, mart, "Primary key.")
	assert.Contains(t, mart, "not_null, unique")
	assert.NotContains(t, mart, "Priority")
	assert.Contains(t, mart, "accepted_values ([west north])")
	assert.Contains(t, mart, `join "main"."regions" r using (customer_id)`)
	assert.Contains(t, mart, "2025-06-30T12:00:00Z")

	// The staging model's SQL holds a script tag: it is text, not markup
	// (parsePage refuses script elements).
	assert.Contains(t, texts["models/stg_orders.html"], "<script>alert(1)</script>")

	src := texts["sources/raw.orders.html"]
	assert.Contains(t, src, "_loaded_at")
	assert.Contains(t, src, "2h0m0s")
	assert.Contains(t, src, "24h0m0s")
	assert.Contains(t, src, "Orders from the shop <b>database</b>.")

	// Upstream and downstream links.
	raw, err := os.ReadFile(filepath.Join(dir, "models", "stg_orders.html"))
	require.NoError(t, err)
	assert.Contains(t, string(raw), `href="../sources/raw.orders.html"`)
	assert.Contains(t, string(raw), `href="../models/mart_sales.html"`)

	// The lineage picture has a box per node and links to every page.
	svg, err := os.ReadFile(filepath.Join(dir, "lineage.svg"))
	require.NoError(t, err)
	assert.Equal(t, 4, strings.Count(string(svg), "<rect "))
	assert.Equal(t, 3, strings.Count(string(svg), "<path "))
	for _, page := range []string{"models/mart_sales.html", "models/stg_orders.html", "sources/raw.orders.html", "seeds/regions.html"} {
		assert.Contains(t, string(svg), `href="`+page+`"`)
	}
	// Columns left to right: the source and the seed, then staging, then
	// the mart.
	x := func(name string) string {
		i := strings.Index(string(svg), ">"+name+"</text>")
		require.Positive(t, i, name)
		j := strings.LastIndex(string(svg)[:i], `<text x="`)
		return string(svg)[j+9 : j+9+strings.IndexByte(string(svg)[j+9:], '"')]
	}
	assert.Equal(t, x("raw.orders"), x("regions"))
	assert.NotEqual(t, x("raw.orders"), x("stg_orders"))
	assert.NotEqual(t, x("stg_orders"), x("mart_sales"))
}

func TestWriteReplacesOldSiteAndKeepsItOnFailure(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "docs")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "models"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "models", "gone.html"), []byte("old"), 0o644))
	_, err := Write(t.Context(), load(t, shop()), dir, Options{})
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(dir, "models", "gone.html"))
	assert.True(t, os.IsNotExist(err), "pages of models that no longer exist are removed")

	// A cancelled write leaves the previous site as it was.
	before, err := os.ReadFile(filepath.Join(dir, "index.html"))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = Write(ctx, load(t, shop()), dir, Options{Title: "changed"})
	require.ErrorIs(t, err, context.Canceled)
	after, err := os.ReadFile(filepath.Join(dir, "index.html"))
	require.NoError(t, err)
	assert.Equal(t, string(before), string(after))
	entries, err := os.ReadDir(filepath.Dir(dir))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no scratch folder is left behind")
}
