package storage_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/storage"
	"github.com/hush-gateway/hush/storage/bolt"
	"github.com/hush-gateway/hush/storage/postgres"
	"github.com/hush-gateway/hush/storage/postgres/pgtest"
)

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func openBolt(t *testing.T) *bolt.Store {
	t.Helper()
	s, err := bolt.Open(filepath.Join(t.TempDir(), "hush.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// populate writes n customers, each with every kind of record hush keeps, plus records that
// belong to no customer. Batches of records cross the copier's batch size.
func populate(t *testing.T, s gateway.Store, n int) {
	t.Helper()
	for i := range n {
		cid := fmt.Sprintf("cus_%04d", i)
		at := t0.Add(time.Duration(i) * time.Minute)
		end := at.Add(15 * 24 * time.Hour)
		err := s.Update(context.Background(), func(tx gateway.Tx) error {
			who := gateway.Identity(fmt.Sprintf("email:c%04d@example.com", i))
			if err := tx.PutCustomer(&gateway.Customer{ID: cid, Identities: []gateway.Identity{who, gateway.Identity(fmt.Sprintf("phone:+346001%05d", i))},
				Name: "Cliente Ñandú", Attrs: map[string]string{"plan": "pro"}, CreatedAt: at, UpdatedAt: at}); err != nil {
				return err
			}
			for j := range 3 {
				e := &gateway.Event{ID: fmt.Sprintf("ev%04d-%d", i, j), Source: "zendesk", Type: "ticket.opened", CustomerID: cid,
					Channel: gateway.ChannelEmail, At: at.Add(time.Duration(j) * time.Second), ReceivedAt: at,
					Text: "No funciona nada", Raw: json.RawMessage(fmt.Sprintf(`{"ticket":%d}`, i*10+j))}
				if err := tx.PutEvent(e); err != nil {
					return err
				}
			}
			if err := tx.PutSilence(&gateway.Silence{ID: "sil_" + cid, CustomerID: cid, Identity: who, Categories: gateway.DefaultSilencedCategories,
				Rule: "low-csat", CreatedBy: "rule:low-csat", Reason: "CSAT 1", Start: at, End: &end, CreatedAt: at, UpdatedAt: at}); err != nil {
				return err
			}
			if i%3 == 0 {
				if err := tx.PutOptOut(&gateway.OptOut{ID: "opt_" + cid, CustomerID: cid, Identity: who, Channel: gateway.ChannelSMS, Reason: "STOP", CreatedBy: "source:twilio", CreatedAt: at}); err != nil {
					return err
				}
			}
			if err := tx.PutDecision(&gateway.Decision{ID: "dec_" + cid, At: at, Recipient: who, CustomerID: cid, Channel: gateway.ChannelEmail,
				Category: gateway.CategoryMarketing, Upstream: "mail", Reason: gateway.ReasonSilenced, SilenceID: "sil_" + cid}); err != nil {
				return err
			}
			if err := tx.PutContact(&gateway.Contact{ID: "con_" + cid, CustomerID: cid, At: at, Channel: gateway.ChannelSMS, Category: gateway.CategoryMarketing, Upstream: "sms"}); err != nil {
				return err
			}
			if err := tx.PutSuppressionEntry(&gateway.SuppressionEntry{Upstream: []string{"sendgrid", "postmark"}[i%2], Address: fmt.Sprintf("c%04d@example.com", i),
				CustomerID: cid, Owned: true, Synced: true, CreatedAt: at, UpdatedAt: at}); err != nil {
				return err
			}
			return tx.PutDelivery("zendesk", fmt.Sprintf("d-%04d", i), at)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	err := s.Update(context.Background(), func(tx gateway.Tx) error {
		resolved := t0.Add(time.Hour)
		for _, inc := range []*gateway.Incident{
			{ID: "inc_1", Title: "Caída de la red", Scope: "all", Source: "statuspage", ExternalID: "sp-1", CreatedBy: "source:statuspage", OpenedAt: t0},
			{ID: "inc_2", Title: "Fixed", Scope: "tag:madrid", CreatedBy: "admin:ops", OpenedAt: t0, ResolvedAt: &resolved, ResolvedBy: "admin:ops"},
		} {
			if err := tx.PutIncident(inc); err != nil {
				return err
			}
		}
		// A decision about someone hush does not know, and a dead letter and an alert.
		if err := tx.PutDecision(&gateway.Decision{ID: "dec_anon", At: t0, Recipient: "email:nobody@example.com", Channel: gateway.ChannelEmail,
			Category: gateway.CategoryMarketing, Allowed: true}); err != nil {
			return err
		}
		if err := tx.PutDeadLetter(&gateway.DeadLetter{ID: "dl_1", Source: "typeform", ReceivedAt: t0, Error: "unknown form", Body: []byte(`{"form":"x"}`), Header: map[string][]string{"Content-Type": {"application/json"}}}); err != nil {
			return err
		}
		return tx.PutOutbox(&gateway.OutboxMessage{ID: "out_1", Kind: gateway.OutboxAlert, Target: "retention", CustomerID: "cus_0001", Payload: json.RawMessage(`{"rule":"low-csat"}`), CreatedAt: t0, NextAttempt: t0})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// dump reads every record of s as JSON lines by kind, sorted, raw payloads included: two
// stores with the same dump hold the same data.
func dump(t *testing.T, s gateway.Store) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	add := func(kind string, v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		out[kind] = append(out[kind], string(b))
		return nil
	}
	err := s.View(context.Background(), func(tx gateway.Tx) error {
		err := tx.ForEachCustomer(func(c *gateway.Customer) error {
			if err := add(storage.KindCustomers, c); err != nil {
				return err
			}
			evs, _, err := tx.Events(gateway.EventQuery{CustomerID: c.ID, Page: gateway.Page{Limit: 1000}})
			if err != nil {
				return err
			}
			for _, e := range evs {
				raw, err := tx.EventRaw(c.ID, e.Seq)
				if err != nil {
					return err
				}
				if err := add(storage.KindEvents, struct {
					gateway.Event
					Raw string
				}{e, string(raw)}); err != nil {
					return err
				}
			}
			// Identities must resolve in the copy too.
			for _, id := range c.Identities {
				got, err := tx.CustomerByIdentity(id)
				if err != nil || got.ID != c.ID {
					return fmt.Errorf("identity %s resolves to %v, %v; want %s", id, got, err, c.ID)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		sil, _, err := tx.Silences(gateway.SilenceQuery{Page: gateway.Page{Limit: 1000}})
		for _, x := range sil {
			_ = add(storage.KindSilences, x)
		}
		opt, _, err2 := tx.OptOuts(gateway.OptOutQuery{Page: gateway.Page{Limit: 1000}})
		for _, x := range opt {
			_ = add(storage.KindOptOuts, x)
		}
		inc, _, err3 := tx.Incidents(gateway.IncidentQuery{Page: gateway.Page{Limit: 1000}})
		for _, x := range inc {
			_ = add(storage.KindIncidents, x)
		}
		dec, _, err4 := tx.Decisions(gateway.DecisionQuery{Page: gateway.Page{Limit: 1000}})
		for _, x := range dec {
			_ = add(storage.KindDecisions, x)
		}
		dls, _, err5 := tx.DeadLetters(gateway.Page{Limit: 1000})
		for _, x := range dls {
			_ = add(storage.KindDeadLetters, x)
		}
		obx, _, err6 := tx.Outbox(gateway.OutboxQuery{Page: gateway.Page{Limit: 1000}})
		for _, x := range obx {
			_ = add(storage.KindOutbox, x)
		}
		if err := errors.Join(err, err2, err3, err4, err5, err6); err != nil {
			return err
		}
		return errors.Join(
			tx.ForEachContact(func(c *gateway.Contact) error { return add(storage.KindContacts, c) }),
			tx.ForEachSuppressionEntry(func(e *gateway.SuppressionEntry) error { return add(storage.KindSuppression, e) }),
			tx.ForEachDelivery(func(source, id string, at time.Time) error {
				return add(storage.KindDeliveries, []any{source, id, at.UTC()})
			}),
		)
	})
	if err != nil {
		t.Fatal(err)
	}
	for k := range out {
		slices.Sort(out[k])
	}
	return out
}

func TestCopyMovesEverything(t *testing.T) {
	from, to := openBolt(t), openBolt(t)
	const customers = 260 // × 3 events: several of the copier's batches
	populate(t, from, customers)
	var progressed []string
	moved, err := storage.Copy(context.Background(), from, to, func(kind string, done int) {
		progressed = append(progressed, kind)
	})
	if err != nil {
		t.Fatal(err)
	}
	want := storage.Counts{
		storage.KindCustomers: customers, storage.KindEvents: 3 * customers, storage.KindSilences: customers,
		storage.KindOptOuts: (customers + 2) / 3, storage.KindIncidents: 2, storage.KindDecisions: customers + 1,
		storage.KindContacts: customers, storage.KindDeadLetters: 1, storage.KindOutbox: 1,
		storage.KindSuppression: customers, storage.KindDeliveries: customers,
	}
	for _, k := range storage.Kinds() {
		if moved[k] != want[k] {
			t.Errorf("Copy moved %d %s, want %d", moved[k], k, want[k])
		}
	}
	counted, err := storage.Count(context.Background(), to)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range storage.Kinds() {
		if counted[k] != want[k] {
			t.Errorf("the target holds %d %s, want %d", counted[k], k, want[k])
		}
	}
	if !slices.Contains(progressed, storage.KindEvents) {
		t.Errorf("progress was never told about events: %v", progressed)
	}
	src, dst := dump(t, from), dump(t, to)
	for _, k := range storage.Kinds() {
		if len(src[k]) != want[k] || !slices.Equal(src[k], dst[k]) {
			t.Errorf("%s differ after the copy: source %d records, target %d, want %d", k, len(src[k]), len(dst[k]), want[k])
		}
	}

	// The copy's event numbering goes on past the moved events.
	err = to.Update(context.Background(), func(tx gateway.Tx) error {
		e := &gateway.Event{ID: "new", Source: "zendesk", Type: "ticket.opened", CustomerID: "cus_0000", At: t0}
		if err := tx.PutEvent(e); err != nil {
			return err
		}
		if e.Seq <= 3*customers {
			return fmt.Errorf("a new event in the copy got number %d, which a moved event may hold", e.Seq)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestCopyRefusesATargetWithData(t *testing.T) {
	from, to := openBolt(t), openBolt(t)
	populate(t, from, 2)
	populate(t, to, 1)
	before := dump(t, to)
	_, err := storage.Copy(context.Background(), from, to, nil)
	if !errors.Is(err, storage.ErrTargetNotEmpty) {
		t.Fatalf("Copy into a store with data: %v, want ErrTargetNotEmpty", err)
	}
	after := dump(t, to)
	for _, k := range storage.Kinds() {
		if !slices.Equal(before[k], after[k]) {
			t.Errorf("a refused copy changed the target's %s", k)
		}
	}
}

// TestCopyBoltToPostgres is the move hush migrate-storage makes: a populated bbolt store into
// an empty PostgreSQL schema, compared record by record (raw payloads, event numbers and
// identities included).
func TestCopyBoltToPostgres(t *testing.T) {
	schema, _ := pgtest.Schema(t, "hush_copy_")
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	to, err := postgres.Open(ctx, dsn, postgres.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = to.Close() })
	from := openBolt(t)
	const customers = 120
	populate(t, from, customers)
	moved, err := storage.Copy(ctx, from, to, nil)
	if err != nil {
		t.Fatal(err)
	}
	if moved[storage.KindEvents] != 3*customers {
		t.Errorf("moved %d events, want %d", moved[storage.KindEvents], 3*customers)
	}
	src, dst := dump(t, from), dump(t, to)
	for _, k := range storage.Kinds() {
		if len(src[k]) == 0 || !slices.Equal(src[k], dst[k]) {
			t.Errorf("%s differ after the copy to PostgreSQL: source %d records, target %d", k, len(src[k]), len(dst[k]))
			for i := range min(len(src[k]), len(dst[k])) {
				if src[k][i] != dst[k][i] {
					t.Logf("first difference:\nsource %s\ntarget %s", src[k][i], dst[k][i])
					break
				}
			}
		}
	}
}
