package policy

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

func TestCreateSilenceValidates(t *testing.T) {
	who := email("ana@example.com")
	tests := []struct {
		name string
		in   gateway.SilenceInput
	}{
		{"no identity", gateway.SilenceInput{For: time.Hour}},
		{"no length", gateway.SilenceInput{Identity: who}},
		{"both for and until", gateway.SilenceInput{Identity: who, For: time.Hour, Until: engineStart.Add(2 * time.Hour)}},
		{"until in the past", gateway.SilenceInput{Identity: who, Until: engineStart.Add(-time.Minute)}},
		{"negative for", gateway.SilenceInput{Identity: who, For: -time.Hour}},
		{"unknown category", gateway.SilenceInput{Identity: who, For: time.Hour, Categories: []gateway.Category{"promo"}}},
		{"unknown channel", gateway.SilenceInput{Identity: who, For: time.Hour, Channels: []gateway.Channel{"fax"}}},
	}
	h := newHarness(t, Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := h.e.CreateSilence(context.Background(), tt.in); gateway.ErrorCodeOf(err) != gateway.CodeInvalid {
				t.Fatalf("err = %v, want invalid", err)
			}
		})
	}
	if c := h.customer(who); c != nil {
		t.Fatal("a rejected silence created a customer")
	}
}

func TestSilenceLifecycle(t *testing.T) {
	h := newHarness(t, Config{})
	ctx := context.Background()
	who := email("new@example.com") // never seen: the silence creates the customer
	s, err := h.e.CreateSilence(ctx, gateway.SilenceInput{Identity: who, Until: engineStart.Add(48 * time.Hour), Reason: "asked for a break", CreatedBy: "admin:ops"})
	if err != nil {
		t.Fatal(err)
	}
	if s.ID == "" || !s.Start.Equal(engineStart) || !s.End.Equal(engineStart.Add(48*time.Hour)) || len(s.Categories) != 3 || s.CreatedBy != "admin:ops" || s.Source != gateway.SilenceSourceAdmin {
		t.Fatalf("silence = %+v", s)
	}
	if c := h.customer(who); c == nil || c.ID != s.CustomerID {
		t.Fatalf("customer = %+v", c)
	}
	wantReason(t, h.decide1(gateway.ChannelPush, gateway.CategorySurvey, who), gateway.ReasonSilenced)

	h.clock.Set(engineStart.Add(time.Hour))
	lifted, err := h.e.LiftSilence(ctx, s.ID, "admin:ops", "customer called back")
	if err != nil {
		t.Fatal(err)
	}
	if lifted.LiftedAt == nil || !lifted.LiftedAt.Equal(engineStart.Add(time.Hour)) || lifted.LiftReason != "customer called back" {
		t.Fatalf("lifted = %+v", lifted)
	}
	wantReason(t, h.decide1(gateway.ChannelPush, gateway.CategorySurvey, who), "")
	if _, err := h.e.LiftSilence(ctx, s.ID, "admin:ops", "again"); gateway.ErrorCodeOf(err) != gateway.CodeConflict {
		t.Fatalf("second lift: %v", err)
	}
	if _, err := h.e.LiftSilence(ctx, "sil_missing", "admin:ops", ""); gateway.ErrorCodeOf(err) != gateway.CodeNotFound {
		t.Fatalf("missing silence: %v", err)
	}
}

func TestOptOutAndIncidentAdmin(t *testing.T) {
	h := newHarness(t, Config{})
	ctx := context.Background()
	who := email("ana@example.com")
	o, err := h.e.CreateOptOut(ctx, gateway.OptOutInput{Identity: who, Channel: "email", Reason: "unsubscribed"})
	if err != nil {
		t.Fatal(err)
	}
	again, err := h.e.CreateOptOut(ctx, gateway.OptOutInput{Identity: who, Channel: "email"})
	if err != nil || again.ID != o.ID {
		t.Fatalf("second opt-out = %+v, %v; want the first", again, err)
	}
	wantReason(t, h.decide1(gateway.ChannelEmail, gateway.CategoryMarketing, who), gateway.ReasonOptedOut)
	if _, err := h.e.LiftOptOut(ctx, o.ID, "admin:ops", "opted in by phone"); err != nil {
		t.Fatal(err)
	}
	wantReason(t, h.decide1(gateway.ChannelEmail, gateway.CategoryMarketing, who), "")
	if _, err := h.e.LiftOptOut(ctx, o.ID, "admin:ops", ""); gateway.ErrorCodeOf(err) != gateway.CodeConflict {
		t.Fatalf("second lift: %v", err)
	}
	if _, err := h.e.CreateOptOut(ctx, gateway.OptOutInput{Identity: who, Channel: "fax"}); gateway.ErrorCodeOf(err) != gateway.CodeInvalid {
		t.Fatalf("bad channel: %v", err)
	}

	if _, err := h.e.OpenIncident(ctx, gateway.IncidentInput{Title: "x", Scope: "segment:1"}); gateway.ErrorCodeOf(err) != gateway.CodeInvalid {
		t.Fatalf("bad scope: %v", err)
	}
	inc, err := h.e.OpenIncident(ctx, gateway.IncidentInput{Title: "Payments down", Channels: []gateway.Channel{"sms"}})
	if err != nil {
		t.Fatal(err)
	}
	wantReason(t, h.decide1(gateway.ChannelSMS, gateway.CategoryMarketing, who), gateway.ReasonIncident)
	wantReason(t, h.decide1(gateway.ChannelEmail, gateway.CategoryMarketing, who), "")
	if _, err := h.e.ResolveIncident(ctx, inc.ID, "admin:ops"); err != nil {
		t.Fatal(err)
	}
	wantReason(t, h.decide1(gateway.ChannelSMS, gateway.CategoryMarketing, who), "")
	if _, err := h.e.ResolveIncident(ctx, inc.ID, "admin:ops"); gateway.ErrorCodeOf(err) != gateway.CodeConflict {
		t.Fatalf("second resolve: %v", err)
	}
	if _, err := h.e.ResolveIncident(ctx, "inc_missing", "admin:ops"); gateway.ErrorCodeOf(err) != gateway.CodeNotFound {
		t.Fatalf("missing incident: %v", err)
	}
}

func TestLinkAndErase(t *testing.T) {
	h := newHarness(t, Config{DefaultRegion: "ES"})
	ctx := context.Background()
	a, b := email("ana@example.com"), phone("+34600111222")
	if _, err := h.e.CreateSilence(ctx, gateway.SilenceInput{Identity: b, For: time.Hour}); err != nil {
		t.Fatal(err)
	}
	h.ingest(event("e1", gateway.EventTicketOpened, engineStart, "ana@example.com"))
	c, err := h.e.LinkIdentities(ctx, a, []gateway.Identity{b, "zendesk:8841"})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Identities) != 3 {
		t.Fatalf("linked customer = %+v", c)
	}
	wantReason(t, h.decide1(gateway.ChannelEmail, gateway.CategoryMarketing, a), gateway.ReasonSilenced)
	if v, _ := h.e.Snapshot().Customer("zendesk:8841"); v.ID != c.ID {
		t.Fatalf("snapshot vendor id → %q, want %q", v.ID, c.ID)
	}

	if err := h.e.EraseCustomer(ctx, b); err != nil {
		t.Fatal(err)
	}
	for _, id := range []gateway.Identity{a, b, "zendesk:8841"} {
		if _, ok := h.e.Snapshot().Customer(id); ok {
			t.Fatalf("%s still in the snapshot after erasure", id)
		}
		if h.customer(id) != nil {
			t.Fatalf("%s still in the store after erasure", id)
		}
	}
	wantReason(t, h.decide1(gateway.ChannelEmail, gateway.CategoryMarketing, a), "")
	if err := h.e.EraseCustomer(ctx, b); gateway.ErrorCodeOf(err) != gateway.CodeNotFound {
		t.Fatalf("erasing twice: %v", err)
	}
}

func TestReport(t *testing.T) {
	h := newHarness(t, Config{
		Rules:         mustRules(t, lowCSAT),
		DefaultRegion: "ES",
		Costs:         map[gateway.Channel]float64{gateway.ChannelEmail: 0.001, gateway.ChannelSMS: 0.01},
		QuietHours:    []gateway.QuietHoursSpec{{Channels: []gateway.Channel{"voice"}, From: "00:00", To: "23:59", Action: "defer"}},
	})
	ctx := context.Background()
	h.ingest(event("e1", gateway.EventSurveyResponse, engineStart.Add(-3*24*time.Hour), "ana@example.com", withCSAT(1)))
	if _, err := h.e.CreateSilence(ctx, gateway.SilenceInput{Identity: email("old@example.com"), For: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.e.CreateOptOut(ctx, gateway.OptOutInput{Identity: phone("+34600111222"), Channel: "sms"}); err != nil {
		t.Fatal(err)
	}
	decide := func(at time.Time, ch gateway.Channel, upstream string, shadow bool, ids ...gateway.Identity) {
		if _, err := h.e.Decide(ctx, gateway.DecisionRequest{Channel: ch, Category: "marketing", Recipients: ids, Upstream: upstream, Record: true, Shadow: shadow, At: at}); err != nil {
			t.Fatal(err)
		}
	}
	day1, day2 := engineStart.Add(-24*time.Hour), engineStart
	decide(day1, gateway.ChannelEmail, "sendgrid", false, email("ana@example.com"), email("bob@example.com"))    // 1 silenced, 1 allowed
	decide(day2, gateway.ChannelSMS, "twilio", false, phone("+34600111222"))                                     // opted out
	decide(day2, gateway.ChannelEmail, "sendgrid", true, email("ana@example.com"))                               // shadow: not avoided
	decide(day2, gateway.ChannelVoice, "", false, email("bob@example.com"))                                      // deferred: not avoided
	decide(engineStart.Add(-10*24*time.Hour), gateway.ChannelEmail, "sendgrid", false, email("ana@example.com")) // before the period

	r, err := h.e.Report(ctx, engineStart.Add(-7*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if r.SilencesByRule["low-csat"] != 1 || r.SilencesByRule["manual"] != 1 || len(r.SilencesByRule) != 2 {
		t.Fatalf("silences by rule = %v", r.SilencesByRule)
	}
	wantByReason := map[string]int{"allowed": 1, gateway.ReasonSilenced: 2, gateway.ReasonOptedOut: 1, gateway.ReasonQuietHours: 1}
	if len(r.DecisionsByReason) != len(wantByReason) {
		t.Fatalf("by reason = %v, want %v", r.DecisionsByReason, wantByReason)
	}
	for k, v := range wantByReason {
		if r.DecisionsByReason[k] != v {
			t.Fatalf("by reason = %v, want %v", r.DecisionsByReason, wantByReason)
		}
	}
	if r.DecisionsByChannel["email"]["dropped"] != 2 || r.DecisionsByChannel["email"]["allowed"] != 1 || r.DecisionsByChannel["sms"]["dropped"] != 1 {
		t.Fatalf("by channel = %v", r.DecisionsByChannel)
	}
	if r.DecisionsByUpstream["sendgrid"]["dropped"] != 2 || r.DecisionsByUpstream["twilio"]["dropped"] != 1 || r.DecisionsByUpstream["api"]["dropped"] != 1 {
		t.Fatalf("by upstream = %v", r.DecisionsByUpstream)
	}
	if r.ContactsAvoided != 2 || r.ContactsAvoidedByDay["2026-11-19"] != 1 || r.ContactsAvoidedByDay["2026-11-20"] != 1 {
		t.Fatalf("avoided = %d by day %v", r.ContactsAvoided, r.ContactsAvoidedByDay)
	}
	if math.Abs(r.CostAvoided-0.011) > 1e-9 {
		t.Fatalf("cost avoided = %v, want 0.011", r.CostAvoided)
	}
}

func TestExtendSilence(t *testing.T) {
	h := newHarness(t, Config{})
	ctx := context.Background()
	who := email("ana@example.com")
	s, err := h.e.CreateSilence(ctx, gateway.SilenceInput{Identity: who, For: 24 * time.Hour, CreatedBy: "admin:ops"})
	if err != nil {
		t.Fatal(err)
	}
	later := engineStart.Add(72 * time.Hour)
	tests := []struct {
		name  string
		id    string
		until time.Time
		want  gateway.ErrorCode
	}{
		{"missing silence", "sil_missing", later, gateway.CodeNotFound},
		{"until in the past", s.ID, engineStart.Add(-time.Hour), gateway.CodeInvalid},
		{"until before the current end", s.ID, engineStart.Add(12 * time.Hour), gateway.CodeInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := h.e.ExtendSilence(ctx, tt.id, tt.until, "admin:ops", ""); gateway.ErrorCodeOf(err) != tt.want {
				t.Fatalf("err = %v, want %s", err, tt.want)
			}
		})
	}

	got, err := h.e.ExtendSilence(ctx, s.ID, later, "admin:ops", "still angry")
	if err != nil {
		t.Fatal(err)
	}
	if !got.End.Equal(later) || got.ExtendedBy != "admin:ops" || got.ExtendReason != "still angry" {
		t.Fatalf("extended = %+v", got)
	}
	// Past the old end, the decision still drops: the snapshot took the new end.
	h.clock.Set(engineStart.Add(48 * time.Hour))
	wantReason(t, h.decide1(gateway.ChannelEmail, gateway.CategoryMarketing, who), gateway.ReasonSilenced)
	h.clock.Set(later)
	wantReason(t, h.decide1(gateway.ChannelEmail, gateway.CategoryMarketing, who), "")

	// A lifted silence cannot be extended.
	h.clock.Set(engineStart)
	s2, err := h.e.CreateSilence(ctx, gateway.SilenceInput{Identity: who, For: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.e.LiftSilence(ctx, s2.ID, "admin:ops", "wrong"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.e.ExtendSilence(ctx, s2.ID, later, "admin:ops", ""); gateway.ErrorCodeOf(err) != gateway.CodeConflict {
		t.Fatalf("extending a lifted silence: %v", err)
	}
}
