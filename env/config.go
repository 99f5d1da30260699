package env

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
)

// EnvironmentsFile is the project file that configures environments,
// principals and access, next to dbt_project.yml.
const EnvironmentsFile = "environments.yml"

// DataPolicy says what data an environment holds.
type DataPolicy string

// Data policies of the deployment strategy.
const (
	// DataFull is production's full data.
	DataFull DataPolicy = "full"
	// DataAnonymized is production data through the anonymize policy
	// (staging).
	DataAnonymized DataPolicy = "anonymized"
	// DataSample is a consistent sample of production (dev).
	DataSample DataPolicy = "sample"
)

// Settings configure one environment.
type Settings struct {
	// Name is the environment's name (dev, staging, production, ...).
	Name string `yaml:"-"`
	// Database is the DuckDB file, relative to the project's target path
	// when not absolute; default <name>.duckdb.
	Database string `yaml:"database"`
	// Threads and MemoryLimit are DuckDB's settings (0 / "" = defaults).
	Threads     int    `yaml:"threads"`
	MemoryLimit string `yaml:"memory_limit"`
	// Data is full, anonymized or sample.
	Data DataPolicy `yaml:"data"`
	// Refresh says where the data comes from and when (staging and dev).
	Refresh *Refresh `yaml:"refresh"`
	// Deploy constrains deployments.
	Deploy Deploy `yaml:"deploy"`
	// Retention of snapshots: keep_last publishes and keep_for time.
	Retention *RetentionConfig `yaml:"retention"`
}

// Refresh is how an environment's data is refreshed from another one.
type Refresh struct {
	// From is the environment copied (default production).
	From string `yaml:"from"`
	// Schedule is a cron expression for the scheduler ("" = manual).
	Schedule string `yaml:"schedule"`
	// Policy is the anonymize policy file (project-relative) for
	// anonymized data; default anonymize.yml.
	Policy string `yaml:"policy"`
	// Fraction, Seed and Root configure the sample for sample data: the
	// share of Root's rows kept (default customers), and everything that
	// references them.
	Fraction float64 `yaml:"fraction"`
	Seed     int64   `yaml:"seed"`
	Root     string  `yaml:"root"`
}

// Deploy constrains deployments to an environment.
type Deploy struct {
	// Approval requires an approval of the exact plan by a principal with
	// the approve action.
	Approval bool `yaml:"approval"`
	// Window names a time_intervals entry of schedules.yml: deploys start
	// only inside it.
	Window string `yaml:"window"`
	// PostDeployTests, when true (the default for environments needing
	// approval), runs every test against the published data after the
	// deploy and rolls back automatically if one fails.
	PostDeployTests *bool `yaml:"post_deploy_tests"`
}

// RetentionConfig is the YAML form of snapshot retention.
type RetentionConfig struct {
	KeepLast int           `yaml:"keep_last"`
	KeepFor  time.Duration `yaml:"keep_for"`
}

// PrincipalConfig lists a principal's groups and, optionally, the operating
// system accounts that may act as it.
type PrincipalConfig struct {
	Groups []string `yaml:"groups"`
	// OSUsers are the operating-system accounts allowed to act as this
	// principal on the command line. As soon as any principal lists some,
	// identities are checked: an account acts as the principal that lists
	// it, and may claim another one only if that one lists it too.
	OSUsers []string `yaml:"os_users"`
}

// Config is a project's environments.yml.
type Config struct {
	Environments map[string]*Settings `yaml:"environments"`
	// Principals map names to groups; the policy grants roles to both.
	Principals map[string]PrincipalConfig `yaml:"principals"`
	// Access replaces DefaultPolicy when set.
	Access *Policy `yaml:"access"`
	// File is where the config was read from ("" for the default).
	File string `yaml:"-"`
}

// DefaultConfig is the configuration without an environments.yml: a dev
// environment at <target>/dev.duckdb, where the local user is an analytics
// engineer.
func DefaultConfig() *Config {
	return &Config{Environments: map[string]*Settings{
		"dev": {Name: "dev", Data: DataSample},
	}}
}

// ParseConfig parses an environments.yml. Unknown keys, unknown data
// policies, roles or actions, refreshes from unknown environments and
// negative settings are errors naming the file (and line, for YAML
// errors).
func ParseConfig(data []byte, file string) (*Config, error) {
	var c Config
	if err := yaml.UnmarshalWithOptions(data, &c, yaml.Strict()); err != nil {
		return nil, fmt.Errorf("%s: %s", file, yaml.FormatError(err, false, true))
	}
	c.File = file
	if len(c.Environments) == 0 {
		return nil, fmt.Errorf("%s: no environments", file)
	}
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{file}, args...)...))
	}
	for _, name := range slices.Sorted(mapKeys(c.Environments)) {
		s := c.Environments[name]
		if s == nil {
			s = &Settings{}
			c.Environments[name] = s
		}
		s.Name = name
		if strings.ContainsAny(name, "/\\\"' ") || name == "" {
			bad("environment %q: a name may not contain quotes, spaces or path separators", name)
		}
		switch s.Data {
		case "":
			s.Data = DataFull
			if name == "dev" {
				s.Data = DataSample
			} else if name == "staging" {
				s.Data = DataAnonymized
			}
		case DataFull, DataAnonymized, DataSample:
		default:
			bad("environment %s: data %q: want full, anonymized or sample", name, s.Data)
		}
		if s.Threads < 0 {
			bad("environment %s: threads must not be negative", name)
		}
		if s.Refresh != nil {
			if s.Refresh.From == "" {
				s.Refresh.From = "production"
			}
			if _, ok := c.Environments[s.Refresh.From]; !ok || s.Refresh.From == name {
				bad("environment %s: refresh from %q: not another configured environment", name, s.Refresh.From)
			}
			if s.Refresh.Fraction < 0 || s.Refresh.Fraction > 1 {
				bad("environment %s: refresh fraction %g: want a share between 0 and 1", name, s.Refresh.Fraction)
			}
		}
		if s.Retention != nil && (s.Retention.KeepLast < 0 || s.Retention.KeepFor < 0) {
			bad("environment %s: retention must not be negative", name)
		}
	}
	if c.Access != nil {
		for i, g := range c.Access.Grants {
			if !g.Role.Valid() {
				bad("access grant %d: unknown role %q (want reader, qa, engineer, deployer, approver or admin)", i+1, g.Role)
			}
			if len(g.Environments) == 0 {
				bad("access grant %d: no environments (use [\"*\"] for all)", i+1)
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &c, nil
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// Environment returns the settings of the named environment, or an error
// listing the configured ones.
func (c *Config) Environment(name string) (*Settings, error) {
	if s, ok := c.Environments[name]; ok {
		return s, nil
	}
	where := "no environments.yml"
	if c.File != "" {
		where = c.File
	}
	return nil, fmt.Errorf("unknown environment %q (%s configures %s)", name, where, strings.Join(slices.Sorted(mapKeys(c.Environments)), ", "))
}

// Policy returns the access policy: the configured one or DefaultPolicy.
func (c *Config) Policy() *Policy {
	if c.Access != nil {
		return c.Access
	}
	return DefaultPolicy()
}

// Principal resolves a name to a principal with its configured groups;
// names not listed get the groups of the "*" entry, if any. Without an
// environments.yml (the out-of-the-box dev setup) every local user is an
// analytics engineer.
func (c *Config) Principal(name string) Principal {
	p := Principal{Name: name}
	if pc, ok := c.Principals[name]; ok {
		p.Groups = slices.Clone(pc.Groups)
	} else if pc, ok := c.Principals["*"]; ok {
		p.Groups = slices.Clone(pc.Groups)
	} else if c.File == "" {
		p.Groups = []string{"analytics-engineers"}
	}
	return p
}

// checksOSUsers reports whether any principal names its OS accounts.
func (c *Config) checksOSUsers() bool {
	for _, pc := range c.Principals {
		if len(pc.OSUsers) > 0 {
			return true
		}
	}
	return false
}

// Resolve says who the operating-system account osUser acts as, when it
// claims the principal claimed ("" for none). Without os_users in the
// config the claim is taken at its word (local development). With them,
// a claim is honoured only for a principal that lists osUser, and without
// a claim osUser acts as the principal listing it (else as itself).
func (c *Config) Resolve(claimed, osUser string) (Principal, error) {
	if !c.checksOSUsers() {
		if claimed == "" {
			claimed = osUser
		}
		return c.Principal(claimed), nil
	}
	if claimed != "" && claimed != osUser {
		if pc, ok := c.Principals[claimed]; ok && slices.Contains(pc.OSUsers, osUser) {
			return c.Principal(claimed), nil
		}
		return Principal{}, &DeniedError{Principal: osUser, Action: "act as " + Action(claimed),
			Reason: fmt.Sprintf("%s does not list OS user %s in its os_users", claimed, osUser)}
	}
	for _, name := range slices.Sorted(mapKeys(c.Principals)) {
		if name != "*" && slices.Contains(c.Principals[name].OSUsers, osUser) {
			return c.Principal(name), nil
		}
	}
	return c.Principal(osUser), nil
}

// NeedsPostDeployTests reports whether deploys to s run every test after
// publishing (and roll back when one fails).
func (s *Settings) NeedsPostDeployTests() bool {
	if s.Deploy.PostDeployTests != nil {
		return *s.Deploy.PostDeployTests
	}
	return s.Deploy.Approval
}
