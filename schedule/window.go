package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// TimeRange is a span of the day in minutes from midnight, as in
// Alertmanager's times: {start_time: "01:00", end_time: "05:00"} is
// {60, 300}. End is exclusive and may be 1440 ("24:00").
type TimeRange struct{ Start, End int }

// WeekdayRange is an inclusive range of weekdays ("monday:friday"); a
// single day has Start == End. Ranges do not wrap: Start ≤ End, Sunday
// being 0 — write the weekend as "saturday" and "sunday".
type WeekdayRange struct{ Start, End time.Weekday }

// DayOfMonthRange is an inclusive range of days of the month ("1:7").
// Negative days count from the end of the month: -1 is the last day, so
// "-3:-1" is the last three days. As in Alertmanager, a range starting
// after the month's end is not in that month ("30:31" in February) and an
// end beyond it is clamped to it ("28:31" is the 28th to the last day).
type DayOfMonthRange struct{ Start, End int }

// MonthRange is an inclusive range of months ("january:march").
type MonthRange struct{ Start, End time.Month }

// YearRange is an inclusive range of years ("2026:2027").
type YearRange struct{ Start, End int }

// Interval is one of a Window's time intervals, as in Alertmanager's
// time_intervals: an instant is in it when it matches every field that is
// set, read on the wall clock of Location (nil means UTC; in a Config the
// default is the file's timezone). An empty field matches everything, so
// the zero Interval contains every instant.
type Interval struct {
	Times       []TimeRange
	Weekdays    []WeekdayRange
	DaysOfMonth []DayOfMonthRange
	Months      []MonthRange
	Years       []YearRange
	Location    *time.Location
}

// Window is a named set of intervals: an instant is in the window when it
// is in any of them. Jobs may be restricted to windows (they only start
// inside) or kept out of them (blackouts). A window without intervals
// contains nothing.
type Window struct {
	Name      string
	Intervals []Interval
}

// Contains reports whether t is in the window.
func (w *Window) Contains(t time.Time) bool {
	for i := range w.Intervals {
		if w.Intervals[i].Contains(t) {
			return true
		}
	}
	return false
}

// NextOpen returns the first instant at or after t that is in the window:
// t itself when the window contains it. It returns the zero time when the
// window does not open within a year of t — such a window never opens.
func (w *Window) NextOpen(t time.Time) time.Time {
	if w.Contains(t) {
		return t
	}
	limit := t.AddDate(1, 0, 0)
	var best time.Time
	for i := range w.Intervals {
		n := w.Intervals[i].nextOpen(t, limit)
		if !n.IsZero() && (best.IsZero() || n.Before(best)) {
			best = n
		}
	}
	return best
}

// String returns the window's name.
func (w *Window) String() string { return w.Name }

// location returns the interval's location, UTC when unset.
func (iv *Interval) location() *time.Location {
	if iv.Location == nil {
		return time.UTC
	}
	return iv.Location
}

// Contains reports whether t is in the interval.
func (iv *Interval) Contains(t time.Time) bool {
	lt := t.In(iv.location())
	y, m, d := lt.Date()
	if !iv.dayMatches(y, int(m), d, lt.Weekday()) {
		return false
	}
	if len(iv.Times) == 0 {
		return true
	}
	h, mi, _ := lt.Clock()
	return iv.timeMatches(h*60 + mi)
}

// timeMatches reports whether the minute of the day is in Times.
func (iv *Interval) timeMatches(minute int) bool {
	for _, r := range iv.Times {
		if minute >= r.Start && minute < r.End {
			return true
		}
	}
	return false
}

// dayMatches reports whether the date matches the interval's date fields.
func (iv *Interval) dayMatches(y, m, d int, wd time.Weekday) bool {
	if len(iv.Years) > 0 && !anyRange(iv.Years, func(r YearRange) bool { return y >= r.Start && y <= r.End }) {
		return false
	}
	if len(iv.Months) > 0 && !anyRange(iv.Months, func(r MonthRange) bool { return m >= int(r.Start) && m <= int(r.End) }) {
		return false
	}
	if len(iv.Weekdays) > 0 && !anyRange(iv.Weekdays, func(r WeekdayRange) bool { return wd >= r.Start && wd <= r.End }) {
		return false
	}
	if len(iv.DaysOfMonth) > 0 {
		n := daysIn(y, m)
		if !anyRange(iv.DaysOfMonth, func(r DayOfMonthRange) bool {
			if r.Start > n {
				return false // as Alertmanager: "30:31" is not in February
			}
			lo, hi := monthDay(r.Start, n), monthDay(r.End, n)
			return d >= lo && d <= hi
		}) {
			return false
		}
	}
	return true
}

// monthDay turns a day of the month that may count from the end (-1 is the
// last day) into a day of a month of n days, clamped to 1..n.
func monthDay(d, n int) int {
	if d < 0 {
		d = n + d + 1
	}
	return min(max(d, 1), n)
}

func anyRange[R any](rs []R, in func(R) bool) bool {
	for _, r := range rs {
		if in(r) {
			return true
		}
	}
	return false
}

// nextOpen returns the first instant at or after t, not after limit, at
// which the interval opens, or the zero time.
func (iv *Interval) nextOpen(t, limit time.Time) time.Time {
	loc := iv.location()
	lt := t.In(loc)
	y, mon, d := lt.Date()
	for i := 0; i <= 367; i++ {
		dy, dm, dd := time.Date(y, mon, d+i, 12, 0, 0, 0, time.UTC).Date()
		wd := weekdayOf(dy, int(dm), dd)
		if !iv.dayMatches(dy, int(dm), dd, wd) {
			continue
		}
		var starts []int
		if len(iv.Times) == 0 {
			starts = []int{0}
		} else {
			for _, r := range iv.Times {
				starts = append(starts, r.Start)
			}
		}
		var best time.Time
		for _, s := range starts {
			at := resolveWall(dy, int(dm), dd, s/60, s%60, loc)
			if at.Before(t) {
				// Opened earlier today (t is not inside, so it also
				// closed), or the day started before t.
				continue
			}
			if !iv.Contains(at) {
				// The range lies in a daylight-saving gap.
				continue
			}
			if best.IsZero() || at.Before(best) {
				best = at
			}
		}
		if !best.IsZero() {
			if best.After(limit) {
				return time.Time{}
			}
			return best
		}
	}
	return time.Time{}
}

// validate checks the interval's ranges.
func (iv *Interval) validate() error {
	for _, r := range iv.Times {
		if r.Start < 0 || r.End > 1440 || r.Start >= r.End {
			return fmt.Errorf("times: %s-%s: want 00:00 ≤ start < end ≤ 24:00", minuteString(r.Start), minuteString(r.End))
		}
	}
	for _, r := range iv.Weekdays {
		if r.Start < time.Sunday || r.End > time.Saturday || r.Start > r.End {
			return fmt.Errorf("weekdays: %d:%d: want sunday ≤ start ≤ end ≤ saturday", r.Start, r.End)
		}
	}
	for _, r := range iv.DaysOfMonth {
		if r.Start == 0 || r.End == 0 || r.Start < -31 || r.Start > 31 || r.End < -31 || r.End > 31 {
			return fmt.Errorf("days_of_month: %d:%d: want days in 1..31 or -31..-1", r.Start, r.End)
		}
		if (r.Start > 0) == (r.End > 0) && r.Start > r.End {
			return fmt.Errorf("days_of_month: %d:%d: the range ends before it starts", r.Start, r.End)
		}
	}
	for _, r := range iv.Months {
		if r.Start < time.January || r.End > time.December || r.Start > r.End {
			return fmt.Errorf("months: %d:%d: want january ≤ start ≤ end ≤ december", r.Start, r.End)
		}
	}
	for _, r := range iv.Years {
		if r.Start < 1 || r.Start > r.End {
			return fmt.Errorf("years: %d:%d: want a positive start ≤ end", r.Start, r.End)
		}
	}
	return nil
}

// minuteString formats a minute of the day as "HH:MM".
func minuteString(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// ParseTimeRange parses Alertmanager's start_time and end_time ("01:00",
// "05:00"; the end may be "24:00").
func ParseTimeRange(start, end string) (TimeRange, error) {
	s, err := parseClock(start, false)
	if err != nil {
		return TimeRange{}, fmt.Errorf("start_time: %w", err)
	}
	e, err := parseClock(end, true)
	if err != nil {
		return TimeRange{}, fmt.Errorf("end_time: %w", err)
	}
	if s >= e {
		return TimeRange{}, fmt.Errorf("start_time %s is not before end_time %s", start, end)
	}
	return TimeRange{Start: s, End: e}, nil
}

// parseClock parses "HH:MM" into minutes of the day.
func parseClock(s string, end bool) (int, error) {
	hs, ms, ok := strings.Cut(strings.TrimSpace(s), ":")
	h, err1 := strconv.Atoi(hs)
	m, err2 := strconv.Atoi(ms)
	if !ok || err1 != nil || err2 != nil || len(ms) != 2 || len(hs) < 1 || len(hs) > 2 || h < 0 || m < 0 || m > 59 {
		return 0, fmt.Errorf("%q: want HH:MM", s)
	}
	v := h*60 + m
	if h > 23 && !(end && v == 1440) {
		return 0, fmt.Errorf("%q: want 00:00 to 23:59 (or 24:00 as an end)", s)
	}
	return v, nil
}

var weekdayNames = map[string]time.Weekday{
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

var monthNames = map[string]time.Month{
	"january": time.January, "february": time.February, "march": time.March, "april": time.April,
	"may": time.May, "june": time.June, "july": time.July, "august": time.August,
	"september": time.September, "october": time.October, "november": time.November, "december": time.December,
}

// splitRange splits "a:b" (or "a", meaning "a:a").
func splitRange(s string) (string, string) {
	s = strings.ToLower(strings.TrimSpace(s))
	a, b, ok := strings.Cut(s, ":")
	if !ok {
		return s, s
	}
	return strings.TrimSpace(a), strings.TrimSpace(b)
}

// ParseWeekdayRange parses "monday:friday" or "saturday".
func ParseWeekdayRange(s string) (WeekdayRange, error) {
	a, b := splitRange(s)
	wa, ok1 := weekdayNames[a]
	wb, ok2 := weekdayNames[b]
	if !ok1 || !ok2 {
		return WeekdayRange{}, fmt.Errorf("weekdays: %q: want a day name or a range such as monday:friday", s)
	}
	r := WeekdayRange{Start: wa, End: wb}
	if wa > wb {
		return r, fmt.Errorf("weekdays: %q: the range ends before it starts (weeks start on sunday; list saturday and sunday separately)", s)
	}
	return r, nil
}

// ParseDayOfMonthRange parses "1:5", "-3:-1" or "15".
func ParseDayOfMonthRange(s string) (DayOfMonthRange, error) {
	a, b := splitRange(s)
	da, err1 := strconv.Atoi(a)
	db, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil {
		return DayOfMonthRange{}, fmt.Errorf("days_of_month: %q: want a day or a range such as 1:5 or -3:-1", s)
	}
	r := DayOfMonthRange{Start: da, End: db}
	iv := Interval{DaysOfMonth: []DayOfMonthRange{r}}
	return r, iv.validate()
}

// ParseMonthRange parses "january:march", "1:3" or "december".
func ParseMonthRange(s string) (MonthRange, error) {
	a, b := splitRange(s)
	month := func(x string) (time.Month, bool) {
		if m, ok := monthNames[x]; ok {
			return m, true
		}
		n, err := strconv.Atoi(x)
		return time.Month(n), err == nil && n >= 1 && n <= 12
	}
	ma, ok1 := month(a)
	mb, ok2 := month(b)
	if !ok1 || !ok2 {
		return MonthRange{}, fmt.Errorf("months: %q: want a month (name or 1-12) or a range such as january:march", s)
	}
	r := MonthRange{Start: ma, End: mb}
	if ma > mb {
		return r, fmt.Errorf("months: %q: the range ends before it starts", s)
	}
	return r, nil
}

// ParseYearRange parses "2026:2027" or "2026".
func ParseYearRange(s string) (YearRange, error) {
	a, b := splitRange(s)
	ya, err1 := strconv.Atoi(a)
	yb, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil {
		return YearRange{}, fmt.Errorf("years: %q: want a year or a range such as 2026:2027", s)
	}
	r := YearRange{Start: ya, End: yb}
	iv := Interval{Years: []YearRange{r}}
	return r, iv.validate()
}
