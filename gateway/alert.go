package gateway

import (
	"context"
	"net/http"
	"time"
)

// Alert delivery (the Closed loop issue). Rules write alerts to the outbox in the same
// transaction as the silence that caused them; a delivery worker later reads each due
// message, resolves what a person needs to act on it, asks the destination's AlertSender
// for the HTTP request, and sends it with retries. The outbox is the durable state: a
// restart resumes where it stopped, and the message ID is the idempotency key.

// AlertMessage is one outbox alert with what its destination shows, resolved from the store
// when it is sent (a customer may have changed, or been erased, since the alert was queued).
type AlertMessage struct {
	Outbox   OutboxMessage
	Customer *Customer // nil when the customer was erased
	Event    *Event    // the triggering event; nil when gone or not recorded
	Silence  *Silence  // the silence the rule created or extended; nil for alert-only rules
	// ConsoleURL links to the customer in hush's console ("" when no public URL is set).
	ConsoleURL string
	// Language of the human-readable text: es or en.
	Language string
}

// AlertSender turns an alert into the HTTP request its destination expects (a Slack
// message, a signed webhook, a Zendesk ticket). It does no I/O itself: the worker sends,
// retries and records. Implementations are safe for concurrent use.
type AlertSender interface {
	// Request builds the request for one delivery attempt. The message ID is the
	// idempotency key; destinations that accept one get it in a header.
	Request(ctx context.Context, m *AlertMessage) (*http.Request, error)
}

// AlertConfig is one configured alert destination (the `alerts:` list of hush.yaml).
type AlertConfig struct {
	Name    string
	Kind    string
	URL     string
	Options map[string]any // kind-specific: secret (webhook), subdomain/group_id/token (zendesk)…
}

// FiredAt is when the rule behind a message fired: the message was written to the outbox
// in the same transaction, so its creation time (its due time if that is missing).
func (m *AlertMessage) FiredAt() time.Time {
	if !m.Outbox.CreatedAt.IsZero() {
		return m.Outbox.CreatedAt
	}
	return m.Outbox.DueAt
}

// SilenceEndedAt is when the message's silence stopped, and who lifted it ("" when it ran
// out): the lift when a person lifted it before its end, else its end, else (the silence is
// gone) when the message was due.
func (m *AlertMessage) SilenceEndedAt() (time.Time, string) {
	if s := m.Silence; s != nil {
		switch {
		case s.LiftedAt != nil && (s.End == nil || s.LiftedAt.Before(*s.End)):
			return *s.LiftedAt, s.LiftedBy
		case s.End != nil:
			return *s.End, ""
		}
	}
	if !m.Outbox.DueAt.IsZero() {
		return m.Outbox.DueAt, ""
	}
	return m.Outbox.CreatedAt, ""
}
