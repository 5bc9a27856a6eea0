package server

import (
	"errors"
	"net/http"
	"strings"

	"github.com/hush-gateway/hush/gateway"
)

// handleIncidentsList answers GET /api/v1/incidents?open=true&cursor=&limit= (active=true
// is read as open=true).
func handleIncidentsList(deps Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page, err := pageParams(r)
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		open, err := boolParam(r, "open")
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		active, err := boolParam(r, "active")
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		var items []gateway.Incident
		var next string
		err = deps.Store.View(r.Context(), func(tx gateway.Tx) error {
			var err error
			items, next, err = tx.Incidents(gateway.IncidentQuery{OpenOnly: open || active, Page: page})
			return err
		})
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		writeJSON(w, http.StatusOK, newList(items, next))
	})
}

type incidentBody struct {
	Title      string   `json:"title"`
	Scope      string   `json:"scope"`
	Categories []string `json:"categories"`
	Channels   []string `json:"channels"`
}

func (b incidentBody) toInput() (gateway.IncidentInput, error) {
	var in gateway.IncidentInput
	in.Title = strings.TrimSpace(b.Title)
	if in.Title == "" {
		return in, invalidf("title is required")
	}
	if len(in.Title) > 500 {
		return in, invalidf("title is longer than 500 characters")
	}
	in.Scope = strings.TrimSpace(b.Scope)
	switch {
	case in.Scope == "":
		in.Scope = "all"
	case in.Scope == "all":
	case strings.HasPrefix(in.Scope, "tag:") && len(in.Scope) > len("tag:"):
	default:
		return in, invalidf(`scope must be "all" or "tag:<tag>"`)
	}
	var err error
	if in.Categories, err = parseCategories(b.Categories, "categories"); err != nil {
		return in, err
	}
	if in.Channels, err = parseChannels(b.Channels, "channels"); err != nil {
		return in, err
	}
	in.Source = "api"
	return in, nil
}

func handleIncidentOpen(deps Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body incidentBody
		if err := decodeJSON(w, r, deps.Limits.Body, &body); err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		in, err := body.toInput()
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		in.CreatedBy = callerName(r.Context())
		inc, err := deps.Engine.OpenIncident(r.Context(), in)
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		writeJSON(w, http.StatusCreated, inc)
	})
}

func handleIncidentResolve(deps Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathVar(r, "id")
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		inc, err := deps.Engine.ResolveIncident(r.Context(), id, callerName(r.Context()))
		if errors.Is(err, gateway.ErrNotFound) {
			writeErrorCode(w, gateway.CodeNotFound, "no incident has this id")
			return
		}
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		writeJSON(w, http.StatusOK, inc)
	})
}
