package policy

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/storage/bolt"
)

// flakyStore fails the next `fail` Updates, as a full disk would.
type flakyStore struct {
	gateway.Store
	fail atomic.Int64
}

func (s *flakyStore) Update(ctx context.Context, fn func(gateway.Tx) error) error {
	if s.fail.Add(-1) >= 0 {
		return errors.New("injected: no space left on device")
	}
	return s.Store.Update(ctx, fn)
}

func batchedEngine(t *testing.T, caps ...gateway.CapSpec) (*Engine, *flakyStore) {
	t.Helper()
	s, err := bolt.Open(filepath.Join(t.TempDir(), "hush.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	fs := &flakyStore{Store: s}
	e, err := New(context.Background(), fs, Config{BatchDecisionLog: true, Caps: caps, Now: func() time.Time { return engineStart }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close(context.Background()) })
	return e, fs
}

func storedDecisions(t *testing.T, s gateway.Store) (decisions []gateway.Decision, contacts int) {
	t.Helper()
	err := s.View(context.Background(), func(tx gateway.Tx) error {
		var err error
		decisions, err = allPages(func(p gateway.Page) ([]gateway.Decision, string, error) {
			return tx.Decisions(gateway.DecisionQuery{Page: p})
		})
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		for _, d := range decisions {
			if d.CustomerID != "" && !seen[d.CustomerID] {
				seen[d.CustomerID] = true
				n, err := tx.CountContacts(d.CustomerID, time.Time{}, gateway.ChannelAny, gateway.CategoryAny)
				if err != nil {
					return err
				}
				contacts += n
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return decisions, contacts
}

func TestBatchedDecisionLog(t *testing.T) {
	e, s := batchedEngine(t)
	ctx := context.Background()
	// Known customers, so that allowed sends count as contacts.
	var events []gateway.Event
	for i := range 40 {
		events = append(events, event(fmt.Sprintf("e%d", i), gateway.EventTicketOpened, engineStart, fmt.Sprintf("c%d@example.com", i)))
	}
	if _, err := e.Ingest(ctx, events, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := e.CreateSilence(ctx, gateway.SilenceInput{Identity: email("c0@example.com"), For: time.Hour}); err != nil {
		t.Fatal(err)
	}

	// 40 sends of 40 recipients from 8 goroutines, while the disk fails twice.
	s.fail.Store(2)
	var wg sync.WaitGroup
	var ids sync.Map
	for g := range 8 {
		wg.Go(func() {
			for k := range 5 {
				req := gateway.DecisionRequest{Channel: gateway.ChannelEmail, Category: gateway.CategoryMarketing, Record: true, Upstream: "sendgrid"}
				for i := range 40 {
					req.Recipients = append(req.Recipients, email(fmt.Sprintf("c%d@example.com", i)))
				}
				ds, err := e.Decide(ctx, req)
				if err != nil {
					t.Errorf("send %d/%d: %v", g, k, err)
					return
				}
				for _, d := range ds {
					if d.ID == "" {
						t.Errorf("a batched decision has no id: %+v", d)
					}
					ids.Store(d.ID, true)
				}
				if ds[0].Allowed || ds[1].ContactID == "" {
					t.Errorf("c0 (silenced) allowed %v, c1's contact %q", ds[0].Allowed, ds[1].ContactID)
				}
			}
		})
	}
	wg.Wait()
	if err := e.FlushDecisions(ctx); err != nil {
		t.Fatal(err)
	}
	if queued, failed := e.DecisionLogStats(); queued != 0 || failed < 2 {
		t.Fatalf("after the flush: %d sends queued, %d failed commits (want 0 and the 2 injected)", queued, failed)
	}
	got, contacts := storedDecisions(t, s)
	if len(got) != 40*40 || contacts != 40*39 {
		t.Fatalf("stored %d decisions and %d contacts, want %d and %d", len(got), contacts, 40*40, 40*39)
	}
	for _, d := range got {
		if _, ok := ids.Load(d.ID); !ok {
			t.Fatalf("stored decision %s was never answered", d.ID)
		}
	}

	// A failed send gives its slots back, after its contacts were written.
	ds, err := e.Decide(ctx, gateway.DecisionRequest{Channel: gateway.ChannelEmail, Category: gateway.CategoryMarketing, Record: true,
		Recipients: []gateway.Identity{email("c5@example.com")}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Release(ctx, ds); err != nil {
		t.Fatal(err)
	}
	if err := e.FlushDecisions(ctx); err != nil {
		t.Fatal(err)
	}
	got, contacts = storedDecisions(t, s)
	if contacts != 40*39 {
		t.Fatalf("after a release: %d contacts, want %d", contacts, 40*39)
	}
	for _, d := range got {
		if d.ID == ds[0].ID && (!d.Unsent || !d.Allowed || d.CustomerID == "") {
			t.Fatalf("the released decision is stored as %+v, want it allowed, unsent and still the customer's", d)
		}
		if d.ID != ds[0].ID && d.Unsent {
			t.Fatalf("decision %s marked unsent by another send's release", d.ID)
		}
	}

	// Closed: what is queued is written, and later decisions are committed at once.
	if _, err := e.Decide(ctx, gateway.DecisionRequest{Channel: gateway.ChannelEmail, Category: gateway.CategoryMarketing, Record: true,
		Recipients: []gateway.Identity{email("c7@example.com")}}); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := storedDecisions(t, s); len(got) != 40*40+2 {
		t.Fatalf("after Close: %d decisions, want %d", len(got), 40*40+2)
	}
	if _, err := e.Decide(ctx, gateway.DecisionRequest{Channel: gateway.ChannelEmail, Category: gateway.CategoryMarketing, Record: true,
		Recipients: []gateway.Identity{email("c8@example.com")}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := storedDecisions(t, s); len(got) != 40*40+3 {
		t.Fatalf("a decision after Close was not committed at once: %d decisions", len(got))
	}
}

func TestCappedSendsAreRecordedBeforeTheAnswer(t *testing.T) {
	e, s := batchedEngine(t, gateway.CapSpec{Channel: "sms", Category: "marketing", Max: 1, Per: dayDur(30)})
	ctx := context.Background()
	req := gateway.DecisionRequest{Channel: gateway.ChannelSMS, Category: gateway.CategoryMarketing, Record: true,
		Recipients: []gateway.Identity{phone("+34600111222")}}
	first, err := e.Decide(ctx, req)
	if err != nil || !first[0].Allowed {
		t.Fatalf("first send: %+v, %v", first, err)
	}
	// No flush: a capped send's records are committed before Decide answers.
	if got, contacts := storedDecisions(t, s); len(got) != 1 || contacts != 1 {
		t.Fatalf("stored %d decisions, %d contacts right after the answer; want 1 and 1", len(got), contacts)
	}
	second, err := e.Decide(ctx, req)
	if err != nil || second[0].Allowed || second[0].Reason != gateway.ReasonFrequencyCap {
		t.Fatalf("second send: %+v, %v", second, err)
	}
}

func TestFlushWaitsOnlyForWhatWasQueued(t *testing.T) {
	e, _ := batchedEngine(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.FlushDecisions(ctx); err != nil {
		t.Fatalf("flush of an empty log: %v", err)
	}
	// A report and an erasure see every decision made before them.
	if _, err := e.Decide(ctx, gateway.DecisionRequest{Channel: gateway.ChannelEmail, Category: gateway.CategoryMarketing, Record: true,
		Recipients: []gateway.Identity{email("ana@example.com")}}); err != nil {
		t.Fatal(err)
	}
	r, err := e.Report(ctx, engineStart.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if r.DecisionsByReason["allowed"] != 1 {
		t.Fatalf("report = %+v", r.DecisionsByReason)
	}
}

func TestReleaseMarksCommittedDecisionsUnsent(t *testing.T) {
	e, s := batchedEngine(t, gateway.CapSpec{Channel: "sms", Category: "marketing", Max: 1, Per: dayDur(30)})
	ctx := context.Background()
	req := gateway.DecisionRequest{Channel: gateway.ChannelSMS, Category: gateway.CategoryMarketing, Record: true,
		Recipients: []gateway.Identity{phone("+34600111222")}}
	ds, err := e.Decide(ctx, req)
	if err != nil || !ds[0].Allowed {
		t.Fatalf("send: %+v, %v", ds, err)
	}
	if err := e.Release(ctx, ds); err != nil {
		t.Fatal(err)
	}
	got, contacts := storedDecisions(t, s)
	if len(got) != 1 || !got[0].Unsent || contacts != 0 {
		t.Fatalf("after the release: %+v, %d contacts; want one unsent decision and no contact", got, contacts)
	}
	// The slot is free again, and the report says the send did not happen.
	again, err := e.Decide(ctx, req)
	if err != nil || !again[0].Allowed {
		t.Fatalf("after the release the cap is still taken: %+v, %v", again, err)
	}
	r, err := e.Report(ctx, engineStart.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if r.DecisionsByReason["unsent"] != 1 || r.DecisionsByReason["allowed"] != 1 {
		t.Fatalf("report by reason = %v", r.DecisionsByReason)
	}
}
