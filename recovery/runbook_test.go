package recovery_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vyaparbazaar/dataops/recovery"
)

func TestDefaultRunbooks(t *testing.T) {
	rb := recovery.DefaultRunbooks()
	for _, c := range recovery.Classes() {
		assert.NotEmpty(t, rb[c], "class %s has a runbook", c)
		assert.LessOrEqual(t, len(rb[c]), 400, "class %s: runbooks stay short", c)
	}
	assert.Len(t, rb, len(recovery.Classes()))
	assert.Contains(t, rb[recovery.ClassTransient], "lsof target/*.duckdb")
	assert.Contains(t, rb[recovery.ClassSchemaChange], "_sources.yml")

	// A new map each time: callers may modify it.
	rb[recovery.ClassTransient] = "changed"
	assert.NotEqual(t, "changed", recovery.DefaultRunbooks()[recovery.ClassTransient])
}

func TestRunbooksForAndWith(t *testing.T) {
	custom := recovery.Runbooks{recovery.ClassTransient: "Page the platform team.", recovery.ClassTimeout: ""}
	assert.Equal(t, "Page the platform team.", custom.For(recovery.ClassTransient))
	assert.Equal(t, "", custom.For(recovery.ClassTimeout), "an explicit empty runbook is kept")
	assert.Equal(t, recovery.DefaultRunbooks()[recovery.ClassPermanent], custom.For(recovery.ClassPermanent), "falls back to the default")
	assert.Equal(t, "", custom.For("no_such_class"))
	var none recovery.Runbooks
	assert.Equal(t, recovery.DefaultRunbooks()[recovery.ClassCancelled], none.For(recovery.ClassCancelled))

	merged := recovery.DefaultRunbooks().With(custom)
	assert.Equal(t, "Page the platform team.", merged[recovery.ClassTransient])
	assert.Equal(t, recovery.DefaultRunbooks()[recovery.ClassSchemaChange], merged[recovery.ClassSchemaChange])
	assert.Len(t, merged, len(recovery.Classes()))
}

func TestEscalationContact(t *testing.T) {
	policy := recovery.EscalationPolicy{
		"analytics": {Team: "analytics", Primary: "@asha", Secondary: "@ravi", After: 30 * time.Minute},
		"platform":  {Team: "platform", Primary: "@meera"},
		"growth":    {Team: "growth", Primary: "@kabir", Secondary: "@zoya"},
	}
	tests := []struct {
		name  string
		team  string
		since time.Duration
		ack   bool
		want  string
	}{
		{"fresh alert goes to primary", "analytics", 0, false, "@asha"},
		{"just before the delay", "analytics", 29*time.Minute + 59*time.Second, false, "@asha"},
		{"at the delay, unacknowledged", "analytics", 30 * time.Minute, false, "@ravi"},
		{"long after, unacknowledged", "analytics", 5 * time.Hour, false, "@ravi"},
		{"acknowledged stays with primary", "analytics", 5 * time.Hour, true, "@asha"},
		{"no secondary", "platform", 5 * time.Hour, false, "@meera"},
		{"default delay before", "growth", 29 * time.Minute, false, "@kabir"},
		{"default delay after", "growth", recovery.DefaultEscalationAfter, false, "@zoya"},
		{"unknown team, no default", "finance", time.Hour, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, policy.Contact(tt.team, tt.since, tt.ack))
		})
	}

	policy[recovery.DefaultTeam] = recovery.Escalation{Primary: "oncall@vyaparbazaar.in", Secondary: "head-of-data@vyaparbazaar.in", After: time.Hour}
	assert.Equal(t, "oncall@vyaparbazaar.in", policy.Contact("finance", 59*time.Minute, false))
	assert.Equal(t, "head-of-data@vyaparbazaar.in", policy.Contact("finance", time.Hour, false))
	assert.Equal(t, "@asha", policy.Contact("analytics", 0, false), "a team's own entry wins over the default")

	var empty recovery.EscalationPolicy
	assert.Equal(t, "", empty.Contact("analytics", time.Hour, false))
}

func TestEscalationFromYAML(t *testing.T) {
	cfg, err := recovery.ParseConfig([]byte(projectYAML))
	require.NoError(t, err)
	assert.Equal(t, "@asha", cfg.Escalation.Contact("analytics", 10*time.Minute, false))
	assert.Equal(t, "@ravi", cfg.Escalation.Contact("analytics", 31*time.Minute, false))
	assert.Equal(t, "oncall@vyaparbazaar.in", cfg.Escalation.Contact("marketing", 31*time.Minute, false))
	assert.Equal(t, "Check /data disk space first.", cfg.Runbooks.For(recovery.ClassTransient))
	assert.Equal(t, recovery.DefaultRunbooks()[recovery.ClassTimeout], cfg.Runbooks.For(recovery.ClassTimeout))
}
