package pgserve

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/goccy/go-yaml"
	"golang.org/x/crypto/bcrypt"

	"github.com/vyaparbazaar/dataops/env"
)

// ErrBadCredentials is matched by the error Users.Authenticate returns for
// an unknown user or a wrong password (the two are not told apart).
var ErrBadCredentials = errors.New("invalid user name or password")

// User is one account of a users file: a name, a bcrypt hash of its
// password and the groups the access policy grants roles to.
type User struct {
	Name string `yaml:"name"`
	// PasswordHash is a bcrypt hash ($2a$/$2b$/$2y$), as printed by
	// `vyaparbazaar users hash`. Passwords are never stored in clear.
	PasswordHash string   `yaml:"password_hash"`
	Groups       []string `yaml:"groups"`
}

// Users authenticates principals against a list of users with bcrypt
// password hashes. The zero value has no users and refuses everyone.
type Users struct {
	byName map[string]User
	// dummy is compared against for unknown users, so that an unknown
	// name takes as long as a wrong password; made on first use with the
	// users' highest cost.
	cost      int
	dummyOnce sync.Once
	dummy     []byte
}

// Authenticator checks a user name and password and returns the
// principal they identify. Users implements it; a service may plug in its
// own (LDAP, an identity provider).
type Authenticator interface {
	Authenticate(ctx context.Context, user, password string) (env.Principal, error)
}

var _ Authenticator = (*Users)(nil)

// NewUsers checks the users (names unique and non-empty, hashes valid
// bcrypt) and returns them as an Authenticator.
func NewUsers(users []User) (*Users, error) {
	u := &Users{byName: make(map[string]User, len(users))}
	var errs []error
	cost := bcrypt.MinCost
	for i, x := range users {
		switch {
		case x.Name == "":
			errs = append(errs, fmt.Errorf("user %d: name is empty", i+1))
			continue
		case u.byName[x.Name].Name != "":
			errs = append(errs, fmt.Errorf("user %q: defined twice", x.Name))
			continue
		}
		c, err := bcrypt.Cost([]byte(x.PasswordHash))
		if err != nil {
			errs = append(errs, fmt.Errorf("user %q: password_hash is not a bcrypt hash (make one with `vyaparbazaar users hash`)", x.Name))
			continue
		}
		cost = max(cost, c)
		u.byName[x.Name] = x
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	u.cost = cost
	return u, nil
}

// usersFile is the YAML form of a users file.
type usersFile struct {
	Users []User `yaml:"users"`
}

// LoadUsers reads a users file:
//
//	users:
//	  - name: asha
//	    password_hash: $2a$10$...   # vyaparbazaar users hash
//	    groups: [business-users]
//
// Errors name the file (and the line, for YAML errors).
func LoadUsers(path string) (*Users, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	return ParseUsers(data, path)
}

// ParseUsers parses the contents of a users file; name is used in errors.
func ParseUsers(data []byte, name string) (*Users, error) {
	var f usersFile
	if err := yaml.UnmarshalWithOptions(data, &f, yaml.Strict()); err != nil {
		return nil, fmt.Errorf("%s: %s", name, yaml.FormatError(err, false, true))
	}
	u, err := NewUsers(f.Users)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return u, nil
}

// Authenticate implements Authenticator. The password is compared with
// bcrypt and never logged or returned.
func (u *Users) Authenticate(_ context.Context, user, password string) (env.Principal, error) {
	if u == nil || u.byName == nil {
		return env.Principal{}, ErrBadCredentials
	}
	x, ok := u.byName[user]
	if !ok {
		u.dummyOnce.Do(func() {
			u.dummy, _ = bcrypt.GenerateFromPassword([]byte("dataops-no-such-user"), max(u.cost, bcrypt.MinCost))
		})
		_ = bcrypt.CompareHashAndPassword(u.dummy, []byte(password))
		return env.Principal{}, ErrBadCredentials
	}
	if bcrypt.CompareHashAndPassword([]byte(x.PasswordHash), []byte(password)) != nil {
		return env.Principal{}, ErrBadCredentials
	}
	return env.Principal{Name: x.Name, Groups: append([]string(nil), x.Groups...)}, nil
}

// List returns the users by name, without their password hashes.
func (u *Users) List() []User {
	var out []User
	for _, x := range u.byName {
		out = append(out, User{Name: x.Name, Groups: slices.Clone(x.Groups)})
	}
	slices.SortFunc(out, func(a, b User) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// HashPassword returns the bcrypt hash of password for a users file.
func HashPassword(password string) (string, error) {
	if strings.TrimSpace(password) == "" {
		return "", errors.New("password is empty")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return "", err
	}
	return string(h), nil
}
