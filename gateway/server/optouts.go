package server

import (
	"net/http"
	"strings"

	"github.com/hush-gateway/hush/gateway"
)

// handleOptOutsList answers GET /api/v1/optouts?active=&identity=&cursor=&limit=.
func handleOptOutsList(deps Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
		q := gateway.OptOutQuery{ActiveOnly: active, Page: page}
		var items []gateway.OptOut
		var next string
		err = deps.Store.View(r.Context(), func(tx gateway.Tx) error {
			if ok, err := filterByIdentity(r, tx, deps.DefaultRegion, &q.CustomerID); !ok || err != nil {
				return err
			}
			var err error
			items, next, err = tx.OptOuts(q)
			return err
		})
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		writeJSON(w, http.StatusOK, newList(items, next))
	})
}

type optOutBody struct {
	Identity string `json:"identity"`
	Channel  string `json:"channel"`
	Reason   string `json:"reason"`
}

func handleOptOutCreate(deps Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body optOutBody
		if err := decodeJSON(w, r, deps.Limits.Body, &body); err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		id, err := parseIdentityField(body.Identity, "identity", deps.DefaultRegion)
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		if body.Channel == "" {
			writeError(w, r, deps.Logger, invalidf("channel is required"))
			return
		}
		ch, err := gateway.ParseChannel(body.Channel, false)
		if err != nil {
			writeError(w, r, deps.Logger, invalidf("channel: %v", err))
			return
		}
		o, err := deps.Engine.CreateOptOut(r.Context(), gateway.OptOutInput{
			Identity:  id,
			Channel:   ch,
			Reason:    strings.TrimSpace(body.Reason),
			CreatedBy: callerName(r.Context()),
		})
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		writeJSON(w, http.StatusCreated, o)
	})
}

func handleOptOutLift(deps Deps) http.Handler {
	return handleLift(deps, "opt-out", deps.Engine.LiftOptOut)
}
