package delivery

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/storage/postgres"
	"github.com/hush-gateway/hush/storage/postgres/pgtest"
)

// sharedStores opens two Store values (two replicas) on one fresh PostgreSQL schema, or
// skips (fails in CI) without HUSH_TEST_POSTGRES_DSN.
func sharedStores(t *testing.T) (a, b *postgres.Store) {
	t.Helper()
	schema, _ := pgtest.Schema(t, "hush_claim_")
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	open := func() *postgres.Store {
		s, err := postgres.Open(ctx, dsn, postgres.Options{Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b = open(), open()
	t.Cleanup(func() {
		_ = a.Close()
		_ = b.Close()
	})
	return a, b
}

// TestReplicasDeliverEachAlertOnce: two replicas' workers on one shared store, passing at
// the same time over the same due alerts, send each one exactly once.
func TestReplicasDeliverEachAlertOnce(t *testing.T) {
	a, b := sharedStores(t)
	s := newSetup(t)
	ids := queue(t, a, "retention", 40, t0)
	workers := []*Worker{newWorker(t, a, s, nil), newWorker(t, b, s, nil)}
	for range 5 {
		// Each worker's own rate limit refills with the clock; a minute is far inside the
		// claims' lease, so no claim expires during the test.
		s.clock.Advance(time.Minute)
		var wg sync.WaitGroup
		for _, w := range workers {
			wg.Go(func() {
				if _, _, _, err := w.DeliverDue(context.Background()); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
	s.rc.mu.Lock()
	defer s.rc.mu.Unlock()
	for _, id := range ids {
		if n := s.rc.perKey[id]; n != 1 {
			t.Errorf("alert %s was sent %d times by the two replicas, want once", id, n)
		}
	}
	for _, id := range ids {
		if m := message(t, b, id); m.State() != gateway.OutboxDelivered {
			t.Errorf("alert %s is %s after the passes, want delivered", id, m.State())
		}
	}
}

// TestClaimExpires: a replica that claimed a message and died leaves it to another replica
// once the claim's lease has passed.
func TestClaimExpires(t *testing.T) {
	a, b := sharedStores(t)
	s := newSetup(t)
	ids := queue(t, a, "retention", 1, t0)
	dying := newWorker(t, a, s, nil)
	m := message(t, a, ids[0])
	if ok, err := dying.claim(context.Background(), m, s.clock.Now()); !ok || err != nil {
		t.Fatalf("claim: %v, %v", ok, err)
	}
	other := newWorker(t, b, s, nil)
	if d, _, _, err := other.DeliverDue(context.Background()); err != nil || d != 0 {
		t.Fatalf("while claimed, the other replica delivered %d (%v), want 0", d, err)
	}
	s.clock.Advance(DefaultClaimLease + 1)
	if d, _, _, err := other.DeliverDue(context.Background()); err != nil || d != 1 {
		t.Fatalf("after the lease, the other replica delivered %d (%v), want 1", d, err)
	}
}
