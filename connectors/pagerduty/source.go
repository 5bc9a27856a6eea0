// Package pagerduty is the connector for PagerDuty's V3 webhooks (webhook subscriptions).
//
// Inbound only: an incident that is triggered or reopened opens a hush incident, one that is
// resolved resolves it. Incidents are not about one customer, so the events carry no
// customer; the engine matches them by Topic ("pagerduty:incident:<id>") and reads the
// scope and title from Attrs. See docs/connectors/pagerduty.md.
package pagerduty

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/PagerDuty/go-pagerduty/webhookv3"

	"github.com/hush-gateway/hush/connectors/options"
	"github.com/hush-gateway/hush/gateway"
)

// Kind is the connector kind's name in configuration.
const Kind = "pagerduty"

// HeaderSignature carries "v1=<hex HMAC-SHA256(secret, body)>", several comma-separated
// while PagerDuty rotates a subscription's secret.
const HeaderSignature = "X-PagerDuty-Signature"

// Source receives one PagerDuty webhook subscription. Safe for concurrent use: it is never
// modified after NewSource.
type Source struct {
	name     string
	secret   string
	insecure bool
	scope    string
	// services and urgencies filter which incidents open a hush incident; empty: all.
	services  []string
	urgencies []string
}

// NewSource builds a PagerDuty source from its configuration.
//
// Options: scope ("all", the default, or "tag:<tag>": which customers the incident
// silences), services (service ids or names whose incidents count; default all) and
// urgencies ("high", "low"; default all).
func NewSource(cfg gateway.SourceConfig) (*Source, error) {
	opts := options.NewReader(Kind, cfg.Options)
	scope := opts.String("scope", "all")
	services := opts.StringSlice("services")
	urgencies := opts.StringSlice("urgencies")
	if err := opts.Done(); err != nil {
		return nil, fmt.Errorf("source %q: %w", cfg.Name, err)
	}
	scope, err := parseScope(scope)
	if err != nil {
		return nil, fmt.Errorf("source %q: %w", cfg.Name, err)
	}
	for i, s := range services {
		if services[i] = strings.TrimSpace(s); services[i] == "" {
			return nil, fmt.Errorf("source %q: option %q for kind %q: item %d is empty", cfg.Name, "services", Kind, i)
		}
	}
	for i, u := range urgencies {
		u = strings.ToLower(strings.TrimSpace(u))
		if u != "high" && u != "low" {
			return nil, fmt.Errorf("source %q: option %q for kind %q: item %d must be \"high\" or \"low\"", cfg.Name, "urgencies", Kind, i)
		}
		urgencies[i] = u
	}
	if cfg.Secret == "" && !cfg.Insecure {
		return nil, fmt.Errorf("source %q has no secret; set secret or insecure: true", cfg.Name)
	}
	return &Source{
		name: cfg.Name, secret: cfg.Secret, insecure: cfg.Insecure,
		scope: scope, services: services, urgencies: urgencies,
	}, nil
}

// parseScope reads an incident scope as the engine takes it: "all" (also for "") or
// "tag:<tag>". Checked at start-up so that a typo does not turn every delivery into a
// dead letter.
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

// Verify checks X-PagerDuty-Signature on the raw body with go-pagerduty's webhookv3 (HMAC
// SHA-256, hex, constant-time comparison, any of the listed v1 signatures) and translates
// its errors into *gateway.VerifyError reasons.
func (s *Source) Verify(req *gateway.WebhookRequest) error {
	if s.secret == "" && s.insecure {
		return nil
	}
	header := req.Header.Get(HeaderSignature)
	if strings.TrimSpace(header) == "" {
		return &gateway.VerifyError{Reason: gateway.VerifyMissingHeader, Detail: HeaderSignature + " header is missing"}
	}
	// PagerDuty writes the list without spaces; a proxy that re-folds the header may add
	// some, which webhookv3 would read as non-v1 entries.
	h := http.Header{}
	h.Set(HeaderSignature, strings.Join(strings.Fields(header), ""))
	r := &http.Request{Header: h, Body: io.NopCloser(bytes.NewReader(req.Body))}
	return verifyError(webhookv3.VerifySignature(r, s.secret))
}

// verifyError maps webhookv3's errors. Their texts never contain the secret or the
// expected signature, but the details are hush's own so that all connectors read alike.
func verifyError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, webhookv3.ErrMalformedHeader):
		// The header is present (checked before): it holds no "v1=<hex>" entry.
		return &gateway.VerifyError{Reason: gateway.VerifyMalformedHeader, Detail: HeaderSignature + ` header has no "v1=<hex>" signature`}
	case errors.Is(err, webhookv3.ErrMalformedBody):
		// PagerDuty never signs an empty body.
		return &gateway.VerifyError{Reason: gateway.VerifyBadSignature, Detail: "the body is empty"}
	default:
		// ErrNoValidSignatures, or a body webhookv3 could not read whole (over its 2 MiB
		// limit): either way no signature matches the bytes received.
		return &gateway.VerifyError{Reason: gateway.VerifyBadSignature}
	}
}

// accepts reports whether an incident of this service and urgency may open a hush incident.
func (s *Source) accepts(inc *wireIncident) bool {
	if len(s.services) > 0 && !slices.Contains(s.services, inc.Service.ID) &&
		!slices.ContainsFunc(s.services, func(name string) bool { return strings.EqualFold(name, inc.Service.Summary) }) {
		return false
	}
	return len(s.urgencies) == 0 || slices.Contains(s.urgencies, strings.ToLower(inc.Urgency))
}
