package server_test

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/server"
	"github.com/hush-gateway/hush/gateway/server/console"
)

// setCookie returns the Set-Cookie line of the response for cookie name ("" when none).
func setCookie(res consoleResponse, name string) string {
	for _, line := range res.header.Values("Set-Cookie") {
		if strings.HasPrefix(line, name+"=") {
			return line
		}
	}
	return ""
}

func TestConsoleSignIn(t *testing.T) {
	h := newHarness(t, harnessOptions{})

	t.Run("admin", func(t *testing.T) {
		c := h.consoleAnon(t)
		res := c.signin(adminToken, "")
		if res.status != http.StatusSeeOther || res.location() != "/console/" {
			t.Fatalf("sign-in: %d %q", res.status, res.location())
		}
		ck := setCookie(res, console.SessionCookie)
		for _, want := range []string{"HttpOnly", "SameSite=Strict", "Path=/", "Expires=", "Max-Age="} {
			if !strings.Contains(ck, want) {
				t.Errorf("session cookie %q lacks %s", ck, want)
			}
		}
		if strings.Contains(ck, "Secure") {
			t.Errorf("plain-HTTP session cookie is marked Secure (the browser would drop it): %q", ck)
		}
		if strings.Contains(ck, adminToken) {
			t.Errorf("the session cookie carries the token: %q", ck)
		}
		page := c.get("/console/")
		if page.status != http.StatusOK || !strings.Contains(page.body, `id="signout"`) {
			t.Fatalf("dashboard after sign-in: %d %s", page.status, page.body)
		}
	})

	t.Run("viewer", func(t *testing.T) {
		c := h.console(t, viewerToken)
		if res := c.get("/console/rules"); res.status != http.StatusOK {
			t.Fatalf("viewer's rules page: %d", res.status)
		}
	})

	refusals := []struct {
		name, token string
		status      int
		message     string // English, the client sends Accept-Language: en
	}{
		{"wrong token", "not-a-token-at-all", http.StatusUnauthorized, "That token is not valid."},
		{"decide token", decideToken, http.StatusForbidden, "That token is for the decision API"},
		{"no token", "", http.StatusBadRequest, "Enter your token."},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			c := h.consoleAnon(t)
			c.acceptLanguage = "en"
			res := c.signin(tt.token, "")
			if res.status != tt.status || !strings.Contains(res.body, tt.message) {
				t.Fatalf("status %d, want %d with %q: %s", res.status, tt.status, tt.message, res.body)
			}
			if setCookie(res, console.SessionCookie) != "" || c.cookie(console.SessionCookie) != "" {
				t.Error("a refused sign-in set a session")
			}
			if tt.token != "" && strings.Contains(res.body, tt.token) {
				t.Error("the refusal echoes the token")
			}
			if !strings.Contains(res.body, `id="signin-form"`) {
				t.Error("the refusal does not offer the form again")
			}
			if c.get("/console/").status != http.StatusSeeOther {
				t.Error("the console opened after a refused sign-in")
			}
		})
	}
	if logs := h.logs.String(); strings.Contains(logs, "not-a-token-at-all") || strings.Contains(logs, decideToken) || strings.Contains(logs, adminToken) {
		t.Errorf("a token reached the logs: %s", logs)
	}

	// Login CSRF: a sign-in post must come from the form this browser was given.
	t.Run("no sign-in nonce", func(t *testing.T) {
		c := h.consoleAnon(t) // never read the form: no nonce cookie
		res := c.post("/console/signin", url.Values{"token": {adminToken}, "csrf": {"made-up"}})
		if res.status != http.StatusForbidden || c.cookie(console.SessionCookie) != "" {
			t.Fatalf("sign-in without the form's nonce: %d, session %q", res.status, c.cookie(console.SessionCookie))
		}
	})
	t.Run("another form's nonce", func(t *testing.T) {
		attacker := h.consoleAnon(t)
		attacker.get("/console/signin")
		victim := h.consoleAnon(t)
		victim.get("/console/signin")
		res := victim.post("/console/signin", url.Values{"token": {adminToken}, "csrf": {attacker.csrf}})
		if res.status != http.StatusForbidden || victim.cookie(console.SessionCookie) != "" {
			t.Fatalf("sign-in with another browser's nonce: %d", res.status)
		}
	})
}

func TestConsoleSignInComesBackOnlyToLocalPaths(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	// A page without a session sends to sign-in, and sign-in comes back to it.
	c := h.consoleAnon(t)
	res := c.get("/console/rules?x=1")
	if res.status != http.StatusSeeOther || res.location() != "/console/signin?next=%2Fconsole%2Frules%3Fx%3D1" {
		t.Fatalf("page without a session: %d %q", res.status, res.location())
	}
	res = c.signin(adminToken, "/console/rules?x=1")
	if res.status != http.StatusSeeOther || res.location() != "/console/rules?x=1" {
		t.Fatalf("after sign-in: %d %q", res.status, res.location())
	}

	for _, next := range []string{
		"//evil.example/", "/\\evil.example", "/\\/evil.example", "https://evil.example/", "http:evil.example",
		"javascript:alert(1)", "evil.example", "/\t/evil.example", "\\\\evil.example",
	} {
		t.Run(next, func(t *testing.T) {
			c := h.consoleAnon(t)
			res := c.signin(adminToken, next)
			if res.status != http.StatusSeeOther || res.location() != "/console/" {
				t.Fatalf("next=%q: %d to %q, want /console/", next, res.status, res.location())
			}
			// The language switch refuses the same.
			res = c.get("/console/lang?to=en&back=" + url.QueryEscape(next))
			if res.status != http.StatusSeeOther || res.location() != "/console/" {
				t.Fatalf("back=%q: %d to %q, want /console/", next, res.status, res.location())
			}
		})
	}
}

func TestConsoleSessionCookieIsSecureOverTLS(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	srv := httptest.NewTLSServer(h.handler)
	t.Cleanup(srv.Close)
	tlsHarness := *h
	tlsHarness.srv = srv
	c := tlsHarness.consoleAnon(t)
	c.client.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} // the test server's own certificate
	form := c.get("/console/signin")
	if !strings.Contains(setCookie(form, "hush_signin"), "Secure") {
		t.Errorf("sign-in nonce cookie over TLS is not Secure: %q", setCookie(form, "hush_signin"))
	}
	res := c.post("/console/signin", url.Values{"token": {adminToken}})
	if ck := setCookie(res, console.SessionCookie); res.status != http.StatusSeeOther || !strings.Contains(ck, "Secure") {
		t.Fatalf("session over TLS: %d %q", res.status, ck)
	}
}

func TestConsoleSessionEndsWithItsTimeAndItsToken(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	c := h.console(t, adminToken)
	if res := c.get("/console/"); res.status != http.StatusOK {
		t.Fatalf("dashboard: %d", res.status)
	}
	h.clock.Set(testStart.Add(13 * time.Hour)) // sessions last 12 hours
	if res := c.get("/console/"); res.status != http.StatusSeeOther || !strings.HasPrefix(res.location(), "/console/signin") {
		t.Fatalf("an expired session still opens the console: %d", res.status)
	}

	// A token removed from the configuration ends its sessions: same store, new server.
	h.clock.Set(testStart)
	c = h.console(t, viewerToken)
	cookie := c.cookie(console.SessionCookie)
	srv := httptest.NewServer(server.NewServer(server.Deps{
		Logger: slog.New(slog.DiscardHandler), Store: h.store, Engine: h.engine,
		Tokens: []server.Token{{Name: "ops", Token: adminToken, Role: server.RoleAdmin}},
		Now:    h.clock.Now,
	}))
	t.Cleanup(srv.Close)
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/console/", nil)
	req.AddCookie(&http.Cookie{Name: console.SessionCookie, Value: cookie})
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("a removed token's session still opens the console: %d", resp.StatusCode)
	}
}

func TestConsoleSignOut(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	c := h.console(t, adminToken)
	c.get("/console/")
	// A forged or missing CSRF token changes nothing.
	for _, forged := range []string{"", "forged"} {
		res := c.post("/console/signout", url.Values{"csrf": {forged}})
		if res.status != http.StatusForbidden || setCookie(res, console.SessionCookie) != "" {
			t.Fatalf("sign-out with csrf %q: %d %q", forged, res.status, setCookie(res, console.SessionCookie))
		}
	}
	if res := c.get("/console/"); res.status != http.StatusOK {
		t.Fatalf("still signed in after refused sign-outs: %d", res.status)
	}
	c.acceptLanguage = "en"
	res := c.post("/console/signout", nil)
	if res.status != http.StatusSeeOther || res.location() != "/console/signin?done=signedout" {
		t.Fatalf("sign-out: %d %q", res.status, res.location())
	}
	if ck := setCookie(res, console.SessionCookie); !strings.Contains(ck, "Max-Age=0") {
		t.Errorf("sign-out does not clear the cookie: %q", ck)
	}
	if page := c.get(res.location()); !strings.Contains(page.body, "You have signed out.") {
		t.Errorf("no notice after sign-out: %s", page.body)
	}
	if res := c.get("/console/"); res.status != http.StatusSeeOther {
		t.Fatalf("the console still opens after sign-out: %d", res.status)
	}
}

// The action middleware refuses a post without the session's CSRF token (or from a viewer,
// or from another origin) before the page's handler runs: nothing is created.
func TestConsoleActionsRefuseWithoutCSRF(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	admin := h.console(t, adminToken)
	admin.acceptLanguage = "en"
	admin.get("/console/")
	form := url.Values{"title": {"Outage"}, "scope": {"all"}}
	for _, forged := range []string{"", "forged", admin.csrf + "x"} {
		f := cloneValues(form)
		f.Set("csrf", forged)
		res := admin.post("/console/incidents", f)
		if res.status != http.StatusForbidden || !strings.Contains(res.body, "The form expired or did not come from this console") {
			t.Errorf("csrf %q: %d %s", forged, res.status, res.body)
		}
	}
	// Another session's token does not do either.
	other := h.console(t, adminToken)
	other.get("/console/")
	f := cloneValues(form)
	f.Set("csrf", other.csrf)
	if res := admin.post("/console/incidents", f); res.status != http.StatusForbidden {
		t.Errorf("another session's csrf: %d", res.status)
	}
	// A viewer with a valid token is refused for its role.
	viewer := h.console(t, viewerToken)
	viewer.acceptLanguage = "en"
	viewer.get("/console/")
	if res := viewer.post("/console/incidents", form); res.status != http.StatusForbidden || !strings.Contains(res.body, "Your token may only read.") {
		t.Errorf("viewer: %d %s", res.status, res.body)
	}
	// A cross-site post with the right token is refused by the browser's own word.
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/console/incidents", strings.NewReader(withCSRF(form, admin.csrf).Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	if res := admin.send(req); res.status != http.StatusForbidden {
		t.Errorf("cross-origin post: %d", res.status)
	}
	if c := h.counts(); c.incidents != 0 {
		t.Fatalf("a refused post opened %d incidents", c.incidents)
	}
	res := h.do(http.MethodGet, "/api/v1/incidents", adminToken, nil)
	if res.status != http.StatusOK || strings.Contains(string(res.body), "Outage") {
		t.Fatalf("incidents after refusals: %d %s", res.status, res.body)
	}
}

func withCSRF(v url.Values, token string) url.Values {
	out := cloneValues(v)
	out.Set("csrf", token)
	return out
}

func TestConsoleLanguage(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	c := h.console(t, adminToken)
	h1 := regexp.MustCompile(`<h1>([^<]*)</h1>`)
	heading := func() (string, string) {
		res := c.get("/console/")
		m := h1.FindStringSubmatch(res.body)
		lang := regexp.MustCompile(`<html lang="([a-z]+)">`).FindStringSubmatch(res.body)
		if res.status != http.StatusOK || m == nil || lang == nil {
			t.Fatalf("dashboard: %d %s", res.status, res.body)
		}
		return lang[1], m[1]
	}
	for _, tt := range []struct{ accept, lang, h1 string }{
		{"es-ES,es;q=0.9", "es", "Panel"},
		{"en-GB,en;q=0.8", "en", "Dashboard"},
		{"fr-FR", "es", "Panel"},
		{"", "es", "Panel"},
	} {
		c.acceptLanguage = tt.accept
		if lang, got := heading(); lang != tt.lang || got != tt.h1 {
			t.Errorf("Accept-Language %q: %s %q, want %s %q", tt.accept, lang, got, tt.lang, tt.h1)
		}
	}
	// The switch's cookie wins over the browser.
	c.acceptLanguage = "en"
	res := c.get("/console/lang?to=es&back=" + url.QueryEscape("/console/rules"))
	if res.status != http.StatusSeeOther || res.location() != "/console/rules" {
		t.Fatalf("switch: %d %q", res.status, res.location())
	}
	if ck := setCookie(res, console.LangCookie); !strings.Contains(ck, "hush_lang=es") || !strings.Contains(ck, "Max-Age=31536000") {
		t.Errorf("language cookie %q", ck)
	}
	if lang, got := heading(); lang != "es" || got != "Panel" {
		t.Errorf("after switching to Spanish: %s %q", lang, got)
	}
	c.setLang("en")
	c.acceptLanguage = "es"
	if lang, got := heading(); lang != "en" || got != "Dashboard" {
		t.Errorf("after switching to English: %s %q", lang, got)
	}
	// The switch links back to the page it is on.
	page := c.get("/console/rules")
	if !strings.Contains(page.body, `href="/console/lang?to=es&amp;back=%2fconsole%2frules"`) {
		t.Errorf("the language switch does not come back to the page: %s", page.body)
	}
}

// consoleSeed fills the store with one of everything the console's pages show, and returns
// the values for the route templates' variables.
func consoleSeed(t *testing.T, h *harness) map[string]string {
	t.Helper()
	if res := h.webhook("d-1", surveyEvent("d-1", "carl@example.com", 1), h.clock.Now(), sourceKey); res.status != http.StatusOK {
		t.Fatalf("webhook: %d %s", res.status, res.body)
	}
	broken := []byte(`{"id":"d-9","type":"survey.response","customer":{"email":"ana@example.com"},"csat":"one"`)
	h.webhook("d-9", broken, h.clock.Now(), sourceKey) // a dead letter
	if res := h.do(http.MethodPost, "/api/v1/incidents", adminToken, map[string]any{"title": "Outage <b>", "scope": "tag:vip"}); res.status != http.StatusCreated {
		t.Fatalf("incident: %d %s", res.status, res.body)
	}
	res := h.do(http.MethodPost, "/api/v1/decisions", decideToken, map[string]any{
		"channel": "email", "category": "marketing", "recipients": []map[string]string{{"email": "carl@example.com"}, {"email": "dora@example.com"}},
	})
	if res.status != http.StatusOK {
		t.Fatalf("decisions: %d %s", res.status, res.body)
	}
	vars := map[string]string{"{identity}": url.PathEscape("email:carl@example.com")}
	err := h.store.View(context.Background(), func(tx gateway.Tx) error {
		s, _, err := tx.Silences(gateway.SilenceQuery{Page: gateway.Page{Limit: 1}})
		if err != nil || len(s) == 0 {
			return err
		}
		vars["/silences/{id}"] = s[0].ID
		dl, _, err := tx.DeadLetters(gateway.Page{Limit: 1})
		if err != nil || len(dl) == 0 {
			return err
		}
		vars["/deadletters/{id}"] = dl[0].ID
		return nil
	})
	if err != nil || len(vars) != 3 {
		t.Fatalf("seeding: %v %v", err, vars)
	}
	return vars
}

// consoleGetPaths are the GET routes of the console, with real records in their variables.
func consoleGetPaths(t *testing.T, h *harness, vars map[string]string) []string {
	t.Helper()
	routes, err := server.Routes(server.Deps{Store: h.store, Engine: h.engine})
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, rt := range routes {
		if rt.Template != "/" && !strings.HasPrefix(rt.Template, "/console/") {
			continue
		}
		if rt.Template == "/console/assets/" || rt.Template == "/console/lang" {
			continue // a file server and a redirect, checked on their own
		}
		if strings.HasSuffix(rt.Template, ".csv") {
			continue // a download, not a page: checked on its own (console_report_test.go)
		}
		get := false
		for _, m := range rt.Methods {
			get = get || m == http.MethodGet
		}
		if !get {
			continue
		}
		p := strings.ReplaceAll(rt.Template, "{identity}", vars["{identity}"])
		for suffix, id := range vars {
			if strings.HasSuffix(p, suffix) {
				p = strings.TrimSuffix(p, "{id}") + id
			}
		}
		if strings.Contains(p, "{") {
			t.Fatalf("route %s has a variable the test does not fill", rt.Template)
		}
		paths = append(paths, p)
	}
	if len(paths) < 8 {
		t.Fatalf("only %d console pages found: %v", len(paths), paths)
	}
	return paths
}

// Every console page renders in both languages for both roles, with the CSP, no missing
// string, no script or inline style, and no form that changes anything for a viewer.
func TestConsoleEveryPageRenders(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	vars := consoleSeed(t, h)
	paths := consoleGetPaths(t, h, vars)
	forms := regexp.MustCompile(`<form[^>]*>`)
	for _, token := range []string{adminToken, viewerToken} {
		c := h.console(t, token)
		for _, lang := range []string{"es", "en"} {
			c.setLang(lang)
			for _, p := range paths {
				res := c.get(p)
				if res.status == http.StatusNotImplemented {
					t.Logf("%s is not built yet (501)", p)
					continue
				}
				if token == viewerToken && res.status == http.StatusForbidden && strings.HasSuffix(p, "/new") {
					continue // a page that is only a form that changes something: refused to a viewer
				}
				if res.status != http.StatusOK {
					t.Errorf("%s %s: %d %s", lang, p, res.status, res.body)
					continue
				}
				checkConsolePage(t, p, res)
				if !strings.Contains(res.body, `<html lang="`+lang+`">`) {
					t.Errorf("%s in %s is not marked as %s", p, lang, lang)
				}
				if token == viewerToken {
					for _, f := range forms.FindAllString(res.body, -1) {
						if strings.Contains(f, `method="post"`) && !strings.Contains(f, `id="signout-form"`) && !strings.Contains(f, `id="signin-form"`) {
							t.Errorf("a viewer is shown a form that changes something on %s: %s", p, f)
						}
					}
				}
			}
		}
	}
	// The stylesheet is served from the binary.
	c := h.consoleAnon(t)
	if res := c.get("/console/assets/console.css"); res.status != http.StatusOK || !strings.HasPrefix(res.header.Get("Content-Type"), "text/css") {
		t.Errorf("stylesheet: %d %q", res.status, res.header.Get("Content-Type"))
	}
	// Pages that need no session carry the same headers.
	checkConsolePage(t, "/console/signin", c.get("/console/signin"))
}

func checkConsolePage(t *testing.T, path string, res consoleResponse) {
	t.Helper()
	csp := res.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "script-src") {
		t.Errorf("%s: CSP %q", path, csp)
	}
	if res.header.Get("X-Frame-Options") != "DENY" || res.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("%s: framing/sniffing headers %v", path, res.header)
	}
	if strings.Contains(res.body, console.MissingMarker()) {
		t.Errorf("%s: a string is missing from the catalog: %s", path, missingKeys(res.body))
	}
	for _, bad := range []string{"<script", "style=", "<style"} {
		if strings.Contains(res.body, bad) {
			t.Errorf("%s contains %s, which the CSP blocks", path, bad)
		}
	}
	if n := strings.Count(res.body, "<h1"); n != 1 {
		t.Errorf("%s has %d h1 elements", path, n)
	}
}

func missingKeys(body string) []string {
	return regexp.MustCompile(regexp.QuoteMeta(console.MissingMarker())+`[^⟧]*⟧`).FindAllString(body, -1)
}

func TestConsoleDashboard(t *testing.T) {
	h := newHarness(t, harnessOptions{upstreams: mailUpstreams(t)})
	consoleSeed(t, h)
	h.proxySend("mail", []string{"bea@example.com", "carl@example.com"}) // carl is silenced
	c := h.console(t, viewerToken)
	c.setLang("en")
	res := c.get("/")
	if res.status != http.StatusOK {
		t.Fatalf("dashboard: %d %s", res.status, res.body)
	}
	checkConsolePage(t, "/", res)
	cell := func(id string) string {
		m := regexp.MustCompile(`(?s)id="` + id + `".*?class="card-value">([^<]*)<`).FindStringSubmatch(res.body)
		if m == nil {
			t.Fatalf("no %s card: %s", id, res.body)
		}
		return m[1]
	}
	// carl was dropped twice (decision API and proxy), one silence is in force.
	if got := cell("card-avoided"); got != "2" {
		t.Errorf("contacts avoided = %q, want 2", got)
	}
	if got := cell("card-silences"); got != "1" {
		t.Errorf("active silences = %q, want 1", got)
	}
	chart := regexp.MustCompile(`(?s)<svg[^>]*id="chart-avoided".*?</svg>`).FindString(res.body)
	if chart == "" || !strings.Contains(chart, `role="img"`) || !strings.Contains(chart, `data-series="silenced" data-value="2"`) {
		t.Errorf("avoided chart: %s", chart)
	}
	for _, want := range []string{
		`<td>Silenced</td><td class="num">2</td>`,      // the chart's numbers in words
		`<td>low-csat</td><td class="num">1</td>`,      // top rules
		`Webhooks accepted</th><td class="num">1</td>`, // the low-CSAT delivery
		`Webhooks refused</th><td class="num">1</td>`,  // the broken one
		`Dead letters waiting</a></th><td class="num">1</td>`,
		`2xx answers</th><td class="num">1</td>`,
		`id="storage-health">Healthy`,
		"No costs configured",
	} {
		if !strings.Contains(res.body, want) {
			t.Errorf("dashboard lacks %s", want)
		}
	}
	// Spanish: numbers and labels in Spanish.
	c.setLang("es")
	es := c.get("/console/")
	if !strings.Contains(es.body, `<td>Silenciado</td><td class="num">2</td>`) || !strings.Contains(es.body, "Webhooks rechazados") {
		t.Errorf("Spanish dashboard: %s", es.body)
	}
}

func TestConsoleRulesPage(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.webhook("d-1", surveyEvent("d-1", "carl@example.com", 1), h.clock.Now(), sourceKey)
	h.silence("email:dora@example.com")
	rules := []gateway.RuleSpec{lowCSAT, {
		Name: "open-ticket", Description: "An open ticket <urgent>", When: `event.type == "ticket.opened" && event.priority > 1`,
		Silence:  &gateway.SilenceSpec{UntilResolved: true, Then: gateway.Duration(48 * time.Hour), Channels: []gateway.Channel{gateway.ChannelSMS}, Categories: []gateway.Category{gateway.CategorySales}},
		Alert:    "retention",
		FollowUp: &gateway.FollowUpSpec{After: gateway.Duration(72 * time.Hour), Alert: "call-back"},
		Shadow:   true,
	}}
	srv := httptest.NewServer(server.NewServer(server.Deps{
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), Store: h.store, Engine: h.engine, Rules: rules,
		Caps:       []gateway.CapSpec{{Channel: gateway.ChannelEmail, Category: gateway.CategoryMarketing, Max: 3, Per: gateway.Duration(7 * 24 * time.Hour)}},
		QuietHours: []gateway.QuietHoursSpec{{Channels: []gateway.Channel{gateway.ChannelSMS, gateway.ChannelVoice}, From: "21:00", To: "09:00", Action: gateway.QuietDefer}},
		Tokens:     []server.Token{{Name: "lead", Token: viewerToken, Role: server.RoleViewer}},
		Now:        h.clock.Now,
	}))
	t.Cleanup(srv.Close)
	withRules := *h
	withRules.srv = srv
	c := withRules.console(t, viewerToken)
	c.setLang("en")
	res := c.get("/console/rules")
	if res.status != http.StatusOK {
		t.Fatalf("rules: %d %s", res.status, res.body)
	}
	checkConsolePage(t, "/console/rules", res)
	for _, want := range []string{
		`<code>low-csat</code>`,
		`<code class="cel">event.type == &#34;survey.response&#34; &amp;&amp; has(event.csat) &amp;&amp; event.csat &lt;= 2</code>`,
		`For 15d`,
		`id="rule-low-csat-created">1<`,
		`Until the topic is resolved, then 2d more`,
		`An open ticket &lt;urgent&gt;`,
		`<dd>Sales</dd>`, `<dd>SMS</dd>`,
		`<code>retention</code>`,
		`3d after, alert call-back`,
		`Shadow: decisions are recorded, traffic unchanged`,
		`id="rule-open-ticket-created">0<`,
		`Silences created by hand (30 days): 1`,
		// The anchors a timeline's cap and quiet-hours drops link to, with what they hold.
		`<section id="caps"`, `<td>Email</td><td>Marketing</td><td>3 every 1w</td>`,
		`<section id="quiet-hours"`, `<td>SMS, Voice call</td><td>from 21:00 to 09:00</td><td>is answered 429 with Retry-After, to be sent later</td>`,
	} {
		if !strings.Contains(res.body, want) {
			t.Errorf("rules page lacks %s", want)
		}
	}
	if t.Failed() {
		t.Log(res.body)
	}
}

// A notice after a form is named in Go (u.done(…, "silence_lifted")) and shown from the
// catalog as "flash.<key>": a key missing from the catalog would show nothing, silently.
func TestConsoleFlashKeysAreInTheCatalog(t *testing.T) {
	cat, err := console.DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("console*.go")
	if err != nil {
		t.Fatal(err)
	}
	done := regexp.MustCompile(`u\.done\([^\n]*, "([^"]+)"\)`)
	seen := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range done.FindAllStringSubmatch(string(b), -1) {
			seen++
			if !cat.Has("flash." + m[1]) {
				t.Errorf("%s: notice %q has no flash.%s in the catalog", f, m[1], m[1])
			}
		}
	}
	if seen == 0 {
		t.Fatal("found no u.done call: is the pattern still right?")
	}
	// And a notice is shown, in the page's language, only for a key the catalog holds.
	h := newHarness(t, harnessOptions{})
	c := h.console(t, viewerToken)
	c.setLang("en")
	if res := c.get("/console/rules?done=signedout"); !strings.Contains(res.body, `id="flash"`) || !strings.Contains(res.body, "You have signed out.") {
		t.Errorf("no notice for a known key: %s", res.body)
	}
	if res := c.get("/console/rules?done=%3Cb%3Enope"); strings.Contains(res.body, `id="flash"`) || strings.Contains(res.body, console.MissingMarker()) {
		t.Errorf("a notice for an unknown key: %s", res.body)
	}
}
