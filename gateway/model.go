package gateway

import (
	"context"
	"encoding/json"
	"slices"
	"time"
)

// Event types (DESIGN §5).
const (
	EventSurveyResponse   = "survey.response"
	EventTicketOpened     = "ticket.opened"
	EventTicketUpdated    = "ticket.updated"
	EventTicketSolved     = "ticket.solved"
	EventChatMessage      = "chat.message"
	EventChatClosed       = "chat.closed"
	EventCallCompleted    = "call.completed"
	EventCallMissed       = "call.missed"
	EventCallAbandoned    = "call.abandoned"
	EventSMSInbound       = "sms.inbound"
	EventConsentOptOut    = "consent.optout"
	EventConsentOptIn     = "consent.optin"
	EventIncidentOpened   = "incident.opened"
	EventIncidentResolved = "incident.resolved"
	EventOutcomeChurned   = "outcome.churned"
	EventOutcomeRetained  = "outcome.retained"
	// A customer unsubscribed from, or reported as spam, a message (from an upstream's
	// webhook or the events API): outcomes a rule's holdout experiment counts.
	EventOutcomeUnsubscribed = "outcome.unsubscribed"
	EventOutcomeComplained   = "outcome.complained"
)

// EventTypes lists every event type hush knows.
var EventTypes = []string{
	EventSurveyResponse, EventTicketOpened, EventTicketUpdated, EventTicketSolved,
	EventChatMessage, EventChatClosed, EventCallCompleted, EventCallMissed, EventCallAbandoned,
	EventSMSInbound, EventConsentOptOut, EventConsentOptIn, EventIncidentOpened,
	EventIncidentResolved, EventOutcomeChurned, EventOutcomeRetained,
	EventOutcomeUnsubscribed, EventOutcomeComplained,
}

// KnownEventType reports whether t is one of EventTypes.
func KnownEventType(t string) bool { return slices.Contains(EventTypes, t) }

// Ticket and topic statuses.
const (
	StatusOpen    = "open"
	StatusPending = "pending"
	StatusSolved  = "solved"
	StatusClosed  = "closed"
)

// EventCustomer is who an event is about, as the vendor named them. Every identity present
// is linked to one customer.
type EventCustomer struct {
	Email    string            `json:"email,omitempty"`
	Phone    string            `json:"phone,omitempty"`
	IDs      map[string]string `json:"ids,omitempty"` // vendor → vendor's id
	Name     string            `json:"name,omitempty"`
	Locale   string            `json:"locale,omitempty"`
	Timezone string            `json:"timezone,omitempty"`
	Tags     []string          `json:"tags,omitempty"`
}

// Sentiment is a score in [-1, 1] with a label and who computed it.
type Sentiment struct {
	Score  float64 `json:"score"`
	Label  string  `json:"label,omitempty"`  // negative | neutral | positive
	Source string  `json:"source,omitempty"` // vendor | builtin | external
	// Language (en, es) and the frustration cues found (cancellation, repeat_contact,
	// complaint, regulator, competitor), when hush scored the text itself: kept with the
	// event so that its timeline shows why a rule fired.
	Language string   `json:"language,omitempty"`
	Cues     []string `json:"cues,omitempty"`
}

// Sentiment sources.
const (
	SentimentVendor   = "vendor"
	SentimentBuiltin  = "builtin"
	SentimentExternal = "external"
)

// SentimentScorer scores a text hush receives without a vendor's sentiment: the built-in
// English/Spanish scorer (gateway/sentiment) or an external service. language is a hint
// (en, es; "" to detect). Implementations are safe for concurrent use.
type SentimentScorer interface {
	ScoreText(ctx context.Context, text, language string) (Sentiment, error)
}

// Event is one thing that happened to a customer, normalized from a vendor webhook (DESIGN §5).
type Event struct {
	ID              string         `json:"id"`
	Source          string         `json:"source"`
	Type            string         `json:"type"`
	At              time.Time      `json:"at"`
	Customer        EventCustomer  `json:"customer"`
	Channel         Channel        `json:"channel,omitempty"`
	Topic           string         `json:"topic,omitempty"`
	CSAT            *float64       `json:"csat,omitempty"`
	NPS             *float64       `json:"nps,omitempty"`
	CES             *float64       `json:"ces,omitempty"`
	Text            string         `json:"text,omitempty"`
	Sentiment       *Sentiment     `json:"sentiment,omitempty"`
	WaitSeconds     *float64       `json:"wait_seconds,omitempty"`
	DurationSeconds *float64       `json:"duration_seconds,omitempty"`
	Status          string         `json:"status,omitempty"`
	Tags            []string       `json:"tags,omitempty"`
	Attrs           map[string]any `json:"attrs,omitempty"`

	// Set by hush on intake.
	CustomerID string    `json:"customer_id,omitempty"`
	ReceivedAt time.Time `json:"received_at,omitzero"`
	Seq        uint64    `json:"seq,omitempty"` // store-assigned, increasing per store
	// Raw is the vendor's payload as received; stored beside the event, never logged.
	Raw json.RawMessage `json:"-"`
}

// Identities returns every identity the event names, normalized. Identities that do not parse
// are reported in bad (the event is still usable through the others).
func (e *Event) Identities(defaultRegion string) (ids []Identity, bad []error) {
	add := func(id Identity, err error) {
		if err != nil {
			bad = append(bad, err)
			return
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if e.Customer.Email != "" {
		add(NormalizeEmail(e.Customer.Email))
	}
	if e.Customer.Phone != "" {
		add(NormalizePhone(e.Customer.Phone, defaultRegion))
	}
	vendors := make([]string, 0, len(e.Customer.IDs))
	for v := range e.Customer.IDs {
		vendors = append(vendors, v)
	}
	slices.Sort(vendors)
	for _, v := range vendors {
		add(VendorIdentity(v, e.Customer.IDs[v]))
	}
	return ids, bad
}

// Customer is a set of linked identities plus attributes.
type Customer struct {
	ID         string            `json:"id"`
	Identities []Identity        `json:"identities"`
	Name       string            `json:"name,omitempty"`
	Locale     string            `json:"locale,omitempty"`
	Timezone   string            `json:"timezone,omitempty"`
	Tags       []string          `json:"tags,omitempty"`
	Attrs      map[string]string `json:"attrs,omitempty"`
	CreatedAt  time.Time         `json:"created_at"`
	UpdatedAt  time.Time         `json:"updated_at"`
}

// HasTag reports whether the customer carries tag.
func (c *Customer) HasTag(tag string) bool { return slices.Contains(c.Tags, tag) }

// Silence is a temporary exclusion of one customer from some categories and channels.
type Silence struct {
	ID         string     `json:"id"`
	CustomerID string     `json:"customer_id"`
	Identity   Identity   `json:"identity"` // the identity it was created for, for people to read
	Categories []Category `json:"categories"`
	Channels   []Channel  `json:"channels,omitempty"` // empty: every channel
	Rule       string     `json:"rule,omitempty"`     // rule that created it; empty when a person did
	CreatedBy  string     `json:"created_by"`         // "rule:low-csat" or "admin:ops"
	// Source is who decided it: SilenceSourceRule, SilenceSourceAdmin (a person, through the
	// API or the console) or SilenceSourceCustomer (the customer, on a pause page).
	Source  string    `json:"source,omitempty"`
	Reason  string    `json:"reason"`
	EventID string    `json:"event_id,omitempty"` // triggering event (source:id)
	Start   time.Time `json:"start"`
	// End is when the silence stops; nil while it waits for its topic to be resolved.
	End *time.Time `json:"end,omitempty"`
	// Topic and Grace describe "until resolved": when the topic is solved, End = solved + Grace.
	Topic         string   `json:"topic,omitempty"`
	UntilResolved bool     `json:"until_resolved,omitempty"`
	Grace         Duration `json:"grace,omitempty"`
	Shadow        bool     `json:"shadow,omitempty"` // created by a rule in shadow mode: recorded, not enforced
	// Control marks a silence its rule's holdout kept back: the customer is in the rule's
	// control group, so the silence is recorded (for the experiment) and not enforced.
	Control bool `json:"control,omitempty"`

	LiftedAt   *time.Time `json:"lifted_at,omitempty"`
	LiftedBy   string     `json:"lifted_by,omitempty"`
	LiftReason string     `json:"lift_reason,omitempty"`

	// Who last moved End later by hand, and why (the console's and the API's extend).
	ExtendedBy   string `json:"extended_by,omitempty"`
	ExtendReason string `json:"extend_reason,omitempty"`

	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Silence sources.
const (
	SilenceSourceRule     = "rule"
	SilenceSourceAdmin    = "admin"
	SilenceSourceCustomer = "customer"
)

// ActiveAt reports whether the silence is in force at t.
func (s *Silence) ActiveAt(t time.Time) bool {
	if s.LiftedAt != nil && !t.Before(*s.LiftedAt) {
		return false
	}
	if t.Before(s.Start) {
		return false
	}
	return s.End == nil || t.Before(*s.End)
}

// Enforced reports whether the silence is meant to withhold anything: not a shadow rule's,
// not a holdout's control record. Decisions, the snapshot and suppression sync read only
// enforced silences.
func (s *Silence) Enforced() bool { return !s.Shadow && !s.Control }

// Covers reports whether the silence applies to a send on channel ch in category cat.
func (s *Silence) Covers(ch Channel, cat Category) bool {
	cats := s.Categories
	if len(cats) == 0 {
		cats = DefaultSilencedCategories
	}
	if !slices.Contains(cats, cat) {
		return false
	}
	return len(s.Channels) == 0 || slices.Contains(s.Channels, ch)
}

// OptOut is a lasting consent withdrawal for one channel.
type OptOut struct {
	ID         string     `json:"id"`
	CustomerID string     `json:"customer_id"`
	Identity   Identity   `json:"identity"`
	Channel    Channel    `json:"channel"`
	Reason     string     `json:"reason,omitempty"`
	CreatedBy  string     `json:"created_by"` // "event:twilio" or "admin:ops"
	EventID    string     `json:"event_id,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	LiftedAt   *time.Time `json:"lifted_at,omitempty"`
	LiftedBy   string     `json:"lifted_by,omitempty"`
	LiftReason string     `json:"lift_reason,omitempty"`
}

// Active reports whether the opt-out is in force.
func (o *OptOut) Active() bool { return o.LiftedAt == nil }

// Incident is a service failure that silences proactive contact for all customers, or those
// with a tag, until resolved.
type Incident struct {
	ID         string     `json:"id"`
	Title      string     `json:"title"`
	Scope      string     `json:"scope"`                // "all" or "tag:<tag>"
	Categories []Category `json:"categories,omitempty"` // silenced categories; empty: the defaults
	Channels   []Channel  `json:"channels,omitempty"`   // empty: every channel
	Source     string     `json:"source,omitempty"`     // "api", or the webhook source name
	ExternalID string     `json:"external_id,omitempty"`
	CreatedBy  string     `json:"created_by"`
	OpenedAt   time.Time  `json:"opened_at"`
	ResolvedAt *time.Time `json:"resolved_at,omitempty"`
	ResolvedBy string     `json:"resolved_by,omitempty"`
}

// ActiveAt reports whether the incident is open at t.
func (i *Incident) ActiveAt(t time.Time) bool {
	return !t.Before(i.OpenedAt) && (i.ResolvedAt == nil || t.Before(*i.ResolvedAt))
}

// CoversCustomer reports whether the incident's scope includes the customer (nil: unknown
// customer, covered only by scope "all").
func (i *Incident) CoversCustomer(c *Customer) bool {
	if i.Scope == "" || i.Scope == "all" {
		return true
	}
	if tag, ok := cutPrefix(i.Scope, "tag:"); ok && c != nil {
		return c.HasTag(tag)
	}
	return false
}

// Covers reports whether the incident silences a send on channel ch in category cat.
func (i *Incident) Covers(ch Channel, cat Category) bool {
	if cat == CategoryIncident || cat.NeverBlocked() {
		return false
	}
	cats := i.Categories
	if len(cats) == 0 {
		cats = DefaultSilencedCategories
	}
	return slices.Contains(cats, cat) && (len(i.Channels) == 0 || slices.Contains(i.Channels, ch))
}

func cutPrefix(s, p string) (string, bool) {
	if len(s) >= len(p) && s[:len(p)] == p {
		return s[len(p):], true
	}
	return "", false
}

// Decision reasons.
const (
	ReasonIncident     = "incident"
	ReasonOptedOut     = "opted_out"
	ReasonSilenced     = "silenced"
	ReasonQuietHours   = "quiet_hours"
	ReasonFrequencyCap = "frequency_cap"
)

// Decision is the answer for one recipient. It is also the audit record: every decision the
// proxy or the decision API makes is stored.
type Decision struct {
	ID         string     `json:"id,omitempty"`
	At         time.Time  `json:"at"`
	Recipient  Identity   `json:"recipient"`
	CustomerID string     `json:"customer_id,omitempty"`
	Channel    Channel    `json:"channel"`
	Category   Category   `json:"category"`
	Upstream   string     `json:"upstream,omitempty"` // proxy upstream, or "" for the decision API
	Allowed    bool       `json:"allowed"`
	Reason     string     `json:"reason,omitempty"`
	Rule       string     `json:"rule,omitempty"`
	SilenceID  string     `json:"silence_id,omitempty"`
	OptOutID   string     `json:"optout_id,omitempty"`
	IncidentID string     `json:"incident_id,omitempty"`
	Cap        string     `json:"cap,omitempty"` // e.g. "voice/sales 3 per 30d"
	Until      *time.Time `json:"until,omitempty"`
	// Defer is set for quiet hours with action defer: retry after Until.
	Defer bool `json:"defer,omitempty"`
	// Shadow marks a decision computed in shadow mode: recorded, traffic not changed.
	Shadow bool `json:"shadow,omitempty"`
	// ContactID is the cap reservation taken for an allowed, recorded send; releasing it
	// (upstream failure) gives the slot back.
	ContactID string `json:"contact_id,omitempty"`
	// Unsent marks an allowed send that did not happen: the upstream failed, or the
	// connector had to leave the recipient out. Its cap slot was given back.
	Unsent bool `json:"unsent,omitempty"`
}

// Contact is one counted outbound contact, the unit of frequency caps.
type Contact struct {
	ID         string    `json:"id"`
	CustomerID string    `json:"customer_id"`
	At         time.Time `json:"at"`
	Channel    Channel   `json:"channel"`
	Category   Category  `json:"category"`
	Upstream   string    `json:"upstream,omitempty"`
}

// DeadLetter is a verified payload hush could not parse, kept for an operator to replay.
type DeadLetter struct {
	ID         string              `json:"id"`
	Source     string              `json:"source"`
	ReceivedAt time.Time           `json:"received_at"`
	Error      string              `json:"error"`
	Header     map[string][]string `json:"header,omitempty"` // request headers (no secrets: signature headers kept for audit)
	Query      string              `json:"query,omitempty"`
	Body       []byte              `json:"body"`
	ReplayedAt *time.Time          `json:"replayed_at,omitempty"`
	Attempts   int                 `json:"attempts"`
}

// OutboxMessage is a side effect to deliver after commit (a retention alert, a follow-up),
// written in the same transaction as its cause so that it is never lost nor sent twice.
type OutboxMessage struct {
	ID          string          `json:"id"`
	Kind        string          `json:"kind"`   // OutboxAlert, OutboxFollowUp or OutboxSilenceEnded
	Target      string          `json:"target"` // alert name from config
	CustomerID  string          `json:"customer_id,omitempty"`
	Rule        string          `json:"rule,omitempty"`
	EventID     string          `json:"event_id,omitempty"`
	Payload     json.RawMessage `json:"payload"`
	CreatedAt   time.Time       `json:"created_at"`
	Attempts    int             `json:"attempts"`
	NextAttempt time.Time       `json:"next_attempt"`
	DeliveredAt *time.Time      `json:"delivered_at,omitempty"`
	LastError   string          `json:"last_error,omitempty"`
	// DeadAt is set when delivery was given up (a non-retryable answer, or too old); a dead
	// message is neither pending nor delivered, and stays until an admin retries it.
	DeadAt     *time.Time `json:"dead_at,omitempty"`
	DeadReason string     `json:"dead_reason,omitempty"`
	// DueAt is when a scheduled message (a follow-up, a silence's end) is meant to go out;
	// zero for alerts, which go at once. Delivery gives up MaxAge after DueAt (else after
	// CreatedAt).
	DueAt time.Time `json:"due_at,omitzero"`
}

// Outbox message kinds.
const (
	OutboxAlert        = "alert"         // a rule fired: tell the team now
	OutboxFollowUp     = "follow_up"     // a rule's follow_up: remind the team after a while
	OutboxSilenceEnded = "silence_ended" // a rule's silence is over: the customer may be contacted again
)

// State reports which of the outbox states m is in (delivered wins over dead: a late
// success is still a success).
func (m *OutboxMessage) State() string {
	switch {
	case m.DeliveredAt != nil:
		return OutboxDelivered
	case m.DeadAt != nil:
		return OutboxDead
	default:
		return OutboxPending
	}
}
