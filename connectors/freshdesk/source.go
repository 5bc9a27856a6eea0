// Package freshdesk is the connector for Freshdesk automation-rule webhooks.
//
// Freshdesk does not sign webhooks. An automation rule's "Trigger webhook" action can send a
// custom header or basic authentication, so the customer configures one of them with the
// source's secret and hush compares it in constant time (signature.VerifyToken). The body is
// the JSON the customer pastes into the rule, {"freshdesk_webhook": {…}} with Freshdesk
// placeholders (see template.go and docs/connectors/freshdesk.md).
package freshdesk

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hush-gateway/hush/connectors/options"
	"github.com/hush-gateway/hush/connectors/signature"
	"github.com/hush-gateway/hush/gateway"
)

// Kind is the connector kind's name in configuration.
const Kind = "freshdesk"

// DefaultHeader is the custom header that carries the token unless option header says
// another.
const DefaultHeader = "X-Hush-Token"

var _ gateway.Connector = (*Source)(nil)

// Source receives Freshdesk webhooks. Safe for concurrent use: never modified after NewSource.
type Source struct {
	name     string
	header   string   // canonical form of the token header
	secrets  []string // current first, then previous ones still accepted
	insecure bool
}

// NewSource builds a freshdesk source. Options: header (the custom header's name, default
// X-Hush-Token) and previous_secrets (tokens still accepted while the rule is updated).
func NewSource(cfg gateway.SourceConfig) (*Source, error) {
	opts := options.NewReader(Kind, cfg.Options)
	header := strings.TrimSpace(opts.String("header", DefaultHeader))
	secrets := opts.Secrets(cfg.Secret, cfg.Insecure, "the token the Freshdesk rule sends")
	if err := opts.Done(); err != nil {
		return nil, fmt.Errorf("source %q: %w", cfg.Name, err)
	}
	if header == "" || strings.ContainsAny(header, " :\t\r\n") {
		return nil, fmt.Errorf("source %q: option \"header\" must be an HTTP header name such as %s", cfg.Name, DefaultHeader)
	}
	if strings.EqualFold(header, "Authorization") {
		return nil, fmt.Errorf("source %q: option \"header\" cannot be Authorization; basic authentication is always accepted", cfg.Name)
	}
	return &Source{name: cfg.Name, header: http.CanonicalHeaderKey(header), secrets: secrets, insecure: cfg.Insecure}, nil
}

// Verify accepts a delivery that carries a configured secret, either as the custom header's
// value or in "Authorization: Basic" as the password or the user name (Freshdesk's "API key"
// option sends the key as the user name). Every comparison is constant-time, and every
// configured secret is compared whatever the outcome of the others.
func (s *Source) Verify(req *gateway.WebhookRequest) error {
	if len(s.secrets) == 0 && s.insecure {
		return nil
	}
	var candidates []string
	token := strings.TrimSpace(req.Header.Get(s.header))
	if token != "" {
		candidates = append(candidates, token)
	}
	if auth := strings.TrimSpace(req.Header.Get("Authorization")); auth != "" {
		user, pass, err := parseBasic(auth)
		switch {
		case err == nil:
			candidates = append(candidates, pass, user)
		case token == "":
			return err
		}
		// With the token header present, an Authorization header hush cannot read (one a
		// proxy added, say) is not the customer's choice of method: the token decides.
	}
	if len(candidates) == 0 {
		return &gateway.VerifyError{Reason: gateway.VerifyMissingHeader,
			Detail: "neither the " + s.header + " header nor basic authentication was sent"}
	}
	matched := false
	for _, secret := range s.secrets {
		for _, c := range candidates {
			if c != "" && signature.VerifyToken(secret, c) == nil {
				matched = true
			}
		}
	}
	if !matched {
		return &gateway.VerifyError{Reason: gateway.VerifyBadSignature}
	}
	return nil
}

// parseBasic reads "Basic base64(user:password)". Other schemes and undecodable credentials
// are malformed; the error never quotes them.
func parseBasic(auth string) (user, pass string, err error) {
	scheme, cred, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return "", "", &gateway.VerifyError{Reason: gateway.VerifyMalformedHeader,
			Detail: "Authorization header is not basic authentication"}
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil {
		return "", "", &gateway.VerifyError{Reason: gateway.VerifyMalformedHeader,
			Detail: "Authorization header's credentials are not base64"}
	}
	user, pass, ok = strings.Cut(string(raw), ":")
	if !ok {
		return "", "", &gateway.VerifyError{Reason: gateway.VerifyMalformedHeader,
			Detail: `Authorization header's credentials are not "user:password"`}
	}
	return user, pass, nil
}

// Parse reads a verified body written with the hush template.
func (s *Source) Parse(req *gateway.WebhookRequest) (gateway.ParseResult, error) {
	received := req.ReceivedAt
	if received.IsZero() {
		received = time.Now()
	}
	return ParseBody(req.Body, s.name, received)
}
