package mandrill

// Suppression-list sync for Mandrill: hush keeps silenced customers on Mandrill's rejection
// denylist ("rejects") so that sends made from Mandrill's side, which never pass through the
// proxy, skip them too.
//
// Mandrill's rejects calls (https://mandrillapp.com/api/docs/rejects.JSON.html) are JSON-RPC
// over POST with the API key in the body:
//
//	rejects/list.json   {key, email, include_expired, subaccount} → [{email, reason, detail,
//	                    created_at, last_event_at, expires_at, expired, sender, subaccount}]
//	rejects/add.json    {key, email, comment, subaccount} → {email, added}
//	rejects/delete.json {key, email, subaccount} → {email, deleted, subaccount}
//
// reason is hard-bounce, soft-bounce, spam, unsub or custom; detail holds the comment of a
// reject added by hand or through the API. hush adds its rejects with its own comment, and
// takes off only a custom reject whose detail is that comment: the customer's unsubscribe,
// a spam complaint, a bounce, or a custom reject someone added with another comment stay.
//
// Every failure is answered with HTTP 500 and {status: "error", code, name, message}; the
// name says whether trying again can help (see permanentName).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/hush-gateway/hush/connectors/options"
	"github.com/hush-gateway/hush/connectors/suppress"
	"github.com/hush-gateway/hush/gateway"
)

// HushComment is the comment hush gives the rejects it adds. Mandrill shows it as the
// reject's detail; it is how hush tells its own rejects from everybody else's.
const HushComment = "hush: silenced"

// apiVersionPath is the API root under Mandrill's host (https://mandrillapp.com/api/1.0).
const apiVersionPath = "/api/1.0"

// maxSubaccountLen is Mandrill's documented limit on a subaccount id (maxlength(255)).
const maxSubaccountLen = 255

// SyncOptions names the options only the suppression list reads.
func SyncOptions() []string { return []string{"api_key", "subaccount"} }

// SuppressionList is Mandrill's rejection denylist of one account or subaccount. Never
// modified after NewSuppressionList, so it is safe for concurrent use.
type SuppressionList struct {
	api        string // the API root, ending in /api/1.0
	key        string
	subaccount string // "": the account's own denylist
}

var _ gateway.SuppressionList = (*SuppressionList)(nil)

// NewSuppressionList builds the rejects client of an upstream with `sync: true`. Options:
//
//	api_key:    a Mandrill API key allowed to call rejects/list, rejects/add and
//	            rejects/delete (required)
//	subaccount: the subaccount whose denylist hush keeps (optional; without it, the
//	            account's own denylist, which blocks every send of the account)
//
// The API root is the upstream's url (https://mandrillapp.com) followed by /api/1.0; a url
// that already ends in /api/1.0 is taken as it is.
func NewSuppressionList(cfg gateway.UpstreamConfig) (*SuppressionList, error) {
	opts := options.NewReader(Kind, cfg.Options)
	l := &SuppressionList{
		key:        opts.RequiredString("api_key"),
		subaccount: opts.String("subaccount", ""),
	}
	errs := []error{opts.Done()}
	if len(l.subaccount) > maxSubaccountLen {
		errs = append(errs, fmt.Errorf("option %q for kind %q: longer than Mandrill's %d characters", "subaccount", Kind, maxSubaccountLen))
	}
	if err := options.CheckHTTPURL(cfg.URL, "Mandrill's API host, https://mandrillapp.com"); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("mandrill suppression list of upstream %q: %w", cfg.Name, err)
	}
	l.api = strings.TrimRight(cfg.URL, "/")
	if !strings.HasSuffix(l.api, apiVersionPath) {
		l.api += apiVersionPath
	}
	return l, nil
}

// Contains reports whether a reject that has not expired blocks address in hush's
// (sub)account, whatever its reason.
func (l *SuppressionList) Contains(ctx context.Context, c gateway.Doer, address string) (bool, error) {
	entries, err := l.list(ctx, c, "contains", address)
	if err != nil {
		return false, err
	}
	return len(entries) > 0, nil
}

// Add puts a custom reject with hush's comment on the denylist. Mandrill answers
// added: false when it did nothing (its docs: adding an address on the allowlist "will have
// no effect"); the address is then looked up, and Add succeeds only if it is rejected anyway.
func (l *SuppressionList) Add(ctx context.Context, c gateway.Doer, address string) error {
	body, _, err := l.call(ctx, c, "add", "add", rejectCall{Key: l.key, Email: address, Comment: HushComment, Subaccount: l.subaccount}, address)
	if err != nil {
		return err
	}
	added, err := parseFlag(body, "added")
	if err != nil {
		return unreadable("add", err)
	}
	if added {
		return nil
	}
	entries, err := l.list(ctx, c, "add", address)
	switch {
	case err != nil:
		return err
	case len(entries) > 0:
		return nil
	}
	return &gateway.SyncError{Op: "add", Status: http.StatusOK, Permanent: true,
		Message: "Mandrill did not add the reject (an address on the rejection allowlist cannot be rejected)"}
}

// Remove deletes hush's reject for address, and only hush's: the address is looked up
// first, and deleted only when every reject that blocks it is a custom one with hush's
// comment. Anything else (no reject, the customer's unsubscribe, a bounce, a spam
// complaint, a custom reject with another comment) is left alone and is not an error.
//
// Mandrill has no conditional delete: a reject someone adds between the lookup and the
// delete (a moment) would go too.
func (l *SuppressionList) Remove(ctx context.Context, c gateway.Doer, address string) error {
	entries, err := l.list(ctx, c, "remove", address)
	if err != nil {
		return err
	}
	if len(entries) == 0 {
		return nil
	}
	for _, e := range entries {
		if !e.hushs() {
			return nil
		}
	}
	body, name, err := l.call(ctx, c, "remove", "delete", rejectCall{Key: l.key, Email: address, Subaccount: l.subaccount}, address)
	if name == invalidReject {
		return nil // not on the list (any more): what Remove wants
	}
	if err != nil {
		return err
	}
	deleted, err := parseFlag(body, "deleted")
	if err != nil {
		return unreadable("remove", err)
	}
	if !deleted {
		return &gateway.SyncError{Op: "remove", Status: http.StatusOK, Message: "Mandrill did not delete the reject"}
	}
	return nil
}

// rejectCall is the body of every rejects call; empty fields are left out, except
// include_expired on list (false: expired rejects block nothing).
type rejectCall struct {
	Key            string `json:"key"`
	Email          string `json:"email"`
	Comment        string `json:"comment,omitempty"`
	IncludeExpired *bool  `json:"include_expired,omitempty"`
	Subaccount     string `json:"subaccount,omitempty"`
}

// list returns the rejects that block address in hush's scope: same address (Mandrill's
// email parameter is a search, compared here exactly, without regard to case), not
// expired, and, without a configured subaccount, the account's own (an entry of some
// subaccount does not block the account's sends).
func (l *SuppressionList) list(ctx context.Context, c gateway.Doer, op, address string) ([]rejectEntry, error) {
	no := false
	body, _, err := l.call(ctx, c, op, "list", rejectCall{Key: l.key, Email: address, IncludeExpired: &no, Subaccount: l.subaccount}, address)
	if err != nil {
		return nil, err
	}
	all, err := parseRejects(body)
	if err != nil {
		return nil, unreadable(op, err)
	}
	var out []rejectEntry
	for _, e := range all {
		if !strings.EqualFold(strings.TrimSpace(e.Email), address) || e.Expired {
			continue
		}
		if l.subaccount == "" && e.Subaccount != "" {
			continue
		}
		out = append(out, e)
	}
	return out, nil
}

// call posts one rejects call and returns the answer of a 2xx. A refusal in Mandrill's
// error shape is reclassified by its name (see refusal), which call returns too.
func (l *SuppressionList) call(ctx context.Context, c gateway.Doer, op, method string, call rejectCall, address string) (body []byte, errName string, err error) {
	b, err := json.Marshal(call)
	if err != nil {
		return nil, "", fmt.Errorf("mandrill %s: encode rejects/%s: %w", op, method, err)
	}
	req, err := suppress.NewRequest(ctx, http.MethodPost, l.api+"/rejects/"+method+".json", b, "application/json")
	if err != nil {
		return nil, "", fmt.Errorf("mandrill %s: %w", op, err)
	}
	_, body, err = suppress.Call(c, req, op)
	var se *gateway.SyncError
	if errors.As(err, &se) {
		se, errName = l.refusal(se, body, address)
		return nil, errName, se
	}
	return body, "", err
}

// invalidReject is the name Mandrill gives a delete of an address not on the denylist.
const invalidReject = "Invalid_Reject"

// refusal reclassifies a refusal whose answer is Mandrill's error object: the names of a
// call that cannot succeed as it is (a bad key, bad parameters, an unknown subaccount, a
// reject that is not there, an account that must pay) are permanent, every other name
// (GeneralError, ServiceUnavailable, names Mandrill adds later) can be tried again. An
// answer that is not Mandrill's (a proxy's 502, a 429) keeps suppress.Refusal's class.
func (l *SuppressionList) refusal(se *gateway.SyncError, body []byte, address string) (*gateway.SyncError, string) {
	e, ok := parseAPIError(body)
	if !ok {
		return se, ""
	}
	out := *se
	out.Message = l.vendorMessage(e, address)
	out.Permanent = permanentName(e.Name)
	if out.Permanent {
		out.RetryAfter = 0
	}
	return &out, e.Name
}

// permanentName reports whether a Mandrill error name means the call cannot succeed as it
// is. The rejects calls document Invalid_Key, Unknown_Subaccount, ValidationError and
// GeneralError (and Invalid_Reject for a reject that is not there); PaymentRequired is the
// account's, and waits for an operator as well.
func permanentName(name string) bool {
	switch name {
	case "Invalid_Key", "ValidationError", "Unknown_Subaccount", invalidReject, "PaymentRequired":
		return true
	}
	return false
}

// vendorMessage is "<name>: <message>", or the name alone when the message could repeat
// the address or the key (it is kept in the outbox record and logs).
func (l *SuppressionList) vendorMessage(e apiError, address string) string {
	name := e.Name
	if strings.Contains(name, "@") {
		name = "Mandrill error"
	}
	msg := strings.TrimSpace(e.Message)
	lower := strings.ToLower(msg)
	if msg == "" || strings.Contains(msg, "@") || strings.Contains(lower, strings.ToLower(address)) ||
		(l.key != "" && strings.Contains(msg, l.key)) {
		return truncate(name, 100)
	}
	return truncate(name+": "+msg, 200)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}

func unreadable(op string, err error) *gateway.SyncError {
	return &gateway.SyncError{Op: op, Message: "unreadable Mandrill answer: " + err.Error()}
}

// rejectEntry is one element of rejects/list's answer, the fields hush reads. sender (an
// object or null) and the dates are not read.
type rejectEntry struct {
	Email      string `json:"email"`
	Reason     string `json:"reason"`
	Detail     string `json:"detail"`
	Expired    bool   `json:"expired"`
	Subaccount string `json:"subaccount"` // null: the account's own
}

// hushs reports whether the reject is one hush added: custom, with hush's comment.
func (e rejectEntry) hushs() bool {
	return e.Reason == "custom" && strings.TrimSpace(e.Detail) == HushComment
}

// parseRejects reads rejects/list's answer, a JSON array of rejects. Its errors never
// quote the answer (it holds addresses).
func parseRejects(body []byte) ([]rejectEntry, error) {
	var out []rejectEntry
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, errors.New("rejects/list answer is not an array of rejects")
	}
	return out, nil
}

// parseFlag reads the boolean field of an add or delete answer ({email, added} or
// {email, deleted, subaccount}).
func parseFlag(body []byte, field string) (bool, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil || obj == nil {
		return false, fmt.Errorf("answer is not a JSON object with %q", field)
	}
	var v bool
	if raw, ok := obj[field]; !ok || json.Unmarshal(raw, &v) != nil {
		return false, fmt.Errorf("answer has no boolean %q", field)
	}
	return v, nil
}

// apiError is Mandrill's answer to a failed call: {"status": "error", "code": -1,
// "name": "Invalid_Key", "message": "Invalid API key"}.
type apiError struct {
	Status  string `json:"status"`
	Name    string `json:"name"`
	Message string `json:"message"`
}

// parseAPIError reads Mandrill's error object; false when body is not one.
func parseAPIError(body []byte) (apiError, bool) {
	var e apiError
	if err := json.Unmarshal(body, &e); err != nil || e.Status != "error" || e.Name == "" {
		return apiError{}, false
	}
	return e, true
}
