package postmark

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/hush-gateway/hush/connectors/options"
	"github.com/hush-gateway/hush/connectors/suppress"
	"github.com/hush-gateway/hush/gateway"
)

// Suppression-list sync (`sync: true`) against Postmark's Suppressions API
// (https://postmarkapp.com/developer/api/suppressions-api). Suppressions belong to one message
// stream; hush manages those of one stream, the broadcast stream marketing sends on unless
// the `stream` option names another.
//
// How hush tells its entries from the customer's: Postmark marks every suppression with a
// reason and an origin. An address put on the list through the API is ManualSuppression with
// origin Customer; a recipient's own unsubscribe is ManualSuppression with origin Recipient,
// and bounces and spam complaints have reasons of their own. Remove reads the entry first and
// deletes only a ManualSuppression/Customer one, so a customer's unsubscribe, a bounce or a
// complaint is never reactivated by hush, even if its ledger were wrong.

// Sync option keys of Postmark upstreams.
const (
	optServerToken = "server_token"
	optStream      = "stream"
)

// Postmark's names for suppression reasons, origins and per-address outcomes.
const (
	reasonManual     = "ManualSuppression"
	originCustomer   = "Customer"
	statusSuppressed = "Suppressed"
	statusDeleted    = "Deleted"
	statusFailed     = "Failed"
)

// errorCodeProcessing is Postmark's ErrorCode for "Something went wrong when processing the
// request" in the Suppressions API: answered with 422, but a failure on Postmark's side that
// a later attempt can get past.
const errorCodeProcessing = 1407

// SyncOptions are the option keys NewSuppressionList reads.
func SyncOptions() []string {
	return []string{optServerToken, optStream}
}

// SuppressionList is the suppression list of one Postmark message stream. Safe for concurrent
// use: never modified after construction.
type SuppressionList struct {
	base   string // API root, without a trailing slash
	token  string // server token (X-Postmark-Server-Token)
	stream string // message stream id whose suppressions hush manages
}

// NewSuppressionList builds the suppression list of a Postmark upstream with `sync: true`:
// server_token (required) and stream (default "broadcast").
func NewSuppressionList(cfg gateway.UpstreamConfig) (*SuppressionList, error) {
	opts := options.NewReader(Kind, cfg.Options)
	token := opts.RequiredString(optServerToken)
	stream := opts.String(optStream, BroadcastStream)
	if err := opts.Done(); err != nil {
		return nil, fmt.Errorf("upstream %q suppression sync: %w", cfg.Name, err)
	}
	if strings.TrimSpace(stream) == "" {
		return nil, fmt.Errorf("upstream %q suppression sync: option %q for kind %q must name a message stream", cfg.Name, optStream, Kind)
	}
	base := strings.TrimRight(cfg.URL, "/")
	if base == "" {
		return nil, fmt.Errorf("upstream %q suppression sync: url is required (Postmark's is https://api.postmarkapp.com)", cfg.Name)
	}
	return &SuppressionList{base: base, token: token, stream: stream}, nil
}

// Contains reports whether address is suppressed on the stream, for any reason and origin.
func (l *SuppressionList) Contains(ctx context.Context, c gateway.Doer, address string) (bool, error) {
	entries, err := l.dump(ctx, c, "contains", address)
	if err != nil {
		return false, err
	}
	return len(entries) > 0, nil
}

// Add suppresses address on the stream (Postmark records it as ManualSuppression by
// Customer). Postmark answers 200 with a status per address; "Failed" is a refusal of that
// address. Postmark refuses to change an existing spam-complaint suppression the same way, so
// a Failed address that is on the list after all counts as added: the contract's "already
// there is not an error", and Remove will leave that entry alone.
func (l *SuppressionList) Add(ctx context.Context, c gateway.Doer, address string) error {
	st, err := l.change(ctx, c, "add", "/suppressions", address)
	if err != nil {
		return err
	}
	switch st.Status {
	case statusSuppressed:
		return nil
	case statusFailed:
		listed, err := l.Contains(ctx, c, address)
		if err != nil {
			return err
		}
		if listed {
			return nil
		}
		return &gateway.SyncError{Op: "add", Status: http.StatusOK, Permanent: true,
			Message: vendorMessage(st.Message, address)}
	default:
		return unreadable("add", "unknown suppression status")
	}
}

// Remove deletes hush's suppression of address: only a ManualSuppression with origin
// Customer, the kind the API creates. Any other entry (the recipient's own unsubscribe, a
// bounce, a spam complaint, one made by Postmark staff) stays, and so does an address with
// several entries of which one is not hush's kind. An address that is not suppressed is not
// an error.
func (l *SuppressionList) Remove(ctx context.Context, c gateway.Doer, address string) error {
	entries, err := l.dump(ctx, c, "remove", address)
	if err != nil {
		return err
	}
	if len(entries) == 0 {
		return nil
	}
	for _, e := range entries {
		if !e.hushKind() {
			return nil
		}
	}
	st, err := l.change(ctx, c, "remove", "/suppressions/delete", address)
	if err != nil {
		return err
	}
	switch st.Status {
	case statusDeleted:
		return nil
	case statusFailed:
		return &gateway.SyncError{Op: "remove", Status: http.StatusOK, Permanent: true,
			Message: vendorMessage(st.Message, address)}
	default:
		return unreadable("remove", "unknown suppression status")
	}
}

// dump reads the stream's suppressions of address. Postmark's EmailAddress filter is not
// documented as an exact match, so the answer is filtered again here (ignoring case, as
// Postmark treats addresses).
func (l *SuppressionList) dump(ctx context.Context, c gateway.Doer, op, address string) ([]suppression, error) {
	target := l.streamURL("/suppressions/dump") + "?" + url.Values{"EmailAddress": {address}}.Encode()
	req, err := suppress.NewRequest(ctx, http.MethodGet, target, nil, "")
	if err != nil {
		return nil, fmt.Errorf("suppression list %s: %w", op, err)
	}
	body, err := l.call(c, req, op, address)
	if err != nil {
		return nil, err
	}
	all, err := parseDump(body)
	if err != nil {
		return nil, unreadable(op, "unreadable suppression dump")
	}
	var out []suppression
	for _, s := range all {
		if strings.EqualFold(strings.TrimSpace(s.EmailAddress), address) {
			out = append(out, s)
		}
	}
	return out, nil
}

// change posts one address to a create or delete endpoint and returns Postmark's status for it.
func (l *SuppressionList) change(ctx context.Context, c gateway.Doer, op, path, address string) (suppressionStatus, error) {
	payload, err := json.Marshal(changeRequest{Suppressions: []changeItem{{EmailAddress: address}}})
	if err != nil {
		return suppressionStatus{}, fmt.Errorf("suppression list %s: encode request: %w", op, err)
	}
	req, err := suppress.NewRequest(ctx, http.MethodPost, l.streamURL(path), payload, "application/json")
	if err != nil {
		return suppressionStatus{}, fmt.Errorf("suppression list %s: %w", op, err)
	}
	body, err := l.call(c, req, op, address)
	if err != nil {
		return suppressionStatus{}, err
	}
	statuses, err := parseStatuses(body)
	if err != nil {
		return suppressionStatus{}, unreadable(op, "unreadable suppression status")
	}
	// One address was sent, so one status comes back; match it by address all the same,
	// in case Postmark rewrites it (case, spaces).
	for _, st := range statuses {
		if strings.EqualFold(strings.TrimSpace(st.EmailAddress), address) {
			return st, nil
		}
	}
	if len(statuses) == 1 {
		return statuses[0], nil
	}
	return suppressionStatus{}, unreadable(op, "no suppression status for the address")
}

// call sends req with the server token and classifies a refusal from Postmark's error body.
func (l *SuppressionList) call(c gateway.Doer, req *http.Request, op, address string) ([]byte, error) {
	req.Header.Set("X-Postmark-Server-Token", l.token)
	status, body, err := suppress.Call(c, req, op)
	if err == nil {
		return body, nil
	}
	var se *gateway.SyncError
	if !errors.As(err, &se) {
		return nil, err
	}
	code, msg, ok := parseError(body)
	if !ok {
		return nil, se
	}
	// Same classification by status, with Postmark's own code and text; the Retry-After
	// was read from the answer's header by the first one.
	refusal := suppress.Refusal(op, status, nil, errorText(code, vendorMessage(msg, address)))
	refusal.RetryAfter = se.RetryAfter
	if code == errorCodeProcessing {
		refusal.Permanent = false
	}
	return nil, refusal
}

func (l *SuppressionList) streamURL(path string) string {
	return l.base + "/message-streams/" + url.PathEscape(l.stream) + path
}

// suppression is one entry of a suppression dump.
type suppression struct {
	EmailAddress      string
	SuppressionReason string
	Origin            string
	CreatedAt         string
}

// hushKind: the kind of entry the API creates, the only kind hush removes.
func (s suppression) hushKind() bool {
	return s.SuppressionReason == reasonManual && s.Origin == originCustomer
}

// suppressionStatus is Postmark's outcome for one address of a create or delete request.
type suppressionStatus struct {
	EmailAddress string
	Status       string
	Message      string // null unless Status is Failed
}

type changeItem struct {
	EmailAddress string `json:"EmailAddress"`
}

type changeRequest struct {
	Suppressions []changeItem `json:"Suppressions"`
}

// parseDump reads the answer of GET /message-streams/{stream}/suppressions/dump:
// {"Suppressions":[{"EmailAddress","SuppressionReason","Origin","CreatedAt"}]}.
func parseDump(body []byte) ([]suppression, error) {
	var doc struct {
		Suppressions *[]suppression
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("read suppression dump: %w", err)
	}
	if doc.Suppressions == nil {
		return nil, errors.New("read suppression dump: no Suppressions array")
	}
	return *doc.Suppressions, nil
}

// parseStatuses reads the answer of a suppression create or delete:
// {"Suppressions":[{"EmailAddress","Status","Message"}]}.
func parseStatuses(body []byte) ([]suppressionStatus, error) {
	var doc struct {
		Suppressions *[]suppressionStatus
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("read suppression statuses: %w", err)
	}
	if doc.Suppressions == nil {
		return nil, errors.New("read suppression statuses: no Suppressions array")
	}
	return *doc.Suppressions, nil
}

// parseError reads Postmark's error body {"ErrorCode": 10, "Message": "..."}; ok is false
// when the body is not one.
func parseError(body []byte) (code int, message string, ok bool) {
	var doc struct {
		ErrorCode *int
		Message   string
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.ErrorCode == nil {
		return 0, "", false
	}
	return *doc.ErrorCode, doc.Message, true
}

// errorText is the SyncError message of a Postmark error: its code and (safe) message.
func errorText(code int, msg string) string {
	if msg == "" {
		return fmt.Sprintf("Postmark ErrorCode %d", code)
	}
	return fmt.Sprintf("Postmark ErrorCode %d: %s", code, msg)
}

// vendorMessage is Postmark's text when it cannot hold the address: errors end up in the
// outbox record and in logs. Any text with an "@" is dropped too, because Postmark may quote
// the address in another spelling.
func vendorMessage(msg, address string) string {
	if address != "" && strings.Contains(strings.ToLower(msg), strings.ToLower(address)) {
		return ""
	}
	if strings.Contains(msg, "@") {
		return ""
	}
	return msg
}

// unreadable is a 2xx answer hush could not make sense of: worth trying again (a proxy's
// page, a truncated answer), so not permanent.
func unreadable(op, what string) *gateway.SyncError {
	return &gateway.SyncError{Op: op, Message: what}
}

var _ gateway.SuppressionList = (*SuppressionList)(nil)
