package policy

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// TestDecisionOrder stacks every reason on one recipient and removes them from the top: each
// reason must beat every reason below it.
func TestDecisionOrder(t *testing.T) {
	layers := []string{gateway.ReasonIncident, gateway.ReasonOptedOut, gateway.ReasonSilenced, gateway.ReasonQuietHours, gateway.ReasonFrequencyCap, ""}
	ana := phone("+12125550100") // New York: engineStart (10:00 UTC) is 05:00 there
	for k, want := range layers {
		name := want
		if name == "" {
			name = "allowed"
		}
		t.Run(name, func(t *testing.T) {
			on := func(reason string) bool {
				for _, l := range layers[k:] {
					if l == reason {
						return true
					}
				}
				return false
			}
			cfg := Config{DefaultRegion: "ES"}
			if on(gateway.ReasonFrequencyCap) {
				cfg.Caps = []gateway.CapSpec{{Channel: "sms", Category: "marketing", Max: 1, Per: dayDur(30)}}
			}
			if on(gateway.ReasonQuietHours) {
				cfg.QuietHours = []gateway.QuietHoursSpec{{Channels: []gateway.Channel{"sms"}, From: "21:00", To: "09:00", Action: "drop"}}
			}
			h := newHarness(t, cfg)
			ctx := context.Background()
			h.ingest(gateway.Event{ID: "e1", Source: "test", Type: gateway.EventTicketOpened, At: engineStart.Add(-time.Hour),
				Customer: gateway.EventCustomer{Phone: "+1 212 555 0100", Tags: []string{"vip"}}})
			// A send yesterday at 09:00 New York time, outside quiet hours, fills the cap.
			if d := h.decideAt(engineStart.Add(-20*time.Hour), gateway.ChannelSMS, gateway.CategoryMarketing, true, ana)[0]; !d.Allowed {
				t.Fatalf("filling the cap: %+v", d)
			}
			if on(gateway.ReasonSilenced) {
				if _, err := h.e.CreateSilence(ctx, gateway.SilenceInput{Identity: ana, For: 24 * time.Hour, Channels: []gateway.Channel{"sms"}}); err != nil {
					t.Fatal(err)
				}
			}
			if on(gateway.ReasonOptedOut) {
				if _, err := h.e.CreateOptOut(ctx, gateway.OptOutInput{Identity: ana, Channel: "sms"}); err != nil {
					t.Fatal(err)
				}
			}
			if on(gateway.ReasonIncident) {
				if _, err := h.e.OpenIncident(ctx, gateway.IncidentInput{Title: "outage", Scope: "tag:vip"}); err != nil {
					t.Fatal(err)
				}
			}
			wantReason(t, h.decide1(gateway.ChannelSMS, gateway.CategoryMarketing, ana), want)
			wantReason(t, h.decide1(gateway.ChannelSMS, gateway.CategoryTransactional, ana), "")
			wantReason(t, h.decide1(gateway.ChannelSMS, gateway.CategoryService, ana), "")
		})
	}
}

func TestUnknownCategoryIsMarketing(t *testing.T) {
	h := newHarness(t, Config{})
	if _, err := h.e.CreateSilence(context.Background(), gateway.SilenceInput{Identity: email("ana@example.com"), For: time.Hour, Categories: []gateway.Category{"marketing"}}); err != nil {
		t.Fatal(err)
	}
	d := h.decide1(gateway.ChannelEmail, "newsletter", email("ana@example.com"))
	wantReason(t, d, gateway.ReasonSilenced)
	if d.Category != gateway.CategoryMarketing {
		t.Fatalf("category = %q", d.Category)
	}
	if _, err := h.e.Decide(context.Background(), gateway.DecisionRequest{Channel: "fax", Recipients: []gateway.Identity{email("a@example.com")}}); gateway.ErrorCodeOf(err) != gateway.CodeInvalid {
		t.Fatalf("unknown channel: err = %v", err)
	}
}

func TestCapsAreExactUnderConcurrency(t *testing.T) {
	h := newHarness(t, Config{DefaultRegion: "ES", Caps: []gateway.CapSpec{{Channel: "voice", Category: "sales", Max: 3, Per: dayDur(30)}}})
	ctx := context.Background()
	who := phone("+34600111222") // unknown to hush: the first recorded send creates the customer
	const callers = 50
	results := make([]gateway.Decision, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			ds, err := h.e.Decide(ctx, gateway.DecisionRequest{Channel: "voice", Category: "sales", Recipients: []gateway.Identity{who}, Record: true})
			if err != nil {
				t.Errorf("Decide: %v", err)
				return
			}
			results[i] = ds[0]
		})
	}
	wg.Wait()
	var allowed []gateway.Decision
	for _, d := range results {
		if d.Allowed {
			allowed = append(allowed, d)
			if d.ContactID == "" {
				t.Fatal("allowed recorded send without a cap reservation")
			}
			continue
		}
		wantReason(t, d, gateway.ReasonFrequencyCap)
		if d.Cap != "voice/sales 3 per 30d" || d.Until == nil || !d.Until.Equal(engineStart.Add(30*24*time.Hour)) {
			t.Fatalf("dropped decision = %+v", d)
		}
	}
	if len(allowed) != 3 {
		t.Fatalf("%d of %d concurrent sends allowed, want exactly 3", len(allowed), callers)
	}
	if n := len(h.decisions()); n != callers {
		t.Fatalf("%d decisions recorded, want %d", n, callers)
	}
	if h.customer(who) == nil {
		t.Fatal("no customer was created for the cap")
	}

	// A dry check answers without counting or recording.
	wantReason(t, h.decide1(gateway.ChannelVoice, gateway.CategorySales, who), gateway.ReasonFrequencyCap)
	wantReason(t, h.decide1(gateway.ChannelVoice, gateway.CategoryMarketing, who), "")
	if n := len(h.decisions()); n != callers {
		t.Fatalf("a dry check recorded decisions: %d", n)
	}

	// A failed send gives its slot back, once.
	if err := h.e.Release(ctx, allowed[:1]); err != nil {
		t.Fatal(err)
	}
	wantReason(t, h.decide1(gateway.ChannelVoice, gateway.CategorySales, who), "")
	if d := h.decideAt(time.Time{}, gateway.ChannelVoice, gateway.CategorySales, true, who)[0]; !d.Allowed {
		t.Fatalf("after release: %+v", d)
	}
	wantReason(t, h.decideAt(time.Time{}, gateway.ChannelVoice, gateway.CategorySales, true, who)[0], gateway.ReasonFrequencyCap)
}

func TestCapUntilIsWhenTheOldestCountedContactLeaves(t *testing.T) {
	h := newHarness(t, Config{Caps: []gateway.CapSpec{
		{Channel: "any", Category: "marketing", Max: 2, Per: dayDur(30)},
		{Channel: "email", Category: "any", Max: 10, Per: dayDur(1)},
	}})
	who := email("ana@example.com")
	for _, ago := range []time.Duration{40 * 24 * time.Hour, 10*24*time.Hour + 90*time.Minute + 500*time.Millisecond, 24 * time.Hour} {
		if d := h.decideAt(engineStart.Add(-ago), gateway.ChannelSMS, gateway.CategoryMarketing, true, who)[0]; !d.Allowed {
			t.Fatalf("send %v ago: %+v", ago, d)
		}
	}
	d := h.decideAt(engineStart, gateway.ChannelEmail, gateway.CategoryMarketing, false, who)[0]
	wantReason(t, d, gateway.ReasonFrequencyCap)
	oldest := engineStart.Add(-(10*24*time.Hour + 90*time.Minute + 500*time.Millisecond))
	want := oldest.Add(30 * 24 * time.Hour).Truncate(time.Second).Add(time.Second) // rounded up to the second
	if d.Cap != "any/marketing 2 per 30d" || d.Until == nil || !d.Until.Equal(want) {
		t.Fatalf("cap %q until %v, want any/marketing until %v", d.Cap, d.Until, want)
	}
	wantReason(t, h.decideAt(*d.Until, gateway.ChannelEmail, gateway.CategoryMarketing, false, who)[0], "")
}

func TestQuietHours(t *testing.T) {
	at := time.Date(2026, 11, 20, 13, 30, 0, 0, time.UTC)
	quiet := []gateway.QuietHoursSpec{{Channels: []gateway.Channel{"voice", "sms"}, From: "21:00", To: "09:00", Action: "defer"}}
	h := newHarness(t, Config{QuietHours: quiet, Timezone: "Asia/Tokyo", DefaultRegion: "ES"})
	h.ingest(
		gateway.Event{ID: "la", Source: "test", Type: gateway.EventTicketOpened, At: engineStart, Customer: gateway.EventCustomer{Phone: "+34600999888", Timezone: "America/Los_Angeles"}},
		gateway.Event{ID: "ny", Source: "test", Type: gateway.EventTicketOpened, At: engineStart, Customer: gateway.EventCustomer{Email: "ny@example.com", Phone: "+12125550199"}},
	)
	tests := []struct {
		name  string
		ch    gateway.Channel
		who   gateway.Identity
		until time.Time // zero: allowed
	}{
		{"unknown +1 number at 08:30 New York", gateway.ChannelVoice, phone("+12125550100"), time.Date(2026, 11, 20, 14, 0, 0, 0, time.UTC)},
		{"unknown +34 number at 14:30 Madrid", gateway.ChannelVoice, phone("+34600111222"), time.Time{}},
		{"customer's own timezone beats the phone's country", gateway.ChannelSMS, phone("+34600999888"), time.Date(2026, 11, 20, 17, 0, 0, 0, time.UTC)},
		{"known customer's phone country, asked by email", gateway.ChannelSMS, email("ny@example.com"), time.Date(2026, 11, 20, 14, 0, 0, 0, time.UTC)},
		{"fallback zone, window wrapping midnight", gateway.ChannelSMS, email("tokyo@example.com"), time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)},
		{"channel without quiet hours", gateway.ChannelEmail, phone("+12125550100"), time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := h.decideAt(at, tt.ch, gateway.CategoryMarketing, false, tt.who)[0]
			if tt.until.IsZero() {
				wantReason(t, d, "")
				return
			}
			wantReason(t, d, gateway.ReasonQuietHours)
			if !d.Defer || d.Until == nil || !d.Until.Equal(tt.until) {
				t.Fatalf("defer=%v until=%v, want defer until %v", d.Defer, d.Until, tt.until)
			}
		})
	}
	// 09:00 sharp in New York is outside the window.
	wantReason(t, h.decideAt(time.Date(2026, 11, 20, 14, 0, 0, 0, time.UTC), gateway.ChannelVoice, gateway.CategoryMarketing, false, phone("+12125550100"))[0], "")

	quiet[0].Action = "drop"
	drop := newHarness(t, Config{QuietHours: quiet, Timezone: "Asia/Tokyo"})
	d := drop.decideAt(at, gateway.ChannelSMS, gateway.CategoryMarketing, false, email("tokyo@example.com"))[0]
	wantReason(t, d, gateway.ReasonQuietHours)
	if d.Defer {
		t.Fatal("action drop answered defer")
	}
}

func TestDecideRecordsShadowDecisions(t *testing.T) {
	h := newHarness(t, Config{})
	who := email("ana@example.com")
	if _, err := h.e.CreateSilence(context.Background(), gateway.SilenceInput{Identity: who, For: time.Hour}); err != nil {
		t.Fatal(err)
	}
	ds, err := h.e.Decide(context.Background(), gateway.DecisionRequest{Channel: "email", Category: "marketing", Upstream: "sendgrid",
		Recipients: []gateway.Identity{who, email("bob@example.com")}, Record: true, Shadow: true})
	if err != nil {
		t.Fatal(err)
	}
	wantReason(t, ds[0], gateway.ReasonSilenced)
	wantReason(t, ds[1], "")
	stored := h.decisions()
	if len(stored) != 2 {
		t.Fatalf("%d decisions stored", len(stored))
	}
	for _, d := range stored {
		if !d.Shadow || d.Upstream != "sendgrid" || d.ID == "" {
			t.Fatalf("stored decision = %+v", d)
		}
	}
}
