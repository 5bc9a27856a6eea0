package policy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// Decide answers for each recipient, in order, following DESIGN §2: transactional and service
// pass; then incident, opt-out, silence, quiet hours and caps, first match wins.
//
// Everything but caps is answered from the snapshot. Caps need the store: with Record the
// check and the reservation of the slot happen in one write transaction (so concurrent sends
// cannot both take the last slot) together with the audit records; without Record a read
// transaction counts and nothing is written. When no cap applies and nothing is recorded, no
// transaction is opened at all.
//
// Opt-outs: an opt-out covers its own channel; an SMS opt-out also covers WhatsApp, because
// both reach the same number as text messages and STOP is how people say "stop texting me".
// A WhatsApp opt-out does not cover SMS. An opt-out on channel "any" covers every channel.
func (e *Engine) Decide(ctx context.Context, req gateway.DecisionRequest) ([]gateway.Decision, error) {
	ch, err := gateway.ParseChannel(string(req.Channel), false)
	if err != nil {
		return nil, gateway.Errorf(gateway.CodeInvalid, "channel: %v", err)
	}
	cat := gateway.SendCategory(string(req.Category))
	at := req.At
	if at.IsZero() {
		at = e.now()
	}
	snap := e.snap.Load()
	decisions := make([]gateway.Decision, len(req.Recipients))
	needCaps := e.capsApply(ch, cat)
	// A customer with nothing in force is not in the snapshot; their timezone (quiet hours)
	// or tags (an incident scoped to a tag) are read from the store when those apply.
	needStored := !cat.NeverBlocked() && cat != gateway.CategoryTransactional && cat != gateway.CategoryService &&
		(e.quietHoursApply(ch) || snap.tagIncident(at, ch, cat))
	var pending []int // recipients that passed everything but caps
	var stored []int  // recipients to decide with what the store knows about them
	for i, r := range req.Recipients {
		if r == "" {
			return nil, gateway.Errorf(gateway.CodeInvalid, "recipients[%d]: identity is empty", i)
		}
		decisions[i] = gateway.Decision{At: at, Recipient: r, Channel: ch, Category: cat, Upstream: req.Upstream, Shadow: req.Shadow}
		st := snap.lookup(r)
		if st == nil && needStored {
			stored = append(stored, i)
			continue
		}
		if e.decideOne(snap, st, &decisions[i]) && needCaps {
			pending = append(pending, i)
		}
	}
	if len(stored) > 0 {
		var err error
		if pending, err = e.decideStored(ctx, snap, decisions, stored, pending, needCaps, !req.Record); err != nil {
			return nil, err
		}
		if !req.Record {
			return decisions, nil // caps were checked in the same read
		}
	}
	switch {
	case len(decisions) == 0:
		return decisions, nil
	case req.Record && !needCaps && e.rec != nil:
		return e.recordLater(ctx, decisions, pending)
	case req.Record:
		return e.recordDecisions(ctx, decisions, pending, needCaps)
	case len(pending) > 0:
		return e.dryCheckCaps(ctx, decisions, pending)
	default:
		return decisions, nil
	}
}

// decideStored decides for the recipients the snapshot does not hold, with what the store knows
// about them, in one read transaction that also checks caps for a dry check. It returns
// pending with the recipients that only caps remain for added, in order.
func (e *Engine) decideStored(ctx context.Context, snap *Snapshot, decisions []gateway.Decision, stored, pending []int, needCaps, dry bool) ([]int, error) {
	err := e.store.View(ctx, func(tx gateway.Tx) error {
		for _, i := range stored {
			c, err := tx.CustomerByIdentity(decisions[i].Recipient)
			switch {
			case errors.Is(err, gateway.ErrNotFound):
				c = nil
			case err != nil:
				return fmt.Errorf("looking up a recipient: %w", err)
			}
			var st *customerState
			if c != nil {
				st = &customerState{customer: c, loc: e.customerLocation(c)}
			}
			if e.decideOne(snap, st, &decisions[i]) && needCaps {
				pending = append(pending, i)
			}
		}
		slices.Sort(pending)
		if dry && len(pending) > 0 {
			return e.capsIn(tx, decisions, pending)
		}
		return nil
	})
	if err != nil {
		return nil, storeError(err, "reading recipients")
	}
	return pending, nil
}

// decideOne decides for one recipient from what is known about them (st: nil when nothing).
// It reports whether the recipient is allowed so far: only caps remain to check.
func (e *Engine) decideOne(snap *Snapshot, st *customerState, d *gateway.Decision) bool {
	if st != nil {
		d.CustomerID = st.customer.ID
	}
	if e.decideFromSnapshot(snap, st, d) {
		return false
	}
	d.Allowed = true
	return true
}

// decideFromSnapshot applies every step before caps. It reports whether the decision is final
// (allowed by category, or dropped); otherwise only caps remain.
func (e *Engine) decideFromSnapshot(snap *Snapshot, st *customerState, d *gateway.Decision) bool {
	at, ch, cat := d.At, d.Channel, d.Category
	if cat == gateway.CategoryTransactional || cat == gateway.CategoryService {
		d.Allowed = true
		return true
	}
	var customer *gateway.Customer
	if st != nil {
		customer = st.customer
	}
	for i := range snap.incidents {
		inc := &snap.incidents[i]
		if inc.ActiveAt(at) && inc.Covers(ch, cat) && inc.CoversCustomer(customer) {
			d.Reason, d.IncidentID = gateway.ReasonIncident, inc.ID
			return true
		}
	}
	if st != nil {
		for i := range st.optOuts {
			if optOutCovers(st.optOuts[i].Channel, ch) {
				d.Reason, d.OptOutID = gateway.ReasonOptedOut, st.optOuts[i].ID
				return true
			}
		}
		if !cat.NeverBlocked() {
			// Several silences may cover the send: report the one that lasts longest, which is
			// when the customer can be contacted again.
			var best *gateway.Silence
			for i := range st.silences {
				s := &st.silences[i]
				if !s.ActiveAt(at) || !s.Covers(ch, cat) {
					continue
				}
				if best == nil || best.End != nil && (s.End == nil || s.End.After(*best.End)) {
					best = s
				}
			}
			if best != nil {
				d.Reason, d.Rule, d.SilenceID = gateway.ReasonSilenced, best.Rule, best.ID
				if best.End != nil {
					end := *best.End
					d.Until = &end
				}
				return true
			}
		}
	}
	if e.quietHoursApply(ch) {
		if until, deferred, quiet := e.quietVerdict(ch, at, e.recipientLocation(st, d.Recipient)); quiet {
			d.Reason, d.Defer, d.Until = gateway.ReasonQuietHours, deferred, &until
			return true
		}
	}
	return false
}

func optOutCovers(optedOut, ch gateway.Channel) bool {
	return optedOut == ch || optedOut == gateway.ChannelAny ||
		optedOut == gateway.ChannelSMS && ch == gateway.ChannelWhatsApp
}

func dropForCap(d *gateway.Decision, v capVerdict) {
	d.Allowed = false
	d.Reason, d.Cap, d.Until = gateway.ReasonFrequencyCap, v.cap, v.until
}

// dryCheckCaps counts without reserving: the answer to "record": false.
func (e *Engine) dryCheckCaps(ctx context.Context, decisions []gateway.Decision, pending []int) ([]gateway.Decision, error) {
	err := e.store.View(ctx, func(tx gateway.Tx) error { return e.capsIn(tx, decisions, pending) })
	if err != nil {
		return nil, storeError(err, "checking frequency caps")
	}
	return decisions, nil
}

// capsIn drops the pending decisions a cap is full for, counting in tx.
func (e *Engine) capsIn(tx gateway.Tx, decisions []gateway.Decision, pending []int) error {
	for _, i := range pending {
		d := &decisions[i]
		cid := d.CustomerID
		if cid == "" {
			c, err := tx.CustomerByIdentity(d.Recipient)
			if errors.Is(err, gateway.ErrNotFound) {
				continue // never contacted: every cap has room
			}
			if err != nil {
				return fmt.Errorf("looking up a recipient: %w", err)
			}
			cid = c.ID
		}
		v, err := e.checkCaps(tx, cid, d.Channel, d.Category, d.At)
		if err != nil {
			return err
		}
		if v.cap != "" {
			dropForCap(d, v)
		}
	}
	return nil
}

// recordDecisions checks and reserves cap slots and writes the audit log in one transaction.
// Allowed sends to known customers are counted even when no cap applies to them now, so that a
// cap added later sees the history; a recipient hush does not know gets a customer only when a
// cap applies, so that caps count them from their first send.
func (e *Engine) recordDecisions(ctx context.Context, decisions []gateway.Decision, pending []int, needCaps bool) ([]gateway.Decision, error) {
	var result []gateway.Decision
	err := e.update(ctx, "recording decisions", func(tx gateway.Tx, ch *changes) error {
		result = slices.Clone(decisions)
		if err := resolveCustomers(tx, result); err != nil {
			return err
		}
		for _, i := range pending {
			d := &result[i]
			if d.CustomerID == "" {
				c, created, err := e.customerFor(tx, d.Recipient, d.At)
				if err != nil {
					return err
				}
				if created {
					ch.customer(c.ID)
				}
				d.CustomerID = c.ID
			}
			v, err := e.checkCaps(tx, d.CustomerID, d.Channel, d.Category, d.At)
			if err != nil {
				return err
			}
			if v.cap != "" {
				dropForCap(d, v)
			}
		}
		for i := range result {
			d := &result[i]
			if d.Allowed && d.CustomerID != "" && !d.Category.NeverBlocked() {
				c := &gateway.Contact{
					ID: gateway.NewID("con", d.At), CustomerID: d.CustomerID, At: d.At,
					Channel: d.Channel, Category: d.Category, Upstream: d.Upstream,
				}
				if err := tx.PutContact(c); err != nil {
					return fmt.Errorf("reserving a contact: %w", err)
				}
				d.ContactID = c.ID
			}
			if err := tx.PutDecision(d); err != nil {
				return fmt.Errorf("recording a decision: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return result, nil
}

// resolveCustomers fills in the customer of decisions about recipients the snapshot did not
// hold (customers with nothing in force), so that the audit log and the cap counters name
// them. A recipient hush does not know stays without one.
func resolveCustomers(tx gateway.Tx, decisions []gateway.Decision) error {
	for i := range decisions {
		d := &decisions[i]
		if d.CustomerID != "" {
			continue
		}
		c, err := tx.CustomerByIdentity(d.Recipient)
		if errors.Is(err, gateway.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("looking up a recipient: %w", err)
		}
		d.CustomerID = c.ID
	}
	return nil
}

// recordLater queues the decisions of a send no cap covers for the batched decision log (see
// recorder.go): the same records recordDecisions writes, with their ids made now so the
// caller (and Release) can name them.
func (e *Engine) recordLater(ctx context.Context, decisions []gateway.Decision, pending []int) ([]gateway.Decision, error) {
	for i := range decisions {
		d := &decisions[i]
		d.ID = gateway.NewID("dec", d.At)
		// The customer may be known only to the store: the contact's id is made now (Release
		// names it) and the contact written only if a customer turns up (writeOp).
		if d.Allowed && !d.Category.NeverBlocked() {
			d.ContactID = gateway.NewID("con", d.At)
		}
	}
	queued, err := e.rec.add(ctx, recordOp{decisions: slices.Clone(decisions)})
	if err != nil {
		return nil, storeError(err, "queuing the decision log")
	}
	if !queued { // closed: shutting down
		for i := range decisions {
			decisions[i].ID, decisions[i].ContactID = "", ""
		}
		return e.recordDecisions(ctx, decisions, pending, false)
	}
	return decisions, nil
}

// customerFor finds the customer an identity belongs to, creating one when hush does not know it.
func (e *Engine) customerFor(tx gateway.Tx, id gateway.Identity, now time.Time) (c *gateway.Customer, created bool, err error) {
	c, err = tx.CustomerByIdentity(id)
	if err == nil {
		return c, false, nil
	}
	if !errors.Is(err, gateway.ErrNotFound) {
		return nil, false, fmt.Errorf("looking up a customer by identity: %w", err)
	}
	c = &gateway.Customer{ID: gateway.NewID("cus", now), Identities: []gateway.Identity{id}, CreatedAt: now, UpdatedAt: now}
	if err := tx.PutCustomer(c); err != nil {
		return nil, false, fmt.Errorf("creating a customer: %w", err)
	}
	return c, true, nil
}

// Release gives back the cap slots of decisions whose send did not happen and marks the
// recorded ones unsent in the audit log.
func (e *Engine) Release(ctx context.Context, decisions []gateway.Decision) error {
	var held bool
	for i := range decisions {
		held = held || decisions[i].ContactID != "" || decisions[i].ID != ""
	}
	if !held {
		return nil
	}
	// Slots of a send no cap covers were queued with its decisions: release them in order
	// behind them.
	if d0 := &decisions[0]; e.rec != nil && !e.capsApply(d0.Channel, d0.Category) {
		queued, err := e.rec.add(ctx, recordOp{decisions: slices.Clone(decisions), release: true})
		if err != nil {
			return storeError(err, "queuing a cap release")
		}
		if queued {
			return nil
		}
		// The log is closing: the send's own decisions may still be queued; write them
		// first, or they would land after this release and take the slot again.
		if err := e.rec.flush(ctx); err != nil {
			return storeError(err, "writing the decision log")
		}
	}
	return e.update(ctx, "releasing cap slots", func(tx gateway.Tx, _ *changes) error {
		op := recordOp{decisions: slices.Clone(decisions), release: true}
		return writeOp(tx, &op)
	})
}
