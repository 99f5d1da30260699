package schedule_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/adhocore/gronx"

	"github.com/vyaparbazaar/dataops/schedule"
)

// benchExprs returns 10,000 varied cron expressions and their locations:
// hourly, daily, weekday, L, W, nL, n#k, steps, ranges, lists and tags, in
// UTC, Asia/Kolkata, America/New_York and Europe/London.
func benchExprs(b *testing.B) ([]string, []*time.Location) {
	b.Helper()
	zones := []*time.Location{time.UTC, ctZone(b, "Asia/Kolkata"), ctZone(b, "America/New_York"), ctZone(b, "Europe/London")}
	forms := []func(i int) string{
		func(i int) string { return fmt.Sprintf("%d * * * *", i%60) },
		func(i int) string { return fmt.Sprintf("%d %d * * *", i%60, i%24) },
		func(i int) string { return fmt.Sprintf("%d %d L * *", i%60, i%24) },
		func(i int) string { return fmt.Sprintf("%d %d * * 1-5", i%60, i%24) },
		func(i int) string { return fmt.Sprintf("*/%d * * * *", 1+i%30) },
		func(i int) string { return fmt.Sprintf("%d %d %dW * *", i%60, i%24, 1+i%31) },
		func(i int) string { return fmt.Sprintf("%d %d * * %dL", i%60, i%24, i%7) },
		func(i int) string { return fmt.Sprintf("%d %d * * %d#%d", i%60, i%24, i%7, 1+i%4) },
		func(i int) string { return fmt.Sprintf("%d %d 1 */3 *", i%60, i%24) },
		func(i int) string { return fmt.Sprintf("%d 9-17 * * MON-FRI", i%60) },
		func(i int) string { return fmt.Sprintf("0,%d %d,%d * * *", 1+i%59, i%12, 12+i%12) },
		func(i int) string { return []string{"@hourly", "@daily", "@weekly", "@monthly", "@yearly"}[i%5] },
		func(i int) string { return fmt.Sprintf("%d %d 29 2 *", i%60, i%24) },
	}
	exprs := make([]string, 10000)
	locs := make([]*time.Location, 10000)
	for i := range exprs {
		exprs[i] = forms[i%len(forms)](i / len(forms))
		locs[i] = zones[i%len(zones)]
	}
	return exprs, locs
}

// BenchmarkNext10k computes, for 10,000 jobs with varied schedules, the
// next due time across all of them (one op = 10,000 calls of Next).
func BenchmarkNext10k(b *testing.B) {
	exprs, locs := benchExprs(b)
	crons := make([]*schedule.Cron, len(exprs))
	for i, e := range exprs {
		c, err := schedule.ParseCron(e, locs[i])
		if err != nil {
			b.Fatal(err)
		}
		crons[i] = c
	}
	at := time.Date(2026, 11, 14, 10, 7, 30, 0, time.UTC)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		var first time.Time
		for _, c := range crons {
			if n := c.Next(at); first.IsZero() || n.Before(first) {
				first = n
			}
		}
	}
}

// BenchmarkGronxNextTickAfter10k is the same set with gronx's NextTickAfter
// (parsing the expression on every call), for comparison.
func BenchmarkGronxNextTickAfter10k(b *testing.B) {
	exprs, locs := benchExprs(b)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		var first time.Time
		for i, e := range exprs {
			n, err := gronx.NextTickAfter(e, time.Date(2026, 11, 14, 10, 7, 30, 0, locs[i]), false)
			if err == nil && (first.IsZero() || n.Before(first)) {
				first = n
			}
		}
	}
}

// BenchmarkParseCron measures parsing (done once per job).
func BenchmarkParseCron(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := schedule.ParseCron("0 23 L * *", time.UTC); err != nil {
			b.Fatal(err)
		}
	}
}
