package server

import (
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

func TestCSVText(t *testing.T) {
	for in, want := range map[string]string{
		"":              "",
		"low-csat":      "low-csat",
		"=SUM(A1:A9)":   "'=SUM(A1:A9)",
		"+34600111222":  "'+34600111222",
		"-1":            "'-1",
		"@cmd":          "'@cmd",
		"\t=1":          "'\t=1",
		"\r=1":          "'\r=1",
		"rule==SUM(A1)": "rule==SUM(A1)", // a formula only where the cell starts
		"channel=email": "channel=email",
	} {
		if got := csvText(in); got != want {
			t.Errorf("csvText(%q) = %q, want %q", in, got, want)
		}
	}
}

// The whole export of a known report: every figure's row, in order, numbers plain.
func TestWriteReportCSV(t *testing.T) {
	since := time.Date(2026, 10, 21, 0, 0, 0, 0, time.UTC)
	rep := &gateway.Report{
		Since: since, Until: since.Add(30 * 24 * time.Hour),
		SilencesByRule:           map[string]int{"low-csat": 1200, "manual": 3},
		DecisionsByReason:        map[string]int{"allowed": 5, "silenced": 1234},
		DecisionsByChannel:       map[string]map[string]int{"email": {"allowed": 5, "dropped": 1234}},
		DecisionsByUpstream:      map[string]map[string]int{"api": {"dropped": 1234, "allowed": 5}},
		ContactsAvoided:          1234,
		ContactsAvoidedByDay:     map[string]int{"2026-11-19": 1234},
		ContactsAvoidedByChannel: map[string]int{"sms": 234, "email": 1000},
		ContactsAvoidedByReason:  map[string]int{"silenced": 1234},
		ContactsAvoidedByRule:    map[string]int{"low-csat": 1234},
		CostAvoided:              0.1 + 0.2 + 1848.6,
		CostAvoidedByChannel:     map[string]float64{"email": 1, "sms": 0.1 + 0.2 + 1847.6},
		Currency:                 "EUR",
		SilencesLifted:           3,
		SilencesLiftedBy:         map[string]int{"person": 1, "end": 2},
		MedianSilenceLength:      gateway.Duration(36 * time.Hour),
		AlertsSent:               7,
		AlertsSentByName:         map[string]int{"retention": 7},
		FollowUpsSent:            2,
		AlertsGivenUp:            1,
		Experiments: []gateway.Experiment{{Rule: "low-csat", Holdout: 0.1, TooSmall: true,
			Treated:   gateway.GroupOutcome{Customers: 90, Churned: 9, ChurnRate: gateway.Interval{Estimate: 0.1, Low: 0.0535, High: 0.1792}},
			Control:   gateway.GroupOutcome{Customers: 10, Churned: 2, ChurnRate: gateway.Interval{Estimate: 0.2, Low: 0.0567, High: 0.5098}},
			ChurnDiff: gateway.Interval{Estimate: -0.1, Low: -0.35, High: 0.15}}},
	}
	var b strings.Builder
	if err := writeReportCSV(&b, rep); err != nil {
		t.Fatal(err)
	}
	want := `metric,dimension,value
since,,2026-10-21T00:00:00Z
until,,2026-11-20T00:00:00Z
contacts_avoided,,1234
contacts_avoided,channel=email,1000
contacts_avoided,channel=sms,234
contacts_avoided,reason=silenced,1234
contacts_avoided,rule=low-csat,1234
contacts_avoided,day=2026-11-19,1234
cost_avoided,,1848.9
cost_avoided,channel=email,1
cost_avoided,channel=sms,1847.9
currency,,EUR
silences_created,,1203
silences_created,rule=low-csat,1200
silences_created,rule=manual,3
silences_lifted,,3
silences_lifted,by=end,2
silences_lifted,by=person,1
median_silence_length_days,,1.5
alerts_sent,,7
alerts_sent,alert=retention,7
follow_ups_sent,,2
alerts_given_up,,1
experiment_customers,rule=low-csat;group=treated,90
experiment_churned,rule=low-csat;group=treated,9
experiment_churn_rate,rule=low-csat;group=treated,0.1
experiment_churn_rate_low,rule=low-csat;group=treated,0.0535
experiment_churn_rate_high,rule=low-csat;group=treated,0.1792
experiment_customers,rule=low-csat;group=control,10
experiment_churned,rule=low-csat;group=control,2
experiment_churn_rate,rule=low-csat;group=control,0.2
experiment_churn_rate_low,rule=low-csat;group=control,0.0567
experiment_churn_rate_high,rule=low-csat;group=control,0.5098
experiment_churn_diff,rule=low-csat,-0.1
experiment_churn_diff_low,rule=low-csat,-0.35
experiment_churn_diff_high,rule=low-csat,0.15
experiment_too_small,rule=low-csat,1
decisions,reason=allowed,5
decisions,reason=silenced,1234
decisions,channel=email;outcome=allowed,5
decisions,channel=email;outcome=dropped,1234
decisions,upstream=api;outcome=allowed,5
decisions,upstream=api;outcome=dropped,1234
`
	if b.String() != want {
		t.Errorf("CSV:\n%s\nwant:\n%s", b.String(), want)
	}
}
