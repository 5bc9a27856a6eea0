// Package connectors lists every connector kind hush has and builds configured sources and
// upstreams from them.
//
// The list is explicit (All), not filled by init() side effects: adding a vendor is adding
// its package under connectors/ and one line to All. The shared signature primitives live in
// connectors/signature and the option reader in connectors/options, so that vendor packages
// can use them without importing this package (which imports them).
package connectors

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hush-gateway/hush/connectors/generic"
	"github.com/hush-gateway/hush/gateway"
)

// Kind is one connector kind: its name in configuration and its constructors.
type Kind struct {
	Name string // "generic", "zendesk"…
	// NewSource builds the inbound side; nil when the kind has none.
	NewSource func(cfg gateway.SourceConfig) (gateway.Connector, error)
	// NewUpstream builds the outbound side; nil when the kind has none.
	NewUpstream func(cfg gateway.UpstreamConfig) (gateway.Upstream, error)
	// SecretOptions names option keys that carry the signing secret instead of `secret`
	// (twilio: auth_token), so that the missing-secret check knows where to look.
	SecretOptions []string
	Doc           string // one line, for `hush check-config` and the docs
}

// All lists every connector kind, sorted by name.
func All() []Kind {
	return []Kind{
		{
			Name: generic.Kind,
			NewSource: func(cfg gateway.SourceConfig) (gateway.Connector, error) {
				return generic.NewSource(cfg)
			},
			NewUpstream: func(cfg gateway.UpstreamConfig) (gateway.Upstream, error) {
				return generic.NewUpstream(cfg)
			},
			Doc: "normalized events signed as Standard Webhooks; any JSON or form send API described by configuration",
		},
	}
}

// Lookup finds a kind by name.
func Lookup(name string) (Kind, bool) {
	for _, k := range All() {
		if k.Name == name {
			return k, true
		}
	}
	return Kind{}, false
}

func knownKinds(has func(Kind) bool) string {
	var names []string
	for _, k := range All() {
		if has(k) {
			names = append(names, k.Name)
		}
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// Source builds the connector of a configured source. An unknown kind, a kind without an
// inbound side and a source with no secret that is not marked insecure are errors.
func Source(cfg gateway.SourceConfig) (gateway.Connector, error) {
	hasSource := func(k Kind) bool { return k.NewSource != nil }
	k, ok := Lookup(cfg.Kind)
	if !ok {
		return nil, fmt.Errorf("source %q: unknown kind %q (known: %s)", cfg.Name, cfg.Kind, knownKinds(hasSource))
	}
	if k.NewSource == nil {
		return nil, fmt.Errorf("source %q: kind %q receives no webhooks; it can only be an upstream (source kinds: %s)",
			cfg.Name, cfg.Kind, knownKinds(hasSource))
	}
	if !cfg.Insecure && !hasSecret(k, cfg) {
		return nil, fmt.Errorf("source %q has no secret; set secret or insecure: true", cfg.Name)
	}
	c, err := k.NewSource(cfg)
	if err != nil {
		return nil, fmt.Errorf("building source %q of kind %s: %w", cfg.Name, cfg.Kind, err)
	}
	return c, nil
}

func hasSecret(k Kind, cfg gateway.SourceConfig) bool {
	if cfg.Secret != "" {
		return true
	}
	for _, key := range k.SecretOptions {
		if s, ok := cfg.Options[key].(string); ok && s != "" {
			return true
		}
	}
	return false
}

// Upstream builds the connector of a configured upstream.
func Upstream(cfg gateway.UpstreamConfig) (gateway.Upstream, error) {
	hasUpstream := func(k Kind) bool { return k.NewUpstream != nil }
	k, ok := Lookup(cfg.Kind)
	if !ok {
		return nil, fmt.Errorf("upstream %q: unknown kind %q (known: %s)", cfg.Name, cfg.Kind, knownKinds(hasUpstream))
	}
	if k.NewUpstream == nil {
		return nil, fmt.Errorf("upstream %q: kind %q has no outbound side; it can only be a source (upstream kinds: %s)",
			cfg.Name, cfg.Kind, knownKinds(hasUpstream))
	}
	u, err := k.NewUpstream(cfg)
	if err != nil {
		return nil, fmt.Errorf("building upstream %q of kind %s: %w", cfg.Name, cfg.Kind, err)
	}
	return u, nil
}
