package schedule

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"

	"github.com/vyaparbazaar/dataops/orchestrate"
)

// Config is a timetable: the jobs of a schedules file, the windows they
// refer to and the limits they run under. ParseConfig reads one; Validate
// checks it (also one built in code) before the scheduler starts.
//
// A schedules file looks like this (every key but jobs is optional):
//
//	timezone: Asia/Kolkata           # IANA name; default UTC
//	defaults: {overlap: skip, catch_up: once, timeout: 2h, pool: default}
//	pools: {default: 2, heavy: 1}    # max concurrent jobs per pool
//	max_concurrency: 2               # max concurrent jobs in all
//	resource_threshold: 0.9          # CPU/memory share above which low and medium jobs wait
//	time_intervals:                  # windows, as Alertmanager writes them
//	  - name: low-traffic
//	    time_intervals:
//	      - times: [{start_time: "01:00", end_time: "05:00"}]
//	        weekdays: ["monday:friday"]
//	        location: Asia/Kolkata   # default: the file's timezone
//	jobs:
//	  - name: staging
//	    schedule: "15 * * * *"       # cron (see Cron), in the file's timezone
//	    select: ["path:models/staging"]
//	    refresh: incremental         # or full
//	    priority: medium             # low, medium, high or critical
//	    owner: data-platform
//	  - name: financial-reporting
//	    schedule: "0 23 L * *"
//	    select: ["+mart_financial_metrics"]
//	    priority: high
//	    deadline: "0 9 1 * *"        # cron of the times the data must be fresh by
//	  - name: production-backup
//	    operation: backup            # an operation instead of a selection
//	    schedule: "30 0 * * *"
//	    windows: [low-traffic]       # may only start inside (all of) these
//	    blackouts: [month-end-freeze] # may not start inside any of these
//
// A job's other keys are exclude (selectors), timezone (overriding the
// file's), timeout and stagger (durations such as 2h or 90s), pool, overlap
// (skip, queue or cancel) and catch_up (once, all or none); defaults may
// set overlap, catch_up, timeout, pool, priority, owner, refresh and
// stagger. Unknown keys are errors.
type Config struct {
	// Location is the file's timezone (UTC when unset).
	Location *time.Location
	// Jobs are the jobs, in file order.
	Jobs []*Job
	// Windows are the time_intervals by name.
	Windows map[string]*Window
	// Pools bound how many jobs of a pool run at once. Jobs naming no
	// pool are in the "default" pool ("" and "default" are the same).
	Pools map[string]int
	// MaxConcurrency bounds how many jobs run at once (0: unset).
	MaxConcurrency int
	// ResourceThreshold is the CPU or memory share, in (0, 1], above which
	// low and medium priority jobs wait (0: unset).
	ResourceThreshold float64

	// file names the schedules file in errors; lines locate what was read
	// from it.
	file        string
	jobLines    map[*Job]*jobLines
	windowLines map[string]int
	keyLines    map[string]int
}

// ConfigError is a problem in a timetable, located in its file when it was
// read from one.
type ConfigError struct {
	// File and Line locate the problem ("" and 0 when unknown).
	File string
	Line int
	// Msg says what is wrong, starting with what it is about, e.g.
	// `job "staging": schedule: ...`.
	Msg string
}

// Error formats the error as "file:line: message".
func (e *ConfigError) Error() string {
	switch {
	case e.File != "" && e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	case e.File != "":
		return e.File + ": " + e.Msg
	case e.Line > 0:
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return e.Msg
}

// WindowMap returns the windows as the scheduler's Options.Windows wants
// them.
func (c *Config) WindowMap() map[string]interface{ Contains(time.Time) bool } {
	out := make(map[string]interface{ Contains(time.Time) bool }, len(c.Windows))
	for name, w := range c.Windows {
		out[name] = w
	}
	return out
}

// Job returns the job named name, or nil.
func (c *Config) Job(name string) *Job {
	for _, j := range c.Jobs {
		if j.Name == name {
			return j
		}
	}
	return nil
}

// jobLines locates a job's keys in the file.
type jobLines struct {
	job  int
	keys map[string]int
	// selects locates each select item; items each window and blackout.
	selects []int
	items   map[string][]int
	// badSchedule marks a schedule that was written but did not parse
	// (already reported).
	badSchedule bool
}

// item returns the line of item i of a list, or of the key.
func (l *jobLines) item(key string, i int) int {
	if l != nil && i < len(l.items[key]) && l.items[key][i] > 0 {
		return l.items[key][i]
	}
	return l.of(key)
}

func (l *jobLines) of(key string) int {
	if l == nil {
		return 0
	}
	if n := l.keys[key]; n > 0 {
		return n
	}
	return l.job
}

// at is a YAML value with the line it was written on.
type at[T any] struct {
	V    T
	Line int
}

func nodeLine(n ast.Node) int {
	if n == nil {
		return 0
	}
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		return tk.Position.Line
	}
	return 0
}

// UnmarshalYAML decodes the value and records its line.
func (a *at[T]) UnmarshalYAML(n ast.Node) error {
	a.Line = nodeLine(n)
	if err := yaml.NodeToValue(n, &a.V); err != nil {
		return &ConfigError{Line: a.Line, Msg: yamlMessage(err)}
	}
	return nil
}

// strList is a list of strings (or one string) with the line of each.
type strList struct {
	V     []string
	Lines []int
	Line  int
}

// UnmarshalYAML decodes a sequence of scalars, or one scalar.
func (l *strList) UnmarshalYAML(n ast.Node) error {
	l.Line = nodeLine(n)
	items := []ast.Node{n}
	switch x := n.(type) {
	case *ast.NullNode:
		return nil
	case *ast.SequenceNode:
		items = x.Values
	}
	for _, it := range items {
		var s string
		if _, ok := it.(ast.ScalarNode); !ok {
			return &ConfigError{Line: nodeLine(it), Msg: fmt.Sprintf("want a string or a list of strings, got %s", it.Type())}
		}
		if err := yaml.NodeToValue(it, &s); err != nil {
			return &ConfigError{Line: nodeLine(it), Msg: yamlMessage(err)}
		}
		l.V = append(l.V, s)
		l.Lines = append(l.Lines, nodeLine(it))
	}
	return nil
}

type rawConfig struct {
	Timezone          at[string]         `yaml:"timezone"`
	Defaults          rawDefaults        `yaml:"defaults"`
	Pools             map[string]at[int] `yaml:"pools"`
	MaxConcurrency    at[int]            `yaml:"max_concurrency"`
	ResourceThreshold at[float64]        `yaml:"resource_threshold"`
	TimeIntervals     []rawWindow        `yaml:"time_intervals"`
	Jobs              []rawJob           `yaml:"jobs"`
}

type rawDefaults struct {
	Overlap  at[string] `yaml:"overlap"`
	CatchUp  at[string] `yaml:"catch_up"`
	Timeout  at[string] `yaml:"timeout"`
	Pool     at[string] `yaml:"pool"`
	Priority at[string] `yaml:"priority"`
	Owner    at[string] `yaml:"owner"`
	Refresh  at[string] `yaml:"refresh"`
	Stagger  at[string] `yaml:"stagger"`
}

type rawJob struct {
	Name      at[string] `yaml:"name"`
	Schedule  at[string] `yaml:"schedule"`
	Timezone  at[string] `yaml:"timezone"`
	Select    strList    `yaml:"select"`
	Exclude   strList    `yaml:"exclude"`
	Operation at[string] `yaml:"operation"`
	Refresh   at[string] `yaml:"refresh"`
	Priority  at[string] `yaml:"priority"`
	Timeout   at[string] `yaml:"timeout"`
	Owner     at[string] `yaml:"owner"`
	Pool      at[string] `yaml:"pool"`
	Overlap   at[string] `yaml:"overlap"`
	CatchUp   at[string] `yaml:"catch_up"`
	Windows   strList    `yaml:"windows"`
	Blackouts strList    `yaml:"blackouts"`
	Deadline  at[string] `yaml:"deadline"`
	Stagger   at[string] `yaml:"stagger"`
}

type rawWindow struct {
	Name          at[string]    `yaml:"name"`
	TimeIntervals []rawInterval `yaml:"time_intervals"`
}

type rawInterval struct {
	Times       []rawTimes `yaml:"times"`
	Weekdays    strList    `yaml:"weekdays"`
	DaysOfMonth strList    `yaml:"days_of_month"`
	Months      strList    `yaml:"months"`
	Years       strList    `yaml:"years"`
	Location    at[string] `yaml:"location"`
}

type rawTimes struct {
	StartTime at[string] `yaml:"start_time"`
	EndTime   at[string] `yaml:"end_time"`
}

// yamlMessage returns the message of a YAML error without its source
// excerpt.
func yamlMessage(err error) string {
	var ye yaml.Error
	if errors.As(err, &ye) {
		return ye.GetMessage()
	}
	var ce *ConfigError
	if errors.As(err, &ce) {
		return ce.Msg
	}
	return err.Error()
}

// yamlError turns a decoding error into a *ConfigError in file.
func yamlError(file string, err error) error {
	var ce *ConfigError
	if errors.As(err, &ce) {
		return &ConfigError{File: file, Line: ce.Line, Msg: ce.Msg}
	}
	var ye yaml.Error
	if errors.As(err, &ye) {
		line := 0
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			line = tk.Position.Line
		}
		return &ConfigError{File: file, Line: line, Msg: ye.GetMessage()}
	}
	return &ConfigError{File: file, Msg: err.Error()}
}

// loadLocation loads an IANA time zone, refusing "Local" (a server's
// local zone is an accident of its setup).
func loadLocation(name string) (*time.Location, error) {
	if strings.EqualFold(name, "local") {
		return nil, fmt.Errorf("%q: write an IANA name such as Asia/Kolkata (the server's local zone is not portable)", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q (an IANA name such as Asia/Kolkata; import time/tzdata where the system has no zoneinfo)", name)
	}
	return loc, nil
}

// ParseConfig reads a schedules file (see Config); file names it in
// errors. It reports every problem it can find without the pipeline — the
// YAML's shape, malformed crons, unknown time zones, priorities, refresh
// types, overlap and catch-up policies, pools and windows, duplicate job
// names, windows that never open, jobs that would never run — as
// *ConfigError values joined with errors.Join, each located as
// "schedules.yml:12: job "x": ...". An unknown key is an error. Call
// Validate with the pipeline's selector to check the selections too.
func ParseConfig(data []byte, file string) (*Config, error) {
	var raw rawConfig
	if err := yaml.UnmarshalWithOptions(data, &raw, yaml.Strict()); err != nil {
		return nil, yamlError(file, err)
	}
	p := &configParser{file: file}
	cfg := &Config{
		Location:          time.UTC,
		Windows:           map[string]*Window{},
		Pools:             map[string]int{},
		MaxConcurrency:    raw.MaxConcurrency.V,
		ResourceThreshold: raw.ResourceThreshold.V,
		file:              file,
		jobLines:          map[*Job]*jobLines{},
		windowLines:       map[string]int{},
		keyLines: map[string]int{
			"max_concurrency":    raw.MaxConcurrency.Line,
			"resource_threshold": raw.ResourceThreshold.Line,
		},
	}
	if tz := raw.Timezone; tz.V != "" {
		loc, err := loadLocation(tz.V)
		if err != nil {
			p.errorf(tz.Line, "timezone: %v", err)
		} else {
			cfg.Location = loc
		}
	}
	for name, n := range raw.Pools {
		cfg.Pools[name] = n.V
		cfg.keyLines["pools."+name] = n.Line
	}
	for _, rw := range raw.TimeIntervals {
		p.window(cfg, rw)
	}
	d := p.defaults(cfg, raw.Defaults)
	for _, rj := range raw.Jobs {
		p.job(cfg, rj, d)
	}
	p.errs = append(p.errs, cfg.check(time.Now(), nil)...)
	if err := errors.Join(p.errs...); err != nil {
		return nil, err
	}
	return cfg, nil
}

// configParser collects the errors of a file.
type configParser struct {
	file string
	errs []error
}

func (p *configParser) errorf(line int, format string, args ...any) {
	p.errs = append(p.errs, &ConfigError{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// window parses one of the time_intervals.
func (p *configParser) window(cfg *Config, rw rawWindow) {
	line := rw.Name.Line
	name := rw.Name.V
	if name == "" {
		for _, ri := range rw.TimeIntervals {
			line = firstLine(line, ri.Location.Line, ri.Weekdays.Line, ri.DaysOfMonth.Line, ri.Months.Line, ri.Years.Line)
		}
		p.errorf(line, "time_intervals: an entry has no name")
		return
	}
	what := fmt.Sprintf("time_intervals %q", name)
	if _, dup := cfg.Windows[name]; dup {
		p.errorf(line, "%s: duplicate name (first on line %d)", what, cfg.windowLines[name])
		return
	}
	w := &Window{Name: name}
	for i, ri := range rw.TimeIntervals {
		iv := Interval{Location: cfg.Location}
		at := fmt.Sprintf("%s: time_intervals[%d]", what, i)
		if ri.Location.V != "" {
			loc, err := loadLocation(ri.Location.V)
			if err != nil {
				p.errorf(ri.Location.Line, "%s: location: %v", at, err)
			} else {
				iv.Location = loc
			}
		}
		for _, t := range ri.Times {
			r, err := ParseTimeRange(t.StartTime.V, t.EndTime.V)
			if err != nil {
				p.errorf(firstLine(t.StartTime.Line, t.EndTime.Line, line), "%s: times: %v", at, err)
				continue
			}
			iv.Times = append(iv.Times, r)
		}
		for k, s := range ri.Weekdays.V {
			r, err := ParseWeekdayRange(s)
			if err != nil {
				p.errorf(ri.Weekdays.Lines[k], "%s: %v", at, err)
				continue
			}
			iv.Weekdays = append(iv.Weekdays, r)
		}
		for k, s := range ri.DaysOfMonth.V {
			r, err := ParseDayOfMonthRange(s)
			if err != nil {
				p.errorf(ri.DaysOfMonth.Lines[k], "%s: %v", at, err)
				continue
			}
			iv.DaysOfMonth = append(iv.DaysOfMonth, r)
		}
		for k, s := range ri.Months.V {
			r, err := ParseMonthRange(s)
			if err != nil {
				p.errorf(ri.Months.Lines[k], "%s: %v", at, err)
				continue
			}
			iv.Months = append(iv.Months, r)
		}
		for k, s := range ri.Years.V {
			r, err := ParseYearRange(s)
			if err != nil {
				p.errorf(ri.Years.Lines[k], "%s: %v", at, err)
				continue
			}
			iv.Years = append(iv.Years, r)
		}
		w.Intervals = append(w.Intervals, iv)
	}
	cfg.Windows[name] = w
	cfg.windowLines[name] = line
}

// parseDuration parses a duration such as 2h or 90m.
func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q: want a duration such as 2h, 90m or 30s", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("%q: negative", s)
	}
	return d, nil
}

// defaults checks the defaults once, reporting a bad one at its line and
// dropping it (so that the jobs do not repeat the error).
func (p *configParser) defaults(cfg *Config, d rawDefaults) rawDefaults {
	bad := func(v *at[string], format string, args ...any) {
		p.errorf(v.Line, "defaults: "+format, args...)
		*v = at[string]{}
	}
	switch v := Overlap(d.Overlap.V); v {
	case "", OverlapSkip, OverlapQueue, OverlapCancel:
	default:
		bad(&d.Overlap, "overlap: unknown policy %q (want skip, queue or cancel)", v)
	}
	switch v := CatchUp(d.CatchUp.V); v {
	case "", CatchUpOnce, CatchUpAll, CatchUpNone:
	default:
		bad(&d.CatchUp, "catch_up: unknown policy %q (want once, all or none)", v)
	}
	switch v := Refresh(d.Refresh.V); v {
	case "", RefreshIncremental, RefreshFull:
	default:
		bad(&d.Refresh, "refresh: unknown refresh %q (want incremental or full)", v)
	}
	if _, err := orchestrate.ParsePriority(d.Priority.V); err != nil {
		bad(&d.Priority, "priority: %v", err)
	}
	for _, f := range []struct {
		key string
		v   *at[string]
	}{{"timeout", &d.Timeout}, {"stagger", &d.Stagger}} {
		if strings.TrimSpace(f.v.V) == "" {
			continue
		}
		if _, err := parseDuration(f.v.V); err != nil {
			bad(f.v, "%s: %v", f.key, err)
		}
	}
	if v := d.Pool.V; v != "" && v != "default" {
		if _, ok := cfg.Pools[v]; !ok {
			bad(&d.Pool, "pool: unknown pool %q (pools: %s)", v, listOrNone(slices.Sorted(maps.Keys(cfg.Pools))))
		}
	}
	return d
}

// firstLine returns the first non-zero line.
func firstLine(lines ...int) int {
	for _, l := range lines {
		if l > 0 {
			return l
		}
	}
	return 0
}

// orDefault returns v, or the default d when v was not written.
func orDefault(v, d at[string]) at[string] {
	if v.Line > 0 || v.V != "" {
		return v
	}
	return d
}

// job parses one job, applying the defaults.
func (p *configParser) job(cfg *Config, rj rawJob, d rawDefaults) {
	jl := &jobLines{keys: map[string]int{
		"name": rj.Name.Line, "schedule": rj.Schedule.Line, "timezone": rj.Timezone.Line,
		"select": rj.Select.Line, "exclude": rj.Exclude.Line, "operation": rj.Operation.Line,
		"refresh": rj.Refresh.Line, "priority": rj.Priority.Line, "timeout": rj.Timeout.Line,
		"owner": rj.Owner.Line, "pool": rj.Pool.Line, "overlap": rj.Overlap.Line,
		"catch_up": rj.CatchUp.Line, "windows": rj.Windows.Line, "blackouts": rj.Blackouts.Line,
		"deadline": rj.Deadline.Line, "stagger": rj.Stagger.Line,
	}}
	jl.job = rj.Name.Line
	if jl.job == 0 {
		for _, l := range jl.keys {
			if l > 0 && (jl.job == 0 || l < jl.job) {
				jl.job = l
			}
		}
	}
	jl.selects = rj.Select.Lines
	jl.items = map[string][]int{"windows": rj.Windows.Lines, "blackouts": rj.Blackouts.Lines}
	j := &Job{
		Name:      rj.Name.V,
		Spec:      strings.TrimSpace(rj.Schedule.V),
		Select:    rj.Select.V,
		Exclude:   rj.Exclude.V,
		Operation: rj.Operation.V,
		Owner:     orDefault(rj.Owner, d.Owner).V,
		Pool:      orDefault(rj.Pool, d.Pool).V,
		Refresh:   Refresh(orDefault(rj.Refresh, d.Refresh).V),
		Overlap:   Overlap(orDefault(rj.Overlap, d.Overlap).V),
		CatchUp:   CatchUp(orDefault(rj.CatchUp, d.CatchUp).V),
		Windows:   rj.Windows.V,
		Blackouts: rj.Blackouts.V,
	}
	if j.Overlap == "" {
		j.Overlap = OverlapSkip
	}
	if j.CatchUp == "" {
		j.CatchUp = CatchUpOnce
	}
	what := fmt.Sprintf("job %q", j.Name)
	if j.Name == "" {
		what = "job"
	}
	loc := cfg.Location
	if tz := rj.Timezone; tz.V != "" {
		l, err := loadLocation(tz.V)
		if err != nil {
			p.errorf(tz.Line, "%s: timezone: %v", what, err)
		} else {
			loc = l
		}
	}
	if j.Spec != "" {
		c, err := ParseCron(j.Spec, loc)
		if err != nil {
			p.errorf(rj.Schedule.Line, "%s: schedule: %v", what, err)
			jl.badSchedule = true
		} else {
			j.Schedule = c
		}
	}
	if dl := rj.Deadline; strings.TrimSpace(dl.V) != "" {
		j.DeadlineSpec = strings.TrimSpace(dl.V)
		c, err := ParseCron(j.DeadlineSpec, loc)
		if err != nil {
			p.errorf(dl.Line, "%s: deadline: %v", what, err)
		} else {
			j.Deadline = c
		}
	}
	if pr := orDefault(rj.Priority, d.Priority); pr.V != "" {
		prio, err := orchestrate.ParsePriority(pr.V)
		if err != nil {
			p.errorf(firstLine(pr.Line, jl.job), "%s: priority: %v", what, err)
		} else {
			j.Priority = prio
		}
	}
	for _, f := range []struct {
		key string
		v   at[string]
		dst *time.Duration
	}{{"timeout", orDefault(rj.Timeout, d.Timeout), &j.Timeout}, {"stagger", orDefault(rj.Stagger, d.Stagger), &j.Stagger}} {
		if strings.TrimSpace(f.v.V) == "" {
			continue
		}
		dur, err := parseDuration(f.v.V)
		if err != nil {
			p.errorf(firstLine(f.v.Line, jl.job), "%s: %s: %v", what, f.key, err)
			continue
		}
		*f.dst = dur
	}
	cfg.Jobs = append(cfg.Jobs, j)
	cfg.jobLines[j] = jl
}

// Validate checks the timetable before the scheduler starts and returns
// every problem, joined with errors.Join (nil when there is none): jobs
// without a name or schedule, duplicate names, unknown refresh types,
// overlap and catch-up policies, pools and windows, a job with both or
// neither of a selection and an operation, negative durations or limits,
// windows that never open, jobs whose windows or blackouts rule out every
// due time of the next year ("the job would never run") — and, when
// knownNode is not nil, every select item of every job: knownNode runs the
// selector against the pipeline and returns an error when it names an
// unknown model or matches nothing. Exclude items are not checked: an
// exclusion may rightly match nothing. Problems in a config read by
// ParseConfig are located as "schedules.yml:12: job "x": ...".
func (c *Config) Validate(knownNode func(selector string) error) error {
	return errors.Join(c.check(time.Now(), knownNode)...)
}

// check returns the problems of the timetable as of now.
func (c *Config) check(now time.Time, knownNode func(string) error) []error {
	var errs []error
	errorf := func(line int, format string, args ...any) {
		errs = append(errs, &ConfigError{File: c.file, Line: line, Msg: fmt.Sprintf(format, args...)})
	}
	for _, name := range slices.Sorted(maps.Keys(c.Pools)) {
		if n := c.Pools[name]; n < 1 {
			errorf(c.keyLines["pools."+name], "pools: %q: want at least 1 job at a time, got %d", name, n)
		}
	}
	if c.MaxConcurrency < 0 {
		errorf(c.keyLines["max_concurrency"], "max_concurrency: want at least 1 (or unset), got %d", c.MaxConcurrency)
	}
	if r := c.ResourceThreshold; r < 0 || r > 1 || (r == 0 && c.keyLines["resource_threshold"] > 0) {
		errorf(c.keyLines["resource_threshold"], "resource_threshold: want a share in (0, 1] such as 0.9, got %s", strconv.FormatFloat(r, 'g', -1, 64))
	}

	// Windows: valid, and open at some time within a year.
	neverOpen := map[string]bool{}
	for _, name := range slices.Sorted(maps.Keys(c.Windows)) {
		w := c.Windows[name]
		line := c.windowLines[name]
		bad := false
		for i := range w.Intervals {
			if err := w.Intervals[i].validate(); err != nil {
				errorf(line, "time_intervals %q: time_intervals[%d]: %v", name, i, err)
				bad = true
			}
		}
		if bad {
			neverOpen[name] = true
			continue
		}
		if w.NextOpen(now).IsZero() {
			errorf(line, "time_intervals %q: the window never opens (not within a year of %s)", name, now.In(c.location()).Format("2006-01-02"))
			neverOpen[name] = true
		}
	}

	seen := map[string]int{}
	for i, j := range c.Jobs {
		if j == nil {
			errorf(0, "jobs[%d]: nil job", i)
			continue
		}
		jl := c.jobLines[j]
		what := fmt.Sprintf("job %q", j.Name)
		if j.Name == "" {
			what = fmt.Sprintf("jobs[%d]", i)
			errorf(jl.of("name"), "%s: no name", what)
		} else if first, dup := seen[j.Name]; dup {
			if fl := c.jobLines[c.Jobs[first]].of("name"); fl > 0 {
				errorf(jl.of("name"), "%s: duplicate name (first on line %d)", what, fl)
			} else {
				errorf(jl.of("name"), "%s: duplicate name", what)
			}
		} else {
			seen[j.Name] = i
		}
		if j.Schedule == nil && (jl == nil || !jl.badSchedule) {
			if j.Deadline != nil {
				errorf(jl.of("deadline"), "%s: a deadline without a schedule (add schedule: the cron of the runs that must meet it)", what)
			} else {
				errorf(jl.of("schedule"), "%s: no schedule (want a cron such as \"15 * * * *\" or @daily)", what)
			}
		}
		switch {
		case j.Operation == "" && len(j.Select) == 0:
			errorf(jl.of("name"), "%s: nothing to run (want select: [selectors] or operation: name)", what)
		case j.Operation != "" && (len(j.Select) > 0 || len(j.Exclude) > 0):
			errorf(jl.of("operation"), "%s: both an operation and a selection (an operation job selects nothing)", what)
		}
		switch j.Refresh {
		case "", RefreshIncremental, RefreshFull:
			if j.Refresh != "" && j.Operation != "" {
				errorf(jl.of("refresh"), "%s: refresh applies to selections, not to operation %q", what, j.Operation)
			}
		default:
			errorf(jl.of("refresh"), "%s: refresh: unknown refresh %q (want incremental or full)", what, j.Refresh)
		}
		switch j.Overlap {
		case "", OverlapSkip, OverlapQueue, OverlapCancel:
		default:
			errorf(jl.of("overlap"), "%s: overlap: unknown policy %q (want skip, queue or cancel)", what, j.Overlap)
		}
		switch j.CatchUp {
		case "", CatchUpOnce, CatchUpAll, CatchUpNone:
		default:
			errorf(jl.of("catch_up"), "%s: catch_up: unknown policy %q (want once, all or none)", what, j.CatchUp)
		}
		if p := j.Priority; p != 0 && (p < orchestrate.PriorityLow || p > orchestrate.PriorityCritical) {
			errorf(jl.of("priority"), "%s: priority: unknown priority %d", what, int(p))
		}
		if j.Pool != "" && j.Pool != "default" {
			if _, ok := c.Pools[j.Pool]; !ok {
				errorf(jl.of("pool"), "%s: pool: unknown pool %q (pools: %s)", what, j.Pool, listOrNone(slices.Sorted(maps.Keys(c.Pools))))
			}
		}
		if j.Timeout < 0 {
			errorf(jl.of("timeout"), "%s: timeout: negative (%s)", what, j.Timeout)
		}
		if j.Stagger < 0 {
			errorf(jl.of("stagger"), "%s: stagger: negative (%s)", what, j.Stagger)
		}
		usable := true
		for _, ref := range []struct {
			key   string
			names []string
		}{{"windows", j.Windows}, {"blackouts", j.Blackouts}} {
			for k, w := range ref.names {
				if _, ok := c.Windows[w]; !ok {
					errorf(jl.item(ref.key, k), "%s: %s: unknown window %q (time_intervals: %s)", what, ref.key, w, listOrNone(slices.Sorted(maps.Keys(c.Windows))))
					usable = false
				} else if neverOpen[w] {
					usable = false
				}
			}
		}
		if usable && j.Schedule != nil && len(j.Windows)+len(j.Blackouts) > 0 && !c.runsWithinYear(j, now) {
			key := "windows"
			if len(j.Windows) == 0 {
				key = "blackouts"
			}
			errorf(jl.of(key), "%s: the job would never run: none of its due times (%s) in the next year is %s", what, j.Spec, c.allowedPhrase(j))
		}
		if knownNode != nil {
			for k, sel := range j.Select {
				line := jl.of("select")
				if jl != nil && k < len(jl.selects) {
					line = jl.selects[k]
				}
				if err := knownNode(sel); err != nil {
					errorf(line, "%s: select %q: %v", what, sel, err)
				}
			}
		}
	}
	return errs
}

// location returns the config's location, UTC when unset.
func (c *Config) location() *time.Location {
	if c.Location == nil {
		return time.UTC
	}
	return c.Location
}

// maxDueScan bounds the due times runsWithinYear looks at (a year of
// minutes).
const maxDueScan = 366 * 24 * 60

// runsWithinYear reports whether some due time of the job in the year after
// now is allowed by its windows and blackouts.
func (c *Config) runsWithinYear(j *Job, now time.Time) bool {
	end := now.AddDate(1, 0, 0)
	t := now
	for range maxDueScan {
		t = j.Schedule.Next(t)
		if t.IsZero() || t.After(end) {
			return false
		}
		if c.allowed(j, t) {
			return true
		}
	}
	return false
}

// allowed reports whether the job's windows and blackouts let it start at t.
func (c *Config) allowed(j *Job, t time.Time) bool {
	for _, w := range j.Windows {
		if !c.Windows[w].Contains(t) {
			return false
		}
	}
	for _, w := range j.Blackouts {
		if c.Windows[w].Contains(t) {
			return false
		}
	}
	return true
}

// allowedPhrase says where a job may start, for errors.
func (c *Config) allowedPhrase(j *Job) string {
	var parts []string
	if len(j.Windows) == 1 {
		parts = append(parts, fmt.Sprintf("inside window %q", j.Windows[0]))
	} else if len(j.Windows) > 1 {
		parts = append(parts, fmt.Sprintf("inside all of the windows %s", quoteList(j.Windows)))
	}
	if len(j.Blackouts) > 0 {
		parts = append(parts, fmt.Sprintf("outside the blackouts %s", quoteList(j.Blackouts)))
	}
	return strings.Join(parts, " and ")
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "none defined"
	}
	return strings.Join(names, ", ")
}
