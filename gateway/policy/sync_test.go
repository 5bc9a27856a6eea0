package policy

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// syncJobs lists the queued sync jobs as "upstream/customerID", in order.
func (h *harness) syncJobs() []string {
	h.t.Helper()
	var out []string
	for _, m := range h.outboxOf(gateway.OutboxSync) {
		if !m.NextAttempt.Equal(m.CreatedAt) || m.DueAt != (time.Time{}) {
			h.t.Errorf("sync job %s is not due at once: %+v", m.ID, m)
		}
		out = append(out, m.Target+"/"+m.CustomerID)
	}
	return out
}

func TestSyncJobsFollowSilenceChanges(t *testing.T) {
	rules := mustRules(t,
		gateway.RuleSpec{Name: "low-csat", When: `event.type == "survey.response" && event.csat <= 2`, Silence: &gateway.SilenceSpec{For: dayDur(15)}},
		gateway.RuleSpec{Name: "trial", When: `event.type == "survey.response" && event.csat == 3`, Silence: &gateway.SilenceSpec{For: dayDur(7)}, Shadow: true},
		gateway.RuleSpec{Name: "callbacks", When: `event.type == "ticket.opened"`, Silence: &gateway.SilenceSpec{UntilResolved: true, Then: dayDur(2)}},
	)
	h := newHarness(t, Config{Rules: rules, SyncUpstreams: []string{"sendgrid", "mailgun"}})
	ctx := context.Background()
	jobs := 0
	// expect checks that the last step queued exactly one job per upstream for want (or none).
	expect := func(step string, want string) {
		t.Helper()
		all := h.syncJobs()
		got := all[jobs:]
		jobs = len(all)
		var wantJobs []string
		if want != "" {
			wantJobs = []string{"mailgun/" + want, "sendgrid/" + want}
		}
		slices.Sort(got)
		if !slices.Equal(got, wantJobs) {
			t.Fatalf("%s: queued %v, want %v", step, got, wantJobs)
		}
		// Outbox IDs sort by the millisecond they were made in: move on so the next step's
		// jobs list after this one's.
		h.clock.Set(h.clock.Now().Add(time.Second))
	}

	h.ingest(event("s1", gateway.EventSurveyResponse, engineStart, "ana@example.com", withCSAT(5)))
	expect("an event that silences nobody", "")
	ana := h.customer(email("ana@example.com")).ID

	h.ingest(event("s2", gateway.EventSurveyResponse, engineStart, "ana@example.com", withCSAT(1)))
	expect("a rule silences", ana)
	h.ingest(event("s3", gateway.EventSurveyResponse, engineStart.Add(time.Hour), "ana@example.com", withCSAT(2)))
	expect("the rule fires again and extends the silence", ana)

	h.ingest(event("s4", gateway.EventSurveyResponse, engineStart, "bea@example.com", withCSAT(3)))
	expect("a shadow rule's silence", "")

	// A silenced customer's new address must reach the lists; an unsilenced one's need not.
	if _, err := h.e.LinkIdentities(ctx, email("ana@example.com"), []gateway.Identity{email("ana@work.example")}); err != nil {
		t.Fatal(err)
	}
	expect("a silenced customer gains an address", ana)
	if _, err := h.e.LinkIdentities(ctx, email("bea@example.com"), []gateway.Identity{email("bea@work.example")}); err != nil {
		t.Fatal(err)
	}
	expect("an unsilenced customer gains an address", "")

	sil := h.silences(ana)
	if len(sil) != 1 {
		t.Fatalf("silences of ana = %+v", sil)
	}
	if _, err := h.e.LiftSilence(ctx, sil[0].ID, "admin:ops", "wrong rule"); err != nil {
		t.Fatal(err)
	}
	expect("a person lifts the silence", ana)

	if _, err := h.e.CreateSilence(ctx, gateway.SilenceInput{Identity: email("bea@example.com"), For: time.Hour, Reason: "asked"}); err != nil {
		t.Fatal(err)
	}
	bea := h.customer(email("bea@example.com")).ID
	expect("a person silences", bea)

	h.ingest(event("t1", gateway.EventTicketOpened, engineStart, "cai@example.com", withTopic("billing")))
	cai := h.customer(email("cai@example.com")).ID
	expect("an until-resolved silence", cai)
	h.ingest(event("t2", gateway.EventTicketSolved, engineStart.Add(time.Hour), "cai@example.com", withTopic("billing")))
	expect("the topic is solved and the silence gets its end", cai)

	if _, err := h.e.CreateOptOut(ctx, gateway.OptOutInput{Identity: email("cai@example.com"), Channel: gateway.ChannelEmail}); err != nil {
		t.Fatal(err)
	}
	expect("an opt-out (the vendor keeps its own unsubscribes)", "")

	if err := h.e.EraseCustomer(ctx, email("bea@example.com")); err != nil {
		t.Fatal(err)
	}
	expect("an erasure", bea)
}

func TestNoSyncJobsWithoutSyncedUpstreams(t *testing.T) {
	h := newHarness(t, Config{Rules: mustRules(t, gateway.RuleSpec{Name: "low-csat", When: `event.csat <= 2`, Silence: &gateway.SilenceSpec{For: dayDur(15)}})})
	h.ingest(event("s1", gateway.EventSurveyResponse, engineStart, "ana@example.com", withCSAT(1)))
	if jobs := h.syncJobs(); len(jobs) != 0 {
		t.Fatalf("jobs = %v", jobs)
	}
	if len(h.silences(h.customer(email("ana@example.com")).ID)) != 1 {
		t.Fatal("the rule did not silence")
	}
}

func TestMergeQueuesBothCustomers(t *testing.T) {
	h := newHarness(t, Config{DefaultRegion: "ES", SyncUpstreams: []string{"sendgrid"}})
	ctx := context.Background()
	if _, err := h.e.CreateSilence(ctx, gateway.SilenceInput{Identity: email("ana@example.com"), For: time.Hour}); err != nil {
		t.Fatal(err)
	}
	a := h.customer(email("ana@example.com")).ID
	h.ingest(event("e1", gateway.EventTicketOpened, engineStart, "ana@work.example"))
	b := h.customer(email("ana@work.example")).ID
	before := len(h.syncJobs())
	h.clock.Set(engineStart.Add(time.Second)) // the merge's jobs list after the earlier ones
	if _, err := h.e.LinkIdentities(ctx, email("ana@example.com"), []gateway.Identity{email("ana@work.example")}); err != nil {
		t.Fatal(err)
	}
	got := h.syncJobs()[before:]
	slices.Sort(got)
	want := []string{"sendgrid/" + a, "sendgrid/" + b}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("merge queued %v, want %v", got, want)
	}
}
