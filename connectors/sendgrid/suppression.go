package sendgrid

// Suppression-list sync for SendGrid: hush keeps one unsubscribe group (an ASM group) in
// step with its silences, so that Single Sends and other mail SendGrid sends on its own
// (never through hush's proxy) skip silenced customers, as long as they name that group.
//
// API reference (Suppressions - Suppressions):
// https://www.twilio.com/docs/sendgrid/api-reference/suppressions-suppressions
//
//	search: POST   /v3/asm/groups/{group_id}/suppressions/search {"recipient_emails":[…]} → 200 [the ones in the group]
//	add:    POST   /v3/asm/groups/{group_id}/suppressions        {"recipient_emails":[…]} → 201 {"recipient_emails":[…]}
//	remove: DELETE /v3/asm/groups/{group_id}/suppressions/{email}                         → 204
//	group:  GET    /v3/asm/groups/{group_id}                                              → 200 the group
//
// SendGrid keeps no mark on a group suppression, so it cannot tell hush's entries from a
// recipient's own unsubscribe: hush's ledger does (the worker calls Contains before adding,
// and an address already in the group is the customer's and never removed). hush never
// touches the global unsubscribe list (/v3/asm/suppressions/global), which is the customer's.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hush-gateway/hush/connectors/options"
	"github.com/hush-gateway/hush/connectors/suppress"
	"github.com/hush-gateway/hush/gateway"
)

// Sync option keys.
const (
	optAPIKey  = "api_key"
	optGroupID = "group_id"
)

// SyncOptions names the options only the suppression list reads.
func SyncOptions() []string { return []string{optAPIKey, optGroupID} }

// SuppressionList is one SendGrid unsubscribe group that hush adds silenced addresses to.
// Safe for concurrent use: never modified after construction.
type SuppressionList struct {
	groupURL string // {base}/v3/asm/groups/{group_id}
	groupID  int64
	apiKey   string
	now      func() time.Time // reads X-RateLimit-Reset; time.Now outside tests
}

var _ gateway.SuppressionList = (*SuppressionList)(nil)

// NewSuppressionList builds the client of the unsubscribe group named by the sync options:
//
//	api_key:  a SendGrid API key with Suppressions access (sent as Authorization: Bearer)
//	group_id: the unsubscribe group's id, a positive whole number
//
// cfg.URL is SendGrid's API base (https://api.sendgrid.com, or https://api.eu.sendgrid.com
// for EU regional subusers).
func NewSuppressionList(cfg gateway.UpstreamConfig) (*SuppressionList, error) {
	opts := options.NewReader(Kind, cfg.Options)
	var errs []error
	key := opts.RequiredString(optAPIKey)
	if strings.ContainsFunc(key, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		// It would not fit in a header; the message never shows the key.
		errs = append(errs, fmt.Errorf("option %q for kind %q holds spaces or control characters; check how the key was pasted", optAPIKey, Kind))
	}
	group, groupErr := readGroupID(opts, cfg.Options)
	if groupErr != nil {
		errs = append(errs, groupErr)
	}
	if err := opts.Done(); err != nil {
		errs = append(errs, err)
	}
	if err := options.CheckHTTPURL(cfg.URL, "SendGrid's API base, such as https://api.sendgrid.com"); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	base := strings.TrimRight(cfg.URL, "/")
	return &SuppressionList{
		groupURL: base + "/v3/asm/groups/" + strconv.FormatInt(group, 10),
		groupID:  group,
		apiKey:   key,
		now:      time.Now,
	}, nil
}

// readGroupID reads group_id: a whole number, or a string of digits (what ${VAR} in
// hush.yaml gives).
func readGroupID(opts *options.Reader, raw map[string]any) (int64, error) {
	bad := fmt.Errorf("option %q for kind %q must be a positive whole number (the id of the unsubscribe group, shown in SendGrid under Suppressions > Unsubscribe Groups)", optGroupID, Kind)
	if !opts.Has(optGroupID) {
		return 0, fmt.Errorf("option %q for kind %q is required (the id of the unsubscribe group hush adds silenced addresses to)", optGroupID, Kind)
	}
	if _, ok := raw[optGroupID].(string); ok {
		s := opts.String(optGroupID, "")
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 || strconv.FormatInt(n, 10) != s {
			return 0, bad
		}
		return n, nil
	}
	n := opts.Int(optGroupID, math.MinInt)
	if n == math.MinInt {
		return 0, nil // a wrong type: Done reports it
	}
	if n <= 0 {
		return 0, bad
	}
	return int64(n), nil
}

// recipients is the request body of search and add.
type recipients struct {
	RecipientEmails []string `json:"recipient_emails"`
}

// Contains reports whether address is in the unsubscribe group, whoever put it there.
func (l *SuppressionList) Contains(ctx context.Context, c gateway.Doer, address string) (bool, error) {
	const op = "contains"
	a, err := l.call(ctx, c, op, http.MethodPost, l.groupURL+"/suppressions/search", address, true)
	if err != nil {
		return false, l.refusal(op, a, err, address)
	}
	found, err := parseSearch(a.body, address)
	if err != nil {
		return false, &gateway.SyncError{Op: op, Message: "unreadable search answer: " + err.Error()}
	}
	return found, nil
}

// Add puts address in the unsubscribe group. It first makes sure the group exists:
// SendGrid puts suppressions for a group that does not exist (or was deleted) on the
// global unsubscribe list instead, which would silence the address for every group and
// which hush never removes.
func (l *SuppressionList) Add(ctx context.Context, c gateway.Doer, address string) error {
	const op = "add"
	if a, err := l.call(ctx, c, op, http.MethodGet, l.groupURL, "", false); err != nil {
		return l.refusal(op, a, err, address)
	}
	if a, err := l.call(ctx, c, op, http.MethodPost, l.groupURL+"/suppressions", address, true); err != nil {
		return l.refusal(op, a, err, address)
	}
	return nil
}

// Remove takes address out of the unsubscribe group. SendGrid cannot tell hush's entry from
// the recipient's own unsubscribe; the worker only calls Remove for entries its ledger says
// hush added. Not in the group (404) is success; the global unsubscribe list is never touched.
func (l *SuppressionList) Remove(ctx context.Context, c gateway.Doer, address string) error {
	const op = "remove"
	a, err := l.call(ctx, c, op, http.MethodDelete, l.groupURL+"/suppressions/"+escapeSegment(address), "", false)
	if err != nil {
		if a.status == http.StatusNotFound {
			return nil
		}
		return l.refusal(op, a, err, address)
	}
	return nil
}

// call sends one request: with withBody, {"recipient_emails":[address]}. It returns the
// answer's headers too, for SendGrid's rate-limit reset time.
func (l *SuppressionList) call(ctx context.Context, c gateway.Doer, op, method, target, address string, withBody bool) (answer, error) {
	var payload []byte
	if withBody {
		var err error
		if payload, err = json.Marshal(recipients{RecipientEmails: []string{address}}); err != nil {
			return answer{}, fmt.Errorf("suppression list %s: encode request: %w", op, err)
		}
	}
	req, err := suppress.NewRequest(ctx, method, target, payload, "application/json")
	if err != nil {
		return answer{}, fmt.Errorf("suppression list %s: %w", op, err)
	}
	req.Header.Set("Authorization", "Bearer "+l.apiKey)
	hc := &headerCatcher{Doer: c}
	status, body, err := suppress.Call(hc, req, op)
	return answer{status: status, body: body, header: hc.header}, err
}

// answer is what call read.
type answer struct {
	status int
	body   []byte
	header http.Header
}

// headerCatcher keeps the headers of the answer it passes on. One per call.
type headerCatcher struct {
	gateway.Doer
	header http.Header
}

func (h *headerCatcher) Do(req *http.Request) (*http.Response, error) {
	resp, err := h.Doer.Do(req)
	if resp != nil {
		h.header = resp.Header
	}
	return resp, err
}

// refusal turns a failed call into the error to return. Transport errors and the context's
// pass through; a vendor's refusal gets SendGrid's own error text (without the address) and,
// when it gave no Retry-After, the wait until its X-RateLimit-Reset.
func (l *SuppressionList) refusal(op string, a answer, err error, address string) error {
	if !errors.As(err, new(*gateway.SyncError)) {
		return err
	}
	msg := vendorMessage(parseErrors(a.body), address)
	if a.status == http.StatusNotFound {
		msg = fmt.Sprintf("unsubscribe group %d not found: check group_id", l.groupID)
		if op == "add" {
			msg += " (nothing added: SendGrid would put the address on the global unsubscribe list instead)"
		}
	}
	e := suppress.Refusal(op, a.status, a.header, msg)
	if !e.Permanent && e.RetryAfter == 0 {
		e.RetryAfter = rateLimitWait(a.header, l.now())
	}
	return e
}

// maxRateLimitWait caps the wait read from X-RateLimit-Reset, like suppress caps Retry-After.
const maxRateLimitWait = time.Hour

// rateLimitWait reads X-RateLimit-Reset (a Unix time, in seconds: when the endpoint's
// refresh period ends), which SendGrid sends with its 429s: the time until then, capped at
// an hour; 0 when absent, unreadable or past.
// https://www.twilio.com/docs/sendgrid/api-reference/how-to-use-the-sendgrid-v3-api/rate-limits
func rateLimitWait(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("X-RateLimit-Reset"))
	if v == "" {
		return 0
	}
	secs, err := strconv.ParseInt(v, 10, 64)
	if err != nil || secs <= now.Unix() {
		return 0
	}
	if secs-now.Unix() > int64(maxRateLimitWait/time.Second) {
		return maxRateLimitWait
	}
	return time.Unix(secs, 0).Sub(now).Round(time.Second)
}

// errorAnswer is SendGrid's error shape: {"errors":[{"field":…,"message":…,"help":…}]}.
type errorAnswer struct {
	Errors []struct {
		Field   any    `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

// parseErrors reads the messages of SendGrid's error shape, each prefixed with its field
// when it names one ("recipient_emails: …"). nil when the body is not that shape.
func parseErrors(body []byte) []string {
	var a errorAnswer
	if json.Unmarshal(body, &a) != nil {
		return nil
	}
	var out []string
	for _, e := range a.Errors {
		m := strings.TrimSpace(e.Message)
		if m == "" {
			continue
		}
		if f, ok := e.Field.(string); ok && strings.TrimSpace(f) != "" {
			m = strings.TrimSpace(f) + ": " + m
		}
		out = append(out, m)
	}
	return out
}

// vendorMessage joins the messages that do not mention the address: errors end up in the
// outbox record and in logs.
func vendorMessage(msgs []string, address string) string {
	return strings.Join(withoutAddress(msgs, address), "; ")
}

// withoutAddress drops the messages that mention address, its local part, or anything that
// looks like an address (SendGrid's texts sometimes quote what they refuse).
func withoutAddress(msgs []string, address string) []string {
	lower := strings.ToLower(strings.TrimSpace(address))
	local, _, _ := strings.Cut(lower, "@")
	var keep []string
	for _, m := range msgs {
		lm := strings.ToLower(m)
		if strings.Contains(lm, "@") || lower != "" && strings.Contains(lm, lower) ||
			len(local) >= 3 && strings.Contains(lm, local) {
			continue
		}
		keep = append(keep, m)
	}
	return keep
}

// parseSearch reads the search answer, the addresses of the request that are in the group,
// and reports whether address is one of them (SendGrid compares addresses without regard
// to letter case).
func parseSearch(body []byte, address string) (bool, error) {
	var found []string
	if err := json.Unmarshal(body, &found); err != nil {
		return false, errors.New("want a JSON array of email addresses")
	}
	for _, f := range found {
		if strings.EqualFold(strings.TrimSpace(f), address) {
			return true, nil
		}
	}
	return false, nil
}

// escapeSegment escapes address as one path segment. '+' is escaped too: some servers read
// a literal '+' in a path as a space.
func escapeSegment(address string) string {
	return strings.ReplaceAll(url.PathEscape(address), "+", "%2B")
}
