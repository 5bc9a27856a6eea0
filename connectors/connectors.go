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

	"github.com/hush-gateway/hush/connectors/aircall"
	"github.com/hush-gateway/hush/connectors/braze"
	"github.com/hush-gateway/hush/connectors/customerio"
	"github.com/hush-gateway/hush/connectors/delighted"
	"github.com/hush-gateway/hush/connectors/freshdesk"
	"github.com/hush-gateway/hush/connectors/generic"
	"github.com/hush-gateway/hush/connectors/helpscout"
	"github.com/hush-gateway/hush/connectors/intercom"
	"github.com/hush-gateway/hush/connectors/mailgun"
	"github.com/hush-gateway/hush/connectors/mandrill"
	"github.com/hush-gateway/hush/connectors/pagerduty"
	"github.com/hush-gateway/hush/connectors/postmark"
	"github.com/hush-gateway/hush/connectors/sendgrid"
	"github.com/hush-gateway/hush/connectors/slack"
	"github.com/hush-gateway/hush/connectors/statuspage"
	"github.com/hush-gateway/hush/connectors/twilio"
	"github.com/hush-gateway/hush/connectors/typeform"
	"github.com/hush-gateway/hush/connectors/zendesk"
	"github.com/hush-gateway/hush/gateway"
)

// Kind is one connector kind: its name in configuration and its constructors.
type Kind struct {
	Name string // "generic", "zendesk"…
	// NewSource builds the inbound side; nil when the kind has none.
	NewSource func(cfg gateway.SourceConfig) (gateway.Connector, error)
	// NewUpstream builds the outbound side; nil when the kind has none.
	NewUpstream func(cfg gateway.UpstreamConfig) (gateway.Upstream, error)
	// NewAlert builds an alert destination (alerts: in hush.yaml); nil when the kind has none.
	NewAlert func(cfg gateway.AlertConfig) (gateway.AlertSender, error)
	// NewSuppressionList builds the client of the vendor's own suppression list for an
	// upstream with `sync: true`; nil when the kind cannot sync.
	NewSuppressionList func(cfg gateway.UpstreamConfig) (gateway.SuppressionList, error)
	// SyncOptions names the option keys only the suppression list reads (credentials, the
	// group or stream): they are kept from NewUpstream, and refused without `sync: true`.
	SyncOptions []string
	// SecretOptions names option keys that carry the signing secret instead of `secret`
	// (twilio: auth_token), so that the missing-secret check knows where to look.
	SecretOptions []string
	Doc           string // one line, for `hush check-config` and the docs
}

// All lists every connector kind, sorted by name.
func All() []Kind {
	return []Kind{
		{
			Name:      aircall.Kind,
			NewSource: source(aircall.NewSource),
			Doc:       "Aircall call webhooks (token in the body): call.ended → call.completed, call.missed or call.abandoned",
		},
		{
			Name:        braze.Kind,
			NewUpstream: upstream(braze.NewUpstream),
			Doc:         "Braze /messages/send and campaign/canvas triggers: external ids, aliases and recipients; an emptied audience is never forwarded",
		},
		{
			Name:        customerio.Kind,
			NewUpstream: upstream(customerio.NewUpstream),
			Doc:         "Customer.io transactional sends (email, SMS, push, WhatsApp) and API-triggered broadcasts; an emptied audience is never forwarded",
		},
		{
			Name:        delighted.Kind,
			NewSource:   source(delighted.NewSource),
			NewUpstream: upstream(delighted.NewUpstream),
			Doc:         "Delighted survey webhooks (X-Delighted-Webhook-Signature) → survey.response; survey requests (POST /v1/people.json) sent with send=false to silenced people",
		},
		{
			Name:      freshdesk.Kind,
			NewSource: source(freshdesk.NewSource),
			Doc:       "Freshdesk automation-rule webhooks (hush template), token header or basic auth",
		},
		{
			Name:        generic.Kind,
			NewSource:   source(generic.NewSource),
			NewUpstream: upstream(generic.NewUpstream),
			Doc:         "normalized events signed as Standard Webhooks; any JSON or form send API described by configuration",
		},
		{
			Name:      helpscout.Kind,
			NewSource: source(helpscout.NewSource),
			Doc:       "Help Scout webhooks (X-HelpScout-Signature): new conversations, customer replies, status changes, satisfaction ratings",
		},
		{
			Name:      intercom.Kind,
			NewSource: source(intercom.NewSource),
			Doc:       "Intercom notifications (X-Hub-Signature): conversations, ratings and tickets",
		},
		{
			Name:               mailgun.Kind,
			NewUpstream:        upstream(mailgun.NewUpstream),
			NewSuppressionList: suppressionList(mailgun.NewSuppressionList),
			SyncOptions:        mailgun.SyncOptions(),
			Doc:                "Mailgun /v3/{domain}/messages (form and multipart; recipient-variables trimmed) and .mime sends",
		},
		{
			Name:               mandrill.Kind,
			NewUpstream:        upstream(mandrill.NewUpstream),
			NewSuppressionList: suppressionList(mandrill.NewSuppressionList),
			SyncOptions:        mandrill.SyncOptions(),
			Doc:                "Mailchimp Transactional (Mandrill) messages/send and send-template; per-recipient answers kept whole",
		},
		{
			Name:      pagerduty.Kind,
			NewSource: source(pagerduty.NewSource),
			Doc:       "PagerDuty V3 webhooks (X-PagerDuty-Signature): incidents triggered/reopened and resolved",
		},
		{
			Name:               postmark.Kind,
			NewUpstream:        upstream(postmark.NewUpstream),
			NewSuppressionList: suppressionList(postmark.NewSuppressionList),
			SyncOptions:        postmark.SyncOptions(),
			Doc:                "Postmark /email, /email/batch and their template forms: To/Cc/Bcc address lists; batch answers keep their indexes",
		},
		{
			Name:               sendgrid.Kind,
			NewUpstream:        upstream(sendgrid.NewUpstream),
			NewSuppressionList: suppressionList(sendgrid.NewSuppressionList),
			SyncOptions:        sendgrid.SyncOptions(),
			Doc:                "SendGrid v3 /v3/mail/send: to/cc/bcc per personalization, gzip bodies, categories and unsubscribe groups mapped to categories",
		},
		{
			Name:     slack.Kind,
			NewAlert: alert(slack.NewAlert),
			Doc:      "Slack incoming webhook for rule alerts: a readable message (es/en) with the customer, rule, reason, event and a console link",
		},
		{
			Name:      statuspage.Kind,
			NewSource: source(statuspage.NewSource),
			Doc:       "Atlassian Statuspage subscriber webhooks (secret in the URL query): incidents opened and resolved",
		},
		{
			Name:          twilio.Kind,
			NewSource:     source(twilio.NewSource),
			NewUpstream:   upstream(twilio.NewUpstream),
			SecretOptions: []string{"auth_token"},
			Doc:           "Twilio incoming SMS/WhatsApp (opt-out/opt-in keywords, Advanced Opt-Out) and voice status callbacks (X-Twilio-Signature); outbound Messages and Calls, made-up sids answered by hush",
		},
		{
			Name:      typeform.Kind,
			NewSource: source(typeform.NewSource),
			Doc:       "Typeform form_response webhooks (Typeform-Signature) → survey.response; scores chosen by field ref",
		},
		{
			Name:     generic.AlertKind,
			NewAlert: alert(generic.NewAlert),
			Doc:      "rule alerts as JSON to any URL, signed as Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature)",
		},
		{
			Name:      zendesk.Kind,
			NewSource: source(zendesk.NewSource),
			NewAlert:  alert(zendesk.NewAlert),
			Doc:       "Zendesk event webhooks and the hush trigger template (X-Zendesk-Webhook-Signature): tickets and satisfaction ratings; rule alerts as tickets for a group",
		},
	}
}

// source adapts a vendor package's constructor, which returns its own concrete type.
func source[C gateway.Connector](newSource func(gateway.SourceConfig) (C, error)) func(gateway.SourceConfig) (gateway.Connector, error) {
	return func(cfg gateway.SourceConfig) (gateway.Connector, error) { return newSource(cfg) }
}

// upstream adapts a vendor package's upstream constructor.
func upstream[U gateway.Upstream](newUpstream func(gateway.UpstreamConfig) (U, error)) func(gateway.UpstreamConfig) (gateway.Upstream, error) {
	return func(cfg gateway.UpstreamConfig) (gateway.Upstream, error) { return newUpstream(cfg) }
}

// suppressionList adapts a vendor package's suppression-list constructor.
func suppressionList[L gateway.SuppressionList](newList func(gateway.UpstreamConfig) (L, error)) func(gateway.UpstreamConfig) (gateway.SuppressionList, error) {
	return func(cfg gateway.UpstreamConfig) (gateway.SuppressionList, error) { return newList(cfg) }
}

// alert adapts a vendor package's alert constructor.
func alert[A gateway.AlertSender](newAlert func(gateway.AlertConfig) (A, error)) func(gateway.AlertConfig) (gateway.AlertSender, error) {
	return func(cfg gateway.AlertConfig) (gateway.AlertSender, error) { return newAlert(cfg) }
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
	proxyCfg, _, err := splitSyncOptions(k, cfg)
	if err != nil {
		return nil, err
	}
	u, err := k.NewUpstream(proxyCfg)
	if err != nil {
		return nil, fmt.Errorf("building upstream %q of kind %s: %w", cfg.Name, cfg.Kind, err)
	}
	return u, nil
}

// SuppressionList builds the suppression-list client of an upstream with `sync: true`.
func SuppressionList(cfg gateway.UpstreamConfig) (gateway.SuppressionList, error) {
	canSync := func(k Kind) bool { return k.NewSuppressionList != nil }
	k, ok := Lookup(cfg.Kind)
	if !ok || k.NewSuppressionList == nil {
		return nil, fmt.Errorf("upstream %q: kind %q cannot sync a suppression list (kinds that can: %s); "+
			"see docs/suppression.md for the exported list and the decision API", cfg.Name, cfg.Kind, knownKinds(canSync))
	}
	_, syncCfg, err := splitSyncOptions(k, cfg)
	if err != nil {
		return nil, err
	}
	l, err := k.NewSuppressionList(syncCfg)
	if err != nil {
		return nil, fmt.Errorf("building the suppression list of upstream %q (kind %s): %w", cfg.Name, cfg.Kind, err)
	}
	return l, nil
}

// splitSyncOptions parts an upstream's options into the proxy's and the suppression
// list's. A sync option on an upstream without `sync: true` is an error: the key would be
// silently ignored, and it is usually a credential someone meant to use.
func splitSyncOptions(k Kind, cfg gateway.UpstreamConfig) (proxyCfg, syncCfg gateway.UpstreamConfig, err error) {
	proxyCfg, syncCfg = cfg, cfg
	proxyCfg.Options, syncCfg.Options = map[string]any{}, map[string]any{}
	for key, v := range cfg.Options {
		if slices.Contains(k.SyncOptions, key) {
			if !cfg.Sync {
				return proxyCfg, syncCfg, fmt.Errorf("upstream %q: option %q is only read with sync: true", cfg.Name, key)
			}
			syncCfg.Options[key] = v
			continue
		}
		proxyCfg.Options[key] = v
	}
	return proxyCfg, syncCfg, nil
}

// Alert builds the sender of a configured alert destination. Kind log has none: its alerts
// are only recorded (the caller treats a nil sender so).
func Alert(cfg gateway.AlertConfig) (gateway.AlertSender, error) {
	if cfg.Kind == AlertLog {
		return nil, nil
	}
	hasAlert := func(k Kind) bool { return k.NewAlert != nil }
	k, ok := Lookup(cfg.Kind)
	if !ok || k.NewAlert == nil {
		return nil, fmt.Errorf("alert %q: unknown kind %q (known: %s, %s)", cfg.Name, cfg.Kind, knownKinds(hasAlert), AlertLog)
	}
	a, err := k.NewAlert(cfg)
	if err != nil {
		return nil, fmt.Errorf("building alert %q of kind %s: %w", cfg.Name, cfg.Kind, err)
	}
	return a, nil
}

// AlertLog is the alert kind that only records: the alert stays in the outbox, marked
// delivered, and nothing is sent.
const AlertLog = "log"
