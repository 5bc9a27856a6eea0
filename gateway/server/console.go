package server

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/server/console"
)

// The admin console (DESIGN §8): server-rendered pages over the same operations as the admin
// API. Pages need a session (a signed cookie issued at sign-in with an admin or viewer
// token); every POST needs the session's CSRF token and the admin role.

const (
	consolePrefix     = "/console"
	consoleSessionTTL = 12 * time.Hour
	// consoleCSP allows nothing but the console's own stylesheet and images: no script runs
	// on any page, charts are inline SVG markup, forms post only to hush itself.
	consoleCSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; " +
		"frame-ancestors 'none'; base-uri 'none'"
)

// ui is the console's shared machinery: catalog, templates, sessions.
type ui struct {
	deps     Deps
	auth     *authenticator
	catalog  *console.Catalog
	pages    *console.Renderer
	sessions *console.Sessions
}

func newUI(deps Deps, auth *authenticator) (*ui, error) {
	cat, err := console.DefaultCatalog()
	if err != nil {
		return nil, err
	}
	pages, err := console.NewRenderer()
	if err != nil {
		return nil, err
	}
	secret := func(name string) (string, bool) {
		if t := consoleToken(deps.Tokens, name); t != nil {
			return t.Token, true
		}
		return "", false
	}
	return &ui{
		deps: deps, auth: auth, catalog: cat, pages: pages,
		sessions: console.NewSessions(secret, deps.Now, consoleSessionTTL),
	}, nil
}

// uiHandler is a console page or action: it reads the request and the prepared view.
type uiHandler func(w http.ResponseWriter, r *http.Request, v *console.View)

// page serves a console page to anyone signed in (admin or viewer); without a session it
// sends the browser to the sign-in page, coming back afterwards.
func (u *ui) page(nav string, h uiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setConsoleHeaders(w)
		v, ok := u.signedIn(w, r)
		if !ok {
			return
		}
		v.Nav = nav
		h(w, r, v)
	})
}

// action serves a console form post: admin only, CSRF token required. A refusal is a page in
// the user's language, never a change.
func (u *ui) action(h uiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setConsoleHeaders(w)
		r.Body = http.MaxBytesReader(w, r.Body, u.deps.Limits.Body)
		v, ok := u.signedIn(w, r)
		if !ok {
			return
		}
		if !v.CanWrite {
			u.fail(w, r, v, gateway.Errorf(gateway.CodeForbidden, "%s", v.T("error.viewer")))
			return
		}
		cookie, _ := r.Cookie(console.SessionCookie)
		if !sameOrigin(r) || !u.sessions.CheckCSRF(cookie.Value, r.PostFormValue("csrf")) {
			u.fail(w, r, v, gateway.Errorf(gateway.CodeForbidden, "%s", v.T("error.csrf")))
			return
		}
		h(w, r, v)
	})
}

// signedIn builds the view of the request's session, or redirects to sign-in.
func (u *ui) signedIn(w http.ResponseWriter, r *http.Request) (*console.View, bool) {
	v := u.view(r)
	cookie, err := r.Cookie(console.SessionCookie)
	var name string
	if err == nil {
		name, err = u.sessions.Verify(cookie.Value)
	}
	var tok *Token
	if err == nil {
		tok = consoleToken(u.deps.Tokens, name)
	}
	if tok == nil {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			u.fail(w, r, v, gateway.Errorf(gateway.CodeUnauthorized, "%s", v.T("error.signin")))
			return nil, false
		}
		http.Redirect(w, r, consolePrefix+"/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return nil, false
	}
	v.User, v.Role, v.CanWrite = tok.Name, tok.Role, tok.Role == RoleAdmin
	v.CSRF = u.sessions.CSRF(cookie.Value)
	return v, true
}

// view is the language, timezone and path of a request, before anyone signed in.
func (u *ui) view(r *http.Request) *console.View {
	chosen := ""
	if c, err := r.Cookie(console.LangCookie); err == nil {
		chosen = c.Value
	}
	v := &console.View{
		Catalog: u.catalog,
		Lang:    console.Negotiate(r.Header.Get("Accept-Language"), chosen, console.Lang(u.deps.Language)),
		Loc:     u.deps.Location,
		Path:    r.URL.RequestURI(),
	}
	if f := r.URL.Query().Get("done"); f != "" && u.catalog.Has("flash."+f) {
		v.Flash, v.FlashKind = "flash."+f, "ok"
	}
	return v
}

// consoleToken is the configured token named name that may open the console (admin or
// viewer, with a value), or nil.
func consoleToken(tokens []Token, name string) *Token {
	for i, t := range tokens {
		if t.Name == name && t.Token != "" && (t.Role == RoleAdmin || t.Role == RoleViewer) {
			return &tokens[i]
		}
	}
	return nil
}

// show renders page with status.
func (u *ui) show(w http.ResponseWriter, r *http.Request, status int, page string, v *console.View) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	var buf strings.Builder
	if err := u.pages.Render(&buf, page, v); err != nil {
		u.deps.Logger.ErrorContext(r.Context(), "console page failed", "page", page, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte(buf.String()))
}

// fail renders the error page for err with the status its code maps to. Internal errors are
// logged and shown without details.
func (u *ui) fail(w http.ResponseWriter, r *http.Request, v *console.View, err error) {
	code := gateway.ErrorCodeOf(err)
	v.Title = "error.title"
	if code == gateway.CodeInternal {
		u.deps.Logger.ErrorContext(r.Context(), "console error", "route", routeTemplate(r), "err", err)
		v.Error = v.T("error.internal")
	} else {
		v.Error = gateway.ErrorMessageOf(err)
		var ge *gateway.Error
		if errors.As(err, &ge) {
			v.Error = ge.Message
		}
	}
	u.show(w, r, code.HTTPStatus(), "error", v)
}

// done sends the browser back to to after a successful form, with a one-time notice
// ("flash.<key>") the next page shows: post/redirect/get, so a reload never posts twice.
func (u *ui) done(w http.ResponseWriter, r *http.Request, to, key string) {
	sep := "?"
	if strings.Contains(to, "?") {
		sep = "&"
	}
	http.Redirect(w, r, fmt.Sprintf("%s%sdone=%s", to, sep, url.QueryEscape(key)), http.StatusSeeOther)
}

// callerOf is "admin:<token name>" for the audit fields of a change made in the console.
func callerOf(v *console.View) string { return "admin:" + v.User }

func setConsoleHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", consoleCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
}

// sameOrigin refuses cross-site posts by the browser's own word (Sec-Fetch-Site, Origin)
// where it gives it; the CSRF token is the check that does not depend on the browser.
func sameOrigin(r *http.Request) bool {
	if s := r.Header.Get("Sec-Fetch-Site"); s != "" && s != "same-origin" && s != "none" {
		return false
	}
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return false
		}
	}
	return true
}

// public serves a console page that needs no session (sign-in, language switch).
func (u *ui) public(h uiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setConsoleHeaders(w)
		r.Body = http.MaxBytesReader(w, r.Body, u.deps.Limits.Body)
		h(w, r, u.view(r))
	})
}
