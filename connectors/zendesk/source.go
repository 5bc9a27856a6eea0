// Package zendesk is the connector for Zendesk Support webhooks.
//
// One source takes both kinds of Zendesk webhook request, told apart by their body:
//
//   - event webhooks, Zendesk's fixed JSON envelope ({"type": "zen:event-type:ticket.created",
//     "detail": {…}, "event": {…}, "id", "time", "account_id"}), see events.go;
//   - trigger and automation webhooks, whose JSON body the customer writes with placeholders:
//     hush documents a template to paste (docs/connectors/zendesk.md), see template.go.
//
// Zendesk signs both the same way: X-Zendesk-Webhook-Signature is the base64 of
// HMAC-SHA256(secret, timestamp + body), where the timestamp is the
// X-Zendesk-Webhook-Signature-Timestamp header as sent (RFC 3339, "2021-03-25T05:09:27Z").
package zendesk

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"time"

	"github.com/hush-gateway/hush/connectors/options"
	"github.com/hush-gateway/hush/connectors/signature"
	"github.com/hush-gateway/hush/gateway"
)

// Kind is the connector kind's name in configuration.
const Kind = "zendesk"

// DefaultTolerance is how far the signed timestamp may be from the time of receipt.
const DefaultTolerance = 5 * time.Minute

// Zendesk's webhook headers.
const (
	HeaderSignature = "X-Zendesk-Webhook-Signature"
	HeaderTimestamp = "X-Zendesk-Webhook-Signature-Timestamp"
)

// TestSigningSecret is the secret Zendesk signs with when a webhook is tested before it is
// created (Admin Center's "Test webhook" on an unsaved webhook, or POST /api/v2/webhooks/test
// without a webhook id), as published in Zendesk's "Verifying webhook authenticity". Its
// characters, as written, are the HMAC key.
const TestSigningSecret = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="

// scheme is base64(HMAC-SHA256(secret, timestamp + body)).
var scheme = signature.HMAC{Hash: sha256.New, Encoding: signature.Base64}

var _ gateway.Connector = (*Source)(nil)

// Source receives Zendesk webhooks. Safe for concurrent use: never modified after NewSource.
type Source struct {
	name      string
	secrets   [][]byte // current first, then previous ones still accepted
	insecure  bool
	tolerance time.Duration
}

// NewSource builds a zendesk source. The secret is the webhook's signing secret as Zendesk
// shows it (its characters are the key; it is not base64-decoded). The option
// previous_secrets lists secrets still accepted while the webhook's secret is reset.
func NewSource(cfg gateway.SourceConfig) (*Source, error) {
	opts := options.NewReader(Kind, cfg.Options)
	secrets := opts.Secrets(cfg.Secret, cfg.Insecure, "the webhook's signing secret")
	if err := opts.Done(); err != nil {
		return nil, fmt.Errorf("source %q: %w", cfg.Name, err)
	}
	s := &Source{name: cfg.Name, insecure: cfg.Insecure, tolerance: cfg.Tolerance}
	if s.tolerance <= 0 {
		s.tolerance = DefaultTolerance
	}
	for _, secret := range secrets {
		s.secrets = append(s.secrets, []byte(secret))
	}
	return s, nil
}

// Sign returns the X-Zendesk-Webhook-Signature value for a body signed at timestamp (the
// header value exactly as sent), as Zendesk computes it. For tests and tools.
func Sign(secret []byte, timestamp string, body []byte) string {
	return scheme.Sign(secret, []byte(timestamp), body)
}

// Verify checks the signature on the raw body: both headers present, the signature matching
// one configured secret over timestamp + body, and the timestamp within tolerance of receipt.
func (s *Source) Verify(req *gateway.WebhookRequest) error {
	if len(s.secrets) == 0 && s.insecure {
		return nil
	}
	tsRaw := strings.TrimSpace(req.Header.Get(HeaderTimestamp))
	if tsRaw == "" {
		return &gateway.VerifyError{Reason: gateway.VerifyMissingHeader, Detail: HeaderTimestamp + " header is missing"}
	}
	ts, err := time.Parse(time.RFC3339Nano, tsRaw)
	if err != nil {
		return &gateway.VerifyError{Reason: gateway.VerifyMalformedHeader,
			Detail: HeaderTimestamp + " header is not an RFC 3339 time such as 2021-03-25T05:09:27Z"}
	}
	sig := strings.TrimSpace(req.Header.Get(HeaderSignature))
	if sig == "" {
		return &gateway.VerifyError{Reason: gateway.VerifyMissingHeader, Detail: HeaderSignature + " header is missing"}
	}
	now := req.ReceivedAt
	if now.IsZero() {
		now = time.Now()
	}
	// The signed message uses the timestamp exactly as sent, not as re-formatted.
	return scheme.VerifyTimestamped(s.secrets, []string{sig}, ts, now, s.tolerance, []byte(tsRaw), req.Body)
}

// Parse reads a verified body: Zendesk's event envelope, or the hush trigger template.
func (s *Source) Parse(req *gateway.WebhookRequest) (gateway.ParseResult, error) {
	received := req.ReceivedAt
	if received.IsZero() {
		received = time.Now()
	}
	return ParseBody(req.Body, s.name, received)
}
