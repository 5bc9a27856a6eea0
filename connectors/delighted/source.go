// Package delighted is the connector for Delighted (CX surveys: NPS, CSAT, CES, 5-star,
// Smileys, Thumbs, eNPS) webhooks.
//
// Delighted posts one JSON object per event to the webhook URL configured in its Webhooks
// integration and signs the raw body: X-Delighted-Webhook-Signature is "sha256=" followed by
// the hex HMAC-SHA256 of the body, keyed with the project's signing secret. Nothing
// else is signed (no timestamp, no URL), so there is no staleness check; redeliveries are
// recognized by event id instead.
package delighted

import (
	"crypto/sha256"
	"fmt"
	"strings"

	"github.com/hush-gateway/hush/connectors/options"
	"github.com/hush-gateway/hush/connectors/signature"
	"github.com/hush-gateway/hush/gateway"
)

// Kind is the connector kind's name in configuration.
const Kind = "delighted"

// HeaderSignature carries "sha256=<hex HMAC-SHA256(secret, body)>".
const HeaderSignature = "X-Delighted-Webhook-Signature"

// scheme is Delighted's signature: HMAC-SHA256 of the raw body, lower-case hex, "sha256=".
var scheme = signature.HMAC{Hash: sha256.New, Encoding: signature.Hex, Prefix: "sha256="}

// Source receives one Delighted project's webhooks. It is never modified after NewSource,
// so it is safe for concurrent use.
type Source struct {
	name     string
	secret   []byte
	insecure bool
	// surveyType is assumed when a payload has no survey_type (payloads from before
	// Delighted offered several survey types carry none; those projects were NPS).
	surveyType string
	// ces5 says the project's CES question uses Delighted's 5-point scale, converted to 1–7.
	ces5 bool
}

// NewSource builds a Delighted source. Options:
//
//	survey_type: the project's survey type, used when a payload names none (default "nps")
//	ces_scale:   5 or 7 (default 7): the scale of the project's CES question
func NewSource(cfg gateway.SourceConfig) (*Source, error) {
	opts := options.NewReader(Kind, cfg.Options)
	surveyType := strings.ToLower(strings.TrimSpace(opts.String("survey_type", "nps")))
	cesScale := opts.Int("ces_scale", 7)
	if err := opts.Done(); err != nil {
		return nil, fmt.Errorf("source %q: %w", cfg.Name, err)
	}
	if _, ok := surveyKinds[surveyType]; !ok {
		return nil, fmt.Errorf("source %q: option \"survey_type\" for kind %q is %q; want one of %s",
			cfg.Name, Kind, surveyType, knownSurveyTypes())
	}
	if cesScale != 5 && cesScale != 7 {
		return nil, fmt.Errorf("source %q: option \"ces_scale\" for kind %q is %d; want 5 or 7", cfg.Name, Kind, cesScale)
	}
	if cfg.Secret == "" && !cfg.Insecure {
		return nil, fmt.Errorf("source %q has no secret; set secret or insecure: true", cfg.Name)
	}
	return &Source{
		name: cfg.Name, secret: []byte(cfg.Secret), insecure: cfg.Insecure,
		surveyType: surveyType, ces5: cesScale == 5,
	}, nil
}

// Sign writes the X-Delighted-Webhook-Signature value for a body, as Delighted does. It is
// exported for tests and examples; verification does not use it.
func Sign(secret, body []byte) string { return scheme.Sign(secret, body) }

// Verify checks X-Delighted-Webhook-Signature over the raw body, in constant time. Without a
// secret, a source marked insecure accepts every delivery.
func (s *Source) Verify(req *gateway.WebhookRequest) error {
	if len(s.secret) == 0 && s.insecure {
		return nil
	}
	header := strings.TrimSpace(req.Header.Get(HeaderSignature))
	if header == "" {
		return &gateway.VerifyError{Reason: gateway.VerifyMissingHeader, Detail: HeaderSignature + " header is missing"}
	}
	if len(header) < len("sha256=") || !strings.EqualFold(header[:len("sha256=")], "sha256=") {
		// Another algorithm, or a bare digest: say so rather than calling it a bad signature.
		return &gateway.VerifyError{Reason: gateway.VerifyMalformedHeader, Detail: HeaderSignature + ` header is not "sha256=<hex>"`}
	}
	if err := scheme.Verify(s.secret, header, req.Body); err != nil {
		if v, ok := err.(*gateway.VerifyError); ok && v.Reason == gateway.VerifyMalformedHeader {
			v.Detail = HeaderSignature + ` header is not "sha256=<hex>"`
		}
		return err
	}
	return nil
}
