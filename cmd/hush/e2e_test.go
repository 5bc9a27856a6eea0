package main

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

const (
	ana        = "ana@example.com" // the customer each test is about
	neighbour  = "ben@example.com" // another customer, who must stay reachable
	anaID      = "email:" + ana    // ana's identity as the admin API names it
	day        = 24 * time.Hour
	topic      = "crm:case:5512" // the ticket the until-resolved rules wait on
	otherTopic = "crm:case:9999" // a ticket of ana's that has nothing to do with it
)

// silencedCategories are the categories a seed rule's silence covers (the default).
var silencedCategories = []string{"marketing", "sales", "survey"}

// customerOf is the customer part of an event about an email address.
func customerOf(addr string) map[string]any { return map[string]any{"email": addr} }

// TestSeedRulesEndToEnd runs each seed rule of the embedded default config through the
// binary: events in through the signed generic webhook, the silence out through the
// decision API, the silences listing and the customer view, over simulated time.
func TestSeedRulesEndToEnd(t *testing.T) {
	tests := []struct {
		rule string
		// events fire the rule, posted one at a time; between them the clock moves on by
		// spacing. The silence starts at the last one.
		events  []map[string]any
		spacing time.Duration
		// notBefore is how many of the events leave ana reachable before the rule fires
		// (repeated-contacts needs three).
		notBefore int
		// length is a fixed silence; zero for "until resolved" rules, which end grace
		// after the topic is solved.
		length time.Duration
		grace  time.Duration
	}{
		{
			rule:   "low-csat",
			events: []map[string]any{{"type": "survey.response", "customer": customerOf(ana), "csat": 1}},
			length: 15 * day,
		},
		{
			rule:   "detractor-nps",
			events: []map[string]any{{"type": "survey.response", "customer": customerOf(ana), "nps": 3}},
			length: 30 * day,
		},
		{
			rule: "negative-sentiment",
			events: []map[string]any{{
				"type": "chat.message", "customer": customerOf(ana), "channel": "email",
				"text":      "the app keeps crashing and nobody answers",
				"sentiment": map[string]any{"score": -0.8, "label": "negative"},
			}},
			length: 7 * day,
		},
		{
			rule: "abandoned-call",
			events: []map[string]any{{
				"type": "call.abandoned", "customer": customerOf(ana), "channel": "voice", "wait_seconds": 300,
			}},
			length: 2 * day,
		},
		{
			rule: "repeated-contacts",
			events: []map[string]any{
				{"type": "ticket.opened", "customer": customerOf(ana), "topic": topic, "status": "open"},
				{"type": "chat.message", "customer": customerOf(ana), "topic": topic, "channel": "email"},
				{"type": "call.completed", "customer": customerOf(ana), "topic": topic, "channel": "voice"},
			},
			spacing:   3 * time.Hour,
			notBefore: 2,
			grace:     7 * day,
		},
		{
			rule: "open-complaint",
			events: []map[string]any{{
				"type": "ticket.opened", "customer": customerOf(ana), "topic": topic,
				"status": "open", "tags": []string{"complaint"},
			}},
			grace: 1 * day,
		},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			clock := newTestClock(t0)
			h := startHush(t, clock, hushOptions{})
			// The neighbour is a known customer with history of their own.
			h.event(map[string]any{"type": "survey.response", "customer": customerOf(neighbour), "csat": 5})

			for i, ev := range tt.events {
				if i > 0 {
					clock.Advance(tt.spacing)
				}
				if i < tt.notBefore {
					if d := h.check("email", "marketing", email(ana)); !d.Allowed {
						t.Fatalf("before event %d of %d: ana already dropped: %+v", i+1, len(tt.events), d)
					}
				}
				h.event(ev)
			}
			start := clock.Now()

			var end time.Time // the moment the silence stops
			if tt.length > 0 {
				end = start.Add(tt.length)
				assertSilenced(t, h, tt.rule, &end)
				assertListedSilence(t, h, tt.rule, start, &end)
			} else {
				assertSilenced(t, h, tt.rule, nil)
				assertListedSilence(t, h, tt.rule, start, nil)

				// Open: silent however long it takes, and solving another ticket of
				// hers changes nothing.
				clock.Advance(40 * day)
				h.event(map[string]any{"type": "ticket.solved", "customer": customerOf(ana), "topic": otherTopic})
				assertSilenced(t, h, tt.rule, nil)

				clock.Advance(time.Hour)
				h.event(map[string]any{"type": "ticket.solved", "customer": customerOf(ana), "topic": topic, "status": "solved"})
				end = clock.Now().Add(tt.grace)
				assertSilenced(t, h, tt.rule, &end)
				assertListedSilence(t, h, tt.rule, start, &end)
			}

			clock.Set(end.Add(-time.Second))
			assertSilenced(t, h, tt.rule, &end)

			clock.Set(end.Add(time.Second))
			for _, cat := range silencedCategories {
				if d := h.check("email", cat, email(ana)); !d.Allowed {
					t.Errorf("after the silence ended, %s to ana: %+v, want allowed", cat, d)
				}
			}
			if got := h.silences(anaID, true); len(got) != 0 {
				t.Errorf("active silences after the end: %+v, want none", got)
			}
			v := h.customer(anaID)
			if len(v.Silences.Active) != 0 || len(v.Silences.Past) != 1 || v.Silences.Past[0].Rule != tt.rule {
				t.Errorf("customer view after the end: active %+v, past %+v; want none active, one past by %s",
					v.Silences.Active, v.Silences.Past, tt.rule)
			}
		})
	}
}

// assertSilenced checks, at the clock's current time, that ana is dropped as silenced by
// rule for every silenced category (until end; nil: until her topic is resolved), that
// transactional mail still reaches her, and that the neighbour is untouched.
func assertSilenced(t *testing.T, h *hushProcess, rule string, end *time.Time) {
	t.Helper()
	for _, cat := range silencedCategories {
		d := h.check("email", cat, email(ana))
		if d.Allowed || d.Reason != gateway.ReasonSilenced || d.Rule != rule || d.SilenceID == "" {
			t.Fatalf("at %s, %s mail to ana: %+v; want dropped, silenced by %s", h.clock.Now().Format(time.RFC3339), cat, d, rule)
		}
		switch {
		case end == nil && d.Until != nil:
			t.Errorf("%s mail to ana dropped until %s; want no end while the topic is open", cat, d.Until)
		case end != nil && (d.Until == nil || !d.Until.Equal(*end)):
			t.Errorf("%s mail to ana dropped until %v; want %s", cat, d.Until, end.Format(time.RFC3339))
		}
	}
	if d := h.check("email", "transactional", email(ana)); !d.Allowed {
		t.Errorf("transactional mail to ana: %+v; want allowed through a silence", d)
	}
	if d := h.check("email", "marketing", email(neighbour)); !d.Allowed {
		t.Errorf("marketing mail to the neighbour: %+v; want allowed", d)
	}
}

// assertListedSilence checks the silence as GET /api/v1/silences?identity= and the
// customer view show it.
func assertListedSilence(t *testing.T, h *hushProcess, rule string, start time.Time, end *time.Time) {
	t.Helper()
	list := h.silences(anaID, true)
	if len(list) != 1 {
		t.Fatalf("active silences of ana: %+v; want exactly one", list)
	}
	s := list[0]
	if s.Rule != rule || !s.Start.Equal(start) || s.Identity != anaID {
		t.Errorf("silence %+v; want rule %s for %s from %s", s, rule, anaID, start.Format(time.RFC3339))
	}
	if (end == nil) != (s.End == nil) || (end != nil && !s.End.Equal(*end)) {
		t.Errorf("silence ends %v; want %v", s.End, end)
	}
	for _, cat := range silencedCategories {
		if !s.Covers(gateway.ChannelEmail, gateway.Category(cat)) || !s.Covers(gateway.ChannelSMS, gateway.Category(cat)) {
			t.Errorf("silence %+v does not cover %s on every channel", s, cat)
		}
	}
	if s.Covers(gateway.ChannelEmail, gateway.CategoryTransactional) {
		t.Errorf("silence %+v covers transactional", s)
	}
	if others := h.silences("email:"+neighbour, false); len(others) != 0 {
		t.Errorf("the neighbour has silences %+v; want none", others)
	}
	v := h.customer(anaID)
	if len(v.Silences.Active) != 1 || v.Silences.Active[0].ID != s.ID {
		t.Errorf("customer view active silences %+v; want the one listed (%s)", v.Silences.Active, s.ID)
	}
	if !slices.Contains(v.Identities, gateway.Identity(anaID)) {
		t.Errorf("customer view identities %v; want %s", v.Identities, anaID)
	}
}

// TestSMSStopOptsOut: a STOP on SMS withdraws consent for SMS only, until a START.
func TestSMSStopOptsOut(t *testing.T) {
	clock := newTestClock(t0)
	h := startHush(t, clock, hushOptions{})
	const mobile = "+34600111222"
	who := map[string]any{"email": ana, "phone": mobile}

	if d := h.check("sms", "marketing", phone(mobile)); !d.Allowed {
		t.Fatalf("sms before STOP: %+v; want allowed", d)
	}
	h.event(map[string]any{"type": "consent.optout", "customer": who, "channel": "sms", "text": "STOP"})

	d := h.check("sms", "marketing", phone(mobile))
	if d.Allowed || d.Reason != gateway.ReasonOptedOut || d.OptOutID == "" {
		t.Errorf("sms marketing after STOP: %+v; want dropped, opted_out", d)
	}
	// A national number is the same person (default_region ES).
	if d := h.check("sms", "marketing", phone("600 111 222")); d.Allowed || d.Reason != gateway.ReasonOptedOut {
		t.Errorf("sms to the national form of the number after STOP: %+v; want dropped, opted_out", d)
	}
	if d := h.check("email", "marketing", email(ana)); !d.Allowed {
		t.Errorf("email after an SMS STOP: %+v; want allowed", d)
	}
	v := h.customer("phone:" + mobile)
	if len(v.OptOuts) != 1 || v.OptOuts[0].Channel != gateway.ChannelSMS || !v.OptOuts[0].Active() {
		t.Errorf("customer opt-outs %+v; want one active on sms", v.OptOuts)
	}

	// Opt-outs are not temporary: a month later it still holds.
	clock.Advance(45 * day)
	if d := h.check("sms", "marketing", phone(mobile)); d.Allowed || d.Reason != gateway.ReasonOptedOut {
		t.Errorf("sms 45 days after STOP: %+v; want still opted_out", d)
	}

	h.event(map[string]any{"type": "consent.optin", "customer": who, "channel": "sms", "text": "START"})
	if d := h.check("sms", "marketing", phone(mobile)); !d.Allowed {
		t.Errorf("sms after START: %+v; want allowed", d)
	}
	v = h.customer("phone:" + mobile)
	if len(v.OptOuts) != 1 || v.OptOuts[0].Active() {
		t.Errorf("customer opt-outs after START %+v; want the one, lifted", v.OptOuts)
	}
}

// TestIncidentSilencesEveryone: an incident opened through the admin API holds back
// proactive contact for everybody, lets incident notices through, and ends on resolve.
func TestIncidentSilencesEveryone(t *testing.T) {
	clock := newTestClock(t0)
	h := startHush(t, clock, hushOptions{})
	h.event(map[string]any{"type": "survey.response", "customer": customerOf(ana), "csat": 5})

	var inc gateway.Incident
	h.api(http.MethodPost, "/api/v1/incidents", map[string]any{"title": "Payments are down", "scope": "all"}, http.StatusCreated, &inc)
	if inc.ID == "" || inc.ResolvedAt != nil {
		t.Fatalf("opened incident %+v; want an id, not resolved", inc)
	}

	// A known customer and one hush has never heard of are both covered.
	for _, to := range []string{ana, "stranger@example.org"} {
		d := h.check("email", "marketing", email(to))
		if d.Allowed || d.Reason != gateway.ReasonIncident || d.IncidentID != inc.ID {
			t.Errorf("marketing to %s during the incident: %+v; want dropped, incident %s", to, d, inc.ID)
		}
		if d := h.check("email", "incident", email(to)); !d.Allowed {
			t.Errorf("incident notice to %s: %+v; want allowed", to, d)
		}
		if d := h.check("email", "transactional", email(to)); !d.Allowed {
			t.Errorf("transactional to %s during the incident: %+v; want allowed", to, d)
		}
	}

	clock.Advance(2 * time.Hour)
	var resolved gateway.Incident
	h.api(http.MethodPost, "/api/v1/incidents/"+inc.ID+"/resolve", nil, http.StatusOK, &resolved)
	if resolved.ResolvedAt == nil {
		t.Errorf("resolved incident %+v; want resolved_at", resolved)
	}
	if d := h.check("email", "marketing", email(ana)); !d.Allowed {
		t.Errorf("marketing after the incident was resolved: %+v; want allowed", d)
	}
}

// TestQuietHoursFollowTheClock: the default quiet hours (21:00–09:00 for voice and SMS) are
// local time: a Spanish number is in Madrid (UTC+1 in November).
func TestQuietHoursFollowTheClock(t *testing.T) {
	evening := time.Date(2026, 11, 20, 21, 30, 0, 0, time.UTC) // 22:30 in Madrid
	clock := newTestClock(evening)
	h := startHush(t, clock, hushOptions{})
	const mobile = "+34600111222"

	opens := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC) // 09:00 in Madrid
	d := h.check("sms", "marketing", phone(mobile))
	if d.Allowed || d.Reason != gateway.ReasonQuietHours || !d.Defer || d.Until == nil || !d.Until.Equal(opens) {
		t.Errorf("sms at 22:30 Madrid: %+v; want deferred for quiet hours until %s", d, opens.Format(time.RFC3339))
	}
	if d := h.check("email", "marketing", email(ana)); !d.Allowed {
		t.Errorf("email at 22:30 Madrid: %+v; want allowed (quiet hours are for voice and SMS)", d)
	}
	if d := h.check("sms", "transactional", phone(mobile)); !d.Allowed {
		t.Errorf("transactional sms at 22:30 Madrid: %+v; want allowed", d)
	}

	clock.Set(opens.Add(-time.Minute))
	if d := h.check("sms", "marketing", phone(mobile)); d.Allowed || d.Reason != gateway.ReasonQuietHours {
		t.Errorf("sms at 08:59 Madrid: %+v; want still quiet hours", d)
	}
	clock.Set(opens)
	if d := h.check("sms", "marketing", phone(mobile)); !d.Allowed {
		t.Errorf("sms at 09:00 Madrid: %+v; want allowed", d)
	}
}

// TestWebhookSignatureRefusals: a delivery signed with another secret, or stamped outside
// the 5-minute tolerance of hush's clock, is refused with 401 and changes nothing.
func TestWebhookSignatureRefusals(t *testing.T) {
	clock := newTestClock(t0)
	h := startHush(t, clock, hushOptions{})
	body := []byte(`{"type":"survey.response","customer":{"email":"ana@example.com"},"csat":1}`)

	tests := []struct {
		name   string
		secret string
		at     time.Time
	}{
		{"wrong secret", "some-other-secret-0123456789", t0},
		{"six minutes old", genericSecret, t0.Add(-6 * time.Minute)},
		{"six minutes ahead", genericSecret, t0.Add(6 * time.Minute)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, b := h.webhookSignedWith(tt.secret, tt.at, newDeliveryID(), body)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("status %d (%s), want 401", resp.StatusCode, b)
			}
		})
	}
	if d := h.check("email", "marketing", email(ana)); !d.Allowed {
		t.Errorf("after refused deliveries ana is %+v; want allowed", d)
	}
	h.api(http.MethodGet, "/api/v1/customers/"+anaID, nil, http.StatusNotFound, nil)

	// Four minutes is within tolerance: the same delivery is accepted.
	resp, b := h.webhookSignedWith(genericSecret, t0.Add(-4*time.Minute), newDeliveryID(), body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("delivery stamped 4 minutes ago: %d %s; want accepted", resp.StatusCode, b)
	}
	if d := h.check("email", "marketing", email(ana)); d.Allowed {
		t.Errorf("after the accepted delivery ana is %+v; want silenced", d)
	}
}
