package policy

import (
	"context"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// The console's stacked chart needs each day's avoided contacts split by reason; the split
// must add up to the day's total and leave out what is not avoided (allowed, shadow, deferred).
func TestReportContactsAvoidedByDayReason(t *testing.T) {
	h := newHarness(t, Config{
		Rules:         mustRules(t, lowCSAT),
		DefaultRegion: "ES",
		QuietHours:    []gateway.QuietHoursSpec{{Channels: []gateway.Channel{"voice"}, From: "00:00", To: "23:59", Action: "defer"}},
	})
	ctx := context.Background()
	h.clock.Set(engineStart.Add(-2 * 24 * time.Hour)) // the silence and opt-out precede both days
	if _, err := h.e.CreateSilence(ctx, gateway.SilenceInput{Identity: email("ana@example.com"), For: 30 * 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.e.CreateOptOut(ctx, gateway.OptOutInput{Identity: phone("+34600111222"), Channel: "sms"}); err != nil {
		t.Fatal(err)
	}
	decide := func(at time.Time, ch gateway.Channel, shadow bool, ids ...gateway.Identity) {
		t.Helper()
		if _, err := h.e.Decide(ctx, gateway.DecisionRequest{Channel: ch, Category: "marketing", Recipients: ids, Record: true, Shadow: shadow, At: at}); err != nil {
			t.Fatal(err)
		}
	}
	h.clock.Set(engineStart)
	day1, day2 := engineStart.Add(-24*time.Hour), engineStart
	decide(day1, gateway.ChannelEmail, false, email("ana@example.com"), email("bob@example.com")) // silenced + allowed
	decide(day1, gateway.ChannelSMS, false, phone("+34600111222"))                                // opted out
	decide(day2, gateway.ChannelEmail, false, email("ana@example.com"))                           // silenced
	decide(day2, gateway.ChannelEmail, true, email("ana@example.com"))                            // shadow: not avoided
	decide(day2, gateway.ChannelVoice, false, email("bob@example.com"))                           // deferred: not avoided

	r, err := h.e.Report(ctx, engineStart.Add(-7*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	d1, d2 := day1.Format(time.DateOnly), day2.Format(time.DateOnly)
	want := map[string]map[string]int{
		d1: {gateway.ReasonSilenced: 1, gateway.ReasonOptedOut: 1},
		d2: {gateway.ReasonSilenced: 1},
	}
	if len(r.ContactsAvoidedByDayReason) != len(want) {
		t.Fatalf("by day and reason = %v, want %v", r.ContactsAvoidedByDayReason, want)
	}
	for day, reasons := range want {
		got := r.ContactsAvoidedByDayReason[day]
		if len(got) != len(reasons) {
			t.Fatalf("%s: %v, want %v", day, got, reasons)
		}
		sum := 0
		for reason, n := range reasons {
			if got[reason] != n {
				t.Errorf("%s %s = %d, want %d", day, reason, got[reason], n)
			}
			sum += got[reason]
		}
		if sum != r.ContactsAvoidedByDay[day] {
			t.Errorf("%s: reasons add up to %d, the day's total is %d", day, sum, r.ContactsAvoidedByDay[day])
		}
	}
}

// The per-reason days are the configured timezone's: 02:00 UTC on the 20th is still the
// 19th in New York.
func TestReportDaysByReasonInTheConfiguredTimezone(t *testing.T) {
	h := newHarness(t, Config{DefaultRegion: "ES", Timezone: "America/New_York"})
	ctx := context.Background()
	h.clock.Set(engineStart.Add(-2 * 24 * time.Hour))
	if _, err := h.e.CreateOptOut(ctx, gateway.OptOutInput{Identity: phone("+34600111222"), Channel: "sms"}); err != nil {
		t.Fatal(err)
	}
	h.clock.Set(engineStart)
	at := time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)
	if _, err := h.e.Decide(ctx, gateway.DecisionRequest{Channel: gateway.ChannelSMS, Category: "marketing", Recipients: []gateway.Identity{phone("+34600111222")}, Record: true, At: at}); err != nil {
		t.Fatal(err)
	}
	r, err := h.e.Report(ctx, engineStart.Add(-7*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got := r.ContactsAvoidedByDayReason["2026-11-19"][gateway.ReasonOptedOut]; got != 1 || len(r.ContactsAvoidedByDayReason) != 1 {
		t.Fatalf("by day and reason = %v, want the opt-out on 2026-11-19", r.ContactsAvoidedByDayReason)
	}
	if r.ContactsAvoidedByDay["2026-11-20"] != 1 {
		t.Fatalf("UTC days = %v, want 2026-11-20", r.ContactsAvoidedByDay)
	}
}
