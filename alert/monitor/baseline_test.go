package monitor

import (
	"testing"
	"time"
)

func TestBaselines(t *testing.T) {
	run := func(d time.Duration, status string) RunSummary {
		return RunSummary{Nodes: []NodeRun{{Node: "m", Status: status, Duration: d}}}
	}
	runs := []RunSummary{run(9*time.Second, "success"), run(time.Second, "error"), run(2*time.Second, "success"),
		run(3*time.Second, "success"), run(100*time.Second, "success")}
	b := Baselines(runs, 3, 3)
	if got := b["m"]; got.Median != 3*time.Second || got.Samples != 3 {
		t.Errorf("baseline = %+v, want the median of the last 3 successes (9s, 2s, 3s) = 3s", got)
	}
	if _, ok := Baselines(runs[:2], 3, 3)["m"]; ok {
		t.Error("one success is not a baseline")
	}
}
