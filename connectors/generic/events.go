package generic

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// MaxEvents is how many events one body may hold.
const MaxEvents = 1000

// maxIDLength bounds event ids: they are dedupe keys, stored for the retention period.
const maxIDLength = 256

// ParseOptions says how to complete events read from a body.
type ParseOptions struct {
	// Source is the configured source name. An event's "source" defaults to it and, when
	// given, must equal it: a sender cannot write into another source's dedupe namespace. An
	// empty Source (the admin API) makes "source" required in each event instead.
	Source string
	// DeliveryID is the default event id: the webhook-id header; in an array, event i (from
	// 0) defaults to DeliveryID + "#i". Empty: "id" is required in each event.
	DeliveryID string
	// ReceivedAt is when the body arrived: an event's default "at" and its ReceivedAt.
	// Zero: the current time.
	ReceivedAt time.Time
	// DefaultRegion reads national phone numbers (ISO 3166 alpha-2, "ES").
	DefaultRegion string
}

// FieldError says which event and field of a body is wrong. Parse returns it wrapped in a
// *gateway.Error with code invalid, whose message is this error's text, so that the HTTP
// layer answers 400 with a sentence naming the field. Messages never quote personal data
// (addresses, text) nor secrets.
type FieldError struct {
	Index   int    // event index in an array; -1 for a single object or the whole body
	Field   string // dotted path ("csat", "customer.email"); "" for the whole body or event
	Problem string
}

func (e *FieldError) Error() string {
	var b strings.Builder
	if e.Index >= 0 {
		fmt.Fprintf(&b, "event %d: ", e.Index)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, "field %q ", e.Field)
	}
	b.WriteString(e.Problem)
	return b.String()
}

func invalid(index int, field, format string, args ...any) error {
	fe := &FieldError{Index: index, Field: field, Problem: fmt.Sprintf(format, args...)}
	return &gateway.Error{Code: gateway.CodeInvalid, Message: fe.Error(), Err: fe}
}

// wireEvent is the normalized event as senders write it: §5 without the fields hush sets on
// intake, so that a sender writing customer_id or seq is told the field is unknown.
type wireEvent struct {
	ID              string                `json:"id"`
	Source          string                `json:"source"`
	Type            string                `json:"type"`
	At              *string               `json:"at"`
	Customer        gateway.EventCustomer `json:"customer"`
	Channel         string                `json:"channel"`
	Topic           string                `json:"topic"`
	CSAT            *float64              `json:"csat"`
	NPS             *float64              `json:"nps"`
	CES             *float64              `json:"ces"`
	Text            string                `json:"text"`
	Sentiment       *wireSentiment        `json:"sentiment"`
	WaitSeconds     *float64              `json:"wait_seconds"`
	DurationSeconds *float64              `json:"duration_seconds"`
	Status          string                `json:"status"`
	Tags            []string              `json:"tags"`
	Attrs           map[string]any        `json:"attrs"`
}

type wireSentiment struct {
	Score  *float64 `json:"score"`
	Label  string   `json:"label"`
	Source string   `json:"source"`
}

// ParseEvents reads a body holding one normalized event (a JSON object) or several (an array
// of objects, at most MaxEvents). Events of a type hush does not know are counted in Ignored;
// anything else that is wrong is an error naming the event and the field.
func ParseEvents(body []byte, opts ParseOptions) (gateway.ParseResult, error) {
	var res gateway.ParseResult
	if opts.ReceivedAt.IsZero() {
		opts.ReceivedAt = time.Now()
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return res, invalid(-1, "", "body is empty; want a JSON object or an array of objects")
	}
	var raws []json.RawMessage
	array := trimmed[0] == '['
	switch trimmed[0] {
	case '{':
		raws = []json.RawMessage{trimmed}
	case '[':
		if err := decodeStrict(trimmed, &raws); err != nil {
			return res, invalid(-1, "", "%s", describeJSONError(err, "an array of objects"))
		}
		if len(raws) == 0 {
			return res, invalid(-1, "", "body is an empty array; want at least one event")
		}
		if len(raws) > MaxEvents {
			return res, invalid(-1, "", "body holds %d events; at most %d are accepted per delivery", len(raws), MaxEvents)
		}
	default:
		return res, invalid(-1, "", "body is not a JSON object nor an array of objects")
	}
	seen := make(map[string]int, len(raws))
	for i, raw := range raws {
		index := -1
		if array {
			index = i
		}
		ev, known, err := parseEvent(raw, index, opts)
		if err != nil {
			return gateway.ParseResult{}, err
		}
		if !known {
			res.Ignored++
			continue
		}
		if first, dup := seen[ev.ID]; dup {
			return gateway.ParseResult{}, invalid(index, "id", "repeats the id of event %d; each event needs its own", first)
		}
		seen[ev.ID] = i
		res.Events = append(res.Events, ev)
	}
	return res, nil
}

// decodeStrict decodes exactly one JSON value, refusing unknown fields and trailing data.
func decodeStrict(b []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}

// describeJSONError turns encoding/json's messages, which speak of Go types, into sentences
// about the document. want says what the top level should be.
func describeJSONError(err error, want string) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("body is not valid JSON: %s (at byte %d)", strings.TrimPrefix(syn.Error(), "json: "), syn.Offset)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return fmt.Sprintf("body is not %s", want)
		}
		return fmt.Sprintf("field %q: want %s, got %s", typ.Field, jsonKind(typ.Type.String()), article(typ.Value))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "body is not valid JSON: it ends too early"
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if f, ok := strings.CutPrefix(msg, "unknown field "); ok {
		return "unknown field " + f
	}
	return "body is not valid JSON: " + msg
}

func jsonKind(goType string) string {
	switch {
	case goType == "string", goType == "*string", strings.HasPrefix(goType, "gateway.Channel"):
		return "a string"
	case strings.Contains(goType, "float"), strings.Contains(goType, "int"):
		return "a number"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case strings.HasPrefix(goType, "map["), strings.Contains(goType, "."):
		return "an object"
	}
	return goType
}

func article(jsonType string) string {
	switch jsonType {
	case "object", "array":
		return "an " + jsonType
	case "string", "number":
		return "a " + jsonType
	case "bool":
		return "a boolean"
	}
	return jsonType
}

// parseEvent reads one event; known is false for a well-formed event of a type hush does not
// know (ignored, not an error).
func parseEvent(raw json.RawMessage, index int, opts ParseOptions) (ev gateway.Event, known bool, err error) {
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
		return ev, false, invalid(index, "", "is not a JSON object")
	}
	var w wireEvent
	if err := decodeStrict(raw, &w); err != nil {
		return ev, false, invalid(index, "", "%s", describeJSONError(err, "an object"))
	}

	// Type first: an event hush does not know is acknowledged, whatever else it holds.
	w.Type = strings.TrimSpace(w.Type)
	if w.Type == "" {
		return ev, false, invalid(index, "type", "is required (one of %s)", strings.Join(gateway.EventTypes, ", "))
	}
	if !gateway.KnownEventType(w.Type) {
		return ev, false, nil
	}

	ev = gateway.Event{
		ID:              strings.TrimSpace(w.ID),
		Source:          strings.TrimSpace(w.Source),
		Type:            w.Type,
		Customer:        w.Customer,
		Topic:           w.Topic,
		CSAT:            w.CSAT,
		NPS:             w.NPS,
		CES:             w.CES,
		Text:            w.Text,
		WaitSeconds:     w.WaitSeconds,
		DurationSeconds: w.DurationSeconds,
		Tags:            w.Tags,
		Attrs:           w.Attrs,
		ReceivedAt:      opts.ReceivedAt,
		Raw:             append(json.RawMessage(nil), raw...),
	}

	switch {
	case ev.Source == "" && opts.Source == "":
		return ev, false, invalid(index, "source", "is required")
	case ev.Source == "":
		ev.Source = opts.Source
	case opts.Source != "" && ev.Source != opts.Source:
		return ev, false, invalid(index, "source", "is %q but the delivery came to source %q; omit it or set it to %q",
			ev.Source, opts.Source, opts.Source)
	}

	if ev.ID == "" {
		if opts.DeliveryID == "" {
			return ev, false, invalid(index, "id", "is required when the delivery has no webhook-id header")
		}
		ev.ID = opts.DeliveryID
		if index >= 0 {
			ev.ID += "#" + strconv.Itoa(index)
		}
	}
	if len(ev.ID) > maxIDLength {
		return ev, false, invalid(index, "id", "is longer than %d characters", maxIDLength)
	}

	ev.At = opts.ReceivedAt.UTC()
	if w.At != nil {
		at, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(*w.At))
		if err != nil {
			return ev, false, invalid(index, "at", "is not an RFC 3339 time such as 2026-11-20T09:30:00Z")
		}
		ev.At = at.UTC()
	}

	if w.Channel != "" {
		ch, err := gateway.ParseChannel(w.Channel, false)
		if err != nil {
			return ev, false, invalid(index, "channel", "is %q; want one of email, sms, voice, whatsapp, push", w.Channel)
		}
		ev.Channel = ch
	}

	if w.Status != "" {
		st := strings.ToLower(strings.TrimSpace(w.Status))
		if !slices.Contains([]string{gateway.StatusOpen, gateway.StatusPending, gateway.StatusSolved, gateway.StatusClosed}, st) {
			return ev, false, invalid(index, "status", "is %q; want open, pending, solved or closed", w.Status)
		}
		ev.Status = st
	}

	for _, r := range []struct {
		field    string
		v        *float64
		min, max float64
	}{
		{"csat", w.CSAT, 1, 5},
		{"nps", w.NPS, 0, 10},
		{"ces", w.CES, 1, 7},
	} {
		if r.v != nil && (*r.v < r.min || *r.v > r.max) {
			return ev, false, invalid(index, r.field, "is %s; want %g to %g (convert other scales and say so in attrs)",
				strconv.FormatFloat(*r.v, 'g', -1, 64), r.min, r.max)
		}
	}
	for _, r := range []struct {
		field string
		v     *float64
	}{{"wait_seconds", w.WaitSeconds}, {"duration_seconds", w.DurationSeconds}} {
		if r.v != nil && *r.v < 0 {
			return ev, false, invalid(index, r.field, "is negative")
		}
	}

	if w.Sentiment != nil {
		s := w.Sentiment
		if s.Score == nil {
			return ev, false, invalid(index, "sentiment.score", "is required when sentiment is given")
		}
		if *s.Score < -1 || *s.Score > 1 {
			return ev, false, invalid(index, "sentiment.score", "is %s; want -1 to 1",
				strconv.FormatFloat(*s.Score, 'g', -1, 64))
		}
		if s.Label != "" && !slices.Contains([]string{"negative", "neutral", "positive"}, s.Label) {
			return ev, false, invalid(index, "sentiment.label", "is %q; want negative, neutral or positive", s.Label)
		}
		if s.Source == "" {
			s.Source = "vendor" // computed by whoever sent it
		}
		if !slices.Contains([]string{"vendor", "builtin", "external"}, s.Source) {
			return ev, false, invalid(index, "sentiment.source", "is %q; want vendor, builtin or external", s.Source)
		}
		ev.Sentiment = &gateway.Sentiment{Score: *s.Score, Label: s.Label, Source: s.Source}
	}

	if err := checkCustomer(&ev, index, opts.DefaultRegion); err != nil {
		return ev, false, err
	}
	return ev, true, nil
}

// checkCustomer rejects identities that do not parse (the messages name the field, never the
// value: it is personal data) and events about nobody, except incidents, which concern
// everyone in their scope.
func checkCustomer(ev *gateway.Event, index int, region string) error {
	c := &ev.Customer
	if c.Email != "" {
		if _, err := gateway.NormalizeEmail(c.Email); err != nil {
			return invalid(index, "customer.email", "is not an email address")
		}
	}
	if c.Phone != "" {
		if _, err := gateway.NormalizePhone(c.Phone, region); err != nil {
			return invalid(index, "customer.phone", "is not a phone number (write it in E.164, +34600111222, or configure default_region)")
		}
	}
	for vendor, id := range c.IDs {
		if _, err := gateway.VendorIdentity(vendor, id); err != nil {
			return invalid(index, "customer.ids", "has an entry that is not a vendor id: %v", vendorProblem(vendor, id))
		}
	}
	if c.Email == "" && c.Phone == "" && len(c.IDs) == 0 &&
		ev.Type != gateway.EventIncidentOpened && ev.Type != gateway.EventIncidentResolved {
		return invalid(index, "customer", "names nobody; set customer.email, customer.phone or customer.ids")
	}
	return nil
}

// vendorProblem describes a bad vendor id without echoing the id itself.
func vendorProblem(vendor, id string) string {
	switch {
	case strings.TrimSpace(id) == "":
		return fmt.Sprintf("the %q id is empty", vendor)
	default:
		if _, err := gateway.VendorIdentity(vendor, "x"); err != nil {
			return fmt.Sprintf("%q is not a vendor name (lower-case letters, digits, '-' and '_')", vendor)
		}
		return fmt.Sprintf("the %q id is too long or has control characters", vendor)
	}
}
