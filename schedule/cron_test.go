package schedule_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the zones below, also where the system has no zoneinfo

	"github.com/adhocore/gronx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vyaparbazaar/dataops/schedule"
)

// ctZone loads a time zone or fails the test.
func ctZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

// ctNexts returns the n due times after from.
func ctNexts(s schedule.Schedule, from time.Time, n int) []time.Time {
	var out []time.Time
	for t := from; len(out) < n; {
		t = s.Next(t)
		if t.IsZero() {
			break
		}
		out = append(out, t)
	}
	return out
}

// ctFormat formats times as wall times with their zone abbreviation.
func ctFormat(ts []time.Time) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Format("2006-01-02 15:04 Mon MST")
	}
	return out
}

func TestParseCronErrors(t *testing.T) {
	for _, tc := range []struct {
		expr, want string
	}{
		{"", "empty cron expression"},
		{"* * * *", "want 5 fields"},
		{"0 * * * * *", "want 5 fields"},
		{"0 0 1 1 * 2027", "want 5 fields"},
		{"@every 15m", "unknown tag"},
		{"@reboot", "unknown tag"},
		{"60 * * * *", "minute: 60 is out of range 0-59"},
		{"* 24 * * *", "hour: 24 is out of range 0-23"},
		{"* * 0 * *", "day of month: 0 is out of range 1-31"},
		{"* * 32 * *", "day of month: 32 is out of range 1-31"},
		{"* * * 13 *", "month: 13 is out of range 1-12"},
		{"* * * 0 *", "month: 0 is out of range 1-12"},
		{"* * * * 8", "day of week: 8 is out of range 0-7"},
		{"*/0 * * * *", "the step must be a positive number"},
		{"5-1 * * * *", "the range ends before it starts"},
		{"1-2-3 * * * *", "is not a number"},
		{"a * * * *", "is not a number"},
		{"1,,2 * * * *", "empty list item"},
		{"-5 * * * *", "is not a number"},
		{"0 0 LW * *", "want nW"},
		{"0 0 32W * *", "want nW"},
		{"0 0 L-2 * *", "L and W are written"},
		{"0 0 * * L", "want nL"},
		{"0 0 * * 8L", "want nL"},
		{"0 0 * * 1#6", "want n#k"},
		{"0 0 * * 8#1", "want n#k"},
		{"0 0 * * 1W", "L is written nL"},
		{"0 0 30 2 *", "is never due"},
		{"0 0 31 4,6,9,11 *", "is never due"},
		{"0 0 31W 2 *", "is never due"},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			c, err := schedule.ParseCron(tc.expr, time.UTC)
			require.Error(t, err)
			assert.Nil(t, c)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestCronNext(t *testing.T) {
	ist := ctZone(t, "Asia/Kolkata")
	for _, tc := range []struct {
		name, expr string
		loc        *time.Location
		from       time.Time
		want       []string
	}{
		{"every 15 minutes, strictly after", "*/15 * * * *", time.UTC, time.Date(2026, 11, 14, 10, 15, 0, 0, time.UTC),
			[]string{"2026-11-14 10:30 Sat UTC", "2026-11-14 10:45 Sat UTC", "2026-11-14 11:00 Sat UTC"}},
		{"seconds and sub-seconds are ignored", "15 * * * *", time.UTC, time.Date(2026, 11, 14, 10, 14, 59, 999999999, time.UTC),
			[]string{"2026-11-14 10:15 Sat UTC", "2026-11-14 11:15 Sat UTC"}},
		{"nil location is UTC", "0 6 * * *", nil, time.Date(2026, 11, 14, 0, 0, 0, 0, ist),
			[]string{"2026-11-14 06:00 Sat UTC"}},
		{"Asia/Kolkata is +05:30", "0 6 * * *", ist, time.Date(2026, 11, 14, 0, 0, 0, 0, time.UTC),
			[]string{"2026-11-14 06:00 Sat IST", "2026-11-15 06:00 Sun IST"}},
		{"L on 31-, 29-, 31- and 30-day months (2028 is a leap year)", "0 23 L * *", ist, time.Date(2028, 1, 15, 0, 0, 0, 0, ist),
			[]string{"2028-01-31 23:00 Mon IST", "2028-02-29 23:00 Tue IST", "2028-03-31 23:00 Fri IST", "2028-04-30 23:00 Sun IST"}},
		{"L on a 28-day February", "0 23 L 2 *", ist, time.Date(2026, 6, 1, 0, 0, 0, 0, ist),
			[]string{"2027-02-28 23:00 Sun IST", "2028-02-29 23:00 Tue IST", "2029-02-28 23:00 Wed IST"}},
		{"L on the last day itself, after its time", "0 23 L * *", ist, time.Date(2026, 11, 30, 23, 0, 0, 0, ist),
			[]string{"2026-12-31 23:00 Thu IST"}},
		{"15W: Sunday 15 Feb 2026 → Monday 16, Saturday 15 Aug → Friday 14", "0 9 15W * *", time.UTC, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC),
			[]string{"2026-02-16 09:00 Mon UTC", "2026-03-16 09:00 Mon UTC", "2026-04-15 09:00 Wed UTC", "2026-05-15 09:00 Fri UTC",
				"2026-06-15 09:00 Mon UTC", "2026-07-15 09:00 Wed UTC", "2026-08-14 09:00 Fri UTC"}},
		{"1W never crosses into the previous month", "0 9 1W 8 *", time.UTC, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
			[]string{"2026-08-03 09:00 Mon UTC"}},
		{"31W never crosses into the next month", "0 9 31W 5 *", time.UTC, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
			[]string{"2026-05-29 09:00 Fri UTC"}},
		{"last Friday (5L)", "0 18 * * 5L", time.UTC, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
			[]string{"2026-01-30 18:00 Fri UTC", "2026-02-27 18:00 Fri UTC", "2026-03-27 18:00 Fri UTC"}},
		{"second Monday (1#2)", "0 10 * * 1#2", time.UTC, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
			[]string{"2026-01-12 10:00 Mon UTC", "2026-02-09 10:00 Mon UTC", "2026-03-09 10:00 Mon UTC"}},
		{"both day fields: the 13th or a Friday", "0 0 13 * 5", time.UTC, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
			[]string{"2026-03-06 00:00 Fri UTC", "2026-03-13 00:00 Fri UTC", "2026-03-20 00:00 Fri UTC", "2026-03-27 00:00 Fri UTC",
				"2026-04-03 00:00 Fri UTC", "2026-04-10 00:00 Fri UTC", "2026-04-13 00:00 Mon UTC"}},
		{"day of month starting with *: odd days that are Mondays", "0 0 */2 * 1", time.UTC, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
			[]string{"2026-11-09 00:00 Mon UTC", "2026-11-23 00:00 Mon UTC", "2026-12-07 00:00 Mon UTC"}},
		{"names and 7 = Sunday", "0 9 * JAN-FEB MON-FRI,7", time.UTC, time.Date(2026, 2, 27, 10, 0, 0, 0, time.UTC),
			[]string{"2027-01-01 09:00 Fri UTC", "2027-01-03 09:00 Sun UTC", "2027-01-04 09:00 Mon UTC"}},
		{"@hourly", "@hourly", time.UTC, time.Date(2026, 11, 14, 10, 0, 0, 0, time.UTC),
			[]string{"2026-11-14 11:00 Sat UTC", "2026-11-14 12:00 Sat UTC"}},
		{"@daily", "@daily", ist, time.Date(2026, 11, 14, 10, 0, 0, 0, ist),
			[]string{"2026-11-15 00:00 Sun IST", "2026-11-16 00:00 Mon IST"}},
		{"@weekly is Sunday midnight", "@weekly", ist, time.Date(2026, 11, 14, 10, 0, 0, 0, ist),
			[]string{"2026-11-15 00:00 Sun IST", "2026-11-22 00:00 Sun IST"}},
		{"@monthly", "@Monthly", ist, time.Date(2026, 11, 14, 10, 0, 0, 0, ist),
			[]string{"2026-12-01 00:00 Tue IST", "2027-01-01 00:00 Fri IST"}},
		{"@yearly", "@yearly", ist, time.Date(2026, 11, 14, 10, 0, 0, 0, ist),
			[]string{"2027-01-01 00:00 Fri IST", "2028-01-01 00:00 Sat IST"}},
		{"29 February only", "0 0 29 2 *", time.UTC, time.Date(2028, 3, 1, 0, 0, 0, 0, time.UTC),
			[]string{"2032-02-29 00:00 Sun UTC"}},
		{"month steps count from January", "0 0 1 */4 *", time.UTC, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
			[]string{"2026-05-01 00:00 Fri UTC", "2026-09-01 00:00 Tue UTC", "2027-01-01 00:00 Fri UTC"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := schedule.ParseCron(tc.expr, tc.loc)
			require.NoError(t, err)
			assert.Equal(t, tc.expr, c.String())
			assert.Equal(t, tc.want, ctFormat(ctNexts(c, tc.from, len(tc.want))))
		})
	}
}

func TestCronLocation(t *testing.T) {
	c, err := schedule.ParseCron("0 6 * * *", nil)
	require.NoError(t, err)
	assert.Equal(t, time.UTC, c.Location())
	ist := ctZone(t, "Asia/Kolkata")
	c = schedule.MustParseCron(" 0 6 * * * ", ist)
	assert.Equal(t, ist, c.Location())
	assert.Equal(t, "0 6 * * *", c.String())
	assert.Panics(t, func() { schedule.MustParseCron("bad", nil) })
}

// TestCronDST checks daylight-saving changes: a wall time in the gap runs
// once at the end of the gap, a repeated wall time runs once (the first
// time), and the other wall times are untouched.
func TestCronDST(t *testing.T) {
	ny := ctZone(t, "America/New_York")
	london := ctZone(t, "Europe/London")
	for _, tc := range []struct {
		name, expr string
		loc        *time.Location
		from       time.Time
		want       []string
	}{
		{"New York spring forward: 02:30 does not exist → 03:00 EDT", "30 2 * * *", ny, time.Date(2026, 3, 7, 12, 0, 0, 0, ny),
			[]string{"2026-03-08 03:00 Sun EDT", "2026-03-09 02:30 Mon EDT", "2026-03-10 02:30 Tue EDT"}},
		{"New York spring forward: 02:00 and 03:00 run once, at 03:00", "0 2,3 * * *", ny, time.Date(2026, 3, 7, 12, 0, 0, 0, ny),
			[]string{"2026-03-08 03:00 Sun EDT", "2026-03-09 02:00 Mon EDT", "2026-03-09 03:00 Mon EDT"}},
		{"New York spring forward: every 20 minutes", "*/20 * * * *", ny, time.Date(2026, 3, 8, 1, 0, 0, 0, ny),
			[]string{"2026-03-08 01:20 Sun EST", "2026-03-08 01:40 Sun EST", "2026-03-08 03:00 Sun EDT", "2026-03-08 03:20 Sun EDT"}},
		{"New York fall back: 01:30 runs once, the first time (EDT)", "30 1 * * *", ny, time.Date(2026, 10, 31, 12, 0, 0, 0, ny),
			[]string{"2026-11-01 01:30 Sun EDT", "2026-11-02 01:30 Mon EST", "2026-11-03 01:30 Tue EST"}},
		{"New York fall back: every 20 minutes, the repeated hour once", "*/20 * * * *", ny, time.Date(2026, 11, 1, 0, 30, 0, 0, ny),
			[]string{"2026-11-01 00:40 Sun EDT", "2026-11-01 01:00 Sun EDT", "2026-11-01 01:20 Sun EDT", "2026-11-01 01:40 Sun EDT",
				"2026-11-01 02:00 Sun EST", "2026-11-01 02:20 Sun EST"}},
		{"New York fall back: from inside the second 01:xx, no rerun", "*/20 * * * *", ny, time.Date(2026, 11, 1, 6, 10, 0, 0, time.UTC),
			[]string{"2026-11-01 02:00 Sun EST", "2026-11-01 02:20 Sun EST"}},
		{"London spring forward: 01:30 does not exist → 02:00 BST", "30 1 * * *", london, time.Date(2026, 3, 28, 12, 0, 0, 0, london),
			[]string{"2026-03-29 02:00 Sun BST", "2026-03-30 01:30 Mon BST"}},
		{"London fall back: 01:30 runs once (BST)", "30 1 * * *", london, time.Date(2026, 10, 24, 12, 0, 0, 0, london),
			[]string{"2026-10-25 01:30 Sun BST", "2026-10-26 01:30 Mon GMT"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := schedule.ParseCron(tc.expr, tc.loc)
			require.NoError(t, err)
			assert.Equal(t, tc.want, ctFormat(ctNexts(c, tc.from, len(tc.want))))
		})
	}
}

// TestCronDSTEveryWallTimeOnce runs a daily job at every minute of the day
// across the four changes of 2026 in New York and London: each runs exactly
// once that day; and an every-5-minutes job runs once per wall time.
func TestCronDSTEveryWallTimeOnce(t *testing.T) {
	for _, tc := range []struct {
		zone  string
		day   time.Time // midnight UTC of the local date
		every int       // runs of */5 that day
	}{
		{"America/New_York", time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC), 276},    // 02:00-02:55 collapse into 03:00
		{"America/New_York", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), 288},   // 01:xx once
		{"Europe/London", time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC), 276},      // 01:00-01:55 collapse into 02:00
		{"Europe/London", time.Date(2026, 10, 25, 0, 0, 0, 0, time.UTC), 288},     // 01:xx once
		{"Asia/Kolkata", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), 288},       // no DST
		{"Australia/Lord_Howe", time.Date(2026, 4, 5, 0, 0, 0, 0, time.UTC), 288}, // a 30-minute fall back
	} {
		t.Run(tc.zone+" "+tc.day.Format("2006-01-02"), func(t *testing.T) {
			loc := ctZone(t, tc.zone)
			y, m, d := tc.day.Date()
			start := time.Date(y, m, d, 0, 0, 0, 0, loc).Add(-time.Nanosecond)
			end := time.Date(y, m, d+1, 0, 0, 0, 0, loc)
			for minute := range 24 * 60 {
				c, err := schedule.ParseCron(fmt.Sprintf("%d %d * * *", minute%60, minute/60), loc)
				require.NoError(t, err)
				runs := 0
				for at := c.Next(start); at.Before(end); at = c.Next(at) {
					runs++
				}
				require.Equal(t, 1, runs, "%02d:%02d", minute/60, minute%60)
			}
			c, err := schedule.ParseCron("*/5 * * * *", loc)
			require.NoError(t, err)
			var got []time.Time
			for at := c.Next(start); at.Before(end); at = c.Next(at) {
				require.True(t, len(got) == 0 || at.After(got[len(got)-1]))
				got = append(got, at)
			}
			assert.Len(t, got, tc.every)
			walls := map[string]bool{}
			for _, at := range got {
				w := at.Format("15:04")
				assert.False(t, walls[w], "wall time %s twice", w)
				walls[w] = true
			}
		})
	}
}

// ctRandomExpr builds a random cron expression from gronx's grammar.
func ctRandomExpr(r *rand.Rand) string {
	field := func(lo, hi int, dom, dow bool) string {
		n := func() int { return lo + r.IntN(hi-lo+1) }
		item := func() string {
			switch r.IntN(10) {
			case 0:
				return "*"
			case 1:
				a, b := n(), n()
				return fmt.Sprintf("%d-%d", min(a, b), max(a, b))
			case 2:
				return fmt.Sprintf("*/%d", 1+r.IntN(hi-lo+1))
			case 3:
				return fmt.Sprintf("%d/%d", n(), 1+r.IntN(10))
			case 4:
				a, b := n(), n()
				return fmt.Sprintf("%d-%d/%d", min(a, b), max(a, b), 1+r.IntN(5))
			case 5:
				switch {
				case dom && r.IntN(2) == 0:
					return "L"
				case dom:
					return fmt.Sprintf("%dW", 1+r.IntN(31))
				case dow && r.IntN(2) == 0:
					return fmt.Sprintf("%dL", r.IntN(8))
				case dow:
					return fmt.Sprintf("%d#%d", r.IntN(8), 1+r.IntN(5))
				}
			}
			return fmt.Sprint(n())
		}
		switch r.IntN(5) {
		case 0:
			return "*"
		case 1:
			if dom || dow {
				return "?"
			}
		case 2:
			return item() + "," + item()
		}
		return item()
	}
	return strings.Join([]string{field(0, 59, false, false), field(0, 23, false, false),
		field(1, 31, true, false), field(1, 12, false, false), field(0, 7, false, true)}, " ")
}

// TestCronMatchesGronx is a property test: for random expressions and
// random times, Next equals gronx's NextTickAfter in UTC (where gronx has
// no daylight-saving issue).
func TestCronMatchesGronx(t *testing.T) {
	r := rand.New(rand.NewPCG(2026, 11))
	exprs, special := 0, 0
	for exprs < 3000 {
		expr := ctRandomExpr(r)
		c, err := schedule.ParseCron(expr, time.UTC)
		if err != nil {
			continue // e.g. never due; the error tests cover those
		}
		require.True(t, gronx.IsValid(expr), expr)
		exprs++
		if strings.ContainsAny(expr, "LW#") {
			special++
		}
		from := time.Date(2000+r.IntN(40), time.Month(1+r.IntN(12)), 1+r.IntN(31), r.IntN(24), r.IntN(60), r.IntN(60), r.IntN(1e9), time.UTC)
		for range 3 {
			want, err := gronx.NextTickAfter(expr, from, false)
			require.NoError(t, err, expr)
			got := c.Next(from)
			require.True(t, want.Equal(got), "%q after %s: got %s, gronx %s", expr, from, got, want)
			from = got
		}
	}
	assert.Greater(t, special, 300, "expressions with L, W or #")
}
