package server

import (
	"context"
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
// (after an operator fixed the config or hush was upgraded) and ingests it.
func handleDeadLetterReplay(deps Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		dl, err := loadDeadLetter(r, deps)
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		res, err := replayDeadLetter(r, deps, dl)
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		writeJSON(w, http.StatusOK, replayAnswer{IngestResult: res, DeadLetter: dl})
	})
}

// replayDeadLetter parses dl again with its source's current connector and ingests the
// events, updating dl (attempts, error, replayed at) and storing it. It is not verified
// again: it was verified on receipt, and a timestamped signature would be stale. Errors are
// *gateway.Error: conflict when the source is gone, invalid (with the connector's sentence)
// when the payload still does not parse, unavailable when storage failed. The admin API
// and the console's replay button both call it.
func replayDeadLetter(r *http.Request, deps Deps, dl *gateway.DeadLetter) (gateway.IngestResult, error) {
	src, ok := deps.Sources[dl.Source]
	if !ok {
		return gateway.IngestResult{}, gateway.Errorf(gateway.CodeConflict, "source %s is no longer configured", dl.Source)
	}
	parsed, parseErr := src.Connector.Parse(replayRequest(dl))
	now := deps.Now()
	dl.Attempts++
	if parseErr != nil {
		dl.Error = parseErr.Error()
		if err := putDeadLetter(r, deps, dl); err != nil {
			return gateway.IngestResult{}, err
		}
		return gateway.IngestResult{}, invalidf("%s", messageOf(parseErr))
	}
	events := stampEvents(parsed.Events, dl.Source, dl.ReceivedAt, dl.Body)
	res, err := ingestEvents(r, deps, events, parsed.Ignored)
	if err != nil {
		return res, err
	}
	dl.ReplayedAt = &now
	dl.Error = ""
	if err := putDeadLetter(r, deps, dl); err != nil {
		// The events are in; only the bookkeeping failed. A second replay is harmless:
		// redeliveries are counted as duplicates.
		return res, err
	}
	countIngest(deps.Metrics, dl.Source, res)
	return res, nil
}

// ingestEvents is ingest for callers that answer errors themselves: a *gateway.Error keeps
// its code; anything else is storage failing, reported as unavailable.
func ingestEvents(r *http.Request, deps Deps, events []gateway.Event, ignored int) (gateway.IngestResult, error) {
	res, err := deps.Engine.Ingest(r.Context(), events, ignored)
	if err == nil {
		deps.writes.succeeded()
		return res, nil
	}
	var ge *gateway.Error
	if errors.As(err, &ge) {
		if ge.Code == gateway.CodeUnavailable && !errors.Is(err, context.Canceled) {
			deps.writes.failed() // a caller who left is no sign of a failing disk
		}
		return res, err
	}
	if !errors.Is(err, context.Canceled) {
		deps.writes.failed()
	}
	deps.Logger.ErrorContext(r.Context(), "ingest failed", "route", routeTemplate(r), "err", err)
	return res, &gateway.Error{Code: gateway.CodeUnavailable, Message: "the events could not be stored; retry later", Err: err}
}

func putDeadLetter(r *http.Request, deps Deps, dl *gateway.DeadLetter) error {
	return deps.Store.Update(r.Context(), func(tx gateway.Tx) error {
		return tx.PutDeadLetter(dl)
	})
}
