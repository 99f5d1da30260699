package alert_test

import (
	"context"
	"fmt"
	"github.com/vyaparbazaar/dataops/alert"
	"github.com/vyaparbazaar/dataops/recovery"
)

// A dispatcher with the seed's routing table, two channels, and a flush
// at the end as a one-shot command does it.
func ExampleDispatcher() {
	ctx := context.Background()
	print := func(name string) alert.Notifier {
		return alert.NotifierFunc(func(_ context.Context, n alert.Notification) error {
			fmt.Printf("%s: %s (%s)\n", name, n.Title(), n.Severity())
			return nil
		})
	}
	d, err := alert.NewDispatcher(alert.Options{
		Receivers: map[string]alert.Notifier{alert.ReceiverSlack: print("slack"), alert.ReceiverEmail: print("email")},
		Retry:     recovery.Backoff{Attempts: 1},
	})
	if err != nil {
		panic(err)
	}
	_ = d.Send(ctx, alert.Alert{
		Type:   alert.TypeTestFailed,
		Title:  "Test unique_fct_orders_order_id failed: 3 duplicate rows",
		Labels: map[string]string{alert.LabelModel: "fct_orders", alert.LabelEnvironment: "prod"},
	})
	_ = d.Close(ctx)
	// Output:
	// slack: Test unique_fct_orders_order_id failed: 3 duplicate rows (medium)
}

// ParseConfig reads the alerts section of dataops.yml.
func ExampleParseConfig() {
	cfg, err := alert.ParseConfig([]byte(`
alerts:
  receivers:
    slack: {type: slack, webhook_url_env: SLACK_WEBHOOK_URL}
  route:
    group_wait: 10s
  thresholds:
    freshness: {error_after: 90m}
`), "dataops.yml")
	if err != nil {
		panic(err)
	}
	r, _ := alert.NewRouter(cfg.Route)
	for _, e := range r.Match(alert.Alert{Type: alert.TypeFreshness}) {
		fmt.Println(e.Receivers, e.GroupWait)
	}
	fmt.Println(cfg.Thresholds.WithDefaults().FreshnessFor("mart_daily_sales").ErrorAfter)
	// Output:
	// [slack email] 10s
	// 1h30m0s
}
