package console

import (
	"time"
)

// View is what every page template receives: who is looking, in which language and
// timezone, the CSRF token for its forms, and the page's own Data.
type View struct {
	Catalog *Catalog
	Lang    Lang
	Loc     *time.Location // the configured timezone: every time is shown in it

	User     string // token name; "" on the sign-in page
	Role     string // "admin" or "viewer"
	CanWrite bool   // admin: forms and buttons that change something are shown
	CSRF     string // the session's anti-forgery token, for every form

	Nav   string // which navigation entry is current ("dashboard", "customers", …)
	Title string // message key of the page title
	Path  string // the request's path and query, for the language switch to come back to

	Flash     string // message key of a one-time notice after a form ("silence.lifted")
	FlashKind string // "ok" or "error"
	Error     string // an error sentence to show (already in the page's language when possible)

	Data any
}

// T is the message key in the page's language.
func (v *View) T(key string, args ...any) string {
	return v.Catalog.T(v.Lang, key, args...)
}

// Langs lists the languages for the switch.
func (v *View) Langs() []Lang { return Langs() }

// NavItem is one entry of the console's navigation.
type NavItem struct {
	Key, Href, Label string
	Current          bool
}

// NavItems is the navigation, with the entry of the current page marked.
func (v *View) NavItems() []NavItem {
	entries := []struct{ key, href string }{
		{"dashboard", "/console/"},
		{"customers", "/console/customers"},
		{"silences", "/console/silences"},
		{"incidents", "/console/incidents"},
		{"deadletters", "/console/deadletters"},
		{"rules", "/console/rules"},
	}
	items := make([]NavItem, 0, len(entries))
	for _, e := range entries {
		items = append(items, NavItem{Key: e.key, Href: e.href, Label: v.T("nav." + e.key), Current: v.Nav == e.key})
	}
	return items
}

// LangName is the name of lang in that language, for the switch.
func (v *View) LangName(lang Lang) string { return v.Catalog.T(lang, "layout.lang."+string(lang)) }

// RoleName is the translated name of the signed-in role.
func (v *View) RoleName() string { return v.T("role." + v.Role) }

// Zone is the name of the configured timezone.
func (v *View) Zone() string { return v.loc().String() }
