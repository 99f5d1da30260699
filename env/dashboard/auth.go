package dashboard

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
	"golang.org/x/crypto/bcrypt"

	"github.com/vyaparbazaar/dataops/env"
)

// Authenticator checks a user's name and password and says who they are.
// The dashboard asks for HTTP basic credentials and passes them here; any
// user store (a users file, a PostgreSQL-protocol server's users) can be
// plugged in.
type Authenticator interface {
	// Authenticate returns the principal (name and groups) for valid
	// credentials, and an error matching ErrBadCredentials otherwise.
	Authenticate(ctx context.Context, user, password string) (env.Principal, error)
}

// ErrBadCredentials is returned for an unknown user or a wrong password
// (which of the two is not said).
var ErrBadCredentials = errors.New("dashboard: unknown user or wrong password")

// Users is an Authenticator over bcrypt password hashes, with each user's
// groups from the environments' principals (env.Config.Principal).
type Users struct {
	hashes    map[string][]byte
	principal func(name string) env.Principal
	dummy     []byte
}

// NewUsers returns an Authenticator for the users and their bcrypt hashes;
// cfg resolves each user's groups (nil: env.DefaultConfig). A hash that is
// not bcrypt is an error naming the user.
func NewUsers(hashes map[string]string, cfg *env.Config) (*Users, error) {
	if cfg == nil {
		cfg = env.DefaultConfig()
	}
	u := &Users{hashes: map[string][]byte{}, principal: cfg.Principal}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(hashes)) {
		h := []byte(strings.TrimSpace(hashes[name]))
		if _, err := bcrypt.Cost(h); err != nil {
			errs = append(errs, fmt.Errorf("user %q: password hash is not a bcrypt hash ($2a$/$2b$/$2y$…)", name))
			continue
		}
		u.hashes[name] = h
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	// A fixed hash compared for unknown users, so that a wrong name takes
	// as long as a wrong password.
	u.dummy, _ = bcrypt.GenerateFromPassword([]byte("dataops-dashboard-dummy"), bcrypt.MinCost)
	return u, nil
}

// usersFile is the YAML form read by LoadUsers.
type usersFile struct {
	Users map[string]string `yaml:"users"`
}

// LoadUsers reads a users file:
//
//	users:
//	  dba: "$2a$10$…"        # bcrypt hash (htpasswd -nbB, or bcrypt.GenerateFromPassword)
//	  ravi: "$2a$10$…"
//
// Errors name the file (and line, for YAML errors) and the user.
func LoadUsers(path string, cfg *env.Config) (*Users, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("users file: %w", err)
	}
	var f usersFile
	if err := yaml.UnmarshalWithOptions(data, &f, yaml.Strict()); err != nil {
		return nil, fmt.Errorf("%s: %s", path, yaml.FormatError(err, false, true))
	}
	if len(f.Users) == 0 {
		return nil, fmt.Errorf("%s: no users", path)
	}
	u, err := NewUsers(f.Users, cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return u, nil
}

// Authenticate implements Authenticator.
func (u *Users) Authenticate(_ context.Context, user, password string) (env.Principal, error) {
	h, ok := u.hashes[user]
	if !ok {
		_ = bcrypt.CompareHashAndPassword(u.dummy, []byte(password))
		return env.Principal{}, ErrBadCredentials
	}
	if bcrypt.CompareHashAndPassword(h, []byte(password)) != nil {
		return env.Principal{}, ErrBadCredentials
	}
	return u.principal(user), nil
}
