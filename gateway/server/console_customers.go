package server

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/server/console"
)

// The customer pages: search by any identity, and one customer's 360° view with the merged
// timeline the admin API serves.

type customersData struct {
	Query    string
	NotFound bool
}

func (u *ui) customersPage(w http.ResponseWriter, r *http.Request, v *console.View) {
	d := &customersData{Query: strings.TrimSpace(r.URL.Query().Get("q"))}
	v.Title, v.Data = "customers.title", d
	if d.Query == "" {
		u.show(w, r, http.StatusOK, "customers", v)
		return
	}
	// The same reading as the API's: "email:…", a bare address, a phone in any usual
	// format (national numbers in the default region), or a vendor id "zendesk:8841".
	id, err := gateway.ParseIdentity(d.Query, u.deps.DefaultRegion)
	if err != nil {
		v.Error = v.T("customers.search.invalid")
		u.show(w, r, http.StatusBadRequest, "customers", v)
		return
	}
	err = u.deps.Store.View(r.Context(), func(tx gateway.Tx) error {
		_, err := tx.CustomerByIdentity(id)
		return err
	})
	switch {
	case errors.Is(err, gateway.ErrNotFound):
		d.NotFound = true
		u.show(w, r, http.StatusOK, "customers", v)
	case err != nil:
		u.fail(w, r, v, err)
	default:
		http.Redirect(w, r, customerPath(id), http.StatusSeeOther)
	}
}

type customerData struct {
	Identity    gateway.Identity
	View        customerView
	Active      []silenceRow
	Past        []silenceRow
	Items       []timelineRow
	Next        string
	First       string
	NewSilence  string
	ActiveTable opsTable
	PastTable   opsTable
	Pager       opsPages
}

// timelineRow is one timeline entry as the page shows it.
type timelineRow struct {
	At       time.Time
	Event    *gateway.Event
	Scores   []scoreCell
	Decision *gateway.Decision
	// Explain is where the reason of a dropped decision is shown; ExplainKey names the link.
	Explain    string
	ExplainKey string
}

// scoreCell is one score of an event: its label (a message key) and its value already
// written in the page's language.
type scoreCell struct {
	Label string
	Value string
}

func (u *ui) customerPage(w http.ResponseWriter, r *http.Request, v *console.View) {
	raw, err := pathVar(r, "identity")
	if err != nil {
		u.fail(w, r, v, err)
		return
	}
	id, err := gateway.ParseIdentity(raw, u.deps.DefaultRegion)
	if err != nil {
		u.fail(w, r, v, gateway.Errorf(gateway.CodeInvalid, "%s", v.T("customers.search.invalid")))
		return
	}
	cursor := r.URL.Query().Get("cursor")
	view, err := loadCustomer(r.Context(), u.deps, id, gateway.Page{Cursor: cursor})
	if errors.Is(err, gateway.ErrNotFound) {
		u.fail(w, r, v, gateway.Errorf(gateway.CodeNotFound, "%s", v.T("customer.notfound")))
		return
	}
	if err != nil {
		u.fail(w, r, v, err)
		return
	}
	here := customerPath(id)
	d := &customerData{Identity: id, View: view,
		NewSilence: consolePrefix + "/silences/new?identity=" + url.QueryEscape(string(id))}
	now := u.deps.Now()
	back := here
	if cursor != "" {
		back = withQuery(here, url.Values{"cursor": {cursor}})
		d.First = here
	}
	for _, s := range view.Silences.Active {
		d.Active = append(d.Active, newSilenceRow(v, s, now, back))
	}
	for _, s := range view.Silences.Past {
		d.Past = append(d.Past, newSilenceRow(v, s, now, back))
	}
	for _, it := range view.Timeline.Items {
		d.Items = append(d.Items, newTimelineRow(v, it))
	}
	if view.Timeline.NextCursor != "" {
		d.Next = withQuery(here, url.Values{"cursor": {view.Timeline.NextCursor}})
	}
	d.ActiveTable = opsTable{ID: "silences-active", V: v, Rows: d.Active}
	d.PastTable = opsTable{ID: "silences-past", V: v, Rows: d.Past}
	d.Pager = opsPages{V: v, Next: d.Next, First: d.First}
	v.Title, v.Data = "customer.title", d
	u.show(w, r, http.StatusOK, "customer", v)
}

func newTimelineRow(v *console.View, it timelineItem) timelineRow {
	row := timelineRow{At: it.At, Event: it.Event, Decision: it.Decision}
	if e := it.Event; e != nil {
		add := func(label string, f *float64) {
			if f != nil {
				row.Scores = append(row.Scores, scoreCell{Label: label, Value: decimal(v.Lang, *f)})
			}
		}
		add("customer.event.csat", e.CSAT)
		add("customer.event.nps", e.NPS)
		add("customer.event.ces", e.CES)
		if e.Sentiment != nil {
			add("customer.event.sentiment", &e.Sentiment.Score)
		}
	}
	if d := it.Decision; d != nil && !d.Allowed {
		row.Explain, row.ExplainKey = explainDrop(d)
	}
	return row
}

// explainDrop is where the console shows what made a decision a drop: the silence, the
// opt-out on the customer's page, the incident, or the caps and quiet hours of the rules.
func explainDrop(d *gateway.Decision) (href, key string) {
	switch {
	case d.SilenceID != "":
		return silencePath(d.SilenceID), "customer.explain.silence"
	case d.OptOutID != "":
		return "#optout-" + d.OptOutID, "customer.explain.optout"
	case d.IncidentID != "":
		return consolePrefix + "/incidents#incident-" + d.IncidentID, "customer.explain.incident"
	case d.Reason == gateway.ReasonFrequencyCap:
		return consolePrefix + "/rules#caps", "customer.explain.cap"
	case d.Reason == gateway.ReasonQuietHours:
		return consolePrefix + "/rules#quiet-hours", "customer.explain.quiet"
	}
	return "", ""
}

// decimal writes f with the language's decimal mark (0,5 / 0.5), as short as it reads back.
func decimal(lang console.Lang, f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if lang == console.Spanish {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}
