package alert_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vyaparbazaar/dataops/alert"
	"github.com/vyaparbazaar/dataops/alert/alerttest"
	"github.com/vyaparbazaar/dataops/recovery"
)

// timed records each notification with the (virtual) time it arrived.
type timed struct {
	mu   sync.Mutex
	got  []alert.Notification
	at   []time.Time
	fail atomic.Int32 // fail this many more calls
}

func (r *timed) Notify(_ context.Context, n alert.Notification) error {
	if r.fail.Load() > 0 {
		r.fail.Add(-1)
		return alerttest.ErrDown
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, n)
	r.at = append(r.at, time.Now())
	return nil
}

func (r *timed) list() ([]alert.Notification, []time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got), slices.Clone(r.at)
}

type counters struct {
	mu     sync.Mutex
	sent   map[string]int
	failed map[string]int
}

func (c *counters) Sent(r string, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent[r] += n
}
func (c *counters) ChannelFailed(r string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failed[r]++
}
func (c *counters) Dropped(string) {}

func failure(model string) alert.Alert {
	return alert.Alert{
		Type: alert.TypeRunFailed, Title: "Model " + model + " failed",
		Labels: map[string]string{alert.LabelEnvironment: "prod", alert.LabelModel: model, alert.LabelTeam: "analytics"},
	}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newDispatcher(t *testing.T, opts alert.Options) (*alert.Dispatcher, *timed, *timed) {
	t.Helper()
	slack, email := &timed{}, &timed{}
	if opts.Receivers == nil {
		opts.Receivers = map[string]alert.Notifier{alert.ReceiverSlack: slack, alert.ReceiverEmail: email}
	}
	if opts.Logger == nil {
		opts.Logger = quiet()
	}
	d, err := alert.NewDispatcher(opts)
	require.NoError(t, err)
	return d, slack, email
}

func TestStormIsOneNotificationPerChannelPerGroupInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		root := alert.DefaultRoute()
		root.GroupBy = []string{alert.LabelType, alert.LabelEnvironment}
		router, err := alert.NewRouter(root)
		require.NoError(t, err)
		d, slack, email := newDispatcher(t, alert.Options{Router: router})
		start := time.Now()
		// 1,000 failures of the same model within a minute.
		for i := range 1000 {
			a := failure("fct_orders")
			a.Labels[alert.LabelRunID] = fmt.Sprintf("run-%d", i)
			require.NoError(t, d.Send(ctx, a))
			time.Sleep(60 * time.Millisecond)
		}
		// Another model of the same group fails at 2 minutes.
		time.Sleep(time.Minute)
		require.NoError(t, d.Send(ctx, failure("fct_payments")))
		time.Sleep(15 * time.Minute)
		synctest.Wait()
		for name, ch := range map[string]*timed{"slack": slack, "email": email} {
			got, at := ch.list()
			require.Len(t, got, 2, name)
			assert.Equal(t, alert.DefaultGroupWait, at[0].Sub(start), "%s: the first after group_wait", name)
			assert.Len(t, got[0].Alerts, 1, "identical alerts are one")
			assert.Equal(t, alert.DefaultGroupWait+alert.DefaultGroupInterval, at[1].Sub(start), "%s: the change waits for group_interval", name)
			assert.Len(t, got[1].Alerts, 2)
			assert.Equal(t, []string{name}, []string{got[0].Receiver})
		}
		require.NoError(t, d.Close(ctx))
	})
}

func TestRepeatAndResolved(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		d, slack, email := newDispatcher(t, alert.Options{})
		start := time.Now()
		a := failure("fct_orders")
		require.NoError(t, d.Send(ctx, a))
		time.Sleep(alert.DefaultRepeatInterval + time.Minute)
		synctest.Wait()
		got, at := slack.list()
		require.Len(t, got, 2, "first notification and one repeat")
		assert.Equal(t, alert.DefaultGroupWait+alert.DefaultRepeatInterval-alert.DefaultGroupInterval+alert.DefaultGroupInterval, at[1].Sub(start))

		a.EndsAt = time.Now()
		require.NoError(t, d.Send(ctx, a))
		time.Sleep(alert.DefaultGroupInterval)
		synctest.Wait()
		got, _ = slack.list()
		require.Len(t, got, 3)
		assert.Equal(t, "resolved", got[2].Status())
		assert.Contains(t, got[2].Title(), "RESOLVED")
		gotEmail, _ := email.list()
		assert.Len(t, gotEmail, 3)
		rec, err := d.Store().Alert(ctx, a.Fingerprint())
		require.NoError(t, err)
		assert.False(t, rec.Open())
		// Quiet afterwards.
		time.Sleep(10 * time.Hour)
		synctest.Wait()
		got, _ = slack.list()
		assert.Len(t, got, 3)
		require.NoError(t, d.Close(ctx))
	})
}

func TestSendResolvedOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		no := false
		router, err := alert.NewRouter(&alert.Route{Receivers: []string{"slack"}, SendResolved: &no})
		require.NoError(t, err)
		slack := &timed{}
		d, _, _ := newDispatcher(t, alert.Options{Router: router, Receivers: map[string]alert.Notifier{"slack": slack}})
		a := failure("fct_orders")
		require.NoError(t, d.Send(ctx, a))
		time.Sleep(time.Minute)
		a.EndsAt = time.Now()
		require.NoError(t, d.Send(ctx, a))
		time.Sleep(time.Hour)
		synctest.Wait()
		got, _ := slack.list()
		require.Len(t, got, 1)
		assert.Equal(t, "firing", got[0].Status())
		require.NoError(t, d.Close(ctx))
	})
}

func TestSilenceExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		d, slack, _ := newDispatcher(t, alert.Options{})
		start := time.Now()
		_, err := d.Silence(ctx, alert.Silence{Matchers: alert.Matchers{alert.Eq(alert.LabelModel, "fct_orders")}, StartsAt: start, EndsAt: start.Add(12 * time.Minute), CreatedBy: "asha"})
		require.NoError(t, err)
		require.NoError(t, d.Send(ctx, failure("fct_orders")))
		require.NoError(t, d.Send(ctx, failure("dim_dates")))
		time.Sleep(11 * time.Minute)
		synctest.Wait()
		got, _ := slack.list()
		require.Len(t, got, 1, "the silenced model is held back")
		assert.Equal(t, "dim_dates", got[0].Alerts[0].Labels["model"])
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		got, at := slack.list()
		require.Len(t, got, 2, "sent once the silence expired")
		assert.Equal(t, "fct_orders", got[1].Alerts[0].Labels["model"])
		// The group ticks at 30s, 5m30s, 10m30s, 15m30s: the first tick after expiry.
		assert.Equal(t, alert.DefaultGroupWait+3*alert.DefaultGroupInterval, at[1].Sub(start))
		require.NoError(t, d.Close(ctx))
	})
}

func TestEscalationToSecondaryContact(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		d, slack, email := newDispatcher(t, alert.Options{Escalation: recovery.EscalationPolicy{
			"analytics": {Team: "analytics", Primary: "@asha", Secondary: "@ravi", After: 20 * time.Minute},
		}})
		start := time.Now()
		acked := failure("dim_dates")
		require.NoError(t, d.Send(ctx, failure("fct_orders")))
		require.NoError(t, d.Send(ctx, acked))
		low := failure("fct_payments")
		low.Severity = alert.SeverityLow
		require.NoError(t, d.Send(ctx, low))
		time.Sleep(time.Minute)
		synctest.Wait()
		rec, err := d.Ack(ctx, acked.Fingerprint(), "asha")
		require.NoError(t, err)
		assert.Equal(t, "asha", rec.AckedBy)
		time.Sleep(30 * time.Minute)
		synctest.Wait()
		for _, ch := range []*timed{slack, email} {
			got, at := ch.list()
			var escalated []alert.Notification
			for i, n := range got {
				if n.Escalated {
					escalated = append(escalated, n)
					assert.Equal(t, 20*time.Minute, at[i].Sub(start), "escalated after exactly After")
				} else {
					assert.Equal(t, []string{"@asha"}, n.Contacts)
				}
			}
			require.Len(t, escalated, 1, "only the unacknowledged high alert escalates")
			assert.Equal(t, []string{"@ravi"}, escalated[0].Contacts)
			assert.Equal(t, "fct_orders", escalated[0].Alerts[0].Labels["model"])
			assert.Contains(t, escalated[0].Title(), "ESCALATED")
		}
		rec, err = d.Store().Alert(ctx, failure("fct_orders").Fingerprint())
		require.NoError(t, err)
		assert.Equal(t, start.Add(20*time.Minute), rec.EscalatedAt)
		require.NoError(t, d.Close(ctx))
	})
}

func TestInhibitDownstreamFreshness(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		upstream := map[string][]string{"mart_daily_sales": {"fct_orders", "stg_orders"}, "dim_dates": nil}
		d, slack, _ := newDispatcher(t, alert.Options{Upstream: func(m string) []string { return upstream[m] }})
		require.NoError(t, d.Send(ctx, failure("stg_orders")))
		fresh := func(model string) alert.Alert {
			return alert.Alert{Type: alert.TypeFreshness, Title: model + " is stale", Labels: map[string]string{alert.LabelEnvironment: "prod", alert.LabelModel: model}}
		}
		require.NoError(t, d.Send(ctx, fresh("mart_daily_sales")))
		require.NoError(t, d.Send(ctx, fresh("dim_dates")))
		time.Sleep(time.Minute)
		synctest.Wait()
		got, _ := slack.list()
		var models []string
		for _, n := range got {
			for _, a := range n.Alerts {
				models = append(models, string(a.Type)+":"+a.Labels["model"])
			}
		}
		slices.Sort(models)
		assert.Equal(t, []string{"freshness:dim_dates", "run_failed:stg_orders"}, models)
		require.NoError(t, d.Close(ctx))
	})
}

func TestChannelDownGoesToOtherChannelsAndRaisesChannelFailed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		m := &counters{sent: map[string]int{}, failed: map[string]int{}}
		d, slack, email := newDispatcher(t, alert.Options{Metrics: m})
		slack.fail.Store(1 << 20)
		testFailure := alert.Alert{Type: alert.TypeTestFailed, Title: "unique_fct_orders_order_id failed",
			Labels: map[string]string{alert.LabelEnvironment: "prod", alert.LabelModel: "fct_orders"}}
		require.NoError(t, d.Send(ctx, testFailure)) // routed to Slack only
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		got, _ := email.list()
		var types []alert.Type
		for _, n := range got {
			for _, a := range n.Alerts {
				types = append(types, a.Type)
				if a.Type == alert.TypeChannelFailed {
					assert.Equal(t, "slack", a.Labels[alert.LabelReceiver])
					assert.Contains(t, a.Body, "channel is down")
				}
			}
		}
		assert.Equal(t, []alert.Type{alert.TypeTestFailed, alert.TypeChannelFailed}, types, "email got the test failure and the channel failure")
		m.mu.Lock()
		assert.Equal(t, 1, m.failed["slack"], "the channel_failed notification is not sent to the failed channel")
		assert.Equal(t, 2, m.sent["email"])
		m.mu.Unlock()
		slackGot, _ := slack.list()
		assert.Empty(t, slackGot)
		require.NoError(t, d.Close(ctx))
	})
}

func TestRetrySucceeds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		d, slack, email := newDispatcher(t, alert.Options{})
		slack.fail.Store(2)
		require.NoError(t, d.Send(ctx, failure("fct_orders")))
		time.Sleep(5 * time.Minute)
		synctest.Wait()
		got, at := slack.list()
		require.Len(t, got, 1)
		assert.Greater(t, at[0].Sub(time.Now().Add(-5*time.Minute)), alert.DefaultGroupWait, "delivered after backoff")
		gotEmail, _ := email.list()
		for _, n := range gotEmail {
			for _, a := range n.Alerts {
				assert.NotEqual(t, alert.TypeChannelFailed, a.Type)
			}
		}
		require.NoError(t, d.Close(ctx))
	})
}

func TestStateSurvivesAcrossDispatchers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		store := alert.NewMemoryStore()
		d1, slack1, _ := newDispatcher(t, alert.Options{Store: store})
		a := failure("fct_orders")
		require.NoError(t, d1.Send(ctx, a))
		require.NoError(t, d1.Close(ctx)) // a one-shot command: flush on exit
		got, _ := slack1.list()
		require.Len(t, got, 1)

		time.Sleep(time.Hour)
		d2, slack2, _ := newDispatcher(t, alert.Options{Store: store})
		require.NoError(t, d2.Send(ctx, a))
		require.NoError(t, d2.Flush(ctx))
		got, _ = slack2.list()
		assert.Empty(t, got, "the same failure an hour later is not news")
		a.EndsAt = time.Now()
		require.NoError(t, d2.Send(ctx, a))
		require.NoError(t, d2.Close(ctx))
		got, _ = slack2.list()
		require.Len(t, got, 1)
		assert.Equal(t, "resolved", got[0].Status())
	})
}

func TestSendDoesNotBlockWhenChannelHangs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		hang := alert.NotifierFunc(func(ctx context.Context, n alert.Notification) error {
			<-ctx.Done()
			return ctx.Err()
		})
		email := &timed{}
		d, err := alert.NewDispatcher(alert.Options{Logger: quiet(), Receivers: map[string]alert.Notifier{"slack": hang, "email": email}})
		require.NoError(t, err)
		start := time.Now()
		for i := range 100 {
			require.NoError(t, d.Send(ctx, failure(fmt.Sprintf("m%d", i))))
		}
		assert.Equal(t, start, time.Now(), "Send returns without waiting")
		time.Sleep(time.Minute)
		synctest.Wait()
		got, _ := email.list()
		assert.Len(t, got, 100, "email is not held up by the hanging Slack")
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		assert.ErrorIs(t, d.Close(cctx), context.DeadlineExceeded)
	})
}

func TestDispatcherRejectsUnknownReceivers(t *testing.T) {
	_, err := alert.NewDispatcher(alert.Options{Receivers: map[string]alert.Notifier{"slack": &timed{}}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "email")
	d, err := alert.NewDispatcher(alert.Options{Receivers: map[string]alert.Notifier{"slack": &timed{}, "email": &timed{}}})
	require.NoError(t, err)
	assert.Error(t, d.Send(context.Background(), alert.Alert{Type: alert.TypeRunFailed}), "no title")
	require.NoError(t, d.Close(context.Background()))
	assert.Error(t, d.Send(context.Background(), failure("x")), "closed")
	_ = errors.New
}

func TestEscalatesOpenAlertsOfAnEarlierProcess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		store := alert.NewMemoryStore()
		a := failure("fct_orders")
		a.StartsAt = time.Now().Add(-10 * time.Minute)
		a.Severity = alert.SeverityHigh
		require.NoError(t, store.SaveAlert(ctx, alert.Record{ID: a.Fingerprint(), Alert: a, FirstSeen: a.StartsAt, LastSeen: a.StartsAt, Count: 1, LastNotified: a.StartsAt}))
		d, slack, _ := newDispatcher(t, alert.Options{Store: store, Escalation: recovery.EscalationPolicy{
			recovery.DefaultTeam: {Primary: "@asha", Secondary: "@ravi", After: 30 * time.Minute},
		}})
		start := time.Now()
		time.Sleep(time.Hour)
		synctest.Wait()
		got, at := slack.list()
		require.Len(t, got, 1, "nothing new arrived, yet the open alert escalates")
		assert.True(t, got[0].Escalated)
		assert.Equal(t, []string{"@ravi"}, got[0].Contacts)
		assert.Equal(t, 20*time.Minute, at[0].Sub(start), "30 minutes after it started firing")
		require.NoError(t, d.Close(ctx))
	})
}

func TestAckDuringGroupWaitSurvivesAndStopsEscalation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		d, slack, _ := newDispatcher(t, alert.Options{Escalation: recovery.EscalationPolicy{
			"analytics": {Team: "analytics", Primary: "@asha", Secondary: "@ravi", After: 20 * time.Minute},
		}})
		a := failure("fct_orders")
		require.NoError(t, d.Send(ctx, a))
		time.Sleep(10 * time.Second) // within group_wait
		synctest.Wait()
		_, err := d.Ack(ctx, a.Fingerprint(), "asha")
		require.NoError(t, err)
		// The first notification, a repeat of the same alert and its
		// resolution all save the record after the ack.
		time.Sleep(time.Hour)
		require.NoError(t, d.Send(ctx, a))
		synctest.Wait()
		got, _ := slack.list()
		require.NotEmpty(t, got)
		for _, n := range got {
			assert.False(t, n.Escalated, "an acknowledged alert does not escalate")
		}
		rec, err := d.Store().Alert(ctx, a.Fingerprint())
		require.NoError(t, err)
		assert.Equal(t, "asha", rec.AckedBy, "the ack is not overwritten by later saves")
		a.EndsAt = time.Now()
		require.NoError(t, d.Send(ctx, a))
		require.NoError(t, d.Close(ctx))
		rec, err = d.Store().Alert(ctx, a.Fingerprint())
		require.NoError(t, err)
		assert.False(t, rec.Open())
		assert.Equal(t, "asha", rec.AckedBy, "the ack is kept when the alert resolves")
	})
}

func TestRisingSeverityIsNotifiedAndEscalates(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		d, slack, _ := newDispatcher(t, alert.Options{Escalation: recovery.EscalationPolicy{
			recovery.DefaultTeam: {Primary: "@asha", Secondary: "@ravi", After: 20 * time.Minute},
		}})
		start := time.Now()
		stale := alert.Alert{Type: alert.TypeFreshness, Severity: alert.SeverityMedium, Title: "fct_orders is stale (warn)",
			Labels: map[string]string{alert.LabelEnvironment: "prod", alert.LabelModel: "fct_orders"}}
		require.NoError(t, d.Send(ctx, stale))
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		got, _ := slack.list()
		require.Len(t, got, 1, "the warning")
		stale.Severity, stale.Title = alert.SeverityHigh, "fct_orders is stale (error)"
		require.NoError(t, d.Send(ctx, stale))
		time.Sleep(time.Hour)
		synctest.Wait()
		got, at := slack.list()
		require.Len(t, got, 3, "warning, error and its escalation")
		assert.Equal(t, alert.SeverityHigh, got[1].Alerts[0].Severity)
		assert.False(t, got[1].Escalated)
		assert.True(t, got[2].Escalated)
		assert.Equal(t, []string{"@ravi"}, got[2].Contacts)
		assert.Equal(t, 30*time.Minute, at[2].Sub(start), "After past the rise to high")
		require.NoError(t, d.Close(ctx))
	})
}

func TestEscalationWaitsWhileMuted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		upstream := map[string][]string{"mart_daily_sales": {"fct_orders"}}
		d, slack, _ := newDispatcher(t, alert.Options{Upstream: func(m string) []string { return upstream[m] },
			Escalation: recovery.EscalationPolicy{recovery.DefaultTeam: {Primary: "@asha", Secondary: "@ravi", After: 20 * time.Minute}}})
		start := time.Now()
		_, err := d.Silence(ctx, alert.Silence{Matchers: alert.Matchers{alert.Eq(alert.LabelModel, "dim_dates")}, StartsAt: start, EndsAt: start.Add(time.Hour), CreatedBy: "asha"})
		require.NoError(t, err)
		silenced := failure("dim_dates")
		silenced.Labels[alert.LabelTeam] = ""
		require.NoError(t, d.Send(ctx, silenced))
		upFail := failure("fct_orders")
		upFail.Labels[alert.LabelTeam] = ""
		require.NoError(t, d.Send(ctx, upFail))
		require.NoError(t, d.Send(ctx, alert.Alert{Type: alert.TypeFreshness, Title: "mart_daily_sales is stale",
			Labels: map[string]string{alert.LabelEnvironment: "prod", alert.LabelModel: "mart_daily_sales"}}))
		time.Sleep(50 * time.Minute)
		synctest.Wait()
		escalated := func() map[string]time.Duration {
			got, at := slack.list()
			out := map[string]time.Duration{}
			for i, n := range got {
				if n.Escalated {
					out[string(n.Alerts[0].Type)+":"+n.Alerts[0].Labels["model"]] = at[i].Sub(start)
				}
			}
			return out
		}
		assert.Equal(t, map[string]time.Duration{"run_failed:fct_orders": 20 * time.Minute}, escalated(),
			"neither the silenced nor the inhibited alert escalates")
		upFail.EndsAt = time.Now()
		require.NoError(t, d.Send(ctx, upFail))
		time.Sleep(time.Hour)
		synctest.Wait()
		got := escalated()
		assert.Equal(t, 50*time.Minute+time.Minute, got["freshness:mart_daily_sales"], "escalates once the inhibition ends")
		assert.Equal(t, time.Hour, got["run_failed:dim_dates"], "escalates when the silence ends")
		require.NoError(t, d.Close(ctx))
	})
}

func TestChannelFailedResolvesWhenTheChannelDeliversAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		d, slack, email := newDispatcher(t, alert.Options{})
		slack.fail.Store(4) // every attempt of the first notification
		testFailure := func(model string) alert.Alert {
			return alert.Alert{Type: alert.TypeTestFailed, Title: "unique_" + model + "_id failed",
				Labels: map[string]string{alert.LabelEnvironment: "prod", alert.LabelModel: model}}
		}
		require.NoError(t, d.Send(ctx, testFailure("fct_orders")))
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		cf := alert.Alert{Type: alert.TypeChannelFailed, Labels: map[string]string{alert.LabelReceiver: "slack"}}
		rec, err := d.Store().Alert(ctx, cf.Fingerprint())
		require.NoError(t, err)
		require.True(t, rec.Open(), "slack gave up")

		require.NoError(t, d.Send(ctx, testFailure("dim_dates")))
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		got, _ := slack.list()
		require.Len(t, got, 1, "slack works again")
		rec, err = d.Store().Alert(ctx, cf.Fingerprint())
		require.NoError(t, err)
		assert.False(t, rec.Open(), "channel_failed resolves on the next successful delivery")
		mails, _ := email.list()
		var statuses []string
		for _, n := range mails {
			for _, a := range n.Alerts {
				if a.Type == alert.TypeChannelFailed {
					statuses = append(statuses, a.Status())
				}
			}
		}
		assert.Equal(t, []string{"firing", "resolved"}, statuses)
		require.NoError(t, d.Close(ctx))
	})
}

func TestOneShotWithHangingChannelDoesNotLoseTheAlert(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		store := alert.NewMemoryStore()
		hang := alert.NotifierFunc(func(ctx context.Context, n alert.Notification) error {
			<-ctx.Done()
			return ctx.Err()
		})
		d1, err := alert.NewDispatcher(alert.Options{Logger: quiet(), Store: store,
			Receivers: map[string]alert.Notifier{"slack": hang, "email": &timed{}}})
		require.NoError(t, err)
		// A test failure goes to Slack only; Slack hangs past Close's limit.
		testFailure := alert.Alert{Type: alert.TypeTestFailed, Title: "unique_fct_orders_order_id failed",
			Labels: map[string]string{alert.LabelEnvironment: "prod", alert.LabelModel: "fct_orders"}}
		require.NoError(t, d1.Send(ctx, testFailure))
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		assert.ErrorIs(t, d1.Close(cctx), context.DeadlineExceeded)
		cancel()
		rec, err := store.Alert(ctx, testFailure.Fingerprint())
		require.NoError(t, err)
		assert.True(t, rec.LastNotified.IsZero(), "not delivered: not notified")

		// The next one-shot command, with Slack back, sends it.
		time.Sleep(time.Hour)
		d2, slack2, _ := newDispatcher(t, alert.Options{Store: store})
		require.NoError(t, d2.Send(ctx, testFailure))
		require.NoError(t, d2.Close(ctx))
		got, _ := slack2.list()
		require.Len(t, got, 1, "the alert the hanging channel lost is sent by the next process")
		rec, err = store.Alert(ctx, testFailure.Fingerprint())
		require.NoError(t, err)
		assert.False(t, rec.LastNotified.IsZero(), "marked notified once delivered")
	})
}

func TestRepeatsSaveCountAndLastSeen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		d, _, _ := newDispatcher(t, alert.Options{})
		a := failure("fct_orders")
		for i := range 3 {
			a.Labels[alert.LabelRunID] = fmt.Sprintf("run-%d", i)
			require.NoError(t, d.Send(ctx, a))
			time.Sleep(10 * time.Minute)
			synctest.Wait()
		}
		last := time.Now().Add(-10 * time.Minute)
		rec, err := d.Store().Alert(ctx, a.Fingerprint())
		require.NoError(t, err)
		assert.Equal(t, 3, rec.Count, "every report of the alert is counted in the store")
		assert.Equal(t, last, rec.LastSeen)
		require.NoError(t, d.Close(ctx))
	})
}

func TestSeverityFallingBelowHighCancelsEscalation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		d, slack, _ := newDispatcher(t, alert.Options{Escalation: recovery.EscalationPolicy{
			recovery.DefaultTeam: {Primary: "@asha", Secondary: "@ravi", After: 20 * time.Minute},
		}})
		stale := alert.Alert{Type: alert.TypeFreshness, Severity: alert.SeverityHigh, Title: "fct_orders is stale",
			Labels: map[string]string{alert.LabelEnvironment: "prod", alert.LabelModel: "fct_orders"}}
		require.NoError(t, d.Send(ctx, stale))
		time.Sleep(10 * time.Minute)
		stale.Severity = alert.SeverityMedium
		require.NoError(t, d.Send(ctx, stale))
		time.Sleep(time.Hour)
		synctest.Wait()
		got, _ := slack.list()
		require.Len(t, got, 2, "the error and the change back to a warning")
		for _, n := range got {
			assert.False(t, n.Escalated, "a warning does not escalate")
		}
		require.NoError(t, d.Close(ctx))
	})
}
