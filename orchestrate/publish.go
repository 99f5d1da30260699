package orchestrate

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Publisher is implemented by Runners that stage what they build and make it
// visible only at the end of a run (write–audit–publish): each model is
// built into a new version, its tests run against that version, and
// ExecutePlan then calls Publish once, after the last node finished and
// before the RunFinished event, with the run's final results. Publish
// decides what to publish (models that built and passed their tests, and
// whose upstream models built in the run are published too) and makes all
// of it visible at once.
//
// Publish runs even when the run was cancelled (what was audited may still
// be published); it gets a context that is not cancelled with the run's.
type Publisher interface {
	Publish(ctx context.Context, run *Run, plan *Plan) (*Publication, error)
}

// Publication is what a run made visible.
type Publication struct {
	// Snapshot identifies the snapshot recorded for the publish ("" when
	// nothing was published).
	Snapshot string `json:"snapshot,omitempty"`
	// Published are the nodes whose new version readers now see.
	Published []string `json:"published,omitempty"`
	// Withheld maps nodes that were built but not published to the reason
	// ("test unique_orders_id failed", "upstream stg_orders withheld").
	// Readers still see their previous version.
	Withheld map[string]string `json:"withheld,omitempty"`
	// Error is why publishing failed, if it did; nothing was published.
	Error string `json:"error,omitempty"`
}

// publish calls the run's Publisher, if its runner is one, and folds the
// outcome into the run's results.
func (e *execution) publish(ctx context.Context) {
	p, ok := e.opts.Runner.(Publisher)
	if !ok {
		return
	}
	pub, err := p.Publish(context.WithoutCancel(ctx), e.run, e.plan)
	if pub == nil {
		pub = &Publication{}
	}
	if err != nil {
		pub.Error = err.Error()
		e.log.Error("publish failed", "run", e.run.ID, "err", err)
	}
	e.run.Publication = pub
	for _, name := range slices.Sorted(mapKeys(pub.Withheld)) {
		for _, n := range e.nodes {
			if n.node.Name != name {
				continue
			}
			res := n.res
			res.Withheld = pub.Withheld[name]
			e.serving(n)
			msg := "built but not published: " + res.Withheld
			if res.Serving != nil {
				msg += fmt.Sprintf("; still serving the version of run %s", res.Serving.RunID)
			}
			if res.Message == "" {
				res.Message = msg
			} else {
				res.Message += " (" + msg + ")"
			}
		}
	}
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// describe summarises a publication for the progress printer.
func (p *Publication) describe() string {
	if p == nil {
		return ""
	}
	var b strings.Builder
	switch {
	case p.Error != "":
		fmt.Fprintf(&b, "Publish FAILED, readers still see the previous versions: %s\n", p.Error)
	case len(p.Published) > 0:
		fmt.Fprintf(&b, "Published %d %s as snapshot #%s\n", len(p.Published), plural2(len(p.Published), "model", "models"), p.Snapshot)
	}
	if len(p.Withheld) > 0 && p.Error == "" {
		fmt.Fprintf(&b, "Not published (readers still see the previous version):\n")
		for _, n := range slices.Sorted(mapKeys(p.Withheld)) {
			fmt.Fprintf(&b, "  %s: %s\n", n, p.Withheld[n])
		}
	}
	return b.String()
}

func plural2(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
