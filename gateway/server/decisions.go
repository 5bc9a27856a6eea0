package server

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/hush-gateway/hush/gateway"
)

// maxRecipientsPerDecision bounds one decision request.
const maxRecipientsPerDecision = 1000

type decisionRequestBody struct {
	Channel    string           `json:"channel"`
	Category   string           `json:"category"`
	Recipients []recipientInput `json:"recipients"`
	Record     *bool            `json:"record"` // absent: true
}

// recipientInput is one recipient as callers write it: exactly one of the three keys.
type recipientInput struct {
	Email *string `json:"email"`
	Phone *string `json:"phone"`
	ID    *string `json:"id"`
}

type decisionsAnswer struct {
	Decisions []gateway.Decision `json:"decisions"`
}

// handleDecisions answers "may we contact these people?" with the same function the proxy
// uses.
func handleDecisions(deps Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body decisionRequestBody
		if err := decodeJSON(w, r, deps.Limits.Body, &body); err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		req, err := body.toRequest(deps.DefaultRegion)
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		decisions, err := deps.Engine.Decide(r.Context(), req)
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		countDecisions(deps.Metrics, decisions, "api")
		if decisions == nil {
			decisions = []gateway.Decision{}
		}
		writeJSON(w, http.StatusOK, decisionsAnswer{Decisions: decisions})
	})
}

func (b decisionRequestBody) toRequest(region string) (gateway.DecisionRequest, error) {
	var req gateway.DecisionRequest
	if b.Channel == "" {
		return req, invalidf("channel is required")
	}
	ch, err := gateway.ParseChannel(b.Channel, false)
	if err != nil {
		return req, invalidf("channel: %v", err)
	}
	if len(b.Recipients) == 0 {
		return req, invalidf("recipients must list at least one recipient")
	}
	if len(b.Recipients) > maxRecipientsPerDecision {
		return req, invalidf("recipients lists %d recipients; at most %d per request", len(b.Recipients), maxRecipientsPerDecision)
	}
	ids := make([]gateway.Identity, len(b.Recipients))
	for i, rec := range b.Recipients {
		id, err := rec.identity(fmt.Sprintf("recipients[%d]", i), region)
		if err != nil {
			return req, err
		}
		ids[i] = id
	}
	req = gateway.DecisionRequest{
		Channel:    ch,
		Category:   gateway.SendCategory(b.Category), // DESIGN §2: unknown or empty is marketing
		Recipients: ids,
		Record:     b.Record == nil || *b.Record,
	}
	return req, nil
}

func (rec recipientInput) identity(field, region string) (gateway.Identity, error) {
	set := 0
	for _, p := range []*string{rec.Email, rec.Phone, rec.ID} {
		if p != nil {
			set++
		}
	}
	if set != 1 {
		return "", invalidf("%s must have exactly one of email, phone or id", field)
	}
	switch {
	case rec.Email != nil:
		id, err := gateway.NormalizeEmail(*rec.Email)
		if err != nil {
			return "", invalidf("%s.email: %v", field, err)
		}
		return id, nil
	case rec.Phone != nil:
		id, err := gateway.NormalizePhone(*rec.Phone, region)
		if err != nil {
			return "", invalidf("%s.phone: %v", field, err)
		}
		return id, nil
	default:
		vendor, value, ok := strings.Cut(*rec.ID, ":")
		if !ok {
			return "", invalidf("%s.id must be written vendor:id (zendesk:8841)", field)
		}
		id, err := gateway.VendorIdentity(vendor, value)
		if err != nil {
			return "", invalidf("%s.id: %v", field, err)
		}
		return id, nil
	}
}

func countDecisions(m *Metrics, decisions []gateway.Decision, upstream string) {
	for _, d := range decisions {
		reason := d.Reason
		if d.Allowed {
			reason = "allowed"
		}
		m.decisions.WithLabelValues(reason, string(d.Channel), upstream).Inc()
	}
}
