package dashboard_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/vyaparbazaar/dataops/env"
	"github.com/vyaparbazaar/dataops/env/dashboard"
	"github.com/vyaparbazaar/dataops/env/duckenv"
	"github.com/vyaparbazaar/dataops/orchestrate/project"
)

// An embedding service mounts the dashboard as an http.Handler. Here a
// local dashboard acts as an analytics engineer (dev's administrator); a
// shared one sets Options.Auth (dashboard.LoadUsers) instead.
func ExampleNew() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "dashboard-")
	defer os.RemoveAll(dir)
	e, err := duckenv.Open(ctx, duckenv.Config{Path: filepath.Join(dir, "dev.duckdb")})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer e.Close()
	p, err := project.Load(ctx, shop(goodMart), project.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	me := env.DefaultConfig().Principal("asha")
	h, err := dashboard.New(dashboard.Options{
		Project:      p,
		Environments: []dashboard.Environment{{Name: "dev", Env: e}},
		Anonymous:    &me,
		Prefix:       "/ui",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	mux.Handle("/ui/", h)
	for _, path := range []string{"/ui/", "/ui/lineage?select=%2Bmart_sales", "/ui/models/mart_sales", "/ui/models/nope"} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		fmt.Println(path, rec.Code)
	}
	// Output:
	// /ui/ 200
	// /ui/lineage?select=%2Bmart_sales 200
	// /ui/models/mart_sales 200
	// /ui/models/nope 404
}
