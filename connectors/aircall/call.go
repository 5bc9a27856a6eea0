package aircall

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// EventCallEnded is the only Aircall event that becomes a hush event.
//
// Why only this one: Aircall has no "missed" event. A call's outcome is known from
// call.ended, which Aircall sends about 30 seconds after the hang-up once the call's data
// (answered_at, duration, missed_call_reason, voicemail) is final; call.hungup fires at the
// hang-up itself, before that. Mapping both, or call.ended plus any per-step event
// (call.answered, call.voicemail_left…), would count one call as two contacts. So call.ended
// alone decides completed, missed or abandoned, and every other event, including a
// "call.missed" should one ever arrive, is acknowledged as ignored.
const EventCallEnded = "call.ended"

// abandonedReasons are the missed_call_reason values meaning the caller hung up before an
// agent could answer (as opposed to nobody being there to answer).
var abandonedReasons = []string{"short_abandoned", "abandoned_in_ivr", "abandoned_in_classic"}

// ParseOptions says how to complete the events read from a body.
type ParseOptions struct {
	Source        string    // configured source name
	ReceivedAt    time.Time // when the body arrived; the event's At when the body has no timestamp
	DefaultRegion string    // reads national phone numbers
}

// envelope is every Aircall webhook body: which event, about which resource, when.
type envelope struct {
	Resource  string          `json:"resource"`
	Event     string          `json:"event"`
	Timestamp json.RawMessage `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

// call is the part of Aircall's call object hush reads.
type call struct {
	// Numbers are read by hand (numberField) so that an error can name the field without
	// quoting the value, which encoding/json's number errors do.
	ID               json.RawMessage `json:"id"`
	Direction        string          `json:"direction"`
	MissedCallReason *string         `json:"missed_call_reason"`
	StartedAt        json.RawMessage `json:"started_at"`
	AnsweredAt       json.RawMessage `json:"answered_at"`
	EndedAt          json.RawMessage `json:"ended_at"`
	Duration         json.RawMessage `json:"duration"`
	Voicemail        *string         `json:"voicemail"`
	RawDigits        string          `json:"raw_digits"`
	Number           *struct {
		Name   string `json:"name"`
		Digits string `json:"digits"`
	} `json:"number"`
	Contact *contact `json:"contact"`
	Tags    []struct {
		Name string `json:"name"`
	} `json:"tags"`
}

type contact struct {
	ID           json.RawMessage `json:"id"`
	FirstName    string          `json:"first_name"`
	LastName     string          `json:"last_name"`
	PhoneNumbers []struct {
		Value string `json:"value"`
	} `json:"phone_numbers"`
	Emails []struct {
		Value string `json:"value"`
	} `json:"emails"`
}

// invalid is a parse failure: a *gateway.Error with code invalid whose message names the
// field and never quotes its value (phone numbers and names are personal data).
func invalid(format string, args ...any) error {
	return &gateway.Error{Code: gateway.CodeInvalid, Message: fmt.Sprintf(format, args...)}
}

// ParseCall reads one Aircall webhook body. A call.ended about a call that reached nobody
// (anonymous caller, no contact) and every other event are counted in Ignored; a body that
// is not an Aircall webhook, or a call.ended without its call, is an error.
func ParseCall(body []byte, opts ParseOptions) (gateway.ParseResult, error) {
	var res gateway.ParseResult
	if opts.ReceivedAt.IsZero() {
		opts.ReceivedAt = time.Now()
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return res, invalid("body is not a JSON object; want an Aircall webhook event")
	}
	var env envelope
	if err := json.Unmarshal(trimmed, &env); err != nil {
		return res, invalid("%s", describeJSONError(err, ""))
	}
	if strings.TrimSpace(env.Event) == "" {
		return res, invalid(`field "event" is required (an Aircall event name such as call.ended)`)
	}
	if env.Event != EventCallEnded || (env.Resource != "" && env.Resource != "call") {
		res.Ignored = 1
		return res, nil
	}
	at, ok, err := unixTime("timestamp", env.Timestamp)
	if err != nil {
		return res, err
	}
	if !ok {
		at = opts.ReceivedAt
	}

	if len(env.Data) == 0 || string(env.Data) == "null" {
		return res, invalid(`field "data" is required in a %s event`, EventCallEnded)
	}
	var c call
	if err := json.Unmarshal(env.Data, &c); err != nil {
		return res, invalid("%s", describeJSONError(err, "data."))
	}
	ev, known, err := callEnded(&c, at.UTC(), opts)
	if err != nil || !known {
		if err == nil {
			res.Ignored = 1
		}
		return res, err
	}
	res.Events = []gateway.Event{ev}
	return res, nil
}

// callEnded maps a finished call. known is false for calls hush keeps nothing of: an
// outbound call nobody answered (the customer had no contact) and a call naming nobody.
func callEnded(c *call, at time.Time, opts ParseOptions) (ev gateway.Event, known bool, err error) {
	id, err := idField("data.id", c.ID)
	if err != nil {
		return ev, false, err
	}
	if id == "" {
		return ev, false, invalid(`field "data.id" is required`)
	}
	started, hasStarted, err := unixTime("data.started_at", c.StartedAt)
	if err != nil {
		return ev, false, err
	}
	answered, hasAnswered, err := unixTime("data.answered_at", c.AnsweredAt)
	if err != nil {
		return ev, false, err
	}
	ended, hasEnded, err := unixTime("data.ended_at", c.EndedAt)
	if err != nil {
		return ev, false, err
	}
	direction := strings.ToLower(strings.TrimSpace(c.Direction))
	if direction != "inbound" && direction != "outbound" {
		return ev, false, invalid(`field "data.direction" must be inbound or outbound`)
	}
	reason := ""
	if c.MissedCallReason != nil {
		reason = strings.TrimSpace(*c.MissedCallReason)
	}

	ev = gateway.Event{
		ID:         id + ":" + EventCallEnded,
		Source:     opts.Source,
		At:         at,
		Channel:    gateway.ChannelVoice,
		ReceivedAt: opts.ReceivedAt,
		Attrs:      map[string]any{"call_id": id, "direction": direction},
	}
	switch {
	case hasAnswered:
		ev.Type = gateway.EventCallCompleted
		// Aircall's duration runs from started_at to ended_at, ringing included; hush's
		// duration is the conversation, and the ringing is the wait.
		if hasEnded {
			ev.DurationSeconds = seconds(ended.Sub(answered))
		}
		if direction == "inbound" && hasStarted {
			ev.WaitSeconds = seconds(answered.Sub(started))
		}
		ev.Status = gateway.StatusSolved
	case direction == "outbound":
		return ev, false, nil
	default:
		ev.Type = gateway.EventCallMissed
		if slices.Contains(abandonedReasons, reason) {
			ev.Type = gateway.EventCallAbandoned
		}
		if hasStarted && hasEnded {
			ev.WaitSeconds = seconds(ended.Sub(started))
		}
		ev.Status = gateway.StatusOpen
	}
	if reason != "" {
		ev.Attrs["missed_call_reason"] = reason
	}
	total, hasTotal, err := numberField("data.duration", c.Duration)
	if err != nil {
		return ev, false, err
	}
	if hasTotal && total >= 0 {
		ev.Attrs["total_seconds"] = total
	}
	if c.Voicemail != nil && strings.TrimSpace(*c.Voicemail) != "" {
		// Only the fact: the URL is a short-lived signed link to a recording.
		ev.Attrs["voicemail"] = true
	}
	if c.Number != nil {
		if c.Number.Digits != "" {
			ev.Attrs["aircall_number"] = c.Number.Digits
		}
		if c.Number.Name != "" {
			ev.Attrs["aircall_number_name"] = c.Number.Name
		}
	}
	for _, t := range c.Tags {
		if name := strings.TrimSpace(t.Name); name != "" && !slices.Contains(ev.Tags, name) {
			ev.Tags = append(ev.Tags, name)
		}
	}

	topicDigits := customer(&ev.Customer, c, opts.DefaultRegion)
	switch {
	case topicDigits != "":
		ev.Topic = "aircall:caller:" + topicDigits
	case ev.Customer.IDs[Vendor] != "":
		ev.Topic = "aircall:contact:" + ev.Customer.IDs[Vendor]
	default:
		return ev, false, nil // an anonymous caller hush cannot attribute to anybody
	}
	return ev, true, nil
}

// customer fills who the call was with: the external number (raw_digits, as written), else
// the Aircall contact's first usable phone; the contact's first usable email, name and id.
// Values that do not parse are left out rather than failing the delivery: "anonymous" is a
// legitimate raw_digits. It returns the E.164 digits of the phone used, for the topic.
func customer(dst *gateway.EventCustomer, c *call, region string) (topicDigits string) {
	phones := []string{c.RawDigits}
	if c.Contact != nil {
		for _, p := range c.Contact.PhoneNumbers {
			phones = append(phones, p.Value)
		}
	}
	for _, p := range phones {
		if strings.TrimSpace(p) == "" {
			continue
		}
		if id, err := gateway.NormalizePhone(p, region); err == nil {
			dst.Phone = p
			topicDigits = strings.TrimPrefix(id.Value(), "+")
			break
		}
	}
	if c.Contact == nil {
		return topicDigits
	}
	for _, e := range c.Contact.Emails {
		if _, err := gateway.NormalizeEmail(e.Value); err == nil {
			dst.Email = e.Value
			break
		}
	}
	// A contact id hush cannot read is left out like any other unusable identity.
	if id, err := idField("data.contact.id", c.Contact.ID); err == nil && id != "" {
		if _, err := gateway.VendorIdentity(Vendor, id); err == nil {
			dst.IDs = map[string]string{Vendor: id}
		}
	}
	dst.Name = strings.TrimSpace(strings.TrimSpace(c.Contact.FirstName) + " " + strings.TrimSpace(c.Contact.LastName))
	return topicDigits
}

// maxIDLength bounds the call id: event ids are dedupe keys, kept for the retention period.
const maxIDLength = 64

// numberField reads a number Aircall writes as a JSON number (a numeric string is accepted
// too); ok is false when it is null or absent. Errors name the field, never the value.
func numberField(field string, raw json.RawMessage) (n float64, ok bool, err error) {
	text := strings.TrimSpace(string(raw))
	if text == "" || text == "null" {
		return 0, false, nil
	}
	if strings.HasPrefix(text, `"`) {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return 0, false, invalid("field %q is not a number", field)
		}
		text = strings.TrimSpace(s)
	}
	n, err = strconv.ParseFloat(text, 64)
	if err != nil || math.IsInf(n, 0) || math.IsNaN(n) {
		return 0, false, invalid("field %q is not a number", field)
	}
	return n, true, nil
}

// idField reads an id Aircall writes as an integer; a string id is accepted as written.
// "" when null or absent.
func idField(field string, raw json.RawMessage) (string, error) {
	text := strings.TrimSpace(string(raw))
	switch {
	case text == "" || text == "null":
		return "", nil
	case strings.HasPrefix(text, `"`):
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return "", invalid("field %q is not an id", field)
		}
		text = strings.TrimSpace(s)
	default:
		if _, err := strconv.ParseUint(text, 10, 64); err != nil {
			return "", invalid("field %q is not a whole number", field)
		}
	}
	if len(text) > maxIDLength || strings.ContainsFunc(text, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return "", invalid("field %q is longer than %d characters or has control characters", field, maxIDLength)
	}
	return text, nil
}

// unixTime reads a time Aircall writes as Unix seconds; ok is false when it is null or absent.
func unixTime(field string, raw json.RawMessage) (t time.Time, ok bool, err error) {
	f, ok, err := numberField(field, raw)
	if err != nil || !ok {
		return t, false, err
	}
	// Bound it so that time arithmetic cannot overflow: year 1970 to 9999 is plenty.
	if f < 0 || f > 253402300799 {
		return t, false, invalid("field %q is not a Unix time in seconds", field)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true, nil
}

// seconds is a non-negative duration in seconds; nil when the clock went backwards.
func seconds(d time.Duration) *float64 {
	if d < 0 {
		return nil
	}
	s := d.Seconds()
	return &s
}

// describeJSONError turns encoding/json's messages, which speak of Go types, into a sentence
// about the document; prefix is the path of the decoded object ("data.").
func describeJSONError(err error, prefix string) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("body is not valid JSON (at byte %d)", syn.Offset)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return fmt.Sprintf("field %q is not an object", strings.TrimSuffix(prefix, "."))
		}
		return fmt.Sprintf("field %q has the wrong type (%s)", prefix+typ.Field, typ.Value)
	}
	return "body is not valid JSON"
}
