package policy

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// Who stopped a silence, for Report.SilencesLiftedBy.
const (
	stoppedByEnd    = "end"    // its own end came (the rule's `for` or grace, or an end set by hand)
	stoppedByPerson = "person" // someone lifted it before its end
)

// Report summarizes silences created and decisions made from since until now.
//
// A contact is avoided when an enforced (non-shadow) decision dropped it; a quiet-hours
// deferral is not counted, since the sender retries it later. Cost avoided is the sum of the
// configured per-channel cost over avoided contacts.
//
// Everything is read in one View: silences once (created, stopped and their lengths, and
// the rule of each for decisions that lack one), the outbox once (alerts and follow-ups
// delivered or given up in the period), and the period's decisions in one pass.
func (e *Engine) Report(ctx context.Context, since time.Time) (*gateway.Report, error) {
	if err := e.FlushDecisions(ctx); err != nil {
		return nil, storeError(err, "writing the decision log")
	}
	until := e.now()
	var r *gateway.Report
	err := e.store.View(ctx, func(tx gateway.Tx) error {
		r = &gateway.Report{
			Since: since, Until: until,
			SilencesByRule:             map[string]int{},
			DecisionsByReason:          map[string]int{},
			DecisionsByChannel:         map[string]map[string]int{},
			DecisionsByUpstream:        map[string]map[string]int{},
			ContactsAvoidedByDay:       map[string]int{},
			ContactsAvoidedByDayReason: map[string]map[string]int{},
			ContactsAvoidedByChannel:   map[string]int{},
			ContactsAvoidedByReason:    map[string]int{},
			ContactsAvoidedByRule:      map[string]int{},
			CostAvoidedByChannel:       map[string]float64{},
			SilencesLiftedBy:           map[string]int{},
			AlertsSentByName:           map[string]int{},
		}
		silences, err := allPages(func(p gateway.Page) ([]gateway.Silence, string, error) {
			return tx.Silences(gateway.SilenceQuery{Page: p})
		})
		if err != nil {
			return fmt.Errorf("listing silences: %w", err)
		}
		if err := e.countExperiments(tx, r, silences); err != nil {
			return err
		}
		silenceRules := make(map[string]string, len(silences))
		var lengths []time.Duration
		for i := range silences {
			s := &silences[i]
			silenceRules[s.ID] = cmp.Or(s.Rule, "manual")
			if within(s.CreatedAt, since, until) {
				r.SilencesByRule[cmp.Or(s.Rule, "manual")]++
			}
			if !s.Enforced() {
				continue // a shadow rule's or a control group's: it withheld nothing, so it ended nothing
			}
			if stop, by, ok := silenceStop(s); ok && within(stop, since, until) {
				r.SilencesLifted++
				r.SilencesLiftedBy[by]++
				lengths = append(lengths, max(stop.Sub(s.Start), 0))
			}
		}
		r.MedianSilenceLength = gateway.Duration(median(lengths))
		if err := countOutbox(tx, r, since, until); err != nil {
			return err
		}
		p := gateway.Page{Limit: pageLimit}
		for {
			decisions, next, err := tx.Decisions(gateway.DecisionQuery{Since: since, Until: until.Add(time.Nanosecond), Page: p}) // through now
			if err != nil {
				return fmt.Errorf("listing decisions: %w", err)
			}
			for i := range decisions {
				e.countDecision(r, &decisions[i], silenceRules)
			}
			if next == "" || len(decisions) == 0 {
				return nil
			}
			p.Cursor = next
		}
	})
	if err != nil {
		return nil, storeError(err, "building the report")
	}
	return r, nil
}

func (e *Engine) countDecision(r *gateway.Report, d *gateway.Decision, silenceRules map[string]string) {
	outcome, reason := "allowed", cmp.Or(d.Reason, "allowed")
	switch {
	case !d.Allowed:
		outcome = "dropped"
	case d.Unsent:
		outcome, reason = "unsent", "unsent" // allowed, but the upstream never took it
	}
	r.DecisionsByReason[reason]++
	bump(r.DecisionsByChannel, string(d.Channel), outcome)
	bump(r.DecisionsByUpstream, cmp.Or(d.Upstream, "api"), outcome)
	if d.Allowed || d.Shadow || d.Defer {
		return
	}
	cost := e.costs[d.Channel]
	r.ContactsAvoided++
	r.ContactsAvoidedByDay[d.At.UTC().Format(time.DateOnly)]++
	bump(r.ContactsAvoidedByDayReason, d.At.In(e.fallback).Format(time.DateOnly), reason)
	r.ContactsAvoidedByChannel[string(d.Channel)]++
	r.ContactsAvoidedByReason[reason]++
	if rule := cmp.Or(d.Rule, silenceRules[d.SilenceID]); rule != "" {
		r.ContactsAvoidedByRule[rule]++
	}
	r.CostAvoided += cost
	if cost != 0 {
		r.CostAvoidedByChannel[string(d.Channel)] += cost
	}
}

// countOutbox counts the retention alerts and follow-ups delivered, and those given up,
// in the period. A delivered message counts as delivered even if it was once dead (State).
func countOutbox(tx gateway.Tx, r *gateway.Report, since, until time.Time) error {
	p := gateway.Page{Limit: pageLimit}
	for {
		msgs, next, err := tx.Outbox(gateway.OutboxQuery{Page: p})
		if err != nil {
			return fmt.Errorf("listing the outbox: %w", err)
		}
		for i := range msgs {
			m := &msgs[i]
			if m.Kind != gateway.OutboxAlert && m.Kind != gateway.OutboxFollowUp {
				continue
			}
			switch m.State() {
			case gateway.OutboxDelivered:
				if !within(*m.DeliveredAt, since, until) {
					continue
				}
				if m.Kind == gateway.OutboxAlert {
					r.AlertsSent++
					r.AlertsSentByName[m.Target]++
				} else {
					r.FollowUpsSent++
				}
			case gateway.OutboxDead:
				if within(*m.DeadAt, since, until) {
					r.AlertsGivenUp++
				}
			}
		}
		if next == "" || len(msgs) == 0 {
			return nil
		}
		p.Cursor = next
	}
}

// silenceStop is when a silence stopped being in force and who stopped it; ok is false
// while it is still open-ended (waiting for its topic) and not lifted. A silence whose end
// is still to come has a stop in the future, which the period leaves out.
func silenceStop(s *gateway.Silence) (stop time.Time, by string, ok bool) {
	if s.LiftedAt != nil && (s.End == nil || s.LiftedAt.Before(*s.End)) {
		return *s.LiftedAt, stoppedByPerson, true
	}
	if s.End != nil {
		return *s.End, stoppedByEnd, true
	}
	return time.Time{}, "", false
}

// median is the middle length, or the mean of the two middle ones for an even count
// (the usual definition); 0 for none.
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	mid := len(ds) / 2
	if len(ds)%2 == 1 {
		return ds[mid]
	}
	return ds[mid-1] + (ds[mid]-ds[mid-1])/2 // no overflow for long silences
}

// within reports whether t is in [since, until].
func within(t, since, until time.Time) bool { return !t.Before(since) && !t.After(until) }

func bump(m map[string]map[string]int, key, outcome string) {
	if m[key] == nil {
		m[key] = map[string]int{}
	}
	m[key][outcome]++
}
