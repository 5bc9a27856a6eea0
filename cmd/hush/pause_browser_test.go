package main

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestPauseInBrowser walks a customer's path in a real Chromium: the team mints a pause link
// through the admin API, the customer opens it (in Spanish, then in English), clicks "pause
// marketing" and sees the confirmation, and the decision API then drops marketing to them
// because of a silence created by "customer". hush runs the embedded default config, so the
// link's secret is the one generated into the data directory.
func TestPauseInBrowser(t *testing.T) {
	chromiumPath(t) // skip before starting hush
	clock := newTestClock(time.Now().UTC().Truncate(time.Second))
	h := startHush(t, clock, hushOptions{})

	// The generated secret: in the data directory, owner-only, its path logged, never its value.
	path := filepath.Join(h.data, "pause-secret")
	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("no generated pause secret: %v", err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("pause secret file mode %v, want 0600", info.Mode().Perm())
	}
	secret, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(h.logs.String(), "pause-secret") || strings.Contains(h.logs.String(), strings.TrimSpace(string(secret))) {
		t.Errorf("the log should name the secret's file and never its value:\n%s", h.logs)
	}

	for _, c := range []struct {
		name, accept, addr, lang string
		page, submit, done       string
	}{
		{"Spanish", "es-ES,es;q=0.9", "pausa-es@example.com", "es",
			"Pausar la publicidad durante 30 días", "Pausar la publicidad", "No te enviaremos publicidad hasta el"},
		{"English", "en-GB,en;q=0.9", "pause-en@example.com", "en",
			"Pause marketing for 30 days", "Pause marketing", "We will not send you marketing until"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h.event(map[string]any{"type": "ticket.opened", "customer": customerOf(c.addr)})
			if d := h.check("email", "marketing", email(c.addr)); !d.Allowed {
				t.Fatalf("before the pause, decision = %+v, want allowed", d)
			}
			var link struct {
				URL       string    `json:"url"`
				ExpiresAt time.Time `json:"expires_at"`
			}
			h.api(http.MethodPost, "/api/v1/customers/"+url.PathEscape("email:"+c.addr)+"/pause-link",
				map[string]string{"ttl": "7d"}, http.StatusCreated, &link)
			// The embedded default has no public_url: the link is relative to hush.
			if !strings.HasPrefix(link.URL, "/pause/") || !link.ExpiresAt.Equal(clock.Now().Add(7*day)) {
				t.Fatalf("minted link = %+v", link)
			}

			ctx := newBrowser(t, c.accept)
			browse(t, ctx, "open the pause link",
				chromedp.Navigate(h.base+link.URL),
				chromedp.WaitVisible(chromedp.ID("pause-marketing")),
			)
			if lang := read(t, ctx, "read the page's language", chromedp.AttributeValue(chromedp.CSS("html"), "lang")).Value; lang != c.lang {
				t.Errorf("<html lang=%q>, want %q", lang, c.lang)
			}
			page := pageText(t, ctx)
			if !strings.Contains(page, c.page) {
				t.Errorf("the page lacks %q:\n%s", c.page, page)
			}
			if m := missingRE.FindString(page); m != "" {
				t.Errorf("the page shows a missing translation: %s", m)
			}
			scripts := read(t, ctx, "count scripts and console links", chromedp.Evaluate[int](
				`document.querySelectorAll('script, a[href^="/console"], #signout').length`))
			if scripts != 0 {
				t.Errorf("the customer's page has %d scripts or console links", scripts)
			}
			if label := read(t, ctx, "read the button", chromedp.Text(chromedp.ID("pause-marketing"))); !strings.Contains(label, c.submit) {
				t.Errorf("the button says %q, want %q", label, c.submit)
			}
			screenshot(t, ctx, "pause-"+c.lang+".png")

			browse(t, ctx, "pause marketing",
				chromedp.Click(chromedp.ID("pause-marketing")),
				chromedp.WaitVisible(chromedp.ID("pause-done")),
			)
			done := pageText(t, ctx)
			if !strings.Contains(done, c.done) {
				t.Errorf("the confirmation lacks %q:\n%s", c.done, done)
			}

			d := h.check("email", "marketing", email(c.addr))
			sils := h.silences("email:"+c.addr, true)
			if len(sils) != 1 || sils[0].CreatedBy != "customer" || !strings.Contains(sils[0].Reason, "pause marketing") {
				t.Fatalf("active silences after the pause = %+v, want one created by customer", sils)
			}
			if d.Allowed || d.Reason != "silenced" || d.SilenceID != sils[0].ID {
				t.Errorf("after the pause, decision = %+v, want dropped by silence %s", d, sils[0].ID)
			}
			if end := sils[0].End; end == nil || !end.Equal(clock.Now().Add(30*day)) {
				t.Errorf("the pause ends %v, want in 30 days", end)
			}

			// Reloading the confirmation in the browser asks to post again; a second click on
			// the page does not stack a second silence.
			browse(t, ctx, "open the link again and click again",
				chromedp.Navigate(h.base+link.URL),
				chromedp.WaitVisible(chromedp.ID("pause-current")),
				chromedp.Click(chromedp.ID("pause-marketing")),
				chromedp.WaitVisible(chromedp.ID("pause-done")),
			)
			if again := h.silences("email:"+c.addr, false); len(again) != 1 {
				t.Errorf("after clicking twice, silences = %+v, want the one", again)
			}

			// A link with one character changed is refused, kindly and in the same language.
			tok := strings.TrimPrefix(link.URL, "/pause/")
			swap := "A"
			if tok[10] == 'A' {
				swap = "B"
			}
			browse(t, ctx, "open a tampered link",
				chromedp.Navigate(h.base+"/pause/"+tok[:10]+swap+tok[11:]),
				chromedp.WaitVisible(chromedp.ID("pause-refused")),
			)
			if lang := read(t, ctx, "read the refusal's language", chromedp.AttributeValue(chromedp.CSS("html"), "lang")).Value; lang != c.lang {
				t.Errorf("refusal <html lang=%q>, want %q", lang, c.lang)
			}
		})
	}
}
