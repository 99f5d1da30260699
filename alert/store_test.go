package alert_test

import (
	"testing"

	"github.com/vyaparbazaar/dataops/alert"
	"github.com/vyaparbazaar/dataops/alert/alerttest"
)

func TestMemoryStore(t *testing.T) {
	alerttest.RunStoreTests(t, func(t *testing.T) alert.Store { return alert.NewMemoryStore() })
}
