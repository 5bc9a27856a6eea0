// Package aircall is the connector for Aircall (cloud telephony) call webhooks.
//
// Aircall does not sign its webhooks. Every delivery carries, inside its JSON body, a
// top-level "token": the token Aircall issued when the webhook was created, shown in the
// Aircall dashboard. hush compares it, in constant time, with the source's secret before
// reading anything else. Only call.ended becomes an event (see call.go for why).
package aircall

import (
	"fmt"

	"github.com/hush-gateway/hush/connectors/options"
	"github.com/hush-gateway/hush/connectors/signature"
	"github.com/hush-gateway/hush/gateway"
)

// Kind is the connector kind's name in configuration.
const Kind = "aircall"

// Vendor is the vendor name of Aircall contact ids in customer identities ("aircall:4242").
const Vendor = "aircall"

// Source receives Aircall webhooks. Safe for concurrent use: it is never modified after
// NewSource.
type Source struct {
	name          string
	tokens        []string // current first, then previous ones still accepted
	insecure      bool
	defaultRegion string
}

// NewSource builds an Aircall source from its configuration. The secret is the webhook's
// token as Aircall shows it. The option previous_secrets lists tokens still accepted while a
// webhook is being replaced (a new Aircall webhook comes with a new token). Without a
// secret, insecure: true accepts deliveries whatever their token; with a secret every
// delivery is verified, whatever insecure says.
func NewSource(cfg gateway.SourceConfig) (*Source, error) {
	opts := options.NewReader(Kind, cfg.Options)
	tokens := opts.Secrets(cfg.Secret, cfg.Insecure, "the Aircall webhook's token")
	if err := opts.Done(); err != nil {
		return nil, fmt.Errorf("source %q: %w", cfg.Name, err)
	}
	if cfg.Tolerance != 0 {
		// Said rather than ignored: an operator setting it expects replay protection, which a
		// static token cannot give.
		return nil, fmt.Errorf("source %q: tolerance does not apply to kind %q: Aircall signs no timestamp; remove it", cfg.Name, Kind)
	}
	return &Source{name: cfg.Name, tokens: tokens, insecure: cfg.Insecure, defaultRegion: cfg.DefaultRegion}, nil
}

// Verify checks the body's top-level "token" against the configured tokens, on the raw
// bytes and before the payload is parsed. Aircall signs nothing else: the token is the whole
// proof, so an endpoint URL alone is not enough to post into hush.
func (s *Source) Verify(req *gateway.WebhookRequest) error {
	if len(s.tokens) == 0 && s.insecure {
		return nil
	}
	received, err := bodyToken(req.Body)
	if err != nil {
		return err
	}
	// Compare with every configured token, without stopping at the first match, so that the
	// time taken does not tell which one matched.
	var ok bool
	var last error
	for _, t := range s.tokens {
		if err := signature.VerifyToken(t, received); err == nil {
			ok = true
		} else {
			last = err
		}
	}
	if ok {
		return nil
	}
	return last
}

// Parse reads a verified delivery.
func (s *Source) Parse(req *gateway.WebhookRequest) (gateway.ParseResult, error) {
	return ParseCall(req.Body, ParseOptions{Source: s.name, ReceivedAt: req.ReceivedAt, DefaultRegion: s.defaultRegion})
}
