package incident_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/vyaparbazaar/dataops/recovery/incident"
	"github.com/vyaparbazaar/dataops/recovery/incident/incidenttest"
)

func TestMemoryStore(t *testing.T) {
	incidenttest.RunStoreTests(t, func(*testing.T) incident.Store { return incident.NewMemoryStore() })
}

func TestIDs(t *testing.T) {
	day := time.Date(2026, 11, 25, 23, 59, 0, 0, time.UTC)
	assert.Equal(t, "INC-20261125-", incident.IDPrefix(day))
	assert.Equal(t, "INC-20261125-0001", incident.FormatID(day, 1))
	assert.Equal(t, "INC-20261125-12345", incident.FormatID(day, 12345))
	ist := time.FixedZone("IST", 5*3600+1800)
	assert.Equal(t, "INC-20261125-0007", incident.FormatID(day.In(ist), 7), "UTC day")

	prefix, seq, ok := incident.ParseID("INC-20261125-0042")
	assert.True(t, ok)
	assert.Equal(t, "INC-20261125-", prefix)
	assert.Equal(t, 42, seq)
	for _, bad := range []string{"", "INC-20261125-", "INC-2026112-0001", "INC-20261340-0001", "XYZ-20261125-0001", "INC-20261125-abc", "INC-20261125-0000", "INC-20261125-+1"} {
		_, _, ok := incident.ParseID(bad)
		assert.False(t, ok, bad)
	}
}
