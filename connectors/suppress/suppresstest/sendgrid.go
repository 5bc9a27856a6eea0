package suppresstest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// SendGrid stands in for SendGrid's v3 suppressions API: unsubscribe groups (ASM) with their
// suppressions, and the account's global unsubscribes. It serves what hush's client calls
// (https://www.twilio.com/docs/sendgrid/api-reference/suppressions-suppressions):
//
//	GET    /v3/asm/groups/{group_id}                      → 200 the group, 404 when unknown
//	POST   /v3/asm/groups/{group_id}/suppressions/search  {"recipient_emails":[…]} → 200 [those in the group]
//	POST   /v3/asm/groups/{group_id}/suppressions         {"recipient_emails":[…]} → 201 {"recipient_emails":[…]}
//	DELETE /v3/asm/groups/{group_id}/suppressions/{email} → 204
//
// Like SendGrid, it keeps no mark on a group suppression (hush's entry and the recipient's
// own unsubscribe look the same to a client), and an add to a group that does not exist
// lands on the global unsubscribe list, as SendGrid documents. A DELETE takes the address
// out of the group only: a global unsubscribe of the same address stays. Addresses are
// compared without regard to letter case.
//
// Not documented by SendGrid, so chosen here: a search in an unknown group answers 404, and
// a DELETE of an address not in the group answers 404 (hush's client takes either 204 or
// 404 as done); the 404 and 400 messages are made up, in SendGrid's error shape.
type SendGrid struct {
	Counter
	server
	apiKey  string
	groupID int // the group hush is configured with: Suppressed and HushListed look there

	mu     sync.Mutex
	groups map[int]map[string]sgEntry // group id → lower-cased address → entry
	global map[string]string          // lower-cased address → address
}

// sgEntry is one group suppression. byAPI records, for tests only, that it came through the
// API (hush's client) rather than SeedOwn; SendGrid itself keeps no such mark.
type sgEntry struct {
	address string
	byAPI   bool
}

var _ Standin = (*SendGrid)(nil)

// NewSendGrid starts a stand-in that accepts apiKey (as Authorization: Bearer) and has one
// unsubscribe group, groupID: the group hush is configured with.
func NewSendGrid(t testing.TB, apiKey string, groupID int) *SendGrid {
	t.Helper()
	s := &SendGrid{
		apiKey:  apiKey,
		groupID: groupID,
		groups:  map[int]map[string]sgEntry{groupID: {}},
		global:  map[string]string{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v3/asm/groups/{group_id}", s.getGroup)
	mux.HandleFunc("POST /v3/asm/groups/{group_id}/suppressions/search", s.withRecipients(s.search))
	mux.HandleFunc("POST /v3/asm/groups/{group_id}/suppressions", s.withRecipients(s.add))
	mux.HandleFunc("DELETE /v3/asm/groups/{group_id}/suppressions/{email}", s.remove)
	s.server = newServerReadingBody(t, s.authorized(mux), func(w http.ResponseWriter) {
		sgError(w, http.StatusBadRequest, nil, "request body could not be read")
	})
	return s
}

// SeedOwn puts address in hush's group as the recipient's own unsubscribe from that group:
// the case SendGrid cannot tell from hush's entry.
func (s *SendGrid) SeedOwn(address string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[s.groupID][sgKey(address)] = sgEntry{address: address}
}

// SeedGlobal puts address on the global unsubscribe list, the recipient's own doing.
func (s *SendGrid) SeedGlobal(address string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.global[sgKey(address)] = address
}

// AddGroup creates another unsubscribe group (the account's others, which hush must not
// touch).
func (s *SendGrid) AddGroup(id int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.groups[id] == nil {
		s.groups[id] = map[string]sgEntry{}
	}
}

// Suppressed reports whether SendGrid would now skip address in a send naming hush's group:
// it is in the group or globally unsubscribed.
func (s *SendGrid) Suppressed(address string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, inGroup := s.groups[s.groupID][sgKey(address)]
	_, global := s.global[sgKey(address)]
	return inGroup || global
}

// HushListed reports whether address is in hush's group by an add through the API.
func (s *SendGrid) HushListed(address string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.groups[s.groupID][sgKey(address)]
	return ok && e.byAPI
}

// InGroup reports whether address is in group id, whoever put it there.
func (s *SendGrid) InGroup(id int, address string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.groups[id][sgKey(address)]
	return ok
}

// GloballyUnsubscribed reports whether address is on the global unsubscribe list.
func (s *SendGrid) GloballyUnsubscribed(address string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.global[sgKey(address)]
	return ok
}

func sgKey(address string) string { return strings.ToLower(strings.TrimSpace(address)) }

// authorized answers 401 in SendGrid's shape unless the request carries the API key.
func (s *SendGrid) authorized(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+s.apiKey {
			sgError(w, http.StatusUnauthorized, nil, "authorization required")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// group is the request's group id and whether the group exists. Called with s.mu held.
func (s *SendGrid) group(r *http.Request) (int, bool) {
	id, err := strconv.Atoi(r.PathValue("group_id"))
	if err != nil {
		return 0, false
	}
	_, ok := s.groups[id]
	return id, ok
}

// knownGroup is the request's group id, or false after answering 404 when the group does
// not exist. Called with s.mu held.
func (s *SendGrid) knownGroup(w http.ResponseWriter, r *http.Request) (int, bool) {
	id, ok := s.group(r)
	if !ok {
		sgError(w, http.StatusNotFound, nil, "resource not found")
	}
	return id, ok
}

func (s *SendGrid) getGroup(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.knownGroup(w, r)
	if !ok {
		return
	}
	sgWriteJSON(w, http.StatusOK, map[string]any{
		"id": id, "name": "Group " + strconv.Itoa(id), "description": "stand-in group",
		"is_default": false, "last_email_sent_at": nil, "unsubscribes": len(s.groups[id]),
	})
}

// sgReadRecipients reads {"recipient_emails":[…]}, answering 400 when it is not that.
func sgReadRecipients(w http.ResponseWriter, r *http.Request) ([]string, bool) {
	var body struct {
		RecipientEmails []string `json:"recipient_emails"`
	}
	field := "recipient_emails"
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		sgError(w, http.StatusBadRequest, nil, "content type must be application/json")
		return nil, false
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		sgError(w, http.StatusBadRequest, &field, "must be an array of email addresses")
		return nil, false
	}
	if len(body.RecipientEmails) == 0 {
		sgError(w, http.StatusBadRequest, &field, "is required")
		return nil, false
	}
	for _, a := range body.RecipientEmails {
		if !strings.Contains(a, "@") {
			sgError(w, http.StatusBadRequest, &field, "contains an invalid email")
			return nil, false
		}
	}
	return body.RecipientEmails, true
}

// withRecipients serves a call whose body is {"recipient_emails":[…]}: serve gets the
// addresses, the request's group id and whether that group exists, with s.mu held.
func (s *SendGrid) withRecipients(serve func(w http.ResponseWriter, id int, known bool, addrs []string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		addrs, ok := sgReadRecipients(w, r)
		if !ok {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		id, known := s.group(r)
		serve(w, id, known, addrs)
	}
}

func (s *SendGrid) search(w http.ResponseWriter, id int, known bool, addrs []string) {
	if !known {
		sgError(w, http.StatusNotFound, nil, "resource not found")
		return
	}
	found := []string{}
	for _, a := range addrs {
		if e, ok := s.groups[id][sgKey(a)]; ok {
			found = append(found, e.address)
		}
		s.Count("contains", a)
	}
	sgWriteJSON(w, http.StatusOK, found)
}

func (s *SendGrid) add(w http.ResponseWriter, id int, known bool, addrs []string) {
	for _, a := range addrs {
		switch _, there := s.groups[id][sgKey(a)]; {
		case !known:
			// "If you attempt to add suppressions to a group that has been deleted or does
			// not exist, the suppressions will be added to the global suppressions list."
			s.global[sgKey(a)] = a
		case !there:
			s.groups[id][sgKey(a)] = sgEntry{address: a, byAPI: true}
		}
		s.Count("add", a)
	}
	sgWriteJSON(w, http.StatusCreated, map[string][]string{"recipient_emails": addrs})
}

func (s *SendGrid) remove(w http.ResponseWriter, r *http.Request) {
	addr := r.PathValue("email")
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.knownGroup(w, r)
	if !ok {
		return
	}
	if _, there := s.groups[id][sgKey(addr)]; !there {
		sgError(w, http.StatusNotFound, nil, "resource not found")
		return
	}
	delete(s.groups[id], sgKey(addr))
	s.Count("remove", addr)
	w.WriteHeader(http.StatusNoContent)
}

// sgError writes SendGrid's error shape: {"errors":[{"field":…,"message":…}]}.
func sgError(w http.ResponseWriter, status int, field *string, message string) {
	sgWriteJSON(w, status, map[string]any{"errors": []map[string]any{{"field": field, "message": message}}})
}

func sgWriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client going away is not the stand-in's problem
}
