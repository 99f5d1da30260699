package duckenv

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/vyaparbazaar/dataops/schedule"
)

// Resources returns a schedule.ResourceSampler for this environment: CPU
// is the 1-minute load average per core, Memory the machine's used memory
// share (from /proc/meminfo), and DuckDBMemory DuckDB's memory use against
// its memory_limit. On systems without /proc, CPU and Memory read 0.
func (e *Env) Resources() schedule.ResourceSampler { return resourceSampler{e} }

type resourceSampler struct{ e *Env }

func (r resourceSampler) Sample(ctx context.Context) (schedule.Usage, error) {
	var u schedule.Usage
	if load, err := loadAverage(); err == nil {
		u.CPU = load / float64(runtime.NumCPU())
	}
	if used, err := memoryUsed(); err == nil {
		u.Memory = used
	}
	var usedBytes float64
	if err := r.e.db.QueryRowContext(ctx, `SELECT coalesce(sum(memory_usage_bytes), 0)::DOUBLE FROM duckdb_memory()`).Scan(&usedBytes); err != nil {
		return u, fmt.Errorf("sample DuckDB memory: %w", err)
	}
	if limit := r.e.memoryLimitBytes(ctx); limit > 0 {
		u.DuckDBMemory = usedBytes / limit
	}
	return u, nil
}

// memoryLimitBytes reads DuckDB's memory_limit in bytes (0 if unknown).
func (e *Env) memoryLimitBytes(ctx context.Context) float64 {
	var s string
	if err := e.db.QueryRowContext(ctx, `SELECT current_setting('memory_limit')`).Scan(&s); err != nil {
		return 0
	}
	return parseBytes(s)
}

// parseBytes reads DuckDB's human sizes such as "19.1 GiB" or "4.0 GB".
func parseBytes(s string) float64 {
	f := strings.Fields(strings.TrimSpace(s))
	if len(f) != 2 {
		return 0
	}
	n, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return 0
	}
	mult := map[string]float64{
		"bytes": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
		"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40,
	}[f[1]]
	return n * mult
}

func loadAverage() (float64, error) {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return 0, fmt.Errorf("empty /proc/loadavg")
	}
	return strconv.ParseFloat(f[0], 64)
}

func memoryUsed() (float64, error) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	vals := map[string]float64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(v)
		if len(fields) > 0 {
			n, _ := strconv.ParseFloat(fields[0], 64)
			vals[k] = n
		}
	}
	total, avail := vals["MemTotal"], vals["MemAvailable"]
	if total == 0 {
		return 0, fmt.Errorf("no MemTotal in /proc/meminfo")
	}
	return (total - avail) / total, nil
}
