package env_test

import (
	"errors"
	"testing"

	"github.com/vyaparbazaar/dataops/env"
)

func TestDefaultPolicyIsTheSeedsTable(t *testing.T) {
	pol := env.DefaultPolicy()
	ae := env.Principal{Name: "asha", Groups: []string{"analytics-engineers"}}
	biz := env.Principal{Name: "ravi", Groups: []string{"business-users"}}
	qa := env.Principal{Name: "meera", Groups: []string{"qa"}}
	ci := env.Principal{Name: "ci", Groups: []string{"deployment"}}
	dba := env.Principal{Name: "dba1", Groups: []string{"dba"}}
	nobody := env.Principal{Name: "eve"}
	cases := []struct {
		p     env.Principal
		env   string
		a     env.Action
		allow bool
	}{
		{ae, "dev", env.ActionWrite, true},
		{ae, "dev", env.ActionAdmin, true},
		{ae, "staging", env.ActionAdmin, false},
		{biz, "dev", env.ActionRead, false}, // dev: analytics engineers only
		{ae, "staging", env.ActionWrite, true},
		{qa, "staging", env.ActionRead, true},
		{qa, "staging", env.ActionWrite, false},
		{biz, "production", env.ActionRead, true},
		{biz, "production", env.ActionWrite, false},
		{ae, "production", env.ActionWrite, false}, // writes only by the pipeline
		{ci, "production", env.ActionWrite, true},
		{ci, "production", env.ActionAdmin, false},
		{dba, "production", env.ActionAdmin, true},
		{nobody, "production", env.ActionRead, false}, // deny by default
		{ae, "qa-sandbox", env.ActionRead, false},
	}
	for _, c := range cases {
		err := pol.Authorize(t.Context(), c.p, c.env, c.a)
		if c.allow != (err == nil) {
			t.Errorf("%s %s in %s: allowed=%v, err=%v", c.p.Name, c.a, c.env, c.allow, err)
		}
		if err != nil && !errors.Is(err, env.ErrDenied) {
			t.Errorf("refusal does not match ErrDenied: %v", err)
		}
	}
	err := pol.Authorize(t.Context(), ae, "production", env.ActionWrite)
	if want := "permission denied: asha may not write in production (roles reader do not allow write)"; err == nil || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}
}

func TestResolveChecksOSUsersOnceConfigured(t *testing.T) {
	open, err := env.ParseConfig([]byte("environments: {dev: {}}\nprincipals:\n  ci: {groups: [deployment]}\n"), "environments.yml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := open.Resolve("ci", "asha")
	if err != nil || p.Name != "ci" {
		t.Fatalf("without os_users a claim is taken at its word: %v %v", p, err)
	}
	strict, err := env.ParseConfig([]byte(`environments: {dev: {}}
principals:
  ci: {groups: [deployment], os_users: [svc-deploy]}
  dba: {groups: [dba], os_users: [postgres-admin]}
  "*": {groups: [analytics-engineers]}
`), "environments.yml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := strict.Resolve("ci", "asha"); err == nil || !errors.Is(err, env.ErrDenied) {
		t.Fatalf("asha claimed ci: %v", err)
	} else if want := "permission denied: asha may not act as ci (ci does not list OS user asha in its os_users)"; err.Error() != want {
		t.Errorf("got %q, want %q", err, want)
	}
	if p, err := strict.Resolve("ci", "svc-deploy"); err != nil || p.Name != "ci" || p.Groups[0] != "deployment" {
		t.Errorf("svc-deploy as ci: %v %v", p, err)
	}
	if p, err := strict.Resolve("", "postgres-admin"); err != nil || p.Name != "dba" {
		t.Errorf("an account acts as the principal listing it: %v %v", p, err)
	}
	if p, err := strict.Resolve("", "asha"); err != nil || p.Name != "asha" || p.Groups[0] != "analytics-engineers" {
		t.Errorf("others act as themselves: %v %v", p, err)
	}
}
