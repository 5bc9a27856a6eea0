package gateway

// Holdout experiments (issue #10): a rule with `holdout: 10%` keeps a stable fraction of
// the customers it fires on as a control group (their silence is recorded with Control set
// and not enforced). The report compares what happened next to the silenced customers and to
// the control customers, so that a team can show whether the silence pays.

// Experiment is one holdout rule's comparison over a report's period.
type Experiment struct {
	Rule    string  `json:"rule"`
	Holdout float64 `json:"holdout"` // the configured control fraction, 0–0.5
	// Treated are the customers the rule silenced (enforced); Control those it held back.
	Treated GroupOutcome `json:"treated"`
	Control GroupOutcome `json:"control"`
	// ChurnDiff is the treated churn rate minus the control one, with its 95% interval:
	// below zero, fewer silenced customers churned.
	ChurnDiff Interval `json:"churn_diff"`
	// TooSmall is set when a group is too small to conclude anything; Note then says so in
	// plain words.
	TooSmall bool   `json:"too_small"`
	Note     string `json:"note,omitempty"`
}

// GroupOutcome is what became of one group's customers after the rule fired on them.
type GroupOutcome struct {
	Customers    int `json:"customers"`
	Churned      int `json:"churned"`
	Retained     int `json:"retained"`
	Complained   int `json:"complained"`
	Unsubscribed int `json:"unsubscribed"`
	// ChurnRate is Churned / Customers; ComplaintRate is Complained / Customers; each with
	// its 95% interval.
	ChurnRate     Interval `json:"churn_rate"`
	ComplaintRate Interval `json:"complaint_rate"`
}

// Interval is an estimate with the bounds of its 95% confidence interval.
type Interval struct {
	Estimate float64 `json:"estimate"`
	Low      float64 `json:"low"`
	High     float64 `json:"high"`
}
