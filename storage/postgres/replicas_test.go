package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// Two Store values on one schema stand for two hush replicas.
func twoReplicas(t *testing.T) (a, b *Store) {
	t.Helper()
	schema := freshSchema(t)
	return openOn(t, schema), openOn(t, schema)
}

func changes(t *testing.T, s *Store, since uint64) gateway.Changes {
	t.Helper()
	c, err := s.Changes(context.Background(), since)
	if err != nil {
		t.Fatalf("Changes(%d): %v", since, err)
	}
	return c
}

func putSilence(t *testing.T, s *Store, id, customer string) {
	t.Helper()
	now := time.Now()
	err := s.Update(context.Background(), func(tx gateway.Tx) error {
		return tx.PutSilence(&gateway.Silence{ID: id, CustomerID: customer, Categories: []gateway.Category{gateway.CategoryMarketing},
			CreatedBy: "admin:ops", Reason: "test", Start: now, CreatedAt: now, UpdatedAt: now})
	})
	if err != nil {
		t.Fatalf("PutSilence through a replica: %v", err)
	}
}

func TestChangeFeedAcrossReplicas(t *testing.T) {
	a, b := twoReplicas(t)
	startA, startB := changes(t, a, 0), changes(t, b, 0)
	if startA.Reset || startB.Reset || len(startB.Customers) != 0 {
		t.Fatalf("feed of a new schema: %+v / %+v, want empty", startA, startB)
	}

	putSilence(t, a, "sil_1", "cus_a")
	got := changes(t, b, startB.Version)
	if !slices.Equal(got.Customers, []string{"cus_a"}) || got.Incidents || got.Reset || got.Version <= startB.Version {
		t.Errorf("B's Changes after A put a silence: %+v, want customer cus_a and a later version than %d", got, startB.Version)
	}
	own := changes(t, a, startA.Version)
	if len(own.Customers) != 0 || own.Incidents || own.Version != got.Version {
		t.Errorf("A's Changes after its own write: %+v, want nothing listed and version %d", own, got.Version)
	}
	if again := changes(t, b, got.Version); len(again.Customers) != 0 || again.Version != got.Version {
		t.Errorf("B's Changes from the version it reached: %+v, want nothing new", again)
	}

	// A merge names both customers, an incident sets Incidents; writes that concern no
	// snapshot (a delivery key) add no row.
	err := b.Update(context.Background(), func(tx gateway.Tx) error {
		for _, c := range []*gateway.Customer{{ID: "cus_x", Identities: []gateway.Identity{"email:x@example.com"}}, {ID: "cus_y"}} {
			if err := tx.PutCustomer(c); err != nil {
				return err
			}
		}
		return tx.PutIncident(&gateway.Incident{ID: "inc_1", Scope: "all", OpenedAt: time.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Update(context.Background(), func(tx gateway.Tx) error { return tx.MergeCustomers("cus_x", "cus_y") }); err != nil {
		t.Fatal(err)
	}
	if err := b.Update(context.Background(), func(tx gateway.Tx) error { return tx.PutDelivery("zendesk", "d1", time.Now()) }); err != nil {
		t.Fatal(err)
	}
	fromB := changes(t, a, own.Version)
	if !slices.Equal(fromB.Customers, []string{"cus_x", "cus_y"}) || !fromB.Incidents || fromB.Reset {
		t.Errorf("A's Changes after B's customers, incident and merge: %+v", fromB)
	}

	// Rows pruned away: a reader still behind them is told to reload.
	if err := a.Update(context.Background(), func(gtx gateway.Tx) error {
		_, err := pruneChanges(context.Background(), gtx.(*tx).ptx, 0)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	reset := changes(t, b, startB.Version)
	if !reset.Reset || reset.Version < fromB.Version {
		t.Errorf("Changes from before the pruned rows: %+v, want Reset and version at least %d", reset, fromB.Version)
	}
	// From where the reset left it, the reader goes on normally.
	putSilence(t, a, "sil_2", "cus_b")
	after := changes(t, b, reset.Version)
	if after.Reset || !slices.Equal(after.Customers, []string{"cus_b"}) {
		t.Errorf("Changes after a reset: %+v, want cus_b", after)
	}
}

// Caps stay exact across replicas: count-then-reserve in one Update.
func TestCapsExactAcrossReplicas(t *testing.T) {
	a, b := twoReplicas(t)
	const limit, perStore = 10, 16
	var wg sync.WaitGroup
	var n atomic.Int64
	errs := make(chan error, 2*perStore)
	for si, s := range []*Store{a, b} {
		for g := range perStore {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- s.Update(context.Background(), func(tx gateway.Tx) error {
					count, err := tx.CountContacts("cus_a", time.Time{}, gateway.ChannelSMS, gateway.CategoryMarketing)
					if err != nil || count >= limit {
						return err
					}
					n.Add(1)
					return tx.PutContact(&gateway.Contact{ID: fmt.Sprintf("con_%d_%d", si, g), CustomerID: "cus_a",
						At: time.Now(), Channel: gateway.ChannelSMS, Category: gateway.CategoryMarketing})
				})
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("Update: %v", err)
		}
	}
	_ = a.View(context.Background(), func(tx gateway.Tx) error {
		got, err := tx.CountContacts("cus_a", time.Time{}, gateway.ChannelAny, gateway.CategoryAny)
		if err != nil || got != limit {
			t.Errorf("contacts after %d racing reservations with a cap of %d: %d, %v", 2*perStore, limit, got, err)
		}
		return nil
	})
}

// Webhook dedupe holds across replicas: exactly one sees a delivery as new.
func TestDedupeAcrossReplicas(t *testing.T) {
	a, b := twoReplicas(t)
	for round := range 5 {
		id := fmt.Sprintf("d%d", round)
		var fresh atomic.Int64
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i, s := range []*Store{a, b, a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = s.Update(context.Background(), func(tx gateway.Tx) error {
					seen, err := tx.DeliverySeen("zendesk", id)
					if err != nil || seen {
						return err
					}
					if err := tx.PutDelivery("zendesk", id, time.Now()); err != nil {
						return err
					}
					fresh.Add(1)
					return nil
				})
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		if got := fresh.Load(); got != 1 {
			t.Errorf("delivery %s was new to %d committed Updates, want exactly 1", id, got)
		}
	}
}

// WaitChange wakes on another replica's commit long before its interval.
func TestWaitChangeWakesOnOtherReplica(t *testing.T) {
	a, b := twoReplicas(t)
	const interval = 30 * time.Second
	// The first call starts the listener and returns once it listens.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.WaitChange(ctx, interval); err != nil {
		t.Fatalf("first WaitChange (listener start): %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- b.WaitChange(ctx, interval) }()
	putSilence(t, a, "sil_1", "cus_a")
	if err := <-done; err != nil {
		t.Fatalf("WaitChange after another replica's commit: %v (want a wake-up before the %s interval and the context's deadline)", err, interval)
	}
	if got := changes(t, b, 0); !slices.Equal(got.Customers, []string{"cus_a"}) {
		t.Errorf("Changes after the wake-up: %+v", got)
	}

	// A cancelled wait answers the context's error; a closed store says so.
	cctx, ccancel := context.WithCancel(context.Background())
	ccancel()
	if err := b.WaitChange(cctx, interval); !errors.Is(err, context.Canceled) {
		t.Errorf("WaitChange with a cancelled context: %v", err)
	}
	_ = b.Close()
	if err := b.WaitChange(context.Background(), interval); !errors.Is(err, gateway.ErrStoreClosed) {
		t.Errorf("WaitChange after Close: %v, want ErrStoreClosed", err)
	}
	if _, err := b.Changes(context.Background(), 0); !errors.Is(err, gateway.ErrStoreClosed) {
		t.Errorf("Changes after Close: %v, want ErrStoreClosed", err)
	}
}
