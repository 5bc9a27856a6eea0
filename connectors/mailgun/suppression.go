package mailgun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/hush-gateway/hush/connectors/options"
	"github.com/hush-gateway/hush/connectors/suppress"
	"github.com/hush-gateway/hush/gateway"
)

// Suppression-list sync for Mailgun keeps hush's silences in Mailgun's Unsubscribes table of
// one sending domain, under a tag of hush's own ("hush" by default). Mailgun keeps one record
// per address with the set of tags the address is unsubscribed from ("*" meaning every
// message of the domain), so hush's entry and the customer's own unsubscribes live side by
// side in one record and hush can take off exactly its own:
//
//	Contains: GET    /v3/{domain}/unsubscribes/{address}          200 {"address","tags","created_at"} or 404
//	Add:      POST   /v3/{domain}/unsubscribes  address=…&tag=hush  (adds the tag to an existing record)
//	Remove:   DELETE /v3/{domain}/unsubscribes/{address}?tag=hush  (removes that tag only)
//
// The requests are those of github.com/mailgun/mailgun-go/v4 (unsubscribes.go: GetUnsubscribe,
// CreateUnsubscribe, DeleteUnsubscribeWithTag) and the answers those of Mailgun's API
// reference ("Unsubscribe": https://documentation.mailgun.com/docs/mailgun/api-reference/send/mailgun/unsubscribe/).
// A DELETE without the tag would remove the whole record, the customer's own unsubscribes
// with it, so this client never sends one.

// Sync options (next to the proxy's options, read only with `sync: true`).
const (
	optAPIKey = "api_key"
	optDomain = "domain"
	optTag    = "tag"
)

// DefaultSyncTag is the Mailgun tag hush's unsubscribes carry unless the tag option says
// otherwise.
const DefaultSyncTag = "hush"

// maxTagLen is Mailgun's limit on a tag's length. Its tagging guide
// (https://documentation.mailgun.com/docs/mailgun/user-manual/tracking-messages/track-tagging):
// "Tags are case insensitive and should be ascii only. The maximum length of characters is
// 128."
const maxTagLen = 128

// everyTag is Mailgun's tag for an unsubscribe from every message of the domain.
const everyTag = "*"

// SyncOptions names the option keys only the suppression list reads.
func SyncOptions() []string {
	return []string{optAPIKey, optDomain, optTag}
}

// SuppressionList is one Mailgun domain's Unsubscribes table, as far as hush's tag goes.
// Safe for concurrent use: never modified after construction.
type SuppressionList struct {
	base   string // API base URL without a trailing slash (https://api.mailgun.net)
	apiKey string
	domain string
	tag    string
}

var _ gateway.SuppressionList = (*SuppressionList)(nil)

// NewSuppressionList builds the Mailgun suppression list of an upstream with `sync: true`
// from its url (Mailgun's API host, the same the proxy fronts) and its sync options.
func NewSuppressionList(cfg gateway.UpstreamConfig) (*SuppressionList, error) {
	opts := options.NewReader(Kind, cfg.Options)
	l := &SuppressionList{
		base:   strings.TrimRight(cfg.URL, "/"),
		apiKey: opts.RequiredString(optAPIKey),
		domain: opts.RequiredString(optDomain),
		tag:    opts.String(optTag, DefaultSyncTag),
	}
	errs := []error{opts.Done()}
	if err := options.CheckHTTPURL(cfg.URL, "Mailgun's API host: https://api.mailgun.net, or https://api.eu.mailgun.net for an EU domain"); err != nil {
		errs = append(errs, err)
	} else if strings.HasSuffix(l.base, "/v3") {
		errs = append(errs, errors.New("url ends in /v3: give Mailgun's API host only (hush adds /v3/{domain}/unsubscribes)"))
	}
	if strings.ContainsAny(l.domain, "/?# ") {
		errs = append(errs, fmt.Errorf("option %q for kind %q: want a sending domain name such as mg.example.com", optDomain, Kind))
	}
	if err := checkTag(l.tag); err != nil {
		errs = append(errs, fmt.Errorf("option %q for kind %q: %w", optTag, Kind, err))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("upstream %q: %w", cfg.Name, err)
	}
	return l, nil
}

// checkTag refuses tags Mailgun would not keep as given, and "*": hush's Remove deletes its
// tag from a record, and with "*" it would delete the customer's own unsubscribe from
// everything.
func checkTag(tag string) error {
	switch {
	case tag == "":
		return errors.New("must not be empty")
	case tag == everyTag:
		return errors.New(`must not be "*" (Mailgun's tag for an unsubscribe from everything, which is the customer's own)`)
	case len(tag) > maxTagLen:
		return fmt.Errorf("longer than Mailgun's %d characters", maxTagLen)
	case strings.TrimSpace(tag) != tag:
		return errors.New("must not start or end with a space")
	}
	for _, r := range tag {
		if r < 0x20 || r > 0x7e {
			return errors.New("must be printable ASCII (as Mailgun tags are)")
		}
	}
	return nil
}

// Tag is the Mailgun tag hush's unsubscribes carry.
func (l *SuppressionList) Tag() string { return l.tag }

func (l *SuppressionList) collection() string {
	return l.base + "/v3/" + url.PathEscape(l.domain) + "/unsubscribes"
}

// record is the URL of one address's unsubscribe record. PathEscape leaves "+" as it is;
// it is escaped too so that no server can read it as a space.
func (l *SuppressionList) record(address string) string {
	return l.collection() + "/" + strings.ReplaceAll(url.PathEscape(address), "+", "%2B")
}

func (l *SuppressionList) newRequest(ctx context.Context, method, target string, body []byte, contentType string) (*http.Request, error) {
	req, err := suppress.NewRequest(ctx, method, target, body, contentType)
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth("api", l.apiKey)
	return req, nil
}

// Contains reports whether address is unsubscribed from hush's tag or from everything ("*").
// An address unsubscribed only from other tags is not on hush's list: Mailgun still sends it
// messages tagged for hush.
func (l *SuppressionList) Contains(ctx context.Context, c gateway.Doer, address string) (bool, error) {
	const op = "contains"
	req, err := l.newRequest(ctx, http.MethodGet, l.record(address), nil, "")
	if err != nil {
		return false, fmt.Errorf("suppression list %s: %w", op, err)
	}
	status, body, err := suppress.Call(c, req, op)
	if status == http.StatusNotFound {
		if msg := parseMessage(body); isDomainNotFound(msg) {
			return false, l.refusal(err, msg, address)
		}
		return false, nil
	}
	if err != nil {
		return false, l.refusal(err, parseMessage(body), address)
	}
	tags, err := parseUnsubscribe(body)
	if err != nil {
		// A 2xx that is not an unsubscribe record: the url is not Mailgun's API.
		return false, &gateway.SyncError{Op: op, Permanent: true, Message: "the answer is not a Mailgun unsubscribe record (check the upstream's url)"}
	}
	// Mailgun's tags are case insensitive.
	return slices.ContainsFunc(tags, func(t string) bool { return t == everyTag || strings.EqualFold(t, l.tag) }), nil
}

// Add unsubscribes address from hush's tag. On an address that already has a record Mailgun
// adds the tag to it; adding it twice changes nothing.
func (l *SuppressionList) Add(ctx context.Context, c gateway.Doer, address string) error {
	const op = "add"
	form := url.Values{"address": {address}, "tag": {l.tag}}
	req, err := l.newRequest(ctx, http.MethodPost, l.collection(), []byte(form.Encode()), "application/x-www-form-urlencoded")
	if err != nil {
		return fmt.Errorf("suppression list %s: %w", op, err)
	}
	_, body, err := suppress.Call(c, req, op)
	if err != nil {
		return l.refusal(err, parseMessage(body), address)
	}
	return nil
}

// Remove takes hush's tag off address's record, and nothing else: Mailgun keeps the record
// while other tags remain ("*", the customer's own) and deletes it with the last one. An
// address without the tag, or without a record, is already off the list.
func (l *SuppressionList) Remove(ctx context.Context, c gateway.Doer, address string) error {
	const op = "remove"
	target := l.record(address) + "?" + url.Values{"tag": {l.tag}}.Encode()
	req, err := l.newRequest(ctx, http.MethodDelete, target, nil, "")
	if err != nil {
		return fmt.Errorf("suppression list %s: %w", op, err)
	}
	status, body, err := suppress.Call(c, req, op)
	if status == http.StatusNotFound {
		if msg := parseMessage(body); isDomainNotFound(msg) {
			return l.refusal(err, msg, address)
		}
		return nil
	}
	if err != nil {
		return l.refusal(err, parseMessage(body), address)
	}
	return nil
}

// refusal completes the *gateway.SyncError of a non-2xx answer (from suppress.Call) with
// Mailgun's message, unless the message repeats the address ("Invalid format for parameter
// address: …"): errors end up in the outbox record and in logs. A transport error or a
// cancelled context is returned as it is.
func (l *SuppressionList) refusal(err error, vendorMessage, address string) error {
	var se *gateway.SyncError
	if !errors.As(err, &se) {
		return err
	}
	msg := vendorMessage
	if address != "" && strings.Contains(strings.ToLower(msg), strings.ToLower(address)) {
		msg = ""
	}
	if se.Status == http.StatusUnauthorized || se.Status == http.StatusForbidden {
		// Mailgun answers a wrong key with 401 and a plain "Forbidden" body.
		msg = "the API key was refused: api_key must be a private API key (or one allowed to manage suppressions); a domain sending key can only send"
	}
	if msg != "" {
		se.Message = shorten(msg, 200)
	}
	return se
}

// isDomainNotFound tells Mailgun's 404 for an unknown sending domain ("Domain not found:
// mg.example.com") from its 404 for an address that has no record ("Address not found in
// unsubscribers table"). The first is a configuration problem; the second an answer.
func isDomainNotFound(msg string) bool {
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(msg)), "domain not found")
}

// parseUnsubscribe reads the tags of Mailgun's unsubscribe record:
// {"address": "alice@example.com", "tags": ["*"], "created_at": "Fri, 18 Oct 2024 18:28:14 UTC"}.
// The API before 2016 answered one record per tag with a "tag" string; that is read too.
func parseUnsubscribe(body []byte) ([]string, error) {
	var rec struct {
		Address *string  `json:"address"`
		Tags    []string `json:"tags"`
		Tag     *string  `json:"tag"`
	}
	if err := json.Unmarshal(body, &rec); err != nil {
		return nil, fmt.Errorf("read unsubscribe record: %w", err)
	}
	if rec.Address == nil {
		return nil, errors.New("read unsubscribe record: no address")
	}
	tags := rec.Tags
	if rec.Tag != nil {
		tags = append(tags, *rec.Tag)
	}
	return tags, nil
}

// parseMessage reads the "message" of Mailgun's error answer ({"message": "…"}); "" when
// the body is not one (Mailgun answers a wrong key with the text "Forbidden").
func parseMessage(body []byte) string {
	var e struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	return e.Message
}

// shorten cuts s to at most n bytes on a rune boundary.
func shorten(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
