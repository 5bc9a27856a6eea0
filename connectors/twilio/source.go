// Package twilio is the connector for Twilio's Programmable Messaging and Voice webhooks.
//
// Inbound, a source of kind twilio receives the form-encoded requests Twilio sends to a
// number's "A message comes in" URL (SMS, MMS and WhatsApp) and to a call's status
// callback URL, verifies their X-Twilio-Signature, and turns them into sms.inbound,
// consent.optout/optin and call.completed/missed/abandoned events (see parse.go).
package twilio

import (
	"fmt"
	"net/url"
	"strings"

	twclient "github.com/twilio/twilio-go/client"

	"github.com/hush-gateway/hush/connectors/options"
	"github.com/hush-gateway/hush/connectors/signature"
	"github.com/hush-gateway/hush/gateway"
)

// Kind is the connector kind's name in configuration.
const Kind = "twilio"

// HeaderSignature is the header Twilio signs every webhook request with.
const HeaderSignature = "X-Twilio-Signature"

// Option keys of a twilio source.
const (
	OptionAuthToken = "auth_token"
	OptionPublicURL = "public_url"
)

// Source receives Twilio webhooks. Safe for concurrent use: it is never modified after
// NewSource (RequestValidator holds only the key and is read-only).
type Source struct {
	name      string
	authToken []byte // empty only for an insecure source
	validator twclient.RequestValidator
	publicURL string // scheme, host, port and path as configured at Twilio; no query
	insecure  bool
}

// NewSource builds a twilio source from its configuration.
//
// The auth token is option auth_token (secret is accepted as an alias; setting both to
// different values is an error). Option public_url is required: it is the URL Twilio is
// configured to call, without a query string, because behind a proxy hush cannot rebuild
// the scheme and host Twilio signed. Twilio signs no timestamp, so cfg.Tolerance does not
// apply.
func NewSource(cfg gateway.SourceConfig) (*Source, error) {
	opts := options.NewReader(Kind, cfg.Options)
	token := opts.String(OptionAuthToken, "")
	public := opts.RequiredString(OptionPublicURL)
	if err := opts.Done(); err != nil {
		return nil, fmt.Errorf("source %q: %w", cfg.Name, err)
	}
	switch {
	case token == "":
		token = cfg.Secret
	case cfg.Secret != "" && cfg.Secret != token:
		return nil, fmt.Errorf("source %q: secret and option %q are both set and differ; set only %q", cfg.Name, OptionAuthToken, OptionAuthToken)
	}
	if token == "" && !cfg.Insecure {
		return nil, fmt.Errorf("source %q has no secret; set %s or insecure: true", cfg.Name, OptionAuthToken)
	}
	if err := checkPublicURL(public); err != nil {
		return nil, fmt.Errorf("source %q: option %q %w", cfg.Name, OptionPublicURL, err)
	}
	return &Source{
		name:      cfg.Name,
		authToken: []byte(token),
		validator: twclient.NewRequestValidator(token),
		publicURL: public,
		insecure:  cfg.Insecure,
	}, nil
}

// checkPublicURL accepts an absolute http(s) URL with a host and no query, fragment or
// credentials. The query is left out because hush appends the query of each request as
// received (Twilio signs the URL it called, query included).
func checkPublicURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fmt.Errorf("is not a URL")
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Errorf("must start with https:// (the URL Twilio calls)")
	case u.Host == "":
		return fmt.Errorf("has no host")
	case u.User != nil:
		return fmt.Errorf("must not carry credentials")
	case u.RawQuery != "" || u.ForceQuery:
		return fmt.Errorf("must not have a query string; hush appends the query of each request")
	case u.Fragment != "":
		return fmt.Errorf("must not have a fragment")
	}
	return nil
}

// signedURL is the URL Twilio computed the signature over: the configured public URL plus
// the query of the request exactly as received (bodySHA256 included, for JSON bodies).
func (s *Source) signedURL(req *gateway.WebhookRequest) string {
	if req.URL == nil || req.URL.RawQuery == "" {
		return s.publicURL
	}
	return s.publicURL + "?" + req.URL.RawQuery
}

// Verify checks X-Twilio-Signature on the raw body: base64 HMAC-SHA1, keyed with the auth
// token, of the public URL followed by the POST parameters sorted by name, each name
// followed by its value. For JSON bodies Twilio signs the URL only and puts the body's
// SHA-256 in the bodySHA256 query parameter, which is checked against the body.
// twilio-go's RequestValidator does both, comparing in constant time; it also tries the
// URL with and without the default port, as Twilio's back end signs either.
func (s *Source) Verify(req *gateway.WebhookRequest) error {
	if len(s.authToken) == 0 && s.insecure {
		return nil
	}
	sig := strings.TrimSpace(req.Header.Get(HeaderSignature))
	if sig == "" {
		return &gateway.VerifyError{Reason: gateway.VerifyMissingHeader, Detail: HeaderSignature + " header is missing"}
	}
	if _, err := signature.Base64.Decode(sig); err != nil {
		return &gateway.VerifyError{Reason: gateway.VerifyMalformedHeader, Detail: HeaderSignature + " header is not base64"}
	}
	u := s.signedURL(req)
	if s.validator.ValidateBody(u, req.Body, sig) {
		return nil
	}
	// RequestValidator signs only the first value of a repeated form parameter; Twilio's
	// other libraries sign every value in the order sent. Accept that reading too, through
	// the shared helper, so a repeated parameter does not make a genuine request fail.
	if params, ok := repeatedForm(req); ok {
		return signature.VerifyTwilio(s.authToken, u, params, sig)
	}
	return &gateway.VerifyError{Reason: gateway.VerifyBadSignature}
}

// repeatedForm returns the form parameters of a body that repeats one, and whether it does.
func repeatedForm(req *gateway.WebhookRequest) (url.Values, bool) {
	if req.URL != nil && req.URL.Query().Has("bodySHA256") {
		return nil, false
	}
	params, err := url.ParseQuery(string(req.Body))
	if err != nil {
		return nil, false
	}
	for _, v := range params {
		if len(v) > 1 {
			return params, true
		}
	}
	return nil, false
}
