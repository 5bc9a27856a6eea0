package postgres

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/storage/postgres/pgtest"
	"github.com/hush-gateway/hush/storage/storagetest"
	"github.com/jackc/pgx/v5"
)

// The tests need a PostgreSQL server: HUSH_TEST_POSTGRES_DSN names a database where they
// may create and drop schemas (scripts/postgres-test starts a throwaway one). Without it
// they skip, except in CI, where a missing server is a failure.

func testDSN(tb testing.TB) string { return pgtest.DSN(tb) }

// freshSchema names a new random schema and drops it when the test ends (after the stores
// opened on it are closed: cleanups run last-registered first).
func freshSchema(tb testing.TB) string {
	name, _ := pgtest.Schema(tb, "hush_test_")
	return name
}

// openOn opens a store on schema and closes it when the test ends.
func openOn(tb testing.TB, schema string) *Store {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, testDSN(tb), Options{Schema: schema, MaxConns: 8})
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

func openTest(tb testing.TB) *Store { return openOn(tb, freshSchema(tb)) }

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) gateway.Store { return openTest(t) })
}

func TestBackupRefuses(t *testing.T) {
	s := openTest(t)
	var buf strings.Builder
	n, err := s.Backup(context.Background(), &buf)
	if !errors.Is(err, ErrBackupUnsupported) || n != 0 || buf.Len() != 0 || !strings.Contains(err.Error(), "pg_dump") {
		t.Errorf("Backup = %d, %v (wrote %d bytes); want ErrBackupUnsupported naming pg_dump and nothing written", n, err, buf.Len())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Backup(ctx, &buf); !errors.Is(err, context.Canceled) {
		t.Errorf("Backup with a cancelled context: %v, want context.Canceled", err)
	}
}

func TestOpenRefusesGarbageDSN(t *testing.T) {
	_, err := Open(context.Background(), "postgres://hush:s3cret@[::1", Options{})
	if err == nil {
		t.Fatal("Open of a malformed DSN succeeded")
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Open's error shows the password: %v", err)
	}
}

// Replicas starting together race on an empty schema: every Open succeeds and each
// migration is applied once.
func TestConcurrentOpensMigrateOnce(t *testing.T) {
	schema := freshSchema(t)
	const n = 6
	var wg sync.WaitGroup
	stores := make([]*Store, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			stores[i], errs[i] = Open(ctx, testDSN(t), Options{Schema: schema, MaxConns: 2})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		t.Cleanup(func() { _ = stores[i].Close() })
	}
	migs, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	rows, err := stores[0].pool.Query(context.Background(), "SELECT version, count(*) FROM hush_schema_migrations GROUP BY version ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]int, error) {
		var v [2]int
		err := r.Scan(&v[0], &v[1])
		return v, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(migs) {
		t.Fatalf("hush_schema_migrations holds %v, want each of %d versions once", got, len(migs))
	}
	for i, v := range got {
		if v[0] != i+1 || v[1] != 1 {
			t.Errorf("hush_schema_migrations holds %v, want each of %d versions once", got, len(migs))
		}
	}
	// Every store works on the migrated schema.
	for i, s := range stores {
		if err := s.Update(context.Background(), func(tx gateway.Tx) error {
			return tx.PutDelivery("open", string(rune('a'+i)), time.Now())
		}); err != nil {
			t.Errorf("Update through store %d: %v", i, err)
		}
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	schema := freshSchema(t)
	s := openOn(t, schema)
	if _, err := s.pool.Exec(context.Background(), "INSERT INTO hush_schema_migrations (version, name) VALUES (1000, 'from the future')"); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), testDSN(t), Options{Schema: schema})
	if !errors.Is(err, ErrNewerSchema) {
		t.Errorf("Open of a schema migrated by a newer hush: %v, want ErrNewerSchema", err)
	}
}

// A long Update whose context ends rolls back what it wrote.
func TestUpdateCancelledMidwayRollsBack(t *testing.T) {
	s := openTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	err := s.Update(ctx, func(tx gateway.Tx) error {
		if err := tx.PutCustomer(&gateway.Customer{ID: "cus_a", Identities: []gateway.Identity{"email:ana@example.com"}}); err != nil {
			return err
		}
		cancel() // the request goes away while the transaction is open
		return tx.PutDelivery("zendesk", "d1", time.Now())
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Update cancelled midway: %v, want context.Canceled", err)
	}
	err = s.Update(context.Background(), func(tx gateway.Tx) error {
		if _, err := tx.Customer("cus_a"); !errors.Is(err, gateway.ErrNotFound) {
			t.Errorf("customer written by a cancelled Update: %v, want ErrNotFound", err)
		}
		if seen, err := tx.DeliverySeen("zendesk", "d1"); err != nil || seen {
			t.Errorf("delivery of a cancelled Update: seen %v, %v", seen, err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update after a cancelled one: %v", err)
	}

	// Also when fn ignores the end of its context and returns nil.
	ctx, cancel = context.WithCancel(context.Background())
	err = s.Update(ctx, func(tx gateway.Tx) error {
		err := tx.PutDelivery("zendesk", "d2", time.Now())
		cancel()
		return err
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Update whose context ended before commit: %v, want context.Canceled", err)
	}
	_ = s.View(context.Background(), func(tx gateway.Tx) error {
		if seen, err := tx.DeliverySeen("zendesk", "d2"); err != nil || seen {
			t.Errorf("delivery of an Update cancelled before commit: seen %v, %v", seen, err)
		}
		return nil
	})
}

func TestCursorGarbage(t *testing.T) {
	s := openTest(t)
	for _, c := range []string{"not a cursor!", "AA", encodeCursor(cursorDecisions, sortKey{ns: 1, id: "x"})} {
		err := s.View(context.Background(), func(tx gateway.Tx) error {
			_, _, err := tx.Silences(gateway.SilenceQuery{Page: gateway.Page{Cursor: c}})
			return err
		})
		if gateway.ErrorCodeOf(err) != gateway.CodeInvalid {
			t.Errorf("Silences with cursor %q: %v, want an invalid error", c, err)
		}
	}
}
