package server

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/server/console"
)

// signinCookie holds the sign-in form's nonce: the form posts it back and the cookie must
// match (double submit), so another site cannot sign a browser into its own session (login
// CSRF) before any session exists to bind a token to.
const (
	signinCookie   = "hush_signin"
	signinNonceTTL = time.Hour
	langCookieAge  = 365 * 24 * time.Hour
)

// signinForm is the sign-in page's data.
type signinForm struct {
	Next  string // where to go after signing in (a local path)
	Error string // message key of why the last attempt was refused
}

// signinPage shows the sign-in form with a fresh nonce.
func (u *ui) signinPage(w http.ResponseWriter, r *http.Request, v *console.View) {
	u.showSignin(w, r, v, http.StatusOK, localPath(r.URL.Query().Get("next")), "")
}

func (u *ui) showSignin(w http.ResponseWriter, r *http.Request, v *console.View, status int, next, errKey string) {
	nonce, err := newNonce()
	if err != nil {
		u.fail(w, r, v, gateway.Errorf(gateway.CodeInternal, "sign-in nonce: %v", err))
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: signinCookie, Value: nonce, Path: consolePrefix + "/signin",
		Expires: u.deps.Now().Add(signinNonceTTL), MaxAge: int(signinNonceTTL / time.Second),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
	v.Title, v.CSRF = "signin.title", nonce
	v.Data = signinForm{Next: next, Error: errKey}
	u.show(w, r, status, "signin", v)
}

// signin checks the token posted through the form and starts a session. Only admin and
// viewer tokens open the console; the token is never logged nor echoed.
func (u *ui) signin(w http.ResponseWriter, r *http.Request, v *console.View) {
	cookie, err := r.Cookie(signinCookie)
	presented := r.PostFormValue("csrf")
	if err != nil || cookie.Value == "" || !sameOrigin(r) ||
		subtle.ConstantTimeCompare([]byte(cookie.Value), []byte(presented)) != 1 {
		u.fail(w, r, v, gateway.Errorf(gateway.CodeForbidden, "%s", v.T("error.csrf")))
		return
	}
	next := localPath(r.PostFormValue("next"))
	token := strings.TrimSpace(r.PostFormValue("token"))
	if token == "" {
		u.showSignin(w, r, v, http.StatusBadRequest, next, "error.notoken")
		return
	}
	tok := u.auth.find(token)
	switch {
	case tok == nil:
		u.showSignin(w, r, v, http.StatusUnauthorized, next, "error.badtoken")
		return
	case tok.Role != RoleAdmin && tok.Role != RoleViewer:
		u.showSignin(w, r, v, http.StatusForbidden, next, "error.decidetoken")
		return
	}
	value, expires, err := u.sessions.Issue(tok.Name)
	if err != nil {
		u.fail(w, r, v, gateway.Errorf(gateway.CodeInternal, "issuing a console session: %v", err))
		return
	}
	http.SetCookie(w, u.sessionCookie(r, value, expires))
	http.SetCookie(w, &http.Cookie{Name: signinCookie, Path: consolePrefix + "/signin", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	if next == "" {
		next = consolePrefix + "/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (u *ui) sessionCookie(r *http.Request, value string, expires time.Time) *http.Cookie {
	c := &http.Cookie{
		Name: console.SessionCookie, Value: value, Path: "/", Expires: expires,
		// Max-Age as well: browsers prefer it, and it does not depend on the browser's clock.
		MaxAge:   int(u.sessions.TTL() / time.Second),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	}
	if value == "" {
		c.Expires, c.MaxAge = time.Unix(0, 0), -1
	}
	return c
}

// signout ends the session: the form carries the session's CSRF token like every other.
func (u *ui) signout(w http.ResponseWriter, r *http.Request, v *console.View) {
	cookie, err := r.Cookie(console.SessionCookie)
	if err != nil {
		http.Redirect(w, r, consolePrefix+"/signin", http.StatusSeeOther)
		return
	}
	if _, err := u.sessions.Verify(cookie.Value); err != nil {
		http.SetCookie(w, u.sessionCookie(r, "", time.Time{}))
		http.Redirect(w, r, consolePrefix+"/signin", http.StatusSeeOther)
		return
	}
	if !sameOrigin(r) || !u.sessions.CheckCSRF(cookie.Value, r.PostFormValue("csrf")) {
		u.fail(w, r, v, gateway.Errorf(gateway.CodeForbidden, "%s", v.T("error.csrf")))
		return
	}
	http.SetCookie(w, u.sessionCookie(r, "", time.Time{}))
	u.done(w, r, consolePrefix+"/signin", "signedout")
}

// setLang remembers the language chosen with the switch for a year and goes back.
func (u *ui) setLang(w http.ResponseWriter, r *http.Request, v *console.View) {
	q := r.URL.Query()
	if lang, ok := console.ParseLang(q.Get("to")); ok {
		http.SetCookie(w, &http.Cookie{
			Name: console.LangCookie, Value: string(lang), Path: "/",
			Expires: u.deps.Now().Add(langCookieAge), MaxAge: int(langCookieAge / time.Second),
			HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil,
		})
	}
	back := localPath(q.Get("back"))
	if back == "" {
		back = consolePrefix + "/"
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// localPath is s when it is a path on this server ("/console/silences?x=1"), else "". A
// redirect to anything else ("//evil.example", "/\evil.example", "https://…") would make
// the console an open redirect.
func localPath(s string) string {
	if !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.ContainsAny(s, "\\\r\n\t") {
		return ""
	}
	for _, c := range s {
		if c < 0x20 || c == 0x7f {
			return ""
		}
	}
	p, err := url.Parse(s)
	if err != nil || p.Scheme != "" || p.Host != "" || p.User != nil || !strings.HasPrefix(p.Path, "/") || strings.HasPrefix(p.Path, "//") {
		return ""
	}
	return s
}

func newNonce() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
