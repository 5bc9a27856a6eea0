package server

import (
	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/server/console"
)

// experimentRows puts each holdout rule's comparison in words: churn of the silenced and of
// the control customers with their 95% intervals, the difference in percentage points, and
// what can be concluded — "too small" when the report says the sample cannot tell, "no clear
// difference" when the difference's interval holds zero.
func experimentRows(v *console.View, rep *gateway.Report) []experimentRow {
	rows := make([]experimentRow, 0, len(rep.Experiments))
	for _, x := range rep.Experiments {
		row := experimentRow{
			Rule:     x.Rule,
			Treated:  groupText(v, x.Treated),
			Control:  groupText(v, x.Control),
			Diff:     v.T("report.exp.diffvalue", oneDecimal(v, x.ChurnDiff.Estimate*100), oneDecimal(v, x.ChurnDiff.Low*100), oneDecimal(v, x.ChurnDiff.High*100)),
			TooSmall: x.TooSmall,
		}
		switch {
		case x.TooSmall:
			row.Conclusion = v.T("report.exp.toosmall")
		case x.ChurnDiff.High < 0:
			row.Conclusion = v.T("report.exp.lower")
		case x.ChurnDiff.Low > 0:
			row.Conclusion = v.T("report.exp.higher")
		default:
			row.Conclusion = v.T("report.exp.nodiff")
		}
		rows = append(rows, row)
	}
	return rows
}

func groupText(v *console.View, g gateway.GroupOutcome) string {
	return v.T("report.exp.rate", percent(v, g.ChurnRate.Estimate), percent(v, g.ChurnRate.Low), percent(v, g.ChurnRate.High), v.Num(g.Customers))
}
