package policy

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// simRules are seed-like rules (configs/default.yaml's, with the low-csat threshold as a
// parameter) plus one in shadow mode.
func simRules(csatMax int) []gateway.RuleSpec {
	return []gateway.RuleSpec{
		{Name: "low-csat", When: fmt.Sprintf(`event.type == "survey.response" && has(event.csat) && event.csat <= %d`, csatMax),
			Silence: &gateway.SilenceSpec{For: dayDur(15)}},
		{Name: "detractor-nps", When: `event.type == "survey.response" && has(event.nps) && event.nps <= 6`,
			Silence: &gateway.SilenceSpec{For: dayDur(30)}},
		{Name: "negative-sentiment", When: `event.type == "chat.message" && has(event.sentiment) && event.sentiment.score <= -0.5`,
			Silence: &gateway.SilenceSpec{For: dayDur(7)}},
		{Name: "repeated-contacts", When: `has(event.topic) && event.topic != "" && contacts_about(event.topic, "24h") >= 3`,
			Silence: &gateway.SilenceSpec{UntilResolved: true, Then: dayDur(7)}},
		{Name: "abandoned-call", When: `event.type == "call.abandoned" && has(event.wait_seconds) && event.wait_seconds >= 120`,
			Silence: &gateway.SilenceSpec{For: dayDur(2), Channels: []gateway.Channel{gateway.ChannelVoice}}},
		{Name: "effortful", When: `event.type == "survey.response" && has(event.ces) && event.ces >= 6`,
			Silence: &gateway.SilenceSpec{For: dayDur(3)}, Shadow: true},
	}
}

var simCaps = []gateway.CapSpec{
	{Channel: gateway.ChannelVoice, Category: gateway.CategorySales, Max: 3, Per: dayDur(30)},
	{Channel: gateway.ChannelAny, Category: gateway.CategorySurvey, Max: 1, Per: dayDur(30)},
	{Channel: gateway.ChannelSMS, Category: gateway.CategoryMarketing, Max: 4, Per: dayDur(30)},
}

var simQuiet = []gateway.QuietHoursSpec{{Channels: []gateway.Channel{gateway.ChannelVoice, gateway.ChannelSMS}, From: "21:00", To: "09:00", Action: gateway.QuietDefer}}

// step is one thing that happens in the generated history: a delivery of events, a send, or
// a person's action.
type step struct {
	at     time.Time
	events []gateway.Event
	send   *gateway.DecisionRequest
	unsent bool // the send's upstream failed: its decisions are released
	manual func(ctx context.Context, e *Engine) error
}

// generateHistory makes 30 days of surveys, tickets, chats, calls and sends for n customers.
func generateHistory(seed uint64, n int) []step {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	start := engineStart.Add(-30 * 24 * time.Hour)
	email := func(i int) string { return fmt.Sprintf("c%03d@example.com", i) }
	phone := func(i int) string { return fmt.Sprintf("+3461200%04d", i) }
	var steps []step
	seq := 0
	for i := 0; i < n; i++ {
		t := start.Add(time.Duration(rng.IntN(24*60)) * time.Minute)
		for t.Before(engineStart) {
			seq++
			id := fmt.Sprintf("ev%05d", seq)
			ev := gateway.Event{ID: id, Source: "gen", At: t, Customer: gateway.EventCustomer{Email: email(i), Phone: phone(i)}}
			topic := fmt.Sprintf("T-%d-%d", i, rng.IntN(3))
			switch r := rng.IntN(10); {
			case r < 3:
				ev.Type = gateway.EventSurveyResponse
				if rng.IntN(3) > 0 {
					ev.CSAT = fptr(float64(1 + rng.IntN(5)))
				}
				if rng.IntN(3) == 0 {
					ev.NPS = fptr(float64(rng.IntN(11)))
				}
				if rng.IntN(5) == 0 {
					ev.CES = fptr(float64(1 + rng.IntN(7)))
				}
			case r < 6:
				ev.Type = []string{gateway.EventTicketOpened, gateway.EventTicketUpdated, gateway.EventTicketSolved}[rng.IntN(3)]
				ev.Topic = topic
			case r < 8:
				ev.Type, ev.Topic = gateway.EventChatMessage, topic
				ev.Sentiment = &gateway.Sentiment{Score: float64(rng.IntN(21)-10) / 10, Source: gateway.SentimentVendor}
			default:
				ev.Type, ev.Channel = gateway.EventCallAbandoned, gateway.ChannelVoice
				ev.WaitSeconds = fptr(float64(rng.IntN(300)))
			}
			// Most events arrive at once; some hours late (their silences start at event time).
			received := t
			if rng.IntN(8) == 0 {
				received = t.Add(time.Duration(1+rng.IntN(300)) * time.Minute)
			}
			if !received.Before(engineStart) {
				received = t // every event is in by the end of the period
			}
			steps = append(steps, step{at: received, events: []gateway.Event{ev}})
			t = t.Add(time.Duration(30+rng.IntN(3*24*60)) * time.Minute)
			if rng.IntN(6) == 0 { // a burst about one topic: repeated contacts
				for k := 0; k < 3 && t.Before(engineStart); k++ {
					seq++
					burst := gateway.Event{ID: fmt.Sprintf("ev%05d", seq), Source: "gen", Type: gateway.EventChatMessage, At: t,
						Topic: topic, Customer: ev.Customer}
					steps = append(steps, step{at: t, events: []gateway.Event{burst}})
					t = t.Add(time.Duration(10+rng.IntN(120)) * time.Minute)
				}
			}
		}
	}
	// Sends: a campaign every few hours to a handful of customers (and some strangers).
	channels := []gateway.Channel{gateway.ChannelEmail, gateway.ChannelSMS, gateway.ChannelVoice}
	categories := []gateway.Category{gateway.CategoryMarketing, gateway.CategorySales, gateway.CategorySurvey, gateway.CategoryTransactional}
	for t := start.Add(37 * time.Minute); t.Before(engineStart); t = t.Add(time.Duration(60+rng.IntN(240)) * time.Minute) {
		ch := channels[rng.IntN(len(channels))]
		req := &gateway.DecisionRequest{Channel: ch, Category: categories[rng.IntN(len(categories))], Record: true, At: t, Upstream: "crm"}
		for k := 0; k < 1+rng.IntN(8); k++ {
			i := rng.IntN(n + 5) // the last five are strangers to hush
			if ch == gateway.ChannelEmail {
				req.Recipients = append(req.Recipients, gateway.Identity("email:"+email(i)))
			} else {
				req.Recipients = append(req.Recipients, gateway.Identity("phone:"+phone(i)))
			}
		}
		slices.Sort(req.Recipients)
		req.Recipients = slices.Compact(req.Recipients)
		steps = append(steps, step{at: t, send: req, unsent: rng.IntN(10) == 0})
	}
	// People act too: a hand-made silence and an incident, which rules do not touch.
	steps = append(steps,
		step{at: start.Add(5 * 24 * time.Hour), manual: func(ctx context.Context, e *Engine) error {
			_, err := e.CreateSilence(ctx, gateway.SilenceInput{Identity: gateway.Identity("email:" + email(1)), For: 10 * 24 * time.Hour, Reason: "asked by phone", CreatedBy: "admin:test"})
			return err
		}},
		step{at: start.Add(12 * 24 * time.Hour), manual: func(ctx context.Context, e *Engine) error {
			_, err := e.OpenIncident(ctx, gateway.IncidentInput{Title: "outage", CreatedBy: "admin:test"})
			return err
		}},
		step{at: start.Add(13 * 24 * time.Hour), manual: func(ctx context.Context, e *Engine) error {
			inc, _, err := listIncidents(ctx, e)
			if err != nil {
				return err
			}
			_, err = e.ResolveIncident(ctx, inc, "admin:test")
			return err
		}},
	)
	sort.SliceStable(steps, func(a, b int) bool { return steps[a].at.Before(steps[b].at) })
	return steps
}

func listIncidents(ctx context.Context, e *Engine) (string, bool, error) {
	var id string
	err := e.store.View(ctx, func(tx gateway.Tx) error {
		incs, _, err := tx.Incidents(gateway.IncidentQuery{OpenOnly: true})
		if err == nil && len(incs) > 0 {
			id = incs[0].ID
		}
		return err
	})
	return id, id != "", err
}

// liveRun feeds the generated history through a live engine with the rules, as hush serving
// would, the clock following the history.
func liveRun(t *testing.T, steps []step, rules []gateway.RuleSpec) *harness {
	t.Helper()
	h := newHarness(t, Config{Rules: mustRules(t, rules...), Caps: simCaps, QuietHours: simQuiet, Timezone: "Europe/Madrid", DefaultRegion: "ES"})
	ctx := context.Background()
	for _, s := range steps {
		h.clock.Set(s.at)
		switch {
		case s.events != nil:
			h.ingest(s.events...)
		case s.send != nil:
			ds, err := h.e.Decide(ctx, *s.send)
			if err != nil {
				t.Fatalf("Decide: %v", err)
			}
			if s.unsent {
				if err := h.e.Release(ctx, ds); err != nil {
					t.Fatalf("Release: %v", err)
				}
			}
		default:
			if err := s.manual(ctx, h.e); err != nil {
				t.Fatalf("manual step: %v", err)
			}
		}
	}
	h.clock.Set(engineStart)
	return h
}

type silenceKey struct {
	identity   gateway.Identity
	rule       string
	start, end time.Time
	shadow     bool
}

func keyOf(id gateway.Identity, rule string, start time.Time, end *time.Time, shadow bool) silenceKey {
	k := silenceKey{identity: id, rule: rule, start: start.UTC(), shadow: shadow}
	if end != nil {
		k.end = end.UTC()
	}
	return k
}

// Simulating the rules the live engine ran gives exactly the silences it created and the
// decisions it recorded, over several generated histories.
func TestSimulateSameRulesGivesTheLiveSilencesAndDecisions(t *testing.T) {
	for seed := uint64(1); seed <= 2; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			steps := generateHistory(seed, 40)
			h := liveRun(t, steps, simRules(2))
			since := engineStart.Add(-30 * 24 * time.Hour)

			var mismatches []string
			var compared int
			report, err := h.e.simulate(context.Background(), gateway.SimulationRequest{
				Rules: simRules(2), Since: since, SampleSize: MaxSimulationSample,
			}, func(live, cand *gateway.Decision) {
				compared++
				if live.Allowed != cand.Allowed || live.Reason != cand.Reason || live.Rule != cand.Rule || live.Cap != cand.Cap || live.Defer != cand.Defer {
					mismatches = append(mismatches, fmt.Sprintf("%s %s/%s at %s: live %v %s %s, simulated %v %s %s",
						live.Recipient, live.Channel, live.Category, live.At, live.Allowed, live.Reason, live.Rule, cand.Allowed, cand.Reason, cand.Rule))
				}
			})
			if err != nil {
				t.Fatalf("Simulate: %v", err)
			}
			if len(mismatches) > 0 {
				t.Fatalf("%d of %d decisions differ, first: %s", len(mismatches), compared, mismatches[0])
			}

			live := map[silenceKey]int{}
			liveByRule := map[string]int{}
			h.view(func(tx gateway.Tx) error {
				all, err := allPages(func(p gateway.Page) ([]gateway.Silence, string, error) {
					return tx.Silences(gateway.SilenceQuery{Page: p})
				})
				for _, s := range all {
					if s.Rule != "" {
						live[keyOf(s.Identity, s.Rule, s.Start, s.End, s.Shadow)]++
						if !s.Shadow {
							liveByRule[s.Rule]++
						}
					}
				}
				return err
			})
			simulated := map[silenceKey]int{}
			for _, s := range report.Sample {
				simulated[keyOf(s.Identity, s.Rule, s.Start, s.End, s.Shadow)]++
			}
			if len(live) < 20 || report.ShadowSilences == 0 {
				t.Fatalf("the generated history made only %d silences (%d shadow): not a test", len(live), report.ShadowSilences)
			}
			for k, n := range live {
				if simulated[k] != n {
					t.Errorf("live silence %+v (x%d) simulated x%d", k, n, simulated[k])
				}
			}
			for k, n := range simulated {
				if live[k] != n {
					t.Errorf("simulated silence %+v (x%d) not live (x%d)", k, n, live[k])
				}
			}
			if fmt.Sprint(report.SilencesByRule) != fmt.Sprint(liveByRule) {
				t.Errorf("silences by rule: simulated %v, live %v", report.SilencesByRule, liveByRule)
			}
			s := report.Sends
			if s.Total != compared || s.Total == 0 || s.LiveDropped == 0 || s.LiveDropped != s.CandidateDropped || s.NewlyDropped != 0 || s.NewlyAllowed != 0 {
				t.Errorf("sends: %+v (compared %d)", s, compared)
			}
			if report.EventsReplayed == 0 || report.Sample[0].Event.Type == "" || report.Sample[0].CustomerID == "" {
				t.Errorf("report lacks the replay or the sample's trigger: %+v", report.Sample[0])
			}
		})
	}
}

// csatCoverage computes, from the generated events alone, the low-csat silences a threshold
// makes (created, not extended) and, per customer email, the periods they cover: a qualifying
// survey starts a 15-day silence at min(event time, receipt), or extends the one in force.
func csatCoverage(steps []step, threshold float64) (created int, cover map[string][][2]time.Time) {
	cover = map[string][][2]time.Time{}
	for _, s := range steps {
		for _, ev := range s.events {
			if ev.Type != gateway.EventSurveyResponse || ev.CSAT == nil || *ev.CSAT > threshold {
				continue
			}
			start := minTime(ev.At, s.at)
			end := start.Add(15 * 24 * time.Hour)
			iv := cover[ev.Customer.Email]
			if n := len(iv); n > 0 && !s.at.Before(iv[n-1][0]) && s.at.Before(iv[n-1][1]) {
				if end.After(iv[n-1][1]) {
					iv[n-1][1] = end
				}
				continue
			}
			created++
			cover[ev.Customer.Email] = append(iv, [2]time.Time{start, end})
		}
	}
	return created, cover
}

// Widening low-csat from csat <= 2 to csat <= 3 creates exactly the silences the events say,
// and newly drops exactly the live-allowed sends to those customers the new silences cover.
func TestSimulateChangedThreshold(t *testing.T) {
	steps := generateHistory(7, 40)
	h := liveRun(t, steps, simRules(2))
	since := engineStart.Add(-30 * 24 * time.Hour)

	wantLive, _ := csatCoverage(steps, 2)
	wantCreated, cover := csatCoverage(steps, 3)
	if wantCreated <= wantLive {
		t.Fatalf("the generated history has no csat 3 that would start a silence (%d vs %d)", wantCreated, wantLive)
	}
	phoneToEmail := map[gateway.Identity]string{}
	for _, s := range steps {
		for _, ev := range s.events {
			phoneToEmail[gateway.Identity("phone:"+ev.Customer.Phone)] = ev.Customer.Email
		}
	}
	var wantNewlyDropped int
	h.view(func(tx gateway.Tx) error {
		all, err := allPages(func(p gateway.Page) ([]gateway.Decision, string, error) {
			return tx.Decisions(gateway.DecisionQuery{Page: p})
		})
		for _, d := range all {
			if !d.Allowed || !slices.Contains(gateway.DefaultSilencedCategories, d.Category) {
				continue
			}
			email, ok := phoneToEmail[d.Recipient]
			if d.Recipient.IsEmail() {
				email, ok = d.Recipient.Value(), true
			}
			if !ok {
				continue
			}
			for _, iv := range cover[email] {
				if !d.At.Before(iv[0]) && d.At.Before(iv[1]) {
					wantNewlyDropped++
					break
				}
			}
		}
		return err
	})

	for _, tc := range []struct {
		threshold               int
		wantSilences, wantNewly int
	}{{2, wantLive, 0}, {3, wantCreated, wantNewlyDropped}} {
		report, err := h.e.Simulate(context.Background(), gateway.SimulationRequest{Rules: simRules(tc.threshold), Since: since})
		if err != nil {
			t.Fatalf("Simulate: %v", err)
		}
		if got := report.SilencesByRule["low-csat"]; got != tc.wantSilences {
			t.Errorf("csat <= %d: %d low-csat silences, the events say %d", tc.threshold, got, tc.wantSilences)
		}
		s := report.Sends
		if s.NewlyDropped != tc.wantNewly || s.NewlyDroppedByRule["low-csat"] != tc.wantNewly || s.NewlyAllowed != 0 {
			t.Errorf("csat <= %d: newly dropped %d (by rule %v), newly allowed %d; want %d newly dropped by low-csat", tc.threshold,
				s.NewlyDropped, s.NewlyDroppedByRule, s.NewlyAllowed, tc.wantNewly)
		}
		if s.CandidateDropped != s.LiveDropped+s.NewlyDropped {
			t.Errorf("csat <= %d: candidate drops %d, live %d + newly %d", tc.threshold, s.CandidateDropped, s.LiveDropped, s.NewlyDropped)
		}
	}
	if wantNewlyDropped == 0 {
		t.Fatal("no live-allowed send falls in a csat 3 silence: the history does not exercise the change")
	}
}

func TestSimulateRefusals(t *testing.T) {
	h := newHarness(t, Config{})
	ctx := context.Background()
	since := engineStart.Add(-24 * time.Hour)
	_, err := h.e.Simulate(ctx, gateway.SimulationRequest{Since: since, Rules: []gateway.RuleSpec{{Name: "bad", When: "event.csat <="}}})
	if gateway.ErrorCodeOf(err) != gateway.CodeInvalid || !containsAll(gateway.ErrorMessageOf(err), `rule "bad"`, "when") {
		t.Errorf("bad rule: %v", err)
	}
	if _, err := h.e.Simulate(ctx, gateway.SimulationRequest{}); gateway.ErrorCodeOf(err) != gateway.CodeInvalid {
		t.Errorf("no since: %v", err)
	}
	if _, err := h.e.Simulate(ctx, gateway.SimulationRequest{Since: engineStart, Until: since}); gateway.ErrorCodeOf(err) != gateway.CodeInvalid {
		t.Errorf("until before since: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := h.e.Simulate(cctx, gateway.SimulationRequest{Since: since}); err == nil {
		t.Error("a cancelled context still simulated")
	}
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
