package schedule

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"

	"github.com/adhocore/gronx"
)

// Cron is a five-field cron schedule ("minute hour day-of-month month
// day-of-week") in a time zone. It implements Schedule.
//
// The syntax is gronx's (github.com/adhocore/gronx), which validates it:
// "*", "?", numbers, ranges "a-b", steps "*/n", "a/n" and "a-b/n", lists
// "a,b", month and day names (JAN-DEC, SUN-SAT, 7 = Sunday), and in the
// day fields L (the last day of the month), nW (the weekday nearest the
// nth, within the month), nL (the last weekday n of the month) and n#k (the
// kth weekday n of the month). Tags stand for expressions: @yearly
// (@annually), @monthly, @weekly, @daily, @hourly, @always, @5minutes,
// @10minutes, @15minutes and @30minutes. When both day fields are
// restricted a day matches either of them, as in Vixie cron, unless one of
// them starts with '*' ("*/2"), in which case it must match both.
//
// Next works on the wall clock of the location, so that every wall time
// runs at most once a day across daylight-saving changes: a wall time that
// does not exist (02:30 on the day clocks spring forward from 02:00 to
// 03:00) runs once, at the first instant after the gap (03:00), and a wall
// time that happens twice (01:30 on the day clocks fall back from 02:00 to
// 01:00) runs once, at its first occurrence.
//
// The fields are parsed once into bit sets, so Next costs well under a
// microsecond. A Cron is immutable and safe for concurrent use.
type Cron struct {
	spec    string
	loc     *time.Location
	minutes uint64 // bit m: minute m matches (0-59)
	hours   uint32 // bit h: hour h matches (0-23)
	months  uint16 // bit m: month m matches (1-12)
	// days[n-28][w] has bit d set when day d of a month of n days whose
	// first day is weekday w matches the day-of-month and day-of-week
	// fields: every rule (L, W, nL, n#k) depends only on those two.
	days [4][7]uint32
}

// cronTags are the tags gronx accepts that stand for five-field
// expressions.
var cronTags = map[string]string{
	"@yearly":    "0 0 1 1 *",
	"@annually":  "0 0 1 1 *",
	"@monthly":   "0 0 1 * *",
	"@weekly":    "0 0 * * 0",
	"@daily":     "0 0 * * *",
	"@hourly":    "0 * * * *",
	"@always":    "* * * * *",
	"@5minutes":  "*/5 * * * *",
	"@10minutes": "*/10 * * * *",
	"@15minutes": "*/15 * * * *",
	"@30minutes": "0,30 * * * *",
}

// cronNames are the month and day names, as gronx replaces them.
var cronNames = strings.NewReplacer(
	"SUN", "0", "MON", "1", "TUE", "2", "WED", "3", "THU", "4", "FRI", "5", "SAT", "6",
	"JAN", "1", "FEB", "2", "MAR", "3", "APR", "4", "MAY", "5", "JUN", "6", "JUL", "7",
	"AUG", "8", "SEP", "9", "OCT", "10", "NOV", "11", "DEC", "12",
)

// ParseCron parses a five-field cron expression or a tag such as @daily
// (see Cron) to be evaluated in loc; a nil loc means UTC. Seconds and years
// fields and "@every" are refused, and so is an expression that can never
// be due ("0 0 30 2 *").
func ParseCron(expr string, loc *time.Location) (*Cron, error) {
	if loc == nil {
		loc = time.UTC
	}
	spec := strings.TrimSpace(expr)
	if spec == "" {
		return nil, fmt.Errorf("empty cron expression")
	}
	norm := spec
	if strings.HasPrefix(norm, "@") {
		e, ok := cronTags[strings.ToLower(norm)]
		if !ok {
			return nil, fmt.Errorf("cron %q: unknown tag (want @yearly, @monthly, @weekly, @daily, @hourly or a five-field expression)", spec)
		}
		norm = e
	}
	fields := strings.Fields(cronNames.Replace(strings.ToUpper(norm)))
	if len(fields) != 5 {
		return nil, fmt.Errorf("cron %q: want 5 fields (minute hour day-of-month month day-of-week), got %d", spec, len(fields))
	}
	c := &Cron{spec: spec, loc: loc}
	var err error
	var mins, hrs, mons uint64
	if mins, err = parsePlainField(fields[0], 0, 59, false); err != nil {
		return nil, fmt.Errorf("cron %q: minute: %w", spec, err)
	}
	if hrs, err = parsePlainField(fields[1], 0, 23, false); err != nil {
		return nil, fmt.Errorf("cron %q: hour: %w", spec, err)
	}
	if mons, err = parsePlainField(fields[3], 1, 12, false); err != nil {
		return nil, fmt.Errorf("cron %q: month: %w", spec, err)
	}
	dom, err := parseDayOfMonth(fields[2])
	if err != nil {
		return nil, fmt.Errorf("cron %q: day of month: %w", spec, err)
	}
	dow, err := parseDayOfWeek(fields[4])
	if err != nil {
		return nil, fmt.Errorf("cron %q: day of week: %w", spec, err)
	}
	// Our parser is at least as strict as gronx; gronx has the last word.
	if !gronx.IsValid(norm) {
		return nil, fmt.Errorf("cron %q: invalid expression", spec)
	}
	c.minutes, c.hours, c.months = mins, uint32(hrs), uint16(mons)
	c.fillDays(fields[2], fields[4], dom, dow)
	if c.never() {
		return nil, fmt.Errorf("cron %q: is never due (no month has such a day)", spec)
	}
	return c, nil
}

// MustParseCron is ParseCron that panics on error, for tests and
// package-level variables.
func MustParseCron(expr string, loc *time.Location) *Cron {
	c, err := ParseCron(expr, loc)
	if err != nil {
		panic(err)
	}
	return c
}

// String returns the expression as written.
func (c *Cron) String() string { return c.spec }

// Location returns the time zone the schedule is evaluated in.
func (c *Cron) Location() *time.Location { return c.loc }

// Next returns the first due time strictly after after (due times fall on
// whole minutes of the wall clock of the Cron's location), in that
// location.
func (c *Cron) Next(after time.Time) time.Time {
	t := after.In(c.loc)
	y, mon, d := t.Date()
	h, mi, _ := t.Clock()
	m := int(mon)
	mi++ // strictly after: the next whole minute
	if mi == 60 {
		mi, h = 0, h+1
	}
	if h == 24 {
		h, d = 0, d+1
	}
	// Any possible expression is due within 400 years: the Gregorian
	// calendar repeats after that.
	for range 401*12 + 1 {
		n := daysIn(y, m)
		if c.months&(1<<m) != 0 && d <= n {
			mask := c.days[n-28][firstWeekday(y, m)] >> d << d
			for mask != 0 {
				day := bits.TrailingZeros32(mask)
				if day != d {
					d, h, mi = day, 0, 0
				}
				for h < 24 {
					hm := c.hours >> h << h
					if hm == 0 {
						break
					}
					if hh := bits.TrailingZeros32(hm); hh != h {
						h, mi = hh, 0
					}
					mm := c.minutes >> mi << mi
					if mm == 0 {
						h, mi = h+1, 0
						continue
					}
					mi = bits.TrailingZeros64(mm)
					if due := c.resolve(y, m, d, h, mi); due.After(after) {
						return due
					}
					// The wall time's first occurrence was not after
					// after (clocks went back): try the next minute.
					mi++
					if mi == 60 {
						h, mi = h+1, 0
					}
				}
				mask &^= 1 << d
				d, h, mi = d+1, 0, 0
			}
		}
		m, d, h, mi = m+1, 1, 0, 0
		if m == 13 {
			y, m = y+1, 1
		}
	}
	return time.Time{}
}

// resolve returns the instant of a wall time in c.loc: its first occurrence
// when clocks go back, or the end of the gap when it does not exist.
func (c *Cron) resolve(y, m, d, h, mi int) time.Time {
	if c.loc == time.UTC {
		return time.Date(y, time.Month(m), d, h, mi, 0, 0, time.UTC)
	}
	return resolveWall(y, m, d, h, mi, c.loc)
}

// resolveWall returns the instant of the wall time y-m-d h:mi in loc. When
// the wall time happens twice it returns the first occurrence; when it does
// not exist (it falls in the gap of a forward clock change) it returns the
// first instant after the gap.
func resolveWall(y, m, d, h, mi int, loc *time.Location) time.Time {
	want := wallUnix(y, m, d, h, mi)
	t := time.Date(y, time.Month(m), d, h, mi, 0, 0, loc)
	_, off := t.Zone()
	got := t.Unix() + int64(off)
	start, end := t.ZoneBounds()
	switch {
	case got == want:
		// It exists; does it also exist in the previous zone, earlier?
		if !start.IsZero() {
			prev := start.Add(-time.Second)
			_, prevOff := prev.Zone()
			if first := want - int64(prevOff); first < start.Unix() && first < t.Unix() {
				// Only if first lies in that previous zone.
				if prevStart, _ := prev.ZoneBounds(); prevStart.IsZero() || first >= prevStart.Unix() {
					return time.Unix(first, 0).In(loc)
				}
			}
		}
		return t
	case got < want && !end.IsZero():
		// t is before the gap: the gap ends where t's zone ends.
		return end.In(loc)
	case got > want && !start.IsZero():
		// t is after the gap: the gap ends where t's zone starts.
		return start.In(loc)
	}
	return t
}

// wallUnix returns the Unix time of the wall time y-m-d h:mi read as UTC.
func wallUnix(y, m, d, h, mi int) int64 {
	return daysFromCivil(y, m, d)*86400 + int64(h)*3600 + int64(mi)*60
}

// daysFromCivil returns the days from 1970-01-01 to y-m-d (proleptic
// Gregorian calendar; Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y
	if era < 0 {
		era -= 399
	}
	era /= 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// firstWeekday returns the weekday of the first day of month m of year y.
func firstWeekday(y, m int) int { return int(weekdayOf(y, m, 1)) }

// weekdayOf returns the weekday of y-m-d.
func weekdayOf(y, m, d int) time.Weekday {
	w := (daysFromCivil(y, m, d) + 4) % 7 // 1970-01-01 was a Thursday
	if w < 0 {
		w += 7
	}
	return time.Weekday(w)
}

// isLeap reports whether y is a leap year.
func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// daysIn returns the number of days of month m of year y.
func daysIn(y, m int) int {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// domSpec is a parsed day-of-month field.
type domSpec struct {
	plain uint64 // bits 1-31
	last  bool   // L
	near  []int  // nW
}

// dowSpec is a parsed day-of-week field.
type dowSpec struct {
	plain uint64   // bits 0-6
	last  []int    // nL: the last weekday n of the month
	nth   [][2]int // n#k: the kth weekday n of the month
}

// fillDays precomputes c.days for every month length and first weekday.
func (c *Cron) fillDays(domField, dowField string, dom domSpec, dow dowSpec) {
	domAll := domField == "*" || domField == "?"
	dowAll := dowField == "*" || dowField == "?"
	// gronx's rule: with a restricted day of week, the day fields are
	// intersected when the day of week starts with "*/" or the day of
	// month starts with '*' (or is '?'), and united otherwise.
	intersect := strings.HasPrefix(dowField, "*/") || strings.HasPrefix(domField, "*") || domField == "?"
	for n := 28; n <= 31; n++ {
		for fw := range 7 {
			var nearDays uint32
			for _, k := range dom.near {
				if day := nearestWeekday(k, n, fw); day > 0 {
					nearDays |= 1 << day
				}
			}
			var mask uint32
			for d := 1; d <= n; d++ {
				wd := (fw + d - 1) % 7
				domOK := domAll || dom.plain&(1<<d) != 0 || (dom.last && d == n) || nearDays&(1<<d) != 0
				dowOK := dowAll || dow.plain&(1<<wd) != 0
				for _, l := range dow.last {
					if wd == l && d > n-7 {
						dowOK = true
					}
				}
				for _, nk := range dow.nth {
					if wd == nk[0] && (d-1)/7 == nk[1]-1 {
						dowOK = true
					}
				}
				var ok bool
				switch {
				case dowAll:
					ok = domOK
				case intersect:
					ok = domOK && dowOK
				default:
					ok = domOK || dowOK
				}
				if ok {
					mask |= 1 << d
				}
			}
			c.days[n-28][fw] = mask
		}
	}
}

// never reports whether no month of the calendar has a matching day. Every
// month length occurs with every first weekday within 400 years.
func (c *Cron) never() bool {
	if c.minutes == 0 || c.hours == 0 {
		return true
	}
	for m := 1; m <= 12; m++ {
		if c.months&(1<<m) == 0 {
			continue
		}
		lengths := []int{daysIn(2001, m)}
		if m == 2 {
			lengths = []int{28, 29}
		}
		for _, n := range lengths {
			for fw := range 7 {
				if c.days[n-28][fw] != 0 {
					return false
				}
			}
		}
	}
	return true
}

// nearestWeekday returns the day matched by "kW" in a month of n days whose
// first day is weekday fw (gronx's rule: k itself if a weekday, else the
// nearest weekday within the month, trying k-1, k+1, k-2, k+2), or 0.
func nearestWeekday(k, n, fw int) int {
	if k > n {
		return 0
	}
	for _, off := range []int{0, -1, 1, -2, 2} {
		d := k + off
		if d < 1 || d > n {
			continue
		}
		if wd := (fw + d - 1) % 7; wd >= 1 && wd <= 5 {
			return d
		}
	}
	return 0
}

// parseDayOfMonth parses the day-of-month field.
func parseDayOfMonth(f string) (domSpec, error) {
	var s domSpec
	if f == "?" {
		f = "*"
	}
	for item := range strings.SplitSeq(f, ",") {
		switch {
		case item == "L":
			s.last = true
		case strings.HasSuffix(item, "W"):
			k, err := strconv.Atoi(strings.TrimSuffix(item, "W"))
			if err != nil || k < 1 || k > 31 {
				return s, fmt.Errorf("%q: want nW with n in 1-31", item)
			}
			s.near = append(s.near, k)
		case strings.ContainsAny(item, "LW#"):
			return s, fmt.Errorf("%q: L and W are written L and nW", item)
		default:
			b, err := parsePlainField(item, 1, 31, false)
			if err != nil {
				return s, err
			}
			s.plain |= b
		}
	}
	return s, nil
}

// parseDayOfWeek parses the day-of-week field (0-7, 7 = Sunday).
func parseDayOfWeek(f string) (dowSpec, error) {
	var s dowSpec
	if f == "?" {
		f = "*"
	}
	for item := range strings.SplitSeq(f, ",") {
		switch {
		case strings.HasSuffix(item, "L"):
			n, err := strconv.Atoi(strings.TrimSuffix(item, "L"))
			if err != nil || n < 0 || n > 7 {
				return s, fmt.Errorf("%q: want nL with n in 0-7", item)
			}
			s.last = append(s.last, n%7)
		case strings.Contains(item, "#"):
			a, b, _ := strings.Cut(item, "#")
			n, err1 := strconv.Atoi(a)
			k, err2 := strconv.Atoi(b)
			if err1 != nil || err2 != nil || n < 0 || n > 7 || k < 1 || k > 5 {
				return s, fmt.Errorf("%q: want n#k with n in 0-7 and k in 1-5", item)
			}
			s.nth = append(s.nth, [2]int{n % 7, k})
		case strings.ContainsAny(item, "LW"):
			return s, fmt.Errorf("%q: L is written nL in the day of week", item)
		default:
			b, err := parsePlainField(item, 0, 7, true)
			if err != nil {
				return s, err
			}
			if b&(1<<7) != 0 {
				b = b&^(1<<7) | 1 // 7 is Sunday
			}
			s.plain |= b
		}
	}
	return s, nil
}

// parsePlainField parses a list of "*", "n", "a-b" and steps ("*/s", "a/s",
// "a-b/s") within [lo, hi] into a bit set, with gronx's meaning: "*/s"
// counts from lo, "0/s" matches multiples of s, "a/s" runs from a to hi.
// For the day of week (dow), 7 is Sunday: a range or step starting at 7
// starts at 0, one ending at 7 includes Sunday.
func parsePlainField(f string, lo, hi int, dow bool) (uint64, error) {
	var set uint64
	for item := range strings.SplitSeq(f, ",") {
		if item == "" {
			return 0, fmt.Errorf("empty list item in %q", f)
		}
		rng, stepStr, hasStep := strings.Cut(item, "/")
		step := 1
		if hasStep {
			s, err := strconv.Atoi(stepStr)
			if err != nil || s < 1 {
				return 0, fmt.Errorf("%q: the step must be a positive number", item)
			}
			step = s
		}
		var start, end int
		switch {
		case rng == "*":
			start, end = lo, hi
		case hasStep && rng == "0" && !dow && lo > 0:
			// "0/s": multiples of s (gronx).
			start, end = 0, hi
		default:
			a, b, isRange := strings.Cut(rng, "-")
			var err error
			if start, err = atoiIn(a, lo, hi); err != nil {
				if item == a {
					return 0, err
				}
				return 0, fmt.Errorf("%q: %w", item, err)
			}
			end = start
			switch {
			case isRange:
				if end, err = atoiIn(b, lo, hi); err != nil {
					return 0, fmt.Errorf("%q: %w", item, err)
				}
			case hasStep && dow:
				end = 6 // "a/s" runs to Saturday
			case hasStep:
				end = hi
			}
			if dow && start == 7 && end != 7 {
				start = 0
			}
			if end < start {
				return 0, fmt.Errorf("%q: the range ends before it starts", item)
			}
		}
		for v := start; v <= end; v += step {
			if v >= lo {
				set |= 1 << v
			}
		}
	}
	return set, nil
}

// atoiIn parses a number within [lo, hi].
func atoiIn(s string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || strings.HasPrefix(s, "+") || strings.HasPrefix(s, "-") {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("%d is out of range %d-%d", n, lo, hi)
	}
	return n, nil
}
