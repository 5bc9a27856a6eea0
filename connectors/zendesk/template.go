package zendesk

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"

	"github.com/hush-gateway/hush/connectors/jsonval"
	"github.com/hush-gateway/hush/gateway"
)

// Template is the JSON body hush asks a Zendesk trigger or automation to send ("Notify by
// active webhook"). Each value is a Zendesk placeholder; the keys that overlap Zulip's
// Zendesk template (ticket_id, ticket_status, tags, requester_full_name…) have the same names,
// so a body written for Zulip parses too once it names the requester. "event" is written by
// hand per trigger: ticket.created, ticket.updated, ticket.solved or satisfaction.rated.
const Template = `{
  "event": "ticket.updated",
  "ticket_id": "{{ticket.id}}",
  "ticket_status": "{{ticket.status}}",
  "ticket_priority": "{{ticket.priority}}",
  "ticket_type": "{{ticket.ticket_type}}",
  "ticket_via": "{{ticket.via}}",
  "tags": "{{ticket.tags}}",
  "requester_id": "{{ticket.requester.id}}",
  "requester_email": "{{ticket.requester.email}}",
  "requester_phone": "{{ticket.requester.phone}}",
  "requester_full_name": "{{ticket.requester.name}}",
  "satisfaction_rating": "{{satisfaction.current_rating}}",
  "satisfaction_comment": "{{satisfaction.current_comment}}",
  "updated_at": "{{ticket.updated_at_with_timestamp}}"
}`

// Template event names, the value of "event".
const (
	TemplateTicketCreated     = "ticket.created"
	TemplateTicketUpdated     = "ticket.updated"
	TemplateTicketSolved      = "ticket.solved"
	TemplateSatisfactionRated = "satisfaction.rated"
)

// templateBody reads the customer-written body leniently: values may be strings or numbers,
// unrendered placeholders ("{{ticket.requester.phone}}", as in a test send) and empty strings
// count as absent, and keys hush does not read are allowed (the customer may send more).
type templateBody map[string]json.RawMessage

// str returns the text of a string or number value; "" when absent, null or a placeholder.
// ok is false when the value is of another JSON type.
func (b templateBody) str(key string) (s string, ok bool) {
	raw, present := b[key]
	if !present {
		return "", true
	}
	var f jsonval.ID
	if err := json.Unmarshal(raw, &f); err != nil {
		return "", false
	}
	s = strings.TrimSpace(string(f))
	if strings.HasPrefix(s, "{{") && strings.HasSuffix(s, "}}") {
		return "", true
	}
	return s, true
}

// templateFields are the keys hush reads as text.
var templateFields = []string{
	"event", "ticket_id", "ticket_status", "ticket_priority", "ticket_type", "ticket_via",
	"requester_id", "requester_email", "requester_phone", "requester_full_name",
	"satisfaction_rating", "satisfaction_comment", "updated_at",
}

// parseTemplate maps a trigger-template body to at most one event.
//
// Event id: "ticket:<ticket_id>:<hush type>:<ticket_status>:<updated_at>" when updated_at is a
// full date-time ({{ticket.updated_at_with_timestamp}}); otherwise the updated_at part is
// "sha256:" and the first 32 hex digits of the body's SHA-256. Both come from the body only,
// so every retry of a delivery has the same id.
func parseTemplate(b templateBody, raw []byte, source string, received time.Time) (gateway.ParseResult, error) {
	v := make(map[string]string, len(templateFields))
	for _, k := range templateFields {
		s, ok := b.str(k)
		if !ok {
			return gateway.ParseResult{}, invalid("template field %q must be a string", k)
		}
		v[k] = s
	}
	ticket := v["ticket_id"]
	if !isTicketNumber(ticket) {
		return gateway.ParseResult{}, invalid(`template field "ticket_id" is not a ticket number; write "{{ticket.id}}"`)
	}
	tags, err := templateTags(b["tags"])
	if err != nil {
		return gateway.ParseResult{}, err
	}

	status, statusKnown := ticketStatus(v["ticket_status"])
	var typ string
	switch v["event"] {
	case TemplateTicketCreated:
		typ = gateway.EventTicketOpened
	case TemplateTicketSolved:
		typ = gateway.EventTicketSolved
	case TemplateSatisfactionRated:
		typ = gateway.EventSurveyResponse
	case TemplateTicketUpdated, "":
		// Without an event name (a Zulip-style body) the status says what happened.
		typ = gateway.EventTicketUpdated
		switch {
		case status == gateway.StatusSolved || status == gateway.StatusClosed:
			typ = gateway.EventTicketSolved
		case v["event"] == "" && strings.EqualFold(v["ticket_status"], "new"):
			typ = gateway.EventTicketOpened
		}
	default:
		return gateway.ParseResult{Ignored: 1}, nil
	}

	cust := gateway.EventCustomer{Email: v["requester_email"], Phone: v["requester_phone"], Name: v["requester_full_name"]}
	if id := v["requester_id"]; id != "" {
		if err := checkVendorID("requester_id", id); err != nil {
			return gateway.ParseResult{}, err
		}
		cust.IDs = map[string]string{VendorName: id}
	}
	if cust.Email == "" && cust.Phone == "" && len(cust.IDs) == 0 {
		return gateway.ParseResult{}, invalid(`template names no customer: add "requester_id": "{{ticket.requester.id}}", ` +
			`"requester_email": "{{ticket.requester.email}}" and "requester_phone": "{{ticket.requester.phone}}" to the trigger's JSON body`)
	}

	ev := gateway.Event{
		Source:     source,
		Type:       typ,
		At:         received.UTC(),
		Customer:   cust,
		Channel:    viaChannel(v["ticket_via"]),
		Topic:      topic(ticket),
		Tags:       tags,
		ReceivedAt: received,
		Raw:        append(json.RawMessage(nil), raw...),
		Attrs:      map[string]any{},
	}
	if statusKnown {
		ev.Status = status
	}
	when, exact := parseTimestamp(v["updated_at"])
	if exact {
		ev.At = when
	}
	addAttr(ev.Attrs, "zendesk_event", v["event"])
	addAttr(ev.Attrs, "zendesk_status", strings.ToLower(v["ticket_status"]))
	addAttr(ev.Attrs, "priority", strings.ToLower(v["ticket_priority"]))
	addAttr(ev.Attrs, "ticket_type", strings.ToLower(v["ticket_type"]))
	addAttr(ev.Attrs, "via", v["ticket_via"])

	if typ != gateway.EventSurveyResponse {
		// Triage scored the ticket's first message, not a survey comment: a response keeps
		// its own text for hush to score.
		ev.Sentiment = triageSentiment(ev.Tags, ev.Attrs)
	}
	if typ == gateway.EventSurveyResponse {
		rating, ok := satisfactionRating(v["satisfaction_rating"])
		if !ok {
			return gateway.ParseResult{}, invalid(`template field "satisfaction_rating" is not a Zendesk rating (good, bad, offered, unoffered); write "{{satisfaction.current_rating}}"`)
		}
		switch rating {
		case "good", "bad":
		default:
			// Offered or not offered yet: no answer to record.
			return gateway.ParseResult{Ignored: 1}, nil
		}
		csat := 1.0
		if rating == "good" {
			csat = 5
		}
		ev.CSAT = &csat
		ev.Text = v["satisfaction_comment"]
		ev.Attrs["csat_scale"] = "good/bad"
		ev.Attrs["zendesk_rating"] = rating
	}

	stamp := v["updated_at"]
	if !exact {
		sum := sha256.Sum256(raw)
		stamp = "sha256:" + hex.EncodeToString(sum[:16])
	}
	ev.ID = "ticket:" + ticket + ":" + typ + ":" + strings.ToLower(v["ticket_status"]) + ":" + stamp
	if len(ev.ID) > maxIDLength {
		return gateway.ParseResult{}, invalid(`template fields "ticket_status" and "updated_at" are too long for an event id`)
	}
	return gateway.ParseResult{Events: []gateway.Event{ev}}, nil
}

// satisfactionRating reads a legacy CSAT rating as the API ("good", "bad_with_comment") or the
// {{satisfaction.current_rating}} placeholder ("Good, I'm satisfied") writes it: good, bad,
// offered, unoffered, or "" when nothing was sent. ok is false for anything else.
func satisfactionRating(s string) (rating string, ok bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch {
	case s == "":
		return "", true
	case s == "offered" || s == "unoffered":
		return s, true
	case strings.HasPrefix(s, "good"):
		return "good", true
	case strings.HasPrefix(s, "bad"):
		return "bad", true
	}
	return "", false
}

// templateTags reads "tags": {{ticket.tags}} renders the tags separated by spaces; a JSON
// array of strings is accepted too.
func templateTags(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return nonEmpty(list), nil
	}
	var s jsonval.ID
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, invalid(`template field "tags" must be a string of space-separated tags or an array of strings`)
	}
	text := strings.TrimSpace(string(s))
	if strings.HasPrefix(text, "{{") {
		return nil, nil
	}
	return nonEmpty(strings.Fields(text)), nil
}
