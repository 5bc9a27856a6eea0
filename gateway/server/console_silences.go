package server

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/server/console"
)

// The silences pages: a filtered list, one silence, the manual-silence form, and the lift,
// extend and create actions over the same engine calls as the admin API.

const (
	consoleListSize = 50
	// consoleScanLimit bounds how many stored records one filtered page reads: a filter that
	// matches little of a large store answers with what it found and a link onwards instead
	// of reading everything in one request.
	consoleScanLimit = 5000
	// consoleStorePage is the page size of the store reads behind a filtered listing.
	consoleStorePage = 200
)

// extendSteps are the "n days more" choices of the extend form.
var extendSteps = []string{"7d", "15d", "30d"}

// silenceDurations are the choices of the manual silence form; "until" takes a date instead.
var silenceDurations = []string{"7d", "15d", "30d"}

// silenceRow is one silence as the pages show it, with where its links go. View is the
// page's view, for the shared partial that draws the lift and extend forms.
type silenceRow struct {
	gateway.Silence
	View         *console.View
	Href         string // the silence's own page
	CustomerHref string
	State        string // message key: common.active, common.lifted or common.expired
	Active       bool
	Extendable   bool   // in force with an end to move
	Back         string // where the forms send the browser afterwards
	Shadowed     bool
}

func newSilenceRow(v *console.View, s gateway.Silence, now time.Time, back string) silenceRow {
	row := silenceRow{Silence: s, View: v, Href: silencePath(s.ID), CustomerHref: customerPath(s.Identity), Back: back}
	row.Active = s.ActiveAt(now)
	switch {
	case s.LiftedAt != nil:
		row.State = "common.lifted"
	case row.Active || now.Before(s.Start):
		row.State = "common.active"
	default:
		row.State = "common.expired"
	}
	row.Extendable = row.Active && s.End != nil
	row.Shadowed = s.Shadow
	return row
}

func silencePath(id string) string { return consolePrefix + "/silences/" + url.PathEscape(id) }

func customerPath(id gateway.Identity) string {
	return consolePrefix + "/customers/" + url.PathEscape(string(id))
}

// localBack is where a form goes back to: a console path the form named, else fallback. Only
// paths of this console are followed, so a forged form cannot send the browser elsewhere.
func localBack(s, fallback string) string {
	if p := localPath(s); strings.HasPrefix(p, consolePrefix+"/") {
		return p
	}
	return fallback
}

// consoleDate reads a date input (2026-12-08) as the start of that day in the configured
// timezone.
func consoleDate(s string, loc *time.Location) (time.Time, error) {
	return time.ParseInLocation("2006-01-02", strings.TrimSpace(s), loc)
}

// filtered reads one page of a store listing, keeping only what keep accepts. Its cursor
// is where the scan stopped (a store cursor and an offset into that page), so that every
// match is shown once across pages however sparse the matches are.
func filtered[T any](cursor string, fetch func(cursor string) ([]T, string, error), keep func(*T) bool) ([]T, string, error) {
	var pos streamPos
	if cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || json.Unmarshal(b, &pos) != nil || pos.Offset < 0 {
			return nil, "", invalidf("cursor is not one this server handed out")
		}
	}
	s := &stream[T]{pos: pos, fetch: fetch}
	var out []T
	for scanned := 0; len(out) < consoleListSize && scanned < consoleScanLimit; scanned++ {
		item, err := s.peek()
		if err != nil {
			return nil, "", err
		}
		if item == nil {
			return out, "", nil
		}
		if keep(item) {
			out = append(out, *item)
		}
		s.pop()
	}
	if item, err := s.peek(); err != nil || item == nil {
		return out, "", err
	}
	b, _ := json.Marshal(s.pos) // plain struct: cannot fail
	return out, base64.RawURLEncoding.EncodeToString(b), nil
}

// withQuery is path with its query set to q (cursor and all).
func withQuery(path string, q url.Values) string {
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// opsTable is a table of silences for the shared template: its id, the view and the rows.
type opsTable struct {
	ID   string
	V    *console.View
	Rows []silenceRow
}

// opsPages is the next/first page links of a listing for the shared template.
type opsPages struct {
	V           *console.View
	Next, First string
}

// --- list ---

type silencesData struct {
	Rule       string
	Reason     string
	EndsBefore string
	Active     bool
	Rules      []string
	Rows       []silenceRow
	Next       string
	First      string
	Table      opsTable
	Pager      opsPages
}

func (u *ui) silencesPage(w http.ResponseWriter, r *http.Request, v *console.View) {
	q := r.URL.Query()
	d := &silencesData{
		Rule:       strings.TrimSpace(q.Get("rule")),
		Reason:     strings.TrimSpace(q.Get("reason")),
		EndsBefore: strings.TrimSpace(q.Get("ends_before")),
		// The filter form carries "filtered" so that an unticked box reads as off; a bare
		// visit shows only the silences in force.
		Active: q.Get("filtered") == "" || q.Get("active") != "",
	}
	for _, rule := range u.deps.Rules {
		d.Rules = append(d.Rules, rule.Name)
	}
	v.Title, v.Data = "silences.title", d
	var before time.Time
	if d.EndsBefore != "" {
		t, err := consoleDate(d.EndsBefore, u.deps.Location)
		if err != nil {
			v.Error = v.T("silences.filter.baddate")
			u.show(w, r, http.StatusBadRequest, "silences", v)
			return
		}
		before = t
	}
	now := u.deps.Now()
	sq := gateway.SilenceQuery{Rule: d.Rule}
	if d.Active {
		sq.ActiveAt = now
	}
	reason := strings.ToLower(d.Reason)
	var items []gateway.Silence
	var next string
	err := u.deps.Store.View(r.Context(), func(tx gateway.Tx) error {
		var err error
		items, next, err = filtered(q.Get("cursor"), func(c string) ([]gateway.Silence, string, error) {
			sq.Page = gateway.Page{Limit: consoleStorePage, Cursor: c}
			return tx.Silences(sq)
		}, func(s *gateway.Silence) bool {
			if reason != "" && !strings.Contains(strings.ToLower(s.Reason), reason) {
				return false
			}
			return before.IsZero() || s.End != nil && s.End.Before(before)
		})
		return err
	})
	if err != nil {
		u.fail(w, r, v, err)
		return
	}
	// The row forms come back to this listing, without the notice of a previous form.
	here := cloneQuery(q)
	here.Del("done")
	back := withQuery(consolePrefix+"/silences", here)
	for _, s := range items {
		d.Rows = append(d.Rows, newSilenceRow(v, s, now, back))
	}
	if next != "" {
		nq := cloneQuery(q)
		nq.Set("cursor", next)
		nq.Del("done")
		d.Next = withQuery(consolePrefix+"/silences", nq)
	}
	if q.Get("cursor") != "" {
		fq := cloneQuery(q)
		fq.Del("cursor")
		fq.Del("done")
		d.First = withQuery(consolePrefix+"/silences", fq)
	}
	d.Table = opsTable{ID: "silences-table", V: v, Rows: d.Rows}
	d.Pager = opsPages{V: v, Next: d.Next, First: d.First}
	u.show(w, r, http.StatusOK, "silences", v)
}

func cloneQuery(q url.Values) url.Values {
	out := url.Values{}
	for k, vs := range q {
		out[k] = slices.Clone(vs)
	}
	return out
}

// --- one silence ---

func (u *ui) silencePage(w http.ResponseWriter, r *http.Request, v *console.View) {
	id, err := pathVar(r, "id")
	if err != nil {
		u.fail(w, r, v, err)
		return
	}
	u.showSilence(w, r, v, id, http.StatusOK)
}

// showSilence renders the page of silence id with status (a form's refusal shows the page
// again with the message).
func (u *ui) showSilence(w http.ResponseWriter, r *http.Request, v *console.View, id string, status int) {
	var s *gateway.Silence
	err := u.deps.Store.View(r.Context(), func(tx gateway.Tx) error {
		var err error
		s, err = tx.Silence(id)
		return err
	})
	if errors.Is(err, gateway.ErrNotFound) {
		u.fail(w, r, v, gateway.Errorf(gateway.CodeNotFound, "%s", v.T("silences.notfound")))
		return
	}
	if err != nil {
		u.fail(w, r, v, err)
		return
	}
	v.Title = "silence.title"
	row := newSilenceRow(v, *s, u.deps.Now(), silencePath(s.ID))
	v.Data = &row
	u.show(w, r, status, "silence", v)
}

// --- lift and extend ---

func (u *ui) silenceLift(w http.ResponseWriter, r *http.Request, v *console.View) {
	id, err := pathVar(r, "id")
	if err != nil {
		u.fail(w, r, v, err)
		return
	}
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	switch {
	case reason == "":
		v.Error = v.T("silences.lift.reasonrequired")
	case len(reason) > 1000:
		v.Error = v.T("silences.form.toolong")
	}
	if v.Error != "" {
		u.showSilence(w, r, v, id, http.StatusBadRequest)
		return
	}
	if _, err := u.deps.Engine.LiftSilence(r.Context(), id, callerOf(v), reason); err != nil {
		u.silenceRefused(w, r, v, id, "silences.lift.failed", err)
		return
	}
	u.done(w, r, localBack(r.PostFormValue("back"), silencePath(id)), "silence_lifted")
}

func (u *ui) silenceExtend(w http.ResponseWriter, r *http.Request, v *console.View) {
	id, err := pathVar(r, "id")
	if err != nil {
		u.fail(w, r, v, err)
		return
	}
	more, until := strings.TrimSpace(r.PostFormValue("more")), strings.TrimSpace(r.PostFormValue("until"))
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	var by time.Duration
	var end time.Time
	switch {
	case len(reason) > 1000:
		v.Error = v.T("silences.form.toolong")
	case more != "" && until != "":
		v.Error = v.T("silences.extend.both")
	case more != "":
		if !slices.Contains(extendSteps, more) {
			v.Error = v.T("silences.extend.choose")
			break
		}
		by, _ = gateway.ParseDuration(more) // one of extendSteps: parses
	case until != "":
		t, err := consoleDate(until, u.deps.Location)
		switch {
		case err != nil:
			v.Error = v.T("silences.form.baddate")
		case !t.After(u.deps.Now()):
			v.Error = v.T("silences.form.past")
		}
		end = t
	default:
		v.Error = v.T("silences.extend.choose")
	}
	if v.Error != "" {
		u.showSilence(w, r, v, id, http.StatusBadRequest)
		return
	}
	if _, err := extendSilence(r.Context(), u.deps, id, by, end, callerOf(v), reason); err != nil {
		u.silenceRefused(w, r, v, id, "silences.extend.failed", err)
		return
	}
	u.done(w, r, localBack(r.PostFormValue("back"), silencePath(id)), "silence_extended")
}

// silenceRefused shows why the engine refused a lift or an extend: the silence's page with
// the engine's sentence, or the error page when there is no such silence.
func (u *ui) silenceRefused(w http.ResponseWriter, r *http.Request, v *console.View, id, key string, err error) {
	code := gateway.ErrorCodeOf(err)
	if code == gateway.CodeNotFound {
		u.fail(w, r, v, gateway.Errorf(gateway.CodeNotFound, "%s", v.T("silences.notfound")))
		return
	}
	if code == gateway.CodeInternal || code == gateway.CodeUnavailable {
		u.fail(w, r, v, err)
		return
	}
	v.Error = v.T(key, gateway.ErrorMessageOf(err))
	u.showSilence(w, r, v, id, code.HTTPStatus())
}

// --- create ---

// checkOption is one checkbox or choice of a form.
type checkOption struct {
	Value   string
	Label   string // message key
	Checked bool
}

type silenceFormData struct {
	Identity   string
	Duration   string
	Until      string
	Reason     string
	Durations  []checkOption
	Categories []checkOption
	Channels   []checkOption
}

func newSilenceForm(identity, duration, until, reason string, cats, chans []string) *silenceFormData {
	f := &silenceFormData{Identity: identity, Duration: duration, Until: until, Reason: reason}
	if f.Duration == "" {
		f.Duration = "15d"
	}
	for _, d := range append(slices.Clone(silenceDurations), "until") {
		f.Durations = append(f.Durations, checkOption{Value: d, Label: "silences.duration." + d, Checked: d == f.Duration})
	}
	f.Categories = categoryOptions(cats)
	for _, c := range gateway.Channels {
		f.Channels = append(f.Channels, checkOption{Value: string(c), Label: "channel." + string(c), Checked: slices.Contains(chans, string(c))})
	}
	return f
}

// categoryOptions are the categories a silence or an incident can hold back, ticked as
// chosen (none chosen: the defaults, shown unticked and explained by the form).
func categoryOptions(chosen []string) []checkOption {
	var out []checkOption
	for _, c := range gateway.Categories {
		if c.NeverBlocked() {
			continue
		}
		out = append(out, checkOption{Value: string(c), Label: "category." + string(c), Checked: slices.Contains(chosen, string(c))})
	}
	return out
}

func (u *ui) silenceNewPage(w http.ResponseWriter, r *http.Request, v *console.View) {
	if !v.CanWrite {
		u.fail(w, r, v, gateway.Errorf(gateway.CodeForbidden, "%s", v.T("error.viewer")))
		return
	}
	v.Title = "silences.new.title"
	v.Data = newSilenceForm(r.URL.Query().Get("identity"), "", "", "", nil, nil)
	u.show(w, r, http.StatusOK, "silence_new", v)
}

func (u *ui) silenceCreate(w http.ResponseWriter, r *http.Request, v *console.View) {
	if err := r.ParseForm(); err != nil {
		u.fail(w, r, v, invalidf("%s", v.T("error.invalid")))
		return
	}
	f := r.PostForm
	form := newSilenceForm(strings.TrimSpace(f.Get("identity")), f.Get("duration"), strings.TrimSpace(f.Get("until")),
		strings.TrimSpace(f.Get("reason")), f["categories"], f["channels"])
	body := silenceBody{Identity: form.Identity, Categories: f["categories"], Channels: f["channels"], Reason: form.Reason}
	now := u.deps.Now()
	switch {
	case form.Identity == "":
		v.Error = v.T("silences.form.identityrequired")
	case func() bool { _, err := gateway.ParseIdentity(form.Identity, u.deps.DefaultRegion); return err != nil }():
		v.Error = v.T("silences.form.badidentity")
	case form.Reason == "":
		v.Error = v.T("silences.form.reasonrequired")
	case len(form.Reason) > 1000:
		v.Error = v.T("silences.form.toolong")
	case form.Duration == "until":
		t, err := consoleDate(form.Until, u.deps.Location)
		switch {
		case err != nil:
			v.Error = v.T("silences.form.baddate")
		case !t.After(now):
			v.Error = v.T("silences.form.past")
		}
		body.Until = t.UTC().Format(time.RFC3339)
	case slices.Contains(silenceDurations, form.Duration):
		body.For = form.Duration
	default:
		v.Error = v.T("silences.form.choose")
	}
	var in gateway.SilenceInput
	if v.Error == "" {
		var err error
		if in, err = body.toInput(u.deps.DefaultRegion, now); err != nil {
			v.Error = v.T("error.invalid") + " " + gateway.ErrorMessageOf(err)
		}
	}
	if v.Error != "" {
		v.Title, v.Data = "silences.new.title", form
		u.show(w, r, http.StatusBadRequest, "silence_new", v)
		return
	}
	in.CreatedBy = callerOf(v)
	s, err := u.deps.Engine.CreateSilence(r.Context(), in)
	if err != nil {
		if code := gateway.ErrorCodeOf(err); code != gateway.CodeInternal && code != gateway.CodeUnavailable {
			v.Title, v.Data = "silences.new.title", form
			v.Error = v.T("silences.create.failed", gateway.ErrorMessageOf(err))
			u.show(w, r, code.HTTPStatus(), "silence_new", v)
			return
		}
		u.fail(w, r, v, err)
		return
	}
	u.done(w, r, silencePath(s.ID), "silence_created")
}
