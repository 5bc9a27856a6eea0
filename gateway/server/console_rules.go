package server

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
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
	Sim    simForm // the "simulate a change" form (admins), and its report once posted
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
	data, err := u.rulesData(r, v)
	if err != nil {
		u.fail(w, r, v, err)
		return
	}
	data.Sim = simForm{Rules: rulesYAML(u.deps.Rules), Days: defaultSimDays}
	u.showRules(w, r, http.StatusOK, v, data)
}

func (u *ui) showRules(w http.ResponseWriter, r *http.Request, status int, v *console.View, data rulesView) {
	data.Sim.Options = simDayOptions
	v.Title, v.Data = "rules.title", data
	u.show(w, r, status, "rules", v)
}

// rulesData is what the rules page shows about the loaded policy.
func (u *ui) rulesData(r *http.Request, v *console.View) (rulesView, error) {
	since := u.deps.Now().Add(-dashboardDays * 24 * time.Hour)
	rep, err := u.deps.Engine.Report(r.Context(), since)
	if err != nil {
		return rulesView{}, err
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
	return data, nil
}

// label is the translated name of a category, channel or reason (prefix + value), or the
// value itself when the catalog has none (configuration data, not a missing string).
func (u *ui) label(v *console.View, prefix, value string) string {
	if u.catalog.Has(prefix + value) {
		return v.T(prefix + value)
	}
	return value
}

// The "simulate a change" form: candidate rules in YAML over the last 7, 30 or 90 days.
const defaultSimDays = 30

var simDayOptions = []int{7, 30, 90}

// simForm is the simulation form as the page shows it, and its result once posted.
type simForm struct {
	Rules   string // the YAML in the textarea
	Days    int
	Options []int
	Error   string   // what is wrong with the posted rules ("" when nothing)
	Report  *simView // nil until a simulation ran
}

// simView is a simulation report with its counts in display order.
type simView struct {
	*gateway.SimulationReport
	ByRule, ShadowByRule            []countRow
	DroppedByRule, DroppedByChannel []countRow
	AllowedByRule, AllowedByChannel []countRow
}

// countRow is one named count of a report.
type countRow struct {
	Name string
	N    int
}

func countRows(m map[string]int) []countRow {
	rows := make([]countRow, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		rows = append(rows, countRow{Name: k, N: m[k]})
	}
	return rows
}

// rulesSimulate runs the posted candidate rules over the chosen period and shows the report
// on the rules page. The YAML is read by Deps.ParseRules (configs.ParseRules, which cmd/hush
// wires in: the server does not import configs, whose rule decoding is the one hush.yaml
// uses); its problems, and those of the simulation, are shown above the form with the text
// kept.
func (u *ui) rulesSimulate(w http.ResponseWriter, r *http.Request, v *console.View) {
	data, err := u.rulesData(r, v)
	if err != nil {
		u.fail(w, r, v, err)
		return
	}
	days, _ := strconv.Atoi(r.PostFormValue("days"))
	if !slices.Contains(simDayOptions, days) {
		days = defaultSimDays
	}
	data.Sim = simForm{Rules: r.PostFormValue("rules"), Days: days}
	if u.deps.ParseRules == nil {
		u.fail(w, r, v, gateway.Errorf(gateway.CodeUnavailable, "%s", v.T("sim.unavailable")))
		return
	}
	rules, err := u.deps.ParseRules([]byte(data.Sim.Rules))
	if err != nil {
		data.Sim.Error = err.Error()
		u.showRules(w, r, http.StatusBadRequest, v, data)
		return
	}
	now := u.deps.Now()
	rep, err := u.deps.Engine.Simulate(r.Context(), gateway.SimulationRequest{
		Rules: rules, Since: now.Add(-time.Duration(days) * 24 * time.Hour), Until: now,
	})
	if err != nil {
		if code := gateway.ErrorCodeOf(err); code != gateway.CodeInvalid {
			u.fail(w, r, v, err)
			return
		}
		data.Sim.Error = gateway.ErrorMessageOf(err)
		u.showRules(w, r, http.StatusBadRequest, v, data)
		return
	}
	data.Sim.Report = &simView{
		SimulationReport: rep,
		ByRule:           countRows(rep.SilencesByRule), ShadowByRule: countRows(rep.ShadowSilencesByRule),
		DroppedByRule: countRows(rep.Sends.NewlyDroppedByRule), DroppedByChannel: countRows(rep.Sends.NewlyDroppedByChannel),
		AllowedByRule: countRows(rep.Sends.NewlyAllowedByRule), AllowedByChannel: countRows(rep.Sends.NewlyAllowedByChannel),
	}
	u.showRules(w, r, http.StatusOK, v, data)
}

// rulesYAML writes rules as a `rules:` list in hush.yaml's syntax, to prefill the form.
// Strings are written as JSON strings, which YAML reads as double-quoted scalars.
func rulesYAML(rules []gateway.RuleSpec) string {
	q := func(s string) string {
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false) // the page escapes; the textarea should read as written
		_ = enc.Encode(s)
		return strings.TrimSuffix(b.String(), "\n")
	}
	list := func(items []string) string {
		out := make([]string, len(items))
		for i, it := range items {
			out[i] = q(it)
		}
		return "[" + strings.Join(out, ", ") + "]"
	}
	var b strings.Builder
	b.WriteString("rules:\n")
	if len(rules) == 0 {
		b.WriteString("  []\n")
	}
	for _, r := range rules {
		fmt.Fprintf(&b, "  - name: %s\n", q(r.Name))
		if r.Description != "" {
			fmt.Fprintf(&b, "    description: %s\n", q(r.Description))
		}
		fmt.Fprintf(&b, "    when: %s\n", q(r.When))
		if s := r.Silence; s != nil {
			var parts []string
			if s.For > 0 {
				parts = append(parts, "for: "+s.For.String())
			}
			if s.UntilResolved {
				parts = append(parts, "until_resolved: true")
			}
			if s.Then > 0 {
				parts = append(parts, "then: "+s.Then.String())
			}
			if len(s.Categories) > 0 {
				parts = append(parts, "categories: "+list(stringsOf(s.Categories)))
			}
			if len(s.Channels) > 0 {
				parts = append(parts, "channels: "+list(stringsOf(s.Channels)))
			}
			fmt.Fprintf(&b, "    silence: {%s}\n", strings.Join(parts, ", "))
		}
		if r.Alert != "" {
			fmt.Fprintf(&b, "    alert: %s\n", q(r.Alert))
		}
		if f := r.FollowUp; f != nil {
			fmt.Fprintf(&b, "    follow_up: {after: %s, alert: %s}\n", f.After, q(f.Alert))
		}
		if r.Shadow {
			b.WriteString("    shadow: true\n")
		}
	}
	return b.String()
}

func stringsOf[T ~string](in []T) []string {
	out := make([]string, len(in))
	for i, v := range in {
		out[i] = string(v)
	}
	return out
}
