package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGitHubWorkflowUsesRealCommandsAndFlags keeps the example workflow
// honest: every vyaparbazaar command it runs exists and every flag it
// passes is one the command accepts.
func TestGitHubWorkflowUsesRealCommandsAndFlags(t *testing.T) {
	data, err := os.ReadFile("../github-actions/dataops.yml")
	require.NoError(t, err)
	var wf struct {
		Jobs map[string]struct {
			Steps []struct {
				Run string `yaml:"run"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	require.NoError(t, yaml.Unmarshal(data, &wf))
	known := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^  (\w+)\s`).FindAllStringSubmatch(usageText(), -1) {
		known[m[1]] = true
	}
	calls := 0
	for job, j := range wf.Jobs {
		for _, s := range j.Steps {
			if !strings.HasPrefix(s.Run, "$VB ") {
				continue
			}
			calls++
			args := strings.Fields(strings.TrimPrefix(s.Run, "$VB "))
			cmd := args[0]
			assert.True(t, known[cmd], "job %s: unknown command %q", job, cmd)
			// Values that are shell or workflow expressions stand for a value.
			for i, a := range args {
				if strings.HasPrefix(a, "$") {
					args[i] = filepath.Join(t.TempDir(), "x")
				}
			}
			if sub, registered := commands[cmd]; registered {
				// It parses its own flags: run it on a missing project and
				// check the flags were accepted.
				var out, errOut strings.Builder
				sub.Run(t.Context(), args[1:], &out, &errOut)
				assert.NotContains(t, errOut.String(), "flag provided but not defined", "job %s: %s", job, s.Run)
				assert.NotContains(t, errOut.String(), "usage:", "job %s: %s", job, s.Run)
				continue
			}
			_, err := parseFlags(cmd, args[1:])
			assert.NoError(t, err, "job %s: %s", job, s.Run)
		}
	}
	assert.GreaterOrEqual(t, calls, 8)
}
