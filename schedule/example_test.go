package schedule_test

import (
	"fmt"
	"time"

	"github.com/vyaparbazaar/dataops/schedule"
)

// The financial reports run at 23:00 IST on the last day of each month; in
// a leap year that is 29 February.
func ExampleParseCron() {
	ist, _ := time.LoadLocation("Asia/Kolkata")
	c, err := schedule.ParseCron("0 23 L * *", ist)
	if err != nil {
		panic(err)
	}
	t := time.Date(2028, 1, 15, 0, 0, 0, 0, ist)
	for range 3 {
		t = c.Next(t)
		fmt.Println(t.Format("Mon 2006-01-02 15:04 MST"), "=", t.UTC().Format("15:04 MST"))
	}
	// Output:
	// Mon 2028-01-31 23:00 IST = 17:30 UTC
	// Tue 2028-02-29 23:00 IST = 17:30 UTC
	// Fri 2028-03-31 23:00 IST = 17:30 UTC
}

// On the day New York springs forward, 02:30 does not exist: a job at 02:30
// runs once, at 03:00 EDT.
func ExampleCron_Next_daylightSaving() {
	ny, _ := time.LoadLocation("America/New_York")
	c := schedule.MustParseCron("30 2 * * *", ny)
	t := time.Date(2026, 3, 7, 12, 0, 0, 0, ny)
	for range 2 {
		t = c.Next(t)
		fmt.Println(t.Format("2006-01-02 15:04 MST"))
	}
	// Output:
	// 2026-03-08 03:00 EDT
	// 2026-03-09 02:30 EDT
}

// A low-traffic window on weekday nights, 01:00 to 05:00 IST.
func ExampleWindow() {
	ist, _ := time.LoadLocation("Asia/Kolkata")
	w := &schedule.Window{Name: "low-traffic", Intervals: []schedule.Interval{{
		Times:    []schedule.TimeRange{{Start: 1 * 60, End: 5 * 60}},
		Weekdays: []schedule.WeekdayRange{{Start: time.Monday, End: time.Friday}},
		Location: ist,
	}}}
	friday3am := time.Date(2026, 11, 20, 3, 0, 0, 0, ist)
	friday6am := time.Date(2026, 11, 20, 6, 0, 0, 0, ist)
	fmt.Println(w.Contains(friday3am), w.Contains(friday6am))
	fmt.Println(w.NextOpen(friday6am).Format("Mon 2006-01-02 15:04 MST"))
	// Output:
	// true false
	// Mon 2026-11-23 01:00 IST
}

func ExampleParseConfig() {
	src := []byte(`timezone: Asia/Kolkata
time_intervals:
  - name: low-traffic
    time_intervals:
      - times: [{start_time: "01:00", end_time: "05:00"}]
jobs:
  - name: staging
    schedule: "15 * * * *"
    select: ["path:models/staging"]
  - name: production-backup
    operation: backup
    schedule: "0 12 * * *"
    windows: [low-traffic]
`)
	_, err := schedule.ParseConfig(src, "schedules.yml")
	fmt.Println(err)
	// Output:
	// schedules.yml:13: job "production-backup": the job would never run: none of its due times (0 12 * * *) in the next year is inside window "low-traffic"
}
