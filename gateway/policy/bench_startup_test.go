package policy_test

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/policy"
	"github.com/hush-gateway/hush/storage/bolt"
)

// BenchmarkStartupSnapshot measures what `hush serve` does at start before it can answer:
// policy.New loading every customer and active silence from bbolt into the in-memory
// snapshot. Sub-benchmarks by customers (a tenth of them silenced); the heap the snapshot
// keeps is reported as snapshot-MiB. `hush bench -scenarios scale` measures the same at 1M
// customers through the whole binary (start-up until /readyz, RSS).
//
//	go test ./gateway/policy -run '^$' -bench StartupSnapshot -benchtime 5x
func BenchmarkStartupSnapshot(b *testing.B) {
	for _, customers := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("customers=%d", customers), func(b *testing.B) {
			store, err := bolt.Open(filepath.Join(b.TempDir(), "hush.db"), bolt.Options{NoSync: true})
			if err != nil {
				b.Fatal(err)
			}
			defer store.Close()
			fillCustomers(b, store, customers, customers/10)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := policy.New(ctx, store, policy.Config{DefaultRegion: "ES"}); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			keep, err := policy.New(ctx, store, policy.Config{DefaultRegion: "ES"})
			if err != nil {
				b.Fatal(err)
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			if c := keep.Snapshot().Counts(time.Now()); c.ActiveSilences != customers/10 {
				b.Fatalf("the snapshot holds %d active silences, want %d", c.ActiveSilences, customers/10)
			}
			b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/(1<<20), "snapshot-MiB")
			runtime.KeepAlive(keep)
		})
	}
}

// fillCustomers writes customers with one e-mail identity each and silences for the first
// of every customers/silences, thousands per transaction.
func fillCustomers(b *testing.B, store *bolt.Store, customers, silences int) {
	b.Helper()
	now := time.Now().UTC()
	base := now.Add(-time.Duration(customers+1) * time.Millisecond)
	end := now.Add(365 * 24 * time.Hour)
	every := customers / max(1, silences)
	for from := 0; from < customers; from += 5000 {
		err := store.Update(context.Background(), func(tx gateway.Tx) error {
			for i := from; i < min(from+5000, customers); i++ {
				at := base.Add(time.Duration(i) * time.Millisecond)
				id := gateway.Identity(fmt.Sprintf("email:customer%07d@example.com", i))
				c := &gateway.Customer{ID: gateway.StableID("cus", at, string(id)), Identities: []gateway.Identity{id}, CreatedAt: at, UpdatedAt: at}
				if err := tx.PutCustomer(c); err != nil {
					return err
				}
				if silences == 0 || i%every != 0 || i/every >= silences {
					continue
				}
				s := &gateway.Silence{ID: gateway.StableID("sil", at, string(id)), CustomerID: c.ID, Identity: id,
					CreatedBy: "admin:bench", Reason: "bench", Start: at, End: &end, CreatedAt: at, UpdatedAt: at}
				if err := tx.PutSilence(s); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
