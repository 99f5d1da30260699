package slack_test

import (
	"fmt"

	"github.com/vyaparbazaar/dataops/alert"
	alertslack "github.com/vyaparbazaar/dataops/alert/slack"
)

// Message renders a notification as Slack's Block Kit: the summary text
// and one attachment per alert, coloured by severity.
func ExampleMessage() {
	msg := alertslack.Message(alert.Notification{Contacts: []string{"@asha"}, Alerts: []alert.Alert{{
		Type: alert.TypeResource, Severity: alert.SeverityCritical, Title: "DuckDB memory at 94% of its limit",
	}}})
	fmt.Println(msg.Text)
	fmt.Println(msg.Attachments[0].Color, len(msg.Attachments[0].Blocks.BlockSet), "blocks")
	// Output:
	// DuckDB memory at 94% of its limit — @asha
	// #B00020 3 blocks
}
