// Package statuspage is the connector for Atlassian Statuspage's subscriber webhooks.
//
// Inbound only: an incident notification that is not resolved opens a hush incident (every
// update re-sends it; the engine keeps one open incident per Statuspage incident), a
// resolved one resolves it, component updates are ignored. Incidents are not about one
// customer, so the events carry no customer. See docs/connectors/statuspage.md.
//
// Statuspage does not sign its webhooks. The source's secret travels in the webhook URL's
// query (?secret=…), which makes that URL a credential.
package statuspage

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/hush-gateway/hush/connectors/options"
	"github.com/hush-gateway/hush/connectors/signature"
	"github.com/hush-gateway/hush/gateway"
)

// Kind is the connector kind's name in configuration.
const Kind = "statuspage"

// DefaultParam is the query parameter that carries the secret unless `param` says otherwise.
const DefaultParam = "secret"

// Source receives one Statuspage webhook subscription. Safe for concurrent use: it is never
// modified after NewSource.
type Source struct {
	name     string
	secret   string
	insecure bool
	param    string
	scope    string
	// maintenance makes scheduled maintenances incidents while in progress.
	maintenance bool
}

// NewSource builds a Statuspage source from its configuration.
//
// Options: scope ("all", the default, or "tag:<tag>"), param (the query parameter holding
// the secret, default "secret") and maintenance (true: a scheduled maintenance in progress
// is an incident too; default false).
func NewSource(cfg gateway.SourceConfig) (*Source, error) {
	opts := options.NewReader(Kind, cfg.Options)
	scope := opts.String("scope", "all")
	param := strings.TrimSpace(opts.String("param", DefaultParam))
	maintenance := opts.Bool("maintenance", false)
	if err := opts.Done(); err != nil {
		return nil, fmt.Errorf("source %q: %w", cfg.Name, err)
	}
	scope, err := parseScope(scope)
	if err != nil {
		return nil, fmt.Errorf("source %q: %w", cfg.Name, err)
	}
	if param == "" {
		return nil, fmt.Errorf("source %q: option %q for kind %q is empty", cfg.Name, "param", Kind)
	}
	if cfg.Secret == "" && !cfg.Insecure {
		return nil, fmt.Errorf("source %q has no secret; set secret or insecure: true", cfg.Name)
	}
	return &Source{
		name: cfg.Name, secret: cfg.Secret, insecure: cfg.Insecure,
		param: param, scope: scope, maintenance: maintenance,
	}, nil
}

// parseScope reads an incident scope as the engine takes it: "all" (also for "") or
// "tag:<tag>". Checked at start-up so that a typo does not make every delivery a dead letter.
func parseScope(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "all" {
		return "all", nil
	}
	if tag, ok := strings.CutPrefix(s, "tag:"); ok && strings.TrimSpace(tag) != "" {
		return s, nil
	}
	return "", fmt.Errorf(`option "scope" for kind %q must be "all" or "tag:<tag>"`, Kind)
}

// Verify compares the secret in the URL's query with the configured one, in constant time.
// Errors name the parameter, never its value.
func (s *Source) Verify(req *gateway.WebhookRequest) error {
	if s.secret == "" && s.insecure {
		return nil
	}
	var raw string
	if req.URL != nil {
		raw = req.URL.RawQuery
	}
	// A query that does not fully parse still yields the pairs that do: the secret is
	// judged on its own.
	values, _ := url.ParseQuery(raw)
	got, ok := values[s.param]
	switch {
	case !ok || len(got) == 0 || got[0] == "":
		return &gateway.VerifyError{Reason: gateway.VerifyMissingHeader, Detail: fmt.Sprintf("query parameter %q is missing", s.param)}
	case len(got) > 1:
		return &gateway.VerifyError{Reason: gateway.VerifyMalformedHeader, Detail: fmt.Sprintf("query parameter %q is repeated", s.param)}
	}
	return signature.VerifyToken(s.secret, got[0])
}
