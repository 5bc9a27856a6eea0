package twilio

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// Parse turns one verified Twilio request into events:
//
//   - an incoming message (MessageSid, no delivery status other than "received") is one
//     sms.inbound event, plus a consent.optout or consent.optin event when it is an opt-out
//     or opt-in keyword (see consent.go);
//   - a call status callback (CallSid, CallStatus) is call.completed, call.missed or
//     call.abandoned; other call statuses, outbound message status callbacks and JSON
//     bodies (Event Streams, Studio) are acknowledged as ignored.
//
// A body that is not form-encoded, or has neither MessageSid nor CallSid, is an error.
func (s *Source) Parse(req *gateway.WebhookRequest) (gateway.ParseResult, error) {
	at := req.ReceivedAt
	if at.IsZero() {
		at = time.Now()
	}
	at = at.UTC()
	trimmed := bytes.TrimSpace(req.Body)
	if len(trimmed) == 0 {
		return gateway.ParseResult{}, invalid("", "body is empty; want Twilio's form-encoded webhook parameters")
	}
	if trimmed[0] == '{' || trimmed[0] == '[' {
		if !json.Valid(trimmed) {
			return gateway.ParseResult{}, invalid("", "body starts like JSON but is not valid JSON")
		}
		// Twilio signs JSON bodies (Studio, Event Streams) with bodySHA256; none of them is
		// a message or call callback this connector maps.
		return gateway.ParseResult{Ignored: 1}, nil
	}
	params, err := url.ParseQuery(string(req.Body))
	if err != nil {
		return gateway.ParseResult{}, invalid("", "body is not form-encoded (application/x-www-form-urlencoded)")
	}
	if sid := messageSid(params); sid != "" {
		return s.message(params, sid, at)
	}
	if strings.TrimSpace(params.Get("CallSid")) != "" {
		return s.call(params, at)
	}
	return gateway.ParseResult{}, invalid("", "body has neither MessageSid nor CallSid; it is not a Twilio messaging or voice webhook")
}

// messageSid is the message's id. SmsSid and SmsMessageSid are the deprecated names Twilio
// still sends alongside MessageSid.
func messageSid(p url.Values) string {
	for _, k := range []string{"MessageSid", "SmsMessageSid", "SmsSid"} {
		if v := strings.TrimSpace(p.Get(k)); v != "" {
			return v
		}
	}
	return ""
}

// message maps an incoming message. Outbound message status callbacks carry the same
// MessageSid but a MessageStatus/SmsStatus other than "received": they are ignored.
func (s *Source) message(p url.Values, sid string, at time.Time) (gateway.ParseResult, error) {
	for _, k := range []string{"MessageStatus", "SmsStatus"} {
		if st := p.Get(k); st != "" && !strings.EqualFold(st, "received") {
			return gateway.ParseResult{Ignored: 1}, nil
		}
	}
	from := strings.TrimSpace(p.Get("From"))
	if from == "" {
		return gateway.ParseResult{}, invalid("From", "is missing; an incoming message names its sender")
	}
	channel := gateway.ChannelSMS
	if strings.HasPrefix(strings.ToLower(from), "whatsapp:") {
		channel = gateway.ChannelWhatsApp
	}
	attrs := map[string]any{}
	setAttr(attrs, "twilio_number", p.Get("To"))
	setAttr(attrs, "messaging_service_sid", p.Get("MessagingServiceSid"))
	setAttr(attrs, "opt_out_type", p.Get("OptOutType"))
	if n, err := strconv.Atoi(p.Get("NumMedia")); err == nil && n >= 0 {
		attrs["num_media"] = n
	}
	inbound := gateway.Event{
		ID:       sid,
		Source:   s.name,
		Type:     gateway.EventSMSInbound,
		At:       at,
		Customer: gateway.EventCustomer{Phone: from},
		Channel:  channel,
		Text:     p.Get("Body"),
		Attrs:    attrs,
	}
	if channel == gateway.ChannelWhatsApp {
		// WhatsApp sends the sender's profile name; SMS names nobody.
		inbound.Customer.Name = strings.TrimSpace(p.Get("ProfileName"))
	}
	res := gateway.ParseResult{Events: []gateway.Event{inbound}}
	if c, ok := consentOf(p); ok {
		res.Events = append(res.Events, gateway.Event{
			ID:       sid + ":" + c.suffix,
			Source:   s.name,
			Type:     c.eventType,
			At:       at,
			Customer: gateway.EventCustomer{Phone: from},
			Channel:  channel,
			Attrs:    map[string]any{"keyword": c.keyword, "detected_by": c.detectedBy, "message_sid": sid},
		})
	}
	return res, nil
}

// Call directions as Twilio writes them.
const (
	directionInbound      = "inbound"
	directionOutboundAPI  = "outbound-api"
	directionOutboundDial = "outbound-dial"
)

// call maps a voice status callback. One callback is sent per status, so CallSid plus the
// status identifies a delivery.
func (s *Source) call(p url.Values, at time.Time) (gateway.ParseResult, error) {
	status := strings.ToLower(strings.TrimSpace(p.Get("CallStatus")))
	direction := strings.ToLower(strings.TrimSpace(p.Get("Direction")))
	var typ string
	switch status {
	case "completed":
		typ = gateway.EventCallCompleted
	case "no-answer", "busy":
		typ = gateway.EventCallMissed
	case "canceled":
		// The caller hung up before the call was answered. An outbound call canceled by the
		// business (REST API) is not something the customer did.
		if direction != directionInbound {
			return gateway.ParseResult{Ignored: 1}, nil
		}
		typ = gateway.EventCallAbandoned
	default:
		// queued, initiated, ringing, in-progress (the voice URL's own request), failed,
		// and callbacks without a CallStatus (recordings).
		return gateway.ParseResult{Ignored: 1}, nil
	}

	// The customer is the party outside the Twilio account.
	external, line := "From", "To"
	switch direction {
	case directionInbound:
	case directionOutboundAPI, directionOutboundDial:
		external, line = "To", "From"
	case "":
		return gateway.ParseResult{}, invalid("Direction", "is missing; want inbound, outbound-api or outbound-dial")
	default:
		return gateway.ParseResult{}, invalid("Direction", "is %.40q; want inbound, outbound-api or outbound-dial", direction)
	}
	phone := strings.TrimSpace(p.Get(external))
	if phone == "" {
		return gateway.ParseResult{}, invalid(external, "is missing; a %s call names the customer there", direction)
	}

	if ts := strings.TrimSpace(p.Get("Timestamp")); ts != "" {
		t, err := mail.ParseDate(ts)
		if err != nil {
			return gateway.ParseResult{}, invalid("Timestamp", "is not an RFC 2822 date such as \"Tue, 21 Nov 2017 17:35:28 +0000\"")
		}
		at = t.UTC()
	}

	sid := strings.TrimSpace(p.Get("CallSid"))
	ev := gateway.Event{
		ID:       sid + ":" + status,
		Source:   s.name,
		Type:     typ,
		At:       at,
		Customer: gateway.EventCustomer{Phone: phone},
		Channel:  gateway.ChannelVoice,
		Topic:    "twilio:caller:" + phone,
		// As for Aircall: an answered call resolves the caller's topic (someone finally
		// spoke to them), so a "silent until resolved" on repeated calls ends, then its
		// grace runs; a missed or abandoned call leaves it open.
		Status: gateway.StatusOpen,
		Attrs:  map[string]any{},
	}
	if typ == gateway.EventCallCompleted {
		ev.Status = gateway.StatusSolved
	}
	if direction == directionInbound {
		// Caller ID lookup names the caller; on outbound calls it names no customer.
		ev.Customer.Name = strings.TrimSpace(p.Get("CallerName"))
	}
	if typ == gateway.EventCallCompleted {
		if d := strings.TrimSpace(p.Get("CallDuration")); d != "" {
			n, err := strconv.ParseUint(d, 10, 32)
			if err != nil {
				return gateway.ParseResult{}, invalid("CallDuration", "is not a whole number of seconds")
			}
			secs := float64(n)
			ev.DurationSeconds = &secs
		}
	}
	setAttr(ev.Attrs, "call_sid", sid)
	setAttr(ev.Attrs, "call_status", status)
	setAttr(ev.Attrs, "direction", direction)
	setAttr(ev.Attrs, "twilio_number", p.Get(line))
	setAttr(ev.Attrs, "parent_call_sid", p.Get("ParentCallSid"))
	setAttr(ev.Attrs, "answered_by", p.Get("AnsweredBy"))
	return gateway.ParseResult{Events: []gateway.Event{ev}}, nil
}

func setAttr(attrs map[string]any, key, value string) {
	if v := strings.TrimSpace(value); v != "" {
		attrs[key] = v
	}
}

// invalid is a parse error with code invalid (400, dead letter) naming the parameter.
// Messages never quote personal data (numbers, message text).
func invalid(field, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if field != "" {
		msg = fmt.Sprintf("parameter %q %s", field, msg)
	}
	return &gateway.Error{Code: gateway.CodeInvalid, Message: msg}
}
