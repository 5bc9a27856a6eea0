package server

import (
	"cmp"
	"context"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/server/console"
)

// dashboardDays is the period the dashboard and the rules page summarize.
const dashboardDays = 30

// avoidedReasons is the order of the dashboard's stacked series: the reasons a contact is
// dropped, most common first. A reason the report holds and this list lacks is appended.
var avoidedReasons = []string{gateway.ReasonSilenced, gateway.ReasonOptedOut, gateway.ReasonIncident,
	gateway.ReasonFrequencyCap, gateway.ReasonQuietHours}

// dashboard is the dashboard page's data.
type dashboard struct {
	Since, Until time.Time
	Avoided      int
	AvoidedChart template.HTML
	// ByReason is the table beside the chart: the same numbers, in words.
	ByReason       []labelCount
	ActiveSilences int
	Cost           string // formatted with the currency; "" when no cost is configured
	TopRules       []labelCount
	RulesChart     template.HTML
	Health         health
	ROI            roi // issue #10: where the avoided contacts came from, silences ended, alerts (console_report.go)
}

type labelCount struct {
	Key, Label string
	Count      int
}

// health is what the process has seen since it started, and what waits in the store.
type health struct {
	WebhooksAccepted, WebhooksRefused int
	Proxy                             []labelCount // by status class ("2", "4", "5")
	DeadLetters                       int
	OutboxPending, OutboxDead         int
	WriteFailingSince                 time.Time // zero: writes succeed
}

func (u *ui) dashboardPage(w http.ResponseWriter, r *http.Request, v *console.View) {
	ctx := r.Context()
	since, today, now := u.dashboardPeriod()
	rep, err := u.deps.Engine.Report(ctx, since)
	if err != nil {
		u.fail(w, r, v, err)
		return
	}
	d := dashboard{Since: since, Until: now, Avoided: rep.ContactsAvoided}

	// Contacts avoided per day, stacked by reason.
	reasons := slices.Clone(avoidedReasons)
	for _, byReason := range rep.ContactsAvoidedByDayReason {
		for reason := range byReason {
			if !slices.Contains(reasons, reason) {
				reasons = append(reasons, reason)
			}
		}
	}
	slices.Sort(reasons[len(avoidedReasons):])
	totals := map[string]int{}
	chart := console.StackedBars{ID: "chart-avoided", Title: v.T("dashboard.avoided.chart"), Num: v.Num}
	for _, reason := range reasons {
		chart.Series = append(chart.Series, console.Series{Key: reason, Label: u.reasonLabel(v, reason)})
	}
	for day := since; !day.After(today); day = day.AddDate(0, 0, 1) {
		byReason := rep.ContactsAvoidedByDayReason[day.Format(time.DateOnly)]
		row := make([]int, len(reasons))
		for i, reason := range reasons {
			row[i] = byReason[reason]
			totals[reason] += byReason[reason]
		}
		chart.Labels = append(chart.Labels, shortDay(v, day))
		chart.Values = append(chart.Values, row)
	}
	chart.Desc = v.T("dashboard.avoided.desc", v.Num(rep.ContactsAvoided), v.Num(dashboardDays))
	d.AvoidedChart = chart.SVG()
	for _, reason := range reasons {
		if totals[reason] > 0 {
			d.ByReason = append(d.ByReason, labelCount{Key: reason, Label: u.reasonLabel(v, reason), Count: totals[reason]})
		}
	}

	// Top rules by silences created.
	for rule, n := range rep.SilencesByRule {
		label := rule
		if rule == "manual" {
			label = v.T("common.manual")
		}
		d.TopRules = append(d.TopRules, labelCount{Key: rule, Label: label, Count: n})
	}
	slices.SortFunc(d.TopRules, func(a, b labelCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Key, b.Key))
	})
	if len(d.TopRules) > 8 {
		d.TopRules = d.TopRules[:8]
	}
	bars := console.HBars{ID: "chart-rules", Title: v.T("dashboard.toprules.chart"), Desc: v.T("dashboard.toprules.desc"), Num: v.Num}
	for _, rc := range d.TopRules {
		bars.Bars = append(bars.Bars, console.HBar{Label: rc.Label, Value: rc.Count})
	}
	d.RulesChart = bars.SVG()

	if rep.CostAvoided > 0 || rep.Currency != "" {
		d.Cost = v.Money(rep.CostAvoided, rep.Currency)
	}
	d.ROI = u.roiFigures(v, rep)
	if d.ActiveSilences, d.Health, err = u.storeHealth(ctx); err != nil {
		u.fail(w, r, v, err)
		return
	}
	u.metricsHealth(&d.Health)
	if u.deps.writes != nil {
		d.Health.WriteFailingSince = u.deps.writes.lastFailure()
	}
	v.Title, v.Data = "dashboard.title", d
	u.show(w, r, http.StatusOK, "dashboard", v)
}

func (u *ui) location() *time.Location {
	if u.deps.Location == nil {
		return time.UTC
	}
	return u.deps.Location
}

// reasonLabel is the translated name of a decision reason (the reason itself when the
// catalog has no name for it: data, not a missing string).
func (u *ui) reasonLabel(v *console.View, reason string) string {
	if u.catalog.Has("reason." + reason) {
		return v.T("reason." + reason)
	}
	return reason
}

// shortDay is "20 nov" / "Nov 20" for the chart's axis.
func shortDay(v *console.View, day time.Time) string {
	full := v.Date(day)
	if i := strings.LastIndex(full, " "); i > 0 {
		return strings.TrimSuffix(full[:i], ",")
	}
	return full
}

// activeSilenceCounter is an engine that counts the silences it enforces (policy.Engine).
type activeSilenceCounter interface{ ActiveSilenceCount() int }

// storeHealth counts what waits in the store: silences in force, dead letters not replayed,
// outbox messages pending and given up.
func (u *ui) storeHealth(ctx context.Context) (active int, h health, err error) {
	now := u.deps.Now()
	// An engine with a decision snapshot knows the silences in force without reading them
	// all from the store (100,000 of them would be read on every view).
	counter, fromSnapshot := u.deps.Engine.(activeSilenceCounter)
	if fromSnapshot {
		active = counter.ActiveSilenceCount()
	}
	err = u.deps.Store.View(ctx, func(tx gateway.Tx) error {
		if !fromSnapshot {
			if active, err = countPages(func(p gateway.Page) (int, string, error) {
				s, next, err := tx.Silences(gateway.SilenceQuery{ActiveAt: now, Page: p})
				return len(s), next, err
			}); err != nil {
				return fmt.Errorf("counting active silences: %w", err)
			}
		}
		if h.DeadLetters, err = countPages(func(p gateway.Page) (int, string, error) {
			dls, next, err := tx.DeadLetters(p)
			n := 0
			for _, dl := range dls {
				if dl.ReplayedAt == nil {
					n++
				}
			}
			return n, next, err
		}); err != nil {
			return fmt.Errorf("counting dead letters: %w", err)
		}
		for state, into := range map[string]*int{gateway.OutboxPending: &h.OutboxPending, gateway.OutboxDead: &h.OutboxDead} {
			if *into, err = countPages(func(p gateway.Page) (int, string, error) {
				m, next, err := tx.Outbox(gateway.OutboxQuery{State: state, Page: p})
				return len(m), next, err
			}); err != nil {
				return fmt.Errorf("counting %s outbox messages: %w", state, err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, health{}, gateway.Errorf(gateway.CodeInternal, "reading the dashboard's counts: %v", err)
	}
	return active, h, nil
}

// countPages adds up count over every page of a listing.
func countPages(count func(gateway.Page) (int, string, error)) (int, error) {
	total := 0
	p := gateway.Page{Limit: gateway.MaxPageSize}
	for {
		n, next, err := count(p)
		if err != nil {
			return 0, err
		}
		total += n
		if next == "" {
			return total, nil
		}
		p.Cursor = next
	}
}

// metricsHealth reads the process's own counters: webhooks by outcome and proxied requests
// by status class. A gatherer that fails leaves the counts at zero: the dashboard still shows.
func (u *ui) metricsHealth(h *health) {
	if u.deps.Gatherer == nil {
		return
	}
	families, err := u.deps.Gatherer.Gather()
	if err != nil {
		return
	}
	classes := map[string]int{}
	for _, mf := range families {
		switch mf.GetName() {
		case "hush_webhooks_total":
			for _, m := range mf.GetMetric() {
				n := int(m.GetCounter().GetValue())
				switch label(m, "outcome") {
				case "accepted", "duplicate", "ignored":
					h.WebhooksAccepted += n
				default:
					h.WebhooksRefused += n
				}
			}
		case "hush_proxy_requests_total":
			for _, m := range mf.GetMetric() {
				if s := label(m, "status"); s != "" {
					classes[s[:1]] += int(m.GetCounter().GetValue())
				}
			}
		}
	}
	for _, c := range []string{"1", "2", "3", "4", "5"} {
		if classes[c] > 0 {
			h.Proxy = append(h.Proxy, labelCount{Key: c, Count: classes[c]})
		}
	}
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
