package suppresstest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Mandrill stands in for Mandrill's rejection denylist calls (rejects/list, rejects/add,
// rejects/delete under /api/1.0/, with or without the .json suffix), as documented at
// https://mandrillapp.com/api/docs/rejects.JSON.html:
//
//   - every call is a POST of a JSON object carrying the API key as "key"; a wrong key is
//     answered 500 {"status":"error","code":-1,"name":"Invalid_Key",...}, an unknown
//     subaccount 500 Unknown_Subaccount, a missing email 500 ValidationError, a delete of
//     an address with no reject 500 Invalid_Reject;
//   - rejects live per subaccount ("" is the account's own denylist), each with a reason
//     (hard-bounce, soft-bounce, spam, unsub, custom), a detail (a custom reject's comment),
//     and an expiry: custom rejects never expire, the others after the periods Mailchimp
//     documents (soft bounce 24 hours, hard bounce 7 days, unsubscribe and spam a year);
//   - rejects/list returns rejects that have not expired unless include_expired is true;
//     its email parameter is treated as a prefix (as allowlists/list documents for its own),
//     so a client must compare the addresses it gets back;
//   - rejects/add creates a custom reject with the comment as detail; an address on the
//     allowlist is answered added: false and not rejected (the docs: "will have no
//     effect"); an address already rejected keeps its reject (the docs do not say what
//     Mandrill does then; keeping it is the choice that lets a careless client delete the
//     customer's own reject, so tests catch that client).
//
// hush's scope is the subaccount given to NewMandrill.
type Mandrill struct {
	Counter
	server
	key        string
	subaccount string

	mu          sync.Mutex
	subaccounts map[string]bool
	rejects     map[[2]string]*mandrillReject // {subaccount, lower-case email}
	allowed     map[string]bool               // lower-case email
	now         func() time.Time
}

var _ Standin = (*Mandrill)(nil)

type mandrillReject struct {
	email, reason, detail, subaccount string
	created, expires                  time.Time // expires zero: never
}

// mandrillExpiry is the documented lifetime of a reject by reason; false for custom
// rejects (and unknown reasons), which never expire.
func mandrillExpiry(reason string) (time.Duration, bool) {
	switch reason {
	case "soft-bounce":
		return 24 * time.Hour, true
	case "hard-bounce":
		return 7 * 24 * time.Hour, true
	case "unsub", "spam":
		return 365 * 24 * time.Hour, true
	}
	return 0, false
}

// NewMandrill starts a stand-in that accepts apiKey. subaccount is hush's scope: ""
// for the account's own denylist, or a subaccount id, which then exists. Its URL is the
// host, as the upstream url is configured; the calls go under /api/1.0/.
func NewMandrill(t testing.TB, apiKey, subaccount string) *Mandrill {
	t.Helper()
	m := &Mandrill{
		key:         apiKey,
		subaccount:  subaccount,
		subaccounts: map[string]bool{"": true, subaccount: true},
		rejects:     map[[2]string]*mandrillReject{},
		allowed:     map[string]bool{},
		now:         time.Now,
	}
	m.server = newServerReadingBody(t, http.HandlerFunc(m.serve), func(w http.ResponseWriter) {
		mandrillError(w, http.StatusInternalServerError, -2, "ValidationError", "request body unreadable")
	})
	return m
}

// SeedOwn puts an unsubscribe reject for address in hush's scope, as Mandrill does when
// the recipient unsubscribes.
func (m *Mandrill) SeedOwn(address string) {
	m.Seed(m.subaccount, address, "unsub", "unsubscribed from a message")
}

// Seed puts a reject with reason and detail for address in subaccount ("" the account's
// own; an unknown subaccount is created), expiring as Mandrill's of that reason do.
func (m *Mandrill) Seed(subaccount, address, reason, detail string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.subaccounts[subaccount] = true
	now := m.now()
	r := &mandrillReject{email: address, reason: reason, detail: detail, subaccount: subaccount, created: now}
	if d, ok := mandrillExpiry(reason); ok {
		r.expires = now.Add(d)
	}
	m.rejects[[2]string{subaccount, strings.ToLower(address)}] = r
}

// SeedExpired puts a reject for address in hush's scope that has expired already.
func (m *Mandrill) SeedExpired(address, reason string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	m.rejects[[2]string{m.subaccount, strings.ToLower(address)}] = &mandrillReject{
		email: address, reason: reason, subaccount: m.subaccount,
		created: now.Add(-400 * 24 * time.Hour), expires: now.Add(-time.Hour),
	}
}

// AddSubaccount makes a subaccount exist.
func (m *Mandrill) AddSubaccount(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.subaccounts[id] = true
}

// Allow puts address on the rejection allowlist, which (as in Mandrill) removes its
// rejects and makes later adds do nothing.
func (m *Mandrill) Allow(address string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a := strings.ToLower(address)
	m.allowed[a] = true
	for k := range m.rejects {
		if k[1] == a {
			delete(m.rejects, k)
		}
	}
}

// Reject returns the reason and detail of address's reject in subaccount, expired or not.
func (m *Mandrill) Reject(subaccount, address string) (reason, detail string, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.rejects[[2]string{subaccount, strings.ToLower(address)}]
	if !ok {
		return "", "", false
	}
	return r.reason, r.detail, true
}

// Suppressed reports whether a reject that has not expired blocks address in hush's scope.
func (m *Mandrill) Suppressed(address string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.rejects[[2]string{m.subaccount, strings.ToLower(address)}]
	return r != nil && !m.expired(r)
}

// HushListed reports whether address has a custom reject with hush's comment in hush's
// scope.
func (m *Mandrill) HushListed(address string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.rejects[[2]string{m.subaccount, strings.ToLower(address)}]
	return r != nil && !m.expired(r) && r.reason == "custom" && r.detail == MandrillHushComment
}

// MandrillHushComment is the comment hush's client gives its rejects (mandrill.HushComment;
// repeated here because the client's package imports this one in its tests).
const MandrillHushComment = "hush: silenced"

func (m *Mandrill) expired(r *mandrillReject) bool {
	return !r.expires.IsZero() && !m.now().Before(r.expires)
}

// mandrillCall is the body of a rejects call.
type mandrillCall struct {
	Key            *string `json:"key"`
	Email          *string `json:"email"`
	Comment        *string `json:"comment"`
	IncludeExpired *bool   `json:"include_expired"`
	Subaccount     *string `json:"subaccount"`
}

func (m *Mandrill) serve(w http.ResponseWriter, r *http.Request) {
	method, ok := strings.CutPrefix(r.URL.Path, "/api/1.0/rejects/")
	method = strings.TrimSuffix(method, ".json")
	if !ok || (method != "list" && method != "add" && method != "delete") {
		mandrillError(w, http.StatusNotFound, -1, "Unknown_Method", "no such method")
		return
	}
	if r.Method != http.MethodPost {
		mandrillError(w, http.StatusInternalServerError, -2, "ValidationError", "calls are POSTed")
		return
	}
	var call mandrillCall
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&call); err != nil {
		mandrillError(w, http.StatusInternalServerError, -2, "ValidationError", "You must specify a key value")
		return
	}
	if call.Key == nil || *call.Key != m.key {
		mandrillError(w, http.StatusInternalServerError, -1, "Invalid_Key", "Invalid API key")
		return
	}
	sub := ""
	if call.Subaccount != nil {
		sub = *call.Subaccount
	}
	email := ""
	if call.Email != nil {
		email = strings.TrimSpace(*call.Email)
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.subaccounts[sub] {
		mandrillError(w, http.StatusInternalServerError, 12, "Unknown_Subaccount", fmt.Sprintf("No subaccount exists with the id '%s'", sub))
		return
	}
	switch method {
	case "list":
		m.list(w, sub, email, call.IncludeExpired != nil && *call.IncludeExpired)
	case "add":
		if strings.Count(email, "@") != 1 {
			mandrillError(w, http.StatusInternalServerError, -2, "ValidationError", `Validation error: {"email":"An email address must contain a single @"}`)
			return
		}
		comment := ""
		if call.Comment != nil {
			comment = *call.Comment
		}
		m.add(w, sub, email, comment)
	case "delete":
		if email == "" {
			mandrillError(w, http.StatusInternalServerError, -2, "ValidationError", `Validation error: {"email":"Please enter a value"}`)
			return
		}
		m.delete(w, sub, email)
	}
}

// mandrillTime is Mandrill's UTC time format, "YYYY-MM-DD HH:MM:SS".
const mandrillTime = "2006-01-02 15:04:05"

func (m *Mandrill) list(w http.ResponseWriter, sub, prefix string, includeExpired bool) {
	type entry struct {
		Email       string  `json:"email"`
		Reason      string  `json:"reason"`
		Detail      string  `json:"detail"`
		CreatedAt   string  `json:"created_at"`
		LastEventAt string  `json:"last_event_at"`
		ExpiresAt   *string `json:"expires_at"`
		Expired     bool    `json:"expired"`
		Sender      any     `json:"sender"`
		Subaccount  *string `json:"subaccount"`
	}
	out := []entry{}
	p := strings.ToLower(prefix)
	for k, r := range m.rejects {
		if k[0] != sub || !strings.HasPrefix(k[1], p) {
			continue
		}
		expired := m.expired(r)
		if expired && !includeExpired {
			continue
		}
		e := entry{Email: r.email, Reason: r.reason, Detail: r.detail, Expired: expired,
			CreatedAt: r.created.UTC().Format(mandrillTime), LastEventAt: r.created.UTC().Format(mandrillTime)}
		if !r.expires.IsZero() {
			s := r.expires.UTC().Format(mandrillTime)
			e.ExpiresAt = &s
		}
		if r.subaccount != "" {
			s := r.subaccount
			e.Subaccount = &s
		}
		out = append(out, e)
		if len(out) == 1000 { // the documented maximum
			break
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Email < out[j].Email })
	mandrillJSON(w, out)
	m.Count("contains", prefix)
}

func (m *Mandrill) add(w http.ResponseWriter, sub, email, comment string) {
	k := [2]string{sub, strings.ToLower(email)}
	if m.allowed[k[1]] {
		mandrillJSON(w, map[string]any{"email": email, "added": false})
		m.Count("add", email)
		return
	}
	if r := m.rejects[k]; r == nil || m.expired(r) {
		m.rejects[k] = &mandrillReject{email: email, reason: "custom", detail: comment, subaccount: sub, created: m.now()}
	}
	mandrillJSON(w, map[string]any{"email": email, "added": true})
	m.Count("add", email)
}

func (m *Mandrill) delete(w http.ResponseWriter, sub, email string) {
	k := [2]string{sub, strings.ToLower(email)}
	if m.rejects[k] == nil {
		mandrillError(w, http.StatusInternalServerError, 12, "Invalid_Reject", "Email address is not in the rejection list")
		return
	}
	delete(m.rejects, k)
	var s *string
	if sub != "" {
		s = &sub
	}
	mandrillJSON(w, map[string]any{"email": email, "deleted": true, "subaccount": s})
	m.Count("remove", email)
}

// mandrillError answers as Mandrill answers a failed call (HTTP 500 for all of them).
func mandrillError(w http.ResponseWriter, status, code int, name, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"status": "error", "code": code, "name": name, "message": message})
}

func mandrillJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
