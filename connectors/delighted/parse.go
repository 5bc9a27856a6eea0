package delighted

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hush-gateway/hush/connectors/jsonval"
	"github.com/hush-gateway/hush/gateway"
)

// Delighted's event types (event_type). unsubscribe.created is acknowledged and ignored: it
// withdraws the person from Delighted's surveys only, and a hush opt-out would block every
// email (marketing included) that the person never asked to stop.
const (
	EventResponseCreated = "survey_response.created"
	EventResponseUpdated = "survey_response.updated"
	EventUnsubscribe     = "unsubscribe.created"
)

// maxIDLength bounds event ids: they are dedupe keys, stored for the retention period.
const maxIDLength = 256

// webhook is the envelope of every Delighted delivery. Unknown fields are allowed: Delighted
// adds fields over time (survey_type, additional_answers) and old deliveries lack them.
type webhook struct {
	EventType string          `json:"event_type"`
	EventID   string          `json:"event_id"`
	EventData json.RawMessage `json:"event_data"`
}

// surveyResponse is event_data of survey_response.* events: the fields hush uses.
type surveyResponse struct {
	ID         jsonval.ID        `json:"id"`
	Person     *person           `json:"person"`
	SurveyType *string           `json:"survey_type"`
	Score      *float64          `json:"score"`
	Comment    *string           `json:"comment"`
	Permalink  *string           `json:"permalink"`
	CreatedAt  *float64          `json:"created_at"` // Unix seconds
	UpdatedAt  *float64          `json:"updated_at"`
	Tags       []json.RawMessage `json:"tags"`
}

type person struct {
	ID          jsonval.ID `json:"id"`
	Email       *string    `json:"email"`
	PhoneNumber *string    `json:"phone_number"`
	Name        *string    `json:"name"`
}

func invalid(format string, args ...any) error {
	return &gateway.Error{Code: gateway.CodeInvalid, Message: "delighted webhook: " + fmt.Sprintf(format, args...)}
}

// describe turns encoding/json's errors into a sentence naming the field, without quoting
// values (they may be personal data).
func describe(err error, where string) error {
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) && typ.Field != "" {
		return invalid("field %q has the wrong type (got a JSON %s)", where+typ.Field, typ.Value)
	}
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return invalid("body is not valid JSON (at byte %d)", syn.Offset)
	}
	if where != "" {
		return invalid("field %q is not an object of the expected shape", strings.TrimSuffix(where, "."))
	}
	return invalid("body is not a JSON object with event_type and event_data")
}

// Parse turns one Delighted delivery into at most one event. survey_response.created and
// survey_response.updated become survey.response; other event types are ignored.
func (s *Source) Parse(req *gateway.WebhookRequest) (gateway.ParseResult, error) {
	var res gateway.ParseResult
	body := bytes.TrimSpace(req.Body)
	if len(body) == 0 || body[0] != '{' {
		return res, invalid("body is not a JSON object")
	}
	var w webhook
	if err := json.Unmarshal(body, &w); err != nil {
		return res, describe(err, "")
	}
	w.EventType = strings.TrimSpace(w.EventType)
	if w.EventType == "" {
		return res, invalid(`field "event_type" is missing`)
	}
	if w.EventType != EventResponseCreated && w.EventType != EventResponseUpdated {
		res.Ignored = 1
		return res, nil
	}
	ev, err := s.surveyEvent(&w, req)
	if err != nil {
		return res, err
	}
	ev.Raw = append(json.RawMessage(nil), body...)
	res.Events = []gateway.Event{ev}
	return res, nil
}

func (s *Source) surveyEvent(w *webhook, req *gateway.WebhookRequest) (gateway.Event, error) {
	var ev gateway.Event
	if d := bytes.TrimSpace(w.EventData); len(d) == 0 || d[0] != '{' {
		return ev, invalid(`field "event_data" is missing or not an object`)
	}
	var r surveyResponse
	if err := json.Unmarshal(w.EventData, &r); err != nil {
		return ev, describe(err, "event_data.")
	}
	if r.ID == "" {
		return ev, invalid(`field "event_data.id" is missing`)
	}
	if r.Person == nil {
		return ev, invalid(`field "event_data.person" is missing`)
	}

	id, err := eventID(w, &r)
	if err != nil {
		return ev, err
	}
	ev = gateway.Event{
		ID:         id,
		Source:     s.name,
		Type:       gateway.EventSurveyResponse,
		At:         req.ReceivedAt.UTC(),
		Topic:      "delighted:response:" + string(r.ID),
		Text:       strings.TrimSpace(deref(r.Comment)),
		ReceivedAt: req.ReceivedAt,
		Attrs:      map[string]any{"event_type": w.EventType},
	}
	if ev.At.IsZero() {
		ev.At = time.Now().UTC()
		ev.ReceivedAt = ev.At
	}
	// The response's own time: when it was last changed for updates, made for creations.
	when := r.CreatedAt
	if w.EventType == EventResponseUpdated && r.UpdatedAt != nil {
		when = r.UpdatedAt
	}
	if when != nil && *when > 0 && *when < 253402300800 {
		ev.At = time.Unix(int64(*when), 0).UTC()
	}

	if err := customer(&ev, r.Person); err != nil {
		return ev, err
	}
	for _, t := range r.Tags {
		var tag string
		if json.Unmarshal(t, &tag) == nil && strings.TrimSpace(tag) != "" {
			ev.Tags = append(ev.Tags, strings.TrimSpace(tag))
		}
	}

	surveyType := s.surveyType
	if r.SurveyType != nil && strings.TrimSpace(*r.SurveyType) != "" {
		surveyType = strings.ToLower(strings.TrimSpace(*r.SurveyType))
	} else {
		ev.Attrs["survey_type_assumed"] = true
	}
	ev.Attrs["survey_type"] = surveyType
	if r.Score != nil {
		s.applyScore(&ev, surveyType, *r.Score)
	}
	if p := strings.TrimSpace(deref(r.Permalink)); p != "" {
		ev.Attrs["permalink"] = p
	}
	return ev, nil
}

// eventID is Delighted's event_id, which Delighted documents as the key to deduplicate
// notifications delivered more than once. A payload without one gets
// "<event_type>:<response id>:<updated_at>": the same change of the same response, however
// often it is delivered, while a later change (a comment added) is a new event.
func eventID(w *webhook, r *surveyResponse) (string, error) {
	id := strings.TrimSpace(w.EventID)
	if id == "" {
		at := r.UpdatedAt
		if at == nil {
			at = r.CreatedAt
		}
		id = w.EventType + ":" + string(r.ID)
		if at != nil {
			id += ":" + strconv.FormatInt(int64(*at), 10)
		}
	}
	if len(id) > maxIDLength {
		return "", invalid(`field "event_id" is longer than %d characters`, maxIDLength)
	}
	return id, nil
}

// customer fills who the response is about. Email and phone pass as written (hush
// normalizes them); the Delighted person id links later responses of the same person.
func customer(ev *gateway.Event, p *person) error {
	c := &ev.Customer
	c.Email = strings.TrimSpace(deref(p.Email))
	c.Phone = strings.TrimSpace(deref(p.PhoneNumber))
	c.Name = strings.TrimSpace(deref(p.Name))
	if p.ID != "" {
		if _, err := gateway.VendorIdentity(Kind, string(p.ID)); err != nil {
			return invalid(`field "event_data.person.id" is not a usable id (too long or has control characters)`)
		}
		c.IDs = map[string]string{Kind: string(p.ID)}
	}
	if c.Email == "" && c.Phone == "" && len(c.IDs) == 0 {
		return invalid(`field "event_data.person" names nobody (no id, email nor phone_number)`)
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
