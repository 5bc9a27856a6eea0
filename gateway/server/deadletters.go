package server

import (
	"errors"
	"net/http"

	"github.com/hush-gateway/hush/gateway"
)

func handleDeadLettersList(deps Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page, err := pageParams(r)
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		var items []gateway.DeadLetter
		var next string
		err = deps.Store.View(r.Context(), func(tx gateway.Tx) error {
			var err error
			items, next, err = tx.DeadLetters(page)
			return err
		})
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		writeJSON(w, http.StatusOK, newList(items, next))
	})
}

func handleDeadLetterGet(deps Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		dl, err := loadDeadLetter(r, deps)
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		writeJSON(w, http.StatusOK, dl)
	})
}

func loadDeadLetter(r *http.Request, deps Deps) (*gateway.DeadLetter, error) {
	id, err := pathVar(r, "id")
	if err != nil {
		return nil, err
	}
	var dl *gateway.DeadLetter
	err = deps.Store.View(r.Context(), func(tx gateway.Tx) error {
		var err error
		dl, err = tx.DeadLetter(id)
		return err
	})
	if errors.Is(err, gateway.ErrNotFound) {
		return nil, gateway.Errorf(gateway.CodeNotFound, "no dead letter has this id")
	}
	return dl, err
}

// replayAnswer is the webhook answer plus the dead letter as it now stands.
type replayAnswer struct {
	gateway.IngestResult
	DeadLetter *gateway.DeadLetter `json:"deadletter"`
}

// handleDeadLetterReplay parses a kept delivery again with the source's current connector
// (after an operator fixed the config or hush was upgraded) and ingests it. It is not
// verified again: it was verified on receipt, and a timestamped signature would be stale.
func handleDeadLetterReplay(deps Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		dl, err := loadDeadLetter(r, deps)
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		src, ok := deps.Sources[dl.Source]
		if !ok {
			writeErrorCode(w, gateway.CodeConflict, "source "+dl.Source+" is no longer configured")
			return
		}
		req := replayRequest(dl)
		parsed, parseErr := src.Connector.Parse(req)
		now := deps.Now()
		dl.Attempts++
		if parseErr != nil {
			dl.Error = parseErr.Error()
			if err := putDeadLetter(r, deps, dl); err != nil {
				writeError(w, r, deps.Logger, err)
				return
			}
			writeErrorCode(w, gateway.CodeInvalid, messageOf(parseErr))
			return
		}
		events := stampEvents(parsed.Events, dl.Source, dl.ReceivedAt, dl.Body)
		res, ok := ingest(w, r, deps, events, parsed.Ignored)
		if !ok {
			return
		}
		dl.ReplayedAt = &now
		dl.Error = ""
		if err := putDeadLetter(r, deps, dl); err != nil {
			// The events are in; only the bookkeeping failed. A second replay is harmless:
			// redeliveries are counted as duplicates.
			writeError(w, r, deps.Logger, err)
			return
		}
		countIngest(deps.Metrics, dl.Source, res)
		writeJSON(w, http.StatusOK, replayAnswer{IngestResult: res, DeadLetter: dl})
	})
}

func putDeadLetter(r *http.Request, deps Deps, dl *gateway.DeadLetter) error {
	return deps.Store.Update(r.Context(), func(tx gateway.Tx) error {
		return tx.PutDeadLetter(dl)
	})
}
