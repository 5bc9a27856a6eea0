package suppresstest

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// Postmark is a stand-in for Postmark's Suppressions API
// (https://postmarkapp.com/developer/api/suppressions-api): per-stream suppressions with a
// reason (HardBounce, SpamComplaint, ManualSuppression) and an origin (Recipient, Customer,
// Admin), the dump, create and delete endpoints, the X-Postmark-Server-Token check, and
// Postmark's error shape {"ErrorCode": n, "Message": "..."}.
//
// What it emulates that makes the ownership rules matter:
//   - the API create makes a ManualSuppression with origin Customer (hush's kind);
//   - a recipient's unsubscribe is a ManualSuppression with origin Recipient (SeedOwn), a bounce
//     a HardBounce with origin Recipient (SeedBounce): both can be deleted through the API, so
//     only the client's own restraint keeps them;
//   - a SpamComplaint cannot be deleted or changed: create and delete answer Failed for it.
//
// Create of an address that already has an entry answers Suppressed and keeps the entry as it
// was (its reason and origin do not become the API's). An address is matched ignoring case.
type Postmark struct {
	Counter
	server
	token  string
	stream string // the stream the seeding helpers and HushListed/Suppressed look at

	mu      sync.Mutex
	streams map[string]map[string]postmarkEntry // stream id → lower-cased address → entry
}

type postmarkEntry struct {
	EmailAddress      string
	SuppressionReason string
	Origin            string
	CreatedAt         string
}

var _ Standin = (*Postmark)(nil)

// Postmark's error codes the stand-in answers with.
const (
	postmarkBadToken       = 10
	postmarkUnknownStream  = 1226
	postmarkBadBody        = 1409
	postmarkTooManyEntries = 1410
)

// postmarkMaxEntries is Postmark's limit of addresses per create or delete request.
const postmarkMaxEntries = 50

// NewPostmark starts a stand-in for one Postmark server whose server token is token, with the
// message streams "outbound", "broadcast" and stream (the one the seeding helpers use).
// Requests for any other stream are answered as Postmark answers an unknown stream.
func NewPostmark(t testing.TB, token, stream string) *Postmark {
	t.Helper()
	p := &Postmark{token: token, stream: stream,
		streams: map[string]map[string]postmarkEntry{"outbound": {}, "broadcast": {}, stream: {}}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /message-streams/{stream}/suppressions/dump", p.serveDump)
	mux.HandleFunc("POST /message-streams/{stream}/suppressions", p.serveCreate)
	mux.HandleFunc("POST /message-streams/{stream}/suppressions/delete", p.serveDelete)
	p.server = newServer(t, p.authenticate(mux))
	return p
}

// SeedOwn suppresses address on the stream as the recipient's own unsubscribe
// (ManualSuppression, origin Recipient).
func (p *Postmark) SeedOwn(address string) { p.seed(address, "ManualSuppression", "Recipient") }

// SeedBounce suppresses address on the stream after a hard bounce (HardBounce, origin
// Recipient).
func (p *Postmark) SeedBounce(address string) { p.seed(address, "HardBounce", "Recipient") }

// SeedSpamComplaint suppresses address on the stream after a spam complaint (SpamComplaint,
// origin Recipient), which Postmark never lets the API change.
func (p *Postmark) SeedSpamComplaint(address string) {
	p.seed(address, "SpamComplaint", "Recipient")
}

func (p *Postmark) seed(address, reason, origin string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.streams[p.stream][strings.ToLower(address)] = postmarkEntry{EmailAddress: address,
		SuppressionReason: reason, Origin: origin, CreatedAt: postmarkTime()}
}

// Suppressed reports whether address has any suppression on the stream.
func (p *Postmark) Suppressed(address string) bool {
	_, _, ok := p.Entry(address)
	return ok
}

// HushListed reports whether address has a suppression made through the API (origin
// Customer) on the stream.
func (p *Postmark) HushListed(address string) bool {
	_, origin, ok := p.Entry(address)
	return ok && origin == "Customer"
}

// Entry is address's suppression on the stream: its reason and origin.
func (p *Postmark) Entry(address string) (reason, origin string, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.streams[p.stream][strings.ToLower(address)]
	return e.SuppressionReason, e.Origin, ok
}

// authenticate answers 401 with Postmark's ErrorCode 10 unless the server token is right.
func (p *Postmark) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := r.Header.Get("X-Postmark-Server-Token")
		switch {
		case got == "":
			postmarkError(w, http.StatusUnauthorized, postmarkBadToken,
				"No Account or Server API tokens were supplied in the HTTP headers. Please add a header for either X-Postmark-Server-Token or X-Postmark-Account-Token.")
		case got != p.token:
			postmarkError(w, http.StatusUnauthorized, postmarkBadToken,
				"The Server Token you provided in the X-Postmark-Server-Token request header was invalid. Please verify that you are using a valid token.")
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// entries is the stream's suppressions, or nil (after answering 422) for an unknown stream.
// Called with p.mu held.
func (p *Postmark) entries(w http.ResponseWriter, r *http.Request) map[string]postmarkEntry {
	m, ok := p.streams[r.PathValue("stream")]
	if !ok {
		postmarkError(w, http.StatusUnprocessableEntity, postmarkUnknownStream,
			"The message stream for the provided 'ID' was not found.")
		return nil
	}
	return m
}

func (p *Postmark) serveDump(w http.ResponseWriter, r *http.Request) {
	// Postmark reads query keys ignoring case (its SDKs send EmailAddress and emailAddress).
	var filter string
	for k, v := range r.URL.Query() {
		if strings.EqualFold(k, "EmailAddress") && len(v) > 0 {
			filter = v[0]
		}
	}
	p.mu.Lock()
	m := p.entries(w, r)
	if m == nil {
		p.mu.Unlock()
		return
	}
	list := []postmarkEntry{}
	for key, e := range m {
		if filter == "" || key == strings.ToLower(filter) {
			list = append(list, e)
		}
	}
	p.mu.Unlock()
	if filter != "" {
		p.Count("contains", filter)
	}
	postmarkJSON(w, http.StatusOK, map[string]any{"Suppressions": list})
}

type postmarkStatus struct {
	EmailAddress string
	Status       string
	Message      *string
}

func (p *Postmark) serveCreate(w http.ResponseWriter, r *http.Request) {
	p.change(w, r, "add", func(m map[string]postmarkEntry, addr string) (string, string) {
		e, ok := m[strings.ToLower(addr)]
		switch {
		case ok && e.SuppressionReason == "SpamComplaint":
			return "Failed", postmarkNoAuthority
		case !ok:
			m[strings.ToLower(addr)] = postmarkEntry{EmailAddress: addr,
				SuppressionReason: "ManualSuppression", Origin: "Customer", CreatedAt: postmarkTime()}
		}
		return "Suppressed", ""
	})
}

func (p *Postmark) serveDelete(w http.ResponseWriter, r *http.Request) {
	p.change(w, r, "remove", func(m map[string]postmarkEntry, addr string) (string, string) {
		e, ok := m[strings.ToLower(addr)]
		if ok && e.SuppressionReason == "SpamComplaint" {
			return "Failed", postmarkNoAuthority
		}
		// Postmark answers Deleted for an address that was not suppressed as well.
		delete(m, strings.ToLower(addr))
		return "Deleted", ""
	})
}

const postmarkNoAuthority = "You do not have the required authority to change this suppression."

// change serves a create or delete: the body {"Suppressions":[{"EmailAddress"}]} (at most 50),
// one status per address in request order. Invalid addresses fail without touching the list.
// Addresses the change succeeded for are counted under op.
func (p *Postmark) change(w http.ResponseWriter, r *http.Request, op string,
	apply func(m map[string]postmarkEntry, addr string) (status, message string)) {
	var req struct {
		Suppressions []struct{ EmailAddress string }
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil || req.Suppressions == nil {
		postmarkError(w, http.StatusUnprocessableEntity, postmarkBadBody, "A proper request body must be provided.")
		return
	}
	if len(req.Suppressions) > postmarkMaxEntries {
		postmarkError(w, http.StatusUnprocessableEntity, postmarkTooManyEntries,
			"You cannot provide more than the maximum number of suppressions for this request.")
		return
	}
	p.mu.Lock()
	m := p.entries(w, r)
	if m == nil {
		p.mu.Unlock()
		return
	}
	out := make([]postmarkStatus, 0, len(req.Suppressions))
	var done []string
	for _, s := range req.Suppressions {
		st := postmarkStatus{EmailAddress: s.EmailAddress}
		var msg string
		if !postmarkValidAddress(s.EmailAddress) {
			st.Status, msg = "Failed", "An invalid email address was provided."
		} else {
			st.Status, msg = apply(m, s.EmailAddress)
		}
		if msg != "" {
			st.Message = &msg
		} else {
			done = append(done, s.EmailAddress)
		}
		out = append(out, st)
	}
	p.mu.Unlock()
	for _, addr := range done {
		p.Count(op, addr)
	}
	postmarkJSON(w, http.StatusOK, map[string]any{"Suppressions": out})
}

// postmarkValidAddress approximates Postmark's address check: one "@" with text on both
// sides, a dot in the domain, no spaces.
func postmarkValidAddress(a string) bool {
	local, domain, ok := strings.Cut(a, "@")
	return ok && local != "" && strings.Contains(domain, ".") && !strings.Contains(domain, "@") &&
		!strings.ContainsAny(a, " \t\r\n") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

func postmarkError(w http.ResponseWriter, status, code int, msg string) {
	postmarkJSON(w, status, map[string]any{"ErrorCode": code, "Message": msg})
}

// postmarkTime is a CreatedAt as Postmark writes it (2019-12-17T08:58:33-05:00).
func postmarkTime() string { return time.Now().Format(time.RFC3339) }

func postmarkJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
