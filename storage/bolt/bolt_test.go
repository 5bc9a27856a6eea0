package bolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/storage/storagetest"
	"go.etcd.io/bbolt"
)

func openTemp(t testing.TB, opts Options) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hush.db")
	s, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, path
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) gateway.Store {
		// Real fsync: the suite is small enough, and it is what production runs.
		s, _ := openTemp(t, Options{})
		return s
	})
}

func putCustomer(t *testing.T, s gateway.Store, id string, ident gateway.Identity) {
	t.Helper()
	err := s.Update(context.Background(), func(tx gateway.Tx) error {
		return tx.PutCustomer(&gateway.Customer{ID: id, Identities: []gateway.Identity{ident}})
	})
	if err != nil {
		t.Fatalf("PutCustomer: %v", err)
	}
}

func hasCustomer(t *testing.T, s gateway.Store, ident gateway.Identity) string {
	t.Helper()
	var id string
	err := s.View(context.Background(), func(tx gateway.Tx) error {
		c, err := tx.CustomerByIdentity(ident)
		if err != nil {
			return err
		}
		id = c.ID
		return nil
	})
	if err != nil {
		t.Fatalf("CustomerByIdentity(%s): %v", ident, err)
	}
	return id
}

func TestReopenKeepsData(t *testing.T) {
	s, path := openTemp(t, Options{})
	putCustomer(t, s, "cus_a", "email:ana@example.com")
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s2, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s2.Close()
	if id := hasCustomer(t, s2, "email:ana@example.com"); id != "cus_a" {
		t.Errorf("after reopen the identity names %q, want cus_a", id)
	}
}

func fileVersion(t *testing.T, path string) uint64 {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatalf("open raw file: %v", err)
	}
	defer db.Close()
	var v uint64
	if err := db.View(func(tx *bbolt.Tx) error { v, err = schemaVersion(tx); return err }); err != nil {
		t.Fatalf("read version: %v", err)
	}
	return v
}

func TestNewFileHasCurrentVersion(t *testing.T) {
	s, path := openTemp(t, Options{})
	s.Close()
	if got, want := fileVersion(t, path), uint64(len(migrations())); got != want {
		t.Errorf("new file has schema version %d, want %d", got, want)
	}
}

func TestMigrateVersion0File(t *testing.T) {
	// Version 0: a file written before schema versioning, with no meta bucket and only some
	// of today's buckets.
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucket(bucketCustomers)
		if err != nil {
			return err
		}
		return b.Put([]byte("cus_old"), []byte(`{"id":"cus_old","identities":["email:old@example.com"],"name":"Old"}`))
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open old file: %v", err)
	}
	err = s.Update(context.Background(), func(tx gateway.Tx) error {
		c, err := tx.Customer("cus_old")
		if err != nil {
			return err
		}
		if c.Name != "Old" {
			t.Errorf("old customer came back as %+v", c)
		}
		// Buckets the old file lacked exist now.
		if err := tx.PutSilence(&gateway.Silence{ID: "sil_1", CustomerID: "cus_old"}); err != nil {
			return err
		}
		return tx.PutSuppressionEntry(&gateway.SuppressionEntry{Upstream: "sendgrid", Address: "old@example.com", CustomerID: "cus_old", Owned: true})
	})
	if err != nil {
		t.Fatalf("use migrated file: %v", err)
	}
	s.Close()
	if got := fileVersion(t, path); got != uint64(len(migrations())) {
		t.Errorf("migrated file has version %d", got)
	}
}

func TestMigrationsRunOnceInOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hush.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	putCustomer(t, s, "cus_a", "email:ana@example.com")
	s.Close()

	// A later build adds two migrations; they see the data and run in order, once.
	var ran []string
	migs := append(migrations(),
		migration{name: "tag", up: func(tx *bbolt.Tx) error {
			ran = append(ran, "tag")
			return tx.Bucket(bucketCustomers).Put([]byte("cus_a"), []byte(`{"id":"cus_a","identities":["email:ana@example.com"],"tags":["migrated"]}`))
		}},
		migration{name: "second", up: func(tx *bbolt.Tx) error { ran = append(ran, "second"); return nil }},
	)
	for range 2 {
		s, err := open(path, Options{}, migs)
		if err != nil {
			t.Fatalf("open with new migrations: %v", err)
		}
		s.Close()
	}
	if len(ran) != 2 || ran[0] != "tag" || ran[1] != "second" {
		t.Errorf("migrations ran %v, want [tag second] once", ran)
	}
	if got := fileVersion(t, path); got != uint64(len(migs)) {
		t.Errorf("file version %d, want %d", got, len(migs))
	}

	// A failing migration leaves the file at its old version and untouched.
	failing := append(migs, migration{name: "broken", up: func(tx *bbolt.Tx) error {
		if err := tx.DeleteBucket(bucketCustomers); err != nil {
			return err
		}
		return errors.New("disk on fire")
	}})
	if _, err := open(path, Options{}, failing); err == nil {
		t.Fatal("open with a failing migration succeeded")
	}
	if got := fileVersion(t, path); got != uint64(len(migs)) {
		t.Errorf("after a failed migration the file has version %d, want %d", got, len(migs))
	}
	s, err = open(path, Options{}, migs)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if id := hasCustomer(t, s, "email:ana@example.com"); id != "cus_a" {
		t.Errorf("after a failed migration the customer is %q", id)
	}
}

func TestNewerFileRefused(t *testing.T) {
	s, path := openTemp(t, Options{})
	s.Close()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keySchemaVersion, uint64Key(uint64(len(migrations())+1)))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(path, Options{})
	if !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("Open of a newer file: %v, want ErrNewerSchema", err)
	}
}

func TestSecondOpenIsLocked(t *testing.T) {
	_, path := openTemp(t, Options{})
	_, err := Open(path, Options{Timeout: 50 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
}

func TestOpenMissingDirectory(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "no", "such", "dir", "hush.db"), Options{})
	if err == nil {
		t.Fatal("Open in a missing directory succeeded")
	}
}

// TestBackupIsAReadableCopy opens the backup as a store of its own, taken while writers run.
func TestBackupIsAReadableCopy(t *testing.T) {
	s, _ := openTemp(t, Options{})
	putCustomer(t, s, "cus_a", "email:ana@example.com")
	// The suppression ledger is in the backup: a restored hush must still know which entries
	// on the vendors' lists are its own to take off.
	entry := &gateway.SuppressionEntry{
		Upstream: "sendgrid", Address: "ana@example.com", CustomerID: "cus_a", Owned: true, Synced: true,
		CreatedAt: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC), UpdatedAt: time.Date(2026, 11, 20, 9, 1, 0, 0, time.UTC),
	}
	if err := s.Update(context.Background(), func(tx gateway.Tx) error { return tx.PutSuppressionEntry(entry) }); err != nil {
		t.Fatalf("PutSuppressionEntry: %v", err)
	}

	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ctx.Err() == nil; i++ {
			_ = s.Update(ctx, func(tx gateway.Tx) error {
				return tx.PutDelivery("load", time.Unix(int64(i), 0).String(), time.Unix(int64(i), 0))
			})
		}
	}()
	var buf bytes.Buffer
	_, err := s.Backup(context.Background(), &buf)
	stop()
	wg.Wait()
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	copyPath := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(copyPath, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Open(copyPath, Options{})
	if err != nil {
		t.Fatalf("open backup: %v", err)
	}
	defer c.Close()
	if id := hasCustomer(t, c, "email:ana@example.com"); id != "cus_a" {
		t.Errorf("backup names %q, want cus_a", id)
	}
	err = c.View(context.Background(), func(tx gateway.Tx) error {
		got, err := tx.SuppressionEntry("sendgrid", "ana@example.com")
		if err != nil {
			return err
		}
		if got.CustomerID != entry.CustomerID || !got.Owned || !got.Synced || !got.CreatedAt.Equal(entry.CreatedAt) || !got.UpdatedAt.Equal(entry.UpdatedAt) {
			t.Errorf("ledger entry in the backup: %+v, want %+v", *got, *entry)
		}
		listed, _, err := tx.SuppressionEntries(gateway.SuppressionQuery{Upstream: "sendgrid", CustomerID: "cus_a"})
		if err != nil {
			return err
		}
		if len(listed) != 1 || listed[0].Address != entry.Address {
			t.Errorf("customer listing of the ledger in the backup: %+v, want the one entry", listed)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read the ledger from the backup: %v", err)
	}
}

// TestRerunBatchKeepsSeqUnique mimics bbolt re-running a batch member: the first run's
// sequence number stays in the caller's struct while the transaction rolls back.
func TestRerunBatchKeepsSeqUnique(t *testing.T) {
	s, _ := openTemp(t, Options{})
	e := &gateway.Event{ID: "e1", CustomerID: "cus_a", At: time.Unix(100, 0).UTC()}
	fail := errors.New("first run fails")
	err := s.Update(context.Background(), func(tx gateway.Tx) error {
		if err := tx.PutEvent(e); err != nil {
			return err
		}
		return fail
	})
	if !errors.Is(err, fail) {
		t.Fatal(err)
	}
	kept := e.Seq
	other := &gateway.Event{ID: "e2", CustomerID: "cus_a", At: time.Unix(200, 0).UTC()}
	err = s.Update(context.Background(), func(tx gateway.Tx) error {
		if err := tx.PutEvent(e); err != nil {
			return err
		}
		return tx.PutEvent(other)
	})
	if err != nil {
		t.Fatal(err)
	}
	if e.Seq != kept || other.Seq <= kept {
		t.Errorf("seqs: rerun %d (first run %d), next %d; want the next one above", e.Seq, kept, other.Seq)
	}
}

func TestMigrateIndexesDeadOutbox(t *testing.T) {
	// A version 1 file (no dead index) already holding a dead, a delivered and a pending
	// message, written as that build wrote them.
	path := filepath.Join(t.TempDir(), "hush.db")
	old, err := open(path, Options{NoSync: true}, migrations()[:1])
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	raw := map[string]string{
		"out_dead":      `{"id":"out_dead","kind":"alert","target":"retention","payload":{},"created_at":"2026-11-20T09:00:00Z","attempts":1,"next_attempt":"2026-11-20T09:00:00Z","dead_at":"2026-11-20T09:01:00Z","dead_reason":"400"}`,
		"out_delivered": `{"id":"out_delivered","kind":"alert","target":"retention","payload":{},"created_at":"2026-11-20T09:00:01Z","attempts":1,"next_attempt":"2026-11-20T09:00:01Z","delivered_at":"2026-11-20T09:01:00Z"}`,
		"out_pending":   `{"id":"out_pending","kind":"alert","target":"retention","payload":{},"created_at":"2026-11-20T09:00:02Z","attempts":0,"next_attempt":"2026-11-20T09:00:02Z"}`,
	}
	err = old.db.Update(func(tx *bbolt.Tx) error {
		for i, id := range []string{"out_dead", "out_delivered", "out_pending"} {
			k := join(timeKey(created.Add(time.Duration(i)*time.Second)), []byte(id))
			if err := tx.Bucket(bucketOutbox).Put([]byte(id), []byte(raw[id])); err != nil {
				return err
			}
			if err := tx.Bucket(bucketOutboxByTime).Put(k, nil); err != nil {
				return err
			}
			if id == "out_pending" {
				if err := tx.Bucket(bucketOutboxPending).Put(k, nil); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	old.Close()

	s, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatalf("Open the version 1 file: %v", err)
	}
	defer s.Close()
	list := func(state string) []string {
		t.Helper()
		var got []string
		err := s.View(context.Background(), func(tx gateway.Tx) error {
			ms, _, err := tx.Outbox(gateway.OutboxQuery{State: state})
			for _, m := range ms {
				got = append(got, m.ID)
			}
			return err
		})
		if err != nil {
			t.Fatalf("Outbox %q: %v", state, err)
		}
		return got
	}
	for state, want := range map[string][]string{
		gateway.OutboxDead:      {"out_dead"},
		gateway.OutboxDelivered: {"out_delivered"},
		gateway.OutboxPending:   {"out_pending"},
	} {
		if got := list(state); !slices.Equal(got, want) {
			t.Errorf("after migration, %s: %v, want %v", state, got, want)
		}
	}
	// The migrated entry is the one Put would write: reviving the message drops it.
	err = s.Update(context.Background(), func(tx gateway.Tx) error {
		m, err := tx.OutboxMessage("out_dead")
		if err != nil {
			return err
		}
		m.DeadAt, m.DeadReason = nil, ""
		return tx.PutOutbox(m)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := list(gateway.OutboxDead); len(got) != 0 {
		t.Errorf("dead after reviving out_dead: %v, want none", got)
	}
	if got, want := list(gateway.OutboxPending), []string{"out_dead", "out_pending"}; !slices.Equal(got, want) {
		t.Errorf("pending after reviving out_dead: %v, want %v", got, want)
	}
}

func TestMigrateAddsSuppressionLedger(t *testing.T) {
	// A version 2 file (before the ledger) with data in it: opening it creates the ledger's
	// buckets, empty, and keeps what was there.
	path := filepath.Join(t.TempDir(), "hush.db")
	old, err := open(path, Options{NoSync: true}, migrations()[:2])
	if err != nil {
		t.Fatal(err)
	}
	putCustomer(t, old, "cus_a", "email:ana@example.com")
	err = old.db.View(func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketSuppression) != nil || tx.Bucket(bucketSuppressionByCustomer) != nil {
			return errors.New("a version 2 file already has the ledger buckets")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	old.Close()
	if got := fileVersion(t, path); got != 2 {
		t.Fatalf("fixture file has version %d, want 2", got)
	}

	s, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatalf("Open the version 2 file: %v", err)
	}
	defer s.Close()
	if id := hasCustomer(t, s, "email:ana@example.com"); id != "cus_a" {
		t.Errorf("after migration the identity names %q, want cus_a", id)
	}
	err = s.View(context.Background(), func(tx gateway.Tx) error {
		got, next, err := tx.SuppressionEntries(gateway.SuppressionQuery{Upstream: "sendgrid"})
		if err != nil || len(got) != 0 || next != "" {
			return fmt.Errorf("ledger of a migrated file: %v, %q, %v; want empty", got, next, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &gateway.SuppressionEntry{Upstream: "sendgrid", Address: "ana@example.com", CustomerID: "cus_a", Owned: true}
	err = s.Update(context.Background(), func(tx gateway.Tx) error { return tx.PutSuppressionEntry(e) })
	if err != nil {
		t.Fatalf("PutSuppressionEntry on a migrated file: %v", err)
	}
	err = s.View(context.Background(), func(tx gateway.Tx) error {
		got, _, err := tx.SuppressionEntries(gateway.SuppressionQuery{Upstream: "sendgrid", CustomerID: "cus_a"})
		if err != nil {
			return err
		}
		if len(got) != 1 || got[0].Address != e.Address {
			return fmt.Errorf("customer listing on a migrated file: %+v, want the one entry", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if got, want := fileVersion(t, path), uint64(len(migrations())); got != want {
		t.Errorf("migrated file has version %d, want %d", got, want)
	}
}
