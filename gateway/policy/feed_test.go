package policy

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/storage/bolt"
)

// scriptedFeed is a bolt store that says it is shared: its change feed returns what the test
// queued, standing in for other processes' commits, which the test writes straight into the
// store behind the engine's back. (The real feed, PostgreSQL's, is exercised with two real
// replicas in storage/postgres and cmd/hush.)
type scriptedFeed struct {
	gateway.Store
	mu      sync.Mutex
	version uint64
	queued  gateway.Changes
	fail    error
	reads   int
}

func (f *scriptedFeed) Changes(_ context.Context, since uint64) (gateway.Changes, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	if f.fail != nil {
		return gateway.Changes{}, f.fail
	}
	out := f.queued
	out.Version = f.version
	if since > f.version {
		out.Reset = true
	}
	f.queued = gateway.Changes{}
	return out, nil
}

// WaitChange never wakes early, like a store without notifications (CockroachDB has no
// LISTEN): followers must find changes by polling.
func (f *scriptedFeed) WaitChange(ctx context.Context, interval time.Duration) error {
	if !sleep(ctx, interval) {
		return ctx.Err()
	}
	return nil
}

// commit records what "another process" committed.
func (f *scriptedFeed) commit(ch gateway.Changes) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.version++
	f.queued.Customers = append(f.queued.Customers, ch.Customers...)
	f.queued.Incidents = f.queued.Incidents || ch.Incidents
	f.queued.Reset = f.queued.Reset || ch.Reset
}

func TestFollowTakesInOtherProcessesCommits(t *testing.T) {
	s, err := bolt.Open(filepath.Join(t.TempDir(), "hush.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	feed := &scriptedFeed{Store: s}
	clock := &testClock{t: engineStart}
	e, err := New(context.Background(), feed, Config{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if feed.reads != 1 {
		t.Fatalf("New read the feed %d times, want once (to know where it stands before loading)", feed.reads)
	}
	ctx := context.Background()
	decide := func(id gateway.Identity) gateway.Decision {
		t.Helper()
		ds, err := e.Decide(ctx, gateway.DecisionRequest{Channel: gateway.ChannelEmail, Category: gateway.CategoryMarketing, Recipients: []gateway.Identity{id}})
		if err != nil {
			t.Fatal(err)
		}
		return ds[0]
	}
	// Another replica silences ana: written to the shared store, not through this engine.
	otherSilences := func(customerID string, who gateway.Identity) {
		t.Helper()
		end := engineStart.Add(15 * 24 * time.Hour)
		err := s.Update(ctx, func(tx gateway.Tx) error {
			if err := tx.PutCustomer(&gateway.Customer{ID: customerID, Identities: []gateway.Identity{who}, CreatedAt: engineStart}); err != nil {
				return err
			}
			return tx.PutSilence(&gateway.Silence{ID: "sil_" + customerID, CustomerID: customerID, Identity: who,
				Categories: gateway.DefaultSilencedCategories, CreatedBy: "rule:low-csat", Rule: "low-csat",
				Start: engineStart, End: &end, CreatedAt: engineStart, UpdatedAt: engineStart})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	ana := email("ana@example.com")
	otherSilences("cus_ana", ana)
	wantReason(t, decide(ana), "") // this replica has not heard yet

	feed.commit(gateway.Changes{Customers: []string{"cus_ana"}})
	e.followOnce(ctx, feed)
	wantReason(t, decide(ana), gateway.ReasonSilenced)

	// An incident opened elsewhere.
	if err := s.Update(ctx, func(tx gateway.Tx) error {
		return tx.PutIncident(&gateway.Incident{ID: "inc_1", Title: "outage", Scope: "all", CreatedBy: "api", OpenedAt: engineStart})
	}); err != nil {
		t.Fatal(err)
	}
	bea := email("bea@example.com")
	wantReason(t, decide(bea), "")
	feed.commit(gateway.Changes{Incidents: true})
	e.followOnce(ctx, feed)
	wantReason(t, decide(bea), gateway.ReasonIncident)
	// …and resolved elsewhere.
	if err := s.Update(ctx, func(tx gateway.Tx) error {
		resolved := engineStart
		return tx.PutIncident(&gateway.Incident{ID: "inc_1", Title: "outage", Scope: "all", CreatedBy: "api", OpenedAt: engineStart, ResolvedAt: &resolved})
	}); err != nil {
		t.Fatal(err)
	}
	feed.commit(gateway.Changes{Incidents: true})
	e.followOnce(ctx, feed)
	wantReason(t, decide(bea), "")

	// The feed fails: decisions keep coming from the snapshot, and FeedStatus says so.
	feed.mu.Lock()
	feed.fail = errors.New("connection refused")
	feed.mu.Unlock()
	e.followOnce(ctx, feed)
	if _, failing, shared := e.FeedStatus(); !failing || !shared {
		t.Fatalf("FeedStatus after a failed read: failing %v shared %v, want true true", failing, shared)
	}
	wantReason(t, decide(ana), gateway.ReasonSilenced)
	feed.mu.Lock()
	feed.fail = nil
	feed.mu.Unlock()
	e.followOnce(ctx, feed)
	if last, failing, _ := e.FeedStatus(); failing || !last.Equal(engineStart) {
		t.Fatalf("FeedStatus after the feed answered again: last %s failing %v", last, failing)
	}

	// A feed that no longer reaches back (Reset) makes the engine reload everything, which
	// also finds a silence whose change was never named.
	carl := email("carl@example.com")
	otherSilences("cus_carl", carl)
	feed.commit(gateway.Changes{Reset: true})
	e.followOnce(ctx, feed)
	wantReason(t, decide(carl), gateway.ReasonSilenced)

	// Follow stops when its context ends.
	fctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- e.Follow(fctx) }()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Follow returned %v after its context ended, want nil", err)
	}
}

// Without notifications (a store whose WaitChange never wakes early), Follow still takes in
// other processes' commits by polling every FeedInterval.
func TestFollowPollsWithoutNotifications(t *testing.T) {
	s, err := bolt.Open(filepath.Join(t.TempDir(), "hush.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	feed := &scriptedFeed{Store: s}
	clock := &testClock{t: engineStart}
	e, err := New(context.Background(), feed, Config{Now: clock.Now, FeedInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Follow(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	if err := s.Update(ctx, func(tx gateway.Tx) error {
		return tx.PutIncident(&gateway.Incident{ID: "inc_1", Title: "outage", Scope: "all", CreatedBy: "api", OpenedAt: engineStart})
	}); err != nil {
		t.Fatal(err)
	}
	feed.commit(gateway.Changes{Incidents: true})
	bea := email("bea@example.com")
	deadline := time.Now().Add(10 * time.Second)
	for {
		ds, err := e.Decide(ctx, gateway.DecisionRequest{Channel: gateway.ChannelEmail, Category: gateway.CategoryMarketing, Recipients: []gateway.Identity{bea}})
		if err != nil {
			t.Fatal(err)
		}
		if ds[0].Reason == gateway.ReasonIncident {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("10 s after another process opened an incident, polling has not taken it in: %+v", ds[0])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestFollowWithoutASharedStoreReturnsAtOnce(t *testing.T) {
	h := newHarness(t, Config{})
	if err := h.e.Follow(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, _, shared := h.e.FeedStatus(); shared {
		t.Fatal("a bbolt store reported as shared")
	}
}
