// Package typeform is the connector for Typeform form-response webhooks.
//
// Typeform posts one JSON object per submitted response ("form_response") to each webhook of
// a form and, when the webhook has a secret, signs the raw body: Typeform-Signature is
// "sha256=" followed by the base64 HMAC-SHA256 of the body keyed with that secret. Nothing
// else is signed, so there is no staleness check; redeliveries keep their event_id.
//
// A form has no fixed "score" question, so each source says which questions (by field ref)
// carry the CSAT, NPS or CES score, the comment, and who answered.
package typeform

import (
	"crypto/sha256"
	"fmt"
	"strings"

	"github.com/hush-gateway/hush/connectors/options"
	"github.com/hush-gateway/hush/connectors/signature"
	"github.com/hush-gateway/hush/gateway"
)

// Kind is the connector kind's name in configuration.
const Kind = "typeform"

// HeaderSignature carries "sha256=<base64 HMAC-SHA256(secret, body)>".
const HeaderSignature = "Typeform-Signature"

var scheme = signature.HMAC{Hash: sha256.New, Encoding: signature.Base64, Prefix: "sha256="}

// fieldConfig says which answers and hidden fields mean what. Refs match an answer's field
// ref, or its field id (2017-era payloads have no refs).
type fieldConfig struct {
	csatRef, npsRef, cesRef string
	commentRef              string
	emailRef, phoneRef      string
	emailHidden             string
	phoneHidden             string
	idHidden                string
	idKind                  string // vendor name of the hidden id: customer.ids[idKind]
}

// Source receives one Typeform webhook's deliveries. Never modified after NewSource: safe
// for concurrent use.
type Source struct {
	name     string
	secret   []byte
	insecure bool
	fields   fieldConfig
}

// NewSource builds a Typeform source. Options (all strings, all optional):
//
//	csat_ref, nps_ref, ces_ref   the question holding the score (field ref or id)
//	comment_ref                  the free-text question that becomes the event's text
//	email_ref, phone_ref         questions asking for the respondent's email / phone
//	email_hidden, phone_hidden   hidden fields with them (default "email", "phone")
//	id_hidden                    hidden field with your customer id (default "customer_id")
//	id_kind                      the vendor name that id is filed under (default "typeform")
func NewSource(cfg gateway.SourceConfig) (*Source, error) {
	o := options.NewReader(Kind, cfg.Options)
	ref := func(key, def string) string { return strings.TrimSpace(o.String(key, def)) }
	f := fieldConfig{
		csatRef: ref("csat_ref", ""), npsRef: ref("nps_ref", ""), cesRef: ref("ces_ref", ""),
		commentRef: ref("comment_ref", ""),
		emailRef:   ref("email_ref", ""), phoneRef: ref("phone_ref", ""),
		emailHidden: ref("email_hidden", "email"), phoneHidden: ref("phone_hidden", "phone"),
		idHidden: ref("id_hidden", "customer_id"),
		idKind:   strings.ToLower(ref("id_kind", Kind)),
	}
	if err := o.Done(); err != nil {
		return nil, fmt.Errorf("source %q: %w", cfg.Name, err)
	}
	if _, err := gateway.VendorIdentity(f.idKind, "x"); err != nil {
		return nil, fmt.Errorf("source %q: option \"id_kind\" for kind %q: %v", cfg.Name, Kind, err)
	}
	if cfg.Secret == "" && !cfg.Insecure {
		return nil, fmt.Errorf("source %q has no secret; set secret (the webhook's secret in Typeform) or insecure: true", cfg.Name)
	}
	return &Source{name: cfg.Name, secret: []byte(cfg.Secret), insecure: cfg.Insecure, fields: f}, nil
}

// Sign writes the Typeform-Signature value for a body, as Typeform does. Exported for tests
// and examples; verification does not use it.
func Sign(secret, body []byte) string { return scheme.Sign(secret, body) }

// Verify checks Typeform-Signature over the raw body, in constant time. Without a secret, a
// source marked insecure accepts every delivery (Typeform sends no signature then).
func (s *Source) Verify(req *gateway.WebhookRequest) error {
	if len(s.secret) == 0 && s.insecure {
		return nil
	}
	header := strings.TrimSpace(req.Header.Get(HeaderSignature))
	if header == "" {
		return &gateway.VerifyError{Reason: gateway.VerifyMissingHeader, Detail: HeaderSignature + " header is missing"}
	}
	malformed := &gateway.VerifyError{Reason: gateway.VerifyMalformedHeader, Detail: HeaderSignature + ` header is not "sha256=<base64>"`}
	if len(header) < len("sha256=") || !strings.EqualFold(header[:len("sha256=")], "sha256=") {
		return malformed
	}
	if err := scheme.Verify(s.secret, header, req.Body); err != nil {
		if v, ok := err.(*gateway.VerifyError); ok && v.Reason == gateway.VerifyMalformedHeader {
			return malformed
		}
		return err
	}
	return nil
}
