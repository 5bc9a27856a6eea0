package policy

import (
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

func TestSnapshotApplyCopiesOnlyTouchedShardsAndPrunes(t *testing.T) {
	now := engineStart
	ended, later := now.Add(-time.Minute), now.Add(time.Hour)
	state := func(id string, ids []gateway.Identity, ends ...time.Time) *customerState {
		var sil []gateway.Silence
		for i, end := range ends {
			end := end
			sil = append(sil, gateway.Silence{ID: id + string(rune('a'+i)), CustomerID: id, Start: now.Add(-time.Hour), End: &end})
		}
		return newCustomerState(&gateway.Customer{ID: id, Identities: ids}, sil, nil, nil, now.Add(-2*time.Minute))
	}
	a := state("cus_a", []gateway.Identity{email("a@example.com")}, ended, later)
	b := state("cus_b", []gateway.Identity{email("b@example.com"), phone("+34600111222")})
	old := buildSnapshot([]*customerState{a, b}, nil)

	// b is merged into a: b disappears, its identities move to a (with only a live silence).
	merged := state("cus_a", []gateway.Identity{email("a@example.com"), email("b@example.com"), phone("+34600111222")}, later)
	next := old.apply(map[string]*customerState{"cus_a": merged, "cus_b": nil}, nil, false, now)

	for _, id := range []gateway.Identity{email("a@example.com"), email("b@example.com"), phone("+34600111222")} {
		if v, ok := next.Customer(id); !ok || v.ID != "cus_a" {
			t.Fatalf("new snapshot: %s → %+v", id, v)
		}
	}
	if v, _ := old.Customer(email("b@example.com")); v.ID != "cus_b" {
		t.Fatalf("the old snapshot changed under its readers: b → %q", v.ID)
	}
	if v, _ := old.Customer(email("a@example.com")); len(v.Silences) != 2 {
		t.Fatalf("the old snapshot lost silences: %d", len(v.Silences))
	}
	if v, _ := next.Customer(email("a@example.com")); len(v.Silences) != 1 || v.Silences[0].End.Before(now) {
		t.Fatalf("new snapshot silences = %+v", v.Silences)
	}
	touched := map[int]bool{shardOf("cus_a"): true, shardOf("cus_b"): true}
	for sh := range shardCount {
		same := len(old.customers[sh]) == len(next.customers[sh])
		if !touched[sh] && !same {
			t.Fatalf("untouched shard %d changed", sh)
		}
	}

	// Rewriting a shard prunes states holding ended silences, even of customers not changed.
	c := state("cus_c", []gateway.Identity{email("c@example.com")}, later)
	s := buildSnapshot([]*customerState{c}, nil).apply(map[string]*customerState{}, nil, false, later.Add(time.Minute))
	if v, _ := s.Customer(email("c@example.com")); len(v.Silences) != 1 {
		t.Fatal("an apply without changes rewrote a shard")
	}
	// Find another customer id in c's shard and change it.
	var sibling string
	for i := 0; sibling == ""; i++ {
		if id := "cus_" + string(rune('d'+i%20)) + string(rune('a'+i/20)); shardOf(id) == shardOf("cus_c") {
			sibling = id
		}
	}
	s = s.apply(map[string]*customerState{sibling: state(sibling, nil)}, nil, false, later.Add(time.Minute))
	if v, _ := s.Customer(email("c@example.com")); len(v.Silences) != 0 {
		t.Fatalf("expired silence kept after its shard was rewritten: %+v", v.Silences)
	}
}
