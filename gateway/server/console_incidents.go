package server

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/server/console"
)

// The incidents page: open and resolved incidents, the form that opens one and a resolve
// button per open incident, over the admin API's input checks and the engine.

// openIncidentsShown bounds the open incidents listed at once; there are seldom more than a
// handful.
const openIncidentsShown = 500

type incidentsData struct {
	Open     []gateway.Incident
	Resolved []gateway.Incident
	Next     string
	First    string
	Form     incidentForm
	Pager    opsPages
}

type incidentForm struct {
	Title      string
	Scope      string // "all" or "tag"
	Tag        string
	Categories []checkOption
}

func (u *ui) incidentsPage(w http.ResponseWriter, r *http.Request, v *console.View) {
	u.showIncidents(w, r, v, incidentForm{Scope: "all", Categories: categoryOptions(nil)}, http.StatusOK)
}

// showIncidents renders the page with the open form as given (a refusal shows it again).
func (u *ui) showIncidents(w http.ResponseWriter, r *http.Request, v *console.View, form incidentForm, status int) {
	d := &incidentsData{Form: form}
	v.Title, v.Data = "incidents.title", d
	cursor := r.URL.Query().Get("cursor")
	err := u.deps.Store.View(r.Context(), func(tx gateway.Tx) error {
		var err error
		if d.Open, _, err = tx.Incidents(gateway.IncidentQuery{OpenOnly: true, Page: gateway.Page{Limit: openIncidentsShown}}); err != nil {
			return err
		}
		var next string
		d.Resolved, next, err = filtered(cursor, func(c string) ([]gateway.Incident, string, error) {
			return tx.Incidents(gateway.IncidentQuery{Page: gateway.Page{Limit: consoleStorePage, Cursor: c}})
		}, func(i *gateway.Incident) bool { return i.ResolvedAt != nil })
		if next != "" {
			d.Next = withQuery(consolePrefix+"/incidents", url.Values{"cursor": {next}})
		}
		return err
	})
	if err != nil {
		u.fail(w, r, v, err)
		return
	}
	if cursor != "" {
		d.First = consolePrefix + "/incidents"
	}
	d.Pager = opsPages{V: v, Next: d.Next, First: d.First}
	u.show(w, r, status, "incidents", v)
}

func (u *ui) incidentOpen(w http.ResponseWriter, r *http.Request, v *console.View) {
	if err := r.ParseForm(); err != nil {
		u.fail(w, r, v, invalidf("%s", v.T("error.invalid")))
		return
	}
	f := r.PostForm
	form := incidentForm{Title: strings.TrimSpace(f.Get("title")), Scope: f.Get("scope"), Tag: strings.TrimSpace(f.Get("tag")),
		Categories: categoryOptions(f["categories"])}
	body := incidentBody{Title: form.Title, Categories: f["categories"]}
	switch {
	case form.Title == "":
		v.Error = v.T("incidents.form.titlerequired")
	case form.Scope == "tag" && form.Tag == "":
		v.Error = v.T("incidents.form.tagrequired")
	case form.Scope == "tag":
		body.Scope = "tag:" + form.Tag
	case form.Scope == "all":
		body.Scope = "all"
	default:
		v.Error = v.T("incidents.form.badscope")
	}
	var in gateway.IncidentInput
	if v.Error == "" {
		var err error
		if in, err = body.toInput(); err != nil {
			v.Error = v.T("error.invalid") + " " + gateway.ErrorMessageOf(err)
		}
	}
	if v.Error != "" {
		u.showIncidents(w, r, v, form, http.StatusBadRequest)
		return
	}
	in.Source = "console"
	in.CreatedBy = callerOf(v)
	if _, err := u.deps.Engine.OpenIncident(r.Context(), in); err != nil {
		u.fail(w, r, v, err)
		return
	}
	u.done(w, r, consolePrefix+"/incidents", "incident_opened")
}

func (u *ui) incidentResolve(w http.ResponseWriter, r *http.Request, v *console.View) {
	id, err := pathVar(r, "id")
	if err != nil {
		u.fail(w, r, v, err)
		return
	}
	if _, err := u.deps.Engine.ResolveIncident(r.Context(), id, callerOf(v)); err != nil {
		switch gateway.ErrorCodeOf(err) {
		case gateway.CodeNotFound:
			err = gateway.Errorf(gateway.CodeNotFound, "%s", v.T("incidents.notfound"))
		case gateway.CodeConflict:
			err = gateway.Errorf(gateway.CodeConflict, "%s", v.T("incidents.resolved.already"))
		}
		u.fail(w, r, v, err)
		return
	}
	u.done(w, r, consolePrefix+"/incidents", "incident_resolved")
}
