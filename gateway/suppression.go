package gateway

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// Suppression-list sync (the Closed loop issue). A tool that sends from a vendor's own servers
// (a SendGrid Single Send, a Postmark broadcast, a Mailgun or Mandrill campaign) never passes
// through hush's proxy. For those, hush keeps the vendor's own suppression list in step with
// its silences: it puts a silenced customer's email addresses on the list and takes them off
// when the silence ends, for every upstream configured with `sync: true`.
//
// hush only ever takes off an entry it put there itself: its ledger (SuppressionEntry) records
// every address it added, and an address that was already on the list (the customer's own
// unsubscribe, a bounce) is recorded as not owned and never removed.
//
// The work is level-triggered: a sync job (an OutboxSync message naming an upstream and a
// customer) compares what should be on the list (the customer's addresses while a silence
// covers email in the upstream's category) with the ledger, and makes the difference. Jobs are
// queued in the same transaction as every silence change, at each silence's end, and by a full
// reconcile at start and periodically; running one twice changes nothing.

// OutboxSync is the outbox kind of a suppression-list sync job: Target is the upstream's name,
// CustomerID the customer whose addresses to bring in step.
const OutboxSync = "sync"

// Doer sends one HTTP request (an *http.Client). The delivery worker passes a client with
// bounded timeouts and a few quick retries of 429, 5xx and network errors.
type Doer interface {
	Do(req *http.Request) (*http.Response, error)
}

// SuppressionList is one vendor's own list of addresses it will not send to. Implementations
// do their I/O through the Doer they are given, are safe for concurrent use, and report a
// vendor's refusal as a *SyncError so the worker knows whether to try again.
type SuppressionList interface {
	// Contains reports whether address is on the list now, whoever put it there (for Mailgun:
	// whether it is unsubscribed from hush's tag or from everything).
	Contains(ctx context.Context, c Doer, address string) (bool, error)
	// Add puts address on the list, marked as hush's where the vendor keeps a mark (a tag, a
	// comment). Adding an address that is already there is not an error.
	Add(ctx context.Context, c Doer, address string) error
	// Remove takes hush's entry for address off the list, and only hush's where the vendor
	// can tell them apart (Mailgun: the hush tag only; Mandrill: only a reject with hush's
	// comment). An address that is not on the list is not an error.
	Remove(ctx context.Context, c Doer, address string) error
}

// SyncError is a vendor's refusal of a suppression-list call.
type SyncError struct {
	Op     string // "contains", "add" or "remove"
	Status int    // the HTTP status (0 when the answer itself was unreadable)
	// Permanent marks a refusal that trying again cannot fix (a bad key, an unknown group, an
	// address the vendor rejects): the job dies and waits for an operator. Otherwise (429,
	// 5xx) it is tried again later.
	Permanent bool
	// RetryAfter is the vendor's Retry-After, when it gave one.
	RetryAfter time.Duration
	// Message is the vendor's own error text, without the address, for the outbox record.
	Message string
}

func (e *SyncError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	if e.Status == 0 {
		return fmt.Sprintf("suppression list %s: %s", e.Op, msg)
	}
	return fmt.Sprintf("suppression list %s: vendor answered %d: %s", e.Op, e.Status, msg)
}

// SuppressionEntry is hush's ledger of one address on one upstream's suppression list.
type SuppressionEntry struct {
	Upstream   string `json:"upstream"`
	Address    string `json:"address"`     // the email address, normalized (Identity value)
	CustomerID string `json:"customer_id"` // the customer it was added for
	// Owned: hush put the address on the list (or is about to), so hush takes it off when
	// the silence ends. Not owned: it was there already (the customer's own unsubscribe);
	// hush leaves it alone and only forgets it.
	Owned bool `json:"owned"`
	// Synced: the vendor confirmed hush's add. An owned entry that is not synced is an add
	// hush recorded before calling the vendor (so a crash in between cannot make hush
	// mistake its own entry for the customer's); the next sync job adds it again.
	Synced    bool      `json:"synced"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// SuppressionQuery selects ledger entries of one upstream, by address.
type SuppressionQuery struct {
	Upstream   string // required
	CustomerID string // "": every customer
	Page
}
