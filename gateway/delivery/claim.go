package delivery

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// Claims. When several hush replicas share one store (it implements gateway.ChangeFeed),
// every replica's worker sees the same due messages. Right before a message's attempt, the
// worker claims it in one transaction — the shared store runs one writer at a time, so one
// replica wins — by moving NextAttempt past the longest an attempt can take. The others then
// see it as not due; the attempt's outcome (delivered, rescheduled, dead) overwrites
// NextAttempt as always. A replica that dies mid-attempt leaves its claim to expire and
// another tries again: still at least once, but no longer two replicas at once. With a store
// only this process uses, passes never overlap and nothing is written.

// DefaultClaimLease is how long a claim holds: longer than one attempt with its in-process
// retries (three tries of at most 15 s and their waits) or one sync job's calls.
const DefaultClaimLease = 5 * time.Minute

// claim reports whether this worker may attempt m now: always with an unshared store; with
// a shared one, only when m is still pending and due (no other replica claimed or finished
// it since this pass listed it), in which case the claim is written.
func (w *Worker) claim(ctx context.Context, m *gateway.OutboxMessage, now time.Time) (bool, error) {
	if _, shared := w.cfg.Store.(gateway.ChangeFeed); !shared {
		return true, nil
	}
	claimed := false
	err := w.cfg.Store.Update(ctx, func(tx gateway.Tx) error {
		claimed = false
		rec, err := tx.OutboxMessage(m.ID)
		if errors.Is(err, gateway.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if rec.State() != gateway.OutboxPending || rec.NextAttempt.After(now) {
			return nil // finished, or claimed or rescheduled by another replica
		}
		rec.NextAttempt = now.Add(w.cfg.ClaimLease)
		claimed = true
		return tx.PutOutbox(rec)
	})
	if err != nil {
		return false, fmt.Errorf("claim outbox message %s: %w", m.ID, err)
	}
	return claimed, nil
}
