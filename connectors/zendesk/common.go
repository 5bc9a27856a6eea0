package zendesk

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// VendorName is the key of Zendesk user ids in Customer.IDs ({"zendesk": "8841"}) and the
// first part of topics ("zendesk:ticket:5512").
const VendorName = "zendesk"

// maxIDLength bounds event ids: they are dedupe keys, stored for the retention period.
const maxIDLength = 256

// invalid is a parse error for the API caller: code invalid (400, dead letter) and a sentence
// naming the field. Messages never quote values: they are personal data.
func invalid(format string, args ...any) error {
	return &gateway.Error{Code: gateway.CodeInvalid, Message: "zendesk: " + fmt.Sprintf(format, args...)}
}

// ParseBody reads one verified Zendesk body: the event envelope (a JSON object whose "type"
// starts with "zen:event-type:") or the hush trigger template (an object with "ticket_id").
// Anything else is an error; a Zendesk event hush does not use is Ignored.
func ParseBody(body []byte, source string, received time.Time) (gateway.ParseResult, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return gateway.ParseResult{}, invalid("body is not a JSON object")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &fields); err != nil {
		return gateway.ParseResult{}, invalid("body is not valid JSON")
	}
	if t, ok := fields["type"]; ok {
		var typ string
		if json.Unmarshal(t, &typ) == nil && strings.HasPrefix(typ, eventTypePrefix) {
			return parseEvent(trimmed, source, received)
		}
	}
	if _, ok := fields["ticket_id"]; ok {
		return parseTemplate(fields, trimmed, source, received)
	}
	return gateway.ParseResult{}, invalid(`body is neither a Zendesk event (field "type" = "zen:event-type:…") nor the hush trigger template (field "ticket_id")`)
}

// ticketStatus maps a Zendesk status, as the API ("open", "hold"), the event webhooks
// ("OPEN", "HOLD") or the {{ticket.status}} placeholder ("Open", "On-hold") write it, to hush's
// four. ok is false for values hush has no status for (deleted, archived…).
func ticketStatus(s string) (status string, ok bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "new", "open":
		return gateway.StatusOpen, true
	case "pending", "hold", "on-hold", "on hold", "on_hold":
		return gateway.StatusPending, true
	case "solved":
		return gateway.StatusSolved, true
	case "closed":
		return gateway.StatusClosed, true
	}
	return "", false
}

// viaChannel maps the channel a ticket came through (via.channel in event webhooks,
// {{ticket.via}} in templates) to a hush channel; "" when it is none of them (web form, api,
// chat…).
func viaChannel(via string) gateway.Channel {
	v := strings.ToLower(strings.TrimSpace(via))
	switch {
	case v == "email" || v == "mail":
		return gateway.ChannelEmail
	case v == "voice" || strings.HasPrefix(v, "phone call") || v == "voicemail":
		return gateway.ChannelVoice
	case v == "sms" || v == "text":
		return gateway.ChannelSMS
	case strings.Contains(v, "whatsapp"):
		return gateway.ChannelWhatsApp
	}
	return ""
}

// timestampLayouts are the full date-times Zendesk writes: RFC 3339 in the API and event
// webhooks, and minute precision in {{ticket.updated_at_with_timestamp}} ("2013-12-12T05:35Z").
var timestampLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00"}

// parseTimestamp reads a full date-time; ok is false for anything else, including the
// date-only {{ticket.updated_at}} ("February 3, 2025").
func parseTimestamp(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range timestampLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// checkVendorID rejects a Zendesk user id that cannot be an identity, without echoing it.
func checkVendorID(field, id string) error {
	if _, err := gateway.VendorIdentity(VendorName, id); err != nil {
		return invalid("field %q is not a Zendesk user id (too long or control characters)", field)
	}
	return nil
}

func topic(ticketID string) string { return VendorName + ":ticket:" + ticketID }
