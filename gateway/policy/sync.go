package policy

import (
	"fmt"
	"slices"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// queueSync writes one suppression-list sync job per synced upstream for every customer the
// transaction marked, in the same transaction: the change and the job that carries it to the
// vendors commit together or not at all. The job is level-triggered (the worker compares the
// customer's silences with its ledger), so a job queued for a change that turns out not to
// matter costs one store read.
func (e *Engine) queueSync(tx gateway.Tx, ch *changes) error {
	if len(e.syncUpstreams) == 0 || len(ch.sync) == 0 {
		return nil
	}
	now := e.now()
	ids := make([]string, 0, len(ch.sync))
	for id := range ch.sync {
		ids = append(ids, id)
	}
	slices.Sort(ids) // the same writes on every run of the transaction
	for _, id := range ids {
		for _, up := range e.syncUpstreams {
			m := &gateway.OutboxMessage{
				ID: gateway.NewID("out", now), Kind: gateway.OutboxSync, Target: up, CustomerID: id,
				Payload: []byte(`{}`), CreatedAt: now, NextAttempt: now,
			}
			if err := tx.PutOutbox(m); err != nil {
				return fmt.Errorf("queuing the suppression sync of upstream %s: %w", up, err)
			}
		}
	}
	return nil
}

// hasEnforcedSilence reports whether the customer has a silence in force that is not a
// shadow rule's nor a holdout's control record.
func hasEnforcedSilence(tx gateway.Tx, customerID string, now time.Time) (bool, error) {
	silences, err := allPages(func(p gateway.Page) ([]gateway.Silence, string, error) {
		return tx.Silences(gateway.SilenceQuery{CustomerID: customerID, ActiveAt: now, Page: p})
	})
	if err != nil {
		return false, fmt.Errorf("reading the silences of customer %s: %w", customerID, err)
	}
	return slices.ContainsFunc(silences, func(s gateway.Silence) bool { return s.Enforced() && s.ActiveAt(now) }), nil
}
