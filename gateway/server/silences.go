package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// handleSilencesList answers GET /api/v1/silences?active=&rule=&identity=&cursor=&limit=,
// and with format=csv the whole selection as a suppression list (silencesCSV).
func handleSilencesList(deps Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch f := r.URL.Query().Get("format"); f {
		case "", "json":
		case "csv":
			silencesCSV(deps, w, r)
			return
		default:
			writeErrorCode(w, gateway.CodeInvalid, "format must be json or csv")
			return
		}
		page, err := pageParams(r)
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		active, err := boolParam(r, "active")
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		q := gateway.SilenceQuery{Rule: r.URL.Query().Get("rule"), Topic: r.URL.Query().Get("topic"), Page: page}
		if active {
			q.ActiveAt = deps.Now()
		}
		var items []gateway.Silence
		var next string
		err = deps.Store.View(r.Context(), func(tx gateway.Tx) error {
			if ok, err := filterByIdentity(r, tx, deps.DefaultRegion, &q.CustomerID); !ok || err != nil {
				return err
			}
			var err error
			items, next, err = tx.Silences(q)
			return err
		})
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		writeJSON(w, http.StatusOK, newList(items, next))
	})
}

// filterByIdentity resolves ?identity= to a customer id. It reports false (an empty
// listing) when no customer has the identity.
func filterByIdentity(r *http.Request, tx gateway.Tx, region string, customerID *string) (bool, error) {
	s := r.URL.Query().Get("identity")
	if s == "" {
		return true, nil
	}
	id, err := parseIdentityField(s, "identity", region)
	if err != nil {
		return false, err
	}
	c, err := tx.CustomerByIdentity(id)
	if errors.Is(err, gateway.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	*customerID = c.ID
	return true, nil
}

func handleSilenceGet(deps Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathVar(r, "id")
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		var s *gateway.Silence
		err = deps.Store.View(r.Context(), func(tx gateway.Tx) error {
			var err error
			s, err = tx.Silence(id)
			return err
		})
		if errors.Is(err, gateway.ErrNotFound) {
			writeErrorCode(w, gateway.CodeNotFound, "no silence has this id")
			return
		}
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		writeJSON(w, http.StatusOK, s)
	})
}

type silenceBody struct {
	Identity   string   `json:"identity"`
	For        string   `json:"for"`
	Until      string   `json:"until"`
	Categories []string `json:"categories"`
	Channels   []string `json:"channels"`
	Reason     string   `json:"reason"`
}

func (b silenceBody) toInput(region string, now time.Time) (gateway.SilenceInput, error) {
	var in gateway.SilenceInput
	id, err := parseIdentityField(b.Identity, "identity", region)
	if err != nil {
		return in, err
	}
	in.Identity = id
	switch {
	case b.For != "" && b.Until != "":
		return in, invalidf("give either for or until, not both")
	case b.For != "":
		d, err := gateway.ParseDuration(b.For)
		if err != nil {
			return in, invalidf("for: %v", err)
		}
		if d <= 0 {
			return in, invalidf("for must be longer than zero")
		}
		in.For = d
	case b.Until != "":
		t, err := time.Parse(time.RFC3339, b.Until)
		if err != nil {
			return in, invalidf("until must be an RFC 3339 time such as 2026-12-08T10:00:00Z")
		}
		if !t.After(now) {
			return in, invalidf("until must be in the future")
		}
		in.Until = t
	default:
		return in, invalidf("for (a duration such as 15d) or until (an RFC 3339 time) is required")
	}
	if in.Categories, err = parseCategories(b.Categories, "categories"); err != nil {
		return in, err
	}
	if in.Channels, err = parseChannels(b.Channels, "channels"); err != nil {
		return in, err
	}
	in.Reason = strings.TrimSpace(b.Reason)
	if len(in.Reason) > 1000 {
		return in, invalidf("reason is longer than 1000 characters")
	}
	return in, nil
}

func handleSilenceCreate(deps Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body silenceBody
		if err := decodeJSON(w, r, deps.Limits.Body, &body); err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		in, err := body.toInput(deps.DefaultRegion, deps.Now())
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		in.CreatedBy = callerName(r.Context())
		s, err := deps.Engine.CreateSilence(r.Context(), in)
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		writeJSON(w, http.StatusCreated, s)
	})
}

// liftBody is the optional body of the DELETE routes that lift a silence or an opt-out.
type liftBody struct {
	Reason string `json:"reason"`
}

func handleSilenceLift(deps Deps) http.Handler {
	return handleLift(deps, "silence", deps.Engine.LiftSilence)
}

// handleLift ends a silence or an opt-out now, recording the caller and the optional reason:
// the two DELETE routes differ only in what they lift.
func handleLift[T any](deps Deps, what string, lift func(ctx context.Context, id, by, reason string) (*T, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathVar(r, "id")
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		var body liftBody
		if err := decodeOptionalJSON(w, r, deps.Limits.Body, &body); err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		lifted, err := lift(r.Context(), id, callerName(r.Context()), strings.TrimSpace(body.Reason))
		if errors.Is(err, gateway.ErrNotFound) {
			writeErrorCode(w, gateway.CodeNotFound, "no "+what+" has this id")
			return
		}
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		writeJSON(w, http.StatusOK, lifted)
	})
}

// extendBody is the body of POST /api/v1/silences/{id}/extend: a new end (until) or how
// much later than the current end (for), and why.
type extendBody struct {
	Until  string `json:"until"`
	For    string `json:"for"`
	Reason string `json:"reason"`
}

func handleSilenceExtend(deps Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathVar(r, "id")
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		var body extendBody
		if err := decodeJSON(w, r, deps.Limits.Body, &body); err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		var more time.Duration
		var until time.Time
		switch {
		case body.For != "" && body.Until != "":
			err = invalidf("give either for or until, not both")
		case body.For != "":
			if more, err = gateway.ParseDuration(body.For); err != nil {
				err = invalidf("for: %v", err)
			} else if more <= 0 {
				err = invalidf("for must be longer than zero")
			}
		case body.Until != "":
			if until, err = time.Parse(time.RFC3339, body.Until); err != nil {
				err = invalidf("until must be an RFC 3339 time such as 2026-12-08T10:00:00Z")
			}
		default:
			err = invalidf("for (a duration such as 15d) or until (an RFC 3339 time) is required")
		}
		reason := strings.TrimSpace(body.Reason)
		if err == nil && len(reason) > 1000 {
			err = invalidf("reason is longer than 1000 characters")
		}
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		s, err := extendSilence(r.Context(), deps, id, more, until, callerName(r.Context()), reason)
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		writeJSON(w, http.StatusOK, s)
	})
}

// extendSilence moves the end of silence id to until or, when more is set, to more after its
// current end. The admin API and the console's extend form both call it.
func extendSilence(ctx context.Context, deps Deps, id string, more time.Duration, until time.Time, by, reason string) (*gateway.Silence, error) {
	if more > 0 {
		var s *gateway.Silence
		err := deps.Store.View(ctx, func(tx gateway.Tx) error {
			var err error
			s, err = tx.Silence(id)
			return err
		})
		if errors.Is(err, gateway.ErrNotFound) {
			return nil, gateway.Errorf(gateway.CodeNotFound, "no silence has this id")
		}
		if err != nil {
			return nil, fmt.Errorf("reading silence: %w", err)
		}
		base := deps.Now()
		if s.End != nil && s.End.After(base) {
			base = *s.End
		}
		until = base.Add(more)
	}
	return deps.Engine.ExtendSilence(ctx, id, until, by, reason)
}
