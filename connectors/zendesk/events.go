package zendesk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hush-gateway/hush/connectors/jsonval"
	"github.com/hush-gateway/hush/gateway"
)

// eventTypePrefix starts every Zendesk event type ("zen:event-type:ticket.created").
const eventTypePrefix = "zen:event-type:"

// envelope is the fixed body of Zendesk's event webhooks (Webhook event types, 2022-11-06).
type envelope struct {
	Type      string          `json:"type"`
	ID        string          `json:"id"`
	Time      string          `json:"time"`
	AccountID json.RawMessage `json:"account_id"`
	Subject   string          `json:"subject"`
	Detail    json.RawMessage `json:"detail"`
	Event     json.RawMessage `json:"event"`
}

// ticketDetail is the part of a ticket event's detail object hush reads. Zendesk writes ids
// as strings in event webhooks; numbers are accepted too.
type ticketDetail struct {
	ID          jsonval.ID `json:"id"`
	RequesterID jsonval.ID `json:"requester_id"`
	Status      string     `json:"status"`
	Priority    string     `json:"priority"`
	Type        string     `json:"type"`
	Tags        []string   `json:"tags"`
	UpdatedAt   string     `json:"updated_at"`
	Via         struct {
		Channel string `json:"channel"`
	} `json:"via"`
}

// ticketEventTypes are the ticket events hush keeps, by what follows the prefix. Others
// (assignment, group, brand, form, custom field changes…) and every non-ticket event (users,
// organizations, help center) are acknowledged as ignored.
var ticketEventTypes = map[string]string{
	"ticket.created":          gateway.EventTicketOpened,
	"ticket.status_changed":   gateway.EventTicketUpdated, // ticket.solved when it becomes solved or closed
	"ticket.comment_added":    gateway.EventTicketUpdated,
	"ticket.tags_changed":     gateway.EventTicketUpdated,
	"ticket.priority_changed": gateway.EventTicketUpdated,
}

// parseEvent maps one event-webhook envelope. The event id is Zendesk's envelope id, unique
// per event and the same in every retry of it.
func parseEvent(body []byte, source string, received time.Time) (gateway.ParseResult, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return gateway.ParseResult{}, invalid("event envelope: %s", fieldProblem(err))
	}
	name := strings.TrimPrefix(env.Type, eventTypePrefix)
	typ, ok := ticketEventTypes[name]
	if !ok {
		return gateway.ParseResult{Ignored: 1}, nil
	}
	id := strings.TrimSpace(env.ID)
	switch {
	case id == "":
		return gateway.ParseResult{}, invalid(`field "id" (the event id) is missing`)
	case len(id) > maxIDLength:
		return gateway.ParseResult{}, invalid(`field "id" is longer than %d characters`, maxIDLength)
	}
	if len(bytes.TrimSpace(env.Detail)) == 0 {
		return gateway.ParseResult{}, invalid(`field "detail" is missing`)
	}
	var d ticketDetail
	if err := json.Unmarshal(env.Detail, &d); err != nil {
		return gateway.ParseResult{}, invalid("detail: %s", fieldProblem(err))
	}
	ticket := strings.TrimSpace(string(d.ID))
	if !isTicketNumber(ticket) {
		return gateway.ParseResult{}, invalid(`field "detail.id" is not a ticket number`)
	}
	requester := strings.TrimSpace(string(d.RequesterID))
	if requester == "" {
		return gateway.ParseResult{}, invalid(`field "detail.requester_id" is missing; hush needs the requester to know whom the event is about`)
	}
	if err := checkVendorID("detail.requester_id", requester); err != nil {
		return gateway.ParseResult{}, err
	}

	ev := gateway.Event{
		ID:         id,
		Source:     source,
		Type:       typ,
		At:         received.UTC(),
		Customer:   gateway.EventCustomer{IDs: map[string]string{VendorName: requester}},
		Channel:    viaChannel(d.Via.Channel),
		Topic:      topic(ticket),
		Tags:       nonEmpty(d.Tags),
		ReceivedAt: received,
		Raw:        append(json.RawMessage(nil), body...),
		Attrs:      map[string]any{"zendesk_event": name},
	}
	if t, ok := parseTimestamp(env.Time); ok {
		ev.At = t
	} else if t, ok := parseTimestamp(d.UpdatedAt); ok {
		ev.At = t
	}

	rawStatus := d.Status
	if name == "ticket.status_changed" {
		var change struct {
			Current  json.RawMessage `json:"current"`
			Previous json.RawMessage `json:"previous"`
		}
		if json.Unmarshal(env.Event, &change) == nil {
			if cur := jsonString(change.Current); cur != "" {
				rawStatus = cur
			}
			if prev := jsonString(change.Previous); prev != "" {
				ev.Attrs["previous_status"] = strings.ToLower(prev)
			}
		}
	}
	if st, ok := ticketStatus(rawStatus); ok {
		ev.Status = st
		if name == "ticket.status_changed" && (st == gateway.StatusSolved || st == gateway.StatusClosed) {
			ev.Type = gateway.EventTicketSolved
		}
	}
	addAttr(ev.Attrs, "zendesk_status", strings.ToLower(strings.TrimSpace(rawStatus)))
	addAttr(ev.Attrs, "priority", strings.ToLower(strings.TrimSpace(d.Priority)))
	addAttr(ev.Attrs, "ticket_type", strings.ToLower(strings.TrimSpace(d.Type)))
	addAttr(ev.Attrs, "via", strings.TrimSpace(d.Via.Channel))
	ev.Sentiment = triageSentiment(ev.Tags, ev.Attrs)
	return gateway.ParseResult{Events: []gateway.Event{ev}}, nil
}

// jsonString returns a JSON string's value; "" for anything else.
func jsonString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return strings.TrimSpace(s)
}

// fieldProblem describes a decoding error by field and JSON type, without values.
func fieldProblem(err error) string {
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return fmt.Sprintf("field %q has the wrong type (%s)", typ.Field, typ.Value)
	}
	return "not valid JSON"
}

// isTicketNumber reports whether s is a Zendesk ticket id: digits only, and not absurdly long.
func isTicketNumber(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func addAttr(attrs map[string]any, key, value string) {
	if value != "" {
		attrs[key] = value
	}
}

// nonEmpty drops empty tags; nil when none is left.
func nonEmpty(tags []string) []string {
	var out []string
	for _, t := range tags {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}
