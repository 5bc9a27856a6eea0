package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/hush-gateway/hush/gateway"
)

// customerView is the 360° answer of GET /api/v1/customers/{identity}.
type customerView struct {
	Customer   *gateway.Customer      `json:"customer"`
	Identities []gateway.Identity     `json:"identities"`
	Attributes customerAttributes     `json:"attributes"`
	Timeline   listBody[timelineItem] `json:"timeline"`
	Silences   customerSilences       `json:"silences"`
	OptOuts    []gateway.OptOut       `json:"optouts"`
}

type customerAttributes struct {
	Name     string            `json:"name,omitempty"`
	Locale   string            `json:"locale,omitempty"`
	Timezone string            `json:"timezone,omitempty"`
	Tags     []string          `json:"tags,omitempty"`
	Attrs    map[string]string `json:"attrs,omitempty"`
}

type customerSilences struct {
	Active []gateway.Silence `json:"active"`
	Past   []gateway.Silence `json:"past"`
}

// perCustomerListLimit bounds the silences and opt-outs shown with a customer: a person
// with more than this has a history the listing routes page through.
const perCustomerListLimit = 500

const defaultTimelineLimit = 50

// pathIdentity reads the {identity} route variable.
func pathIdentity(r *http.Request, region string) (gateway.Identity, error) {
	raw, err := pathVar(r, "identity")
	if err != nil {
		return "", err
	}
	return parseIdentityField(raw, "the identity in the path", region)
}

func handleCustomerGet(deps Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathIdentity(r, deps.DefaultRegion)
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		page, err := pageParams(r)
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		view, err := loadCustomer(r.Context(), deps, id, page)
		if errors.Is(err, gateway.ErrNotFound) {
			writeErrorCode(w, gateway.CodeNotFound, "no customer has this identity")
			return
		}
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		writeJSON(w, http.StatusOK, view)
	})
}

// loadCustomer reads everything about the customer named by id: attributes, silences
// (active and past), opt-outs and one page of the timeline. The admin API and the console's
// customer page both show this. A customer nobody has is gateway.ErrNotFound.
func loadCustomer(ctx context.Context, deps Deps, id gateway.Identity, page gateway.Page) (customerView, error) {
	cur, limit, err := timelineStart(page)
	if err != nil {
		return customerView{}, err
	}
	// The timeline shows the decisions of sends made a moment ago too.
	if err := deps.Engine.FlushDecisions(ctx); err != nil {
		return customerView{}, err
	}
	now := deps.Now()
	var view customerView
	err = deps.Store.View(ctx, func(tx gateway.Tx) error {
		c, err := tx.CustomerByIdentity(id)
		if err != nil {
			return err
		}
		view = newCustomerView(c)
		items, next, err := readTimeline(tx, c.ID, cur, limit)
		if err != nil {
			return fmt.Errorf("timeline: %w", err)
		}
		view.Timeline = newList(items, next)
		silences, _, err := tx.Silences(gateway.SilenceQuery{CustomerID: c.ID, Page: gateway.Page{Limit: perCustomerListLimit}})
		if err != nil {
			return fmt.Errorf("silences: %w", err)
		}
		for _, s := range silences {
			if s.ActiveAt(now) {
				view.Silences.Active = append(view.Silences.Active, s)
			} else {
				view.Silences.Past = append(view.Silences.Past, s)
			}
		}
		optouts, _, err := tx.OptOuts(gateway.OptOutQuery{CustomerID: c.ID, Page: gateway.Page{Limit: perCustomerListLimit}})
		if err != nil {
			return fmt.Errorf("opt-outs: %w", err)
		}
		view.OptOuts = append(view.OptOuts, optouts...)
		return nil
	})
	return view, err
}

func newCustomerView(c *gateway.Customer) customerView {
	ids := c.Identities
	if ids == nil {
		ids = []gateway.Identity{}
	}
	return customerView{
		Customer:   c,
		Identities: ids,
		Attributes: customerAttributes{Name: c.Name, Locale: c.Locale, Timezone: c.Timezone, Tags: c.Tags, Attrs: c.Attrs},
		Silences:   customerSilences{Active: []gateway.Silence{}, Past: []gateway.Silence{}},
		OptOuts:    []gateway.OptOut{},
	}
}

// handleCustomerErase is the right to erasure: the customer and everything about them.
func handleCustomerErase(deps Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathIdentity(r, deps.DefaultRegion)
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		if err := deps.Engine.EraseCustomer(r.Context(), id); err != nil {
			if errors.Is(err, gateway.ErrNotFound) {
				writeErrorCode(w, gateway.CodeNotFound, "no customer has this identity")
				return
			}
			writeError(w, r, deps.Logger, err)
			return
		}
		deps.Logger.InfoContext(r.Context(), "customer erased", "by", callerName(r.Context()))
		w.WriteHeader(http.StatusNoContent)
	})
}

type linkBody struct {
	Identities []string `json:"identities"`
}

func handleCustomerLink(deps Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathIdentity(r, deps.DefaultRegion)
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		var body linkBody
		if err := decodeJSON(w, r, deps.Limits.Body, &body); err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		if len(body.Identities) == 0 {
			writeError(w, r, deps.Logger, invalidf("identities must list at least one identity"))
			return
		}
		if len(body.Identities) > 100 {
			writeError(w, r, deps.Logger, invalidf("identities lists %d identities; at most 100 per request", len(body.Identities)))
			return
		}
		others := make([]gateway.Identity, len(body.Identities))
		for i, s := range body.Identities {
			if others[i], err = parseIdentityField(s, fmt.Sprintf("identities[%d]", i), deps.DefaultRegion); err != nil {
				writeError(w, r, deps.Logger, err)
				return
			}
		}
		c, err := deps.Engine.LinkIdentities(r.Context(), id, others)
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		writeJSON(w, http.StatusOK, c)
	})
}
