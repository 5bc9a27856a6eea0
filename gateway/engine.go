package gateway

import (
	"context"
	"time"
)

// IngestResult counts what became of a delivery's events: the body of a webhook's 200.
type IngestResult struct {
	Accepted   int `json:"accepted"`
	Duplicates int `json:"duplicates"`
	Ignored    int `json:"ignored"`
}

// DecisionRequest asks whether recipients may be contacted on a channel for a category.
type DecisionRequest struct {
	Channel    Channel
	Category   Category
	Recipients []Identity
	Upstream   string    // proxy upstream name; "" for the decision API
	Record     bool      // count allowed sends against caps and write the audit log
	Shadow     bool      // shadow mode: computed and recorded as shadow, traffic unchanged
	At         time.Time // zero: the engine's clock
}

// SilenceInput creates a silence by hand (admin API).
type SilenceInput struct {
	Identity   Identity
	For        time.Duration // one of For or Until
	Until      time.Time
	Categories []Category // empty: DefaultSilencedCategories
	Channels   []Channel  // empty: every channel
	Reason     string
	CreatedBy  string // "admin:<token name>"
	// Source is SilenceSourceAdmin (default) or SilenceSourceCustomer (a pause page).
	Source string
}

// OptOutInput creates an opt-out by hand (admin API).
type OptOutInput struct {
	Identity  Identity
	Channel   Channel
	Reason    string
	CreatedBy string
}

// IncidentInput opens an incident (admin API or a status-tool webhook).
type IncidentInput struct {
	Title      string
	Scope      string // "all" (default) or "tag:<tag>"
	Categories []Category
	Channels   []Channel
	Source     string
	ExternalID string
	CreatedBy  string
	At         time.Time // zero: now
}

// Report summarizes what hush did over a period (GET /api/v1/report).
type Report struct {
	Since                time.Time                 `json:"since"`
	Until                time.Time                 `json:"until"`
	SilencesByRule       map[string]int            `json:"silences_by_rule"`
	DecisionsByReason    map[string]int            `json:"decisions_by_reason"`  // "allowed" for allowed
	DecisionsByChannel   map[string]map[string]int `json:"decisions_by_channel"` // channel → allowed|dropped → n
	DecisionsByUpstream  map[string]map[string]int `json:"decisions_by_upstream"`
	ContactsAvoided      int                       `json:"contacts_avoided"`
	ContactsAvoidedByDay map[string]int            `json:"contacts_avoided_by_day"` // YYYY-MM-DD → n
	// ContactsAvoidedByDayReason splits avoided contacts by day in the configured timezone
	// and by the reason they were dropped (YYYY-MM-DD → reason → n), for the console's
	// stacked chart. (ContactsAvoidedByDay keeps its UTC days.)
	ContactsAvoidedByDayReason map[string]map[string]int `json:"contacts_avoided_by_day_reason"`
	CostAvoided                float64                   `json:"cost_avoided"`
	Currency                   string                    `json:"currency,omitempty"`

	// ShadowSilencesByRule counts the silences of rules in shadow mode created in the period
	// (also in SilencesByRule); Experiments compares each holdout rule's silenced customers
	// with its control group (gateway/experiment.go).
	ShadowSilencesByRule map[string]int `json:"shadow_silences_by_rule,omitempty"`
	Experiments          []Experiment   `json:"experiments,omitempty"`

	// ROI figures (issue #10). Contacts avoided split by channel, by the reason they were
	// dropped, and by the rule that dropped them (the decision's rule, else its silence's;
	// "manual" for a silence a person made; drops by opt-outs, incidents, caps have no rule).
	ContactsAvoidedByChannel map[string]int     `json:"contacts_avoided_by_channel"`
	ContactsAvoidedByReason  map[string]int     `json:"contacts_avoided_by_reason"`
	ContactsAvoidedByRule    map[string]int     `json:"contacts_avoided_by_rule"`
	CostAvoidedByChannel     map[string]float64 `json:"cost_avoided_by_channel"`
	// SilencesLifted counts enforced silences that stopped in the period; SilencesLiftedBy
	// splits them by who stopped them: "end" (their own end came: the rule's `for` or grace,
	// or the end set by hand) or "person" (lifted early by someone).
	SilencesLifted   int            `json:"silences_lifted"`
	SilencesLiftedBy map[string]int `json:"silences_lifted_by"`
	// MedianSilenceLength is the median of start → stop over the silences SilencesLifted
	// counts (0 when there are none).
	MedianSilenceLength Duration `json:"median_silence_length"`
	// Alerts to retention: outbox messages of kind alert delivered in the period, by alert
	// name; follow-ups delivered; alerts and follow-ups given up (dead) in the period.
	AlertsSent       int            `json:"alerts_sent"`
	AlertsSentByName map[string]int `json:"alerts_sent_by_name"`
	FollowUpsSent    int            `json:"follow_ups_sent"`
	AlertsGivenUp    int            `json:"alerts_given_up"`
}

// Engine is hush's core as the HTTP layer uses it: every change that affects decisions goes
// through it, so that the in-memory snapshot the proxy reads is refreshed on every commit.
// Reads that do not decide (timelines, listings) go to the Store directly.
type Engine interface {
	// Ingest stores events and every consequence (customers linked, silences, opt-outs,
	// incidents, outbox alerts) in one durable commit, deduplicating by (source, event id).
	// ignored is added to the result as is.
	Ingest(ctx context.Context, events []Event, ignored int) (IngestResult, error)
	// Decide answers for each recipient, in order (DESIGN §2 decision order).
	Decide(ctx context.Context, req DecisionRequest) ([]Decision, error)
	// Release gives back the cap slots taken by decisions whose send did not happen (the
	// upstream failed, or the connector left the recipient out) and marks the recorded
	// decisions unsent.
	Release(ctx context.Context, decisions []Decision) error

	CreateSilence(ctx context.Context, in SilenceInput) (*Silence, error)
	LiftSilence(ctx context.Context, id, by, reason string) (*Silence, error)
	// ExtendSilence moves a silence's end later (it must be in force and end before until).
	ExtendSilence(ctx context.Context, id string, until time.Time, by, reason string) (*Silence, error)
	CreateOptOut(ctx context.Context, in OptOutInput) (*OptOut, error)
	LiftOptOut(ctx context.Context, id, by, reason string) (*OptOut, error)
	OpenIncident(ctx context.Context, in IncidentInput) (*Incident, error)
	ResolveIncident(ctx context.Context, id, by string) (*Incident, error)
	// LinkIdentities links others to the customer named by id (creating it if needed),
	// merging customers that already exist.
	LinkIdentities(ctx context.Context, id Identity, others []Identity) (*Customer, error)
	// EraseCustomer deletes the customer named by id and everything about them.
	EraseCustomer(ctx context.Context, id Identity) error
	Report(ctx context.Context, since time.Time) (*Report, error)
	// FlushDecisions waits until every decision recorded before the call can be read from
	// the store (an engine may write its decision log in batches after answering).
	FlushDecisions(ctx context.Context) error
	// Simulate replays a past period's stored events against candidate rules in a scratch
	// store and reports what they would have done (silences, and the recorded sends they
	// would drop or let through). Rules that do not compile are a CodeInvalid error.
	Simulate(ctx context.Context, req SimulationRequest) (*SimulationReport, error)
}

// RuleSpec is one configured rule (the `rules:` list of hush.yaml).
type RuleSpec struct {
	Name        string       `json:"name"`
	Description string       `json:"description,omitempty"`
	When        string       `json:"when"` // CEL over event, customer and history
	Silence     *SilenceSpec `json:"silence,omitempty"`
	Alert       string       `json:"alert,omitempty"` // alert name: a message goes to the outbox
	// FollowUp reminds a team a while after the rule fired ("call her back in 3 days").
	FollowUp *FollowUpSpec `json:"follow_up,omitempty"`
	Shadow   bool          `json:"shadow,omitempty"`
	// Holdout is the fraction (0 to 0.5) of the customers the rule fires on that are kept as
	// a control group: their silence is recorded with Control set and not enforced.
	Holdout float64 `json:"holdout,omitempty"`
}

// FollowUpSpec is a rule's follow-up: the alert named Alert is sent After the rule fired.
type FollowUpSpec struct {
	After Duration `json:"after"`
	Alert string   `json:"alert"`
}

// SilenceSpec is a rule's silence action.
type SilenceSpec struct {
	For           Duration   `json:"for,omitempty"`
	UntilResolved bool       `json:"until_resolved,omitempty"`
	Then          Duration   `json:"then,omitempty"` // grace after the topic is resolved
	Categories    []Category `json:"categories,omitempty"`
	Channels      []Channel  `json:"channels,omitempty"`
}

// CapSpec is one frequency cap: at most Max contacts per rolling Per, per customer.
type CapSpec struct {
	Channel  Channel  `json:"channel"`  // or ChannelAny
	Category Category `json:"category"` // or CategoryAny
	Max      int      `json:"max"`
	Per      Duration `json:"per"`
}

// QuietHoursSpec is a local-time window in which channels may not be used.
type QuietHoursSpec struct {
	Channels []Channel `json:"channels"`
	From     string    `json:"from"`   // "21:00"
	To       string    `json:"to"`     // "09:00"; a window may wrap midnight
	Action   string    `json:"action"` // "drop" or "defer"
}

// Quiet-hours actions.
const (
	QuietDrop  = "drop"
	QuietDefer = "defer"
)
