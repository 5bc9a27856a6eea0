package suppresstest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Mailgun stands in for Mailgun's Unsubscribes API of one sending domain
// (https://documentation.mailgun.com/docs/mailgun/api-reference/send/mailgun/unsubscribe/,
// with the requests of github.com/mailgun/mailgun-go/v4's unsubscribes.go):
//
//	GET    /v3/{domain}/unsubscribes/{address}   200 {"address","tags","created_at"}; 404 {"message":"Address not found in unsubscribers table"}
//	POST   /v3/{domain}/unsubscribes             form address, tag (default "*"): adds the tag to the address's record
//	DELETE /v3/{domain}/unsubscribes/{address}   ?tag=t removes that tag only (the record goes with its last tag);
//	                                             without tag, the whole record, every tag with it
//
// Mailgun keeps one record per address holding every tag it is unsubscribed from ("*":
// everything). That is what makes the ownership rule matter: hush's tag shares a record with
// the customer's own unsubscribes, and a DELETE without ?tag would take theirs off too.
//
// Credentials are HTTP basic auth, user "api" and the API key; a wrong one gets 401 with the
// text "Forbidden", as Mailgun answers. Another domain gets 404 {"message":"Domain not found: …"}.
// Tags match case-insensitively (Mailgun's tagging guide: "Tags are case insensitive").
type Mailgun struct {
	Counter
	server
	apiKey string
	domain string
	tag    string // hush's tag

	mu      sync.Mutex
	records map[string]*mailgunRecord // by address as given
}

var _ Standin = (*Mailgun)(nil)

type mailgunRecord struct {
	address   string
	tags      []string
	createdAt time.Time
}

// NewMailgun starts a stand-in for the domain's unsubscribes, accepting apiKey, where hush's
// entries carry tag (the sync option tag, "hush" by default). Its URL stands for Mailgun's
// API base, https://api.mailgun.net.
func NewMailgun(t testing.TB, apiKey, domain, tag string) *Mailgun {
	t.Helper()
	m := &Mailgun{apiKey: apiKey, domain: domain, tag: tag, records: map[string]*mailgunRecord{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v3/{domain}/unsubscribes/{address}", m.get)
	mux.HandleFunc("POST /v3/{domain}/unsubscribes", m.create)
	mux.HandleFunc("DELETE /v3/{domain}/unsubscribes/{address}", m.delete)
	m.server = newServer(t, m.auth(mux))
	return m
}

// SeedOwn unsubscribes address from everything ("*"), as the customer's click on
// %unsubscribe_url% does.
func (m *Mailgun) SeedOwn(address string) { m.SeedTag(address, "*") }

// SeedTag unsubscribes address from one tag as the customer's own doing (a click on
// %tag_unsubscribe_url% in a message tagged newsletter).
func (m *Mailgun) SeedTag(address, tag string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.addTag(address, tag)
}

// Tags returns the tags address is unsubscribed from, in the order they were added.
func (m *Mailgun) Tags(address string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r := m.records[address]; r != nil {
		return slices.Clone(r.tags)
	}
	return nil
}

// Suppressed reports whether Mailgun would refuse a message tagged with hush's tag to
// address: it is unsubscribed from everything or from that tag.
func (m *Mailgun) Suppressed(address string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.records[address]
	return r != nil && (hasTag(r.tags, "*") || hasTag(r.tags, m.tag))
}

// HushListed reports whether address is unsubscribed from hush's tag.
func (m *Mailgun) HushListed(address string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.records[address]
	return r != nil && hasTag(r.tags, m.tag)
}

func hasTag(tags []string, tag string) bool {
	return slices.ContainsFunc(tags, func(t string) bool { return strings.EqualFold(t, tag) })
}

// addTag adds tag to address's record, making the record when there is none. m.mu is held.
func (m *Mailgun) addTag(address, tag string) {
	r := m.records[address]
	if r == nil {
		r = &mailgunRecord{address: address, createdAt: time.Now().UTC()}
		m.records[address] = r
	}
	if !hasTag(r.tags, tag) {
		r.tags = append(r.tags, tag)
	}
}

func (m *Mailgun) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, key, ok := r.BasicAuth()
		if !ok || user != "api" || key != m.apiKey {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte("Forbidden"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (m *Mailgun) knownDomain(w http.ResponseWriter, r *http.Request) bool {
	if d := r.PathValue("domain"); d != m.domain {
		writeMailgun(w, http.StatusNotFound, map[string]any{"message": "Domain not found: " + d})
		return false
	}
	return true
}

func (m *Mailgun) get(w http.ResponseWriter, r *http.Request) {
	if !m.knownDomain(w, r) {
		return
	}
	address := r.PathValue("address")
	m.mu.Lock()
	rec := m.records[address]
	var answer map[string]any
	if rec != nil {
		answer = map[string]any{
			"address":    rec.address,
			"tags":       slices.Clone(rec.tags),
			"created_at": rec.createdAt.Format("Mon, 02 Jan 2006 15:04:05 MST"),
		}
	}
	m.mu.Unlock()
	if answer == nil {
		writeMailgun(w, http.StatusNotFound, map[string]any{"message": "Address not found in unsubscribers table"})
		return
	}
	m.Count("contains", address)
	writeMailgun(w, http.StatusOK, answer)
}

func (m *Mailgun) create(w http.ResponseWriter, r *http.Request) {
	if !m.knownDomain(w, r) {
		return
	}
	// Mailgun takes one record as form data (urlencoded or multipart), or a JSON list of
	// records; hush sends the form.
	if err := r.ParseMultipartForm(1 << 20); err != nil && err != http.ErrNotMultipart {
		writeMailgun(w, http.StatusBadRequest, map[string]any{"message": "Invalid form data"})
		return
	}
	address := r.PostForm.Get("address")
	if !plausibleAddress(address) {
		// Mailgun repeats the value it refuses.
		writeMailgun(w, http.StatusBadRequest, map[string]any{"message": "Invalid format for parameter address: " + address})
		return
	}
	tag := r.PostForm.Get("tag")
	if tag == "" {
		tag = "*" // the documented default: unsubscribed from everything
	}
	m.mu.Lock()
	m.addTag(address, tag)
	m.mu.Unlock()
	m.Count("add", address)
	writeMailgun(w, http.StatusOK, map[string]any{"message": "Address has been added to the unsubscribes table", "address": address})
}

func (m *Mailgun) delete(w http.ResponseWriter, r *http.Request) {
	if !m.knownDomain(w, r) {
		return
	}
	address := r.PathValue("address")
	// Only the query string: the form of a DELETE is not read.
	tag, withTag := r.URL.Query()["tag"]
	m.mu.Lock()
	rec := m.records[address]
	status, message := http.StatusOK, "Unsubscribe event has been removed"
	switch {
	case rec == nil:
		status, message = http.StatusNotFound, "Address not found in unsubscribers table"
	case !withTag || len(tag) == 0 || tag[0] == "":
		delete(m.records, address)
	case !hasTag(rec.tags, tag[0]):
		status, message = http.StatusNotFound, "Unsubscribe event for this tag does not exist"
	default:
		rec.tags = slices.DeleteFunc(rec.tags, func(t string) bool { return strings.EqualFold(t, tag[0]) })
		if len(rec.tags) == 0 {
			delete(m.records, address)
		}
	}
	m.mu.Unlock()
	if status != http.StatusOK {
		writeMailgun(w, status, map[string]any{"message": message})
		return
	}
	m.Count("remove", address)
	writeMailgun(w, http.StatusOK, map[string]any{"message": message, "address": address})
}

// plausibleAddress is the stand-in's check of an address: a local part and a domain, no
// spaces or control characters.
func plausibleAddress(a string) bool {
	at := strings.LastIndexByte(a, '@')
	if at <= 0 || at == len(a)-1 {
		return false
	}
	return !strings.ContainsFunc(a, func(r rune) bool { return r <= ' ' || r == 0x7f })
}

func writeMailgun(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
