package statuspage

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

// maxComponents bounds attrs.components: attrs stay small.
const maxComponents = 20

// wirePayload is a subscriber webhook: an incident update, or a component update.
type wirePayload struct {
	Page            *wirePage       `json:"page"`
	Incident        *wireIncident   `json:"incident"`
	Component       json.RawMessage `json:"component"`
	ComponentUpdate json.RawMessage `json:"component_update"`
}

type wirePage struct {
	ID string `json:"id"`
}

// wireIncident holds the documented incident fields hush reads.
type wireIncident struct {
	ID              string          `json:"id"`
	Name            string          `json:"name"`
	Status          string          `json:"status"`
	Impact          string          `json:"impact"`
	CreatedAt       string          `json:"created_at"`
	UpdatedAt       string          `json:"updated_at"`
	ResolvedAt      *string         `json:"resolved_at"`
	ScheduledFor    *string         `json:"scheduled_for"`
	Shortlink       string          `json:"shortlink"`
	PageID          string          `json:"page_id"`
	IncidentUpdates []wireUpdate    `json:"incident_updates"`
	Components      []wireComponent `json:"components"`
}

type wireUpdate struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	CreatedAt string `json:"created_at"`
}

type wireComponent struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Topic is the topic (and so the hush incident's external id) of a Statuspage incident.
func Topic(incidentID string) string { return "statuspage:incident:" + incidentID }

// eventType maps an incident's status. Incidents: investigating, identified, monitoring are
// open; resolved and postmortem are over. Scheduled maintenances (scheduled, in_progress,
// verifying, completed) count only with the maintenance option, and only once in progress.
// Anything else is ignored ("").
func (s *Source) eventType(status string) string {
	switch status {
	case "investigating", "identified", "monitoring":
		return gateway.EventIncidentOpened
	case "resolved", "postmortem":
		return gateway.EventIncidentResolved
	case "in_progress", "verifying":
		if s.maintenance {
			return gateway.EventIncidentOpened
		}
	case "completed":
		if s.maintenance {
			return gateway.EventIncidentResolved
		}
	}
	return ""
}

// Parse turns a verified notification into at most one incident event.
//
// Statuspage sends the whole incident on every update, with no delivery id. The event ID is
// "<incident id>:<updated_at>" (updated_at in RFC 3339, UTC), the same on every retry of one
// notification and new with each update; without updated_at, the latest incident_update's
// id stands in for it.
func (s *Source) Parse(req *gateway.WebhookRequest) (gateway.ParseResult, error) {
	var p wirePayload
	if err := decodeJSON(req.Body, &p); err != nil {
		return gateway.ParseResult{}, err
	}
	if p.Incident == nil {
		if isSet(p.ComponentUpdate) || isSet(p.Component) {
			return gateway.ParseResult{Ignored: 1}, nil
		}
		return gateway.ParseResult{}, invalid("", "body has neither incident nor component_update: not a Statuspage webhook")
	}
	inc := p.Incident
	switch {
	case inc.ID == "":
		return gateway.ParseResult{}, invalid("incident.id", "is missing")
	case inc.Status == "":
		return gateway.ParseResult{}, invalid("incident.status", "is missing")
	}
	typ := s.eventType(inc.Status)
	if typ == "" {
		return gateway.ParseResult{Ignored: 1}, nil
	}
	times, err := readTimes(inc)
	if err != nil {
		return gateway.ParseResult{}, err
	}
	latest := latestUpdate(inc.IncidentUpdates)
	var version string
	switch {
	case !times.updated.IsZero():
		version = times.updated.Format(time.RFC3339Nano)
	case latest != nil && latest.ID != "":
		version = latest.ID
	default:
		return gateway.ParseResult{}, invalid("incident.updated_at", "is missing and no incident_update has an id")
	}
	id := inc.ID + ":" + version
	if len(id) > maxIDLength {
		return gateway.ParseResult{}, invalid("incident.id", "is too long: the event id would pass %d bytes", maxIDLength)
	}
	status := gateway.StatusOpen
	if typ == gateway.EventIncidentResolved {
		status = gateway.StatusSolved
	}
	return gateway.ParseResult{Events: []gateway.Event{{
		ID: id, Source: s.name, Type: typ, At: times.at(typ, inc.ScheduledFor != nil, req.ReceivedAt),
		Topic: Topic(inc.ID), Status: status,
		Attrs: s.attrs(&p, latest),
	}}}, nil
}

// incidentTimes are the incident's timestamps that were present, parsed, in UTC.
type incidentTimes struct {
	created, updated, resolved time.Time
}

func readTimes(inc *wireIncident) (incidentTimes, error) {
	var t incidentTimes
	for _, f := range []struct {
		field string
		value *string
		dst   *time.Time
	}{
		{"incident.created_at", &inc.CreatedAt, &t.created},
		{"incident.updated_at", &inc.UpdatedAt, &t.updated},
		{"incident.resolved_at", inc.ResolvedAt, &t.resolved},
	} {
		if f.value == nil || *f.value == "" {
			continue
		}
		v, err := time.Parse(time.RFC3339Nano, *f.value)
		if err != nil {
			return t, invalid(f.field, "is not an RFC 3339 time")
		}
		*f.dst = v.UTC()
	}
	return t, nil
}

// at is when the event happened: an incident opened when it was created (every later update
// re-sends the opening, and the first one hush sees may be late); a maintenance when it went
// in progress, the update being sent; a resolution when resolved. Missing times fall back to
// updated_at, then to the time of receipt.
func (t incidentTimes) at(typ string, maintenance bool, received time.Time) time.Time {
	first := t.updated
	switch {
	case typ == gateway.EventIncidentResolved:
		first = t.resolved
	case !maintenance:
		first = t.created
	}
	for _, c := range []time.Time{first, t.updated, received.UTC()} {
		if !c.IsZero() {
			return c
		}
	}
	return time.Time{}
}

// latestUpdate is the newest incident update (Statuspage lists them newest first; created_at
// decides when it is readable).
func latestUpdate(updates []wireUpdate) *wireUpdate {
	var best *wireUpdate
	var bestAt time.Time
	for i := range updates {
		at, err := time.Parse(time.RFC3339Nano, updates[i].CreatedAt)
		if best == nil || err == nil && at.After(bestAt) {
			best = &updates[i]
			if err == nil {
				bestAt = at
			}
		}
	}
	return best
}

// attrs are what the engine reads (scope, title) plus what an operator may want to see.
func (s *Source) attrs(p *wirePayload, latest *wireUpdate) map[string]any {
	inc := p.Incident
	a := map[string]any{
		"scope":    s.scope,
		"status":   inc.Status,
		"incident": inc.ID,
	}
	set := func(k, v string) {
		if v != "" {
			a[k] = v
		}
	}
	set("title", inc.Name)
	set("impact", inc.Impact)
	set("url", inc.Shortlink)
	set("page", inc.PageID)
	if inc.PageID == "" && p.Page != nil {
		set("page", p.Page.ID)
	}
	if latest != nil {
		set("update", latest.ID)
	}
	if inc.ScheduledFor != nil {
		a["maintenance"] = true
	}
	var names []string
	for _, c := range inc.Components {
		if c.Name != "" && len(names) < maxComponents {
			names = append(names, c.Name)
		}
	}
	if len(names) > 0 {
		a["components"] = names
	}
	return a
}

func isSet(raw json.RawMessage) bool { return len(raw) > 0 && !bytes.Equal(raw, []byte("null")) }

// invalid is a parse error: code invalid (400, dead letter), a message naming the field and
// never its value.
func invalid(field, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if field != "" {
		msg = fmt.Sprintf("field %q %s", field, msg)
	}
	return &gateway.Error{Code: gateway.CodeInvalid, Message: msg}
}

// decodeJSON decodes one JSON value. encoding/json's own messages are rewritten: they speak
// of Go types and may quote input.
func decodeJSON(b []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(dst); err != nil {
		return jsonProblem(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return invalid("", "body has data after its JSON value")
	}
	return nil
}

func jsonProblem(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te) && te.Field == "":
		return invalid("", "body is a JSON %s; want an object", te.Value)
	case errors.As(err, &te):
		return invalid(te.Field, "is a JSON %s; want a %s", te.Value, jsonKind(te.Type.Kind().String()))
	case errors.As(err, &se):
		return invalid("", "body is not valid JSON (at byte %d)", se.Offset)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return invalid("", "body is not valid JSON: it ends too early")
	}
	return invalid("", "body is not valid JSON")
}

func jsonKind(k string) string {
	switch k {
	case "struct", "map", "ptr":
		return "object"
	case "slice", "array":
		return "list"
	case "int64", "int", "float64":
		return "number"
	}
	return k
}
