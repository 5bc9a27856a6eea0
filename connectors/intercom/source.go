// Package intercom is the connector for Intercom webhooks (Developer Hub topic subscriptions).
//
// Intercom signs every notification with X-Hub-Signature: "sha1=" followed by the hex
// HMAC-SHA1 of the raw body under the app's client secret. Nothing signed carries a time, so
// replays are caught by deduplication on the notification id, not by a tolerance window.
package intercom

import (
	"crypto/sha1"
	"fmt"
	"strings"

	"github.com/hush-gateway/hush/connectors/options"
	"github.com/hush-gateway/hush/connectors/signature"
	"github.com/hush-gateway/hush/gateway"
)

// Kind is the connector kind's name in configuration.
const Kind = "intercom"

// HeaderSignature carries the signature of the body.
const HeaderSignature = "X-Hub-Signature"

// hubSignature is Intercom's scheme: HMAC-SHA1 of the body, lower-case hex, "sha1=" first.
var hubSignature = signature.HMAC{Hash: sha1.New, Encoding: signature.Hex, Prefix: "sha1="}

// Source receives Intercom notifications. Safe for concurrent use: it is never modified
// after NewSource.
type Source struct {
	name     string
	secrets  [][]byte // the client secret first, then previous ones still accepted
	insecure bool
}

// NewSource builds an Intercom source. secret is the app's client secret (Developer Hub →
// Basic information). The option previous_secrets lists client secrets still accepted while
// the app's secret is rotated. Without a secret, insecure: true accepts unsigned deliveries.
func NewSource(cfg gateway.SourceConfig) (*Source, error) {
	opts := options.NewReader(Kind, cfg.Options)
	secrets := opts.Secrets(cfg.Secret, cfg.Insecure, "the Intercom app's client secret")
	if err := opts.Done(); err != nil {
		return nil, fmt.Errorf("source %q: %w", cfg.Name, err)
	}
	s := &Source{name: cfg.Name, insecure: cfg.Insecure}
	for _, secret := range secrets {
		s.secrets = append(s.secrets, []byte(secret))
	}
	return s, nil
}

// Sign writes the X-Hub-Signature value Intercom would send for body. It is exported for
// tests and tools; verification does not use it.
func Sign(secret, body []byte) string {
	return hubSignature.Sign(secret, body)
}

// Verify checks X-Hub-Signature against the raw body, in constant time.
func (s *Source) Verify(req *gateway.WebhookRequest) error {
	if len(s.secrets) == 0 && s.insecure {
		return nil
	}
	header := strings.TrimSpace(req.Header.Get(HeaderSignature))
	if header == "" {
		return &gateway.VerifyError{Reason: gateway.VerifyMissingHeader, Detail: HeaderSignature + " header is missing"}
	}
	if algo, _, ok := strings.Cut(header, "="); ok && !strings.EqualFold(algo, "sha1") {
		return &gateway.VerifyError{Reason: gateway.VerifyMalformedHeader,
			Detail: HeaderSignature + ` header is not "sha1=<hex>"`}
	}
	return hubSignature.VerifyAny(s.secrets, []string{header}, req.Body)
}

// Parse turns a verified notification into events.
func (s *Source) Parse(req *gateway.WebhookRequest) (gateway.ParseResult, error) {
	return ParseNotification(req.Body, s.name, req.ReceivedAt)
}
