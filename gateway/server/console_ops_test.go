package server_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/server/console"
)

// opsSeed is what seedOps stored: a rule's silence, a manual one, an open incident and a
// dead letter, each through the real intake or admin API.
type opsSeed struct {
	ruleSilence   gateway.Silence // ana@example.com, by low-csat
	manualSilence gateway.Silence // bob@example.com, by the admin API
	incident      gateway.Incident
	deadLetter    gateway.DeadLetter // unparseable: replay fails again
}

func seedOps(t *testing.T, h *harness) opsSeed {
	t.Helper()
	var s opsSeed
	if res := h.webhook("ev-low", surveyEvent("ev-low", "ana@example.com", 1), testStart, sourceKey); res.status != http.StatusOK {
		t.Fatalf("low-CSAT webhook: %d %s", res.status, res.body)
	}
	s.ruleSilence = h.onlySilence("email:ana@example.com")
	if s.ruleSilence.Rule != "low-csat" {
		t.Fatalf("the webhook's silence: %+v", s.ruleSilence)
	}
	// A recorded, dropped send to Ana: the timeline shows it with its silence.
	if res := h.do(http.MethodPost, "/api/v1/decisions", decideToken, map[string]any{"channel": "email", "category": "marketing",
		"recipients": []any{map[string]string{"email": "ana@example.com"}}}); res.status != http.StatusOK {
		t.Fatalf("decision: %d %s", res.status, res.body)
	}
	s.manualSilence = h.silence("bob@example.com")
	res := h.do(http.MethodPost, "/api/v1/incidents", adminToken, map[string]any{"title": "Fibre outage <north>", "scope": "tag:north"})
	if res.status != http.StatusCreated {
		t.Fatalf("incident: %d %s", res.status, res.body)
	}
	res.json(t, &s.incident)
	// Verified but unparseable: kept as a dead letter.
	broken := []byte(`{"id":"d-bad","type":"survey.response","customer":{"email":"<b>carla@example.com</b>"},"csat":"bad"}`)
	if res := h.webhook("d-bad", broken, testStart, sourceKey); res.status != http.StatusBadRequest {
		t.Fatalf("broken webhook: %d %s", res.status, res.body)
	}
	err := h.store.View(context.Background(), func(tx gateway.Tx) error {
		dls, _, err := tx.DeadLetters(gateway.Page{})
		if err == nil && len(dls) == 1 {
			s.deadLetter = dls[0]
		}
		return err
	})
	if err != nil || s.deadLetter.ID == "" {
		t.Fatalf("dead letter: %v %+v", err, s.deadLetter)
	}
	return s
}

func (h *harness) onlySilence(id gateway.Identity) gateway.Silence {
	h.t.Helper()
	var out []gateway.Silence
	err := h.store.View(context.Background(), func(tx gateway.Tx) error {
		c, err := tx.CustomerByIdentity(id)
		if err != nil {
			return err
		}
		out, _, err = tx.Silences(gateway.SilenceQuery{CustomerID: c.ID})
		return err
	})
	if err != nil || len(out) != 1 {
		h.t.Fatalf("silences of %s: %v %+v", id, err, out)
	}
	return out[0]
}

func (h *harness) storedSilence(id string) gateway.Silence {
	h.t.Helper()
	var s *gateway.Silence
	if err := h.store.View(context.Background(), func(tx gateway.Tx) error {
		var err error
		s, err = tx.Silence(id)
		return err
	}); err != nil {
		h.t.Fatalf("silence %s: %v", id, err)
	}
	return *s
}

func (h *harness) storedIncident(id string) gateway.Incident {
	h.t.Helper()
	var i *gateway.Incident
	if err := h.store.View(context.Background(), func(tx gateway.Tx) error {
		var err error
		i, err = tx.Incident(id)
		return err
	}); err != nil {
		h.t.Fatalf("incident %s: %v", id, err)
	}
	return *i
}

func (h *harness) storedDeadLetter(id string) gateway.DeadLetter {
	h.t.Helper()
	var d *gateway.DeadLetter
	if err := h.store.View(context.Background(), func(tx gateway.Tx) error {
		var err error
		d, err = tx.DeadLetter(id)
		return err
	}); err != nil {
		h.t.Fatalf("dead letter %s: %v", id, err)
	}
	return *d
}

// checkPage fails unless res is a complete console page with status want.
func checkPage(t *testing.T, what string, res consoleResponse, want int) {
	t.Helper()
	if res.status != want {
		t.Fatalf("%s: %d, want %d\n%s", what, res.status, want, res.body)
	}
	if strings.Contains(res.body, console.MissingMarker()) {
		t.Errorf("%s: a string is missing from the catalog:\n%s", what, res.body)
	}
	if !strings.Contains(res.body, "</html>") {
		t.Errorf("%s: not a whole page", what)
	}
}

// changeForms are the ids of forms that change something; a viewer sees none of them.
var changeForms = regexp.MustCompile(`id="(lift-|extend-|silence-create|incident-open|resolve-|replay-form|silence-new|customer-new-silence)`)

func TestConsoleOpsPagesRender(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	s := seedOps(t, h)
	pages := []struct {
		path string
		want []string // in the page, as HTML
	}{
		{"/console/customers", []string{`id="customer-search"`}},
		{"/console/customers/" + url.PathEscape("email:ana@example.com"), []string{"email:ana@example.com", "slow answer", "low-csat",
			`href="/console/silences/` + s.ruleSilence.ID + `"`}},
		{"/console/silences", []string{s.ruleSilence.ID, s.manualSilence.ID, "email:bob@example.com"}},
		{"/console/silences/" + s.ruleSilence.ID, []string{"low-csat", "tool:ev-low", "rule:low-csat"}},
		{"/console/incidents", []string{`id="incident-` + s.incident.ID + `"`, "Fibre outage &lt;north&gt;", "north"}},
		{"/console/deadletters", []string{s.deadLetter.ID, `href="/console/deadletters/` + s.deadLetter.ID + `"`}},
		{"/console/deadletters/" + s.deadLetter.ID, []string{`id="deadletter-payload"`, "&lt;b&gt;carla@example.com&lt;/b&gt;", "Webhook-Id"}},
	}
	for _, who := range []struct {
		name  string
		token string
		admin bool
	}{{"admin", adminToken, true}, {"viewer", viewerToken, false}} {
		for _, lang := range []string{"en", "es"} {
			c := h.console(t, who.token)
			c.setLang(lang)
			for _, p := range pages {
				res := c.get(p.path)
				checkPage(t, who.name+" "+lang+" "+p.path, res, http.StatusOK)
				for _, w := range p.want {
					if !strings.Contains(res.body, w) {
						t.Errorf("%s %s: page lacks %q", who.name, p.path, w)
					}
				}
				forms := changeForms.FindAllString(res.body, -1)
				if !who.admin && len(forms) > 0 {
					t.Errorf("viewer %s: page shows forms that change things: %v", p.path, forms)
				}
				if n := strings.Count(res.body, `method="post"`); !who.admin && n != 1 { // sign-out only
					t.Errorf("viewer %s: %d post forms, want only sign-out", p.path, n)
				}
			}
		}
	}

	// The admin's pages carry the forms.
	admin := h.console(t, adminToken)
	for path, ids := range map[string][]string{
		"/console/silences":                                             {`id="lift-` + s.ruleSilence.ID + `"`, `id="extend-` + s.manualSilence.ID + `"`, `id="silence-new"`},
		"/console/silences/" + s.manualSilence.ID:                       {`id="lift-` + s.manualSilence.ID + `"`, `id="extend-` + s.manualSilence.ID + `"`},
		"/console/silences/new":                                         {`id="silence-create"`},
		"/console/incidents":                                            {`id="incident-open"`, `id="resolve-` + s.incident.ID + `"`},
		"/console/deadletters/" + s.deadLetter.ID:                       {`id="replay-form"`},
		"/console/customers/" + url.PathEscape("email:ana@example.com"): {`id="lift-` + s.ruleSilence.ID + `"`},
	} {
		res := admin.get(path)
		checkPage(t, "admin "+path, res, http.StatusOK)
		for _, id := range ids {
			if !strings.Contains(res.body, id) {
				t.Errorf("admin %s lacks %s", path, id)
			}
		}
	}
	// The manual-silence form is the admin's.
	viewer := h.console(t, viewerToken)
	checkPage(t, "viewer's new silence", viewer.get("/console/silences/new"), http.StatusForbidden)
	// Unknown records are 404 pages.
	for _, path := range []string{"/console/silences/sil_nope", "/console/deadletters/dlq_nope",
		"/console/customers/" + url.PathEscape("email:nobody@example.com")} {
		checkPage(t, path, admin.get(path), http.StatusNotFound)
	}
	checkPage(t, "bad identity in the path", admin.get("/console/customers/not%20an%20identity"), http.StatusBadRequest)
}

func TestConsoleCustomerSearch(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	body := `{"id":"ev-p","type":"survey.response","at":"2026-11-20T09:00:00Z","customer":{"email":"ana@example.com","phone":"+34 600 111 222","ids":{"zendesk":"8841"}},"csat":4}`
	if res := h.webhook("ev-p", []byte(body), testStart, sourceKey); res.status != http.StatusOK {
		t.Fatalf("webhook: %d %s", res.status, res.body)
	}
	c := h.console(t, viewerToken)
	for _, q := range []struct {
		q, to string
	}{
		{"Ana@Example.com", "email:ana@example.com"},
		{"email:ana@example.com", "email:ana@example.com"},
		{"600 111 222", "phone:+34600111222"},     // national, read in the default region
		{"+34 600-111-222", "phone:+34600111222"}, // international, any punctuation
		{"0034600111222", "phone:+34600111222"},
		{"zendesk:8841", "zendesk:8841"},
	} {
		res := c.get("/console/customers?q=" + url.QueryEscape(q.q))
		if res.status != http.StatusSeeOther || res.location() != "/console/customers/"+url.PathEscape(q.to) {
			t.Errorf("search %q: %d to %q, want 303 to %s", q.q, res.status, res.location(), q.to)
			continue
		}
		checkPage(t, "customer "+q.to, c.get(res.location()), http.StatusOK)
	}
	none := c.get("/console/customers?q=" + url.QueryEscape("nobody@example.com"))
	checkPage(t, "no match", none, http.StatusOK)
	if !strings.Contains(none.body, `id="customer-none"`) || !strings.Contains(none.body, `value="nobody@example.com"`) {
		t.Errorf("no match: the page should say so and keep the query:\n%s", none.body)
	}
	bad := c.get("/console/customers?q=" + url.QueryEscape("<not an identity>"))
	checkPage(t, "bad query", bad, http.StatusBadRequest)
	if !strings.Contains(bad.body, `id="form-error"`) || !strings.Contains(bad.body, `value="&lt;not an identity&gt;"`) {
		t.Errorf("bad query: want the message and the query kept:\n%s", bad.body)
	}
}

func TestConsoleSilenceLift(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	s := seedOps(t, h)
	id := s.ruleSilence.ID
	path := "/console/silences/" + id + "/lift"
	notLifted := func(what string) {
		t.Helper()
		if got := h.storedSilence(id); got.LiftedAt != nil {
			t.Fatalf("%s lifted the silence: %+v", what, got)
		}
		if d := h.dryDecision("ana@example.com"); d.Allowed {
			t.Fatalf("%s: Ana is allowed again", what)
		}
	}
	admin := h.console(t, adminToken)
	admin.get("/console/silences/" + id)

	res := admin.post(path, url.Values{"reason": {"   "}})
	checkPage(t, "lift without a reason", res, http.StatusBadRequest)
	if !strings.Contains(res.body, `id="form-error"`) || !strings.Contains(res.body, `id="lift-`+id+`"`) {
		t.Errorf("lift without a reason: want the form and its message:\n%s", res.body)
	}
	notLifted("an empty reason")

	viewer := h.console(t, viewerToken)
	viewer.get("/console/silences/" + id)
	checkPage(t, "viewer lift", viewer.post(path, url.Values{"reason": {"mine"}}), http.StatusForbidden)
	notLifted("a viewer")

	res = admin.post(path, url.Values{"reason": {"customer called, all fixed"}, "back": {"/console/customers/email:ana@example.com"}})
	if res.status != http.StatusSeeOther || res.location() != "/console/customers/email:ana@example.com?done=silence_lifted" {
		t.Fatalf("lift: %d to %q\n%s", res.status, res.location(), res.body)
	}
	got := h.storedSilence(id)
	if got.LiftedAt == nil || got.LiftedBy != "admin:ops" || got.LiftReason != "customer called, all fixed" {
		t.Errorf("after the lift: %+v", got)
	}
	if d := h.dryDecision("ana@example.com"); !d.Allowed {
		t.Errorf("after the lift Ana is still withheld: %+v", d)
	}
	page := admin.get(res.location())
	checkPage(t, "after the lift", page, http.StatusOK)
	if !strings.Contains(page.body, `id="flash"`) {
		t.Errorf("no notice after the lift")
	}
	// A form that names a page elsewhere comes back to the silence instead.
	other := h.silence("dan@example.com")
	res = admin.post("/console/silences/"+other.ID+"/lift", url.Values{"reason": {"x"}, "back": {"https://evil.example/"}})
	if res.status != http.StatusSeeOther || !strings.HasPrefix(res.location(), "/console/silences/"+other.ID+"?") {
		t.Errorf("lift with a foreign back: %d to %q", res.status, res.location())
	}
}

func TestConsoleSilenceExtend(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	s := seedOps(t, h)
	id := s.manualSilence.ID
	end := *s.manualSilence.End
	path := "/console/silences/" + id + "/extend"
	admin := h.console(t, adminToken)
	admin.get("/console/silences")
	unchanged := func(what string) {
		t.Helper()
		if got := h.storedSilence(id); !got.End.Equal(end) || got.ExtendedBy != "" {
			t.Fatalf("%s changed the silence: end %v by %q", what, got.End, got.ExtendedBy)
		}
	}
	for _, bad := range []url.Values{
		{"until": {testStart.AddDate(0, 0, -1).Format("2006-01-02")}}, // in the past
		{"until": {"tomorrow"}},
		{"more": {"9d"}},
		{},
		{"more": {"7d"}, "until": {testStart.AddDate(0, 2, 0).Format("2006-01-02")}},
	} {
		res := admin.post(path, bad)
		checkPage(t, fmt.Sprintf("extend %v", bad), res, http.StatusBadRequest)
		if !strings.Contains(res.body, `id="form-error"`) || !strings.Contains(res.body, `id="extend-`+id+`"`) {
			t.Errorf("extend %v: want the form and its message", bad)
		}
		unchanged(fmt.Sprintf("extend %v", bad))
	}
	// A date before the current end: the engine refuses, the page says so.
	res := admin.post(path, url.Values{"until": {testStart.AddDate(0, 0, 2).Format("2006-01-02")}})
	checkPage(t, "extend to before the end", res, http.StatusBadRequest)
	unchanged("a date before the end")

	res = admin.post(path, url.Values{"more": {"7d"}, "reason": {"asked for more quiet"}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("extend 7d: %d %s", res.status, res.body)
	}
	got := h.storedSilence(id)
	if want := end.Add(7 * 24 * time.Hour); !got.End.Equal(want) || got.ExtendedBy != "admin:ops" || got.ExtendReason != "asked for more quiet" {
		t.Errorf("after 7 more days: end %v by %q why %q, want %v", got.End, got.ExtendedBy, got.ExtendReason, want)
	}
	until := testStart.AddDate(0, 3, 0).Format("2006-01-02")
	if res := admin.post(path, url.Values{"until": {until}}); res.status != http.StatusSeeOther {
		t.Fatalf("extend until: %d %s", res.status, res.body)
	}
	want, _ := time.ParseInLocation("2006-01-02", until, time.UTC)
	if got := h.storedSilence(id); !got.End.Equal(want) {
		t.Errorf("after until %s: end %v", until, got.End)
	}
	page := admin.get("/console/silences/" + id)
	checkPage(t, "extended silence", page, http.StatusOK)
	if !strings.Contains(page.body, "admin:ops") {
		t.Errorf("the silence page does not say who extended it")
	}
}

func TestConsoleSilenceCreate(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	admin := h.console(t, adminToken)
	if res := admin.get("/console/silences/new?identity=" + url.QueryEscape("eva@example.com")); !strings.Contains(res.body, `value="eva@example.com"`) {
		t.Errorf("the form does not start with the identity it was given")
	}
	before := h.counts()
	for _, bad := range []url.Values{
		{"identity": {"not an identity"}, "duration": {"15d"}, "reason": {"r"}},
		{"identity": {""}, "duration": {"15d"}, "reason": {"r"}},
		{"identity": {"eva@example.com"}, "duration": {"until"}, "until": {testStart.AddDate(0, 0, -1).Format("2006-01-02")}, "reason": {"r"}},
		{"identity": {"eva@example.com"}, "duration": {"1y"}, "reason": {"r"}},
		{"identity": {"eva@example.com"}, "duration": {"15d"}, "reason": {""}},
		{"identity": {"eva@example.com"}, "duration": {"15d"}, "reason": {"r"}, "channels": {"fax"}},
	} {
		res := admin.post("/console/silences", bad)
		checkPage(t, fmt.Sprintf("create %v", bad), res, http.StatusBadRequest)
		if !strings.Contains(res.body, `id="form-error"`) || !strings.Contains(res.body, `id="silence-create"`) {
			t.Errorf("create %v: want the form and its message", bad)
		}
		if reason := bad.Get("reason"); reason != "" && !strings.Contains(res.body, `value="`+reason+`"`) {
			t.Errorf("create %v: the form lost what was typed", bad)
		}
	}
	if after := h.counts(); after != before {
		t.Fatalf("refused forms changed the store: %+v → %+v", before, after)
	}

	res := admin.post("/console/silences", url.Values{"identity": {"600 222 333"}, "duration": {"30d"},
		"categories": {"marketing", "sales"}, "channels": {"sms", "voice"}, "reason": {"complained on the phone"}})
	if res.status != http.StatusSeeOther || !strings.HasPrefix(res.location(), "/console/silences/sil") ||
		!strings.HasSuffix(res.location(), "?done=silence_created") {
		t.Fatalf("create: %d to %q\n%s", res.status, res.location(), res.body)
	}
	s := h.onlySilence("phone:+34600222333")
	if s.CreatedBy != "admin:ops" || s.Reason != "complained on the phone" || s.End == nil ||
		!s.End.Equal(testStart.Add(30*24*time.Hour)) || len(s.Categories) != 2 || len(s.Channels) != 2 {
		t.Errorf("created silence: %+v", s)
	}
	page := admin.get(res.location())
	checkPage(t, "the new silence", page, http.StatusOK)
	if !strings.Contains(html.UnescapeString(page.body), "phone:+34600222333") || !strings.Contains(page.body, `id="flash"`) {
		t.Errorf("the new silence's page:\n%s", page.body)
	}

	// Until a date.
	until := testStart.AddDate(0, 1, 0).Format("2006-01-02")
	res = admin.post("/console/silences", url.Values{"identity": {"zendesk:77"}, "duration": {"until"}, "until": {until}, "reason": {"r"}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("create until: %d %s", res.status, res.body)
	}
	want, _ := time.ParseInLocation("2006-01-02", until, time.UTC)
	if s := h.onlySilence("zendesk:77"); s.End == nil || !s.End.Equal(want) {
		t.Errorf("silence until %s: %+v", until, s)
	}
}

func TestConsoleIncidents(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	admin := h.console(t, adminToken)
	admin.get("/console/incidents")
	before := h.counts()
	for _, bad := range []url.Values{{"title": {" "}, "scope": {"all"}}, {"title": {"x"}, "scope": {"tag"}}, {"title": {"x"}, "scope": {"region"}}} {
		res := admin.post("/console/incidents", bad)
		checkPage(t, fmt.Sprintf("open %v", bad), res, http.StatusBadRequest)
		if !strings.Contains(res.body, `id="form-error"`) || !strings.Contains(res.body, `id="incident-open"`) {
			t.Errorf("open %v: want the form and its message", bad)
		}
	}
	if after := h.counts(); after != before {
		t.Fatalf("refused forms changed the store: %+v → %+v", before, after)
	}
	res := admin.post("/console/incidents", url.Values{"title": {"Payments down"}, "scope": {"tag"}, "tag": {"vip"}, "categories": {"marketing"}})
	if res.status != http.StatusSeeOther || res.location() != "/console/incidents?done=incident_opened" {
		t.Fatalf("open: %d to %q\n%s", res.status, res.location(), res.body)
	}
	var open []gateway.Incident
	_ = h.store.View(context.Background(), func(tx gateway.Tx) error {
		var err error
		open, _, err = tx.Incidents(gateway.IncidentQuery{OpenOnly: true})
		return err
	})
	if len(open) != 1 || open[0].Title != "Payments down" || open[0].Scope != "tag:vip" || open[0].CreatedBy != "admin:ops" {
		t.Fatalf("open incidents: %+v", open)
	}
	inc := open[0]
	page := admin.get(res.location())
	checkPage(t, "incidents", page, http.StatusOK)
	if !strings.Contains(page.body, `id="resolve-`+inc.ID+`"`) {
		t.Fatalf("no resolve button for the open incident")
	}
	res = admin.post("/console/incidents/"+inc.ID+"/resolve", nil)
	if res.status != http.StatusSeeOther {
		t.Fatalf("resolve: %d %s", res.status, res.body)
	}
	if got := h.storedIncident(inc.ID); got.ResolvedAt == nil || got.ResolvedBy != "admin:ops" {
		t.Errorf("after resolve: %+v", got)
	}
	page = admin.get("/console/incidents")
	if !strings.Contains(page.body, `id="incidents-resolved"`) || strings.Contains(page.body, `id="resolve-`+inc.ID+`"`) {
		t.Errorf("the resolved incident is not listed as resolved:\n%s", page.body)
	}
	checkPage(t, "resolve twice", admin.post("/console/incidents/"+inc.ID+"/resolve", nil), http.StatusConflict)
	checkPage(t, "resolve unknown", admin.post("/console/incidents/inc_nope/resolve", nil), http.StatusNotFound)
}

func TestConsoleDeadLetterReplay(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	s := seedOps(t, h)
	admin := h.console(t, adminToken)
	admin.get("/console/deadletters/" + s.deadLetter.ID)

	// Still unparseable: the page again with why, the attempt counted, nothing ingested.
	res := admin.post("/console/deadletters/"+s.deadLetter.ID+"/replay", nil)
	checkPage(t, "replay of a broken payload", res, http.StatusBadRequest)
	if !strings.Contains(res.body, `id="form-error"`) || !strings.Contains(res.body, `id="deadletter-payload"`) {
		t.Errorf("failed replay: want the page and the message:\n%s", res.body)
	}
	if got := h.storedDeadLetter(s.deadLetter.ID); got.Attempts != 1 || got.ReplayedAt != nil {
		t.Errorf("after a failed replay: %+v", got)
	}

	// Fixed since: replay ingests it.
	dl := &gateway.DeadLetter{
		ID: gateway.NewID("dlq", testStart.Add(-time.Hour)), Source: "tool", ReceivedAt: testStart.Add(-time.Hour), Error: "old error",
		Header: map[string][]string{"Webhook-Id": {"d-7"}, "Content-Type": {"application/json"}},
		Body:   surveyEvent("d-7", "fay@example.com", 5),
	}
	if err := h.store.Update(context.Background(), func(tx gateway.Tx) error { return tx.PutDeadLetter(dl) }); err != nil {
		t.Fatal(err)
	}
	res = admin.post("/console/deadletters/"+dl.ID+"/replay", nil)
	if res.status != http.StatusSeeOther {
		t.Fatalf("replay: %d %s", res.status, res.body)
	}
	if events := h.customerEvents("email:fay@example.com"); len(events) != 1 || events[0].ID != "d-7" {
		t.Fatalf("events after the replay: %+v", events)
	}
	if got := h.storedDeadLetter(dl.ID); got.ReplayedAt == nil || got.Attempts != 1 || got.Error != "" {
		t.Errorf("dead letter after the replay: %+v", got)
	}
	page := admin.get(res.location())
	checkPage(t, "after the replay", page, http.StatusOK)
	if !strings.Contains(page.body, `id="replay-outcome"`) {
		t.Errorf("the page does not show the replay's outcome:\n%s", page.body)
	}
}

// TestConsoleOpsRefusals: every post of these pages, without the CSRF token, with a wrong
// one, or from a viewer, is a 403 page and changes nothing.
func TestConsoleOpsRefusals(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	s := seedOps(t, h)
	admin := h.console(t, adminToken)
	admin.get("/console/silences")
	viewer := h.console(t, viewerToken)
	viewer.get("/console/silences")
	posts := []struct {
		path string
		form url.Values
	}{
		{"/console/silences/" + s.ruleSilence.ID + "/lift", url.Values{"reason": {"r"}}},
		{"/console/silences/" + s.manualSilence.ID + "/extend", url.Values{"more": {"7d"}}},
		{"/console/silences", url.Values{"identity": {"eva@example.com"}, "duration": {"15d"}, "reason": {"r"}}},
		{"/console/incidents", url.Values{"title": {"t"}, "scope": {"all"}}},
		{"/console/incidents/" + s.incident.ID + "/resolve", url.Values{}},
		{"/console/deadletters/" + s.deadLetter.ID + "/replay", url.Values{}},
	}
	type state struct {
		counts   counts
		rule     gateway.Silence
		manual   gateway.Silence
		incident gateway.Incident
		dl       gateway.DeadLetter
	}
	snapshot := func() state {
		return state{h.counts(), h.storedSilence(s.ruleSilence.ID), h.storedSilence(s.manualSilence.ID),
			h.storedIncident(s.incident.ID), h.storedDeadLetter(s.deadLetter.ID)}
	}
	same := func(a, b state) bool {
		return a.counts == b.counts && a.rule.UpdatedAt.Equal(b.rule.UpdatedAt) && a.manual.End.Equal(*b.manual.End) &&
			a.manual.UpdatedAt.Equal(b.manual.UpdatedAt) && (a.incident.ResolvedAt == nil) == (b.incident.ResolvedAt == nil) &&
			a.dl.Attempts == b.dl.Attempts
	}
	before := snapshot()
	for _, p := range posts {
		for _, c := range []struct {
			name   string
			client *consoleClient
			csrf   []string // nil: the page's own
		}{
			{"missing token", admin, []string{""}},
			{"wrong token", admin, []string{"bm90LXRoZS10b2tlbg"}},
			{"viewer", viewer, nil},
		} {
			form := cloneValues(p.form)
			if c.csrf != nil {
				form["csrf"] = c.csrf
			}
			res := c.client.post(p.path, form)
			checkPage(t, c.name+" "+p.path, res, http.StatusForbidden)
			if after := snapshot(); !same(before, after) {
				t.Fatalf("%s %s changed the store: %+v → %+v", c.name, p.path, before, after)
			}
		}
	}
}

var timelineEntry = regexp.MustCompile(`id="(event-\d+|decision-[^"]+)"`)
var nextPage = regexp.MustCompile(`id="page-next" href="([^"]+)"`)

// TestConsoleTimelinePages walks a long timeline page by page: every event and decision
// once, newest first, and a dropped send links to the silence that withheld it.
func TestConsoleTimelinePages(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	var events []string
	for i := range 40 {
		id := fmt.Sprintf("ev-%02d", i)
		events = append(events, fmt.Sprintf(`{"id":%q,"type":"chat.message","at":%q,"customer":{"email":"gil@example.com"},"channel":"sms","text":"message <%d>"}`,
			id, testStart.Add(-time.Duration(80-2*i)*time.Minute).Format(time.RFC3339), i))
	}
	if res := h.webhook("batch", []byte("["+strings.Join(events, ",")+"]"), testStart, sourceKey); res.status != http.StatusOK {
		t.Fatalf("webhook: %d %s", res.status, res.body)
	}
	silence := h.silence("gil@example.com")
	for i := range 35 {
		h.clock.Set(testStart.Add(time.Duration(i) * time.Minute))
		if res := h.do(http.MethodPost, "/api/v1/decisions", decideToken, map[string]any{"channel": "email", "category": "marketing",
			"recipients": []any{map[string]string{"email": "gil@example.com"}}}); res.status != http.StatusOK {
			t.Fatalf("decision: %d %s", res.status, res.body)
		}
	}
	c := h.console(t, viewerToken)
	seen := map[string]int{}
	var order []string
	path := "/console/customers/" + url.PathEscape("email:gil@example.com")
	pages := 0
	for path != "" {
		pages++
		if pages > 10 {
			t.Fatal("the timeline does not end")
		}
		res := c.get(path)
		checkPage(t, path, res, http.StatusOK)
		for _, m := range timelineEntry.FindAllStringSubmatch(res.body, -1) {
			seen[m[1]]++
			order = append(order, m[1])
		}
		if pages == 1 && !strings.Contains(res.body, `class="explain" href="/console/silences/`+silence.ID+`"`) {
			t.Errorf("a withheld send does not link to its silence %s", silence.ID)
		}
		if pages == 1 && !strings.Contains(res.body, "message &lt;39&gt;") {
			t.Errorf("the newest event's text is not shown escaped")
		}
		path = ""
		if m := nextPage.FindStringSubmatch(res.body); m != nil {
			path = html.UnescapeString(m[1])
		}
	}
	if pages < 2 {
		t.Errorf("%d pages for 75 entries, want more than one", pages)
	}
	if len(seen) != 75 {
		t.Errorf("%d distinct entries, want 40 events and 35 decisions", len(seen))
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s shown %d times", k, n)
		}
	}
	// Newest first: the last decision comes before the newest event, the oldest event last.
	if len(order) > 0 && (!strings.HasPrefix(order[0], "decision-") || order[len(order)-1] != "event-1") {
		t.Errorf("order: first %s, last %s", order[0], order[len(order)-1])
	}
}

var silenceRowID = regexp.MustCompile(`<tr id="silence-([^"]+)"`)

// silenceIDs walks a silences listing from path through its next links and returns the ids
// of every row, in order.
func silenceIDs(t *testing.T, c *consoleClient, path string) []string {
	t.Helper()
	var ids []string
	for pages := 0; path != ""; pages++ {
		if pages > 20 {
			t.Fatal("the listing does not end")
		}
		res := c.get(path)
		checkPage(t, path, res, http.StatusOK)
		for _, m := range silenceRowID.FindAllStringSubmatch(res.body, -1) {
			ids = append(ids, m[1])
		}
		path = ""
		if m := nextPage.FindStringSubmatch(res.body); m != nil {
			path = html.UnescapeString(m[1])
		}
	}
	return ids
}

func TestConsoleSilencesFilters(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	s := seedOps(t, h) // ana: low-csat, 15 days; bob: manual, 15 days, reason "test"
	var manual []string
	for i := range 60 {
		res := h.do(http.MethodPost, "/api/v1/silences", adminToken, map[string]any{
			"identity": fmt.Sprintf("p%02d@example.com", i), "for": fmt.Sprintf("%dd", 1+i%5), "reason": fmt.Sprintf("Billing dispute %d", i)})
		if res.status != http.StatusCreated {
			t.Fatalf("silence %d: %d %s", i, res.status, res.body)
		}
		var got gateway.Silence
		res.json(t, &got)
		manual = append(manual, got.ID)
	}
	lifted := h.silence("gone@example.com")
	if res := h.do(http.MethodDelete, "/api/v1/silences/"+lifted.ID, adminToken, map[string]string{"reason": "r"}); res.status != http.StatusOK {
		t.Fatalf("lift: %d %s", res.status, res.body)
	}
	c := h.console(t, viewerToken)
	count := func(ids []string) map[string]int {
		m := map[string]int{}
		for _, id := range ids {
			m[id]++
		}
		return m
	}

	// Default: in force only, every one once across pages.
	all := count(silenceIDs(t, c, "/console/silences"))
	if len(all) != 62 || all[lifted.ID] != 0 {
		t.Errorf("in force: %d silences (lifted one shown %d times), want 62", len(all), all[lifted.ID])
	}
	for id, n := range all {
		if n != 1 {
			t.Errorf("%s shown %d times", id, n)
		}
	}
	// Unticking "in force only" shows the lifted one too.
	if got := count(silenceIDs(t, c, "/console/silences?filtered=1")); len(got) != 63 || got[lifted.ID] != 1 {
		t.Errorf("every silence: %d (lifted %d), want 63", len(got), got[lifted.ID])
	}
	// By rule.
	if got := silenceIDs(t, c, "/console/silences?filtered=1&active=1&rule=low-csat"); len(got) != 1 || got[0] != s.ruleSilence.ID {
		t.Errorf("rule low-csat: %v", got)
	}
	// Reason contains, any case: the 60 disputes, over two pages.
	if got := count(silenceIDs(t, c, "/console/silences?filtered=1&active=1&reason=BILLING+dispute")); len(got) != 60 || got[s.manualSilence.ID] != 0 {
		t.Errorf("reason filter: %d silences, want 60", len(got))
	}
	// Ends before a date: the disputes silenced for 1 or 2 days end before day 3.
	before := testStart.AddDate(0, 0, 3).Format("2006-01-02")
	got := count(silenceIDs(t, c, "/console/silences?filtered=1&active=1&ends_before="+before))
	if len(got) != 24 {
		t.Errorf("ending before %s: %d silences, want 24", before, len(got))
	}
	for i, id := range manual {
		if short := 1+i%5 <= 2; (got[id] == 1) != short {
			t.Errorf("silence %d (%d days) shown %d times ending before %s", i, 1+i%5, got[id], before)
		}
	}
	checkPage(t, "a bad date", c.get("/console/silences?filtered=1&ends_before=soon"), http.StatusBadRequest)
	checkPage(t, "a bad cursor", c.get("/console/silences?cursor=%21%21"), http.StatusBadRequest)
}
