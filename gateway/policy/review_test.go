package policy

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/storage/bolt"
)

// A send to a customer who is erased while the send is upstream, and whose send then fails:
// Release must not write the erased decision back (with the recipient's address in it).
func TestReleaseAfterErasureWritesNothingBack(t *testing.T) {
	for _, batched := range []bool{false, true} {
		t.Run(map[bool]string{false: "commit-each", true: "batched"}[batched], func(t *testing.T) {
			s, err := bolt.Open(filepath.Join(t.TempDir(), "hush.db"), bolt.Options{NoSync: true})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			e, err := New(context.Background(), s, Config{BatchDecisionLog: batched, Now: func() time.Time { return engineStart }})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = e.Close(context.Background()) })
			ctx := context.Background()
			who := email("gone@example.com")
			if _, err := e.Ingest(ctx, []gateway.Event{event("e1", gateway.EventTicketOpened, engineStart, "gone@example.com")}, 0); err != nil {
				t.Fatal(err)
			}
			ds, err := e.Decide(ctx, gateway.DecisionRequest{Channel: gateway.ChannelEmail, Category: gateway.CategoryMarketing,
				Record: true, Upstream: "sendgrid", Recipients: []gateway.Identity{who}})
			if err != nil {
				t.Fatal(err)
			}
			if err := e.EraseCustomer(ctx, who); err != nil {
				t.Fatal(err)
			}
			if err := e.Release(ctx, ds); err != nil {
				t.Fatal(err)
			}
			if err := e.FlushDecisions(ctx); err != nil {
				t.Fatal(err)
			}
			got, _ := storedDecisions(t, s)
			for _, d := range got {
				if d.Recipient == who {
					t.Errorf("the erased customer's decision is back in the audit log: %+v", d)
				}
			}
		})
	}
}

// A release after the customer was merged into another marks the decision unsent where it
// now is: under the customer it was merged into, not back under the one that is gone.
func TestReleaseAfterMergeKeepsTheMergedCustomer(t *testing.T) {
	for _, batched := range []bool{false, true} {
		t.Run(map[bool]string{false: "commit-each", true: "batched"}[batched], func(t *testing.T) {
			s, err := bolt.Open(filepath.Join(t.TempDir(), "hush.db"), bolt.Options{NoSync: true})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			e, err := New(context.Background(), s, Config{BatchDecisionLog: batched, Now: func() time.Time { return engineStart }})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = e.Close(context.Background()) })
			ctx := context.Background()
			a, b := email("a@example.com"), email("b@example.com")
			if _, err := e.Ingest(ctx, []gateway.Event{
				event("e1", gateway.EventTicketOpened, engineStart.Add(-time.Minute), "a@example.com"),
				event("e2", gateway.EventTicketOpened, engineStart, "b@example.com"),
			}, 0); err != nil {
				t.Fatal(err)
			}
			ds, err := e.Decide(ctx, gateway.DecisionRequest{Channel: gateway.ChannelEmail, Category: gateway.CategoryMarketing,
				Record: true, Upstream: "sendgrid", Recipients: []gateway.Identity{b}})
			if err != nil {
				t.Fatal(err)
			}
			if err := e.FlushDecisions(ctx); err != nil {
				t.Fatal(err)
			}
			merged, err := e.LinkIdentities(ctx, a, []gateway.Identity{b})
			if err != nil {
				t.Fatal(err)
			}
			if err := e.Release(ctx, ds); err != nil {
				t.Fatal(err)
			}
			if err := e.FlushDecisions(ctx); err != nil {
				t.Fatal(err)
			}
			got, _ := storedDecisions(t, s)
			if len(got) != 1 {
				t.Fatalf("decisions: %+v", got)
			}
			if !got[0].Unsent || got[0].CustomerID != merged.ID {
				t.Errorf("released decision = unsent %v customer %q; want unsent under %q", got[0].Unsent, got[0].CustomerID, merged.ID)
			}
		})
	}
}
