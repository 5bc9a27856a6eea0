package policy

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// Report summarizes silences created and decisions made from since until now.
//
// A contact is avoided when an enforced (non-shadow) decision dropped it; a quiet-hours
// deferral is not counted, since the sender retries it later. Cost avoided is the sum of the
// configured per-channel cost over avoided contacts.
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
		}
		silences, err := allPages(func(p gateway.Page) ([]gateway.Silence, string, error) {
			return tx.Silences(gateway.SilenceQuery{Page: p})
		})
		if err != nil {
			return fmt.Errorf("listing silences: %w", err)
		}
		for _, s := range silences {
			if s.CreatedAt.Before(since) || s.CreatedAt.After(until) {
				continue
			}
			r.SilencesByRule[cmp.Or(s.Rule, "manual")]++
		}
		p := gateway.Page{Limit: pageLimit}
		for {
			decisions, next, err := tx.Decisions(gateway.DecisionQuery{Since: since, Until: until.Add(time.Nanosecond), Page: p}) // through now
			if err != nil {
				return fmt.Errorf("listing decisions: %w", err)
			}
			for i := range decisions {
				e.countDecision(r, &decisions[i])
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

func (e *Engine) countDecision(r *gateway.Report, d *gateway.Decision) {
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
	r.ContactsAvoided++
	r.ContactsAvoidedByDay[d.At.UTC().Format(time.DateOnly)]++
	bump(r.ContactsAvoidedByDayReason, d.At.In(e.fallback).Format(time.DateOnly), reason)
	r.CostAvoided += e.costs[d.Channel]
}

func bump(m map[string]map[string]int, key, outcome string) {
	if m[key] == nil {
		m[key] = map[string]int{}
	}
	m[key][outcome]++
}
