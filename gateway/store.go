package gateway

import (
	"context"
	"io"
	"time"
)

// Store is hush's durable state. Back ends live under storage/ and all pass the conformance
// suite in storage/storagetest.
//
// Every change goes through Update, whose function sees a consistent transaction; the
// function may run more than once (bbolt group commit retries a batch one at a time when one
// member fails), so it must not touch anything outside the Tx it is given and must compute the
// same writes from the same reads. Update returns only after the transaction is durably
// committed.
type Store interface {
	Update(ctx context.Context, fn func(Tx) error) error
	View(ctx context.Context, fn func(Tx) error) error
	// Backup writes a consistent copy of the whole store while it keeps serving.
	Backup(ctx context.Context, w io.Writer) (int64, error)
	// Ping answers whether the store can serve (for /readyz).
	Ping(ctx context.Context) error
	Close() error
}

// ErrBackupUnsupported is what Store.Backup answers for a store that hush cannot copy as one
// file (PostgreSQL has its own tools). It is a caller's error (400), not a failure.
var ErrBackupUnsupported = &Error{Code: CodeInvalid,
	Message: "this storage is not a file hush backup can copy: back up PostgreSQL with pg_dump (or your provider's snapshots)"}

// Page asks for one page of a listing. Cursor is opaque: the Next of the previous page.
type Page struct {
	Limit  int    // 0 (or less): DefaultPageSize; capped at MaxPageSize
	Cursor string // "" for the first page
}

// Page sizes every back end applies (Page.Size).
const (
	DefaultPageSize = 50
	MaxPageSize     = 1000
)

// Size is how many items the page holds at most: Limit within (0, MaxPageSize], else the
// default.
func (p Page) Size() int {
	switch {
	case p.Limit <= 0:
		return DefaultPageSize
	case p.Limit > MaxPageSize:
		return MaxPageSize
	}
	return p.Limit
}

// EventQuery selects a customer's events, newest first.
type EventQuery struct {
	CustomerID string
	Since      time.Time // inclusive; zero: no lower bound (event time `at`)
	Until      time.Time // exclusive; zero: no upper bound
	Page
}

// SilenceQuery selects silences, newest first (by Start).
type SilenceQuery struct {
	CustomerID string    // "": every customer
	Rule       string    // "": any
	ActiveAt   time.Time // non-zero: only silences in force at that time
	Topic      string    // "": any
	Page
}

// OptOutQuery selects opt-outs, newest first.
type OptOutQuery struct {
	CustomerID string
	ActiveOnly bool
	Page
}

// IncidentQuery selects incidents, newest first.
type IncidentQuery struct {
	OpenOnly   bool
	ExternalID string // with Source: the incident a vendor webhook refers to
	Source     string
	Page
}

// DecisionQuery selects recorded decisions, newest first.
type DecisionQuery struct {
	CustomerID string
	Since      time.Time
	Until      time.Time
	Page
}

// OutboxQuery selects outbox messages, oldest first.
type OutboxQuery struct {
	PendingOnly bool      // neither delivered nor dead (same as State OutboxPending)
	State       string    // OutboxPending, OutboxDelivered, OutboxDead; "": all (unless PendingOnly)
	DueBy       time.Time // non-zero: NextAttempt <= DueBy
	Page
}

// Outbox message states, for OutboxQuery.State and the admin API.
const (
	OutboxPending   = "pending"   // neither delivered nor dead: the worker will try it
	OutboxDelivered = "delivered" // DeliveredAt set
	OutboxDead      = "dead"      // DeadAt set (and not delivered): given up
)

// Tx is one storage transaction. Records are returned as fresh copies the caller may modify;
// Put* writes the whole record (insert or replace by ID). Lookups of a missing record return
// ErrNotFound (wrapped or not: check with errors.Is).
type Tx interface {
	// Deliveries: the dedupe keys of webhook deliveries, per source.
	DeliverySeen(source, deliveryID string) (bool, error)
	PutDelivery(source, deliveryID string, at time.Time) error
	// ForEachDelivery walks every dedupe key (to move a store to another back end).
	ForEachDelivery(fn func(source, deliveryID string, at time.Time) error) error

	// Customers and the identity index. PutCustomer indexes every identity in c.Identities
	// (an identity that belongs to another customer is a conflict error: merge first) and
	// drops index entries of identities removed from c.
	Customer(id string) (*Customer, error)
	CustomerByIdentity(id Identity) (*Customer, error)
	PutCustomer(c *Customer) error
	// MergeCustomers moves everything of customer from into customer into: identities,
	// events, silences, opt-outs, decisions and contacts; then deletes from. Attributes are
	// the caller's job (PutCustomer into afterwards).
	MergeCustomers(into, from string) error
	// DeleteCustomer erases a customer: identities, events and raw payloads, decisions,
	// contacts, silences and opt-outs.
	DeleteCustomer(id string) error
	ForEachCustomer(fn func(*Customer) error) error

	// Events, stored with their raw payload. PutEvent assigns e.Seq when it is zero.
	PutEvent(e *Event) error
	Events(q EventQuery) (events []Event, next string, err error)
	// EventRaw returns the raw payload stored with the customer's event number seq.
	EventRaw(customerID string, seq uint64) ([]byte, error)

	Silence(id string) (*Silence, error)
	PutSilence(s *Silence) error
	Silences(q SilenceQuery) ([]Silence, string, error)

	OptOut(id string) (*OptOut, error)
	PutOptOut(o *OptOut) error
	OptOuts(q OptOutQuery) ([]OptOut, string, error)

	Incident(id string) (*Incident, error)
	PutIncident(i *Incident) error
	Incidents(q IncidentQuery) ([]Incident, string, error)

	// Decisions: the audit log. PutDecision assigns d.ID when it is empty (and replaces the
	// record with that id when it is given).
	Decision(id string) (*Decision, error)
	PutDecision(d *Decision) error
	Decisions(q DecisionQuery) ([]Decision, string, error)

	// Contacts: cap counters. CountContacts counts the customer's contacts with At in
	// [since, ∞) on channel ch (ChannelAny: every channel) in category cat (CategoryAny: every
	// category).
	PutContact(c *Contact) error
	DeleteContact(customerID, id string) error
	CountContacts(customerID string, since time.Time, ch Channel, cat Category) (int, error)
	// ForEachContact walks every cap counter (to move a store to another back end).
	ForEachContact(fn func(*Contact) error) error

	DeadLetter(id string) (*DeadLetter, error)
	PutDeadLetter(d *DeadLetter) error
	DeadLetters(p Page) ([]DeadLetter, string, error)

	OutboxMessage(id string) (*OutboxMessage, error)
	PutOutbox(m *OutboxMessage) error
	Outbox(q OutboxQuery) ([]OutboxMessage, string, error)

	// Suppression-list ledger: what hush put on (or found on) each synced upstream's list,
	// keyed by upstream and address. Listings go in address order.
	SuppressionEntry(upstream, address string) (*SuppressionEntry, error)
	PutSuppressionEntry(e *SuppressionEntry) error
	DeleteSuppressionEntry(upstream, address string) error // a missing entry is not an error
	SuppressionEntries(q SuppressionQuery) ([]SuppressionEntry, string, error)
	// ForEachSuppressionEntry walks the whole ledger, every upstream (to move a store).
	ForEachSuppressionEntry(fn func(*SuppressionEntry) error) error

	// Prune deletes events (with raw payloads) with At before events, decisions before
	// decisions (and cap contacts) before decisions and deliveries before deliveries; zero times
	// skip that kind. It reports how
	// many records it removed.
	Prune(events, decisions, deliveries time.Time) (int, error)
}

// ChangeFeed is implemented by a store that several hush processes share (PostgreSQL). Each
// process keeps an in-memory snapshot of who may be contacted; the feed tells it what the
// other processes committed, so that a silence created through one replica is enforced by
// every other within a second. A store only one process opens (bbolt) does not implement it.
//
// The store derives the feed from the writes themselves: a commit that put a customer, a
// silence or an opt-out, merged or deleted customers names those customers; one that put an
// incident sets Incidents.
type ChangeFeed interface {
	// Changes returns what other processes (other Store values) committed after version
	// since, and the version to ask from next time. Since 0 asks from the start of the feed;
	// a since older than the feed still keeps returns Reset (reload everything).
	Changes(ctx context.Context, since uint64) (Changes, error)
	// WaitChange returns when another process may have committed (a wake-up, not a
	// promise: callers still call Changes) or after at most interval, or when ctx ends.
	// Stores without notifications simply wait interval.
	WaitChange(ctx context.Context, interval time.Duration) error
}

// Changes is one read of a ChangeFeed.
type Changes struct {
	Version   uint64   // the version these changes bring the reader to
	Customers []string // customers whose record, identities, silences or opt-outs changed
	Incidents bool     // an incident was opened, changed or resolved
	Reset     bool     // the feed no longer reaches back to since: reload the whole snapshot
}
