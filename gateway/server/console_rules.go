package server

import (
	"net/http"
	"time"

	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/server/console"
)

// rulesView is the rules page's data.
type rulesView struct {
	Rules  []ruleRow
	Manual int // silences created by hand in the period
	Caps   []capRow
	Quiet  []quietRow
}

// capRow is one frequency cap as the page shows it.
type capRow struct {
	Channel, Category, Per string
	Max                    int
}

// quietRow is one quiet-hours window as the page shows it.
type quietRow struct {
	Channels  []string
	From, To  string
	ActionKey string // message key of what happens to a send in the window
}

// ruleRow is one loaded rule as the page shows it; durations are already words.
type ruleRow struct {
	gateway.RuleSpec
	SilenceFor    string // "15d"; "" when the silence lasts until the topic is resolved
	SilenceGrace  string // the grace after resolution; ""
	Categories    []string
	Channels      []string
	FollowUpAfter string
	Created       int // silences it created in the last 30 days
}

// rulesPage lists the loaded rules, read only, with how many silences each created.
func (u *ui) rulesPage(w http.ResponseWriter, r *http.Request, v *console.View) {
	since := u.deps.Now().Add(-dashboardDays * 24 * time.Hour)
	rep, err := u.deps.Engine.Report(r.Context(), since)
	if err != nil {
		u.fail(w, r, v, err)
		return
	}
	data := rulesView{Manual: rep.SilencesByRule["manual"]}
	for _, spec := range u.deps.Rules {
		row := ruleRow{RuleSpec: spec, Created: rep.SilencesByRule[spec.Name]}
		if s := spec.Silence; s != nil {
			if !s.UntilResolved {
				row.SilenceFor = s.For.String()
			} else if s.Then > 0 {
				row.SilenceGrace = s.Then.String()
			}
			for _, c := range s.Categories {
				row.Categories = append(row.Categories, u.label(v, "category.", string(c)))
			}
			for _, c := range s.Channels {
				row.Channels = append(row.Channels, u.label(v, "channel.", string(c)))
			}
		}
		if spec.FollowUp != nil {
			row.FollowUpAfter = spec.FollowUp.After.String()
		}
		data.Rules = append(data.Rules, row)
	}
	for _, c := range u.deps.Caps {
		data.Caps = append(data.Caps, capRow{
			Channel: u.label(v, "channel.", string(c.Channel)), Category: u.label(v, "category.", string(c.Category)),
			Max: c.Max, Per: c.Per.String(),
		})
	}
	for _, q := range u.deps.QuietHours {
		row := quietRow{From: q.From, To: q.To, ActionKey: "rules.quiet.drop"}
		if q.Action == gateway.QuietDefer {
			row.ActionKey = "rules.quiet.defer"
		}
		for _, c := range q.Channels {
			row.Channels = append(row.Channels, u.label(v, "channel.", string(c)))
		}
		data.Quiet = append(data.Quiet, row)
	}
	v.Title, v.Data = "rules.title", data
	u.show(w, r, http.StatusOK, "rules", v)
}

// label is the translated name of a category, channel or reason (prefix + value), or the
// value itself when the catalog has none (configuration data, not a missing string).
func (u *ui) label(v *console.View, prefix, value string) string {
	if u.catalog.Has(prefix + value) {
		return v.T(prefix + value)
	}
	return value
}
