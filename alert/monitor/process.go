package monitor

import (
	"runtime"
	"sync"
	"syscall"
	"time"
)

// ProcessCPU measures the CPU used by this process (every thread, DuckDB's
// included) as a share of the machine's cores, between one Sample and the
// next. The first Sample only starts the measurement and returns -1. Use
// one per checker.
type ProcessCPU struct {
	mu       sync.Mutex
	lastCPU  time.Duration
	lastWall time.Time
}

// Sample returns the share of all cores used since the previous sample.
func (p *ProcessCPU) Sample(now time.Time) (float64, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, err
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	p.mu.Lock()
	defer p.mu.Unlock()
	since := p.lastWall
	wall := now.Sub(since)
	used := cpu - p.lastCPU
	p.lastCPU, p.lastWall = cpu, now
	if since.IsZero() {
		return -1, nil
	}
	if wall <= 0 {
		return 0, nil
	}
	return float64(used) / float64(wall) / float64(runtime.NumCPU()), nil
}
