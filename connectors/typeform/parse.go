package typeform

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// EventFormResponse is the only event type Typeform sends today; anything else is ignored.
const EventFormResponse = "form_response"

const maxIDLength = 256

// webhook is the envelope. Unknown fields are allowed: Typeform adds keys over time
// (variables, ending, calculated) and 2017-era payloads lack landed_at, hidden and refs.
type webhook struct {
	EventID      string          `json:"event_id"`
	EventType    string          `json:"event_type"`
	FormResponse json.RawMessage `json:"form_response"`
}

type formResponse struct {
	FormID      string         `json:"form_id"`
	Token       string         `json:"token"`
	SubmittedAt string         `json:"submitted_at"`
	Hidden      map[string]any `json:"hidden"`
	Calculated  *struct {
		Score *float64 `json:"score"`
	} `json:"calculated"`
	Definition *struct {
		Title  string  `json:"title"`
		Fields []field `json:"fields"`
	} `json:"definition"`
	Answers []answer `json:"answers"`
}

// field is a question of the form's definition; properties give its scale when present.
type field struct {
	ID         string `json:"id"`
	Ref        string `json:"ref"`
	Type       string `json:"type"`
	Properties *struct {
		Steps      *int  `json:"steps"`
		StartAtOne *bool `json:"start_at_one"`
	} `json:"properties"`
}

type answer struct {
	Type        string   `json:"type"`
	Number      *float64 `json:"number"`
	Text        *string  `json:"text"`
	Email       *string  `json:"email"`
	PhoneNumber *string  `json:"phone_number"`
	Field       struct {
		ID   string `json:"id"`
		Type string `json:"type"`
		Ref  string `json:"ref"`
	} `json:"field"`
}

func invalid(format string, args ...any) error {
	return &gateway.Error{Code: gateway.CodeInvalid, Message: "typeform webhook: " + fmt.Sprintf(format, args...)}
}

// describe names the field a decoding error is about, without quoting values.
func describe(err error, where string) error {
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) && typ.Field != "" {
		return invalid("field %q has the wrong type (got a JSON %s)", where+typ.Field, typ.Value)
	}
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return invalid("body is not valid JSON (at byte %d)", syn.Offset)
	}
	return invalid("field %q is not of the expected shape", strings.TrimSuffix(where, "."))
}

// Parse turns a form_response delivery into one survey.response event. Other event types,
// and responses that name nobody hush could silence (an anonymous form), are ignored:
// refusing them would make Typeform retry, then disable the webhook.
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
	switch {
	case w.EventType == "":
		return res, invalid(`field "event_type" is missing`)
	case w.EventType != EventFormResponse:
		res.Ignored = 1
		return res, nil
	}
	if fr := bytes.TrimSpace(w.FormResponse); len(fr) == 0 || fr[0] != '{' {
		return res, invalid(`field "form_response" is missing or not an object`)
	}
	var r formResponse
	if err := json.Unmarshal(w.FormResponse, &r); err != nil {
		return res, describe(err, "form_response.")
	}
	ev, err := s.event(&w, &r, req)
	if err != nil {
		return res, err
	}
	if ev.Customer.Email == "" && ev.Customer.Phone == "" && len(ev.Customer.IDs) == 0 {
		res.Ignored = 1
		return res, nil
	}
	ev.Raw = append(json.RawMessage(nil), body...)
	res.Events = []gateway.Event{ev}
	return res, nil
}

func (s *Source) event(w *webhook, r *formResponse, req *gateway.WebhookRequest) (gateway.Event, error) {
	formID := strings.TrimSpace(r.FormID)
	if formID == "" {
		return gateway.Event{}, invalid(`field "form_response.form_id" is missing`)
	}
	// event_id is Typeform's id of the delivery, kept across retries. A payload without one
	// falls back to the response token, unique per submission of a form.
	id := strings.TrimSpace(w.EventID)
	if id == "" {
		if strings.TrimSpace(r.Token) == "" {
			return gateway.Event{}, invalid(`fields "event_id" and "form_response.token" are both missing`)
		}
		id = "form_response:" + formID + ":" + strings.TrimSpace(r.Token)
	}
	if len(id) > maxIDLength {
		return gateway.Event{}, invalid(`field "event_id" is longer than %d characters`, maxIDLength)
	}
	ev := gateway.Event{
		ID:         id,
		Source:     s.name,
		Type:       gateway.EventSurveyResponse,
		At:         req.ReceivedAt.UTC(),
		ReceivedAt: req.ReceivedAt,
		Topic:      "typeform:form:" + formID,
		Attrs:      map[string]any{"form_id": formID},
	}
	if ev.At.IsZero() {
		ev.At = time.Now().UTC()
		ev.ReceivedAt = ev.At
	}
	if r.SubmittedAt != "" {
		at, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(r.SubmittedAt))
		if err != nil {
			return ev, invalid(`field "form_response.submitted_at" is not an RFC 3339 time`)
		}
		ev.At = at.UTC()
	}
	if t := strings.TrimSpace(r.Token); t != "" {
		ev.Attrs["response_token"] = t
	}
	if r.Definition != nil && strings.TrimSpace(r.Definition.Title) != "" {
		ev.Attrs["form_title"] = strings.TrimSpace(r.Definition.Title)
	}
	if r.Calculated != nil && r.Calculated.Score != nil {
		ev.Attrs["typeform_score"] = *r.Calculated.Score // the form's quiz score, not a CSAT
	}

	f := &s.fields
	ans := answersByRef(r)
	s.scores(&ev, r, ans)
	if a := ans[f.commentRef]; f.commentRef != "" && a != nil {
		ev.Text = strings.TrimSpace(deref(a.Text))
	}
	c := &ev.Customer
	c.Email = firstNonEmpty(answerValue(ans, f.emailRef, func(a *answer) *string { return a.Email }), hidden(r.Hidden, f.emailHidden))
	c.Phone = firstNonEmpty(answerValue(ans, f.phoneRef, func(a *answer) *string { return a.PhoneNumber }), hidden(r.Hidden, f.phoneHidden))
	if v := hidden(r.Hidden, f.idHidden); v != "" {
		if _, err := gateway.VendorIdentity(f.idKind, v); err != nil {
			return ev, invalid(`hidden field %q is not a usable id (too long or has control characters)`, f.idHidden)
		}
		c.IDs = map[string]string{f.idKind: v}
	}
	return ev, nil
}

// answersByRef indexes answers by field ref and by field id. Answers of 2018-era payloads
// carry only the id; their ref is looked up in the definition.
func answersByRef(r *formResponse) map[string]*answer {
	refOf := map[string]string{}
	if r.Definition != nil {
		for _, f := range r.Definition.Fields {
			if f.ID != "" && f.Ref != "" {
				refOf[f.ID] = f.Ref
			}
		}
	}
	out := make(map[string]*answer, 2*len(r.Answers))
	for i := range r.Answers {
		a := &r.Answers[i]
		if a.Field.Ref == "" {
			a.Field.Ref = refOf[a.Field.ID]
		}
		for _, k := range []string{a.Field.ID, a.Field.Ref} {
			if k != "" && out[k] == nil {
				out[k] = a
			}
		}
	}
	return out
}

// answerValue reads a contact answer: its own typed value, else its text (a short_text
// question used to ask for an email).
func answerValue(ans map[string]*answer, ref string, typed func(*answer) *string) string {
	if ref == "" || ans[ref] == nil {
		return ""
	}
	a := ans[ref]
	return strings.TrimSpace(firstNonEmpty(deref(typed(a)), deref(a.Text)))
}

// hidden reads a hidden field as text; numbers are written as sent.
func hidden(h map[string]any, name string) string {
	if name == "" {
		return ""
	}
	switch v := h[name].(type) {
	case string:
		return strings.TrimSpace(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return ""
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
