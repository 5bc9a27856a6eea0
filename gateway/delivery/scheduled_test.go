package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// putScheduled queues one message of a kind due at due, about silence silID (may be "").
func putScheduled(t *testing.T, st gateway.Store, id, kind string, due time.Time, silID string) {
	t.Helper()
	payload := fmt.Sprintf(`{"rule":"low-csat","customer_id":"cus_1","event_id":"typeform:r1","event_type":"survey.response","silence_id":%q}`, silID)
	err := st.Update(context.Background(), func(tx gateway.Tx) error {
		return tx.PutOutbox(&gateway.OutboxMessage{ID: id, Kind: kind, Target: "retention", CustomerID: "cus_1", Rule: "low-csat",
			EventID: "typeform:r1", Payload: json.RawMessage(payload), CreatedAt: t0, NextAttempt: due, DueAt: due})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func putSilence(t *testing.T, st gateway.Store, id string, end time.Time) {
	t.Helper()
	err := st.Update(context.Background(), func(tx gateway.Tx) error {
		return tx.PutSilence(&gateway.Silence{ID: id, CustomerID: "cus_1", Identity: "email:ana@example.com",
			Categories: gateway.DefaultSilencedCategories, Rule: "low-csat", Start: t0, End: &end, CreatedAt: t0, UpdatedAt: t0})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func pass(t *testing.T, w *Worker) (delivered, failed, dead int) {
	t.Helper()
	d, f, x, err := w.DeliverDue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return d, f, x
}

// A follow-up waits for its time, and MaxAge counts from then: one due in three days is
// not given up as soon as it is due.
func TestFollowUpGoesAtItsTime(t *testing.T) {
	st, _ := newStore(t)
	s := newSetup(t)
	w := newWorker(t, st, s, nil)
	putScheduled(t, st, "out_fu", gateway.OutboxFollowUp, t0.Add(72*time.Hour), "")

	if d, _, _ := pass(t, w); d != 0 {
		t.Fatal("a follow-up went before its time")
	}
	s.clock.Advance(72*time.Hour + time.Second)
	if d, f, x := pass(t, w); d != 1 || f != 0 || x != 0 {
		t.Fatalf("at its time: %d delivered, %d failed, %d dead", d, f, x)
	}
	if m := message(t, st, "out_fu"); m.DeliveredAt == nil {
		t.Errorf("follow-up %+v", m)
	}
}

// A silence's end is announced once the silence is over, however often it was extended
// meanwhile; a message about a silence that no longer exists dies.
func TestSilenceEndedWaitsForTheSilence(t *testing.T) {
	st, _ := newStore(t)
	s := newSetup(t)
	w := newWorker(t, st, s, nil)
	end := t0.Add(15 * 24 * time.Hour)
	putSilence(t, st, "sil_1", end)
	putScheduled(t, st, "out_end", gateway.OutboxSilenceEnded, end, "sil_1")
	putScheduled(t, st, "out_gone", gateway.OutboxSilenceEnded, end, "sil_missing")

	// The silence was extended by five days after the message was queued.
	putSilence(t, st, "sil_1", end.Add(5*24*time.Hour))
	s.clock.Advance(15*24*time.Hour + time.Second)
	if d, _, x := pass(t, w); d != 0 || x != 1 {
		t.Fatalf("at the old end: %d delivered, %d dead (want 0 and the missing silence's 1)", d, x)
	}
	if m := message(t, st, "out_end"); m.DeliveredAt != nil || !m.NextAttempt.Equal(end.Add(5*24*time.Hour)) || m.Attempts != 0 {
		t.Fatalf("held message %+v, want it moved to the new end without an attempt", m)
	}
	if calls, _ := s.rc.stats(); calls != 0 {
		t.Fatalf("%d requests while the silence lasted", calls)
	}
	s.clock.Advance(5*24*time.Hour + time.Second)
	if d, _, _ := pass(t, w); d != 1 {
		t.Fatal("the end of the extended silence was not announced")
	}
	if calls, _ := s.rc.stats(); calls != 1 {
		t.Errorf("%d requests, want 1", calls)
	}
	if m := message(t, st, "out_gone"); m.DeadAt == nil || m.DeadReason != "the silence no longer exists" {
		t.Errorf("message about a missing silence: %+v", m)
	}
}
