package policy

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/storage/bolt"
)

// countingStore counts the transactions an engine opens.
type countingStore struct {
	gateway.Store
	views, updates atomic.Int64
}

func (s *countingStore) View(ctx context.Context, fn func(gateway.Tx) error) error {
	s.views.Add(1)
	return s.Store.View(ctx, fn)
}

func (s *countingStore) Update(ctx context.Context, fn func(gateway.Tx) error) error {
	s.updates.Add(1)
	return s.Store.Update(ctx, fn)
}

// snapshotEngine has one silenced customer and caps only on voice sales.
func snapshotEngine(tb testing.TB) (*Engine, *countingStore) {
	tb.Helper()
	s, err := bolt.Open(filepath.Join(tb.TempDir(), "hush.db"), bolt.Options{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	cs := &countingStore{Store: s}
	e, err := New(context.Background(), cs, Config{
		Caps:       []gateway.CapSpec{{Channel: "voice", Category: "sales", Max: 3, Per: dayDur(30)}},
		QuietHours: []gateway.QuietHoursSpec{{Channels: []gateway.Channel{"voice"}, From: "21:00", To: "09:00"}},
		Now:        func() time.Time { return engineStart },
	})
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	events := make([]gateway.Event, 1000)
	for i := range events {
		events[i] = event(fmt.Sprintf("e%d", i), gateway.EventTicketOpened, engineStart, fmt.Sprintf("c%d@example.com", i))
	}
	if _, err := e.Ingest(ctx, events, 0); err != nil {
		tb.Fatal(err)
	}
	if _, err := e.CreateSilence(ctx, gateway.SilenceInput{Identity: email("silenced@example.com"), For: 24 * time.Hour}); err != nil {
		tb.Fatal(err)
	}
	return e, cs
}

func TestDecideFromSnapshotOpensNoTransaction(t *testing.T) {
	e, cs := snapshotEngine(t)
	views, updates := cs.views.Load(), cs.updates.Load()
	for _, who := range []gateway.Identity{email("silenced@example.com"), email("c7@example.com"), email("stranger@example.com")} {
		if _, err := e.Decide(context.Background(), gateway.DecisionRequest{Channel: "email", Category: "marketing", Recipients: []gateway.Identity{who}}); err != nil {
			t.Fatal(err)
		}
	}
	if cs.views.Load() != views || cs.updates.Load() != updates {
		t.Fatalf("Decide without caps opened %d read and %d write transactions", cs.views.Load()-views, cs.updates.Load()-updates)
	}
	// A cap that applies does need the store.
	if _, err := e.Decide(context.Background(), gateway.DecisionRequest{Channel: "voice", Category: "sales", Recipients: []gateway.Identity{email("c7@example.com")}}); err != nil {
		t.Fatal(err)
	}
	if cs.views.Load() != views+1 {
		t.Fatalf("a capped dry check opened %d read transactions, want 1", cs.views.Load()-views)
	}
}

// BenchmarkDecideSnapshot measures a dry decision answered from the snapshot alone.
func BenchmarkDecideSnapshot(b *testing.B) {
	e, _ := snapshotEngine(b)
	ctx := context.Background()
	for _, bc := range []struct {
		name   string
		who    gateway.Identity
		reason string
	}{
		{"silenced", email("silenced@example.com"), gateway.ReasonSilenced},
		{"allowed", email("c7@example.com"), ""},
	} {
		b.Run(bc.name, func(b *testing.B) {
			req := gateway.DecisionRequest{Channel: "email", Category: "marketing", Recipients: []gateway.Identity{bc.who}}
			b.ReportAllocs()
			for b.Loop() {
				ds, err := e.Decide(ctx, req)
				if err != nil || ds[0].Reason != bc.reason {
					b.Fatalf("decision %+v, %v", ds, err)
				}
			}
		})
	}
}

// BenchmarkIngestParallel measures durable intake (fsync on every commit, group-committed)
// of one event per call from concurrent callers, with a rule evaluated per event.
func BenchmarkIngestParallel(b *testing.B) {
	s, err := bolt.Open(filepath.Join(b.TempDir(), "hush.db"), bolt.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	rules, err := CompileRules([]gateway.RuleSpec{lowCSAT, repeatedContacts})
	if err != nil {
		b.Fatal(err)
	}
	e, err := New(context.Background(), s, Config{Rules: rules})
	if err != nil {
		b.Fatal(err)
	}
	var seq atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(16) // about the webhooks in flight on a busy instance
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := seq.Add(1)
			ev := gateway.Event{
				ID: fmt.Sprintf("b%d", n), Source: "bench", Type: gateway.EventSurveyResponse, At: time.Now(),
				Customer: gateway.EventCustomer{Email: fmt.Sprintf("c%d@example.com", n%5000)},
				CSAT:     fptr(float64(n%5 + 1)), Topic: fmt.Sprintf("t%d", n%50),
			}
			if _, err := e.Ingest(context.Background(), []gateway.Event{ev}, 0); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
