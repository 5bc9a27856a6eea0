package policy

import (
	"context"
	"fmt"
	"testing"

	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/storage/postgres"
	"github.com/hush-gateway/hush/storage/postgres/pgtest"
)

// Two replicas (two engines, each with its own connection pool) on one PostgreSQL schema:
// customers first seen by either replica, and a second trigger handled by the other one,
// are all in the group the (rule, customer) function names — no replica decides alone.
func TestHoldoutStableAcrossReplicas(t *testing.T) {
	schema, _ := pgtest.Schema(t, "hush_holdout_")
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	clock := &testClock{t: engineStart}
	replica := func() (*Engine, *postgres.Store) {
		s, err := postgres.Open(ctx, dsn, postgres.Options{Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		e, err := New(ctx, s, Config{Rules: mustRules(t, holdoutRule), Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		return e, s
	}
	a, sa := replica()
	b, sb := replica()
	t.Cleanup(func() {
		_ = sa.Close()
		_ = sb.Close()
	})

	const n = 40
	for i := range n {
		first, second := a, b
		if i%2 == 1 {
			first, second = b, a
		}
		addr := fmt.Sprintf("r%d@example.com", i)
		for j, e := range []*Engine{first, second} {
			if _, err := e.Ingest(ctx, []gateway.Event{lowCSATEvent(fmt.Sprintf("r%d-%d", i, j), engineStart, addr)}, 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	controls := 0
	err := sa.View(ctx, func(tx gateway.Tx) error {
		for i := range n {
			c, err := tx.CustomerByIdentity(email(fmt.Sprintf("r%d@example.com", i)))
			if err != nil {
				return err
			}
			want := InControl(holdoutRule.Name, c.ID, holdoutRule.Holdout)
			if want {
				controls++
			}
			sil, _, err := tx.Silences(gateway.SilenceQuery{CustomerID: c.ID})
			if err != nil {
				return err
			}
			if len(sil) == 0 {
				return fmt.Errorf("customer %s has no silence", c.ID)
			}
			for _, s := range sil {
				if s.Control != want {
					t.Errorf("customer %s: a silence with control %v, the function says %v", c.ID, s.Control, want)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if controls == 0 || controls == n {
		t.Fatalf("%d of %d in control: the test needs both groups", controls, n)
	}
}
