package docsite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing/fstest"

	"github.com/vyaparbazaar/dataops/internal/docsite"
	"github.com/vyaparbazaar/dataops/orchestrate/project"
)

// Write renders a project's documentation into a folder that opens from
// disk.
func ExampleWrite() {
	fsys := fstest.MapFS{
		"dbt_project.yml":       {Data: []byte("name: shop\nversion: '1.0'\n")},
		"seeds/regions.csv":     {Data: []byte("id,name\n1,west\n")},
		"models/stg_region.sql": {Data: []byte("select id as region_id, name from {{ ref('regions') }}\n")},
	}
	ctx := context.Background()
	p, err := project.Load(ctx, fsys, project.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	dir, err := os.MkdirTemp("", "docs-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	st, err := docsite.Write(ctx, p, filepath.Join(dir, "docs"), docsite.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d pages, %d models, %d seeds, %d edges\n", st.Pages, st.Models, st.Seeds, st.Edges)
	_, err = os.Stat(filepath.Join(dir, "docs", "models", "stg_region.html"))
	fmt.Println(err == nil)
	// Output:
	// 3 pages, 1 models, 1 seeds, 1 edges
	// true
}
