// Package generic is the connector for tools hush has no dedicated connector for.
//
// Inbound, a source of kind generic takes hush's normalized event (DESIGN §5), one JSON object
// or an array of them, signed as Standard Webhooks. Outbound, an upstream of kind generic
// finds the recipients of any JSON or form API from configuration (see upstream.go).
package generic

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/hush-gateway/hush/connectors/options"
	"github.com/hush-gateway/hush/connectors/signature"
	"github.com/hush-gateway/hush/gateway"
)

// Kind is the connector kind's name in configuration.
const Kind = "generic"

// DefaultTolerance is how far a webhook-timestamp may be from the time of receipt.
const DefaultTolerance = 5 * time.Minute

// Standard Webhooks headers.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// standardWebhooks is the scheme: HMAC-SHA256 of "id.timestamp.body", standard base64, in a
// list of "v1,<sig>" entries.
var standardWebhooks = signature.HMAC{Hash: sha256.New, Encoding: signature.Base64}

// Source receives normalized events signed as Standard Webhooks. Safe for concurrent use:
// it is never modified after NewSource.
type Source struct {
	name          string
	secrets       [][]byte // current first, then previous ones still accepted
	insecure      bool
	tolerance     time.Duration
	defaultRegion string
}

// NewSource builds a generic source from its configuration.
//
// The secret is read as Standard Webhooks libraries issue it, "whsec_" followed by the base64
// of the key; any other string is used as the key bytes as written. The option
// previous_secrets lists secrets still accepted while a sender rotates to the new one.
// Without a secret, insecure: true accepts unsigned deliveries; with a secret, every delivery
// is verified whatever insecure says.
func NewSource(cfg gateway.SourceConfig) (*Source, error) {
	opts := options.NewReader(Kind, cfg.Options)
	secrets := opts.Secrets(cfg.Secret, cfg.Insecure, "the sender's signing secret")
	if err := opts.Done(); err != nil {
		return nil, fmt.Errorf("source %q: %w", cfg.Name, err)
	}
	s := &Source{name: cfg.Name, insecure: cfg.Insecure, tolerance: cfg.Tolerance, defaultRegion: cfg.DefaultRegion}
	if s.tolerance <= 0 {
		s.tolerance = DefaultTolerance
	}
	for i, raw := range secrets {
		key, err := DecodeSecret(raw)
		if err != nil {
			what := "secret"
			if i > 0 {
				what = fmt.Sprintf("previous_secrets item %d", i-1)
			}
			return nil, fmt.Errorf("source %q: %s: %w", cfg.Name, what, err)
		}
		s.secrets = append(s.secrets, key)
	}
	return s, nil
}

// DecodeSecret turns a configured secret into HMAC key bytes: "whsec_<base64>" is decoded,
// anything else is used as written.
func DecodeSecret(s string) ([]byte, error) {
	rest, ok := strings.CutPrefix(s, "whsec_")
	if !ok {
		return []byte(s), nil
	}
	key, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		// Never echo the secret.
		return nil, fmt.Errorf(`a "whsec_" secret must be followed by standard base64`)
	}
	if len(key) == 0 {
		return nil, fmt.Errorf(`the "whsec_" secret is empty`)
	}
	return key, nil
}

// Sign writes the webhook-signature value for a delivery, as a sender would. It is exported
// for tests and tools (hush's own examples); verification does not use it.
func Sign(secret []byte, id string, ts time.Time, body []byte) string {
	return "v1," + standardWebhooks.Sign(secret, []byte(fmt.Sprintf("%s.%d.", id, ts.Unix())), body)
}

// Verify checks the Standard Webhooks signature on the raw body: the three headers must be
// present, the timestamp within the tolerance of the time of receipt, and one of the "v1"
// signatures must match one of the configured secrets.
func (s *Source) Verify(req *gateway.WebhookRequest) error {
	if len(s.secrets) == 0 && s.insecure {
		return nil
	}
	id := strings.TrimSpace(req.Header.Get(HeaderID))
	if id == "" {
		return &gateway.VerifyError{Reason: gateway.VerifyMissingHeader, Detail: HeaderID + " header is missing"}
	}
	ts, err := signature.ParseUnixSeconds(HeaderTimestamp, req.Header.Get(HeaderTimestamp))
	if err != nil {
		return err
	}
	now := req.ReceivedAt
	if now.IsZero() {
		now = time.Now()
	}
	if err := signature.CheckTimestamp(ts, now, s.tolerance); err != nil {
		return err
	}
	header := req.Header.Get(HeaderSignature)
	if strings.TrimSpace(header) == "" {
		return &gateway.VerifyError{Reason: gateway.VerifyMissingHeader, Detail: HeaderSignature + " header is missing"}
	}
	entries, err := signature.ParseList(header)
	if err != nil {
		return err
	}
	v1 := signature.Values(entries, "v1")
	if len(v1) == 0 {
		// v1a (asymmetric) and future versions are not supported: say so rather than
		// calling a well-formed header a bad signature.
		return &gateway.VerifyError{Reason: gateway.VerifyMalformedHeader, Detail: HeaderSignature + ` header has no "v1" signature`}
	}
	// The signed content uses the timestamp exactly as sent, not as re-formatted.
	prefix := []byte(id + "." + strings.TrimSpace(req.Header.Get(HeaderTimestamp)) + ".")
	return standardWebhooks.VerifyAny(s.secrets, v1, prefix, req.Body)
}

// Parse reads the verified body as normalized events.
func (s *Source) Parse(req *gateway.WebhookRequest) (gateway.ParseResult, error) {
	return ParseEvents(req.Body, ParseOptions{
		Source:        s.name,
		DeliveryID:    strings.TrimSpace(req.Header.Get(HeaderID)),
		ReceivedAt:    req.ReceivedAt,
		DefaultRegion: s.defaultRegion,
	})
}
