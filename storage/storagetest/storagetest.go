// Package storagetest is the conformance suite of gateway.Store: every storage back end runs
// it from its own tests, so that they all keep the same contract.
package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// Run runs the whole suite. open must return a fresh, empty store for each call, and close
// it when the test ends (t.Cleanup); closing a store twice must be harmless.
func Run(t *testing.T, open func(t *testing.T) gateway.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, gateway.Store)
	}{
		{"Customers", testCustomers},
		{"IdentityConflict", testIdentityConflict},
		{"Deliveries", testDeliveries},
		{"Events", testEvents},
		{"EventBounds", testEventBounds},
		{"Silences", testSilences},
		{"OptOuts", testOptOuts},
		{"Incidents", testIncidents},
		{"Decisions", testDecisions},
		{"Contacts", testContacts},
		{"DeadLetters", testDeadLetters},
		{"Outbox", testOutbox},
		{"SuppressionLedger", testSuppressionLedger},
		{"LedgerOutlivesCustomers", testLedgerOutlivesCustomers},
		{"Pagination", testPagination},
		{"PageLimits", testPageLimits},
		{"Merge", testMerge},
		{"Delete", testDelete},
		{"Prune", testPrune},
		{"Backup", testBackup},
		{"UpdateErrorRollsBack", testRollback},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"CancelledContext", testCancelledContext},
		{"Closed", testClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

// t0 is the suite's reference instant; every time is built from it so results never depend
// on the clock.
var t0 = time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)

func at(minutes int) time.Time { return t0.Add(time.Duration(minutes) * time.Minute) }

func ptr[T any](v T) *T { return &v }

func update(t *testing.T, s gateway.Store, fn func(gateway.Tx) error) {
	t.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func view(t *testing.T, s gateway.Store, fn func(gateway.Tx) error) {
	t.Helper()
	if err := s.View(context.Background(), fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

func customer(id string, ids ...gateway.Identity) *gateway.Customer {
	return &gateway.Customer{ID: id, Identities: ids, CreatedAt: t0, UpdatedAt: t0}
}

func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, gateway.ErrNotFound) {
		t.Errorf("%s: error %v, want ErrNotFound", what, err)
	}
}

func sameJSONish[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

// ids extracts the ids of records, in order.
func ids[T any](recs []T, id func(T) string) []string {
	if len(recs) == 0 {
		return nil
	}
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = id(r)
	}
	return out
}

func silenceID(s gateway.Silence) string   { return s.ID }
func optOutID(o gateway.OptOut) string     { return o.ID }
func incidentID(i gateway.Incident) string { return i.ID }
func decisionID(d gateway.Decision) string { return d.ID }
func eventID(e gateway.Event) string       { return e.ID }

func testCustomers(t *testing.T, s gateway.Store) {
	ana := customer("cus_ana", "email:ana@example.com", "phone:+34600111222")
	ana.Name, ana.Locale, ana.Timezone = "Ana", "es", "Europe/Madrid"
	ana.Tags = []string{"vip"}
	ana.Attrs = map[string]string{"plan": "pro"}
	bob := customer("cus_bob", "zendesk:8841")
	update(t, s, func(tx gateway.Tx) error {
		if err := tx.PutCustomer(ana); err != nil {
			return err
		}
		return tx.PutCustomer(bob)
	})
	view(t, s, func(tx gateway.Tx) error {
		got, err := tx.Customer("cus_ana")
		if err != nil {
			t.Fatalf("Customer: %v", err)
		}
		sameJSONish(t, "Customer", *got, *ana)
		for _, id := range ana.Identities {
			got, err := tx.CustomerByIdentity(id)
			if err != nil || got.ID != "cus_ana" {
				t.Errorf("CustomerByIdentity(%s) = %v, %v; want cus_ana", id, got, err)
			}
		}
		_, err = tx.Customer("cus_nobody")
		wantNotFound(t, "Customer of a missing id", err)
		_, err = tx.CustomerByIdentity("email:nobody@example.com")
		wantNotFound(t, "CustomerByIdentity of an unknown identity", err)
		var seen []string
		if err := tx.ForEachCustomer(func(c *gateway.Customer) error { seen = append(seen, c.ID); return nil }); err != nil {
			t.Fatalf("ForEachCustomer: %v", err)
		}
		slices.Sort(seen)
		sameJSONish(t, "ForEachCustomer", seen, []string{"cus_ana", "cus_bob"})
		return nil
	})

	// Dropping an identity frees it: another customer may take it.
	update(t, s, func(tx gateway.Tx) error {
		c, err := tx.Customer("cus_ana")
		if err != nil {
			return err
		}
		c.Identities = []gateway.Identity{"email:ana@example.com"}
		if err := tx.PutCustomer(c); err != nil {
			return err
		}
		bob, err := tx.Customer("cus_bob")
		if err != nil {
			return err
		}
		bob.Identities = append(bob.Identities, "phone:+34600111222")
		return tx.PutCustomer(bob)
	})
	view(t, s, func(tx gateway.Tx) error {
		got, err := tx.CustomerByIdentity("phone:+34600111222")
		if err != nil || got.ID != "cus_bob" {
			t.Errorf("after moving the phone: CustomerByIdentity = %v, %v; want cus_bob", got, err)
		}
		return nil
	})

	// ForEachCustomer's function may write.
	update(t, s, func(tx gateway.Tx) error {
		return tx.ForEachCustomer(func(c *gateway.Customer) error {
			c.Tags = append(c.Tags, "seen")
			return tx.PutCustomer(c)
		})
	})
	view(t, s, func(tx gateway.Tx) error {
		n := 0
		err := tx.ForEachCustomer(func(c *gateway.Customer) error {
			n++
			if !c.HasTag("seen") {
				t.Errorf("customer %s was not updated by ForEachCustomer's function", c.ID)
			}
			return nil
		})
		if n != 2 {
			t.Errorf("ForEachCustomer visited %d customers, want 2", n)
		}
		return err
	})
}

func testIdentityConflict(t *testing.T, s gateway.Store) {
	update(t, s, func(tx gateway.Tx) error { return tx.PutCustomer(customer("cus_a", "email:ana@example.com")) })
	err := s.Update(context.Background(), func(tx gateway.Tx) error {
		return tx.PutCustomer(customer("cus_b", "phone:+34600111222", "email:ana@example.com"))
	})
	if gateway.ErrorCodeOf(err) != gateway.CodeConflict {
		t.Fatalf("PutCustomer with another customer's identity: %v, want a conflict error", err)
	}
	view(t, s, func(tx gateway.Tx) error {
		_, err := tx.Customer("cus_b")
		wantNotFound(t, "customer of a refused PutCustomer", err)
		_, err = tx.CustomerByIdentity("phone:+34600111222")
		wantNotFound(t, "identity of a refused PutCustomer", err)
		c, err := tx.CustomerByIdentity("email:ana@example.com")
		if err != nil || c.ID != "cus_a" {
			t.Errorf("conflicting identity now names %v, %v; want cus_a", c, err)
		}
		return nil
	})
}

func testDeliveries(t *testing.T, s gateway.Store) {
	view(t, s, func(tx gateway.Tx) error {
		if seen, err := tx.DeliverySeen("zendesk", "d1"); err != nil || seen {
			t.Errorf("DeliverySeen before PutDelivery = %v, %v", seen, err)
		}
		return nil
	})
	update(t, s, func(tx gateway.Tx) error { return tx.PutDelivery("zendesk", "d1", t0) })
	view(t, s, func(tx gateway.Tx) error {
		for _, c := range []struct {
			source, id string
			want       bool
		}{{"zendesk", "d1", true}, {"zendesk", "d2", false}, {"twilio", "d1", false}} {
			if seen, err := tx.DeliverySeen(c.source, c.id); err != nil || seen != c.want {
				t.Errorf("DeliverySeen(%s, %s) = %v, %v; want %v", c.source, c.id, seen, err, c.want)
			}
		}
		return nil
	})
	update(t, s, func(tx gateway.Tx) error { return tx.PutDelivery("twilio", "SM1", at(5)) })
	view(t, s, func(tx gateway.Tx) error {
		got := map[string]time.Time{}
		err := tx.ForEachDelivery(func(source, id string, when time.Time) error {
			got[source+"/"+id] = when
			return nil
		})
		if err != nil || len(got) != 2 || !got["zendesk/d1"].Equal(t0) || !got["twilio/SM1"].Equal(at(5)) {
			t.Errorf("ForEachDelivery = %v, %v; want zendesk/d1 at %s and twilio/SM1 at %s", got, err, t0, at(5))
		}
		return nil
	})
}

func event(id, customerID string, when time.Time) *gateway.Event {
	return &gateway.Event{
		ID: id, Source: "zendesk", Type: gateway.EventSurveyResponse, At: when,
		Customer:   gateway.EventCustomer{Email: "ana@example.com", IDs: map[string]string{"zendesk": "8841"}},
		CustomerID: customerID, ReceivedAt: when.Add(time.Second),
		Raw: []byte(`{"delivery":"` + id + `"}`),
	}
}

func testEvents(t *testing.T, s gateway.Store) {
	full := event("e1", "cus_a", at(0))
	full.Channel, full.Topic, full.Text, full.Status = gateway.ChannelVoice, "zendesk:ticket:5512", "slow", gateway.StatusOpen
	full.CSAT, full.WaitSeconds, full.DurationSeconds = ptr(1.0), ptr(540.0), ptr(60.0)
	full.Sentiment = &gateway.Sentiment{Score: -0.8, Label: "negative", Source: "vendor"}
	full.Tags = []string{"complaint"}
	full.Attrs = map[string]any{"scale": "1-5"}
	later := event("e2", "cus_a", at(10))
	other := event("e3", "cus_b", at(5))
	update(t, s, func(tx gateway.Tx) error {
		for _, e := range []*gateway.Event{full, later, other} {
			if err := tx.PutEvent(e); err != nil {
				return err
			}
		}
		return nil
	})
	if full.Seq == 0 || later.Seq == 0 || other.Seq == 0 {
		t.Fatalf("PutEvent left Seq zero: %d %d %d", full.Seq, later.Seq, other.Seq)
	}
	if !(full.Seq < later.Seq && later.Seq < other.Seq) {
		t.Errorf("Seq not increasing in write order: %d %d %d", full.Seq, later.Seq, other.Seq)
	}
	view(t, s, func(tx gateway.Tx) error {
		got, next, err := tx.Events(gateway.EventQuery{CustomerID: "cus_a"})
		if err != nil {
			t.Fatalf("Events: %v", err)
		}
		if next != "" {
			t.Errorf("Events: next cursor %q on the only page", next)
		}
		if len(got) != 2 {
			t.Fatalf("Events of cus_a: %d events, want 2", len(got))
		}
		want := *full
		want.Raw = nil
		sameJSONish(t, "newest first: second event", got[1], want)
		if got[0].ID != "e2" {
			t.Errorf("newest first: first event is %s, want e2", got[0].ID)
		}
		raw, err := tx.EventRaw("cus_a", full.Seq)
		if err != nil || !bytes.Equal(raw, full.Raw) {
			t.Errorf("EventRaw = %q, %v; want %q", raw, err, full.Raw)
		}
		_, err = tx.EventRaw("cus_a", other.Seq)
		wantNotFound(t, "EventRaw of another customer's event", err)
		_, err = tx.EventRaw("cus_a", 1<<40)
		wantNotFound(t, "EventRaw of a missing event", err)
		return nil
	})

	// An event that arrives with a number of its own (moved from another store) keeps it,
	// and numbers handed out afterwards are past it, so none is ever reused.
	moved := event("moved", "cus_b", at(3))
	moved.Seq = other.Seq + 100
	fresh := event("fresh", "cus_b", at(4))
	update(t, s, func(tx gateway.Tx) error {
		if err := tx.PutEvent(moved); err != nil {
			return err
		}
		return tx.PutEvent(fresh)
	})
	if moved.Seq != other.Seq+100 || fresh.Seq <= moved.Seq {
		t.Errorf("an event put with Seq %d got %d; the next new event got %d, want more than it", other.Seq+100, moved.Seq, fresh.Seq)
	}

	// Putting an event with its Seq again replaces it, even when its time changed.
	update(t, s, func(tx gateway.Tx) error {
		full.Status, full.At = gateway.StatusSolved, at(20)
		full.Raw = []byte(`{"v":2}`)
		return tx.PutEvent(full)
	})
	view(t, s, func(tx gateway.Tx) error {
		got, _, err := tx.Events(gateway.EventQuery{CustomerID: "cus_a"})
		if err != nil {
			return err
		}
		if len(got) != 2 || got[0].ID != "e1" || got[0].Status != gateway.StatusSolved {
			t.Errorf("after replacing e1: %+v, want e1 (solved) then e2", ids(got, eventID))
		}
		raw, err := tx.EventRaw("cus_a", full.Seq)
		if err != nil || string(raw) != `{"v":2}` {
			t.Errorf("EventRaw after replace = %q, %v", raw, err)
		}
		return nil
	})
}

func testEventBounds(t *testing.T, s gateway.Store) {
	update(t, s, func(tx gateway.Tx) error {
		for i := range 6 {
			if err := tx.PutEvent(event("e"+strconv.Itoa(i), "cus_a", at(i*10))); err != nil {
				return err
			}
		}
		return nil
	})
	cases := []struct {
		name         string
		since, until time.Time
		want         []string
	}{
		{"all", time.Time{}, time.Time{}, []string{"e5", "e4", "e3", "e2", "e1", "e0"}},
		{"since inclusive", at(20), time.Time{}, []string{"e5", "e4", "e3", "e2"}},
		{"until exclusive", time.Time{}, at(20), []string{"e1", "e0"}},
		{"window", at(10), at(40), []string{"e3", "e2", "e1"}},
		{"empty window", at(11), at(19), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			view(t, s, func(tx gateway.Tx) error {
				got, _, err := tx.Events(gateway.EventQuery{CustomerID: "cus_a", Since: c.since, Until: c.until})
				if err != nil {
					return err
				}
				sameJSONish(t, "event ids", ids(got, eventID), c.want)
				return nil
			})
		})
	}
}

func silence(id, customerID string, start time.Time) *gateway.Silence {
	return &gateway.Silence{
		ID: id, CustomerID: customerID, Identity: "email:ana@example.com",
		Categories: []gateway.Category{gateway.CategoryMarketing}, CreatedBy: "admin:ops",
		Reason: "test", Start: start, CreatedAt: start, UpdatedAt: start,
	}
}

func testSilences(t *testing.T, s gateway.Store) {
	// Timeline in minutes: ended [0,10); lifted [5, 60) lifted at 15; open-ended from 20;
	// rule low-csat [25, 35) of cus_b; future from 100; topic-bound (until resolved) from 30.
	ended := silence("sil_ended", "cus_a", at(0))
	ended.End = ptr(at(10))
	lifted := silence("sil_lifted", "cus_a", at(5))
	lifted.End, lifted.LiftedAt, lifted.LiftedBy, lifted.LiftReason = ptr(at(60)), ptr(at(15)), "admin:ops", "mistake"
	open := silence("sil_open", "cus_a", at(20))
	rule := silence("sil_rule", "cus_b", at(25))
	rule.End, rule.Rule, rule.CreatedBy, rule.EventID = ptr(at(35)), "low-csat", "rule:low-csat", "zendesk:e1"
	rule.Channels = []gateway.Channel{gateway.ChannelEmail}
	future := silence("sil_future", "cus_b", at(100))
	topic := silence("sil_topic", "cus_a", at(30))
	topic.Topic, topic.UntilResolved, topic.Grace, topic.Shadow = "zendesk:ticket:1", true, gateway.Duration(7*24*time.Hour), true
	all := []*gateway.Silence{ended, lifted, open, rule, future, topic}
	update(t, s, func(tx gateway.Tx) error {
		for _, x := range all {
			if err := tx.PutSilence(x); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx gateway.Tx) error {
		for _, want := range all {
			got, err := tx.Silence(want.ID)
			if err != nil {
				t.Fatalf("Silence(%s): %v", want.ID, err)
			}
			sameJSONish(t, "Silence "+want.ID, *got, *want)
		}
		_, err := tx.Silence("sil_missing")
		wantNotFound(t, "Silence of a missing id", err)
		return nil
	})
	cases := []struct {
		name string
		q    gateway.SilenceQuery
		want []string
	}{
		{"all newest first", gateway.SilenceQuery{}, []string{"sil_future", "sil_topic", "sil_rule", "sil_open", "sil_lifted", "sil_ended"}},
		{"customer", gateway.SilenceQuery{CustomerID: "cus_b"}, []string{"sil_future", "sil_rule"}},
		{"rule", gateway.SilenceQuery{Rule: "low-csat"}, []string{"sil_rule"}},
		{"topic", gateway.SilenceQuery{Topic: "zendesk:ticket:1"}, []string{"sil_topic"}},
		{"active at 7", gateway.SilenceQuery{ActiveAt: at(7)}, []string{"sil_lifted", "sil_ended"}},
		{"active at start instant", gateway.SilenceQuery{ActiveAt: at(20)}, []string{"sil_open"}},
		{"active at 30", gateway.SilenceQuery{ActiveAt: at(30)}, []string{"sil_topic", "sil_rule", "sil_open"}},
		{"active at 30 for cus_a", gateway.SilenceQuery{ActiveAt: at(30), CustomerID: "cus_a"}, []string{"sil_topic", "sil_open"}},
		{"end is exclusive", gateway.SilenceQuery{ActiveAt: at(35), Rule: "low-csat"}, nil},
		{"active at 200", gateway.SilenceQuery{ActiveAt: at(200)}, []string{"sil_future", "sil_topic", "sil_open"}},
		{"unknown customer", gateway.SilenceQuery{CustomerID: "cus_nobody"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			view(t, s, func(tx gateway.Tx) error {
				got, _, err := tx.Silences(c.q)
				if err != nil {
					return err
				}
				sameJSONish(t, "silence ids", ids(got, silenceID), c.want)
				return nil
			})
		})
	}

	// Moving a silence's start re-sorts it; lifting it takes it out of ActiveAt listings.
	update(t, s, func(tx gateway.Tx) error {
		x, err := tx.Silence("sil_ended")
		if err != nil {
			return err
		}
		x.Start, x.End = at(300), nil
		return tx.PutSilence(x)
	})
	view(t, s, func(tx gateway.Tx) error {
		got, _, err := tx.Silences(gateway.SilenceQuery{})
		if err != nil {
			return err
		}
		sameJSONish(t, "after moving sil_ended", ids(got, silenceID), []string{"sil_ended", "sil_future", "sil_topic", "sil_rule", "sil_open", "sil_lifted"})
		return nil
	})
}

func testOptOuts(t *testing.T, s gateway.Store) {
	sms := &gateway.OptOut{ID: "opt_sms", CustomerID: "cus_a", Identity: "phone:+34600111222", Channel: gateway.ChannelSMS,
		Reason: "STOP", CreatedBy: "event:twilio", EventID: "twilio:SM1", CreatedAt: at(0)}
	voice := &gateway.OptOut{ID: "opt_voice", CustomerID: "cus_a", Identity: "phone:+34600111222", Channel: gateway.ChannelVoice,
		CreatedBy: "admin:ops", CreatedAt: at(10), LiftedAt: ptr(at(20)), LiftedBy: "admin:ops", LiftReason: "asked"}
	email := &gateway.OptOut{ID: "opt_email", CustomerID: "cus_b", Identity: "email:bob@example.com", Channel: gateway.ChannelEmail,
		CreatedBy: "admin:ops", CreatedAt: at(5)}
	update(t, s, func(tx gateway.Tx) error {
		for _, o := range []*gateway.OptOut{sms, voice, email} {
			if err := tx.PutOptOut(o); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx gateway.Tx) error {
		got, err := tx.OptOut("opt_voice")
		if err != nil {
			t.Fatalf("OptOut: %v", err)
		}
		sameJSONish(t, "OptOut", *got, *voice)
		_, err = tx.OptOut("opt_missing")
		wantNotFound(t, "OptOut of a missing id", err)
		for _, c := range []struct {
			q    gateway.OptOutQuery
			want []string
		}{
			{gateway.OptOutQuery{}, []string{"opt_voice", "opt_email", "opt_sms"}},
			{gateway.OptOutQuery{CustomerID: "cus_a"}, []string{"opt_voice", "opt_sms"}},
			{gateway.OptOutQuery{CustomerID: "cus_a", ActiveOnly: true}, []string{"opt_sms"}},
			{gateway.OptOutQuery{ActiveOnly: true}, []string{"opt_email", "opt_sms"}},
		} {
			list, _, err := tx.OptOuts(c.q)
			if err != nil {
				return err
			}
			sameJSONish(t, fmt.Sprintf("OptOuts(%+v)", c.q), ids(list, optOutID), c.want)
		}
		return nil
	})
}

func testIncidents(t *testing.T, s gateway.Store) {
	api := &gateway.Incident{ID: "inc_api", Title: "Checkout down", Scope: "all", Source: "api", CreatedBy: "admin:ops", OpenedAt: at(0),
		ResolvedAt: ptr(at(30)), ResolvedBy: "admin:ops"}
	sp := &gateway.Incident{ID: "inc_sp", Title: "Email delays", Scope: "tag:eu", Source: "statuspage", ExternalID: "p1",
		Categories: []gateway.Category{gateway.CategoryMarketing}, Channels: []gateway.Channel{gateway.ChannelEmail},
		CreatedBy: "event:statuspage", OpenedAt: at(10)}
	pd := &gateway.Incident{ID: "inc_pd", Title: "SMS", Scope: "all", Source: "pagerduty", ExternalID: "p1", CreatedBy: "event:pagerduty", OpenedAt: at(20)}
	update(t, s, func(tx gateway.Tx) error {
		for _, i := range []*gateway.Incident{api, sp, pd} {
			if err := tx.PutIncident(i); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx gateway.Tx) error {
		got, err := tx.Incident("inc_sp")
		if err != nil {
			t.Fatalf("Incident: %v", err)
		}
		sameJSONish(t, "Incident", *got, *sp)
		_, err = tx.Incident("inc_missing")
		wantNotFound(t, "Incident of a missing id", err)
		for _, c := range []struct {
			q    gateway.IncidentQuery
			want []string
		}{
			{gateway.IncidentQuery{}, []string{"inc_pd", "inc_sp", "inc_api"}},
			{gateway.IncidentQuery{OpenOnly: true}, []string{"inc_pd", "inc_sp"}},
			{gateway.IncidentQuery{ExternalID: "p1", Source: "statuspage"}, []string{"inc_sp"}},
			{gateway.IncidentQuery{ExternalID: "p2", Source: "statuspage"}, nil},
		} {
			list, _, err := tx.Incidents(c.q)
			if err != nil {
				return err
			}
			sameJSONish(t, fmt.Sprintf("Incidents(%+v)", c.q), ids(list, incidentID), c.want)
		}
		return nil
	})
}

func testDecisions(t *testing.T, s gateway.Store) {
	dropped := &gateway.Decision{At: at(0), Recipient: "email:ana@example.com", CustomerID: "cus_a", Channel: gateway.ChannelEmail,
		Category: gateway.CategoryMarketing, Upstream: "sendgrid", Reason: gateway.ReasonSilenced, Rule: "low-csat",
		SilenceID: "sil_1", Until: ptr(at(60)), Shadow: true}
	allowed := &gateway.Decision{ID: "dec_given", At: at(10), Recipient: "email:ana@example.com", CustomerID: "cus_a",
		Channel: gateway.ChannelEmail, Category: gateway.CategoryMarketing, Allowed: true, ContactID: "con_1"}
	unknown := &gateway.Decision{At: at(5), Recipient: "email:new@example.com", Channel: gateway.ChannelEmail,
		Category: gateway.CategoryMarketing, Allowed: true}
	update(t, s, func(tx gateway.Tx) error {
		for _, d := range []*gateway.Decision{dropped, allowed, unknown} {
			if err := tx.PutDecision(d); err != nil {
				return err
			}
		}
		return nil
	})
	if dropped.ID == "" || unknown.ID == "" || dropped.ID == unknown.ID {
		t.Fatalf("PutDecision ids: %q %q, want two distinct ids", dropped.ID, unknown.ID)
	}
	if allowed.ID != "dec_given" {
		t.Errorf("PutDecision replaced a given id with %q", allowed.ID)
	}
	view(t, s, func(tx gateway.Tx) error {
		got, err := tx.Decision(dropped.ID)
		if err != nil || !reflect.DeepEqual(got, dropped) {
			t.Errorf("Decision(%s) = %+v, %v; want %+v", dropped.ID, got, err, dropped)
		}
		if _, err := tx.Decision("dec_missing"); !errors.Is(err, gateway.ErrNotFound) {
			t.Errorf("Decision of a missing id: %v, want ErrNotFound", err)
		}
		return nil
	})
	view(t, s, func(tx gateway.Tx) error {
		for _, c := range []struct {
			name string
			q    gateway.DecisionQuery
			want []*gateway.Decision
		}{
			{"all", gateway.DecisionQuery{}, []*gateway.Decision{allowed, unknown, dropped}},
			{"customer", gateway.DecisionQuery{CustomerID: "cus_a"}, []*gateway.Decision{allowed, dropped}},
			{"since", gateway.DecisionQuery{Since: at(5)}, []*gateway.Decision{allowed, unknown}},
			{"until", gateway.DecisionQuery{CustomerID: "cus_a", Until: at(10)}, []*gateway.Decision{dropped}},
		} {
			got, _, err := tx.Decisions(c.q)
			if err != nil {
				return err
			}
			if len(got) != len(c.want) {
				t.Errorf("Decisions %s: %v, want %d", c.name, ids(got, decisionID), len(c.want))
				continue
			}
			for i := range got {
				sameJSONish(t, "Decisions "+c.name, got[i], *c.want[i])
			}
		}
		return nil
	})
}

func contact(id, customerID string, when time.Time, ch gateway.Channel, cat gateway.Category) *gateway.Contact {
	return &gateway.Contact{ID: id, CustomerID: customerID, At: when, Channel: ch, Category: cat, Upstream: "twilio"}
}

func testContacts(t *testing.T, s gateway.Store) {
	update(t, s, func(tx gateway.Tx) error {
		for _, c := range []*gateway.Contact{
			contact("c1", "cus_a", at(0), gateway.ChannelVoice, gateway.CategorySales),
			contact("c2", "cus_a", at(10), gateway.ChannelVoice, gateway.CategorySales),
			contact("c3", "cus_a", at(20), gateway.ChannelSMS, gateway.CategorySales),
			contact("c4", "cus_a", at(30), gateway.ChannelEmail, gateway.CategorySurvey),
			contact("c5", "cus_b", at(30), gateway.ChannelVoice, gateway.CategorySales),
		} {
			if err := tx.PutContact(c); err != nil {
				return err
			}
		}
		return nil
	})
	cases := []struct {
		name     string
		customer string
		since    time.Time
		ch       gateway.Channel
		cat      gateway.Category
		want     int
	}{
		{"voice sales all time", "cus_a", time.Time{}, gateway.ChannelVoice, gateway.CategorySales, 2},
		{"since is inclusive", "cus_a", at(10), gateway.ChannelVoice, gateway.CategorySales, 1},
		{"any channel", "cus_a", time.Time{}, gateway.ChannelAny, gateway.CategorySales, 3},
		{"any category", "cus_a", at(5), gateway.ChannelAny, gateway.CategoryAny, 3},
		{"any any", "cus_a", time.Time{}, gateway.ChannelAny, gateway.CategoryAny, 4},
		{"survey", "cus_a", time.Time{}, gateway.ChannelAny, gateway.CategorySurvey, 1},
		{"window past last", "cus_a", at(31), gateway.ChannelAny, gateway.CategoryAny, 0},
		{"other customer", "cus_b", time.Time{}, gateway.ChannelAny, gateway.CategoryAny, 1},
		{"unknown customer", "cus_nobody", time.Time{}, gateway.ChannelAny, gateway.CategoryAny, 0},
	}
	count := func(t *testing.T, customer string, since time.Time, ch gateway.Channel, cat gateway.Category) int {
		t.Helper()
		var n int
		view(t, s, func(tx gateway.Tx) error {
			var err error
			n, err = tx.CountContacts(customer, since, ch, cat)
			return err
		})
		return n
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := count(t, c.customer, c.since, c.ch, c.cat); got != c.want {
				t.Errorf("CountContacts = %d, want %d", got, c.want)
			}
		})
	}
	update(t, s, func(tx gateway.Tx) error {
		if err := tx.DeleteContact("cus_a", "c2"); err != nil {
			return err
		}
		// Releasing twice, or releasing what was never taken, is harmless.
		if err := tx.DeleteContact("cus_a", "c2"); err != nil {
			return err
		}
		return tx.DeleteContact("cus_a", "never")
	})
	if got := count(t, "cus_a", time.Time{}, gateway.ChannelVoice, gateway.CategorySales); got != 1 {
		t.Errorf("after DeleteContact: CountContacts = %d, want 1", got)
	}
	// Replacing a contact moves it between counters.
	update(t, s, func(tx gateway.Tx) error {
		return tx.PutContact(contact("c1", "cus_a", at(0), gateway.ChannelEmail, gateway.CategorySales))
	})
	if got := count(t, "cus_a", time.Time{}, gateway.ChannelVoice, gateway.CategorySales); got != 0 {
		t.Errorf("after replacing c1: voice count = %d, want 0", got)
	}
	view(t, s, func(tx gateway.Tx) error {
		got := map[string]gateway.Contact{}
		err := tx.ForEachContact(func(c *gateway.Contact) error {
			got[c.ID] = *c
			return nil
		})
		want := contact("c1", "cus_a", at(0), gateway.ChannelEmail, gateway.CategorySales)
		if err != nil || len(got) != 4 || got["c1"].Channel != want.Channel || !got["c1"].At.Equal(want.At) || got["c1"].CustomerID != "cus_a" {
			t.Errorf("ForEachContact = %+v, %v; want c1 (replaced), c3, c4, c5", got, err)
		}
		if _, ok := got["c2"]; ok {
			t.Errorf("ForEachContact still lists the deleted c2")
		}
		return nil
	})
}

func testDeadLetters(t *testing.T, s gateway.Store) {
	first := &gateway.DeadLetter{ID: "dl_1", Source: "zendesk", ReceivedAt: at(0), Error: "missing field ticket.id",
		Header: map[string][]string{"Content-Type": {"application/json"}}, Query: "a=1", Body: []byte(`{"x":1}`)}
	second := &gateway.DeadLetter{ID: "dl_2", Source: "twilio", ReceivedAt: at(10), Error: "bad form", Body: []byte("From=%2B1"), Attempts: 2,
		ReplayedAt: ptr(at(20))}
	update(t, s, func(tx gateway.Tx) error {
		if err := tx.PutDeadLetter(first); err != nil {
			return err
		}
		return tx.PutDeadLetter(second)
	})
	view(t, s, func(tx gateway.Tx) error {
		got, err := tx.DeadLetter("dl_1")
		if err != nil {
			t.Fatalf("DeadLetter: %v", err)
		}
		sameJSONish(t, "DeadLetter", *got, *first)
		_, err = tx.DeadLetter("dl_missing")
		wantNotFound(t, "DeadLetter of a missing id", err)
		list, _, err := tx.DeadLetters(gateway.Page{})
		if err != nil {
			return err
		}
		sameJSONish(t, "DeadLetters newest first", ids(list, func(d gateway.DeadLetter) string { return d.ID }), []string{"dl_2", "dl_1"})
		return nil
	})
}

func testOutbox(t *testing.T, s gateway.Store) {
	msg := func(id string, created, next time.Time) *gateway.OutboxMessage {
		return &gateway.OutboxMessage{ID: id, Kind: "alert", Target: "retention", CustomerID: "cus_a", Rule: "low-csat",
			EventID: "zendesk:e1", Payload: []byte(`{"text":"hi"}`), CreatedAt: created, NextAttempt: next}
	}
	m1, m2, m3 := msg("out_1", at(0), at(0)), msg("out_2", at(10), at(50)), msg("out_3", at(20), at(20))
	m3.DeliveredAt, m3.Attempts = ptr(at(21)), 1
	// out_4 was given up on: due long ago, yet never pending again until someone retries it.
	m4 := msg("out_4", at(30), at(5))
	m4.DeadAt, m4.DeadReason, m4.Attempts, m4.LastError = ptr(at(31)), "destination answered 400", 1, "400 Bad Request"
	update(t, s, func(tx gateway.Tx) error {
		for _, m := range []*gateway.OutboxMessage{m3, m4, m2, m1} {
			if err := tx.PutOutbox(m); err != nil {
				return err
			}
		}
		return nil
	})
	outboxIDs := func(q gateway.OutboxQuery) []string {
		var out []string
		view(t, s, func(tx gateway.Tx) error {
			list, _, err := tx.Outbox(q)
			out = ids(list, func(m gateway.OutboxMessage) string { return m.ID })
			return err
		})
		return out
	}
	view(t, s, func(tx gateway.Tx) error {
		got, err := tx.OutboxMessage("out_3")
		if err != nil {
			t.Fatalf("OutboxMessage: %v", err)
		}
		sameJSONish(t, "OutboxMessage", *got, *m3)
		got, err = tx.OutboxMessage("out_4")
		if err != nil {
			t.Fatalf("OutboxMessage of a dead message: %v", err)
		}
		sameJSONish(t, "OutboxMessage of a dead message", *got, *m4)
		_, err = tx.OutboxMessage("out_missing")
		wantNotFound(t, "OutboxMessage of a missing id", err)
		return nil
	})
	for _, c := range []struct {
		name string
		q    gateway.OutboxQuery
		want []string
	}{
		{"all oldest first", gateway.OutboxQuery{}, []string{"out_1", "out_2", "out_3", "out_4"}},
		{"pending", gateway.OutboxQuery{PendingOnly: true}, []string{"out_1", "out_2"}},
		{"state pending", gateway.OutboxQuery{State: gateway.OutboxPending}, []string{"out_1", "out_2"}},
		{"PendingOnly agrees with state pending", gateway.OutboxQuery{PendingOnly: true, State: gateway.OutboxPending}, []string{"out_1", "out_2"}},
		{"state delivered", gateway.OutboxQuery{State: gateway.OutboxDelivered}, []string{"out_3"}},
		{"state dead", gateway.OutboxQuery{State: gateway.OutboxDead}, []string{"out_4"}},
		{"due", gateway.OutboxQuery{PendingOnly: true, DueBy: at(30)}, []string{"out_1"}},
		{"due is inclusive", gateway.OutboxQuery{PendingOnly: true, DueBy: at(50)}, []string{"out_1", "out_2"}},
		{"due never returns the dead", gateway.OutboxQuery{State: gateway.OutboxPending, DueBy: at(100)}, []string{"out_1", "out_2"}},
	} {
		sameJSONish(t, "Outbox "+c.name, outboxIDs(c.q), c.want)
	}
	for _, q := range []gateway.OutboxQuery{
		{State: "stuck"},
		{PendingOnly: true, State: gateway.OutboxDead},
	} {
		view(t, s, func(tx gateway.Tx) error {
			if _, _, err := tx.Outbox(q); gateway.ErrorCodeOf(err) != gateway.CodeInvalid {
				t.Errorf("Outbox(%+v): err %v, want an invalid error", q, err)
			}
			return nil
		})
	}
	setOutbox := func(id string, change func(*gateway.OutboxMessage)) {
		t.Helper()
		update(t, s, func(tx gateway.Tx) error {
			m, err := tx.OutboxMessage(id)
			if err != nil {
				return err
			}
			change(m)
			return tx.PutOutbox(m)
		})
	}
	setOutbox("out_1", func(m *gateway.OutboxMessage) { m.DeliveredAt = ptr(at(1)) })
	sameJSONish(t, "Outbox pending after delivering out_1", outboxIDs(gateway.OutboxQuery{PendingOnly: true}), []string{"out_2"})
	sameJSONish(t, "Outbox delivered after delivering out_1", outboxIDs(gateway.OutboxQuery{State: gateway.OutboxDelivered}), []string{"out_1", "out_3"})

	// Dying leaves the pending listing; a retry (DeadAt cleared) brings it back.
	setOutbox("out_2", func(m *gateway.OutboxMessage) { m.DeadAt, m.DeadReason = ptr(at(60)), "too old" })
	sameJSONish(t, "Outbox pending after out_2 died", outboxIDs(gateway.OutboxQuery{PendingOnly: true}), []string(nil))
	sameJSONish(t, "Outbox dead after out_2 died", outboxIDs(gateway.OutboxQuery{State: gateway.OutboxDead}), []string{"out_2", "out_4"})
	setOutbox("out_4", func(m *gateway.OutboxMessage) { m.DeadAt, m.DeadReason, m.NextAttempt = nil, "", at(70) })
	sameJSONish(t, "Outbox pending after retrying out_4", outboxIDs(gateway.OutboxQuery{State: gateway.OutboxPending}), []string{"out_4"})
	sameJSONish(t, "Outbox due after retrying out_4", outboxIDs(gateway.OutboxQuery{PendingOnly: true, DueBy: at(70)}), []string{"out_4"})
	sameJSONish(t, "Outbox dead after retrying out_4", outboxIDs(gateway.OutboxQuery{State: gateway.OutboxDead}), []string{"out_2"})
	sameJSONish(t, "Outbox all after the changes", outboxIDs(gateway.OutboxQuery{}), []string{"out_1", "out_2", "out_3", "out_4"})
}

func suppressionEntry(upstream, address, customerID string, minute int) *gateway.SuppressionEntry {
	return &gateway.SuppressionEntry{
		Upstream: upstream, Address: address, CustomerID: customerID,
		Owned: true, CreatedAt: at(minute), UpdatedAt: at(minute),
	}
}

func entryAddress(e gateway.SuppressionEntry) string { return e.Address }

// sameEntry compares entries field by field, times by instant (a back end need not keep the
// location).
func sameEntry(t *testing.T, what string, got, want *gateway.SuppressionEntry) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: no entry, want %+v", what, *want)
		return
	}
	if got.Upstream != want.Upstream || got.Address != want.Address || got.CustomerID != want.CustomerID ||
		got.Owned != want.Owned || got.Synced != want.Synced ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, *got, *want)
	}
}

// listEntries reads a whole ledger listing in pages of limit.
func listEntries(t *testing.T, s gateway.Store, limit int, upstream, customerID string) []gateway.SuppressionEntry {
	t.Helper()
	return pages(t, s, limit, func(tx gateway.Tx, p gateway.Page) ([]gateway.SuppressionEntry, string, error) {
		return tx.SuppressionEntries(gateway.SuppressionQuery{Upstream: upstream, CustomerID: customerID, Page: p})
	})
}

func testSuppressionLedger(t *testing.T, s gateway.Store) {
	// Two upstreams whose names share a prefix, holding the same address: keys built by plain
	// concatenation would mix them up.
	const sg, sgEU = "sendgrid", "sendgrid-eu"

	t.Run("round trip and replace", func(t *testing.T) {
		madrid := time.FixedZone("CET", 3600)
		full := &gateway.SuppressionEntry{
			Upstream: sg, Address: "ana@example.com", CustomerID: "cus_a", Owned: true, Synced: true,
			CreatedAt: at(1).Add(123 * time.Millisecond).In(madrid), UpdatedAt: at(2).Add(456 * time.Millisecond),
		}
		other := &gateway.SuppressionEntry{Upstream: sgEU, Address: "ana@example.com", CustomerID: "cus_a", CreatedAt: at(3), UpdatedAt: at(3)}
		update(t, s, func(tx gateway.Tx) error {
			if err := tx.PutSuppressionEntry(full); err != nil {
				return err
			}
			return tx.PutSuppressionEntry(other)
		})
		view(t, s, func(tx gateway.Tx) error {
			got, err := tx.SuppressionEntry(sg, "ana@example.com")
			if err != nil {
				t.Fatalf("SuppressionEntry: %v", err)
			}
			sameEntry(t, "entry read back", got, full)
			got, err = tx.SuppressionEntry(sgEU, "ana@example.com")
			if err != nil {
				t.Fatalf("SuppressionEntry on the second upstream: %v", err)
			}
			sameEntry(t, "same address on the second upstream", got, other)
			_, err = tx.SuppressionEntry(sg, "nobody@example.com")
			wantNotFound(t, "SuppressionEntry of a missing address", err)
			_, err = tx.SuppressionEntry("mailgun", "ana@example.com")
			wantNotFound(t, "SuppressionEntry on an upstream without entries", err)
			return nil
		})

		// The caller's copy is the caller's: changing it does not change the store.
		full.Synced = false
		view(t, s, func(tx gateway.Tx) error {
			if got, err := tx.SuppressionEntry(sg, "ana@example.com"); err != nil || !got.Synced {
				t.Errorf("entry changed with the caller's struct: %+v, %v", got, err)
			}
			return nil
		})

		// Put replaces by (upstream, address).
		replaced := &gateway.SuppressionEntry{
			Upstream: sg, Address: "ana@example.com", CustomerID: "cus_a", Owned: false, Synced: false,
			CreatedAt: full.CreatedAt, UpdatedAt: at(9),
		}
		update(t, s, func(tx gateway.Tx) error { return tx.PutSuppressionEntry(replaced) })
		view(t, s, func(tx gateway.Tx) error {
			got, err := tx.SuppressionEntry(sg, "ana@example.com")
			if err != nil {
				t.Fatalf("SuppressionEntry after replace: %v", err)
			}
			sameEntry(t, "replaced entry", got, replaced)
			return nil
		})
		for _, c := range []struct{ upstream, customer string }{{sg, ""}, {sg, "cus_a"}} {
			if got := listEntries(t, s, 10, c.upstream, c.customer); len(got) != 1 {
				t.Errorf("after replace, listing %s customer %q has %d entries, want 1", c.upstream, c.customer, len(got))
			} else {
				sameEntry(t, "listed replaced entry", &got[0], replaced)
			}
		}

		// Delete, and delete again.
		update(t, s, func(tx gateway.Tx) error { return tx.DeleteSuppressionEntry(sg, "ana@example.com") })
		update(t, s, func(tx gateway.Tx) error { return tx.DeleteSuppressionEntry(sg, "ana@example.com") })
		update(t, s, func(tx gateway.Tx) error { return tx.DeleteSuppressionEntry("mailgun", "never@example.com") })
		view(t, s, func(tx gateway.Tx) error {
			_, err := tx.SuppressionEntry(sg, "ana@example.com")
			wantNotFound(t, "deleted entry", err)
			if got, err := tx.SuppressionEntry(sgEU, "ana@example.com"); err != nil {
				t.Errorf("deleting on %s removed the entry on %s: %v", sg, sgEU, err)
			} else {
				sameEntry(t, "entry on the other upstream after a delete", got, other)
			}
			return nil
		})
		for _, c := range []string{"", "cus_a"} {
			if got := listEntries(t, s, 10, sg, c); len(got) != 0 {
				t.Errorf("after delete, listing %s customer %q: %v, want none", sg, c, ids(got, entryAddress))
			}
		}
		update(t, s, func(tx gateway.Tx) error { return tx.DeleteSuppressionEntry(sgEU, "ana@example.com") })
	})

	t.Run("listing and customer filter", func(t *testing.T) {
		update(t, s, func(tx gateway.Tx) error {
			// Written out of address order.
			for _, e := range []*gateway.SuppressionEntry{
				suppressionEntry(sg, "dan@example.com", "cus_b", 0),
				suppressionEntry(sg, "ana@example.com", "cus_a", 1),
				suppressionEntry(sgEU, "ana@example.com", "cus_a", 2),
				suppressionEntry(sg, "carl@example.com", "cus_a", 3),
				suppressionEntry(sgEU, "zed@example.com", "cus_b", 4),
				suppressionEntry(sg, "bea@example.com", "cus_b", 5),
				suppressionEntry(sgEU, "aaron@example.com", "cus_a", 6),
			} {
				if err := tx.PutSuppressionEntry(e); err != nil {
					return err
				}
			}
			return nil
		})
		check := func(upstream, customer string, want []string) {
			t.Helper()
			for _, limit := range []int{1, 2, 50} {
				got := listEntries(t, s, limit, upstream, customer)
				sameJSONish(t, fmt.Sprintf("entries of %s, customer %q, pages of %d", upstream, customer, limit), ids(got, entryAddress), want)
				for _, e := range got {
					if e.Upstream != upstream || customer != "" && e.CustomerID != customer {
						t.Errorf("listing %s customer %q returned %+v", upstream, customer, e)
					}
				}
			}
		}
		check(sg, "", []string{"ana@example.com", "bea@example.com", "carl@example.com", "dan@example.com"})
		check(sgEU, "", []string{"aaron@example.com", "ana@example.com", "zed@example.com"})
		check(sg, "cus_a", []string{"ana@example.com", "carl@example.com"})
		check(sg, "cus_b", []string{"bea@example.com", "dan@example.com"})
		check(sgEU, "cus_a", []string{"aaron@example.com", "ana@example.com"})
		check(sg, "cus_nobody", nil)
		check("mailgun", "", nil)

		// An entry that moves to another customer leaves the first one's listing.
		update(t, s, func(tx gateway.Tx) error {
			e, err := tx.SuppressionEntry(sg, "carl@example.com")
			if err != nil {
				return err
			}
			e.CustomerID, e.UpdatedAt = "cus_b", at(30)
			return tx.PutSuppressionEntry(e)
		})
		check(sg, "cus_a", []string{"ana@example.com"})
		check(sg, "cus_b", []string{"bea@example.com", "carl@example.com", "dan@example.com"})
		check(sgEU, "cus_a", []string{"aaron@example.com", "ana@example.com"})

		// A deleted entry leaves its customer's listing; putting it back files it once.
		update(t, s, func(tx gateway.Tx) error { return tx.DeleteSuppressionEntry(sg, "bea@example.com") })
		check(sg, "cus_b", []string{"carl@example.com", "dan@example.com"})
		update(t, s, func(tx gateway.Tx) error {
			if err := tx.PutSuppressionEntry(suppressionEntry(sg, "bea@example.com", "cus_a", 40)); err != nil {
				return err
			}
			return tx.PutSuppressionEntry(suppressionEntry(sg, "bea@example.com", "cus_a", 41))
		})
		check(sg, "cus_a", []string{"ana@example.com", "bea@example.com"})
		check(sg, "cus_b", []string{"carl@example.com", "dan@example.com"})
		check(sg, "", []string{"ana@example.com", "bea@example.com", "carl@example.com", "dan@example.com"})
	})

	t.Run("pagination", func(t *testing.T) {
		const up, n = "postmark", 53 // more than the default page of 50
		var want, wantOdd []string
		update(t, s, func(tx gateway.Tx) error {
			// Written in descending order, so listing order is the store's doing.
			for i := n - 1; i >= 0; i-- {
				cus := "cus_even"
				if i%2 == 1 {
					cus = "cus_odd"
				}
				if err := tx.PutSuppressionEntry(suppressionEntry(up, fmt.Sprintf("u%03d@example.com", i), cus, i)); err != nil {
					return err
				}
			}
			return nil
		})
		for i := range n {
			want = append(want, fmt.Sprintf("u%03d@example.com", i))
			if i%2 == 1 {
				wantOdd = append(wantOdd, want[i])
			}
		}
		for _, limit := range []int{1, 5, 53, 1000} {
			sameJSONish(t, fmt.Sprintf("every entry in pages of %d", limit), ids(listEntries(t, s, limit, up, ""), entryAddress), want)
			sameJSONish(t, fmt.Sprintf("cus_odd's entries in pages of %d", limit), ids(listEntries(t, s, limit, up, "cus_odd"), entryAddress), wantOdd)
		}
		view(t, s, func(tx gateway.Tx) error {
			got, next, err := tx.SuppressionEntries(gateway.SuppressionQuery{Upstream: up})
			if err != nil {
				return err
			}
			if len(got) != 50 || next == "" {
				t.Errorf("Limit 0: %d entries (next %q), want 50 and a next cursor", len(got), next)
			}
			_, _, err = tx.SuppressionEntries(gateway.SuppressionQuery{Upstream: up, Page: gateway.Page{Cursor: "not a cursor!"}})
			if gateway.ErrorCodeOf(err) != gateway.CodeInvalid {
				t.Errorf("SuppressionEntries with a garbage cursor: %v, want an invalid error", err)
			}
			return nil
		})
	})

	t.Run("walk every upstream", func(t *testing.T) {
		view(t, s, func(tx gateway.Tx) error {
			var all, want []string
			if err := tx.ForEachSuppressionEntry(func(e *gateway.SuppressionEntry) error {
				all = append(all, e.Upstream+"/"+e.Address)
				return nil
			}); err != nil {
				return err
			}
			for _, up := range []string{sg, sgEU, "postmark"} {
				err := eachSuppressionEntry(tx, up, func(e gateway.SuppressionEntry) { want = append(want, up+"/"+e.Address) })
				if err != nil {
					return err
				}
			}
			slices.Sort(all)
			slices.Sort(want)
			if len(want) == 0 || !slices.Equal(all, want) {
				t.Errorf("ForEachSuppressionEntry = %v, want every upstream's entries %v", all, want)
			}
			return nil
		})
	})

	t.Run("invalid", func(t *testing.T) {
		for _, c := range []struct {
			name string
			fn   func(gateway.Tx) error
		}{
			{"list without upstream", func(tx gateway.Tx) error {
				_, _, err := tx.SuppressionEntries(gateway.SuppressionQuery{CustomerID: "cus_a"})
				return err
			}},
			{"put without upstream", func(tx gateway.Tx) error {
				return tx.PutSuppressionEntry(suppressionEntry("", "ana@example.com", "cus_a", 0))
			}},
			{"put without address", func(tx gateway.Tx) error {
				return tx.PutSuppressionEntry(suppressionEntry(sg, "", "cus_a", 0))
			}},
			{"put without customer", func(tx gateway.Tx) error {
				return tx.PutSuppressionEntry(suppressionEntry(sg, "ana@example.com", "", 0))
			}},
		} {
			t.Run(c.name, func(t *testing.T) {
				err := s.Update(context.Background(), c.fn)
				if gateway.ErrorCodeOf(err) != gateway.CodeInvalid {
					t.Errorf("error %v, want an invalid error", err)
				}
			})
		}
	})
}

// testLedgerOutlivesCustomers: the ledger describes addresses on a vendor's list, which hush
// must still take off after the customer is merged away or erased, so neither touches it,
// and neither does retention.
func testLedgerOutlivesCustomers(t *testing.T, s gateway.Store) {
	entries := []*gateway.SuppressionEntry{
		suppressionEntry("sendgrid", "ana@example.com", "cus_a", 0),
		suppressionEntry("sendgrid", "bob@example.com", "cus_b", 0),
		suppressionEntry("mailgun", "bob@example.com", "cus_b", 0),
		suppressionEntry("sendgrid", "carl@example.com", "cus_c", 0),
	}
	update(t, s, func(tx gateway.Tx) error {
		for _, c := range []*gateway.Customer{
			customer("cus_a", "email:ana@example.com"),
			customer("cus_b", "email:bob@example.com"),
			customer("cus_c", "email:carl@example.com"),
		} {
			if err := tx.PutCustomer(c); err != nil {
				return err
			}
		}
		for _, e := range entries {
			if err := tx.PutSuppressionEntry(e); err != nil {
				return err
			}
		}
		return nil
	})
	update(t, s, func(tx gateway.Tx) error { return tx.MergeCustomers("cus_a", "cus_b") })
	update(t, s, func(tx gateway.Tx) error { return tx.DeleteCustomer("cus_c") })
	update(t, s, func(tx gateway.Tx) error {
		n, err := tx.Prune(at(1000), at(1000), at(1000))
		if err == nil && n != 0 {
			t.Errorf("Prune removed %d records from a store holding only customers and ledger entries", n)
		}
		return err
	})
	view(t, s, func(tx gateway.Tx) error {
		for _, want := range entries {
			got, err := tx.SuppressionEntry(want.Upstream, want.Address)
			if err != nil {
				t.Errorf("entry of %s on %s after merge, erasure and prune: %v", want.CustomerID, want.Upstream, err)
				continue
			}
			sameEntry(t, "entry after merge, erasure and prune", got, want)
		}
		return nil
	})
	// Still found under the customer they were written for.
	sameJSONish(t, "sendgrid entries of the merged-away customer", ids(listEntries(t, s, 10, "sendgrid", "cus_b"), entryAddress), []string{"bob@example.com"})
	sameJSONish(t, "sendgrid entries of the erased customer", ids(listEntries(t, s, 10, "sendgrid", "cus_c"), entryAddress), []string{"carl@example.com"})
	sameJSONish(t, "every sendgrid entry", ids(listEntries(t, s, 10, "sendgrid", ""), entryAddress), []string{"ana@example.com", "bob@example.com", "carl@example.com"})
}

// pages reads a whole listing page by page.
func pages[T any](t *testing.T, s gateway.Store, limit int, list func(gateway.Tx, gateway.Page) ([]T, string, error)) []T {
	t.Helper()
	var all []T
	cursor := ""
	for range 1000 {
		var (
			page []T
			next string
		)
		view(t, s, func(tx gateway.Tx) error {
			var err error
			page, next, err = list(tx, gateway.Page{Limit: limit, Cursor: cursor})
			return err
		})
		if len(page) > limit {
			t.Fatalf("page of %d records with Limit %d", len(page), limit)
		}
		all = append(all, page...)
		if next == "" {
			return all
		}
		if len(page) == 0 {
			t.Fatalf("empty page with a next cursor")
		}
		cursor = next
	}
	t.Fatalf("listing did not end")
	return nil
}

// checkVisitedOnce asserts that a paged listing returned every id exactly once, in the
// listing's order of times.
func checkVisitedOnce[T any](t *testing.T, got []T, id func(T) string, when func(T) time.Time, newestFirst bool, want int) {
	t.Helper()
	seen := map[string]bool{}
	for i, r := range got {
		if seen[id(r)] {
			t.Errorf("record %s listed twice", id(r))
		}
		seen[id(r)] = true
		if i > 0 {
			prev, cur := when(got[i-1]), when(r)
			if newestFirst && cur.After(prev) || !newestFirst && cur.Before(prev) {
				t.Errorf("record %s out of order (%v after %v)", id(r), cur, prev)
			}
		}
	}
	if len(seen) != want {
		t.Errorf("listing visited %d records, want %d", len(seen), want)
	}
}

func testPagination(t *testing.T, s gateway.Store) {
	const n = 23 // several pages of 5, the last one short; times repeat to test ties
	update(t, s, func(tx gateway.Tx) error {
		for i := range n {
			when := at(i / 3)
			id := fmt.Sprintf("%02d", i)
			for _, err := range []error{
				tx.PutEvent(event("e"+id, "cus_a", when)),
				tx.PutSilence(silence("sil_"+id, "cus_a", when)),
				tx.PutOptOut(&gateway.OptOut{ID: "opt_" + id, CustomerID: "cus_a", Channel: gateway.ChannelSMS, CreatedAt: when}),
				tx.PutIncident(&gateway.Incident{ID: "inc_" + id, Scope: "all", OpenedAt: when}),
				tx.PutDecision(&gateway.Decision{ID: "dec_" + id, CustomerID: "cus_a", At: when}),
				tx.PutDeadLetter(&gateway.DeadLetter{ID: "dl_" + id, ReceivedAt: when}),
				tx.PutOutbox(&gateway.OutboxMessage{ID: "out_" + id, CreatedAt: when, NextAttempt: when}),
			} {
				if err != nil {
					return err
				}
			}
		}
		return nil
	})
	for _, limit := range []int{1, 5, 23, 100} {
		t.Run(fmt.Sprintf("limit %d", limit), func(t *testing.T) {
			checkVisitedOnce(t, pages(t, s, limit, func(tx gateway.Tx, p gateway.Page) ([]gateway.Event, string, error) {
				return tx.Events(gateway.EventQuery{CustomerID: "cus_a", Page: p})
			}), eventID, func(e gateway.Event) time.Time { return e.At }, true, n)
			for _, q := range []string{"", "cus_a"} {
				checkVisitedOnce(t, pages(t, s, limit, func(tx gateway.Tx, p gateway.Page) ([]gateway.Silence, string, error) {
					return tx.Silences(gateway.SilenceQuery{CustomerID: q, Page: p})
				}), silenceID, func(x gateway.Silence) time.Time { return x.Start }, true, n)
				checkVisitedOnce(t, pages(t, s, limit, func(tx gateway.Tx, p gateway.Page) ([]gateway.OptOut, string, error) {
					return tx.OptOuts(gateway.OptOutQuery{CustomerID: q, Page: p})
				}), optOutID, func(x gateway.OptOut) time.Time { return x.CreatedAt }, true, n)
				checkVisitedOnce(t, pages(t, s, limit, func(tx gateway.Tx, p gateway.Page) ([]gateway.Decision, string, error) {
					return tx.Decisions(gateway.DecisionQuery{CustomerID: q, Page: p})
				}), decisionID, func(x gateway.Decision) time.Time { return x.At }, true, n)
			}
			checkVisitedOnce(t, pages(t, s, limit, func(tx gateway.Tx, p gateway.Page) ([]gateway.Incident, string, error) {
				return tx.Incidents(gateway.IncidentQuery{Page: p})
			}), incidentID, func(x gateway.Incident) time.Time { return x.OpenedAt }, true, n)
			checkVisitedOnce(t, pages(t, s, limit, func(tx gateway.Tx, p gateway.Page) ([]gateway.DeadLetter, string, error) {
				return tx.DeadLetters(p)
			}), func(x gateway.DeadLetter) string { return x.ID }, func(x gateway.DeadLetter) time.Time { return x.ReceivedAt }, true, n)
			checkVisitedOnce(t, pages(t, s, limit, func(tx gateway.Tx, p gateway.Page) ([]gateway.OutboxMessage, string, error) {
				return tx.Outbox(gateway.OutboxQuery{PendingOnly: true, Page: p})
			}), func(x gateway.OutboxMessage) string { return x.ID }, func(x gateway.OutboxMessage) time.Time { return x.CreatedAt }, false, n)
		})
	}

	// A filter that skips records still pages through every match exactly once.
	t.Run("filtered", func(t *testing.T) {
		update(t, s, func(tx gateway.Tx) error {
			for i := 0; i < n; i += 2 {
				x, err := tx.Silence(fmt.Sprintf("sil_%02d", i))
				if err != nil {
					return err
				}
				x.Rule = "even"
				if err := tx.PutSilence(x); err != nil {
					return err
				}
			}
			return nil
		})
		got := pages(t, s, 4, func(tx gateway.Tx, p gateway.Page) ([]gateway.Silence, string, error) {
			return tx.Silences(gateway.SilenceQuery{Rule: "even", Page: p})
		})
		checkVisitedOnce(t, got, silenceID, func(x gateway.Silence) time.Time { return x.Start }, true, (n+1)/2)
	})

	t.Run("bad cursor", func(t *testing.T) {
		err := s.View(context.Background(), func(tx gateway.Tx) error {
			_, _, err := tx.Decisions(gateway.DecisionQuery{Page: gateway.Page{Cursor: "not a cursor!"}})
			return err
		})
		if gateway.ErrorCodeOf(err) != gateway.CodeInvalid {
			t.Errorf("Decisions with a garbage cursor: %v, want an invalid error", err)
		}
	})
}

func testPageLimits(t *testing.T, s gateway.Store) {
	const n = 1005
	update(t, s, func(tx gateway.Tx) error {
		for i := range n {
			if err := tx.PutDecision(&gateway.Decision{ID: fmt.Sprintf("dec_%04d", i), At: t0.Add(time.Duration(i) * time.Second)}); err != nil {
				return err
			}
			if err := tx.PutSuppressionEntry(suppressionEntry("sendgrid", fmt.Sprintf("u%04d@example.com", i), "cus_a", 0)); err != nil {
				return err
			}
		}
		return nil
	})
	for _, c := range []struct {
		limit, want int
	}{{0, 50}, {-1, 50}, {7, 7}, {1000, 1000}, {5000, 1000}} {
		view(t, s, func(tx gateway.Tx) error {
			got, next, err := tx.Decisions(gateway.DecisionQuery{Page: gateway.Page{Limit: c.limit}})
			if err != nil {
				return err
			}
			if len(got) != c.want || next == "" {
				t.Errorf("Limit %d: %d decisions (next %q), want %d and a next cursor", c.limit, len(got), next, c.want)
			}
			for _, customer := range []string{"", "cus_a"} {
				got, next, err := tx.SuppressionEntries(gateway.SuppressionQuery{Upstream: "sendgrid", CustomerID: customer, Page: gateway.Page{Limit: c.limit}})
				if err != nil {
					return err
				}
				if len(got) != c.want || next == "" {
					t.Errorf("Limit %d, customer %q: %d ledger entries (next %q), want %d and a next cursor", c.limit, customer, len(got), next, c.want)
				}
			}
			return nil
		})
	}
}

// mergeFixture writes one customer with a record of every kind; it returns the event.
func mergeFixture(t *testing.T, tx gateway.Tx, id string, ident gateway.Identity, minute int) *gateway.Event {
	t.Helper()
	e := event("e_"+id, id, at(minute))
	for _, err := range []error{
		tx.PutCustomer(customer(id, ident)),
		tx.PutEvent(e),
		tx.PutSilence(silence("sil_"+id, id, at(minute))),
		tx.PutOptOut(&gateway.OptOut{ID: "opt_" + id, CustomerID: id, Identity: ident, Channel: gateway.ChannelSMS, CreatedAt: at(minute)}),
		tx.PutDecision(&gateway.Decision{ID: "dec_" + id, CustomerID: id, Recipient: ident, At: at(minute), Allowed: true, ContactID: "con_" + id}),
		tx.PutContact(contact("con_"+id, id, at(minute), gateway.ChannelVoice, gateway.CategorySales)),
	} {
		if err != nil {
			t.Fatalf("fixture for %s: %v", id, err)
		}
	}
	return e
}

func testMerge(t *testing.T, s gateway.Store) {
	var ea, eb *gateway.Event
	update(t, s, func(tx gateway.Tx) error {
		ea = mergeFixture(t, tx, "cus_a", "email:ana@example.com", 0)
		eb = mergeFixture(t, tx, "cus_b", "phone:+34600111222", 10)
		mergeFixture(t, tx, "cus_c", "email:carl@example.com", 20)
		return nil
	})
	update(t, s, func(tx gateway.Tx) error { return tx.MergeCustomers("cus_a", "cus_b") })
	view(t, s, func(tx gateway.Tx) error {
		_, err := tx.Customer("cus_b")
		wantNotFound(t, "merged-away customer", err)
		a, err := tx.Customer("cus_a")
		if err != nil {
			t.Fatalf("Customer(cus_a): %v", err)
		}
		got := slices.Clone(a.Identities)
		slices.Sort(got)
		sameJSONish(t, "merged identities", got, []gateway.Identity{"email:ana@example.com", "phone:+34600111222"})
		if c, err := tx.CustomerByIdentity("phone:+34600111222"); err != nil || c.ID != "cus_a" {
			t.Errorf("moved identity names %v, %v; want cus_a", c, err)
		}

		evs, _, err := tx.Events(gateway.EventQuery{CustomerID: "cus_a"})
		if err != nil {
			return err
		}
		sameJSONish(t, "merged events", ids(evs, eventID), []string{"e_cus_b", "e_cus_a"})
		for _, e := range evs {
			if e.CustomerID != "cus_a" {
				t.Errorf("event %s still names customer %s", e.ID, e.CustomerID)
			}
		}
		for _, e := range []*gateway.Event{ea, eb} {
			if raw, err := tx.EventRaw("cus_a", e.Seq); err != nil || !bytes.Equal(raw, e.Raw) {
				t.Errorf("EventRaw(cus_a, %d) after merge = %q, %v", e.Seq, raw, err)
			}
		}
		if evs, _, _ := tx.Events(gateway.EventQuery{CustomerID: "cus_b"}); len(evs) != 0 {
			t.Errorf("merged-away customer still has %d events", len(evs))
		}

		sils, _, err := tx.Silences(gateway.SilenceQuery{CustomerID: "cus_a"})
		if err != nil {
			return err
		}
		sameJSONish(t, "merged silences", ids(sils, silenceID), []string{"sil_cus_b", "sil_cus_a"})
		if x, err := tx.Silence("sil_cus_b"); err != nil || x.CustomerID != "cus_a" {
			t.Errorf("Silence(sil_cus_b) = %+v, %v; want customer cus_a", x, err)
		}
		opts, _, err := tx.OptOuts(gateway.OptOutQuery{CustomerID: "cus_a"})
		if err != nil {
			return err
		}
		sameJSONish(t, "merged opt-outs", ids(opts, optOutID), []string{"opt_cus_b", "opt_cus_a"})
		if x, err := tx.OptOut("opt_cus_b"); err != nil || x.CustomerID != "cus_a" {
			t.Errorf("OptOut(opt_cus_b) = %+v, %v; want customer cus_a", x, err)
		}
		decs, _, err := tx.Decisions(gateway.DecisionQuery{CustomerID: "cus_a"})
		if err != nil {
			return err
		}
		sameJSONish(t, "merged decisions", ids(decs, decisionID), []string{"dec_cus_b", "dec_cus_a"})
		for _, d := range decs {
			if d.CustomerID != "cus_a" {
				t.Errorf("decision %s still names customer %s", d.ID, d.CustomerID)
			}
		}
		if l, _, _ := tx.Silences(gateway.SilenceQuery{CustomerID: "cus_b"}); len(l) != 0 {
			t.Errorf("merged-away customer still has %d silences", len(l))
		}
		if l, _, _ := tx.OptOuts(gateway.OptOutQuery{CustomerID: "cus_b"}); len(l) != 0 {
			t.Errorf("merged-away customer still has %d opt-outs", len(l))
		}
		if l, _, _ := tx.Decisions(gateway.DecisionQuery{CustomerID: "cus_b"}); len(l) != 0 {
			t.Errorf("merged-away customer still has %d decisions", len(l))
		}
		for cus, want := range map[string]int{"cus_a": 2, "cus_b": 0, "cus_c": 1} {
			if n, err := tx.CountContacts(cus, time.Time{}, gateway.ChannelAny, gateway.CategoryAny); err != nil || n != want {
				t.Errorf("CountContacts(%s) after merge = %d, %v; want %d", cus, n, err, want)
			}
		}
		// The bystander is untouched.
		if evs, _, _ := tx.Events(gateway.EventQuery{CustomerID: "cus_c"}); len(evs) != 1 {
			t.Errorf("cus_c has %d events after an unrelated merge, want 1", len(evs))
		}
		return nil
	})

	// A cap slot taken before the merge can still be released.
	update(t, s, func(tx gateway.Tx) error { return tx.DeleteContact("cus_b", "con_cus_b") })
	view(t, s, func(tx gateway.Tx) error {
		if n, err := tx.CountContacts("cus_a", time.Time{}, gateway.ChannelAny, gateway.CategoryAny); err != nil || n != 1 {
			t.Errorf("CountContacts after releasing a pre-merge slot = %d, %v; want 1", n, err)
		}
		return nil
	})

	for _, c := range []struct {
		name       string
		into, from string
		notFound   bool
	}{
		{"missing source", "cus_a", "cus_nobody", true},
		{"missing target", "cus_nobody", "cus_a", true},
		{"into itself", "cus_a", "cus_a", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := s.Update(context.Background(), func(tx gateway.Tx) error { return tx.MergeCustomers(c.into, c.from) })
			if err == nil {
				t.Fatalf("MergeCustomers(%s, %s) succeeded", c.into, c.from)
			}
			if c.notFound {
				wantNotFound(t, "MergeCustomers", err)
			}
		})
	}
}

func testDelete(t *testing.T, s gateway.Store) {
	var ea *gateway.Event
	update(t, s, func(tx gateway.Tx) error {
		ea = mergeFixture(t, tx, "cus_a", "email:ana@example.com", 0)
		mergeFixture(t, tx, "cus_c", "email:carl@example.com", 20)
		return nil
	})
	update(t, s, func(tx gateway.Tx) error { return tx.DeleteCustomer("cus_a") })
	view(t, s, func(tx gateway.Tx) error {
		_, err := tx.Customer("cus_a")
		wantNotFound(t, "deleted customer", err)
		_, err = tx.CustomerByIdentity("email:ana@example.com")
		wantNotFound(t, "identity of a deleted customer", err)
		_, err = tx.EventRaw("cus_a", ea.Seq)
		wantNotFound(t, "raw payload of a deleted customer", err)
		_, err = tx.Silence("sil_cus_a")
		wantNotFound(t, "silence of a deleted customer", err)
		_, err = tx.OptOut("opt_cus_a")
		wantNotFound(t, "opt-out of a deleted customer", err)
		if evs, _, _ := tx.Events(gateway.EventQuery{CustomerID: "cus_a"}); len(evs) != 0 {
			t.Errorf("deleted customer still has %d events", len(evs))
		}
		all, _, err := tx.Decisions(gateway.DecisionQuery{})
		if err != nil {
			return err
		}
		sameJSONish(t, "decisions left", ids(all, decisionID), []string{"dec_cus_c"})
		sils, _, _ := tx.Silences(gateway.SilenceQuery{})
		sameJSONish(t, "silences left", ids(sils, silenceID), []string{"sil_cus_c"})
		opts, _, _ := tx.OptOuts(gateway.OptOutQuery{})
		sameJSONish(t, "opt-outs left", ids(opts, optOutID), []string{"opt_cus_c"})
		if n, _ := tx.CountContacts("cus_a", time.Time{}, gateway.ChannelAny, gateway.CategoryAny); n != 0 {
			t.Errorf("deleted customer still has %d contacts", n)
		}
		if n, _ := tx.CountContacts("cus_c", time.Time{}, gateway.ChannelAny, gateway.CategoryAny); n != 1 {
			t.Errorf("bystander has %d contacts, want 1", n)
		}
		if c, err := tx.CustomerByIdentity("email:carl@example.com"); err != nil || c.ID != "cus_c" {
			t.Errorf("bystander identity: %v, %v", c, err)
		}
		return nil
	})
	// The freed identity can be given to someone new.
	update(t, s, func(tx gateway.Tx) error { return tx.PutCustomer(customer("cus_new", "email:ana@example.com")) })
	err := s.Update(context.Background(), func(tx gateway.Tx) error { return tx.DeleteCustomer("cus_nobody") })
	wantNotFound(t, "DeleteCustomer of a missing customer", err)
}

func testPrune(t *testing.T, s gateway.Store) {
	var old, fresh *gateway.Event
	update(t, s, func(tx gateway.Tx) error {
		old, fresh = event("old", "cus_a", at(0)), event("fresh", "cus_a", at(100))
		for _, err := range []error{
			tx.PutEvent(old), tx.PutEvent(fresh),
			tx.PutDecision(&gateway.Decision{ID: "dec_old", CustomerID: "cus_a", At: at(0)}),
			tx.PutDecision(&gateway.Decision{ID: "dec_fresh", CustomerID: "cus_a", At: at(100)}),
			tx.PutContact(contact("con_old", "cus_a", at(0), gateway.ChannelSMS, gateway.CategorySales)),
			tx.PutContact(contact("con_fresh", "cus_a", at(100), gateway.ChannelSMS, gateway.CategorySales)),
			tx.PutDelivery("zendesk", "old", at(0)),
			tx.PutDelivery("zendesk", "fresh", at(100)),
		} {
			if err != nil {
				return err
			}
		}
		return nil
	})
	prune := func(events, decisions, deliveries time.Time) int {
		var n int
		update(t, s, func(tx gateway.Tx) error {
			var err error
			n, err = tx.Prune(events, decisions, deliveries)
			return err
		})
		return n
	}
	if n := prune(time.Time{}, time.Time{}, time.Time{}); n != 0 {
		t.Errorf("Prune with zero times removed %d records", n)
	}
	// Events only: the cutoff is exclusive (a record at the cutoff stays).
	if n := prune(at(100), time.Time{}, time.Time{}); n != 1 {
		t.Errorf("Prune(events) removed %d records, want 1", n)
	}
	if n := prune(time.Time{}, at(50), at(50)); n != 3 {
		t.Errorf("Prune(decisions, deliveries) removed %d records, want 3 (decision, contact, delivery)", n)
	}
	view(t, s, func(tx gateway.Tx) error {
		evs, _, err := tx.Events(gateway.EventQuery{CustomerID: "cus_a"})
		if err != nil {
			return err
		}
		sameJSONish(t, "events left", ids(evs, eventID), []string{"fresh"})
		_, err = tx.EventRaw("cus_a", old.Seq)
		wantNotFound(t, "raw payload of a pruned event", err)
		if _, err := tx.EventRaw("cus_a", fresh.Seq); err != nil {
			t.Errorf("raw payload of a kept event: %v", err)
		}
		decs, _, _ := tx.Decisions(gateway.DecisionQuery{})
		sameJSONish(t, "decisions left", ids(decs, decisionID), []string{"dec_fresh"})
		if n, _ := tx.CountContacts("cus_a", time.Time{}, gateway.ChannelAny, gateway.CategoryAny); n != 1 {
			t.Errorf("contacts left: %d, want 1", n)
		}
		for id, want := range map[string]bool{"old": false, "fresh": true} {
			if seen, _ := tx.DeliverySeen("zendesk", id); seen != want {
				t.Errorf("DeliverySeen(%s) after prune = %v, want %v", id, seen, want)
			}
		}
		return nil
	})
}

func testBackup(t *testing.T, s gateway.Store) {
	update(t, s, func(tx gateway.Tx) error { return tx.PutCustomer(customer("cus_a", "email:ana@example.com")) })
	var buf bytes.Buffer
	n, err := s.Backup(context.Background(), &buf)
	if errors.Is(err, gateway.ErrBackupUnsupported) {
		if n != 0 || buf.Len() != 0 {
			t.Errorf("a store that cannot be copied wrote %d bytes", buf.Len())
		}
		t.Skip("this back end is not copied as a file (its own tools back it up)")
	}
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	if n <= 0 || n != int64(buf.Len()) {
		t.Errorf("Backup reported %d bytes, wrote %d", n, buf.Len())
	}
	// The store keeps serving after a backup.
	update(t, s, func(tx gateway.Tx) error { return tx.PutCustomer(customer("cus_b", "email:bob@example.com")) })

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Backup(ctx, &bytes.Buffer{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Backup with a cancelled context: %v, want context.Canceled", err)
	}
}

func testRollback(t *testing.T, s gateway.Store) {
	boom := errors.New("boom")
	err := s.Update(context.Background(), func(tx gateway.Tx) error {
		for _, err := range []error{
			tx.PutCustomer(customer("cus_a", "email:ana@example.com")),
			tx.PutEvent(event("e1", "cus_a", at(0))),
			tx.PutSilence(silence("sil_1", "cus_a", at(0))),
			tx.PutDelivery("zendesk", "e1", at(0)),
			tx.PutContact(contact("con_1", "cus_a", at(0), gateway.ChannelSMS, gateway.CategorySales)),
		} {
			if err != nil {
				return err
			}
		}
		return fmt.Errorf("after writing: %w", boom)
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update returned %v, want the function's error", err)
	}
	view(t, s, func(tx gateway.Tx) error {
		_, err := tx.Customer("cus_a")
		wantNotFound(t, "customer of a failed Update", err)
		_, err = tx.CustomerByIdentity("email:ana@example.com")
		wantNotFound(t, "identity of a failed Update", err)
		_, err = tx.Silence("sil_1")
		wantNotFound(t, "silence of a failed Update", err)
		if evs, _, _ := tx.Events(gateway.EventQuery{CustomerID: "cus_a"}); len(evs) != 0 {
			t.Errorf("failed Update left %d events", len(evs))
		}
		if seen, _ := tx.DeliverySeen("zendesk", "e1"); seen {
			t.Errorf("failed Update left its delivery key")
		}
		if n, _ := tx.CountContacts("cus_a", time.Time{}, gateway.ChannelAny, gateway.CategoryAny); n != 0 {
			t.Errorf("failed Update left %d contacts", n)
		}
		return nil
	})
}

func testConcurrentUpdates(t *testing.T, s gateway.Store) {
	const workers, perWorker = 8, 25
	update(t, s, func(tx gateway.Tx) error {
		c := customer("cus_a", "email:ana@example.com")
		c.Attrs = map[string]string{"n": "0"}
		return tx.PutCustomer(c)
	})
	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				id := fmt.Sprintf("w%d-%d", w, i)
				errs <- s.Update(context.Background(), func(tx gateway.Tx) error {
					// Read-modify-write: lost updates show up as a short count.
					c, err := tx.Customer("cus_a")
					if err != nil {
						return err
					}
					n, err := strconv.Atoi(c.Attrs["n"])
					if err != nil {
						return err
					}
					c.Attrs["n"] = strconv.Itoa(n + 1)
					if err := tx.PutCustomer(c); err != nil {
						return err
					}
					if err := tx.PutDelivery("load", id, at(0)); err != nil {
						return err
					}
					if err := tx.PutEvent(event(id, "cus_a", at(i))); err != nil {
						return err
					}
					return tx.PutContact(contact(id, "cus_a", at(i), gateway.ChannelSMS, gateway.CategorySales))
				})
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent Update: %v", err)
		}
	}
	const total = workers * perWorker
	view(t, s, func(tx gateway.Tx) error {
		c, err := tx.Customer("cus_a")
		if err != nil {
			return err
		}
		if c.Attrs["n"] != strconv.Itoa(total) {
			t.Errorf("counter = %s after %d increments", c.Attrs["n"], total)
		}
		if n, err := tx.CountContacts("cus_a", time.Time{}, gateway.ChannelAny, gateway.CategoryAny); err != nil || n != total {
			t.Errorf("contacts = %d, %v; want %d", n, err, total)
		}
		evs, _, err := tx.Events(gateway.EventQuery{CustomerID: "cus_a", Page: gateway.Page{Limit: 1000}})
		if err != nil {
			return err
		}
		seqs := map[uint64]bool{}
		for _, e := range evs {
			seqs[e.Seq] = true
		}
		if len(evs) != total || len(seqs) != total {
			t.Errorf("%d events with %d distinct Seq, want %d", len(evs), len(seqs), total)
		}
		for w := range workers {
			for i := range perWorker {
				if seen, _ := tx.DeliverySeen("load", fmt.Sprintf("w%d-%d", w, i)); !seen {
					t.Errorf("delivery w%d-%d missing", w, i)
				}
			}
		}
		return nil
	})
}

func testCancelledContext(t *testing.T, s gateway.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	called := false
	fn := func(gateway.Tx) error { called = true; return nil }
	if err := s.Update(ctx, fn); !errors.Is(err, context.Canceled) {
		t.Errorf("Update with a cancelled context: %v, want context.Canceled", err)
	}
	if err := s.View(ctx, fn); !errors.Is(err, context.Canceled) {
		t.Errorf("View with a cancelled context: %v, want context.Canceled", err)
	}
	if err := s.Ping(ctx); err == nil {
		t.Errorf("Ping with a cancelled context succeeded")
	}
	if called {
		t.Errorf("a cancelled Update or View ran its function")
	}
}

func testClosed(t *testing.T, s gateway.Store) {
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("Ping of an open store: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	fn := func(gateway.Tx) error { return nil }
	if err := s.Update(context.Background(), fn); !errors.Is(err, gateway.ErrStoreClosed) {
		t.Errorf("Update after Close: %v, want ErrStoreClosed", err)
	}
	if err := s.View(context.Background(), fn); !errors.Is(err, gateway.ErrStoreClosed) {
		t.Errorf("View after Close: %v, want ErrStoreClosed", err)
	}
	if err := s.Ping(context.Background()); !errors.Is(err, gateway.ErrStoreClosed) {
		t.Errorf("Ping after Close: %v, want ErrStoreClosed", err)
	}
}

// eachSuppressionEntry pages through one upstream's ledger.
func eachSuppressionEntry(tx gateway.Tx, upstream string, fn func(gateway.SuppressionEntry)) error {
	p := gateway.Page{Limit: gateway.MaxPageSize}
	for {
		entries, next, err := tx.SuppressionEntries(gateway.SuppressionQuery{Upstream: upstream, Page: p})
		if err != nil {
			return err
		}
		for _, e := range entries {
			fn(e)
		}
		if next == "" {
			return nil
		}
		p.Cursor = next
	}
}
