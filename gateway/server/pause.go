package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/pause"
	"github.com/hush-gateway/hush/gateway/server/console"
)

// Customer self-service pause (issue #10, docs/pause.md): the admin API mints a signed,
// expiring link for one customer; the customer opens it, with no login, and chooses
// "pause marketing" or "only essential messages"; the choice becomes a silence created by
// "customer".

// PauseLinks configures the pause links.
type PauseLinks struct {
	// Secret signs the links (at least 16 bytes). Empty: minting answers 503 and every link
	// is refused.
	Secret []byte
	// TTL is how long a minted link stays valid unless the request asks otherwise; 0: 30d.
	TTL time.Duration
	// Days is the length of the "pause marketing" choice; 0: 30.
	Days int
	// PublicURL is where customers reach hush ("https://hush.example.com"): the base of the
	// minted URLs. "": the URL is relative to hush ("/pause/<token>").
	PublicURL string
}

const (
	defaultPauseTTL  = 30 * 24 * time.Hour
	maxPauseTTL      = 365 * 24 * time.Hour
	defaultPauseDays = 30
	// essentialFor is how long "only essential messages" lasts. A silence must end (the
	// engine refuses one without an end), and a customer's "leave me alone" should not
	// quietly expire in weeks: a year is the longest a link may live, so by the time it
	// ends the customer has had every chance to come back and choose again.
	essentialFor = 365 * 24 * time.Hour
)

// PauseCreatedBy is the CreatedBy of every silence a customer chose on the pause page: the
// API shows it as "created_by": "customer" and "source": "customer".
const PauseCreatedBy = "customer"

// pauseChoice is one option of the page.
type pauseChoice struct {
	name   string // the form value: "marketing" or "essential"
	reason string // the silence's Reason: also how a repeated choice is recognized
	cats   []gateway.Category
}

var (
	// "Pause marketing" silences what the customer named, marketing and sales; surveys are
	// not marketing, and are covered by "only essential messages".
	pauseMarketing = pauseChoice{name: "marketing", reason: "pause link: pause marketing",
		cats: []gateway.Category{gateway.CategoryMarketing, gateway.CategorySales}}
	// "Only essential messages" silences every category a silence can hold back: all but
	// transactional, service and incident, which are never blocked.
	pauseEssential = pauseChoice{name: "essential", reason: "pause link: only essential messages",
		cats: blockableCategories()}
)

func blockableCategories() []gateway.Category {
	var out []gateway.Category
	for _, c := range gateway.Categories {
		if !c.NeverBlocked() {
			out = append(out, c)
		}
	}
	return out
}

func pauseChoiceNamed(name string) (pauseChoice, bool) {
	for _, c := range []pauseChoice{pauseMarketing, pauseEssential} {
		if c.name == name {
			return c, true
		}
	}
	return pauseChoice{}, false
}

// newPauseSigner is the signer of deps' pause links; nil (links off) without a usable secret.
func newPauseSigner(deps Deps) *pause.Signer {
	if len(deps.Pause.Secret) == 0 {
		return nil
	}
	s, err := pause.NewSigner(deps.Pause.Secret, deps.Now)
	if err != nil {
		deps.Logger.Error("pause links are off", "err", err) // the error says the length, never the secret
		return nil
	}
	return s
}

type pauseLinkBody struct {
	TTL string `json:"ttl"`
}

type pauseLinkAnswer struct {
	URL        string    `json:"url"`
	ExpiresAt  time.Time `json:"expires_at"`
	CustomerID string    `json:"customer_id"`
}

// handlePauseLink answers POST /api/v1/customers/{identity}/pause-link: 201 with the URL of a
// new link for the customer who has the identity.
func handlePauseLink(deps Deps) http.Handler {
	signer := newPauseSigner(deps)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if signer == nil {
			writeErrorCode(w, gateway.CodeUnavailable, "pause links are not configured (pause.secret)")
			return
		}
		id, err := pathIdentity(r, deps.DefaultRegion)
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		var body pauseLinkBody
		if err := decodeOptionalJSON(w, r, deps.Limits.Body, &body); err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		ttl := cmpDuration(deps.Pause.TTL, defaultPauseTTL)
		if body.TTL != "" {
			d, err := gateway.ParseDuration(body.TTL)
			if err != nil {
				writeError(w, r, deps.Logger, invalidf("ttl: %v", err))
				return
			}
			ttl = d
		}
		if ttl <= 0 || ttl > maxPauseTTL {
			writeError(w, r, deps.Logger, invalidf("ttl must be longer than 0 and at most 365d"))
			return
		}
		var c *gateway.Customer
		err = deps.Store.View(r.Context(), func(tx gateway.Tx) error {
			var err error
			c, err = tx.CustomerByIdentity(id)
			return err
		})
		if errors.Is(err, gateway.ErrNotFound) {
			writeErrorCode(w, gateway.CodeNotFound, "no customer has this identity")
			return
		}
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		tok, claims, err := signer.Mint(c.ID, ttl)
		if err != nil {
			writeError(w, r, deps.Logger, fmt.Errorf("minting a pause link: %w", err))
			return
		}
		writeJSON(w, http.StatusCreated, pauseLinkAnswer{
			URL: deps.Pause.PublicURL + "/pause/" + tok, ExpiresAt: claims.ExpiresAt, CustomerID: c.ID,
		})
	})
}

func cmpDuration(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// pausePages serves GET and POST /pause/{token}: public pages (the token is the credential),
// in the customer's language, inside the console's minimal public layout.
type pausePages struct {
	u      *ui
	signer *pause.Signer
}

func newPausePages(deps Deps, u *ui) *pausePages {
	return &pausePages{u: u, signer: newPauseSigner(deps)}
}

// pauseView is what page_pause.html and page_pause_done.html show.
type pauseView struct {
	Token   string
	Days    int
	Current *pauseCurrent // the customer's pause in force, if any
	Key     string        // done page: the message key of what was chosen
	Until   time.Time     // done page: when it ends
}

type pauseCurrent struct {
	Key   string
	Until time.Time
}

// public wraps a pause handler: the console's strict headers (no script, no framing), no
// referrer (the URL is a credential and must not travel to any other site), never cached or
// indexed, and the body limit.
func (p *pausePages) public(h func(w http.ResponseWriter, r *http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setConsoleHeaders(w)
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("X-Robots-Tag", "noindex, nofollow")
		r.Body = http.MaxBytesReader(w, r.Body, p.u.deps.Limits.Body)
		h(w, r)
	})
}

// page answers GET /pause/{token}: the two choices.
func (p *pausePages) page() http.Handler {
	return p.public(func(w http.ResponseWriter, r *http.Request) {
		tok, c, ok := p.open(w, r, "")
		if !ok {
			return
		}
		v := p.view(r, c, "")
		v.Title = "pause.title"
		data := &pauseView{Token: tok, Days: p.days()}
		if cur, choice, err := p.current(r.Context(), c.ID); err != nil {
			p.failed(w, r, v, err)
			return
		} else if cur != nil {
			data.Current = &pauseCurrent{Key: "pause.current." + choice.name, Until: *cur.End}
		}
		v.Data = data
		p.show(w, r, http.StatusOK, "pause", v)
	})
}

// choose answers POST /pause/{token}: the customer's choice becomes a silence (or keeps the
// one they already chose), and the answer is the confirmation.
func (p *pausePages) choose() http.Handler {
	return p.public(func(w http.ResponseWriter, r *http.Request) {
		lang := r.PostFormValue("lang")
		_, c, ok := p.open(w, r, lang)
		if !ok {
			return
		}
		v := p.view(r, c, lang)
		choice, ok := pauseChoiceNamed(r.PostFormValue("choice"))
		if !ok || !sameOrigin(r) {
			p.refuse(w, r, v, http.StatusBadRequest)
			return
		}
		s, err := p.apply(r.Context(), c, choice)
		if err != nil {
			p.failed(w, r, v, err)
			return
		}
		v.Title = "pause.done.title"
		v.Data = &pauseView{Key: "pause.done." + choice.name, Until: *s.End}
		p.show(w, r, http.StatusOK, "pause_done", v)
	})
}

// open verifies the path's token and loads its customer, answering the refusal page when
// either fails: 400 for a token this hush did not sign (or a broken one), 410 for an
// expired one, 404 when its customer no longer exists. The page never says which.
func (p *pausePages) open(w http.ResponseWriter, r *http.Request, lang string) (string, *gateway.Customer, bool) {
	tok, _ := pathVar(r, "token")
	if p.signer == nil {
		p.refuse(w, r, p.view(r, nil, lang), http.StatusNotFound)
		return "", nil, false
	}
	claims, err := p.signer.Verify(tok)
	switch {
	case errors.Is(err, pause.ErrExpired):
		p.refuse(w, r, p.view(r, nil, lang), http.StatusGone)
		return "", nil, false
	case err != nil:
		p.refuse(w, r, p.view(r, nil, lang), http.StatusBadRequest)
		return "", nil, false
	}
	var c *gateway.Customer
	err = p.u.deps.Store.View(r.Context(), func(tx gateway.Tx) error {
		var err error
		c, err = tx.Customer(claims.CustomerID)
		return err
	})
	switch {
	case errors.Is(err, gateway.ErrNotFound) || err == nil && len(c.Identities) == 0:
		p.refuse(w, r, p.view(r, nil, lang), http.StatusNotFound)
		return "", nil, false
	case err != nil:
		p.failed(w, r, p.view(r, nil, lang), err)
		return "", nil, false
	}
	return tok, c, true
}

// current is the customer's pause in force, newest first, and which choice it was.
func (p *pausePages) current(ctx context.Context, customerID string) (*gateway.Silence, pauseChoice, error) {
	var found []gateway.Silence
	err := p.u.deps.Store.View(ctx, func(tx gateway.Tx) error {
		var err error
		found, _, err = tx.Silences(gateway.SilenceQuery{
			CustomerID: customerID, ActiveAt: p.u.deps.Now(), Page: gateway.Page{Limit: perCustomerListLimit},
		})
		return err
	})
	if err != nil {
		return nil, pauseChoice{}, fmt.Errorf("reading the customer's silences: %w", err)
	}
	for i := range found {
		s := &found[i]
		if s.CreatedBy != PauseCreatedBy || s.End == nil {
			continue
		}
		for _, c := range []pauseChoice{pauseMarketing, pauseEssential} {
			if s.Reason == c.reason {
				return s, c, nil
			}
		}
	}
	return nil, pauseChoice{}, nil
}

// apply makes choice the customer's pause. Choosing what is already in force keeps that
// silence (its end does not move: a reload or a second click changes nothing); choosing
// the other option lifts the old one and creates the new one, so pauses never stack.
//
// Two posts racing each other could each create a silence; the next visit's choice
// replaces the newer and the older ends on its own. Nothing worse than a duplicate can
// come of it, and it needs no lock the engine does not have.
func (p *pausePages) apply(ctx context.Context, c *gateway.Customer, choice pauseChoice) (*gateway.Silence, error) {
	cur, curChoice, err := p.current(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	if cur != nil && curChoice.name == choice.name {
		return cur, nil
	}
	engine := p.u.deps.Engine
	if cur != nil {
		if _, err := engine.LiftSilence(ctx, cur.ID, PauseCreatedBy, "replaced by the customer's new choice ("+choice.reason+")"); err != nil {
			return nil, fmt.Errorf("lifting the customer's earlier pause: %w", err)
		}
	}
	length := essentialFor
	if choice.name == pauseMarketing.name {
		length = time.Duration(p.days()) * 24 * time.Hour
	}
	s, err := engine.CreateSilence(ctx, gateway.SilenceInput{
		Identity: readableIdentity(c), For: length, Categories: slices.Clone(choice.cats),
		Reason: choice.reason, CreatedBy: PauseCreatedBy, Source: gateway.SilenceSourceCustomer,
	})
	if err != nil {
		return nil, fmt.Errorf("creating the customer's pause: %w", err)
	}
	if s.CustomerID != c.ID {
		// The identity moved to another customer between reading and writing (a merge): the
		// token names c, so the silence must not stay on anyone else.
		_, _ = engine.LiftSilence(ctx, s.ID, PauseCreatedBy, "created for another customer than the link's")
		return nil, fmt.Errorf("the customer's identity moved while pausing")
	}
	return s, nil
}

// readableIdentity is the identity the silence is created for: an email when the customer
// has one (what people recognize), else the first.
func readableIdentity(c *gateway.Customer) gateway.Identity {
	for _, id := range c.Identities {
		if strings.HasPrefix(string(id), "email:") {
			return id
		}
	}
	return c.Identities[0]
}

func (p *pausePages) days() int {
	if p.u.deps.Pause.Days > 0 {
		return p.u.deps.Pause.Days
	}
	return defaultPauseDays
}

// view picks the page's language: the form's (the page the customer just read), else the
// customer's own locale, else their browser's, else the config's; and their timezone for
// dates, else the configured one.
func (p *pausePages) view(r *http.Request, c *gateway.Customer, formLang string) *console.View {
	deps := p.u.deps
	lang, ok := console.ParseLang(formLang)
	if !ok && c != nil {
		lang, ok = console.ParseLang(c.Locale)
	}
	if !ok {
		lang = console.Negotiate(r.Header.Get("Accept-Language"), "", console.Lang(deps.Language))
	}
	loc := deps.Location
	if c != nil && c.Timezone != "" {
		if l, err := time.LoadLocation(c.Timezone); err == nil {
			loc = l
		}
	}
	return &console.View{Catalog: p.u.catalog, Lang: lang, Loc: loc, Path: "/pause/"}
}

func (p *pausePages) refuse(w http.ResponseWriter, r *http.Request, v *console.View, status int) {
	v.Title, v.Error = "pause.refused.title", v.T("pause.refused.text")
	p.show(w, r, status, "pause_refused", v)
}

func (p *pausePages) failed(w http.ResponseWriter, r *http.Request, v *console.View, err error) {
	p.u.deps.Logger.ErrorContext(r.Context(), "pause page failed", "route", routeTemplate(r), "err", err)
	v.Title, v.Error = "pause.refused.title", v.T("pause.failed.text")
	p.show(w, r, http.StatusInternalServerError, "pause_refused", v)
}

func (p *pausePages) show(w http.ResponseWriter, r *http.Request, status int, page string, v *console.View) {
	var buf strings.Builder
	if err := p.u.pages.RenderPublic(&buf, page, v); err != nil {
		p.u.deps.Logger.ErrorContext(r.Context(), "pause page failed", "page", page, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(buf.String()))
}
