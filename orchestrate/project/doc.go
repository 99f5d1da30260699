// Package project loads a dbt-style project folder (dbt_project.yml, models,
// property files, sources, seeds, macros and singular tests) into an
// orchestrate.Pipeline, rendering its Jinja with gonja.
package project
