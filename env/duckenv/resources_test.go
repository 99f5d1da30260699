package duckenv

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestResourcesSampleDuckDBMemoryAgainstItsLimit(t *testing.T) {
	e := openFile(t, func(c *Config) { c.MemoryLimit = "64MB" })
	mustExec(t, e, "create table big as select range as id, repeat('x', 100) as pad from range(200000)")
	u, err := e.Resources().Sample(context.Background())
	require.NoError(t, err)
	assert.Greater(t, u.DuckDBMemory, 0.0)
	assert.LessOrEqual(t, u.DuckDBMemory, 1.5)
	assert.GreaterOrEqual(t, u.Memory, 0.0)
	assert.Less(t, u.Memory, 1.0)
	assert.GreaterOrEqual(t, u.CPU, 0.0)
	assert.InDelta(t, 64e6, parseBytes("64.0 MB"), 1)
	assert.InDelta(t, 2*float64(1<<30), parseBytes("2.0 GiB"), 1)
}
