package project

import (
	"errors"
	"fmt"
	"strconv"
)

// Error categories. Every *Error wraps one of them, so callers can test for a
// kind of problem with errors.Is.
var (
	// ErrYAML is a malformed YAML file.
	ErrYAML = errors.New("invalid YAML")
	// ErrJinja is a Jinja syntax or rendering error.
	ErrJinja = errors.New("jinja error")
	// ErrUndefinedVar is a var() without a value and without a default.
	ErrUndefinedVar = errors.New("undefined var")
	// ErrMissingEnvVar is an env_var() that is not set and has no default.
	ErrMissingEnvVar = errors.New("missing env var")
	// ErrUnknownTest is a data test of an unknown type.
	ErrUnknownTest = errors.New("unknown test type")
	// ErrInvalidTest is a malformed data test declaration (such as a
	// relationships test without to).
	ErrInvalidTest = errors.New("invalid test")
	// ErrMissingNode is a data test attached to a model, seed or source
	// that does not exist.
	ErrMissingNode = errors.New("missing node")
	// ErrDuplicate is two resources with the same name.
	ErrDuplicate = errors.New("duplicate name")
	// ErrConfig is an invalid configuration value.
	ErrConfig = errors.New("invalid config")
	// ErrProject is a missing or invalid dbt_project.yml.
	ErrProject = errors.New("invalid project")
)

// Error is a problem found while loading a project, located in a file.
// Its message reads "path:line: message".
type Error struct {
	// Path is the project-relative file ("" when not file-bound).
	Path string
	// Line is the 1-based line in Path (0 when unknown).
	Line int
	// Kind is one of the Err* categories.
	Kind error
	// Msg describes the problem.
	Msg string
	// Cause is the underlying error, if any.
	Cause error
}

// Error returns "path:line: msg".
func (e *Error) Error() string {
	loc := e.Location()
	if loc == "" {
		return e.Msg
	}
	return loc + ": " + e.Msg
}

// Location returns "path:line", "path" or "".
func (e *Error) Location() string {
	if e.Path == "" {
		return ""
	}
	if e.Line > 0 {
		return e.Path + ":" + strconv.Itoa(e.Line)
	}
	return e.Path
}

// Unwrap returns the error's kind and cause.
func (e *Error) Unwrap() []error {
	var out []error
	if e.Kind != nil {
		out = append(out, e.Kind)
	}
	if e.Cause != nil {
		out = append(out, e.Cause)
	}
	return out
}

func newErr(kind error, path string, line int, format string, args ...any) *Error {
	return &Error{Path: path, Line: line, Kind: kind, Msg: fmt.Sprintf(format, args...)}
}
