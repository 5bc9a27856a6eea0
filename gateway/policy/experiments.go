package policy

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// DefaultOutcomeWindow is how long after a rule fired an outcome still counts for its
// experiment (Config.OutcomeWindow 0).
const DefaultOutcomeWindow = 90 * 24 * time.Hour

// Small-sample rule: below these a group's rates are shown but the report says plainly that
// nothing can be concluded. 30 customers and 5 outcomes are the usual thresholds under
// which the normal approximation behind a difference of proportions is not trusted.
const (
	minGroupCustomers = 30
	minGroupOutcomes  = 5
)

// z95 is the 97.5th percentile of the standard normal distribution: two-sided 95%.
const z95 = 1.959963984540054

// InControl reports whether the customer belongs to the rule's control group for a holdout
// fraction. It is a pure function of (rule, customer id), so every replica and every restart
// agrees without storing anything and without randomness: the first 8 bytes of
// SHA-256("hush holdout\x00" + rule + "\x00" + customerID), read as a big-endian unsigned
// integer and divided by 2^64, is a number in [0, 1) spread evenly over customers; the
// customer is control when it is below the fraction. The rule's name is hashed in so that
// each rule's control group is a different slice of the customers (nobody is held out of
// every rule), and the NUL separators keep ("ab", "c") apart from ("a", "bc").
func InControl(rule, customerID string, holdout float64) bool {
	if holdout <= 0 {
		return false
	}
	return holdoutPoint(rule, customerID) < holdout
}

// holdoutPoint is the customer's place in [0, 1) for the rule (see InControl).
func holdoutPoint(rule, customerID string) float64 {
	h := sha256.Sum256([]byte("hush holdout\x00" + rule + "\x00" + customerID))
	return float64(binary.BigEndian.Uint64(h[:8])) / (1 << 64)
}

// WilsonInterval is the Wilson score interval for x successes out of n at 95%:
//
//	center = (p + z²/2n) / (1 + z²/n),  half = z/(1 + z²/n) · √(p(1−p)/n + z²/4n²)
//
// chosen over the textbook p ± z√(p(1−p)/n) because it stays inside [0, 1] and keeps its
// coverage for the small counts and rates near 0 a churn or complaint rate has (Wilson 1927;
// Newcombe 1998, method 3). n = 0 says nothing: estimate 0, interval [0, 1].
func WilsonInterval(x, n int) gateway.Interval {
	if n <= 0 {
		return gateway.Interval{Low: 0, High: 1}
	}
	p := float64(x) / float64(n)
	nf := float64(n)
	z2 := z95 * z95
	denom := 1 + z2/nf
	center := (p + z2/(2*nf)) / denom
	half := z95 / denom * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))
	return gateway.Interval{Estimate: p, Low: max(0, center-half), High: min(1, center+half)}
}

// DifferenceInterval is the 95% interval of p1 − p2 for x1/n1 and x2/n2 by Newcombe's hybrid
// score method (Newcombe 1998, "Interval estimation for the difference between independent
// proportions", Stat. Med. 17:873–890, method 10): with (l1, u1) and (l2, u2) each rate's
// Wilson interval,
//
//	low  = d − √((p1 − l1)² + (u2 − p2)²),  high = d + √((u1 − p1)² + (p2 − l2)²)
//
// It needs no iteration, stays inside [−1, 1] and behaves at small counts, where the Wald
// interval of the difference does not.
func DifferenceInterval(x1, n1, x2, n2 int) gateway.Interval {
	a, b := WilsonInterval(x1, n1), WilsonInterval(x2, n2)
	d := a.Estimate - b.Estimate
	return gateway.Interval{
		Estimate: d,
		Low:      d - math.Sqrt(sq(a.Estimate-a.Low)+sq(b.High-b.Estimate)),
		High:     d + math.Sqrt(sq(a.High-a.Estimate)+sq(b.Estimate-b.Low)),
	}
}

func sq(x float64) float64 { return x * x }

// experimentMember is one customer of a holdout rule's experiment: when the rule first fired
// on them in the period, and which group it put them in.
type experimentMember struct {
	customerID string
	firedAt    time.Time
	control    bool
}

// countExperiments fills the report's shadow silences by rule and one experiment per rule
// with a holdout, from the period's silences (all of them, as Report lists them) and the
// outcome events that followed.
func (e *Engine) countExperiments(tx gateway.Tx, r *gateway.Report, silences []gateway.Silence) error {
	for i := range silences {
		s := &silences[i]
		if s.Shadow && inPeriod(s.CreatedAt, r.Since, r.Until) {
			if r.ShadowSilencesByRule == nil {
				r.ShadowSilencesByRule = map[string]int{}
			}
			r.ShadowSilencesByRule[s.Rule]++
		}
	}
	if e.rules == nil {
		return nil
	}
	for _, rule := range e.rules.Rules() {
		if rule.Holdout <= 0 {
			continue
		}
		x, err := e.experiment(tx, rule, silences, r.Since, r.Until)
		if err != nil {
			return err
		}
		r.Experiments = append(r.Experiments, x)
	}
	return nil
}

// inPeriod reports whether t is in [since, until].
func inPeriod(t, since, until time.Time) bool { return !t.Before(since) && !t.After(until) }

// experiment compares the customers a holdout rule silenced (enforced) in the period with
// those it held back as control. A customer belongs to the group of the rule's first silence
// on them in the period; shadow silences are left out, since while a rule is in shadow mode
// neither group is silenced.
//
// Outcomes are counted in the window after that first firing: the first of outcome.churned
// and outcome.retained decides whether the customer churned (a later "retained" does not
// undo a churn, nor the reverse); outcome.complained counts a complaint, and
// outcome.unsubscribed or consent.optout (an SMS STOP) an unsubscribe, once per customer.
// Rates are over all the group's customers: one without a churn event has not churned.
func (e *Engine) experiment(tx gateway.Tx, rule gateway.RuleSpec, silences []gateway.Silence, since, until time.Time) (gateway.Experiment, error) {
	first := map[string]*experimentMember{}
	for i := range silences {
		s := &silences[i]
		if s.Rule != rule.Name || s.Shadow || !inPeriod(s.CreatedAt, since, until) {
			continue
		}
		if m := first[s.CustomerID]; m == nil || s.Start.Before(m.firedAt) {
			first[s.CustomerID] = &experimentMember{customerID: s.CustomerID, firedAt: s.Start, control: s.Control}
		}
	}
	members := make([]*experimentMember, 0, len(first))
	for _, m := range first {
		members = append(members, m)
	}
	slices.SortFunc(members, func(a, b *experimentMember) int { return a.firedAt.Compare(b.firedAt) })

	x := gateway.Experiment{Rule: rule.Name, Holdout: rule.Holdout}
	window := e.outcomeWindow
	if window <= 0 {
		window = DefaultOutcomeWindow
	}
	for _, m := range members {
		g := &x.Treated
		if m.control {
			g = &x.Control
		}
		if err := countOutcomes(tx, g, m, window); err != nil {
			return x, err
		}
	}
	for _, g := range []*gateway.GroupOutcome{&x.Treated, &x.Control} {
		g.ChurnRate = WilsonInterval(g.Churned, g.Customers)
		g.ComplaintRate = WilsonInterval(g.Complained, g.Customers)
	}
	x.ChurnDiff = DifferenceInterval(x.Treated.Churned, x.Treated.Customers, x.Control.Churned, x.Control.Customers)
	x.TooSmall, x.Note = experimentNote(&x)
	return x, nil
}

// outcomeKinds: the event types that are an experiment's outcomes.
var outcomeKinds = []string{gateway.EventOutcomeChurned, gateway.EventOutcomeRetained,
	gateway.EventOutcomeComplained, gateway.EventOutcomeUnsubscribed, gateway.EventConsentOptOut}

// countOutcomes adds one customer and what followed the firing to the group.
func countOutcomes(tx gateway.Tx, g *gateway.GroupOutcome, m *experimentMember, window time.Duration) error {
	g.Customers++
	var (
		churnAt      time.Time
		churnType    string
		complained   bool
		unsubscribed bool
	)
	p := gateway.Page{Limit: pageLimit}
	for {
		events, next, err := tx.Events(gateway.EventQuery{CustomerID: m.customerID, Since: m.firedAt, Until: m.firedAt.Add(window), Page: p})
		if err != nil {
			return fmt.Errorf("reading the outcomes of customer %s: %w", m.customerID, err)
		}
		for i := range events {
			ev := &events[i]
			if !slices.Contains(outcomeKinds, ev.Type) {
				continue
			}
			switch ev.Type {
			case gateway.EventOutcomeChurned, gateway.EventOutcomeRetained:
				// Newest first, but ties and pages make "<=" the safe way to keep the earliest.
				if churnType == "" || !churnAt.Before(ev.At) {
					churnAt, churnType = ev.At, ev.Type
				}
			case gateway.EventOutcomeComplained:
				complained = true
			default:
				unsubscribed = true
			}
		}
		if next == "" || len(events) == 0 {
			break
		}
		p.Cursor = next
	}
	switch churnType {
	case gateway.EventOutcomeChurned:
		g.Churned++
	case gateway.EventOutcomeRetained:
		g.Retained++
	}
	if complained {
		g.Complained++
	}
	if unsubscribed {
		g.Unsubscribed++
	}
	return nil
}

// outcomes counts the group's customers with any outcome recorded (an upper bound: one
// customer may have churned and complained; what matters is that there is something to
// compare).
func outcomes(g *gateway.GroupOutcome) int {
	return g.Churned + g.Retained + g.Complained + g.Unsubscribed
}

// experimentNote applies the small-sample rule and says what the comparison shows, in
// plain words, for the report and the console.
func experimentNote(x *gateway.Experiment) (tooSmall bool, note string) {
	t, c := &x.Treated, &x.Control
	if t.Customers < minGroupCustomers || c.Customers < minGroupCustomers ||
		outcomes(t) < minGroupOutcomes || outcomes(c) < minGroupOutcomes {
		return true, fmt.Sprintf("too few customers to conclude: %d treated, %d control (%d and %d with an outcome); need at least %d in each and %d outcomes",
			t.Customers, c.Customers, outcomes(t), outcomes(c), minGroupCustomers, minGroupOutcomes)
	}
	d := x.ChurnDiff
	var verdict string
	switch {
	case d.High < 0:
		verdict = "fewer silenced customers churned (the whole interval is below zero)"
	case d.Low > 0:
		verdict = "more silenced customers churned (the whole interval is above zero)"
	default:
		verdict = "the interval includes zero: no difference in churn is shown yet"
	}
	return false, fmt.Sprintf("churn %.1f%% silenced vs %.1f%% control: a difference of %+.1f points (95%% interval %+.1f to %+.1f); %s",
		100*t.ChurnRate.Estimate, 100*c.ChurnRate.Estimate, 100*d.Estimate, 100*d.Low, 100*d.High, verdict)
}
