package dag

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStateSelector(t *testing.T) {
	g, err := New([]Vertex{
		{Name: "stg_a", Kind: KindModel},
		{Name: "stg_b", Kind: KindModel},
		{Name: "fct", Kind: KindModel, Deps: []string{"stg_a", "stg_b"}},
		{Name: "mart", Kind: KindModel, Deps: []string{"fct"}},
		{Name: "new_model", Kind: KindModel},
	})
	require.NoError(t, err)
	state := map[string]string{"stg_a": "modified", "new_model": "new"}
	sel, err := g.SelectWith(SelectOptions{Select: []string{"state:modified"}, State: state})
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"stg_a", "new_model"}, sel.Nodes, "modified includes new, as in dbt")
	sel, err = g.SelectWith(SelectOptions{Select: []string{"state:modified+"}, State: state})
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"stg_a", "fct", "mart", "new_model"}, sel.Nodes)
	sel, err = g.SelectWith(SelectOptions{Select: []string{"state:new"}, State: state})
	require.NoError(t, err)
	assert.Equal(t, []string{"new_model"}, sel.Nodes)

	_, err = g.SelectWith(SelectOptions{Select: []string{"state:modified"}})
	require.ErrorContains(t, err, "state: needs an environment's manifest")
	_, err = g.SelectWith(SelectOptions{Select: []string{"state:changed"}, State: state})
	require.ErrorContains(t, err, `unknown state "changed"`)
}
