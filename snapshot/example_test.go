package snapshot_test

import (
	"context"
	"fmt"
	"time"

	"github.com/vyaparbazaar/dataops/snapshot"
)

func ExampleDiff() {
	ctx := context.Background()
	store := &snapshot.MemoryStore{}
	at := time.Date(2026, 11, 25, 5, 0, 0, 0, time.UTC)
	first, _ := store.Record(ctx, snapshot.Snapshot{CreatedAt: at, Kind: snapshot.KindPublish, Models: map[string]snapshot.Version{
		"fct_orders":       {ID: 1, Rows: 10_000},
		"mart_daily_sales": {ID: 2, Rows: 365},
	}})
	second, _ := store.Record(ctx, snapshot.Snapshot{CreatedAt: at.Add(time.Hour), Kind: snapshot.KindPublish, Models: map[string]snapshot.Version{
		"fct_orders":       {ID: 3, Rows: 10_250},
		"mart_daily_sales": {ID: 2, Rows: 365},
	}})
	for _, c := range snapshot.Diff(first, second) {
		d, _ := c.RowDelta()
		fmt.Printf("%s %s: version %d → %d, %+d rows\n", c.Type, c.Model, c.From.ID, c.To.ID, d)
	}
	// The state as it was at 05:30.
	s, _ := store.At(ctx, at.Add(30*time.Minute))
	fmt.Println("at 05:30: snapshot", s.ID)
	// Output:
	// changed fct_orders: version 1 → 3, +250 rows
	// at 05:30: snapshot 1
}
