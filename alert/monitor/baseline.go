package monitor

import "time"

// Baseline is a model's typical build time: the median of its last
// successful runs.
type Baseline struct {
	Median  time.Duration
	Samples int
}

// Baselines computes the baseline of every node from runs (newest first):
// the median duration of its last n successful runs. Nodes with fewer than
// minSamples successful runs have none.
func Baselines(runs []RunSummary, n, minSamples int) map[string]Baseline {
	out := map[string]Baseline{}
	for name, s := range successes(runs) {
		if len(s) > n {
			s = s[:n]
		}
		if len(s) < minSamples || len(s) == 0 {
			continue
		}
		ds := make([]time.Duration, len(s))
		for i, r := range s {
			ds[i] = r.Duration
		}
		out[name] = Baseline{Median: median(ds), Samples: len(ds)}
	}
	return out
}
