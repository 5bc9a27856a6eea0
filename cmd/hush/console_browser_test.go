package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// The console in a real browser: Debian's Chromium, headless, driven over the DevTools
// protocol (chromedp), against `hush serve` run by run(). .ci/run installs Chromium and sets
// HUSH_TEST_CHROMIUM; without it (a developer machine with no Chromium) the tests skip, and
// in CI they fail.

const viewerTokenE2E = "e2e-viewer-token-0123456789"

// browserTimeout bounds one browser session; every step waits on the page, not on time.
const browserTimeout = 90 * time.Second

// chromiumPath finds the browser or skips (fails in CI).
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("HUSH_TEST_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("CI must run the browser tests: install Debian's chromium (.ci/run does) or set HUSH_TEST_CHROMIUM")
	}
	t.Skip("no Chromium on PATH (apt-get install chromium, or set HUSH_TEST_CHROMIUM); .ci/run installs it")
	return ""
}

// newBrowser starts a headless Chromium with a fresh profile whose requests say
// Accept-Language: lang, and returns a context to run actions in.
func newBrowser(t *testing.T, lang string) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		// The rest keep a sandboxed machine's closed network out of the browser's way.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, browserTimeout)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
	})
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	if _, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
		Headers: network.Headers{"Accept-Language": lang},
	}); err != nil {
		t.Fatalf("set Accept-Language: %v", err)
	}
	return ctx
}

// browse runs browser steps, failing the test with what the page showed on error.
func browse(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		failAt(t, ctx, what, err)
	}
}

// read runs one browser action that returns a value.
func read[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		failAt(t, ctx, what, err)
	}
	return v
}

func failAt(t *testing.T, ctx context.Context, what string, err error) {
	t.Helper()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	page, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	t.Fatalf("%s: %v\nat %s, the page said:\n%s", what, err, loc, page)
}

// signIn opens the console, which sends a browser without a session to the sign-in page,
// and signs in with token; it ends on the page the console was opened at.
func signIn(t *testing.T, ctx context.Context, base, token string) {
	t.Helper()
	browse(t, ctx, "open the console",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("signin-token")),
	)
	if loc := read(t, ctx, "read the address", chromedp.Location()); !strings.Contains(loc, "/console/signin") {
		t.Fatalf("without a session the console showed %s, want the sign-in page", loc)
	}
	browse(t, ctx, "sign in",
		chromedp.SendKeys(chromedp.ID("signin-token"), token),
		chromedp.Click(chromedp.ID("signin-submit")),
		chromedp.WaitVisible(chromedp.ID("signout")),
	)
}

// pageText is the visible text of the page's body.
func pageText(t *testing.T, ctx context.Context) string {
	t.Helper()
	return read(t, ctx, "read the page", chromedp.Text(chromedp.CSS("body")))
}

// browserConfig is the embedded default with a viewer token added.
func browserConfig(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "configs", "default.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	const admin = `    - {name: admin, token: "${HUSH_ADMIN_TOKEN}", role: admin}`
	cfg := string(b)
	if !strings.Contains(cfg, admin) {
		t.Fatalf("configs/default.yaml no longer has the line %q", admin)
	}
	cfg = strings.Replace(cfg, admin, admin+"\n    - {name: lead, token: \""+viewerTokenE2E+"\", role: viewer}", 1)
	path := filepath.Join(t.TempDir(), "hush.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestConsoleInBrowser walks the support lead's path in a real browser: sign in, find a
// customer a low CSAT silenced, see the rule and the reason, lift the silence with a
// reason, and see the decision API allow them again; a viewer sees no lift and the server
// refuses one anyway; both languages render with no missing translation.
func TestConsoleInBrowser(t *testing.T) {
	chromiumPath(t) // skip before starting hush
	// The browser keeps cookies by its own clock: hush's clock must be the real one.
	clock := newTestClock(time.Now().UTC().Truncate(time.Second))
	h := startHush(t, clock, hushOptions{config: browserConfig(t)})
	h.event(map[string]any{"type": "survey.response", "customer": customerOf(ana), "csat": 1})
	if d := h.check("email", "marketing", email(ana)); d.Allowed || d.Rule != "low-csat" {
		t.Fatalf("after a CSAT of 1, decision = %+v, want dropped by low-csat", d)
	}
	// A send the proxy-less decision API records, so the timeline has a dropped decision.
	h.decide("email", "marketing", email(ana), true)
	active := h.silences("email:"+ana, true)
	if len(active) != 1 {
		t.Fatalf("active silences = %+v, want the low-csat one", active)
	}
	sil := active[0]

	t.Run("admin lifts a silence", func(t *testing.T) {
		ctx := newBrowser(t, "en-GB,en;q=0.9")
		signIn(t, ctx, h.base, adminToken)
		browse(t, ctx, "search the customer",
			chromedp.Click(chromedp.ID("nav-customers")),
			chromedp.WaitVisible(chromedp.ID("customer-q")),
			chromedp.SendKeys(chromedp.ID("customer-q"), ana),
			chromedp.Click(chromedp.ID("customer-search-submit")),
			chromedp.WaitVisible(chromedp.ID("timeline")),
		)
		page := pageText(t, ctx)
		for _, want := range []string{ana, "low-csat", "survey.response"} {
			if !strings.Contains(page, want) {
				t.Errorf("the customer page lacks %q:\n%s", want, page)
			}
		}
		// The dropped decision names its reason and links to the silence that explains it.
		reason := read(t, ctx, "read the dropped decision", chromedp.Text(chromedp.CSS(".timeline-decision.dropped")))
		links := read(t, ctx, "read the decision's links", chromedp.Evaluate[[]string](
			`[...document.querySelectorAll(".timeline-decision.dropped a")].map(a => a.getAttribute("href"))`))
		if !strings.Contains(strings.ToLower(reason), "silenced") {
			t.Errorf("the dropped decision says %q, want the reason (silenced)", reason)
		}
		if !containsString(links, "/console/silences/"+sil.ID) {
			t.Errorf("the dropped decision links to %v, want /console/silences/%s", links, sil.ID)
		}
		screenshot(t, ctx, "console-timeline.png")

		browse(t, ctx, "lift the silence with a reason",
			chromedp.SendKeys(chromedp.ID("lift-reason-"+sil.ID), "Called her back, problem solved"),
			chromedp.Click(chromedp.ID("lift-submit-"+sil.ID)),
			chromedp.WaitVisible(chromedp.ID("flash")),
		)
		if d := h.check("email", "marketing", email(ana)); !d.Allowed {
			t.Fatalf("after the lift, decision = %+v, want allowed", d)
		}
		lifted := h.silences("email:"+ana, false)
		if len(lifted) != 1 || lifted[0].LiftedAt == nil || lifted[0].LiftReason != "Called her back, problem solved" || lifted[0].LiftedBy != "admin:admin" {
			t.Errorf("stored silence after the lift = %+v", lifted)
		}

		browse(t, ctx, "open the dashboard",
			chromedp.Click(chromedp.ID("nav-dashboard")),
			chromedp.WaitVisible(chromedp.ID("h-avoided")),
		)
	})

	t.Run("viewer cannot lift", func(t *testing.T) {
		// A second silence to try on: the first one is lifted.
		h.event(map[string]any{"type": "survey.response", "customer": customerOf(neighbour), "csat": 2})
		bs := h.silences("email:"+neighbour, true)
		if len(bs) != 1 {
			t.Fatalf("bea's silences = %+v", bs)
		}
		ctx := newBrowser(t, "es-ES,es;q=0.9")
		signIn(t, ctx, h.base, viewerTokenE2E)
		browse(t, ctx, "open bea's page",
			chromedp.Navigate(h.base+"/console/customers/"+url.PathEscape("email:"+neighbour)),
			chromedp.WaitVisible(chromedp.ID("timeline")),
		)
		forms := read(t, ctx, "count the forms that change something", chromedp.Evaluate[int](
			`document.querySelectorAll('form[method="post"]:not(#signout-form)').length`))
		if forms != 0 {
			t.Errorf("a viewer's customer page has %d forms that change something, want none", forms)
		}
		// The server refuses anyway: the viewer's own session cookie and the page's CSRF
		// token, posted by hand.
		jar, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{h.base}})
		if err != nil {
			t.Fatalf("read the browser's cookies: %v", err)
		}
		csrf := read(t, ctx, "read the CSRF token", chromedp.AttributeValue(chromedp.CSS(`#signout-form input[name="csrf"]`), "value")).Value
		req, err := http.NewRequest(http.MethodPost, h.base+"/console/silences/"+bs[0].ID+"/lift",
			strings.NewReader(url.Values{"csrf": {csrf}, "reason": {"no"}}.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for _, c := range jar.Cookies {
			req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("a viewer's lift answered %d, want 403:\n%s", resp.StatusCode, body)
		}
		if still := h.silences("email:"+neighbour, true); len(still) != 1 {
			t.Errorf("after a viewer's refused lift, bea's active silences = %+v", still)
		}
	})

	t.Run("dashboard with a fortnight of history", func(t *testing.T) {
		seedHistory(t, h, clock)
		for _, lang := range []struct{ accept, file string }{
			{"en-GB,en;q=0.9", "console-dashboard.png"},
			{"es-ES,es;q=0.9", "console-dashboard-es.png"},
		} {
			ctx := newBrowser(t, lang.accept)
			signIn(t, ctx, h.base, adminToken)
			browse(t, ctx, "open the dashboard", chromedp.WaitVisible(chromedp.ID("h-avoided")))
			bars := read(t, ctx, "count the chart's bars", chromedp.Evaluate[int](`document.querySelectorAll("svg rect").length`))
			if bars < 14 {
				t.Errorf("the dashboard's charts draw %d rectangles after two weeks of drops, want at least one per day", bars)
			}
			screenshot(t, ctx, lang.file)
		}
	})

	t.Run("phone width and keyboard", func(t *testing.T) {
		ctx := newBrowser(t, "es-ES,es;q=0.9")
		browse(t, ctx, "emulate a phone", chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile))
		signIn(t, ctx, h.base, adminToken)
		for _, p := range []string{"/", "/console/customers/" + url.PathEscape("email:"+ana), "/console/silences", "/console/incidents", "/console/rules"} {
			browse(t, ctx, "open "+p, chromedp.Navigate(h.base+p), chromedp.WaitVisible(chromedp.ID("main")))
			// Wide tables scroll inside their own box; the page itself must not.
			width := read(t, ctx, "measure the page", chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
			if width > 360 {
				t.Errorf("%s is %d px wide on a 360 px phone: the page scrolls sideways", p, width)
			}
			if strings.HasPrefix(p, "/console/customers/") {
				screenshot(t, ctx, "console-phone-customer.png")
			}
		}
		// The first Tab reaches the skip link, and following it moves focus to the content.
		browse(t, ctx, "tab to the skip link", chromedp.Navigate(h.base+"/console/silences"),
			chromedp.WaitVisible(chromedp.ID("main")), chromedp.KeyEvent(kb.Tab))
		if href := read(t, ctx, "read the focused link", chromedp.Evaluate[string](`document.activeElement.getAttribute("href")`)); href != "#main" {
			t.Errorf("the first Tab focuses %q, want the skip link to #main", href)
		}
		browse(t, ctx, "follow the skip link", chromedp.KeyEvent("\r"))
		if id := read(t, ctx, "read the focused element", chromedp.Evaluate[string](`document.activeElement.id`)); id != "main" {
			t.Errorf("after the skip link, focus is on %q, want main", id)
		}
	})

	t.Run("every page in both languages", func(t *testing.T) {
		pages := []string{"/", "/console/customers", "/console/customers/" + url.PathEscape("email:"+ana),
			"/console/silences", "/console/silences/" + sil.ID, "/console/silences/new",
			"/console/incidents", "/console/deadletters", "/console/rules"}
		for _, lang := range []struct{ accept, want, word string }{
			{"es-ES,es;q=0.9", "es", "Silencios"},
			{"en-US,en;q=0.9", "en", "Silences"},
		} {
			ctx := newBrowser(t, lang.accept)
			signIn(t, ctx, h.base, adminToken)
			for _, p := range pages {
				browse(t, ctx, "open "+p,
					chromedp.Navigate(h.base+p),
					chromedp.WaitVisible(chromedp.ID("main")),
				)
				htmlLang := read(t, ctx, "read the page's language", chromedp.AttributeValue(chromedp.CSS("html"), "lang")).Value
				text := pageText(t, ctx)
				if htmlLang != lang.want {
					t.Errorf("%s with Accept-Language %s: <html lang=%q>, want %q", p, lang.accept, htmlLang, lang.want)
				}
				if m := missingRE.FindString(text); m != "" {
					t.Errorf("%s in %s shows a missing translation: %s", p, lang.want, m)
				}
				if !strings.Contains(text, lang.word) {
					t.Errorf("%s in %s lacks the navigation word %q", p, lang.want, lang.word)
				}
			}
		}
	})
}

// seedHistory gives the dashboard two weeks to show: each day some customers answer a
// survey badly, one replies STOP to an SMS, and marketing tries to reach them all. hush's
// clock is moved back for each day and then returned to now.
func seedHistory(t *testing.T, h *hushProcess, clock *testClock) {
	t.Helper()
	now := clock.Now()
	defer clock.Set(now)
	for d := 14; d >= 1; d-- {
		clock.Set(now.Add(-time.Duration(d) * day).Add(-2 * time.Hour))
		for i := range 1 + d%4 {
			addr := fmt.Sprintf("day%02d-%d@example.com", d, i)
			ev := map[string]any{"type": "survey.response", "customer": customerOf(addr), "csat": 1}
			if i%2 == 1 {
				ev = map[string]any{"type": "survey.response", "customer": customerOf(addr), "nps": 2}
			}
			h.event(ev)
			for range 1 + i {
				h.decide("email", "marketing", email(addr), true)
			}
		}
		if d%3 == 0 {
			mobile := fmt.Sprintf("+346001%05d", d)
			h.event(map[string]any{"type": "consent.optout", "customer": map[string]any{"phone": mobile}, "channel": "sms", "text": "BAJA"})
			h.decide("sms", "marketing", phone(mobile), true)
		}
		h.decide("email", "marketing", email(fmt.Sprintf("happy%02d@example.com", d)), true)
	}
}

var missingRE = regexp.MustCompile(`⟦missing:[^⟧]*⟧`)

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// screenshot saves a PNG of the whole page into docs/screenshots when
// HUSH_UPDATE_SCREENSHOTS is set (the README shows them); otherwise it only checks that
// the browser can take one.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png := read(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
	if len(png) == 0 {
		t.Fatalf("screenshot %s is empty", name)
	}
	if os.Getenv("HUSH_UPDATE_SCREENSHOTS") == "" {
		return
	}
	path := filepath.Join("..", "..", "docs", "screenshots", name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(fmt.Errorf("write %s: %w", name, err))
	}
}
