package helpscout

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// Help Scout webhook events (the X-HelpScout-Event header) hush turns into events. Every
// other event (convo.agent.reply.created, convo.note.created, convo.deleted, customer.*,
// tag.*, beacon.chat.*, helpscout.test…) is acknowledged and ignored.
const (
	EventConvoCreated  = "convo.created"
	EventCustomerReply = "convo.customer.reply.created"
	EventConvoStatus   = "convo.status"
	EventRating        = "satisfaction.ratings"
)

// Vendor is the key of Help Scout's customer id in Customer.IDs ("helpscout:<id>").
const Vendor = "helpscout"

// maxIDLength bounds event ids: they are dedupe keys, stored for the retention period.
const maxIDLength = 256

func invalid(format string, args ...any) error {
	return &gateway.Error{Code: gateway.CodeInvalid, Message: "help scout webhook: " + fmt.Sprintf(format, args...)}
}

// ParseWebhook turns one Help Scout webhook body, of the event named by the
// X-HelpScout-Event header, into events. source names the events; receivedAt is their time
// when the payload carries none.
func ParseWebhook(event string, body []byte, source string, receivedAt time.Time) (gateway.ParseResult, error) {
	var res gateway.ParseResult
	if receivedAt.IsZero() {
		receivedAt = time.Now()
	}
	event = strings.TrimSpace(event)
	if event == "" {
		return res, invalid("the %s header is missing: it names the event", HeaderEvent)
	}
	p := parser{event: event, body: body, source: source, receivedAt: receivedAt.UTC()}
	var (
		ev  gateway.Event
		err error
	)
	switch event {
	case EventConvoCreated, EventCustomerReply, EventConvoStatus:
		ev, err = p.conversationEvent()
	case EventRating:
		ev, err = p.ratingEvent()
	default:
		res.Ignored = 1
		return res, nil
	}
	if err != nil {
		return gateway.ParseResult{}, err
	}
	res.Events = []gateway.Event{ev}
	return res, nil
}

// parser holds one delivery being turned into an event.
type parser struct {
	event      string
	body       []byte
	source     string
	receivedAt time.Time
}

// decode reads the body, which must be one JSON object, into dst.
func (p *parser) decode(dst any) error {
	trimmed := bytes.TrimSpace(p.body)
	if len(trimmed) == 0 {
		return invalid("body is empty; want a JSON object")
	}
	if trimmed[0] != '{' {
		return invalid("body is not a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	if err := dec.Decode(dst); err != nil {
		return invalid("%s", describeJSONError(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalid("body has data after the JSON object")
	}
	return nil
}

// describeJSONError turns encoding/json's messages, which speak of Go types, into sentences
// about the document. Values are never quoted: they may be personal data.
func describeJSONError(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("body is not valid JSON (at byte %d)", syn.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "body is not valid JSON: it ends too early"
	case errors.As(err, &typ) && typ.Field != "":
		return fmt.Sprintf("field %q has the wrong type or format (got a JSON %s)", typ.Field, typ.Value)
	case errors.As(err, &typ):
		return fmt.Sprintf("body is not the expected object (got a JSON %s)", typ.Value)
	}
	return "body is not valid JSON"
}

// deliveryID builds the event id. Help Scout sends no delivery id (its only headers are the
// event name and the signature), so the id is the event, the resource and the moment that
// makes this delivery what it is; a retry of the same delivery carries the same body and so
// the same id. When the payload has no such moment, a digest of the body stands in for it.
func (p *parser) deliveryID(resource string, moment string) (string, error) {
	if moment == "" {
		sum := sha256.Sum256(bytes.TrimSpace(p.body))
		moment = "sha256:" + hex.EncodeToString(sum[:12])
	}
	id := p.event + ":" + resource + ":" + moment
	if len(id) > maxIDLength {
		return "", invalid("the resource id is too long to name the delivery (at most %d characters)", maxIDLength/2)
	}
	return id, nil
}

// stamp formats a moment for an id: RFC 3339 in UTC, empty when unknown.
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// first returns the first non-zero time, else the time of receipt.
func (p *parser) first(times ...time.Time) time.Time {
	if t := nonZero(times...); !t.IsZero() {
		return t
	}
	return p.receivedAt
}

// nonZero returns the first non-zero time in UTC; zero if there is none.
func nonZero(times ...time.Time) time.Time {
	for _, t := range times {
		if !t.IsZero() {
			return t.UTC()
		}
	}
	return time.Time{}
}

// customerOf builds the event's customer; ok is false when it names nobody.
func customerOf(people ...*person) (c gateway.EventCustomer, ok bool) {
	for _, p := range people {
		if p == nil {
			continue
		}
		if id := strings.TrimSpace(string(p.ID)); id != "" && c.IDs == nil {
			c.IDs = map[string]string{Vendor: id}
		}
		if c.Email == "" {
			c.Email = p.email()
		}
		if c.Phone == "" {
			c.Phone = p.phone()
		}
		if c.Name == "" {
			c.Name = p.name()
		}
	}
	return c, c.Email != "" || c.Phone != "" || len(c.IDs) > 0
}
