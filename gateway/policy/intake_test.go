package policy

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

var lowCSAT = gateway.RuleSpec{
	Name:    "low-csat",
	When:    `event.type == "survey.response" && has(event.csat) && event.csat <= 2`,
	Silence: &gateway.SilenceSpec{For: dayDur(15), Categories: []gateway.Category{"marketing", "sales"}, Channels: []gateway.Channel{"email", "voice"}},
	Alert:   "retention",
}

var repeatedContacts = gateway.RuleSpec{
	Name:    "repeated-contacts",
	When:    `event.topic != "" && contacts_about(event.topic, duration("24h")) >= 3`,
	Silence: &gateway.SilenceSpec{UntilResolved: true, Then: dayDur(7)},
}

func TestRuleCreatesSilenceFromEventTime(t *testing.T) {
	tests := []struct {
		name      string
		at        time.Time
		wantStart time.Time
	}{
		{"event in the past starts the silence then", engineStart.Add(-2 * time.Hour), engineStart.Add(-2 * time.Hour)},
		{"event dated in the future starts it on receipt", engineStart.Add(3 * time.Hour), engineStart},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Config{Rules: mustRules(t, lowCSAT)})
			h.ingest(event("e1", gateway.EventSurveyResponse, tt.at, "ana@example.com", withCSAT(1)),
				event("e2", gateway.EventSurveyResponse, tt.at, "bob@example.com", withCSAT(5)))

			ana := h.customer(email("ana@example.com"))
			sil := h.silences(ana.ID)
			if len(sil) != 1 {
				t.Fatalf("ana has %d silences, want 1", len(sil))
			}
			s := sil[0]
			if !s.Start.Equal(tt.wantStart) || s.End == nil || !s.End.Equal(tt.wantStart.Add(15*24*time.Hour)) {
				t.Fatalf("silence runs %v → %v, want %v + 15d", s.Start, s.End, tt.wantStart)
			}
			if s.Rule != "low-csat" || s.CreatedBy != "rule:low-csat" || s.Source != gateway.SilenceSourceRule || s.EventID != "test:e1" || s.Shadow {
				t.Fatalf("silence provenance = %+v", s)
			}
			if strings.Join(catStrings(s.Categories), ",") != "marketing,sales" || len(s.Channels) != 2 {
				t.Fatalf("silence covers %v on %v", s.Categories, s.Channels)
			}
			if bob := h.customer(email("bob@example.com")); len(h.silences(bob.ID)) != 0 {
				t.Fatal("a CSAT of 5 silenced bob")
			}

			d := h.decide1(gateway.ChannelEmail, gateway.CategoryMarketing, email("ana@example.com"))
			wantReason(t, d, gateway.ReasonSilenced)
			if d.Rule != "low-csat" || d.SilenceID != s.ID || d.Until == nil || !d.Until.Equal(*s.End) {
				t.Fatalf("decision = %+v", d)
			}
			wantReason(t, h.decide1(gateway.ChannelSMS, gateway.CategoryMarketing, email("ana@example.com")), "")
			wantReason(t, h.decide1(gateway.ChannelEmail, gateway.CategorySurvey, email("ana@example.com")), "")
			wantReason(t, h.decide1(gateway.ChannelEmail, gateway.CategoryMarketing, email("bob@example.com")), "")

			out := h.outboxOf(gateway.OutboxAlert)
			if len(out) != 1 || out[0].Kind != "alert" || out[0].Target != "retention" {
				t.Fatalf("outbox = %+v", out)
			}
			// The team also hears when the silence ends, at its end.
			if ended := h.outboxOf(gateway.OutboxSilenceEnded); len(ended) != 1 || !ended[0].DueAt.Equal(*s.End) || !ended[0].NextAttempt.Equal(*s.End) {
				t.Fatalf("silence_ended = %+v, want one due at %v", ended, s.End)
			}
			var p map[string]any
			if err := json.Unmarshal(out[0].Payload, &p); err != nil {
				t.Fatal(err)
			}
			if p["rule"] != "low-csat" || p["customer_id"] != ana.ID || p["silence_id"] != s.ID || p["event_type"] != gateway.EventSurveyResponse || p["until"] == nil {
				t.Fatalf("alert payload = %s", out[0].Payload)
			}
		})
	}
}

func catStrings(cs []gateway.Category) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = string(c)
	}
	return out
}

func TestRetriggerExtendsInsteadOfStacking(t *testing.T) {
	h := newHarness(t, Config{Rules: mustRules(t, lowCSAT)})
	first := engineStart.Add(-48 * time.Hour)
	h.ingest(event("e1", gateway.EventSurveyResponse, first, "ana@example.com", withCSAT(2)))
	h.ingest(event("e2", gateway.EventSurveyResponse, engineStart, "ana@example.com", withCSAT(1)))
	// An older late delivery must not shorten it.
	h.ingest(event("e3", gateway.EventSurveyResponse, first.Add(time.Hour), "ana@example.com", withCSAT(1)))

	sil := h.silences(h.customer(email("ana@example.com")).ID)
	if len(sil) != 1 {
		t.Fatalf("%d silences after three triggers, want 1", len(sil))
	}
	if !sil[0].Start.Equal(first) || !sil[0].End.Equal(engineStart.Add(15*24*time.Hour)) {
		t.Fatalf("silence runs %v → %v, want %v → now+15d", sil[0].Start, sil[0].End, first)
	}
	// One alert per silence: the retention team hears about the customer once, not once
	// per repeated trigger.
	if n := len(h.outboxOf(gateway.OutboxAlert)); n != 1 {
		t.Fatalf("%d alerts, want one per silence (1)", n)
	}
}

func TestUntilResolvedEndsAfterSolvedPlusGrace(t *testing.T) {
	h := newHarness(t, Config{Rules: mustRules(t, repeatedContacts)})
	topic := "zendesk:ticket:5512"
	for i, id := range []string{"c1", "c2", "c3", "c4"} {
		h.ingest(event(id, gateway.EventTicketOpened, engineStart.Add(time.Duration(i-4)*time.Hour), "ana@example.com", withTopic(topic)))
	}
	ana := h.customer(email("ana@example.com"))
	sil := h.silences(ana.ID)
	if len(sil) != 1 {
		t.Fatalf("%d silences after four contacts, want 1 (the 4th extends)", len(sil))
	}
	s := sil[0]
	if !s.UntilResolved || s.End != nil || s.Topic != topic || s.Grace != dayDur(7) || !s.Start.Equal(engineStart.Add(-2*time.Hour)) {
		t.Fatalf("silence = %+v", s)
	}
	d := h.decide1(gateway.ChannelEmail, gateway.CategoryMarketing, email("ana@example.com"))
	wantReason(t, d, gateway.ReasonSilenced)
	if d.Until != nil {
		t.Fatalf("until = %v while the topic is open, want none", d.Until)
	}

	// Another topic's resolution changes nothing; this topic's ends it after the grace.
	solved := engineStart.Add(-30 * time.Minute)
	h.ingest(event("s0", gateway.EventTicketSolved, solved, "ana@example.com", withTopic("zendesk:ticket:1")))
	if h.silences(ana.ID)[0].End != nil {
		t.Fatal("solving another topic ended the silence")
	}
	h.ingest(event("s1", gateway.EventTicketUpdated, solved, "ana@example.com", withTopic(topic), func(e *gateway.Event) { e.Status = "solved" }))
	s = h.silences(ana.ID)[0]
	if s.End == nil || !s.End.Equal(solved.Add(7*24*time.Hour)) {
		t.Fatalf("end = %v, want solved + 7d", s.End)
	}
	wantReason(t, h.decideAt(solved.Add(6*24*time.Hour), gateway.ChannelEmail, gateway.CategoryMarketing, false, email("ana@example.com"))[0], gateway.ReasonSilenced)
	wantReason(t, h.decideAt(solved.Add(8*24*time.Hour), gateway.ChannelEmail, gateway.CategoryMarketing, false, email("ana@example.com"))[0], "")
}

func TestShadowRuleRecordsWithoutEnforcing(t *testing.T) {
	shadow := lowCSAT
	shadow.Shadow = true
	h := newHarness(t, Config{Rules: mustRules(t, shadow)})
	h.ingest(event("e1", gateway.EventSurveyResponse, engineStart, "ana@example.com", withCSAT(1)))
	sil := h.silences(h.customer(email("ana@example.com")).ID)
	if len(sil) != 1 || !sil[0].Shadow {
		t.Fatalf("silences = %+v, want one shadow silence", sil)
	}
	wantReason(t, h.decide1(gateway.ChannelEmail, gateway.CategoryMarketing, email("ana@example.com")), "")
	if n := len(h.outbox()); n != 0 {
		t.Fatalf("a shadow rule queued %d alerts", n)
	}
}

func TestOptOutAndOptIn(t *testing.T) {
	h := newHarness(t, Config{DefaultRegion: "ES"})
	num := phone("+34600111222")
	stop := func(id string) gateway.Event {
		return gateway.Event{ID: id, Source: "twilio", Type: gateway.EventConsentOptOut, At: engineStart, Customer: gateway.EventCustomer{Phone: "600 111 222"}}
	}
	h.ingest(stop("m1"), stop("m2")) // a second STOP changes nothing

	var opts []gateway.OptOut
	h.view(func(tx gateway.Tx) error {
		var err error
		opts, _, err = tx.OptOuts(gateway.OptOutQuery{Page: gateway.Page{Limit: 100}})
		return err
	})
	if len(opts) != 1 || opts[0].Channel != gateway.ChannelSMS || opts[0].Identity != num || opts[0].CreatedBy != "event:twilio" {
		t.Fatalf("opt-outs = %+v, want one on sms", opts)
	}
	tests := []struct {
		ch     gateway.Channel
		cat    gateway.Category
		reason string
	}{
		{gateway.ChannelSMS, gateway.CategoryMarketing, gateway.ReasonOptedOut},
		{gateway.ChannelSMS, gateway.CategoryIncident, gateway.ReasonOptedOut},
		{gateway.ChannelWhatsApp, gateway.CategorySales, gateway.ReasonOptedOut},
		{gateway.ChannelSMS, gateway.CategoryTransactional, ""},
		{gateway.ChannelVoice, gateway.CategoryMarketing, ""},
	}
	for _, tt := range tests {
		d := h.decide1(tt.ch, tt.cat, num)
		wantReason(t, d, tt.reason)
		if tt.reason != "" && d.OptOutID != opts[0].ID {
			t.Fatalf("optout_id = %q, want %q", d.OptOutID, opts[0].ID)
		}
	}

	h.ingest(gateway.Event{ID: "m3", Source: "twilio", Type: gateway.EventConsentOptIn, At: engineStart, Customer: gateway.EventCustomer{Phone: "+34600111222"}, Channel: gateway.ChannelSMS})
	wantReason(t, h.decide1(gateway.ChannelSMS, gateway.CategoryMarketing, num), "")
}

func TestIncidentsFromEvents(t *testing.T) {
	h := newHarness(t, Config{})
	h.ingest(event("u1", gateway.EventTicketOpened, engineStart.Add(-time.Hour), "vip@example.com", func(e *gateway.Event) { e.Customer.Tags = []string{"vip"} }),
		event("u2", gateway.EventTicketOpened, engineStart.Add(-time.Hour), "plain@example.com"))

	open := func(id, topic string, attrs map[string]any) gateway.Event {
		return gateway.Event{ID: id, Source: "statuspage", Type: gateway.EventIncidentOpened, At: engineStart, Topic: topic, Attrs: attrs}
	}
	h.ingest(open("i1", "sp:1", map[string]any{"scope": "tag:vip", "title": "API down"}))
	h.ingest(open("i2", "sp:1", map[string]any{"scope": "tag:vip"})) // the same incident again
	if n := len(h.e.Snapshot().Incidents()); n != 1 {
		t.Fatalf("%d open incidents, want 1", n)
	}
	wantReason(t, h.decide1(gateway.ChannelEmail, gateway.CategoryMarketing, email("vip@example.com")), gateway.ReasonIncident)
	wantReason(t, h.decide1(gateway.ChannelEmail, gateway.CategoryMarketing, email("plain@example.com")), "")
	wantReason(t, h.decide1(gateway.ChannelEmail, gateway.CategoryIncident, email("vip@example.com")), "")

	h.ingest(gateway.Event{ID: "i3", Source: "statuspage", Type: gateway.EventIncidentResolved, At: engineStart, Topic: "sp:1"})
	wantReason(t, h.decide1(gateway.ChannelEmail, gateway.CategoryMarketing, email("vip@example.com")), "")

	h.ingest(open("i4", "sp:2", nil)) // scope all, covering people hush has never seen too
	for _, id := range []gateway.Identity{email("plain@example.com"), email("stranger@example.com")} {
		d := h.decide1(gateway.ChannelSMS, gateway.CategorySales, id)
		wantReason(t, d, gateway.ReasonIncident)
		if d.IncidentID == "" {
			t.Fatal("incident decision without incident_id")
		}
	}
	wantReason(t, h.decide1(gateway.ChannelSMS, gateway.CategoryService, email("plain@example.com")), "")
}

func TestMergeWhenAnEventLinksTwoCustomers(t *testing.T) {
	h := newHarness(t, Config{Rules: mustRules(t, lowCSAT), DefaultRegion: "ES"})
	h.ingest(event("e1", gateway.EventTicketOpened, engineStart.Add(-time.Hour), "ana@example.com"))
	h.clock.Set(engineStart.Add(time.Minute))
	h.ingest(gateway.Event{ID: "e2", Source: "test", Type: gateway.EventSurveyResponse, At: engineStart, CSAT: fptr(1), Customer: gateway.EventCustomer{Phone: "+34600111222", Name: "Ana"}})
	older := h.customer(email("ana@example.com"))
	newer := h.customer(phone("+34600111222"))
	if older.ID == newer.ID {
		t.Fatal("two separate customers expected before linking")
	}

	h.ingest(gateway.Event{ID: "e3", Source: "test", Type: gateway.EventTicketUpdated, At: engineStart,
		Customer: gateway.EventCustomer{Email: "ANA@example.com ", Phone: "600111222", IDs: map[string]string{"zendesk": "8841"}}})

	for _, id := range []gateway.Identity{email("ana@example.com"), phone("+34600111222"), "zendesk:8841"} {
		c := h.customer(id)
		if c == nil || c.ID != older.ID {
			t.Fatalf("%s belongs to %v, want the older customer %s", id, c, older.ID)
		}
		if v, ok := h.e.Snapshot().Customer(id); !ok || v.ID != older.ID {
			t.Fatalf("snapshot: %s → %+v", id, v)
		}
	}
	if c := h.customer(email("ana@example.com")); c.Name != "Ana" {
		t.Fatalf("merged name = %q, want the newer customer's", c.Name)
	}
	// The silence made for the phone now holds for the email too.
	wantReason(t, h.decide1(gateway.ChannelEmail, gateway.CategoryMarketing, email("ana@example.com")), gateway.ReasonSilenced)
	var events []gateway.Event
	h.view(func(tx gateway.Tx) error {
		var err error
		events, _, err = tx.Events(gateway.EventQuery{CustomerID: older.ID, Page: gateway.Page{Limit: 100}})
		return err
	})
	if len(events) != 3 {
		t.Fatalf("merged customer has %d events, want 3", len(events))
	}
}

func TestDuplicateDeliveriesAreCountedNotStored(t *testing.T) {
	h := newHarness(t, Config{})
	ev := event("d1", gateway.EventTicketOpened, time.Time{}, "ana@example.com")
	ev.Raw = json.RawMessage(`{"vendor":"payload"}`)
	if res := h.ingest(ev, ev); res.Accepted != 1 || res.Duplicates != 1 {
		t.Fatalf("first delivery = %+v", res)
	}
	res, err := h.e.Ingest(context.Background(), []gateway.Event{ev}, 2)
	if err != nil || res.Accepted != 0 || res.Duplicates != 1 || res.Ignored != 2 {
		t.Fatalf("redelivery = %+v, %v", res, err)
	}
	c := h.customer(email("ana@example.com"))
	var events []gateway.Event
	var raw []byte
	h.view(func(tx gateway.Tx) error {
		var err error
		if events, _, err = tx.Events(gateway.EventQuery{CustomerID: c.ID, Page: gateway.Page{Limit: 10}}); err != nil {
			return err
		}
		raw, err = tx.EventRaw(c.ID, events[0].Seq)
		return err
	})
	if len(events) != 1 {
		t.Fatalf("%d events stored, want 1", len(events))
	}
	if !events[0].At.Equal(engineStart) || !events[0].ReceivedAt.Equal(engineStart) || events[0].CustomerID != c.ID {
		t.Fatalf("stored event = %+v; an event without time takes the receipt time", events[0])
	}
	if string(raw) != `{"vendor":"payload"}` {
		t.Fatalf("raw = %s", raw)
	}
}

func TestInvalidEventStoresNothing(t *testing.T) {
	valid := event("ok", gateway.EventTicketOpened, engineStart, "ana@example.com")
	tests := []struct {
		name  string
		bad   gateway.Event
		field string
	}{
		{"no id", event("", gateway.EventTicketOpened, engineStart, "bob@example.com"), "id"},
		{"no source", func() gateway.Event {
			e := event("x", gateway.EventTicketOpened, engineStart, "bob@example.com")
			e.Source = ""
			return e
		}(), "source"},
		{"unknown type", event("x", "ticket.exploded", engineStart, "bob@example.com"), "type"},
		{"no identity", event("x", gateway.EventTicketOpened, engineStart, ""), "customer"},
		{"unusable identity", event("x", gateway.EventTicketOpened, engineStart, "not-an-address"), "customer"},
		{"bad channel", event("x", gateway.EventTicketOpened, engineStart, "bob@example.com", withChannel("fax")), "channel"},
		{"bad incident scope", gateway.Event{ID: "x", Source: "sp", Type: gateway.EventIncidentOpened, Attrs: map[string]any{"scope": "segment:7"}}, "scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			_, err := h.e.Ingest(context.Background(), []gateway.Event{valid, tt.bad}, 0)
			if gateway.ErrorCodeOf(err) != gateway.CodeInvalid || !strings.Contains(gateway.ErrorMessageOf(err), tt.field) {
				t.Fatalf("err = %v, want invalid naming %q", err, tt.field)
			}
			if c := h.customer(email("ana@example.com")); c != nil {
				t.Fatal("the valid event of a rejected batch was stored")
			}
			// The delivery id was not consumed: a fixed redelivery is accepted.
			if res := h.ingest(valid); res.Accepted != 1 {
				t.Fatalf("redelivery after rejection = %+v", res)
			}
		})
	}
}

func TestSnapshotSurvivesRestart(t *testing.T) {
	h := newHarness(t, Config{Rules: mustRules(t, lowCSAT), DefaultRegion: "ES"})
	h.ingest(event("e1", gateway.EventSurveyResponse, engineStart, "ana@example.com", withCSAT(1)),
		gateway.Event{ID: "e2", Source: "twilio", Type: gateway.EventConsentOptOut, At: engineStart, Customer: gateway.EventCustomer{Phone: "+34600111222"}},
		gateway.Event{ID: "e3", Source: "sp", Type: gateway.EventIncidentOpened, At: engineStart, Topic: "sp:9", Attrs: map[string]any{"scope": "tag:vip"}},
		event("e4", gateway.EventTicketOpened, engineStart, "vip@example.com", func(e *gateway.Event) { e.Customer.Tags = []string{"vip"} }))
	before := h.e.Snapshot().Counts(engineStart)
	h.restart()
	after := h.e.Snapshot().Counts(engineStart)
	// vip has nothing in force: not in the snapshot; the incident scoped to its tag is
	// decided from the store.
	if before != after || after != (SnapshotCounts{Customers: 2, ActiveSilences: 1, ActiveOptOuts: 1, OpenIncidents: 1}) {
		t.Fatalf("snapshot before restart %+v, after %+v", before, after)
	}
	wantReason(t, h.decide1(gateway.ChannelEmail, gateway.CategoryMarketing, email("ana@example.com")), gateway.ReasonSilenced)
	wantReason(t, h.decide1(gateway.ChannelSMS, gateway.CategoryMarketing, phone("+34600111222")), gateway.ReasonOptedOut)
	wantReason(t, h.decide1(gateway.ChannelEmail, gateway.CategoryMarketing, email("vip@example.com")), gateway.ReasonIncident)

	// Past the silence's end, a rebuild leaves it out.
	h.clock.Set(engineStart.Add(16 * 24 * time.Hour))
	h.restart()
	if n := h.e.Snapshot().Counts(h.clock.Now()).ActiveSilences; n != 0 {
		t.Fatalf("%d active silences after expiry", n)
	}
	if v, _ := h.e.Snapshot().Customer(email("ana@example.com")); len(v.Silences) != 0 {
		t.Fatalf("expired silence loaded: %+v", v.Silences)
	}
}

// A rule's follow-up is queued for its time, once per silence; rules without an alert
// queue no silence_ended.
func TestFollowUpQueuedOncePerSilence(t *testing.T) {
	rule := gateway.RuleSpec{Name: "callback", When: `event.type == "survey.response" && event.csat <= 2`,
		Silence: &gateway.SilenceSpec{For: dayDur(15)}, FollowUp: &gateway.FollowUpSpec{After: dayDur(3), Alert: "retention"}}
	h := newHarness(t, Config{Rules: mustRules(t, rule)})
	at := engineStart.Add(-2 * time.Hour)
	h.ingest(event("e1", gateway.EventSurveyResponse, at, "ana@example.com", withCSAT(1)))
	h.ingest(event("e2", gateway.EventSurveyResponse, engineStart, "ana@example.com", withCSAT(2)))

	fu := h.outboxOf(gateway.OutboxFollowUp)
	if len(fu) != 1 || fu[0].Target != "retention" || !fu[0].DueAt.Equal(at.Add(72*time.Hour)) || !fu[0].NextAttempt.Equal(fu[0].DueAt) {
		t.Fatalf("follow-ups = %+v, want one due 3 days after the first survey", fu)
	}
	if n := len(h.outboxOf(gateway.OutboxAlert)) + len(h.outboxOf(gateway.OutboxSilenceEnded)); n != 0 {
		t.Errorf("a rule without alert queued %d alerts or silence ends", n)
	}
	if _, err := CompileRules([]gateway.RuleSpec{{Name: "x", When: "true", FollowUp: &gateway.FollowUpSpec{Alert: "retention"}}}); err == nil ||
		!strings.Contains(err.Error(), "follow_up.after") {
		t.Errorf("a follow-up without after: %v", err)
	}
}
