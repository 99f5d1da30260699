package demo

import (
	"embed"
	"io/fs"
)

// projectFiles holds the project folder; "all:" keeps files whose names
// start with "_" such as models/staging/_sources.yml.
//
//go:embed all:project
var projectFiles embed.FS

// Project returns the embedded dbt-style VyaparBazaar project, rooted at
// the folder that holds dbt_project.yml. It reads the raw schema that
// Generate writes.
func Project() fs.FS {
	sub, err := fs.Sub(projectFiles, "project")
	if err != nil {
		panic(err) // the embedded folder always exists
	}
	return sub
}
