package server

import (
	"encoding/csv"
	"fmt"
	"io"
	"maps"
	"math"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

const defaultReportPeriod = 30 * 24 * time.Hour

// handleReport answers GET /api/v1/report?since=30d: JSON, or with format=csv (or an
// Accept of text/csv and no format) the same figures as a CSV download (writeReportCSV).
func handleReport(deps Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asCSV, err := wantsCSV(r)
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		since, err := sinceParam(r, deps.Now(), defaultReportPeriod)
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		rep, err := deps.Engine.Report(r.Context(), since)
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		if asCSV {
			serveReportCSV(w, rep, deps.Location)
			return
		}
		writeJSON(w, http.StatusOK, rep)
	})
}

// wantsCSV reads ?format=json|csv; without it, an Accept that names text/csv asks for CSV.
func wantsCSV(r *http.Request) (bool, error) {
	switch r.URL.Query().Get("format") {
	case "csv":
		return true, nil
	case "json":
		return false, nil
	case "":
		for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
			if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "text/csv" {
				return true, nil
			}
		}
		return false, nil
	default:
		return false, invalidf("format must be json or csv")
	}
}

// serveReportCSV answers with the report as a CSV attachment named after its period, in
// loc's days (nil: UTC): hush-report-2026-10-22-2026-11-20.csv.
func serveReportCSV(w http.ResponseWriter, rep *gateway.Report, loc *time.Location) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+reportCSVName(rep, loc)+`"`)
	w.WriteHeader(http.StatusOK)
	_ = writeReportCSV(w, rep) // the status is sent: a broken connection is the client's to see
}

func reportCSVName(rep *gateway.Report, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	return fmt.Sprintf("hush-report-%s-%s.csv", rep.Since.In(loc).Format(time.DateOnly), rep.Until.In(loc).Format(time.DateOnly))
}

// writeReportCSV writes the report as rows of metric, dimension, value:
//
//	metric,dimension,value
//	contacts_avoided,,6
//	contacts_avoided,channel=email,3
//	contacts_avoided,rule=low-csat,1
//
// A total has an empty dimension; a row with two dimensions joins them with ";"
// (channel=email;outcome=dropped). Rows come in a fixed metric order and sorted dimensions, so
// two exports diff cleanly. Numbers are plain (no thousands separators, "." for decimals);
// money has no currency sign (the currency is its own row). The median silence length is in
// days (decimal) for a spreadsheet to compute with.
//
// Dimensions carry names an operator wrote (rules, alerts, upstreams): every text cell goes
// through csvText, so no cell can start a spreadsheet formula.
func writeReportCSV(w io.Writer, rep *gateway.Report) error {
	cw := csv.NewWriter(w)
	row := func(metric, dimension, value string) {
		_ = cw.Write([]string{csvText(metric), csvText(dimension), value})
	}
	count := func(metric string, total int, dim string, by map[string]int) {
		row(metric, "", strconv.Itoa(total))
		for _, k := range slices.Sorted(maps.Keys(by)) {
			row(metric, dim+"="+k, strconv.Itoa(by[k]))
		}
	}
	counts := func(metric, dim string, by map[string]int) {
		for _, k := range slices.Sorted(maps.Keys(by)) {
			row(metric, dim+"="+k, strconv.Itoa(by[k]))
		}
	}
	nested := func(metric, dim string, by map[string]map[string]int) {
		for _, k := range slices.Sorted(maps.Keys(by)) {
			for _, outcome := range slices.Sorted(maps.Keys(by[k])) {
				row(metric, dim+"="+k+";outcome="+outcome, strconv.Itoa(by[k][outcome]))
			}
		}
	}

	row("metric", "dimension", "value")
	row("since", "", rep.Since.UTC().Format(time.RFC3339))
	row("until", "", rep.Until.UTC().Format(time.RFC3339))
	count("contacts_avoided", rep.ContactsAvoided, "channel", rep.ContactsAvoidedByChannel)
	counts("contacts_avoided", "reason", rep.ContactsAvoidedByReason)
	counts("contacts_avoided", "rule", rep.ContactsAvoidedByRule)
	counts("contacts_avoided", "day", rep.ContactsAvoidedByDay)
	row("cost_avoided", "", csvMoney(rep.CostAvoided))
	for _, ch := range slices.Sorted(maps.Keys(rep.CostAvoidedByChannel)) {
		row("cost_avoided", "channel="+ch, csvMoney(rep.CostAvoidedByChannel[ch]))
	}
	if rep.Currency != "" {
		row("currency", "", csvText(rep.Currency))
	}
	count("silences_created", sumCounts(rep.SilencesByRule), "rule", rep.SilencesByRule)
	count("silences_lifted", rep.SilencesLifted, "by", rep.SilencesLiftedBy)
	row("median_silence_length_days", "", strconv.FormatFloat(roundDecimals(rep.MedianSilenceLength.D().Hours()/24, 4), 'f', -1, 64))
	count("alerts_sent", rep.AlertsSent, "alert", rep.AlertsSentByName)
	row("follow_ups_sent", "", strconv.Itoa(rep.FollowUpsSent))
	row("alerts_given_up", "", strconv.Itoa(rep.AlertsGivenUp))
	// Holdout experiments: each group's size and churn rate with its 95% interval, the
	// difference (treated − control, may be negative) and whether the sample is too small.
	num := func(x float64) string { return strconv.FormatFloat(roundDecimals(x, 6), 'f', -1, 64) }
	for _, x := range rep.Experiments {
		rule := "rule=" + x.Rule
		for _, g := range []struct {
			name string
			out  gateway.GroupOutcome
		}{{"treated", x.Treated}, {"control", x.Control}} {
			dim := rule + ";group=" + g.name
			row("experiment_customers", dim, strconv.Itoa(g.out.Customers))
			row("experiment_churned", dim, strconv.Itoa(g.out.Churned))
			row("experiment_churn_rate", dim, num(g.out.ChurnRate.Estimate))
			row("experiment_churn_rate_low", dim, num(g.out.ChurnRate.Low))
			row("experiment_churn_rate_high", dim, num(g.out.ChurnRate.High))
		}
		row("experiment_churn_diff", rule, num(x.ChurnDiff.Estimate))
		row("experiment_churn_diff_low", rule, num(x.ChurnDiff.Low))
		row("experiment_churn_diff_high", rule, num(x.ChurnDiff.High))
		tooSmall := "0"
		if x.TooSmall {
			tooSmall = "1"
		}
		row("experiment_too_small", rule, tooSmall)
	}
	counts("decisions", "reason", rep.DecisionsByReason)
	nested("decisions", "channel", rep.DecisionsByChannel)
	nested("decisions", "upstream", rep.DecisionsByUpstream)
	cw.Flush()
	return cw.Error()
}

// csvText makes a text cell safe to open in a spreadsheet: a cell starting with = + - @
// (or a tab or carriage return, which some spreadsheets skip before reading a formula) is
// prefixed with ' so that it stays text (OWASP's advice on CSV injection). Numbers are
// written by hush itself and never pass through here.
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// csvMoney writes an amount with up to six decimals: per-contact costs such as 0.0079
// summed in floating point must not come out as 0.30000000000000004.
func csvMoney(x float64) string {
	return strconv.FormatFloat(roundDecimals(x, 6), 'f', -1, 64)
}

func roundDecimals(x float64, decimals int) float64 {
	p := math.Pow10(decimals)
	return math.Round(x*p) / p
}

func sumCounts(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
