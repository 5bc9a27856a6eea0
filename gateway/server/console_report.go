package server

import (
	"cmp"
	"math"
	"net/http"
	"slices"
	"time"

	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/server/console"
)

// The dashboard's ROI part (issue #10): where the avoided contacts and their cost came from,
// how silences ended, what retention was told, and the rules' control groups.

// roi is the ROI part of the dashboard page's data.
type roi struct {
	ByChannel []channelFigures
	ByRule    []labelCount
	// Silences that stopped in the period: by their own end, or lifted by a person.
	Lifted, LiftedByEnd, LiftedByPerson int
	Median                              string // the median length in words; "" when none stopped
	AlertsSent, FollowUpsSent, GivenUp  int
	Alerts                              []labelCount // delivered alerts by alert name
	Experiments                         []experimentRow
	CSVHref                             string
}

type channelFigures struct {
	Label   string
	Avoided int
	Cost    string // "" when no cost is configured for the channel
}

// experimentRow is one holdout rule's comparison, in words.
type experimentRow struct {
	Rule, Treated, Control, Diff, Conclusion string
	TooSmall                                 bool
}

func (u *ui) roiFigures(v *console.View, rep *gateway.Report) roi {
	f := roi{
		Lifted: rep.SilencesLifted, LiftedByEnd: rep.SilencesLiftedBy["end"], LiftedByPerson: rep.SilencesLiftedBy["person"],
		AlertsSent: rep.AlertsSent, FollowUpsSent: rep.FollowUpsSent, GivenUp: rep.AlertsGivenUp,
		CSVHref: consolePrefix + "/report.csv",
	}
	if rep.SilencesLifted > 0 {
		f.Median = lengthText(v, rep.MedianSilenceLength.D())
	}
	channels := sortedByCount(rep.ContactsAvoidedByChannel)
	for _, ch := range channels {
		cf := channelFigures{Label: u.channelLabel(v, ch.Key), Avoided: ch.Count}
		if cost, ok := rep.CostAvoidedByChannel[ch.Key]; ok {
			cf.Cost = v.Money(cost, rep.Currency)
		}
		f.ByChannel = append(f.ByChannel, cf)
	}
	for _, rc := range sortedByCount(rep.ContactsAvoidedByRule) {
		rc.Label = rc.Key
		if rc.Key == "manual" {
			rc.Label = v.T("common.manual")
		}
		f.ByRule = append(f.ByRule, rc)
	}
	for _, ac := range sortedByCount(rep.AlertsSentByName) {
		ac.Label = ac.Key
		f.Alerts = append(f.Alerts, ac)
	}
	f.Experiments = experimentRows(v, rep)
	return f
}

// reportCSV serves GET /console/report.csv: the dashboard's period as the API's CSV export,
// for a signed-in admin or viewer.
func (u *ui) reportCSV(w http.ResponseWriter, r *http.Request, v *console.View) {
	since, _, _ := u.dashboardPeriod()
	rep, err := u.deps.Engine.Report(r.Context(), since)
	if err != nil {
		u.fail(w, r, v, err)
		return
	}
	serveReportCSV(w, rep, u.location())
}

// dashboardPeriod is the dashboard's period: the last dashboardDays days in the configured
// timezone, today included (since is a midnight there).
func (u *ui) dashboardPeriod() (since, today, now time.Time) {
	loc := u.location()
	now = u.deps.Now().In(loc)
	today = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	return today.AddDate(0, 0, -(dashboardDays - 1)), today, now
}

// channelLabel is the translated name of a channel (the channel itself when the catalog has
// none: data, not a missing string).
func (u *ui) channelLabel(v *console.View, ch string) string {
	if u.catalog.Has("channel." + ch) {
		return v.T("channel." + ch)
	}
	return ch
}

// sortedByCount lists a count map largest first, ties by key.
func sortedByCount(m map[string]int) []labelCount {
	out := make([]labelCount, 0, len(m))
	for k, n := range m {
		out = append(out, labelCount{Key: k, Count: n})
	}
	slices.SortFunc(out, func(a, b labelCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Key, b.Key))
	})
	return out
}

// lengthText writes a silence length in days (one decimal) or, under a day, in hours.
func lengthText(v *console.View, d time.Duration) string {
	days := d.Hours() / 24
	switch {
	case d < 24*time.Hour:
		return v.T("report.hours", oneDecimal(v, d.Hours()))
	case math.Round(days*10) == 10:
		return v.T("report.day")
	default:
		return v.T("report.days", oneDecimal(v, days))
	}
}

// oneDecimal writes x with at most one decimal in the page's language (1.234,5 / 1,234.5;
// 4 rather than 4.0).
func oneDecimal(v *console.View, x float64) string {
	tenths := int(math.Round(math.Abs(x) * 10))
	s := v.Num(tenths / 10)
	if tenths%10 != 0 {
		sep := "."
		if v.Lang == console.Spanish {
			sep = ","
		}
		s += sep + string(rune('0'+tenths%10))
	}
	if x < 0 && tenths != 0 {
		s = "−" + s // a true minus sign
	}
	return s
}

// percent writes a fraction (0.125) as a percentage in the page's language ("12.5%", "12,5 %").
func percent(v *console.View, fraction float64) string {
	return v.T("report.percent", oneDecimal(v, fraction*100))
}
