package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/server/console"
)

// The dead-letter pages: deliveries hush verified but could not parse, their error and
// payload, and the replay button over the admin API's replay.

type deadLettersData struct {
	Items []gateway.DeadLetter
	Next  string
	First string
	Pager opsPages
}

func (u *ui) deadLettersPage(w http.ResponseWriter, r *http.Request, v *console.View) {
	cursor := r.URL.Query().Get("cursor")
	d := &deadLettersData{}
	v.Title, v.Data = "deadletters.title", d
	var next string
	err := u.deps.Store.View(r.Context(), func(tx gateway.Tx) error {
		var err error
		d.Items, next, err = tx.DeadLetters(gateway.Page{Limit: consoleListSize, Cursor: cursor})
		return err
	})
	if err != nil {
		// A cursor the store cannot read is the caller's mistake, not an outage.
		if cursor != "" && gateway.ErrorCodeOf(err) == gateway.CodeInternal {
			err = invalidf("%s", v.T("error.invalid"))
		}
		u.fail(w, r, v, err)
		return
	}
	if next != "" {
		d.Next = withQuery(consolePrefix+"/deadletters", url.Values{"cursor": {next}})
	}
	if cursor != "" {
		d.First = consolePrefix + "/deadletters"
	}
	d.Pager = opsPages{V: v, Next: d.Next, First: d.First}
	u.show(w, r, http.StatusOK, "deadletters", v)
}

type deadLetterData struct {
	gateway.DeadLetter
	Payload string // the body, indented when it is JSON
	IsJSON  bool
	Headers []headerLine
	// Outcome of the replay that just ran, when the page is shown after one.
	Replayed   bool
	Accepted   int
	Duplicates int
	Ignored    int
}

type headerLine struct {
	Name, Value string
}

func (u *ui) deadLetterPage(w http.ResponseWriter, r *http.Request, v *console.View) {
	dl, err := loadDeadLetter(r, u.deps)
	if err != nil {
		u.deadLetterMissing(w, r, v, err)
		return
	}
	d := newDeadLetterData(dl)
	q := r.URL.Query()
	if q.Get("done") == "deadletter_replayed" {
		d.Replayed = true
		d.Accepted, _ = strconv.Atoi(q.Get("accepted"))
		d.Duplicates, _ = strconv.Atoi(q.Get("duplicates"))
		d.Ignored, _ = strconv.Atoi(q.Get("ignored"))
	}
	v.Title, v.Data = "deadletter.title", d
	u.show(w, r, http.StatusOK, "deadletter", v)
}

func (u *ui) deadLetterMissing(w http.ResponseWriter, r *http.Request, v *console.View, err error) {
	if gateway.ErrorCodeOf(err) == gateway.CodeNotFound {
		err = gateway.Errorf(gateway.CodeNotFound, "%s", v.T("deadletters.notfound"))
	}
	u.fail(w, r, v, err)
}

func newDeadLetterData(dl *gateway.DeadLetter) *deadLetterData {
	d := &deadLetterData{DeadLetter: *dl}
	var pretty bytes.Buffer
	if json.Valid(dl.Body) && json.Indent(&pretty, dl.Body, "", "  ") == nil {
		d.Payload, d.IsJSON = pretty.String(), true
	} else {
		d.Payload = strings.ToValidUTF8(string(dl.Body), "\uFFFD")
	}
	names := make([]string, 0, len(dl.Header))
	for k := range dl.Header {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		d.Headers = append(d.Headers, headerLine{Name: k, Value: strings.Join(dl.Header[k], ", ")})
	}
	return d
}

func (u *ui) deadLetterReplay(w http.ResponseWriter, r *http.Request, v *console.View) {
	dl, err := loadDeadLetter(r, u.deps)
	if err != nil {
		u.deadLetterMissing(w, r, v, err)
		return
	}
	res, err := replayDeadLetter(r, u.deps, dl)
	if err != nil {
		code := gateway.ErrorCodeOf(err)
		if code == gateway.CodeInternal || code == gateway.CodeUnavailable {
			u.fail(w, r, v, err)
			return
		}
		// Still unparseable, or its source is gone: the page again, with why.
		v.Error = v.T("deadletters.replay.failed", gateway.ErrorMessageOf(err))
		v.Title, v.Data = "deadletter.title", newDeadLetterData(dl)
		u.show(w, r, code.HTTPStatus(), "deadletter", v)
		return
	}
	to := withQuery(consolePrefix+"/deadletters/"+url.PathEscape(dl.ID), url.Values{
		"accepted":   {strconv.Itoa(res.Accepted)},
		"duplicates": {strconv.Itoa(res.Duplicates)},
		"ignored":    {strconv.Itoa(res.Ignored)},
	})
	u.done(w, r, to, "deadletter_replayed")
}
