package policy

import (
	"context"
	"fmt"
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

// The ROI figures over a hand-built history: every record below is counted or left out for a
// stated reason, so each figure has one right answer.
func TestReportROIFigures(t *testing.T) {
	h := newHarness(t, Config{DefaultRegion: "ES", Costs: map[gateway.Channel]float64{"email": 0.5, "sms": 2}})
	ctx := context.Background()
	now := engineStart
	day := func(n int) time.Time { return now.Add(time.Duration(n) * 24 * time.Hour) }
	ptr := func(t time.Time) *time.Time { return &t }
	silences := []gateway.Silence{
		{ID: "s-ended", Rule: "low-csat", Start: day(-10), End: ptr(day(-5))},                              // ended: 5d
		{ID: "s-lifted", Rule: "low-csat", Start: day(-8), End: ptr(day(7)), LiftedAt: ptr(day(-6))},       // lifted: 2d
		{ID: "s-manual", Start: day(-4), End: ptr(day(-1))},                                                // ended: 3d
		{ID: "s-ticket", Rule: "open-ticket", Start: day(-20), End: ptr(day(-3))},                          // ended: 17d
		{ID: "s-old", Rule: "low-csat", Start: day(-60), End: ptr(day(-40))},                               // ended before the period
		{ID: "s-old-lift", Rule: "low-csat", Start: day(-60), End: ptr(day(-10)), LiftedAt: ptr(day(-45))}, // lifted before the period
		{ID: "s-running", Rule: "low-csat", Start: day(-2), End: ptr(day(10))},                             // still in force
		{ID: "s-open", Rule: "open-ticket", Start: day(-2), UntilResolved: true},                           // waits for its topic
		{ID: "s-shadow", Rule: "trial", Start: day(-3), End: ptr(day(-1)), Shadow: true},                   // enforced nothing
		{ID: "s-control", Rule: "low-csat", Start: day(-3), End: ptr(day(-1)), Control: true},              // a control group's: withheld nothing
	}
	email, sms, voice := gateway.ChannelEmail, gateway.ChannelSMS, gateway.ChannelVoice
	decisions := []gateway.Decision{
		{At: day(-6), Channel: email, Reason: gateway.ReasonSilenced, Rule: "low-csat", SilenceID: "s-ended"},
		{At: day(-3), Channel: email, Reason: gateway.ReasonSilenced, SilenceID: "s-manual"}, // a person's silence
		{At: day(-5), Channel: sms, Reason: gateway.ReasonSilenced, SilenceID: "s-ticket"},   // no rule on the decision: the silence's
		{At: day(-2), Channel: sms, Reason: gateway.ReasonOptedOut, OptOutID: "o-1"},
		{At: day(-2), Channel: voice, Reason: gateway.ReasonIncident, IncidentID: "i-1"}, // voice has no cost
		{At: day(-1), Channel: email, Reason: gateway.ReasonFrequencyCap, Cap: "email/marketing 1 per 1d"},
		{At: day(-1), Channel: email, Allowed: true},                                                                      // allowed
		{At: day(-1), Channel: email, Reason: gateway.ReasonSilenced, Rule: "trial", SilenceID: "s-shadow", Shadow: true}, // shadow
		{At: day(-1), Channel: voice, Reason: gateway.ReasonQuietHours, Defer: true},                                      // deferred
		{At: day(-40), Channel: email, Reason: gateway.ReasonSilenced, Rule: "low-csat", SilenceID: "s-old"},              // before the period
	}
	outbox := []gateway.OutboxMessage{
		{Kind: gateway.OutboxAlert, Target: "retention", DeliveredAt: ptr(day(-2))},
		{Kind: gateway.OutboxAlert, Target: "retention", DeliveredAt: ptr(day(-3))},
		{Kind: gateway.OutboxAlert, Target: "vip-desk", DeliveredAt: ptr(day(-1))},
		{Kind: gateway.OutboxAlert, Target: "vip-desk", DeliveredAt: ptr(day(-1)), DeadAt: ptr(day(-2))}, // a late success is a success
		{Kind: gateway.OutboxAlert, Target: "retention", DeliveredAt: ptr(day(-40))},                     // before the period
		{Kind: gateway.OutboxAlert, Target: "retention"},                                                 // pending
		{Kind: gateway.OutboxFollowUp, Target: "call-back", DeliveredAt: ptr(day(-1))},
		{Kind: gateway.OutboxFollowUp, Target: "call-back", DeliveredAt: ptr(day(-35))}, // before the period
		{Kind: gateway.OutboxAlert, Target: "retention", DeadAt: ptr(day(-2))},
		{Kind: gateway.OutboxFollowUp, Target: "call-back", DeadAt: ptr(day(-1))},
		{Kind: gateway.OutboxAlert, Target: "retention", DeadAt: ptr(day(-50))},            // before the period
		{Kind: gateway.OutboxSilenceEnded, Target: "retention", DeliveredAt: ptr(day(-1))}, // not an alert
	}
	err := h.store.Update(ctx, func(tx gateway.Tx) error {
		for i := range silences {
			s := &silences[i]
			s.CustomerID, s.Identity, s.CreatedAt, s.UpdatedAt = "c-1", "email:ana@example.com", s.Start, s.Start
			s.CreatedBy = "rule:" + s.Rule
			if s.Rule == "" {
				s.CreatedBy = "admin:ops"
			}
			if err := tx.PutSilence(s); err != nil {
				return err
			}
		}
		for i := range decisions {
			d := &decisions[i]
			d.CustomerID, d.Recipient, d.Category = "c-1", "email:ana@example.com", "marketing"
			if err := tx.PutDecision(d); err != nil {
				return err
			}
		}
		for i := range outbox {
			m := &outbox[i]
			m.ID, m.CreatedAt, m.NextAttempt, m.Payload = fmt.Sprintf("m-%02d", i), day(-60), day(-60), []byte(`{}`)
			if err := tx.PutOutbox(m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	r, err := h.e.Report(ctx, day(-30))
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, "contacts avoided by channel", r.ContactsAvoidedByChannel, map[string]int{"email": 3, "sms": 2, "voice": 1})
	checkCounts(t, "contacts avoided by reason", r.ContactsAvoidedByReason, map[string]int{
		gateway.ReasonSilenced: 3, gateway.ReasonOptedOut: 1, gateway.ReasonIncident: 1, gateway.ReasonFrequencyCap: 1})
	checkCounts(t, "contacts avoided by rule", r.ContactsAvoidedByRule, map[string]int{"low-csat": 1, "manual": 1, "open-ticket": 1})
	if r.ContactsAvoided != 6 {
		t.Errorf("contacts avoided = %d, want 6", r.ContactsAvoided)
	}
	if len(r.CostAvoidedByChannel) != 2 || r.CostAvoidedByChannel["email"] != 1.5 || r.CostAvoidedByChannel["sms"] != 4 || r.CostAvoided != 5.5 {
		t.Errorf("cost avoided = %v by channel %v, want 5.5: email 1.5, sms 4", r.CostAvoided, r.CostAvoidedByChannel)
	}
	if r.SilencesLifted != 4 {
		t.Errorf("silences lifted = %d, want 4", r.SilencesLifted)
	}
	checkCounts(t, "silences lifted by", r.SilencesLiftedBy, map[string]int{"end": 3, "person": 1})
	// 2d, 3d, 5d, 17d: an even count, so the mean of the middle two.
	if want := gateway.Duration(4 * 24 * time.Hour); r.MedianSilenceLength != want {
		t.Errorf("median silence length = %v, want %v", r.MedianSilenceLength, want)
	}
	if r.AlertsSent != 4 || r.FollowUpsSent != 1 || r.AlertsGivenUp != 2 {
		t.Errorf("alerts sent %d, follow-ups %d, given up %d; want 4, 1, 2", r.AlertsSent, r.FollowUpsSent, r.AlertsGivenUp)
	}
	checkCounts(t, "alerts sent by name", r.AlertsSentByName, map[string]int{"retention": 2, "vip-desk": 2})
}

func checkCounts(t *testing.T, what string, got, want map[string]int) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s = %v, want %v", what, got, want)
		return
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s = %v, want %v", what, got, want)
			return
		}
	}
}

func TestMedianDuration(t *testing.T) {
	h := time.Hour
	for _, tc := range []struct {
		in   []time.Duration
		want time.Duration
	}{
		{nil, 0},
		{[]time.Duration{5 * h}, 5 * h},
		{[]time.Duration{9 * h, 1 * h, 4 * h}, 4 * h},                    // odd: the middle one, whatever the order
		{[]time.Duration{8 * h, 1 * h, 2 * h, 3 * h}, 150 * time.Minute}, // even: the mean of 2h and 3h
		{[]time.Duration{1 << 62, 1 << 62}, 1 << 62},                     // no overflow adding the two middle ones
	} {
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
