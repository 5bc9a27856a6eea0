package server_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/connectors"
	"github.com/hush-gateway/hush/connectors/generic"
	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/pause"
	"github.com/hush-gateway/hush/gateway/server"
	"github.com/hush-gateway/hush/gateway/server/console"
)

const pauseSecret = "pause-secret-for-tests-0123456789"

// newPauseHarness is the usual harness (real bbolt, real engine) served again with pause
// links configured.
func newPauseHarness(t *testing.T, publicURL string) *harness {
	t.Helper()
	h := newHarness(t, harnessOptions{})
	src, err := connectors.Source(gateway.SourceConfig{Name: "tool", Kind: generic.Kind, Secret: sourceKey, DefaultRegion: "ES"})
	if err != nil {
		t.Fatal(err)
	}
	h.handler = server.NewServer(server.Deps{
		Logger:  slog.New(slog.NewJSONHandler(h.logs, nil)),
		Store:   h.store,
		Engine:  h.engine,
		Sources: map[string]server.Source{"tool": {Name: "tool", Kind: generic.Kind, Connector: src}},
		Tokens: []server.Token{
			{Name: "ops", Token: adminToken, Role: server.RoleAdmin},
			{Name: "lead", Token: viewerToken, Role: server.RoleViewer},
			{Name: "crm", Token: decideToken, Role: server.RoleDecide},
		},
		DefaultRegion: "ES",
		Now:           h.clock.Now,
		Pause:         server.PauseLinks{Secret: []byte(pauseSecret), PublicURL: publicURL},
	})
	h.srv = httptest.NewServer(h.handler)
	t.Cleanup(h.srv.Close)
	return h
}

// customerWith makes a customer through a webhook event, with the locale given ("": none).
func (h *harness) customerWith(email, locale string) string {
	h.t.Helper()
	body := fmt.Sprintf(`{"id":%q,"type":"ticket.opened","at":%q,"customer":{"email":%q,"locale":%q}}`,
		"evt-"+email, testStart.Add(-time.Hour).Format(time.RFC3339), email, locale)
	if res := h.webhook("d-"+email, []byte(body), h.clock.Now(), sourceKey); res.status != http.StatusOK {
		h.t.Fatalf("webhook: %d %s", res.status, res.body)
	}
	var c struct {
		Customer gateway.Customer `json:"customer"`
	}
	res := h.do(http.MethodGet, "/api/v1/customers/"+url.PathEscape("email:"+email), adminToken, nil)
	if res.status != http.StatusOK {
		h.t.Fatalf("customer: %d %s", res.status, res.body)
	}
	res.json(h.t, &c)
	return c.Customer.ID
}

type pauseLink struct {
	URL        string    `json:"url"`
	ExpiresAt  time.Time `json:"expires_at"`
	CustomerID string    `json:"customer_id"`
}

func (h *harness) pauseLink(identity string, body any) pauseLink {
	h.t.Helper()
	res := h.do(http.MethodPost, "/api/v1/customers/"+url.PathEscape(identity)+"/pause-link", adminToken, body)
	if res.status != http.StatusCreated {
		h.t.Fatalf("minting a pause link: %d %s", res.status, res.body)
	}
	var l pauseLink
	res.json(h.t, &l)
	return l
}

// decide asks the decision API about one email recipient in category.
func (h *harness) decide(email string, cat gateway.Category) gateway.Decision {
	h.t.Helper()
	res := h.do(http.MethodPost, "/api/v1/decisions", decideToken, map[string]any{
		"channel": "email", "category": cat, "recipients": []map[string]string{{"email": email}}, "record": false,
	})
	if res.status != http.StatusOK {
		h.t.Fatalf("decision: %d %s", res.status, res.body)
	}
	var out struct{ Decisions []gateway.Decision }
	res.json(h.t, &out)
	if len(out.Decisions) != 1 {
		h.t.Fatalf("decisions: %s", res.body)
	}
	return out.Decisions[0]
}

// customerSilences lists the silences of identity through the admin API.
func (h *harness) customerSilences(identity string, active bool) []gateway.Silence {
	h.t.Helper()
	q := "/api/v1/silences?identity=" + url.QueryEscape(identity)
	if active {
		q += "&active=true"
	}
	res := h.do(http.MethodGet, q, adminToken, nil)
	if res.status != http.StatusOK {
		h.t.Fatalf("silences: %d %s", res.status, res.body)
	}
	var out struct{ Items []gateway.Silence }
	res.json(h.t, &out)
	return out.Items
}

func TestPauseLinkMint(t *testing.T) {
	h := newPauseHarness(t, "https://hush.example.com")
	id := h.customerWith("ana@example.com", "")
	l := h.pauseLink("email:ana@example.com", nil)
	if !strings.HasPrefix(l.URL, "https://hush.example.com/pause/") || l.CustomerID != id {
		t.Errorf("link %+v", l)
	}
	if !l.ExpiresAt.Equal(testStart.Add(30 * 24 * time.Hour)) {
		t.Errorf("expires %v, want the default 30 days", l.ExpiresAt)
	}
	if l7 := h.pauseLink("email:ana@example.com", map[string]string{"ttl": "7d"}); !l7.ExpiresAt.Equal(testStart.Add(7 * 24 * time.Hour)) {
		t.Errorf("ttl 7d: expires %v", l7.ExpiresAt)
	}
	// Without public_url, the link is relative to hush.
	rel := newPauseHarness(t, "")
	rel.customerWith("ana@example.com", "")
	if l := rel.pauseLink("email:ana@example.com", nil); !strings.HasPrefix(l.URL, "/pause/") {
		t.Errorf("relative link %q", l.URL)
	}

	for _, c := range []struct {
		name, identity, token string
		body                  any
		status                int
	}{
		{"unknown customer", "email:nadie@example.com", adminToken, nil, 404},
		{"ttl too long", "email:ana@example.com", adminToken, map[string]string{"ttl": "366d"}, 400},
		{"ttl not a duration", "email:ana@example.com", adminToken, map[string]string{"ttl": "soon"}, 400},
		{"unknown field", "email:ana@example.com", adminToken, map[string]string{"for": "1d"}, 400},
		{"viewer", "email:ana@example.com", viewerToken, nil, 403},
	} {
		res := h.do(http.MethodPost, "/api/v1/customers/"+url.PathEscape(c.identity)+"/pause-link", c.token, c.body)
		if res.status != c.status {
			t.Errorf("%s: %d %s, want %d", c.name, res.status, res.body, c.status)
		}
	}

	// A hush without a secret refuses to mint.
	off := newHarness(t, harnessOptions{})
	off.customerWith("ana@example.com", "")
	if res := off.do(http.MethodPost, "/api/v1/customers/email:ana@example.com/pause-link", adminToken, nil); res.status != 503 {
		t.Errorf("no secret: %d %s, want 503", res.status, res.body)
	}
}

// pageGet reads a pause page with Accept-Language al ("": none).
func (h *harness) pageGet(path, al string) consoleResponse {
	h.t.Helper()
	c := h.consoleAnon(h.t)
	c.acceptLanguage = al
	return c.get(path)
}

func (h *harness) pagePost(path, al string, form url.Values) consoleResponse {
	h.t.Helper()
	c := h.consoleAnon(h.t)
	c.acceptLanguage = al
	return c.post(path, form)
}

func checkPublicPage(t *testing.T, res consoleResponse) {
	t.Helper()
	if csp := res.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q", csp)
	}
	if rp := res.header.Get("Referrer-Policy"); rp != "no-referrer" {
		t.Errorf("Referrer-Policy %q", rp)
	}
	for _, bad := range []string{"<script", "style=", console.MissingMarker(), "/console/signin", "nav-dashboard"} {
		if strings.Contains(res.body, bad) {
			t.Errorf("page holds %q:\n%s", bad, res.body)
		}
	}
}

func TestPausePageLanguage(t *testing.T) {
	h := newPauseHarness(t, "")
	h.customerWith("en@example.com", "en-GB")
	h.customerWith("none@example.com", "")
	h.customerWith("es@example.com", "es")
	for _, c := range []struct {
		email, acceptLanguage, want string
	}{
		{"en@example.com", "es-ES,es;q=0.9", "Pause marketing for 30 days"}, // their locale wins
		{"es@example.com", "en-US", "Pausar la publicidad durante 30 días"},
		{"none@example.com", "en-US,en;q=0.8", "Pause marketing for 30 days"}, // then the browser
		{"none@example.com", "es", "Pausar la publicidad durante 30 días"},
		{"none@example.com", "", "Pausar la publicidad durante 30 días"}, // then the config (es)
	} {
		l := h.pauseLink("email:"+c.email, nil)
		res := h.pageGet(l.URL, c.acceptLanguage)
		if res.status != http.StatusOK || !strings.Contains(res.body, c.want) {
			t.Errorf("%s with %q: %d, want %q in\n%s", c.email, c.acceptLanguage, res.status, c.want, res.body)
		}
		checkPublicPage(t, res)
		if !strings.Contains(res.body, `action="`+l.URL+`"`) {
			t.Errorf("the form does not post to the link")
		}
	}
}

func TestPauseChoose(t *testing.T) {
	h := newPauseHarness(t, "")
	h.customerWith("ana@example.com", "es")
	l := h.pauseLink("email:ana@example.com", nil)
	if d := h.decide("ana@example.com", gateway.CategoryMarketing); !d.Allowed {
		t.Fatalf("before: %+v", d)
	}

	res := h.pagePost(l.URL, "", url.Values{"choice": {"marketing"}, "lang": {"es"}})
	if res.status != http.StatusOK || !strings.Contains(res.body, "No te enviaremos publicidad hasta el 20 dic 2026") {
		t.Fatalf("choosing: %d\n%s", res.status, res.body)
	}
	checkPublicPage(t, res)
	sils := h.customerSilences("email:ana@example.com", true)
	if len(sils) != 1 {
		t.Fatalf("silences after choosing: %+v", sils)
	}
	s := sils[0]
	if s.CreatedBy != server.PauseCreatedBy || s.Source != gateway.SilenceSourceCustomer || !strings.Contains(s.Reason, "pause marketing") ||
		!s.End.Equal(testStart.Add(30*24*time.Hour)) || strings.Join(catStrings(s.Categories), ",") != "marketing,sales" {
		t.Errorf("silence %+v", s)
	}
	d := h.decide("ana@example.com", gateway.CategoryMarketing)
	if d.Allowed || d.Reason != gateway.ReasonSilenced || d.SilenceID != s.ID {
		t.Errorf("marketing after the pause: %+v", d)
	}
	if d := h.decide("ana@example.com", gateway.CategoryTransactional); !d.Allowed {
		t.Errorf("transactional after the pause: %+v", d)
	}

	// Choosing again a day later keeps the same silence and its end.
	h.clock.Set(testStart.Add(24 * time.Hour))
	if res := h.pagePost(l.URL, "", url.Values{"choice": {"marketing"}}); res.status != http.StatusOK {
		t.Fatalf("second post: %d %s", res.status, res.body)
	}
	if again := h.customerSilences("email:ana@example.com", false); len(again) != 1 || again[0].ID != s.ID || !again[0].End.Equal(*s.End) {
		t.Errorf("after choosing twice: %+v", again)
	}
	// The page says the pause is in force.
	if res := h.pageGet(l.URL, ""); !strings.Contains(res.body, `id="pause-current"`) {
		t.Errorf("page without the current pause:\n%s", res.body)
	}

	// "Only essential" replaces it: one silence in force, for a year, surveys too.
	res = h.pagePost(l.URL, "en", url.Values{"choice": {"essential"}, "lang": {"en"}})
	if res.status != http.StatusOK || !strings.Contains(res.body, "we will only send you essential messages") {
		t.Fatalf("essential: %d\n%s", res.status, res.body)
	}
	active := h.customerSilences("email:ana@example.com", true)
	if len(active) != 1 || active[0].ID == s.ID || !strings.Contains(active[0].Reason, "only essential") ||
		!active[0].End.Equal(h.clock.Now().Add(365*24*time.Hour)) {
		t.Fatalf("active after essential: %+v", active)
	}
	if d := h.decide("ana@example.com", gateway.CategorySurvey); d.Allowed {
		t.Errorf("survey after essential: %+v", d)
	}
	for _, cat := range []gateway.Category{gateway.CategoryService, gateway.CategoryIncident, gateway.CategoryTransactional} {
		if d := h.decide("ana@example.com", cat); !d.Allowed {
			t.Errorf("%s after essential: %+v", cat, d)
		}
	}
}

func catStrings(cs []gateway.Category) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = string(c)
	}
	return out
}

// TestPauseCrossCustomer: a link for ana, however it is posted, only ever silences ana.
func TestPauseCrossCustomer(t *testing.T) {
	h := newPauseHarness(t, "")
	h.customerWith("ana@example.com", "")
	h.customerWith("bea@example.com", "")
	la := h.pauseLink("email:ana@example.com", nil)
	lb := h.pauseLink("email:bea@example.com", nil)
	if res := h.pagePost(la.URL, "", url.Values{"choice": {"essential"}, "identity": {"email:bea@example.com"}}); res.status != http.StatusOK {
		t.Fatalf("%d %s", res.status, res.body)
	}
	if got := h.customerSilences("email:bea@example.com", false); len(got) != 0 {
		t.Errorf("bea was silenced by ana's link: %+v", got)
	}
	if d := h.decide("bea@example.com", gateway.CategoryMarketing); !d.Allowed {
		t.Errorf("bea: %+v", d)
	}
	if d := h.decide("ana@example.com", gateway.CategoryMarketing); d.Allowed {
		t.Errorf("ana: %+v", d)
	}
	if la.URL == lb.URL || la.CustomerID == lb.CustomerID {
		t.Errorf("links %+v %+v", la, lb)
	}
}

func TestPauseRefusals(t *testing.T) {
	h := newPauseHarness(t, "")
	h.customerWith("ana@example.com", "en")
	h.customerWith("gone@example.com", "")
	good := h.pauseLink("email:ana@example.com", nil)
	tok := strings.TrimPrefix(good.URL, "/pause/")
	flip := []byte(tok)
	flip[len(flip)/2] ^= 1
	other, err := pause.NewSigner([]byte("another-hush-secret-0123456789"), h.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	foreign, _, err := other.Mint(good.CustomerID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	short := h.pauseLink("email:ana@example.com", map[string]string{"ttl": "1h"})
	gone := h.pauseLink("email:gone@example.com", nil)
	if res := h.do(http.MethodDelete, "/api/v1/customers/email:gone@example.com", adminToken, nil); res.status/100 != 2 {
		t.Fatalf("erasing: %d %s", res.status, res.body)
	}
	h.clock.Set(testStart.Add(2 * time.Hour))

	before := h.counts()
	var texts []string
	for _, c := range []struct {
		name, path string
		status     int
	}{
		{"tampered", "/pause/" + string(flip), 400},
		{"garbage", "/pause/not-a-token", 400},
		{"other hush", "/pause/" + foreign, 400},
		{"expired", short.URL, 410},
		{"erased customer", gone.URL, 404},
	} {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			var res consoleResponse
			if method == http.MethodGet {
				res = h.pageGet(c.path, "es")
			} else {
				res = h.pagePost(c.path, "es", url.Values{"choice": {"marketing"}})
			}
			if res.status != c.status || !strings.Contains(res.body, `id="pause-refused"`) {
				t.Errorf("%s %s: %d, want %d\n%s", method, c.name, res.status, c.status, res.body)
			}
			checkPublicPage(t, res)
			// The refusal is in the browser's language and reads the same whatever failed.
			i := strings.Index(res.body, `id="pause-refused"`)
			texts = append(texts, res.body[i:])
		}
	}
	for _, tx := range texts[1:] {
		if tx != texts[0] {
			t.Errorf("refusals differ:\n%s\n%s", texts[0], tx)
		}
	}
	if !strings.Contains(texts[0], "No podemos usar este enlace") {
		t.Errorf("refusal not in Spanish: %s", texts[0])
	}
	if after := h.counts(); after.silences != before.silences {
		t.Errorf("a refused link changed silences: %+v → %+v", before, after)
	}
	// An unknown choice on a good link changes nothing either.
	if res := h.pagePost(good.URL, "", url.Values{"choice": {"forever"}}); res.status != 400 {
		t.Errorf("unknown choice: %d", res.status)
	}
	if after := h.counts(); after.silences != before.silences {
		t.Errorf("an unknown choice created a silence")
	}
	if strings.Contains(h.logs.String(), tok) {
		t.Error("a pause token is in the logs")
	}
}
