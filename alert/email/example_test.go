package email_test

import (
	"fmt"
	"strings"

	"github.com/vyaparbazaar/dataops/alert"
	"github.com/vyaparbazaar/dataops/alert/email"
)

// Render gives the subject and both parts of the message a notification
// becomes.
func ExampleRender() {
	subject, text, html, _ := email.Render(alert.Notification{Alerts: []alert.Alert{{
		Type: alert.TypeFreshness, Severity: alert.SeverityHigh, Title: "mart_daily_sales is 3h stale",
		Labels: map[string]string{"model": "mart_daily_sales"},
	}}})
	fmt.Println(subject)
	fmt.Println(strings.Contains(text, "model: mart_daily_sales"), strings.Contains(html, "<h3>[HIGH] mart_daily_sales is 3h stale</h3>"))
	// Output:
	// [dataops] mart_daily_sales is 3h stale
	// true true
}
