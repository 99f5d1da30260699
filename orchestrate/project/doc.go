// Package project loads a dbt-style project folder (dbt_project.yml, models,
// property files, sources, seeds, macros and singular tests) into an
// orchestrate.Pipeline, rendering its Jinja with gonja.
//
// Load reads a project from an fs.FS; FromModels makes one from models
// declared in Go. Either way the result is a *Project whose Nodes are the
// models, seeds, sources ("source_name.table_name") and data tests, with
// their dependencies, file:line of every ref, tags, layer, owner, priority
// and config.
//
// # Configuration
//
// A model's config is resolved like dbt's, lowest precedence first: the
// models: hierarchy of dbt_project.yml (its top level, the project's name,
// each folder, then the model's own name; keys with or without "+"), the
// config: of its property file entry, then the model's own config() calls.
// tags (and hooks) accumulate, meta merges, everything else is replaced.
// Seeds use the seeds: hierarchy, tests the data_tests: (or tests:) one.
// The dataops keys layer, owner, priority, critical and timeout (a Go
// duration or seconds) may be set as config or in meta.
//
// A custom schema is used as is; a project that defines
// generate_schema_name(custom_schema_name, node) gets its result instead.
//
// # Jinja
//
// Models, singular tests and the generated SQL of generic tests are
// rendered with ref (also ref('package', 'name') and ref('name', v=2)),
// source, config (and config.get), var (and var.has_var), env_var, this,
// target, is_incremental, return (in macros), log, exceptions,
// execute, model and every macro of the macro paths (including dbt's
// {% test %} blocks, which become test_<name> macros). Macro files are
// parsed once per load and bound once per worker, not per model.
//
// Load renders every model once with is_incremental() false, to find its
// refs and config; Model.Compile and Project.Compile render it again for a
// CompileState and inline ephemeral models as CTEs (__dbt__cte__name).
//
// # Data tests
//
// unique, not_null, accepted_values and relationships are built in, as are
// the dbt_utils tests unique_combination_of_columns, expression_is_true,
// accepted_range, not_constant, at_least_one and not_empty_string; other
// types need a {% test %} macro in the project. Each compiles to a query
// whose rows are failures.
//
// # Errors
//
// Load reports every problem it finds, joined with errors.Join; each is an
// *Error naming the file and line, whose Kind (ErrYAML, ErrJinja,
// ErrUndefinedVar, ...) can be tested with errors.Is. References to models
// that do not exist are not checked here: DepLocations says where each
// dependency was declared, for the DAG to report.
package project
