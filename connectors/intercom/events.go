package intercom

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// Intercom webhook topics hush turns into events. Every other topic (ping, contact.*,
// conversation.admin.replied, ticket.note.created…) is acknowledged and ignored.
const (
	TopicUserCreated          = "conversation.user.created"
	TopicUserReplied          = "conversation.user.replied"
	TopicAdminClosed          = "conversation.admin.closed"
	TopicRatingAdded          = "conversation.rating.added"
	TopicTicketCreated        = "ticket.created"
	TopicTicketStateUpdated   = "ticket.state.updated"
	TopicTicketContactReplied = "ticket.contact.replied"
	TopicTicketResolved       = "ticket.resolved"
	TopicTicketClosed         = "ticket.closed"
)

// maxIDLength bounds event ids: they are dedupe keys, stored for the retention period.
const maxIDLength = 256

// Vendor is the key of Intercom's contact id in Customer.IDs ("intercom:<id>").
const Vendor = "intercom"

func invalid(format string, args ...any) error {
	return &gateway.Error{Code: gateway.CodeInvalid, Message: "intercom notification: " + fmt.Sprintf(format, args...)}
}

// ParseNotification turns one Intercom webhook body into events. source names the events;
// receivedAt is their time when the payload carries none.
func ParseNotification(body []byte, source string, receivedAt time.Time) (gateway.ParseResult, error) {
	var res gateway.ParseResult
	if receivedAt.IsZero() {
		receivedAt = time.Now()
	}
	n, err := decodeNotification(body)
	if err != nil {
		return res, err
	}
	p := parser{n: n, source: source, receivedAt: receivedAt.UTC()}
	switch n.Topic {
	case TopicUserCreated, TopicUserReplied, TopicAdminClosed, TopicRatingAdded:
		res.Events, err = p.conversationEvents()
	case TopicTicketCreated, TopicTicketStateUpdated, TopicTicketContactReplied, TopicTicketResolved, TopicTicketClosed:
		res.Events, err = p.ticketEvents()
	default:
		res.Ignored = 1
		return res, nil
	}
	if err != nil {
		return gateway.ParseResult{}, err
	}
	return res, nil
}

// decodeNotification reads the envelope; data.item is left raw for the topic's reader.
func decodeNotification(body []byte) (*notification, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, invalid("body is empty; want a JSON object")
	}
	if trimmed[0] != '{' {
		return nil, invalid("body is not a JSON object")
	}
	var n notification
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	if err := dec.Decode(&n); err != nil {
		return nil, invalid("%s", describeJSONError(err, ""))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, invalid("body has data after the JSON object")
	}
	if n.Type != "notification_event" {
		return nil, invalid(`field "type" is not "notification_event": the body is not an Intercom webhook notification`)
	}
	if strings.TrimSpace(n.Topic) == "" {
		return nil, invalid(`field "topic" is required`)
	}
	return &n, nil
}

// describeJSONError turns encoding/json's messages, which speak of Go types, into sentences
// about the document; prefix is the path of the value decoded ("data.item").
func describeJSONError(err error, prefix string) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	field := func(f string) string {
		if prefix == "" {
			return f
		}
		if f == "" {
			return prefix
		}
		return prefix + "." + f
	}
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("body is not valid JSON (at byte %d)", syn.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "body is not valid JSON: it ends too early"
	case errors.As(err, &typ):
		return fmt.Sprintf("field %q has the wrong type (got a JSON %s)", field(typ.Field), typ.Value)
	}
	// Errors of the lenient scalar readers ("want a Unix time in seconds") do not say where.
	where := "the body"
	if prefix != "" {
		where = "field " + strconv.Quote(prefix)
	}
	return fmt.Sprintf("%s has a value of the wrong type: %v", where, err)
}

// decodeItem reads data.item, which must be a JSON object, into dst.
func (p *parser) decodeItem(dst any) error {
	item := bytes.TrimSpace(p.n.Data.Item)
	if len(item) == 0 || bytes.Equal(item, []byte("null")) {
		return invalid(`field "data.item" is required for topic %q`, p.n.Topic)
	}
	if item[0] != '{' {
		return invalid(`field "data.item" is not a JSON object`)
	}
	if err := json.Unmarshal(item, dst); err != nil {
		return invalid("%s", describeJSONError(err, "data.item"))
	}
	return nil
}

// parser holds one notification being turned into events.
type parser struct {
	n          *notification
	source     string
	receivedAt time.Time
}

// notificationID is the delivery id: Intercom keeps it across retries of one notification.
func (p *parser) notificationID() (string, error) {
	id := strings.TrimSpace(string(p.n.ID))
	switch {
	case id == "":
		return "", invalid(`field "id" is required for topic %q`, p.n.Topic)
	case len(id) > maxIDLength:
		return "", invalid(`field "id" is longer than %d characters`, maxIDLength)
	}
	return id, nil
}

// at returns the first non-zero timestamp, else the notification's own created_at, else the
// time of receipt.
func (p *parser) at(candidates ...unixTime) time.Time {
	for _, c := range append(candidates, p.n.CreatedAt) {
		if c != 0 {
			return c.Time()
		}
	}
	return p.receivedAt
}

// event starts an event with what every event of the notification shares.
func (p *parser) event(id, typ, topic string) gateway.Event {
	attrs := map[string]any{"intercom_topic": p.n.Topic}
	if p.n.AppID != "" {
		attrs["app_id"] = string(p.n.AppID)
	}
	return gateway.Event{ID: id, Source: p.source, Type: typ, Topic: topic, Attrs: attrs}
}

// customerAuthor reports whether a message or part author is the customer (a user, lead,
// contact or visitor) rather than a teammate, a bot or Intercom itself.
func customerAuthor(t string) bool {
	switch t {
	case "user", "lead", "contact", "visitor":
		return true
	}
	return false
}

// customer builds the event's customer from a contact reference (or v1 user) and, when it is
// the same person or nobody else is known, the author of the customer's message, which
// carries the email and name that v2 contact references lack.
func customer(ref *person, author *person) (gateway.EventCustomer, string) {
	var c gateway.EventCustomer
	var external string
	add := func(p *person) {
		if p == nil {
			return
		}
		if id := strings.TrimSpace(string(p.ID)); id != "" && c.IDs == nil {
			c.IDs = map[string]string{Vendor: id}
		}
		if c.Email == "" {
			c.Email = strings.TrimSpace(p.Email)
		}
		if c.Phone == "" {
			c.Phone = strings.TrimSpace(p.Phone)
		}
		if c.Name == "" {
			c.Name = strings.TrimSpace(p.Name)
		}
		if external == "" {
			external = strings.TrimSpace(string(p.ExternalID))
		}
		if external == "" {
			external = strings.TrimSpace(string(p.UserID))
		}
	}
	add(ref)
	if author != nil && customerAuthor(author.Type) {
		if ref == nil || ref.ID == "" || author.ID == "" || author.ID == ref.ID {
			add(author)
		}
	}
	return c, external
}

func namesNobody(c gateway.EventCustomer) bool {
	return c.Email == "" && c.Phone == "" && len(c.IDs) == 0
}

// channelOf maps the type of a conversation's source (or a ticket's channel) to a hush
// channel when it is unambiguous. Messenger chats, social networks and phone_switch (a call
// moved to another channel) have none.
func channelOf(t string) gateway.Channel {
	switch strings.ToLower(t) {
	case "email":
		return gateway.ChannelEmail
	case "sms":
		return gateway.ChannelSMS
	case "whatsapp":
		return gateway.ChannelWhatsApp
	case "phone_call":
		return gateway.ChannelVoice
	case "push":
		return gateway.ChannelPush
	}
	return ""
}

func formatScore(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
