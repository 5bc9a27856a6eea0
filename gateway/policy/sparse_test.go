package policy

import (
	"context"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// The snapshot holds only customers with something in force; the rest are read from the
// store when a decision needs them, and named in the audit log when it is written.
func TestSnapshotHoldsOnlyCustomersWithSomethingInForce(t *testing.T) {
	h := newHarness(t, Config{Rules: mustRules(t, lowCSAT)})
	h.ingest(
		event("e1", gateway.EventSurveyResponse, engineStart, "ana@example.com", withCSAT(1)),
		event("e2", gateway.EventTicketOpened, engineStart, "ben@example.com"),
		event("e3", gateway.EventTicketOpened, engineStart, "cai@example.com"),
	)
	if c := h.e.Snapshot().Counts(engineStart); c.Customers != 1 || c.ActiveSilences != 1 {
		t.Fatalf("snapshot = %+v, want only the silenced customer", c)
	}
	if _, ok := h.e.Snapshot().Customer(email("ben@example.com")); ok {
		t.Fatal("a customer with nothing in force is in the snapshot")
	}
	s := h.silences(h.customer(email("ana@example.com")).ID)
	if _, err := h.e.LiftSilence(context.Background(), s[0].ID, "admin:test", "wrong"); err != nil {
		t.Fatal(err)
	}
	if c := h.e.Snapshot().Counts(engineStart); c.Customers != 0 {
		t.Fatalf("after the lift the snapshot still holds %d customers", c.Customers)
	}
	h.restart()
	if c := h.e.Snapshot().Counts(engineStart); c.Customers != 0 {
		t.Fatalf("after a restart the snapshot holds %d customers", c.Customers)
	}
	wantReason(t, h.decide1(gateway.ChannelEmail, gateway.CategoryMarketing, email("ana@example.com")), "")
}

func TestDecisionsNameCustomersTheSnapshotDoesNotHold(t *testing.T) {
	for _, batched := range []bool{false, true} {
		name := "committed"
		if batched {
			name = "batched"
		}
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, Config{BatchDecisionLog: batched})
			t.Cleanup(func() { _ = h.e.Close(context.Background()) })
			h.ingest(event("e1", gateway.EventTicketOpened, engineStart, "ben@example.com"))
			ben := h.customer(email("ben@example.com")).ID
			ctx := context.Background()
			ds, err := h.e.Decide(ctx, gateway.DecisionRequest{Channel: gateway.ChannelEmail, Category: gateway.CategoryMarketing, Record: true,
				Recipients: []gateway.Identity{email("ben@example.com"), email("stranger@example.com")}})
			if err != nil || !ds[0].Allowed || !ds[1].Allowed {
				t.Fatalf("decisions %+v, %v", ds, err)
			}
			if err := h.e.FlushDecisions(ctx); err != nil {
				t.Fatal(err)
			}
			got := map[gateway.Identity]gateway.Decision{}
			for _, d := range h.decisions() {
				got[d.Recipient] = d
			}
			if d := got[email("ben@example.com")]; d.CustomerID != ben || d.ContactID == "" {
				t.Fatalf("ben's recorded decision = %+v, want his customer and a contact", d)
			}
			if d := got[email("stranger@example.com")]; d.CustomerID != "" || d.ContactID != "" || d.ID == "" {
				t.Fatalf("a stranger's recorded decision = %+v, want no customer and no contact", d)
			}
			if h.customer(email("stranger@example.com")) != nil {
				t.Fatal("a customer was created for a stranger no cap covers")
			}
			var n int
			h.view(func(tx gateway.Tx) error {
				var err error
				n, err = tx.CountContacts(ben, engineStart.Add(-time.Hour), gateway.ChannelAny, gateway.CategoryAny)
				return err
			})
			if n != 1 {
				t.Fatalf("ben has %d contacts counted, want 1 (a cap added later must see it)", n)
			}
		})
	}
}
