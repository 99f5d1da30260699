package orchestrate

import (
	"sync"
	"time"
)

// EventType names a state change of a run.
type EventType string

// The events a run emits, in order: RunStarted; for each node NodeStarted,
// zero or more NodeRetrying, then NodeFinished (skipped nodes emit only
// NodeFinished); finally RunFinished.
const (
	RunStarted   EventType = "run_started"
	NodeStarted  EventType = "node_started"
	NodeRetrying EventType = "node_retrying"
	NodeFinished EventType = "node_finished"
	RunFinished  EventType = "run_finished"
)

// Event is one state change, delivered to every Observer.
type Event struct {
	Type  EventType
	Time  time.Time
	RunID string
	// Node is set for node events.
	Node *Node
	// Result is set for NodeFinished (and holds the partial result for
	// NodeStarted and NodeRetrying).
	Result *NodeResult
	// Attempt is the attempt number for NodeStarted and NodeRetrying.
	Attempt int
	// Err is the failed attempt's error for NodeRetrying.
	Err error
	// Delay is the backoff before the next attempt for NodeRetrying.
	Delay time.Duration
	// Index is the node's start order and Total the number of nodes selected.
	Index, Total int
	// Run is set for RunStarted (partially filled) and RunFinished.
	Run *Run
}

// Observer receives the events of a run. Calls are serialized: an observer
// needs no locking of its own, but must not block for long.
type Observer interface {
	OnEvent(Event)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(Event)

// OnEvent calls f(e).
func (f ObserverFunc) OnEvent(e Event) { f(e) }

type observers struct {
	mu   sync.Mutex
	list []Observer
}

func (o *observers) emit(e Event) {
	if len(o.list) == 0 {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, ob := range o.list {
		ob.OnEvent(e)
	}
}
