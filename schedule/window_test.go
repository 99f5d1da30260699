package schedule_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vyaparbazaar/dataops/schedule"
)

func TestWindowContains(t *testing.T) {
	ist := ctZone(t, "Asia/Kolkata")
	weekdayNights := &schedule.Window{Name: "low-traffic", Intervals: []schedule.Interval{{
		Times:    []schedule.TimeRange{{Start: 60, End: 300}},
		Weekdays: []schedule.WeekdayRange{{Start: time.Monday, End: time.Friday}},
		Location: ist,
	}}}
	lastDays := &schedule.Window{Name: "month-end", Intervals: []schedule.Interval{{
		DaysOfMonth: []schedule.DayOfMonthRange{{Start: -3, End: -1}},
		Location:    ist,
	}}}
	lastDay := &schedule.Window{Name: "last-day", Intervals: []schedule.Interval{{
		DaysOfMonth: []schedule.DayOfMonthRange{{Start: -1, End: -1}},
	}}}
	festive := &schedule.Window{Name: "festive", Intervals: []schedule.Interval{
		{Months: []schedule.MonthRange{{Start: time.October, End: time.November}}, Years: []schedule.YearRange{{Start: 2026, End: 2026}}, Location: ist},
		{DaysOfMonth: []schedule.DayOfMonthRange{{Start: 24, End: 26}}, Months: []schedule.MonthRange{{Start: time.December, End: time.December}}, Location: ist},
	}}
	everything := &schedule.Window{Name: "always", Intervals: []schedule.Interval{{}}}
	nothing := &schedule.Window{Name: "never"}
	for _, tc := range []struct {
		name string
		w    *schedule.Window
		t    time.Time
		want bool
	}{
		{"weekday night inside", weekdayNights, time.Date(2026, 11, 16, 3, 0, 0, 0, ist), true},
		{"weekday night at the start", weekdayNights, time.Date(2026, 11, 16, 1, 0, 0, 0, ist), true},
		{"weekday night just before the end", weekdayNights, time.Date(2026, 11, 16, 4, 59, 59, 0, ist), true},
		{"weekday night at the end (exclusive)", weekdayNights, time.Date(2026, 11, 16, 5, 0, 0, 0, ist), false},
		{"weekday night before the start", weekdayNights, time.Date(2026, 11, 16, 0, 59, 0, 0, ist), false},
		{"Friday is in monday:friday", weekdayNights, time.Date(2026, 11, 20, 2, 0, 0, 0, ist), true},
		{"Saturday is not", weekdayNights, time.Date(2026, 11, 21, 2, 0, 0, 0, ist), false},
		{"Sunday is not", weekdayNights, time.Date(2026, 11, 22, 2, 0, 0, 0, ist), false},
		{"the window's location, not t's: 21:00 UTC Sunday is 02:30 IST Monday", weekdayNights, time.Date(2026, 11, 15, 21, 0, 0, 0, time.UTC), true},
		{"20:00 UTC Monday is 01:30 IST Tuesday", weekdayNights, time.Date(2026, 11, 16, 20, 0, 0, 0, time.UTC), true},
		{"03:00 UTC Monday is 08:30 IST", weekdayNights, time.Date(2026, 11, 16, 3, 0, 0, 0, time.UTC), false},
		{"-3:-1 on a 30-day month: the 28th", lastDays, time.Date(2026, 11, 28, 0, 0, 0, 0, ist), true},
		{"-3:-1 on a 30-day month: not the 27th", lastDays, time.Date(2026, 11, 27, 23, 59, 0, 0, ist), false},
		{"-3:-1 on a 31-day month: the 29th", lastDays, time.Date(2026, 12, 29, 12, 0, 0, 0, ist), true},
		{"-3:-1 on a leap February: the 27th", lastDays, time.Date(2028, 2, 27, 12, 0, 0, 0, ist), true},
		{"-3:-1 on a leap February: not the 26th", lastDays, time.Date(2028, 2, 26, 12, 0, 0, 0, ist), false},
		{"-1 is the 29th in February 2028", lastDay, time.Date(2028, 2, 29, 12, 0, 0, 0, time.UTC), true},
		{"-1 is not the 28th in February 2028", lastDay, time.Date(2028, 2, 28, 12, 0, 0, 0, time.UTC), false},
		{"-1 is the 28th in February 2027", lastDay, time.Date(2027, 2, 28, 12, 0, 0, 0, time.UTC), true},
		{"months and years", festive, time.Date(2026, 10, 20, 12, 0, 0, 0, ist), true},
		{"months and years: another year", festive, time.Date(2027, 10, 20, 12, 0, 0, 0, ist), false},
		{"any interval: the second", festive, time.Date(2027, 12, 25, 12, 0, 0, 0, ist), true},
		{"any interval: neither", festive, time.Date(2027, 12, 27, 12, 0, 0, 0, ist), false},
		{"an empty interval contains everything", everything, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{"no interval contains nothing", nothing, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.w.Contains(tc.t))
		})
	}
}

func TestWindowNextOpen(t *testing.T) {
	ist := ctZone(t, "Asia/Kolkata")
	ny := ctZone(t, "America/New_York")
	nights := &schedule.Window{Name: "low-traffic", Intervals: []schedule.Interval{{
		Times:    []schedule.TimeRange{{Start: 60, End: 300}},
		Weekdays: []schedule.WeekdayRange{{Start: time.Monday, End: time.Friday}},
		Location: ist,
	}}}
	twoRanges := &schedule.Window{Name: "split", Intervals: []schedule.Interval{{
		Times:    []schedule.TimeRange{{Start: 13 * 60, End: 14 * 60}, {Start: 60, End: 120}},
		Location: ist,
	}}}
	lastDay := &schedule.Window{Name: "last-day", Intervals: []schedule.Interval{{
		DaysOfMonth: []schedule.DayOfMonthRange{{Start: -1, End: -1}},
		Location:    ist,
	}}}
	gap := &schedule.Window{Name: "in-the-gap", Intervals: []schedule.Interval{{
		Times:    []schedule.TimeRange{{Start: 2 * 60, End: 2*60 + 30}},
		Location: ny,
	}}}
	acrossGap := &schedule.Window{Name: "across-the-gap", Intervals: []schedule.Interval{{
		Times:    []schedule.TimeRange{{Start: 2 * 60, End: 4 * 60}},
		Location: ny,
	}}}
	for _, tc := range []struct {
		name string
		w    *schedule.Window
		t    time.Time
		want string // "" for never
	}{
		{"inside: t itself", nights, time.Date(2026, 11, 16, 3, 17, 42, 0, ist), "2026-11-16 03:17:42 IST"},
		{"before the start", nights, time.Date(2026, 11, 16, 0, 30, 0, 0, ist), "2026-11-16 01:00:00 IST"},
		{"after the end: the next night", nights, time.Date(2026, 11, 16, 5, 0, 0, 0, ist), "2026-11-17 01:00:00 IST"},
		{"Friday after the end: Monday", nights, time.Date(2026, 11, 20, 6, 0, 0, 0, ist), "2026-11-23 01:00:00 IST"},
		{"in another zone", nights, time.Date(2026, 11, 16, 12, 0, 0, 0, time.UTC), "2026-11-17 01:00:00 IST"},
		{"the earlier of two ranges", twoRanges, time.Date(2026, 11, 16, 12, 0, 0, 0, ist), "2026-11-16 13:00:00 IST"},
		{"the next day's first range", twoRanges, time.Date(2026, 11, 16, 15, 0, 0, 0, ist), "2026-11-17 01:00:00 IST"},
		{"a whole day opens at midnight", lastDay, time.Date(2026, 11, 14, 9, 0, 0, 0, ist), "2026-11-30 00:00:00 IST"},
		{"a range inside the spring-forward gap never opens that day", gap, time.Date(2026, 3, 8, 0, 0, 0, 0, ny), "2026-03-09 02:00:00 EDT"},
		{"a range across the gap opens when it ends", acrossGap, time.Date(2026, 3, 8, 0, 0, 0, 0, ny), "2026-03-08 03:00:00 EDT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.w.NextOpen(tc.t)
			require.False(t, got.IsZero())
			assert.Equal(t, tc.want, got.Format("2006-01-02 15:04:05 MST"))
			assert.True(t, tc.w.Contains(got))
			assert.False(t, got.Before(tc.t))
		})
	}

	for _, tc := range []struct {
		name string
		w    *schedule.Window
	}{
		{"30 February", &schedule.Window{Intervals: []schedule.Interval{{
			DaysOfMonth: []schedule.DayOfMonthRange{{Start: 30, End: 31}},
			Months:      []schedule.MonthRange{{Start: time.February, End: time.February}},
		}}}},
		{"a past year", &schedule.Window{Intervals: []schedule.Interval{{Years: []schedule.YearRange{{Start: 2020, End: 2025}}}}}},
		{"beyond a year", &schedule.Window{Intervals: []schedule.Interval{{Years: []schedule.YearRange{{Start: 2030, End: 2030}}}}}},
		{"no intervals", &schedule.Window{}},
	} {
		t.Run("never: "+tc.name, func(t *testing.T) {
			assert.True(t, tc.w.NextOpen(time.Date(2026, 11, 14, 0, 0, 0, 0, time.UTC)).IsZero())
		})
	}
}

func TestWindowRangeParsing(t *testing.T) {
	tr, err := schedule.ParseTimeRange("01:00", "05:00")
	require.NoError(t, err)
	assert.Equal(t, schedule.TimeRange{Start: 60, End: 300}, tr)
	tr, err = schedule.ParseTimeRange("22:30", "24:00")
	require.NoError(t, err)
	assert.Equal(t, schedule.TimeRange{Start: 1350, End: 1440}, tr)
	for _, bad := range [][2]string{{"05:00", "01:00"}, {"01:00", "01:00"}, {"24:00", "24:00"}, {"1:00pm", "2:00"}, {"01:60", "02:00"}, {"", "01:00"}, {"00:00", "24:01"}} {
		_, err := schedule.ParseTimeRange(bad[0], bad[1])
		assert.Error(t, err, "%v", bad)
	}

	wr, err := schedule.ParseWeekdayRange("Monday:Friday")
	require.NoError(t, err)
	assert.Equal(t, schedule.WeekdayRange{Start: time.Monday, End: time.Friday}, wr)
	wr, err = schedule.ParseWeekdayRange("sunday")
	require.NoError(t, err)
	assert.Equal(t, schedule.WeekdayRange{Start: time.Sunday, End: time.Sunday}, wr)
	_, err = schedule.ParseWeekdayRange("saturday:sunday")
	assert.ErrorContains(t, err, "list saturday and sunday separately")
	_, err = schedule.ParseWeekdayRange("mon")
	assert.Error(t, err)

	dr, err := schedule.ParseDayOfMonthRange("-3:-1")
	require.NoError(t, err)
	assert.Equal(t, schedule.DayOfMonthRange{Start: -3, End: -1}, dr)
	dr, err = schedule.ParseDayOfMonthRange("1:-1")
	require.NoError(t, err)
	assert.Equal(t, schedule.DayOfMonthRange{Start: 1, End: -1}, dr)
	for _, bad := range []string{"0", "32", "-32", "5:1", "-1:-3", "x"} {
		_, err := schedule.ParseDayOfMonthRange(bad)
		assert.Error(t, err, bad)
	}

	mr, err := schedule.ParseMonthRange("january:march")
	require.NoError(t, err)
	assert.Equal(t, schedule.MonthRange{Start: time.January, End: time.March}, mr)
	mr, err = schedule.ParseMonthRange("11:12")
	require.NoError(t, err)
	assert.Equal(t, schedule.MonthRange{Start: time.November, End: time.December}, mr)
	for _, bad := range []string{"december:january", "13", "jan"} {
		_, err := schedule.ParseMonthRange(bad)
		assert.Error(t, err, bad)
	}

	yr, err := schedule.ParseYearRange("2026:2027")
	require.NoError(t, err)
	assert.Equal(t, schedule.YearRange{Start: 2026, End: 2027}, yr)
	_, err = schedule.ParseYearRange("2027:2026")
	assert.Error(t, err)
}
