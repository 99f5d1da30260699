// Package env defines where a pipeline's data lives: an Environment such as
// dev, staging or production. Backends implement it; env/duckenv is the
// DuckDB one.
package env

// Environment is where a pipeline's data lives (dev, staging, production).
type Environment interface {
	// Name returns the environment's name: "dev", "staging", "production"
	// or a custom one.
	Name() string
	// Close releases the environment's resources (database handles, locks,
	// scratch files). Using the environment after Close is an error.
	Close() error
}

// Kind is a well-known environment name. Environments may use other names;
// Kind only names the usual ones.
type Kind string

// The usual environments.
const (
	Dev        Kind = "dev"
	Staging    Kind = "staging"
	Production Kind = "production"
)

// String returns the kind's name.
func (k Kind) String() string { return string(k) }

// Known reports whether k is Dev, Staging or Production.
func (k Kind) Known() bool {
	switch k {
	case Dev, Staging, Production:
		return true
	}
	return false
}
