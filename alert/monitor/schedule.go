package monitor

import (
	"fmt"
	"time"

	"github.com/vyaparbazaar/dataops/alert"
	"github.com/vyaparbazaar/dataops/schedule"
)

// LabelJob names the scheduled job of a deadline alert.
const LabelJob = "job"

// ScheduleAlert turns a scheduler event into an alert: a missed deadline
// fires deadline_missed (high), a met one resolves it. Other events give
// false.
func ScheduleAlert(ev schedule.Event, environment string) (alert.Alert, bool) {
	a := alert.Alert{
		Type: alert.TypeDeadlineMissed, Severity: alert.DefaultSeverity(alert.TypeDeadlineMissed),
		Labels:   map[string]string{alert.LabelEnvironment: environment, LabelJob: ev.Job},
		Title:    fmt.Sprintf("Job %s missed its deadline %s", ev.Job, ev.Due.Format("2006-01-02 15:04 MST")),
		Body:     ev.Detail,
		StartsAt: ev.Due,
		Runbook: "The job has not succeeded since its previous deadline. Check its last run (`/jobs`, `vyaparbazaar history`), " +
			"the open alerts of its models, and whether it waited for resources or a window; trigger it with POST /jobs/NAME/run once fixed.",
	}
	switch ev.Type {
	case schedule.EventDeadlineMissed:
		return a, true
	case schedule.EventDeadlineMet:
		a.EndsAt = ev.Time
		if a.EndsAt.IsZero() {
			a.EndsAt = time.Now()
		}
		return a, true
	}
	return alert.Alert{}, false
}

// Interval returns the longest time between two consecutive due times of
// s in the week after from: how long a model built by the job may go
// without a new build (a weekday job's weekend gap counts). 0 when s is
// never due.
func Interval(s schedule.Schedule, from time.Time) time.Duration {
	t := s.Next(from)
	if t.IsZero() {
		return 0
	}
	end := t.Add(7 * 24 * time.Hour)
	var longest time.Duration
	for range 24 * 7 * 12 { // every 5 minutes for a week at most
		n := s.Next(t)
		if n.IsZero() {
			break
		}
		longest = max(longest, n.Sub(t))
		if t = n; !t.Before(end) {
			break
		}
	}
	return longest
}
