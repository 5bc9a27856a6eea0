package gateway

import "time"

// SimulationRequest asks what a candidate rule set would have done over a past period
// (POST /api/v1/simulate, hush simulate): the stored events of the period are replayed
// against Rules, and the recorded sends of the period are decided again.
type SimulationRequest struct {
	Rules []RuleSpec
	Since time.Time
	Until time.Time // zero: now
	// SampleSize is how many of the silences the candidate rules would create are shown
	// with the customer and the triggering event; 0: 20.
	SampleSize int
}

// SimulationReport is what a candidate rule set would have done over a period.
type SimulationReport struct {
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
	// EventsReplayed counts the stored events replayed: those of the period plus the
	// history before it that rules read (contacts_about, …).
	EventsReplayed int `json:"events_replayed"`

	// Silences the candidate rules would create in the period (created, not extended),
	// enforced ones and shadow ones apart.
	Silences             int                `json:"silences"`
	ShadowSilences       int                `json:"shadow_silences"`
	CustomersSilenced    int                `json:"customers_silenced"`
	SilencesByRule       map[string]int     `json:"silences_by_rule"`
	ShadowSilencesByRule map[string]int     `json:"shadow_silences_by_rule"`
	Sample               []SimulatedSilence `json:"sample"`

	// Sends compares the recorded sends (the decision log) of the period with what the
	// candidate rules would decide.
	Sends SimulatedSends `json:"sends"`
}

// SimulatedSilence is one silence the candidate rules would create, with its trigger.
type SimulatedSilence struct {
	Identity   Identity       `json:"identity"`
	CustomerID string         `json:"customer_id,omitempty"` // the live customer, when hush knows the identity
	Rule       string         `json:"rule"`
	Shadow     bool           `json:"shadow,omitempty"`
	Start      time.Time      `json:"start"`
	End        *time.Time     `json:"end,omitempty"` // nil: until its topic is resolved
	Event      SimulatedEvent `json:"event"`
}

// SimulatedEvent names the event that made a rule fire.
type SimulatedEvent struct {
	ID     string    `json:"id"` // source:id, as silences name it
	Source string    `json:"source"`
	Type   string    `json:"type"`
	At     time.Time `json:"at"`
}

// SimulatedSends compares recorded decisions with the candidate's. A send is one recipient
// of one recorded decision.
type SimulatedSends struct {
	Total            int `json:"total"`
	LiveDropped      int `json:"live_dropped"`
	CandidateDropped int `json:"candidate_dropped"`
	// NewlyDropped: the live system allowed, the candidate rules would drop.
	NewlyDropped int `json:"newly_dropped"`
	// NewlyAllowed: the live system dropped for a rule's silence, the candidate would allow.
	NewlyAllowed int `json:"newly_allowed"`
	// By rule: for newly dropped, the candidate rule whose silence drops the send (or the
	// reason, such as frequency_cap, when no rule does); for newly allowed, the live rule.
	NewlyDroppedByRule    map[string]int `json:"newly_dropped_by_rule"`
	NewlyAllowedByRule    map[string]int `json:"newly_allowed_by_rule"`
	NewlyDroppedByChannel map[string]int `json:"newly_dropped_by_channel"`
	NewlyAllowedByChannel map[string]int `json:"newly_allowed_by_channel"`
}
