package bolt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hush-gateway/hush/gateway"
	"go.etcd.io/bbolt"
)

// tx implements gateway.Tx on one bbolt transaction. It holds nothing but the transaction,
// so a batch that bbolt re-runs starts from a clean slate.
type tx struct {
	btx *bbolt.Tx
}

var _ gateway.Tx = (*tx)(nil)

func isNotFound(err error) bool { return errors.Is(err, gateway.ErrNotFound) }

func (t *tx) bucket(name []byte) *bbolt.Bucket { return t.btx.Bucket(name) }

// ---- deliveries

func deliveryKey(source, id string) []byte { return join(idPrefix(source), []byte(id)) }

func (t *tx) DeliverySeen(source, deliveryID string) (bool, error) {
	return t.bucket(bucketDeliveries).Get(deliveryKey(source, deliveryID)) != nil, nil
}

func (t *tx) PutDelivery(source, deliveryID string, at time.Time) error {
	if err := checkID("delivery source", source); err != nil {
		return err
	}
	if deliveryID == "" {
		return gateway.Errorf(gateway.CodeInvalid, "delivery id is empty")
	}
	if err := t.bucket(bucketDeliveries).Put(deliveryKey(source, deliveryID), timeKey(at)); err != nil {
		return fmt.Errorf("write delivery of %s: %w", source, err)
	}
	return nil
}

// ForEachDelivery walks the dedupe keys in key order. fn must not write deliveries.
func (t *tx) ForEachDelivery(fn func(source, deliveryID string, at time.Time) error) error {
	return scanRange(t.bucket(bucketDeliveries), nil, nil, false, nil, func(k, v []byte) (bool, error) {
		source, id, ok := bytes.Cut(k, []byte{0})
		if !ok || len(v) != 8 {
			return false, fmt.Errorf("delivery key %q is corrupt", k)
		}
		return true, fn(string(source), string(id), timeFromBits(binary.BigEndian.Uint64(v)))
	})
}

// ---- customers

func (t *tx) Customer(id string) (*gateway.Customer, error) {
	v := t.bucket(bucketCustomers).Get([]byte(id))
	if v == nil {
		return nil, fmt.Errorf("customer %q: %w", id, gateway.ErrNotFound)
	}
	c := new(gateway.Customer)
	if err := json.Unmarshal(v, c); err != nil {
		return nil, fmt.Errorf("decode customer %q: %w", id, err)
	}
	return c, nil
}

// errNoCustomerWithIdentity is CustomerByIdentity's answer for an identity nobody has.
var errNoCustomerWithIdentity = fmt.Errorf("customer with identity: %w", gateway.ErrNotFound)

func (t *tx) CustomerByIdentity(id gateway.Identity) (*gateway.Customer, error) {
	owner := t.bucket(bucketIdentities).Get([]byte(id))
	if owner == nil {
		// Most recipients of a send are strangers: a shared error value, not one per lookup.
		return nil, errNoCustomerWithIdentity
	}
	return t.Customer(string(owner))
}

func (t *tx) PutCustomer(c *gateway.Customer) error {
	if err := checkID("customer id", c.ID); err != nil {
		return err
	}
	idx := t.bucket(bucketIdentities)
	for _, id := range c.Identities {
		if id == "" {
			return gateway.Errorf(gateway.CodeInvalid, "customer %s has an empty identity", c.ID)
		}
		if owner := idx.Get([]byte(id)); owner != nil && string(owner) != c.ID {
			// The identity itself is personal data: the message names only the customers.
			return gateway.Errorf(gateway.CodeConflict, "an identity of customer %s already belongs to customer %s: merge them first", c.ID, owner)
		}
	}
	old, err := t.Customer(c.ID)
	switch {
	case err == nil:
		for _, id := range old.Identities {
			if !slices.Contains(c.Identities, id) && string(idx.Get([]byte(id))) == c.ID {
				if err := idx.Delete([]byte(id)); err != nil {
					return fmt.Errorf("unindex identity of customer %s: %w", c.ID, err)
				}
			}
		}
	case !isNotFound(err):
		return err
	}
	for _, id := range c.Identities {
		if err := idx.Put([]byte(id), []byte(c.ID)); err != nil {
			return fmt.Errorf("index identity of customer %s: %w", c.ID, err)
		}
	}
	return t.writeCustomer(c)
}

func (t *tx) writeCustomer(c *gateway.Customer) error {
	data, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode customer %s: %w", c.ID, err)
	}
	if err := t.bucket(bucketCustomers).Put([]byte(c.ID), data); err != nil {
		return fmt.Errorf("write customer %s: %w", c.ID, err)
	}
	return nil
}

func (t *tx) MergeCustomers(into, from string) error {
	if into == from {
		return gateway.Errorf(gateway.CodeInvalid, "cannot merge customer %s into itself", into)
	}
	dst, err := t.Customer(into)
	if err != nil {
		return err
	}
	src, err := t.Customer(from)
	if err != nil {
		return err
	}
	idx := t.bucket(bucketIdentities)
	for _, id := range src.Identities {
		if err := idx.Put([]byte(id), []byte(into)); err != nil {
			return fmt.Errorf("move identity to customer %s: %w", into, err)
		}
		if !slices.Contains(dst.Identities, id) {
			dst.Identities = append(dst.Identities, id)
		}
	}
	if err := t.writeCustomer(dst); err != nil {
		return err
	}
	if err := t.moveEvents(from, into); err != nil {
		return err
	}
	for _, move := range []func(*bbolt.Tx, string, string) error{
		silenceTable.moveCustomer, optOutTable.moveCustomer, decisionTable.moveCustomer, contactTable.moveCustomer,
	} {
		if err := move(t.btx, from, into); err != nil {
			return fmt.Errorf("merge customer %s into %s: %w", from, into, err)
		}
	}
	if err := t.bucket(bucketCustomers).Delete([]byte(from)); err != nil {
		return fmt.Errorf("delete merged customer %s: %w", from, err)
	}
	return nil
}

func (t *tx) DeleteCustomer(id string) error {
	c, err := t.Customer(id)
	if err != nil {
		return err
	}
	idx := t.bucket(bucketIdentities)
	for _, ident := range c.Identities {
		if string(idx.Get([]byte(ident))) == id {
			if err := idx.Delete([]byte(ident)); err != nil {
				return fmt.Errorf("unindex identity of customer %s: %w", id, err)
			}
		}
	}
	if err := t.deleteEvents(id); err != nil {
		return err
	}
	for _, del := range []func(*bbolt.Tx, string) error{
		silenceTable.deleteCustomer, optOutTable.deleteCustomer, decisionTable.deleteCustomer, contactTable.deleteCustomer,
	} {
		if err := del(t.btx, id); err != nil {
			return fmt.Errorf("erase customer %s: %w", id, err)
		}
	}
	if err := t.bucket(bucketCustomers).Delete([]byte(id)); err != nil {
		return fmt.Errorf("delete customer %s: %w", id, err)
	}
	return nil
}

func (t *tx) ForEachCustomer(fn func(*gateway.Customer) error) error {
	// fn may write (PutCustomer), which invalidates bbolt cursors: re-seek after each call.
	b := t.bucket(bucketCustomers)
	var after []byte
	for {
		c := b.Cursor()
		var k, v []byte
		if after == nil {
			k, v = c.First()
		} else if k, v = c.Seek(after); k != nil && bytes.Equal(k, after) {
			k, v = c.Next()
		}
		if k == nil {
			return nil
		}
		after = bytes.Clone(k)
		cust := new(gateway.Customer)
		if err := json.Unmarshal(v, cust); err != nil {
			return fmt.Errorf("decode customer %q: %w", k, err)
		}
		if err := fn(cust); err != nil {
			return err
		}
	}
}

// ---- events
//
// events:     customer NUL at(8) seq(8) → event JSON (without raw)
// event_seqs: customer NUL seq(8)       → at(8) raw payload
// The second finds an event by number (EventRaw, replacing an event) without a scan.

func eventKey(customer string, at []byte, seq uint64) []byte {
	return join(idPrefix(customer), at, uint64Key(seq))
}

func eventSeqKey(customer string, seq uint64) []byte {
	return join(idPrefix(customer), uint64Key(seq))
}

func (t *tx) PutEvent(e *gateway.Event) error {
	if err := checkID("event customer id", e.CustomerID); err != nil {
		return err
	}
	events, seqs := t.bucket(bucketEvents), t.bucket(bucketEventSeqs)
	switch {
	case e.Seq == 0:
		seq, err := events.NextSequence()
		if err != nil {
			return fmt.Errorf("number event: %w", err)
		}
		e.Seq = seq
	case e.Seq > events.Sequence():
		// A number from a rolled-back run of this batch (the caller's struct kept it), or
		// from another store: keep it and move the counter past it so it is never reused.
		if err := events.SetSequence(e.Seq); err != nil {
			return fmt.Errorf("number event: %w", err)
		}
	}
	sk := eventSeqKey(e.CustomerID, e.Seq)
	if old := seqs.Get(sk); len(old) >= 8 {
		if err := events.Delete(eventKey(e.CustomerID, old[:8], e.Seq)); err != nil {
			return fmt.Errorf("replace event %d: %w", e.Seq, err)
		}
	}
	data, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode event %s/%s: %w", e.Source, e.ID, err)
	}
	at := timeKey(e.At)
	if err := events.Put(eventKey(e.CustomerID, at, e.Seq), data); err != nil {
		return fmt.Errorf("write event %s/%s: %w", e.Source, e.ID, err)
	}
	if err := seqs.Put(sk, join(at, e.Raw)); err != nil {
		return fmt.Errorf("write raw payload of event %s/%s: %w", e.Source, e.ID, err)
	}
	return nil
}

func (t *tx) Events(q gateway.EventQuery) ([]gateway.Event, string, error) {
	if err := checkID("customer id", q.CustomerID); err != nil {
		return nil, "", err
	}
	lo, hi := timeRange(idPrefix(q.CustomerID), q.Since, q.Until)
	return pageScan(t.bucket(bucketEvents), lo, hi, true, q.Page, func(_, v []byte) (*gateway.Event, bool, error) {
		e := new(gateway.Event)
		if err := json.Unmarshal(v, e); err != nil {
			return nil, false, fmt.Errorf("decode event: %w", err)
		}
		return e, true, nil
	})
}

func (t *tx) EventRaw(customerID string, seq uint64) ([]byte, error) {
	v := t.bucket(bucketEventSeqs).Get(eventSeqKey(customerID, seq))
	if len(v) < 8 {
		return nil, fmt.Errorf("event %d of customer %q: %w", seq, customerID, gateway.ErrNotFound)
	}
	return bytes.Clone(v[8:]), nil
}

type storedEvent struct {
	key   []byte
	value []byte
	seq   uint64
}

// customerEvents copies out every event key and value of customer.
func (t *tx) customerEvents(customer string) ([]storedEvent, error) {
	prefix := idPrefix(customer)
	var out []storedEvent
	err := scanRange(t.bucket(bucketEvents), prefix, prefixEnd(prefix), false, nil, func(k, v []byte) (bool, error) {
		out = append(out, storedEvent{key: bytes.Clone(k), value: bytes.Clone(v), seq: binary.BigEndian.Uint64(k[len(k)-8:])})
		return true, nil
	})
	return out, err
}

func (t *tx) moveEvents(from, into string) error {
	evs, err := t.customerEvents(from)
	if err != nil {
		return err
	}
	events, seqs := t.bucket(bucketEvents), t.bucket(bucketEventSeqs)
	for _, se := range evs {
		e := new(gateway.Event)
		if err := json.Unmarshal(se.value, e); err != nil {
			return fmt.Errorf("decode event %d: %w", se.seq, err)
		}
		e.CustomerID = into
		data, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("encode event %d: %w", se.seq, err)
		}
		at := se.key[len(se.key)-16 : len(se.key)-8]
		if err := events.Delete(se.key); err != nil {
			return fmt.Errorf("move event %d: %w", se.seq, err)
		}
		if err := events.Put(eventKey(into, at, se.seq), data); err != nil {
			return fmt.Errorf("move event %d: %w", se.seq, err)
		}
		oldSeq := eventSeqKey(from, se.seq)
		raw := bytes.Clone(seqs.Get(oldSeq))
		if err := seqs.Delete(oldSeq); err != nil {
			return fmt.Errorf("move raw payload %d: %w", se.seq, err)
		}
		if raw != nil {
			if err := seqs.Put(eventSeqKey(into, se.seq), raw); err != nil {
				return fmt.Errorf("move raw payload %d: %w", se.seq, err)
			}
		}
	}
	return nil
}

func (t *tx) deleteEvents(customer string) error {
	evs, err := t.customerEvents(customer)
	if err != nil {
		return err
	}
	for _, se := range evs {
		if err := t.deleteEvent(customer, se.key, se.seq); err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) deleteEvent(customer string, key []byte, seq uint64) error {
	if err := t.bucket(bucketEvents).Delete(key); err != nil {
		return fmt.Errorf("delete event %d: %w", seq, err)
	}
	if err := t.bucket(bucketEventSeqs).Delete(eventSeqKey(customer, seq)); err != nil {
		return fmt.Errorf("delete raw payload %d: %w", seq, err)
	}
	return nil
}

// ---- silences, opt-outs, incidents

func (t *tx) Silence(id string) (*gateway.Silence, error) { return silenceTable.get(t.btx, id) }

func (t *tx) PutSilence(s *gateway.Silence) error {
	if err := checkID("silence customer id", s.CustomerID); err != nil {
		return err
	}
	return silenceTable.put(t.btx, s)
}

func (t *tx) Silences(q gateway.SilenceQuery) ([]gateway.Silence, string, error) {
	ix, prefix := &silenceTable.indexes[0], []byte(nil)
	if q.CustomerID != "" {
		ix, prefix = &silenceTable.indexes[1], idPrefix(q.CustomerID)
	}
	var until time.Time
	if !q.ActiveAt.IsZero() {
		// A silence in force at ActiveAt started at or before it.
		until = q.ActiveAt.Add(time.Nanosecond)
	}
	return silenceTable.list(t.btx, ix, prefix, time.Time{}, until, true, q.Page, func(s *gateway.Silence) bool {
		return (q.Rule == "" || s.Rule == q.Rule) &&
			(q.Topic == "" || s.Topic == q.Topic) &&
			(q.ActiveAt.IsZero() || s.ActiveAt(q.ActiveAt))
	})
}

func (t *tx) OptOut(id string) (*gateway.OptOut, error) { return optOutTable.get(t.btx, id) }

func (t *tx) PutOptOut(o *gateway.OptOut) error {
	if err := checkID("opt-out customer id", o.CustomerID); err != nil {
		return err
	}
	return optOutTable.put(t.btx, o)
}

func (t *tx) OptOuts(q gateway.OptOutQuery) ([]gateway.OptOut, string, error) {
	ix, prefix := &optOutTable.indexes[0], []byte(nil)
	if q.CustomerID != "" {
		ix, prefix = &optOutTable.indexes[1], idPrefix(q.CustomerID)
	}
	return optOutTable.list(t.btx, ix, prefix, time.Time{}, time.Time{}, true, q.Page, func(o *gateway.OptOut) bool {
		return !q.ActiveOnly || o.Active()
	})
}

func (t *tx) Incident(id string) (*gateway.Incident, error) { return incidentTable.get(t.btx, id) }

func (t *tx) PutIncident(i *gateway.Incident) error { return incidentTable.put(t.btx, i) }

func (t *tx) Incidents(q gateway.IncidentQuery) ([]gateway.Incident, string, error) {
	return incidentTable.list(t.btx, &incidentTable.indexes[0], nil, time.Time{}, time.Time{}, true, q.Page, func(i *gateway.Incident) bool {
		return (!q.OpenOnly || i.ResolvedAt == nil) &&
			(q.ExternalID == "" || i.ExternalID == q.ExternalID) &&
			(q.Source == "" || i.Source == q.Source)
	})
}

// ---- decisions and contacts

func (t *tx) Decision(id string) (*gateway.Decision, error) { return decisionTable.get(t.btx, id) }

func (t *tx) PutDecision(d *gateway.Decision) error {
	if d.ID == "" {
		at := d.At
		if at.IsZero() {
			at = time.Now()
		}
		d.ID = gateway.NewID("dec", at)
	}
	return decisionTable.put(t.btx, d)
}

func (t *tx) Decisions(q gateway.DecisionQuery) ([]gateway.Decision, string, error) {
	ix, prefix := &decisionTable.indexes[0], []byte(nil)
	if q.CustomerID != "" {
		ix, prefix = &decisionTable.indexes[1], idPrefix(q.CustomerID)
	}
	return decisionTable.list(t.btx, ix, prefix, q.Since, q.Until, true, q.Page, nil)
}

func (t *tx) PutContact(c *gateway.Contact) error {
	if err := checkID("contact customer id", c.CustomerID); err != nil {
		return err
	}
	return contactTable.put(t.btx, c)
}

// DeleteContact releases a cap slot. Contact ids are unique on their own, so the contact is
// found by id even when the customer was merged into another since the slot was taken; a
// missing contact is not an error, so a release can be retried.
func (t *tx) DeleteContact(customerID, id string) error {
	return contactTable.delete(t.btx, id)
}

func (t *tx) CountContacts(customerID string, since time.Time, ch gateway.Channel, cat gateway.Category) (int, error) {
	if err := checkID("customer id", customerID); err != nil {
		return 0, err
	}
	lo, hi := timeRange(idPrefix(customerID), since, time.Time{})
	n := 0
	err := scanRange(t.bucket(bucketContactsByCustomer), lo, hi, false, nil, func(_, v []byte) (bool, error) {
		gotCh, gotCat, _ := bytes.Cut(v, []byte{0})
		if (ch == gateway.ChannelAny || string(gotCh) == string(ch)) &&
			(cat == gateway.CategoryAny || string(gotCat) == string(cat)) {
			n++
		}
		return true, nil
	})
	return n, err
}

// ForEachContact walks every cap counter. fn must not write contacts.
func (t *tx) ForEachContact(fn func(*gateway.Contact) error) error {
	return scanRange(t.bucket(bucketContacts), nil, nil, false, nil, func(k, v []byte) (bool, error) {
		c := new(gateway.Contact)
		if err := json.Unmarshal(v, c); err != nil {
			return false, fmt.Errorf("decode contact %q: %w", k, err)
		}
		return true, fn(c)
	})
}

// ---- dead letters and outbox

func (t *tx) DeadLetter(id string) (*gateway.DeadLetter, error) {
	return deadLetterTable.get(t.btx, id)
}

func (t *tx) PutDeadLetter(d *gateway.DeadLetter) error { return deadLetterTable.put(t.btx, d) }

func (t *tx) DeadLetters(p gateway.Page) ([]gateway.DeadLetter, string, error) {
	return deadLetterTable.list(t.btx, &deadLetterTable.indexes[0], nil, time.Time{}, time.Time{}, true, p, nil)
}

func (t *tx) OutboxMessage(id string) (*gateway.OutboxMessage, error) {
	return outboxTable.get(t.btx, id)
}

func (t *tx) PutOutbox(m *gateway.OutboxMessage) error { return outboxTable.put(t.btx, m) }

func (t *tx) Outbox(q gateway.OutboxQuery) ([]gateway.OutboxMessage, string, error) {
	state := q.State
	if q.PendingOnly {
		if state != "" && state != gateway.OutboxPending {
			return nil, "", gateway.Errorf(gateway.CodeInvalid, "outbox query: PendingOnly contradicts state %q", state)
		}
		state = gateway.OutboxPending
	}
	ix := &outboxTable.indexes[outboxTimeIndex]
	switch state {
	case "":
	case gateway.OutboxPending:
		ix = &outboxTable.indexes[outboxPendingIndex]
	case gateway.OutboxDead:
		ix = &outboxTable.indexes[outboxDeadIndex]
	case gateway.OutboxDelivered:
		// Delivered messages are most of the outbox: the time index, filtered, is enough.
	default:
		return nil, "", gateway.Errorf(gateway.CodeInvalid, "outbox state %q: want pending, delivered or dead", state)
	}
	return outboxTable.list(t.btx, ix, nil, time.Time{}, time.Time{}, false, q.Page, func(m *gateway.OutboxMessage) bool {
		return (state == "" || m.State() == state) && (q.DueBy.IsZero() || !m.NextAttempt.After(q.DueBy))
	})
}

// ---- retention

func (t *tx) Prune(events, decisions, deliveries time.Time) (int, error) {
	total := 0
	if !events.IsZero() {
		n, err := t.pruneEvents(events)
		if err != nil {
			return total, err
		}
		total += n
	}
	if !decisions.IsZero() {
		n, err := decisionTable.pruneBefore(t.btx, &decisionTable.indexes[0], decisions)
		if err != nil {
			return total, fmt.Errorf("prune decisions: %w", err)
		}
		total += n
		n, err = contactTable.pruneCustomerIndexBefore(t.btx, decisions)
		if err != nil {
			return total, fmt.Errorf("prune contacts: %w", err)
		}
		total += n
	}
	if !deliveries.IsZero() {
		n, err := t.pruneDeliveries(deliveries)
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

func (t *tx) pruneEvents(cutoff time.Time) (int, error) {
	limit := timeKey(cutoff)
	type victim struct {
		customer string
		key      []byte
		seq      uint64
	}
	var victims []victim
	err := scanRange(t.bucket(bucketEvents), nil, nil, false, nil, func(k, _ []byte) (bool, error) {
		nul := bytes.IndexByte(k, 0)
		if nul < 0 || len(k) != nul+17 {
			return true, nil
		}
		if bytes.Compare(k[nul+1:nul+9], limit) < 0 {
			victims = append(victims, victim{customer: string(k[:nul]), key: bytes.Clone(k), seq: binary.BigEndian.Uint64(k[nul+9:])})
		}
		return true, nil
	})
	if err != nil {
		return 0, fmt.Errorf("prune events: %w", err)
	}
	for _, v := range victims {
		if err := t.deleteEvent(v.customer, v.key, v.seq); err != nil {
			return 0, fmt.Errorf("prune events: %w", err)
		}
	}
	return len(victims), nil
}

func (t *tx) pruneDeliveries(cutoff time.Time) (int, error) {
	limit := timeKey(cutoff)
	var keys [][]byte
	b := t.bucket(bucketDeliveries)
	err := scanRange(b, nil, nil, false, nil, func(k, v []byte) (bool, error) {
		if bytes.Compare(v, limit) < 0 {
			keys = append(keys, bytes.Clone(k))
		}
		return true, nil
	})
	if err != nil {
		return 0, fmt.Errorf("prune deliveries: %w", err)
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return 0, fmt.Errorf("prune deliveries: %w", err)
		}
	}
	return len(keys), nil
}
