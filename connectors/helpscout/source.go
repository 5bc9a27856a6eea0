// Package helpscout is the connector for Help Scout webhooks (Manage → Apps → Webhooks, or
// the Mailbox API's webhooks endpoint).
//
// Help Scout signs every delivery with X-HelpScout-Signature: the standard base64 of the
// HMAC-SHA1 of the raw body under the webhook's secret key, and names the event in
// X-HelpScout-Event. Nothing signed carries a time, and there is no delivery id: replays are
// caught by deduplication on ids derived from the payload (see ParseWebhook).
package helpscout

import (
	"crypto/sha1"
	"fmt"
	"strings"

	"github.com/hush-gateway/hush/connectors/options"
	"github.com/hush-gateway/hush/connectors/signature"
	"github.com/hush-gateway/hush/gateway"
)

// Kind is the connector kind's name in configuration.
const Kind = "helpscout"

// Help Scout's webhook headers.
const (
	HeaderSignature = "X-HelpScout-Signature"
	HeaderEvent     = "X-HelpScout-Event"
)

// hsSignature is Help Scout's scheme: HMAC-SHA1 of the body, standard base64.
var hsSignature = signature.HMAC{Hash: sha1.New, Encoding: signature.Base64}

// Source receives Help Scout webhooks. Safe for concurrent use: it is never modified after
// NewSource.
type Source struct {
	name     string
	secrets  [][]byte // the webhook's secret key first, then previous ones still accepted
	insecure bool
}

// NewSource builds a Help Scout source. secret is the webhook's secret key (at most 40
// characters, chosen when the webhook is created). The option previous_secrets lists keys
// still accepted while the webhook's key is changed. Without a secret, insecure: true
// accepts unsigned deliveries.
func NewSource(cfg gateway.SourceConfig) (*Source, error) {
	opts := options.NewReader(Kind, cfg.Options)
	secrets := opts.Secrets(cfg.Secret, cfg.Insecure, "the Help Scout webhook's secret key")
	if err := opts.Done(); err != nil {
		return nil, fmt.Errorf("source %q: %w", cfg.Name, err)
	}
	s := &Source{name: cfg.Name, insecure: cfg.Insecure}
	for _, secret := range secrets {
		s.secrets = append(s.secrets, []byte(secret))
	}
	return s, nil
}

// Sign writes the X-HelpScout-Signature value Help Scout would send for body. It is exported
// for tests and tools; verification does not use it.
func Sign(secret, body []byte) string {
	return hsSignature.Sign(secret, body)
}

// Verify checks X-HelpScout-Signature against the raw body, in constant time.
func (s *Source) Verify(req *gateway.WebhookRequest) error {
	if len(s.secrets) == 0 && s.insecure {
		return nil
	}
	header := strings.TrimSpace(req.Header.Get(HeaderSignature))
	if header == "" {
		return &gateway.VerifyError{Reason: gateway.VerifyMissingHeader, Detail: HeaderSignature + " header is missing"}
	}
	return hsSignature.VerifyAny(s.secrets, []string{header}, req.Body)
}

// Parse turns a verified delivery into events; the event name comes from X-HelpScout-Event.
func (s *Source) Parse(req *gateway.WebhookRequest) (gateway.ParseResult, error) {
	return ParseWebhook(req.Header.Get(HeaderEvent), req.Body, s.name, req.ReceivedAt)
}
