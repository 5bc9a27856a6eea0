package server

import (
	"encoding/csv"
	"net/http"
	"strings"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// csvPage is how many silences one read transaction of the export covers: the export is
// read page by page so that a long download never holds a transaction open.
const csvPage = 500

// silencesCSV writes every silence the query selects (active=, rule=, topic=, identity=;
// no paging parameters: all of them) as CSV, one row per silence, for tools that send from
// their own servers and can import a suppression list (Mailchimp, Klaviyo, HubSpot…):
//
//	email,phone,customer_id,silence_id,rule,categories,channels,start,end
//
// email and phone are the customer's first known ones; channels is empty for "every
// channel"; end is empty while the silence waits for its topic. Shadow silences (rules
// being tried out) are left out: they are not enforced. No free text (reasons) is written.
func silencesCSV(deps Deps, w http.ResponseWriter, r *http.Request) {
	active, err := boolParam(r, "active")
	if err != nil {
		writeError(w, r, deps.Logger, err)
		return
	}
	q := gateway.SilenceQuery{Rule: r.URL.Query().Get("rule"), Topic: r.URL.Query().Get("topic"), Page: gateway.Page{Limit: csvPage}}
	if active {
		q.ActiveAt = deps.Now()
	}
	type row struct {
		s        gateway.Silence
		customer *gateway.Customer
	}
	var rows []row
	started := false
	cw := csv.NewWriter(w)
	for {
		rows = rows[:0]
		var next string
		found := true
		err := deps.Store.View(r.Context(), func(tx gateway.Tx) error {
			ok, err := filterByIdentity(r, tx, deps.DefaultRegion, &q.CustomerID)
			if !ok || err != nil {
				found = false
				return err
			}
			items, n, err := tx.Silences(q)
			if err != nil {
				return err
			}
			next = n
			for _, s := range items {
				if !s.Enforced() { // shadow and holdout control silences withhold nothing
					continue
				}
				c, err := tx.Customer(s.CustomerID)
				if err != nil {
					c = nil // erased since: the row still names the silence
				}
				rows = append(rows, row{s: s, customer: c})
			}
			return nil
		})
		if err != nil {
			if !started {
				writeError(w, r, deps.Logger, err)
				return
			}
			// Headers are gone: end the body short, so the download is visibly incomplete.
			deps.Logger.ErrorContext(r.Context(), "silences export stopped", "err", err)
			panic(http.ErrAbortHandler)
		}
		if !started {
			started = true
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
			w.Header().Set("Content-Disposition", `attachment; filename="hush-silences.csv"`)
			_ = cw.Write([]string{"email", "phone", "customer_id", "silence_id", "rule", "categories", "channels", "start", "end"})
		}
		for _, rw := range rows {
			email, phone := "", ""
			if rw.customer != nil {
				email, phone = firstOfKind(rw.customer.Identities, gateway.KindEmail), firstOfKind(rw.customer.Identities, gateway.KindPhone)
			}
			end := ""
			if rw.s.End != nil {
				end = rw.s.End.UTC().Format(time.RFC3339)
			}
			_ = cw.Write([]string{email, phone, rw.s.CustomerID, rw.s.ID, rw.s.Rule,
				joinStrings(rw.s.Categories), joinStrings(rw.s.Channels), rw.s.Start.UTC().Format(time.RFC3339), end})
		}
		cw.Flush()
		if next == "" || !found {
			return
		}
		q.Cursor = next
	}
}

// firstOfKind is the value of the first identity of a kind ("ana@example.com").
func firstOfKind(ids []gateway.Identity, kind string) string {
	for _, id := range ids {
		if k, v, ok := strings.Cut(string(id), ":"); ok && k == kind {
			return v
		}
	}
	return ""
}

func joinStrings[S ~string](list []S) string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = string(s)
	}
	return strings.Join(out, " ")
}
