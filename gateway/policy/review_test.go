package policy

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
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

// failingStore fails every Update, as a disk that stays full would.
type failingStore struct{ gateway.Store }

func (failingStore) Update(context.Context, func(gateway.Tx) error) error {
	return errors.New("injected: no space left on device")
}

// Shutdown with a store that cannot write and a send waiting for room in a full queue: close
// must still give up when its context ends, not wait for the send's own context.
func TestRecorderCloseWhileAddWaitsForRoom(t *testing.T) {
	s, err := bolt.Open(filepath.Join(t.TempDir(), "hush.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	r := newRecorder(failingStore{s}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := context.Background()
	op := recordOp{decisions: []gateway.Decision{{Recipient: email("x@example.com"), At: engineStart, Channel: gateway.ChannelEmail}}}
	// One op for the writer to be stuck retrying, then a full queue.
	if _, err := r.add(ctx, op); err != nil {
		t.Fatal(err)
	}
	for r.failed.Load() == 0 {
		runtime.Gosched()
	}
	for range maxQueued {
		if _, err := r.add(ctx, op); err != nil {
			t.Fatal(err)
		}
	}
	addDone := make(chan struct{})
	go func() {
		defer close(addDone)
		_, _ = r.add(ctx, op) // waits for room that never comes
	}()
	for r.enqueue.TryLock() { // until the add above holds the queue
		r.enqueue.Unlock()
		runtime.Gosched()
	}
	closeCtx, cancel := context.WithCancel(ctx)
	cancel() // shutdown's drain time is already over
	closed := make(chan error, 1)
	go func() { closed <- r.close(closeCtx) }()
	select {
	case err := <-closed:
		if err == nil {
			t.Error("close reported everything written; the store wrote nothing")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("close did not return after its context ended: it waits for the blocked add")
	}
	select {
	case <-addDone:
	case <-time.After(10 * time.Second):
		t.Fatal("the blocked add never returned after close")
	}
}
