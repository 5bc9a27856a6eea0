package pagerduty

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// maxIDLength bounds event ids: they are dedupe keys, stored for the retention period.
const maxIDLength = 256

// wirePayload is a V3 webhook body: one event per delivery.
type wirePayload struct {
	Event *wireEvent `json:"event"`
	// Messages is how V1/V2 webhooks (extensions) wrapped theirs; only noticed so that the
	// error can say which version to configure.
	Messages json.RawMessage `json:"messages"`
}

type wireEvent struct {
	ID         string `json:"id"`
	EventType  string `json:"event_type"`
	OccurredAt string `json:"occurred_at"`
	// Data depends on event_type (incident, incident_note, service…): decoded only for the
	// incident events hush maps.
	Data json.RawMessage `json:"data"`
}

// wireIncident is event.data of the incident.* events hush maps; documented fields only.
type wireIncident struct {
	ID       string         `json:"id"`
	Number   *int64         `json:"number"`
	Title    string         `json:"title"`
	HTMLURL  string         `json:"html_url"`
	Urgency  string         `json:"urgency"`
	Service  wireReference  `json:"service"`
	Priority *wireReference `json:"priority"`
}

// wireReference is PagerDuty's {id, summary, type, self, html_url} reference object.
type wireReference struct {
	ID      string `json:"id"`
	Summary string `json:"summary"`
}

// eventTypes maps the PagerDuty event types that change whether an incident is open.
// Acknowledgements, notes, escalations, priority changes… leave it as it was: ignored.
var eventTypes = map[string]string{
	"incident.triggered": gateway.EventIncidentOpened,
	"incident.reopened":  gateway.EventIncidentOpened,
	"incident.resolved":  gateway.EventIncidentResolved,
}

// Topic is the topic (and so the hush incident's external id) of a PagerDuty incident.
func Topic(incidentID string) string { return "pagerduty:incident:" + incidentID }

// Parse turns a verified V3 delivery into at most one incident event.
//
// The event ID is PagerDuty's event.id, the same on every retry of a delivery. Opening
// events of services or urgencies the source does not accept are ignored; resolutions are
// always passed on, so that an incident whose urgency or service changed while open is
// still resolved (resolving an incident hush does not have open does nothing).
func (s *Source) Parse(req *gateway.WebhookRequest) (gateway.ParseResult, error) {
	var p wirePayload
	if err := decodeJSON(req.Body, &p); err != nil {
		return gateway.ParseResult{}, err
	}
	if p.Event == nil {
		if len(p.Messages) > 0 {
			return gateway.ParseResult{}, invalid("", "this is a V1/V2 webhook (messages); hush reads V3 webhook subscriptions")
		}
		return gateway.ParseResult{}, invalid("event", "is missing: not a PagerDuty V3 webhook")
	}
	ev := p.Event
	if ev.EventType == "" {
		return gateway.ParseResult{}, invalid("event.event_type", "is missing")
	}
	typ, ok := eventTypes[ev.EventType]
	if !ok {
		return gateway.ParseResult{Ignored: 1}, nil
	}
	switch {
	case ev.ID == "":
		return gateway.ParseResult{}, invalid("event.id", "is missing")
	case len(ev.ID) > maxIDLength:
		return gateway.ParseResult{}, invalid("event.id", "is longer than %d bytes", maxIDLength)
	}
	if len(ev.Data) == 0 || bytes.Equal(ev.Data, []byte("null")) {
		return gateway.ParseResult{}, invalid("event.data", "is missing")
	}
	var inc wireIncident
	if err := decodeJSONAt(ev.Data, &inc, "event.data."); err != nil {
		return gateway.ParseResult{}, err
	}
	if inc.ID == "" {
		return gateway.ParseResult{}, invalid("event.data.id", "is missing")
	}
	at := req.ReceivedAt.UTC()
	if ev.OccurredAt != "" {
		t, err := time.Parse(time.RFC3339Nano, ev.OccurredAt)
		if err != nil {
			return gateway.ParseResult{}, invalid("event.occurred_at", "is not an RFC 3339 time")
		}
		at = t.UTC()
	}
	if typ == gateway.EventIncidentOpened && !s.accepts(&inc) {
		return gateway.ParseResult{Ignored: 1}, nil
	}
	status := gateway.StatusOpen
	if typ == gateway.EventIncidentResolved {
		status = gateway.StatusSolved
	}
	return gateway.ParseResult{Events: []gateway.Event{{
		ID: ev.ID, Source: s.name, Type: typ, At: at,
		Topic: Topic(inc.ID), Status: status,
		Attrs: s.attrs(ev, &inc),
	}}}, nil
}

// attrs are what the engine reads (scope, title) plus what an operator or a rule may want
// to see; small, no raw dumps.
func (s *Source) attrs(ev *wireEvent, inc *wireIncident) map[string]any {
	a := map[string]any{
		"scope":      s.scope,
		"event_type": ev.EventType,
		"incident":   inc.ID,
	}
	set := func(k, v string) {
		if v != "" {
			a[k] = v
		}
	}
	set("title", inc.Title)
	set("service", inc.Service.Summary)
	set("service_id", inc.Service.ID)
	set("urgency", inc.Urgency)
	set("url", inc.HTMLURL)
	if inc.Priority != nil {
		set("priority", inc.Priority.Summary)
	}
	if inc.Number != nil {
		a["number"] = *inc.Number
	}
	return a
}

// invalid is a parse error: code invalid (400, dead letter), a message naming the field and
// never its value.
func invalid(field, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if field != "" {
		msg = fmt.Sprintf("field %q %s", field, msg)
	}
	return &gateway.Error{Code: gateway.CodeInvalid, Message: msg}
}

func decodeJSON(b []byte, dst any) error { return decodeJSONAt(b, dst, "") }

// decodeJSONAt decodes one JSON value; prefix places nested documents in error messages.
// encoding/json's own messages are rewritten: they speak of Go types and may quote input.
func decodeJSONAt(b []byte, dst any, prefix string) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(dst); err != nil {
		return jsonProblem(err, prefix)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return invalid("", "body has data after its JSON value")
	}
	return nil
}

func jsonProblem(err error, prefix string) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te) && te.Field == "":
		if prefix != "" {
			return invalid(prefix[:len(prefix)-1], "is a JSON %s; want an object", te.Value)
		}
		return invalid("", "body is a JSON %s; want an object", te.Value)
	case errors.As(err, &te):
		return invalid(prefix+te.Field, "is a JSON %s; want a %s", te.Value, jsonKind(te.Type.Kind().String()))
	case errors.As(err, &se):
		return invalid("", "body is not valid JSON (at byte %d)", se.Offset)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return invalid("", "body is not valid JSON: it ends too early")
	}
	return invalid("", "body is not valid JSON")
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "string"
	case "struct", "map", "ptr":
		return "object"
	case "slice", "array":
		return "list"
	case "int64", "int", "float64":
		return "number"
	}
	return k
}
