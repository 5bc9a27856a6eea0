package generic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/hush-gateway/hush/connectors/options"
	"github.com/hush-gateway/hush/gateway"
)

// AlertKind is the alert kind's name in configuration: a JSON document POSTed to any URL,
// signed as Standard Webhooks with the same scheme the generic source verifies.
const AlertKind = "webhook"

// Document types, one per outbox kind, so that a receiver that also takes other webhooks
// can tell hush's messages apart, and tell an alert from a reminder.
const (
	// AlertType is a rule that just fired: a customer is at risk now.
	AlertType = "hush.alert"
	// FollowUpType is a rule's follow-up: time to check back with the customer.
	FollowUpType = "hush.follow_up"
	// SilenceEndedType is a silence that is over: marketing may write to the customer again.
	SilenceEndedType = "hush.silence_ended"
)

// DocumentType is the document type of an outbox kind. An unknown kind is sent as an alert:
// a message the receiver does not understand is better than one that is never sent.
func DocumentType(kind string) string {
	switch kind {
	case gateway.OutboxFollowUp:
		return FollowUpType
	case gateway.OutboxSilenceEnded:
		return SilenceEndedType
	default:
		return AlertType
	}
}

// Alert builds signed webhook deliveries of alerts. Safe for concurrent use: it is never
// modified after NewAlert (tests replace the clock before first use).
type Alert struct {
	name string
	url  string
	key  []byte
	// now is the signing clock; time.Now but in tests, where the timestamp must be fixed
	// for the body and signature to be compared.
	now func() time.Time
}

// NewAlert builds a webhook alert sender from its configuration. The option secret is
// required — "whsec_<base64>" or any string, read as the generic source reads it — because
// an unsigned alert could not be told from a forged one by its receiver.
func NewAlert(cfg gateway.AlertConfig) (*Alert, error) {
	opts := options.NewReader(AlertKind, cfg.Options)
	secret := opts.RequiredString("secret")
	if err := opts.Done(); err != nil {
		return nil, fmt.Errorf("alert %q: %w", cfg.Name, err)
	}
	if err := options.CheckHTTPURL(cfg.URL, ""); err != nil {
		return nil, fmt.Errorf("alert %q: %w", cfg.Name, err)
	}
	key, err := DecodeSecret(secret)
	if err != nil {
		return nil, fmt.Errorf("alert %q: secret: %w", cfg.Name, err)
	}
	return &Alert{name: cfg.Name, url: cfg.URL, key: key, now: time.Now}, nil
}

// AlertDocument is the JSON body of a webhook alert (docs/alerts.md documents it).
type AlertDocument struct {
	Type      string    `json:"type"` // AlertType, FollowUpType or SilenceEndedType
	ID        string    `json:"id"`   // outbox message id, also the webhook-id header
	CreatedAt time.Time `json:"created_at"`
	// DueAt is when a follow-up or a silence's end was meant to go out; absent for alerts.
	DueAt *time.Time `json:"due_at,omitempty"`
	Alert string     `json:"alert"` // the configured alert's name
	Rule  string     `json:"rule"`
	// Customer is always present: when the customer was erased after the alert was
	// queued, only the id remains, with Erased set.
	Customer AlertCustomer `json:"customer"`
	// Event is the triggering event as normalized by hush, without the vendor's raw
	// payload; null when it is gone or was not recorded.
	Event *gateway.Event `json:"event"`
	// Silence is the silence the rule created or extended; null for alert-only rules.
	Silence    *gateway.Silence `json:"silence"`
	ConsoleURL string           `json:"console_url,omitempty"`
}

// AlertCustomer is who the alert is about.
type AlertCustomer struct {
	ID         string             `json:"id"`
	Identities []gateway.Identity `json:"identities"`
	Name       string             `json:"name,omitempty"`
	Erased     bool               `json:"erased,omitempty"`
}

// Document builds the alert's JSON document; it depends on the message only, so that every
// attempt of one alert sends the same body.
func Document(m *gateway.AlertMessage) AlertDocument {
	d := AlertDocument{
		Type: DocumentType(m.Outbox.Kind), ID: m.Outbox.ID, CreatedAt: m.Outbox.CreatedAt.UTC(), Alert: m.Outbox.Target,
		Rule: m.Outbox.Rule, Event: m.Event, Silence: m.Silence, ConsoleURL: m.ConsoleURL,
	}
	if due := m.Outbox.DueAt; !due.IsZero() {
		due = due.UTC()
		d.DueAt = &due
	}
	if c := m.Customer; c != nil {
		d.Customer = AlertCustomer{ID: c.ID, Identities: c.Identities, Name: c.Name}
	} else {
		d.Customer = AlertCustomer{ID: m.Outbox.CustomerID, Erased: true}
	}
	if d.Customer.Identities == nil {
		d.Customer.Identities = []gateway.Identity{}
	}
	return d
}

// Request builds one signed delivery: the body is the alert document, webhook-id the outbox
// message id (the receiver's idempotency key, the same on every retry), webhook-timestamp
// the time of this attempt, and webhook-signature "v1,<base64 HMAC-SHA256>" over
// "id.timestamp.body" — generic.Sign, the scheme the generic source verifies.
func (a *Alert) Request(ctx context.Context, m *gateway.AlertMessage) (*http.Request, error) {
	if m == nil || m.Outbox.ID == "" {
		return nil, errors.New("webhook alert: the message has no outbox id")
	}
	body, err := json.Marshal(Document(m))
	if err != nil {
		return nil, fmt.Errorf("encoding webhook alert %s: %w", m.Outbox.ID, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.url, bytes.NewReader(body))
	if err != nil {
		// err would quote the URL, which may hold a token.
		return nil, fmt.Errorf("building webhook alert %s for %q: the request could not be made", m.Outbox.ID, a.name)
	}
	ts := a.now()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderID, m.Outbox.ID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set(HeaderSignature, Sign(a.key, m.Outbox.ID, ts, body))
	return req, nil
}
