package policy

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// The Wilson score interval against a published case: Newcombe (1998), "Two-sided
// confidence intervals for the single proportion: comparison of seven methods", Statistics
// in Medicine 17:857–872, Table II, example 81/263 = 0.3080, method 3 (score, no continuity
// correction): 0.2553 to 0.3662. Recomputed here (Python, the formula in WilsonInterval):
// 0.255289, 0.366210.
func TestWilsonIntervalPublishedCase(t *testing.T) {
	got := WilsonInterval(81, 263)
	if !near(got.Estimate, 0.3080, 5e-5) || !near(got.Low, 0.2553, 5e-5) || !near(got.High, 0.3662, 5e-5) {
		t.Errorf("Wilson 81/263 = %+v, want 0.3080 [0.2553, 0.3662]", got)
	}
	// The interval stays in [0, 1] at the edges, where the Wald interval collapses to a point.
	for _, tt := range []struct{ x, n int }{{0, 10}, {10, 10}, {0, 0}, {1, 1}} {
		iv := WilsonInterval(tt.x, tt.n)
		if iv.Low < 0 || iv.High > 1 || iv.Low > iv.Estimate || iv.High < iv.Estimate || iv.High-iv.Low <= 0 {
			t.Errorf("Wilson %d/%d = %+v: not a proper interval in [0, 1] around the estimate", tt.x, tt.n, iv)
		}
	}
}

// Newcombe's hybrid score interval for a difference against the worked example of Newcombe
// (1998), "Interval estimation for the difference between independent proportions:
// comparison of eleven methods", Statistics in Medicine 17:873–890: 56/70 − 48/80 = 0.2000,
// method 10: 0.0524 to 0.3339.
func TestDifferenceIntervalWorkedExample(t *testing.T) {
	got := DifferenceInterval(56, 70, 48, 80)
	if !near(got.Estimate, 0.2, 1e-9) || !near(got.Low, 0.0524, 5e-5) || !near(got.High, 0.3339, 5e-5) {
		t.Errorf("Newcombe 56/70 - 48/80 = %+v, want 0.2 [0.0524, 0.3339]", got)
	}
	// Swapping the groups mirrors the interval.
	back := DifferenceInterval(48, 80, 56, 70)
	if !near(back.Low, -got.High, 1e-12) || !near(back.High, -got.Low, 1e-12) {
		t.Errorf("swapped: %+v, want the mirror of %+v", back, got)
	}
}

// The assignment is the documented scheme, byte for byte: these values were computed
// independently (Python hashlib) from SHA-256("hush holdout\x00" + rule + "\x00" + id), so a
// change to the scheme, which would move customers between groups across an upgrade, fails.
func TestHoldoutPointIsTheDocumentedScheme(t *testing.T) {
	for _, tt := range []struct {
		rule, customer string
		want           float64
	}{
		{"low-csat", "cus_1", 0.4703874284984413},
		{"r", "c", 0.8006090351940363},
	} {
		if got := holdoutPoint(tt.rule, tt.customer); !near(got, tt.want, 1e-15) {
			t.Errorf("holdoutPoint(%q, %q) = %v, want %v", tt.rule, tt.customer, got, tt.want)
		}
	}
	if !InControl("low-csat", "cus_1", 0.5) || InControl("low-csat", "cus_1", 0.47) || InControl("low-csat", "cus_1", 0) {
		t.Error("InControl does not compare the point with the fraction")
	}
}

// Over 20,000 customer ids at 10%, the control count is binomial(20000, 0.1) if the hash
// spreads ids evenly: mean 2,000, standard deviation √(20000·0.1·0.9) ≈ 42.4. The test
// accepts 4 standard deviations (±170), which a fair assignment misses with probability
// about 6 in 100,000; and each rule's control group is a different slice of the customers.
func TestHoldoutMatchesTheFraction(t *testing.T) {
	const n, frac = 20000, 0.10
	sd := math.Sqrt(n * frac * (1 - frac))
	for _, rule := range []string{"low-csat", "detractor-nps"} {
		count := 0
		for i := range n {
			if InControl(rule, gateway.NewID("cus", engineStart.Add(time.Duration(i)*time.Millisecond))+fmt.Sprint(i), frac) {
				count++
			}
		}
		if math.Abs(float64(count)-n*frac) > 4*sd {
			t.Errorf("rule %s: %d of %d in control, want %v ± %.0f", rule, count, n, n*frac, 4*sd)
		}
	}
	both := 0
	for i := range n {
		id := fmt.Sprintf("cus_%d", i)
		if InControl("low-csat", id, frac) && InControl("detractor-nps", id, frac) {
			both++
		}
	}
	// Independent slices: about 1% of ids are control for both rules (200 ± 4·14).
	if math.Abs(float64(both)-n*frac*frac) > 4*math.Sqrt(n*frac*frac*(1-frac*frac)) {
		t.Errorf("%d ids control for both rules, want about %v: the rules' groups are not independent", both, n*frac*frac)
	}
}

var holdoutRule = gateway.RuleSpec{
	Name: "low-csat", When: `event.type == "survey.response" && has(event.csat) && event.csat <= 2`,
	Silence: &gateway.SilenceSpec{For: dayDur(15)}, Alert: "retention",
	FollowUp: &gateway.FollowUpSpec{After: dayDur(3), Alert: "retention"},
	Holdout:  0.5,
}

func lowCSATEvent(id string, at time.Time, addr string) gateway.Event {
	return event(id, gateway.EventSurveyResponse, at, addr, withCSAT(1))
}

// A control customer's silence is recorded, marked control and enforced nowhere (decisions,
// snapshot after a restart); the rule's alert and follow-up still go, without a silence to
// end. A treated customer is silenced as before.
func TestControlCustomerIsNotSilencedButAlerted(t *testing.T) {
	h := newHarness(t, Config{Rules: mustRules(t, holdoutRule)})
	var control, treated gateway.Identity
	for i := 0; i < 64 && (control == "" || treated == ""); i++ {
		addr := fmt.Sprintf("c%d@example.com", i)
		h.ingest(lowCSATEvent(fmt.Sprintf("e%d", i), engineStart, addr))
		c := h.customer(email(addr))
		s := h.silences(c.ID)
		if len(s) != 1 {
			t.Fatalf("customer %s: %d silences, want 1", c.ID, len(s))
		}
		if s[0].Control != InControl(holdoutRule.Name, c.ID, holdoutRule.Holdout) {
			t.Fatalf("customer %s: silence control=%v, not what InControl says", c.ID, s[0].Control)
		}
		switch {
		case s[0].Control && control == "":
			control = email(addr)
		case !s[0].Control && treated == "":
			treated = email(addr)
		}
	}
	if control == "" || treated == "" {
		t.Fatal("64 customers at 50% gave no control or no treated customer")
	}
	check := func(when string) {
		t.Helper()
		wantReason(t, h.decide1(gateway.ChannelEmail, gateway.CategoryMarketing, control), "")
		wantReason(t, h.decide1(gateway.ChannelEmail, gateway.CategoryMarketing, treated), gateway.ReasonSilenced)
		if _, held := h.e.Snapshot().Customer(control); held {
			t.Errorf("%s: the snapshot holds the control customer", when)
		}
	}
	check("after intake")
	h.restart()
	check("after a restart")

	cid := h.customer(control).ID
	var alerts, followUps, ended int
	for _, m := range h.outbox() {
		if m.CustomerID != cid {
			continue
		}
		switch m.Kind {
		case gateway.OutboxAlert:
			alerts++
			var p alertPayload
			if err := json.Unmarshal(m.Payload, &p); err != nil {
				t.Fatal(err)
			}
			if !p.Control || p.SilenceID != "" {
				t.Errorf("control alert payload %s: want control and no silence", m.Payload)
			}
		case gateway.OutboxFollowUp:
			followUps++
		case gateway.OutboxSilenceEnded:
			ended++
		}
	}
	if alerts != 1 || followUps != 1 || ended != 0 {
		t.Errorf("control customer: %d alerts, %d follow-ups, %d silence-ended, want 1, 1, 0", alerts, followUps, ended)
	}
}

// The group is a function of (rule, customer) alone: a restart (the same store reopened)
// and a second trigger after the first silence ran out put every customer in the group they
// were in. Replicas agree for the same reason: nothing but the rule and the id goes in.
func TestHoldoutStableAcrossRestarts(t *testing.T) {
	h := newHarness(t, Config{Rules: mustRules(t, holdoutRule)})
	const n = 40
	first := map[string]bool{} // customer id → control
	for i := range n {
		addr := fmt.Sprintf("s%d@example.com", i)
		h.ingest(lowCSATEvent(fmt.Sprintf("a%d", i), engineStart, addr))
		c := h.customer(email(addr))
		first[c.ID] = h.silences(c.ID)[0].Control
	}
	h.restart()
	later := engineStart.Add(20 * 24 * time.Hour) // past the first 15-day silences
	h.clock.Set(later)
	controls := 0
	for i := range n {
		addr := fmt.Sprintf("s%d@example.com", i)
		h.ingest(lowCSATEvent(fmt.Sprintf("b%d", i), later, addr))
		c := h.customer(email(addr))
		s := h.silences(c.ID)
		if len(s) != 2 {
			t.Fatalf("customer %s: %d silences, want 2 (the first ran out)", c.ID, len(s))
		}
		for _, x := range s {
			if x.Control != first[c.ID] {
				t.Errorf("customer %s: control %v after the restart, %v before", c.ID, x.Control, first[c.ID])
			}
		}
		if first[c.ID] {
			controls++
		}
	}
	if controls == 0 || controls == n {
		t.Fatalf("%d of %d control at 50%%: the test needs both groups", controls, n)
	}

}

// plan is what the end-to-end test makes happen to one customer after the rule fired.
type plan struct {
	churn, retain, complain, unsubscribe, optOut bool
	retainThenChurn                              bool // retained first: counts as retained
	churnBefore, churnAfterWindow                bool // outside the window: not counted
}

// An end-to-end report: generated customers trigger a holdout rule, outcome events follow
// (some before the firing or after the window, which do not count), and the report's
// counts per group are what the test generated.
func TestExperimentReportEndToEnd(t *testing.T) {
	shadowRule := gateway.RuleSpec{Name: "vip-watch", When: `event.type == "chat.message"`,
		Silence: &gateway.SilenceSpec{For: dayDur(3)}, Shadow: true}
	h := newHarness(t, Config{Rules: mustRules(t, holdoutRule, shadowRule), OutcomeWindow: 60 * 24 * time.Hour})
	fired := engineStart.Add(-100 * 24 * time.Hour)
	const n = 240
	var want [2]gateway.GroupOutcome // 0 treated, 1 control
	seq := 0
	ev := func(typ string, at time.Time, addr string) gateway.Event {
		seq++
		return event(fmt.Sprintf("o%d", seq), typ, at, addr)
	}
	for i := range n {
		addr := fmt.Sprintf("g%d@example.com", i)
		h.ingest(lowCSATEvent(fmt.Sprintf("t%d", i), fired, addr))
		c := h.customer(email(addr))
		g := 0
		if InControl(holdoutRule.Name, c.ID, holdoutRule.Holdout) {
			g = 1
		}
		// Control customers churn more often (every 3rd) than treated ones (every 5th).
		p := plan{
			churn:            i%[2]int{5, 3}[g] == 0,
			complain:         i%7 == 1,
			unsubscribe:      i%11 == 2,
			optOut:           i%13 == 3,
			churnBefore:      i%17 == 4,
			churnAfterWindow: i%19 == 5,
		}
		p.retainThenChurn = !p.churn && i%4 == 2
		p.retain = !p.churn && !p.retainThenChurn && i%2 == 1
		var evs []gateway.Event
		if p.churnBefore {
			evs = append(evs, ev(gateway.EventOutcomeChurned, fired.Add(-24*time.Hour), addr))
		}
		if p.churn {
			evs = append(evs, ev(gateway.EventOutcomeChurned, fired.Add(10*24*time.Hour), addr))
		}
		if p.retain {
			evs = append(evs, ev(gateway.EventOutcomeRetained, fired.Add(30*24*time.Hour), addr))
		}
		if p.retainThenChurn {
			evs = append(evs, ev(gateway.EventOutcomeRetained, fired.Add(5*24*time.Hour), addr),
				ev(gateway.EventOutcomeChurned, fired.Add(40*24*time.Hour), addr))
		}
		if p.complain {
			evs = append(evs, ev(gateway.EventOutcomeComplained, fired.Add(2*24*time.Hour), addr))
		}
		if p.unsubscribe {
			evs = append(evs, ev(gateway.EventOutcomeUnsubscribed, fired.Add(3*24*time.Hour), addr))
		}
		if p.optOut {
			evs = append(evs, ev(gateway.EventConsentOptOut, fired.Add(4*24*time.Hour), addr))
		}
		if p.churnAfterWindow && !p.churn && !p.retain && !p.retainThenChurn {
			evs = append(evs, ev(gateway.EventOutcomeChurned, fired.Add(70*24*time.Hour), addr))
		}
		if len(evs) > 0 {
			h.ingest(evs...)
		}
		w := &want[g]
		w.Customers++
		switch {
		case p.churn:
			w.Churned++
		case p.retain || p.retainThenChurn:
			w.Retained++
		}
		if p.complain {
			w.Complained++
		}
		if p.unsubscribe || p.optOut {
			w.Unsubscribed++
		}
	}
	// The shadow rule fires on three customers: counted as shadow, not in any experiment.
	for i := range 3 {
		h.ingest(event(fmt.Sprintf("v%d", i), gateway.EventChatMessage, fired, fmt.Sprintf("v%d@example.com", i)))
	}

	r, err := h.e.Report(context.Background(), engineStart.Add(-365*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if r.ShadowSilencesByRule["vip-watch"] != 3 || r.ShadowSilencesByRule["low-csat"] != 0 {
		t.Errorf("shadow silences by rule %v, want vip-watch: 3", r.ShadowSilencesByRule)
	}
	if len(r.Experiments) != 1 {
		t.Fatalf("%d experiments, want 1 (the holdout rule)", len(r.Experiments))
	}
	x := r.Experiments[0]
	if x.Rule != "low-csat" || x.Holdout != 0.5 {
		t.Errorf("experiment %s at %v", x.Rule, x.Holdout)
	}
	for g, got := range []gateway.GroupOutcome{x.Treated, x.Control} {
		w := want[g]
		if got.Customers != w.Customers || got.Churned != w.Churned || got.Retained != w.Retained ||
			got.Complained != w.Complained || got.Unsubscribed != w.Unsubscribed {
			t.Errorf("group %d: got %+v\nwant counts %+v", g, got, w)
		}
		if got.ChurnRate != WilsonInterval(w.Churned, w.Customers) || got.ComplaintRate != WilsonInterval(w.Complained, w.Customers) {
			t.Errorf("group %d: rates %+v %+v are not the Wilson intervals of its counts", g, got.ChurnRate, got.ComplaintRate)
		}
	}
	if x.ChurnDiff != DifferenceInterval(want[0].Churned, want[0].Customers, want[1].Churned, want[1].Customers) {
		t.Errorf("churn difference %+v is not Newcombe's interval of the counts", x.ChurnDiff)
	}
	if x.ChurnDiff.Estimate >= 0 {
		t.Errorf("treated churn %v is not below control's, as generated", x.ChurnDiff)
	}
	if x.TooSmall || !strings.Contains(x.Note, "silenced vs") {
		t.Errorf("%d + %d customers: too small %v, note %q", want[0].Customers, want[1].Customers, x.TooSmall, x.Note)
	}
	// A report from after the firings holds no customer.
	r, err = h.e.Report(context.Background(), engineStart.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Experiments[0]; got.Treated.Customers+got.Control.Customers != 0 || !got.TooSmall {
		t.Errorf("a period without firings: %+v", got)
	}
}

// A handful of customers is reported, and said plainly to be too few.
func TestExperimentTooSmall(t *testing.T) {
	h := newHarness(t, Config{Rules: mustRules(t, holdoutRule)})
	for i := range 12 {
		addr := fmt.Sprintf("m%d@example.com", i)
		h.ingest(lowCSATEvent(fmt.Sprintf("t%d", i), engineStart, addr),
			event(fmt.Sprintf("c%d", i), gateway.EventOutcomeChurned, engineStart.Add(time.Minute), addr))
	}
	h.clock.Set(engineStart.Add(time.Hour))
	r, err := h.e.Report(context.Background(), engineStart.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	x := r.Experiments[0]
	if x.Treated.Customers+x.Control.Customers != 12 || x.Treated.Churned+x.Control.Churned != 12 {
		t.Fatalf("counts %+v %+v, want 12 customers who all churned", x.Treated, x.Control)
	}
	want := fmt.Sprintf("too few customers to conclude: %d treated, %d control", x.Treated.Customers, x.Control.Customers)
	if !x.TooSmall || !strings.HasPrefix(x.Note, want) || !strings.Contains(x.Note, "need at least 30 in each and 5 outcomes") {
		t.Errorf("too small %v, note %q", x.TooSmall, x.Note)
	}
}
