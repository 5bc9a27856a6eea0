package freshdesk

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// VendorName is the key of Freshdesk contact ids in Customer.IDs and the first part of topics
// ("freshdesk:ticket:11").
const VendorName = "freshdesk"

// maxIDLength bounds event ids: they are dedupe keys, stored for the retention period.
const maxIDLength = 256

// Template is the JSON body hush asks a Freshdesk automation rule to send (action "Trigger
// webhook", encoding JSON, advanced content). The keys of Zulip's Freshdesk template keep their
// names, so its bodies parse too. satisfaction_rating is typed by hand in the rule that runs
// on "Customer feedback is received" (see the docs).
const Template = `{"freshdesk_webhook": {
  "triggered_event": "{{triggered_event}}",
  "ticket_id": "{{ticket.id}}",
  "ticket_status": "{{ticket.status}}",
  "ticket_priority": "{{ticket.priority}}",
  "ticket_type": "{{ticket.ticket_type}}",
  "ticket_tags": "{{ticket.tags}}",
  "requester_id": "{{ticket.requester.id}}",
  "requester_name": "{{ticket.requester.name}}",
  "requester_email": "{{ticket.requester.email}}",
  "requester_phone": "{{ticket.requester.phone}}",
  "requester_mobile": "{{ticket.requester.mobile}}",
  "updated_at": "{{ticket.modified_on}}"
}}`

// invalid is a parse error for the API caller: code invalid (400, dead letter) and a sentence
// naming the field, never its value.
func invalid(format string, args ...any) error {
	return &gateway.Error{Code: gateway.CodeInvalid, Message: "freshdesk: " + fmt.Sprintf(format, args...)}
}

// fields are the template keys hush reads as text.
var fields = []string{
	"triggered_event", "ticket_id", "ticket_status", "ticket_priority", "ticket_type",
	"requester_id", "requester_name", "requester_email", "requester_phone", "requester_mobile",
	"updated_at", "satisfaction_rating", "satisfaction_comment",
}

// ParseBody reads one verified body: {"freshdesk_webhook": {…}} written with the hush template
// (keys hush does not read are allowed). It yields at most one event.
//
// Event id (Freshdesk sends no delivery id): "ticket:<ticket_id>:<hush type>:<triggered event>:
// <updated_at>", the triggered event without its braces (left out when absent) and updated_at
// as written. Without
// updated_at, or when that id would pass 256 characters, the part after the type is "sha256:"
// and the first 32 hex digits of the body's SHA-256. Both depend on the body only, so every
// retry of a delivery has the same id.
func ParseBody(body []byte, source string, received time.Time) (gateway.ParseResult, error) {
	trimmed := bytes.TrimSpace(body)
	var outer map[string]json.RawMessage
	if len(trimmed) == 0 || trimmed[0] != '{' || json.Unmarshal(trimmed, &outer) != nil {
		return gateway.ParseResult{}, invalid("body is not a JSON object")
	}
	inner, ok := outer["freshdesk_webhook"]
	var b map[string]json.RawMessage
	if !ok || json.Unmarshal(inner, &b) != nil || b == nil {
		return gateway.ParseResult{}, invalid(`body has no "freshdesk_webhook" object; paste the hush template into the rule`)
	}
	v := make(map[string]string, len(fields))
	for _, k := range fields {
		s, ok := text(b[k])
		if !ok {
			return gateway.ParseResult{}, invalid("field %q must be a string", "freshdesk_webhook."+k)
		}
		v[k] = s
	}
	ticket := v["ticket_id"]
	if !isTicketNumber(ticket) {
		return gateway.ParseResult{}, invalid(`field "freshdesk_webhook.ticket_id" is not a ticket number; write "{{ticket.id}}"`)
	}
	tags, err := parseTags(b["ticket_tags"])
	if err != nil {
		return gateway.ParseResult{}, err
	}
	trigger := parseTrigger(v["triggered_event"])

	// The status: the triggered event's new value when it is a status change (a number),
	// else {{ticket.status}} (a name).
	rawStatus := v["ticket_status"]
	if trigger.property == "status" && trigger.to != "" {
		rawStatus = trigger.to
	}
	status, statusKnown := ticketStatus(rawStatus)
	if !statusKnown {
		status, statusKnown = ticketStatus(v["ticket_status"])
	}

	// What happened: a rating; a creation; a status change (solved when the new status is
	// Resolved or Closed); or, without a triggered event, what the status says. Other
	// changes (priority, notes, replies) to a resolved ticket are updates, not new solutions.
	solved := status == gateway.StatusSolved || status == gateway.StatusClosed
	typ := gateway.EventTicketUpdated
	switch {
	case v["satisfaction_rating"] != "":
		typ = gateway.EventSurveyResponse
	case trigger.property == "ticket_action" && trigger.value == "created":
		typ = gateway.EventTicketOpened
	case trigger.property == "ticket_action" && trigger.value == "deleted":
		return gateway.ParseResult{Ignored: 1}, nil
	case (trigger.property == "status" || trigger.property == "") && solved:
		typ = gateway.EventTicketSolved
	}

	cust := gateway.EventCustomer{Email: v["requester_email"], Phone: v["requester_phone"], Name: v["requester_name"]}
	if cust.Phone == "" {
		cust.Phone = v["requester_mobile"]
	}
	if id := v["requester_id"]; id != "" {
		if _, err := gateway.VendorIdentity(VendorName, id); err != nil {
			return gateway.ParseResult{}, invalid(`field "freshdesk_webhook.requester_id" is not a Freshdesk contact id`)
		}
		cust.IDs = map[string]string{VendorName: id}
	}
	if cust.Email == "" && cust.Phone == "" && len(cust.IDs) == 0 {
		return gateway.ParseResult{}, invalid(`body names no customer: add "requester_email": "{{ticket.requester.email}}" ` +
			`and "requester_id": "{{ticket.requester.id}}" to the rule's JSON`)
	}

	ev := gateway.Event{
		Source:     source,
		Type:       typ,
		At:         received.UTC(),
		Customer:   cust,
		Topic:      VendorName + ":ticket:" + ticket,
		Tags:       tags,
		ReceivedAt: received,
		Raw:        append(json.RawMessage(nil), trimmed...),
		Attrs:      map[string]any{},
	}
	if statusKnown {
		ev.Status = status
	}
	if t, ok := parseTimestamp(v["updated_at"]); ok {
		ev.At = t
	}
	addAttr(ev.Attrs, "triggered_event", trigger.compact)
	addAttr(ev.Attrs, "freshdesk_status", v["ticket_status"])
	addAttr(ev.Attrs, "priority", strings.ToLower(v["ticket_priority"]))
	addAttr(ev.Attrs, "ticket_type", strings.ToLower(v["ticket_type"]))
	if trigger.property == "status" {
		addAttr(ev.Attrs, "previous_status", statusName(trigger.from))
	}

	if typ == gateway.EventSurveyResponse {
		csat, rating, ok := satisfaction(v["satisfaction_rating"])
		if !ok {
			return gateway.ParseResult{}, invalid(`field "freshdesk_webhook.satisfaction_rating" is not a Freshdesk rating (103 to -103, or its label such as "Extremely unhappy")`)
		}
		ev.CSAT = &csat
		ev.Text = v["satisfaction_comment"]
		ev.Attrs["csat_scale"] = "freshdesk -103..103"
		ev.Attrs["freshdesk_rating"] = rating
	}

	parts := []string{"ticket", ticket, typ}
	if trigger.compact != "" {
		parts = append(parts, trigger.compact)
	}
	ev.ID = strings.Join(append(parts, v["updated_at"]), ":")
	if v["updated_at"] == "" || len(ev.ID) > maxIDLength {
		sum := sha256.Sum256(trimmed)
		ev.ID = "ticket:" + ticket + ":" + typ + ":sha256:" + hex.EncodeToString(sum[:16])
	}
	return gateway.ParseResult{Events: []gateway.Event{ev}}, nil
}

// trigger is {{triggered_event}} read: "{ticket_action:created}" has a property and a value;
// "{status:{from:4,to:6}}" a property, from and to. Freshdesk writes it without JSON quoting.
type trigger struct {
	property, value, from, to string
	compact                   string // without braces or spaces: "status:from:4,to:6"
}

func parseTrigger(s string) trigger {
	compact := strings.NewReplacer("{", "", "}", "", " ", "").Replace(s)
	t := trigger{compact: compact}
	prop, rest, _ := strings.Cut(compact, ":")
	t.property = strings.ToLower(prop)
	for _, part := range strings.Split(rest, ",") {
		k, val, ok := strings.Cut(part, ":")
		switch {
		case ok && k == "from":
			t.from = val
		case ok && k == "to":
			t.to = val
		case !ok && t.value == "":
			t.value = strings.ToLower(part)
		}
	}
	return t
}

// Freshdesk's built-in statuses: 2 Open, 3 Pending, 4 Resolved, 5 Closed. Custom statuses
// (6 and up, or their names) have no hush status.
var statusNames = map[string]string{"2": "Open", "3": "Pending", "4": "Resolved", "5": "Closed"}

func statusName(code string) string {
	if n, ok := statusNames[code]; ok {
		return strings.ToLower(n)
	}
	return code
}

// ticketStatus maps a Freshdesk status, by number or by name, to hush's four.
func ticketStatus(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if n, ok := statusNames[s]; ok {
		s = n
	}
	switch strings.ToLower(s) {
	case "open":
		return gateway.StatusOpen, true
	case "pending":
		return gateway.StatusPending, true
	case "resolved":
		return gateway.StatusSolved, true
	case "closed":
		return gateway.StatusClosed, true
	}
	return "", false
}

// ratingLabels are Freshdesk's satisfaction-survey answers: the API's values (103 … -103) and
// the labels of the classic three-point and the five- and seven-point custom surveys.
var ratingLabels = map[string]int{
	"extremely happy": 103, "awesome": 103,
	"very happy": 102,
	"happy":      101,
	"neutral":    100, "just okay": 100, "okay": 100,
	"unhappy":           -101,
	"very unhappy":      -102,
	"extremely unhappy": -103, "not good": -103,
}

// csatOf converts Freshdesk's seven-point scale to CSAT 1–5, rounding so that every unhappy
// answer is at most 2 and every happy one at least 4.
var csatOf = map[int]float64{103: 5, 102: 4, 101: 4, 100: 3, -101: 2, -102: 2, -103: 1}

func satisfaction(s string) (csat float64, rating int, ok bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if n, err := strconv.Atoi(s); err == nil {
		rating = n
	} else if n, found := ratingLabels[s]; found {
		rating = n
	}
	csat, ok = csatOf[rating]
	return csat, rating, ok
}

// timestampLayouts are the full date-times accepted for updated_at: RFC 3339, and Freshdesk's
// API form without a zone (read as UTC).
var timestampLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05"}

func parseTimestamp(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range timestampLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// text returns a string or number value's text; "" when absent, null, empty or an unrendered
// placeholder. ok is false for other JSON types.
func text(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return "", true
	}
	var s string
	if raw[0] == '"' {
		if json.Unmarshal(raw, &s) != nil {
			return "", false
		}
	} else {
		var n json.Number
		if json.Unmarshal(raw, &n) != nil {
			return "", false
		}
		s = n.String()
	}
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "{{") && strings.HasSuffix(s, "}}") {
		return "", true
	}
	return s, true
}

// parseTags reads ticket_tags: {{ticket.tags}} renders the tags separated by commas (a list
// without commas is split on spaces); a JSON array of strings is accepted too.
func parseTags(raw json.RawMessage) ([]string, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	var list []string
	if json.Unmarshal(raw, &list) != nil {
		s, ok := text(raw)
		if !ok {
			return nil, invalid(`field "freshdesk_webhook.ticket_tags" must be a string of tags or an array of strings`)
		}
		if strings.Contains(s, ",") {
			list = strings.Split(s, ",")
		} else {
			list = strings.Fields(s)
		}
	}
	var out []string
	for _, t := range list {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out, nil
}

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
