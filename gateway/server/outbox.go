package server

import (
	"errors"
	"net/http"

	"github.com/hush-gateway/hush/gateway"
)

// The outbox holds side effects (alerts) that the delivery worker sends after commit. These
// handlers let an operator see what is pending, delivered or dead, and send a dead one
// again. A message's payload holds references only (ids, rule, scores), never a customer's
// words or contact details, so it is shown as stored.

// outboxStateParam reads ?state=pending|delivered|dead; absent is every state.
func outboxStateParam(r *http.Request) (string, error) {
	switch s := r.URL.Query().Get("state"); s {
	case "", gateway.OutboxPending, gateway.OutboxDelivered, gateway.OutboxDead:
		return s, nil
	default:
		return "", invalidf("state must be pending, delivered or dead")
	}
}

func handleOutboxList(deps Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page, err := pageParams(r)
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		state, err := outboxStateParam(r)
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		var items []gateway.OutboxMessage
		var next string
		err = deps.Store.View(r.Context(), func(tx gateway.Tx) error {
			var err error
			items, next, err = tx.Outbox(gateway.OutboxQuery{State: state, Page: page})
			return err
		})
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		writeJSON(w, http.StatusOK, newList(items, next))
	})
}

func handleOutboxGet(deps Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathVar(r, "id")
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		var m *gateway.OutboxMessage
		err = deps.Store.View(r.Context(), func(tx gateway.Tx) error {
			var err error
			m, err = tx.OutboxMessage(id)
			return err
		})
		if err != nil {
			writeError(w, r, deps.Logger, outboxLookupError(err))
			return
		}
		writeJSON(w, http.StatusOK, m)
	})
}

// handleOutboxRetry makes a dead (or still pending) message due now, so the worker sends it
// on its next poll. Attempts are kept: they are the message's history, and the worker's
// backoff starts over from them only if the operator's retry fails too. LastError stays as
// the last thing the destination said. A delivered message is a conflict: sending it again
// would be a duplicate alert.
func handleOutboxRetry(deps Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathVar(r, "id")
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		now := deps.Now()
		var m *gateway.OutboxMessage
		err = deps.Store.Update(r.Context(), func(tx gateway.Tx) error {
			var err error
			m, err = tx.OutboxMessage(id)
			if err != nil {
				return err
			}
			if m.DeliveredAt != nil {
				return gateway.Errorf(gateway.CodeConflict, "this outbox message was already delivered; retrying would send it twice")
			}
			m.DeadAt, m.DeadReason, m.NextAttempt = nil, "", now
			return tx.PutOutbox(m)
		})
		if err != nil {
			writeError(w, r, deps.Logger, outboxLookupError(err))
			return
		}
		deps.Logger.InfoContext(r.Context(), "outbox message retried", "id", m.ID, "target", m.Target, "by", callerName(r.Context()))
		writeJSON(w, http.StatusOK, m)
	})
}

// outboxLookupError names the missing thing for the caller.
func outboxLookupError(err error) error {
	if errors.Is(err, gateway.ErrNotFound) {
		return gateway.Errorf(gateway.CodeNotFound, "no outbox message has this id")
	}
	return err
}
