package storage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// Record kinds, in the order Copy moves them and Count reports them.
const (
	KindCustomers   = "customers"
	KindEvents      = "events"
	KindSilences    = "silences"
	KindOptOuts     = "opt-outs"
	KindIncidents   = "incidents"
	KindDecisions   = "decisions"
	KindContacts    = "cap counters"
	KindDeadLetters = "dead letters"
	KindOutbox      = "outbox messages"
	KindSuppression = "suppression-list entries"
	KindDeliveries  = "webhook dedupe keys"
)

// Kinds lists every record kind in copy order.
func Kinds() []string {
	return []string{KindCustomers, KindEvents, KindSilences, KindOptOuts, KindIncidents, KindDecisions,
		KindContacts, KindDeadLetters, KindOutbox, KindSuppression, KindDeliveries}
}

// Counts is how many records of each kind a store holds (or a copy moved).
type Counts map[string]int

// Total is the sum over every kind.
func (c Counts) Total() int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

// copyBatch is how many records go into one transaction of the target: big enough that
// commits (each an fsync) do not dominate, small enough to keep a transaction short.
const copyBatch = 500

// ErrTargetNotEmpty refuses a copy into a store that already holds records: merging two
// installations is not what a move does.
var ErrTargetNotEmpty = errors.New("the target store is not empty")

// Copy moves every record of from into to, which must be empty: customers with their
// identities, events with their raw payloads and numbers, silences, opt-outs, incidents,
// decisions, cap counters, dead letters, outbox messages, the suppression-list ledger and
// the webhook dedupe keys. Records keep their ids, so nothing that refers to them breaks.
// from is read in one consistent transaction; hush must not be writing to it (a bbolt file
// cannot be opened while hush serves it). progress, if not nil, is told after each batch.
func Copy(ctx context.Context, from, to gateway.Store, progress func(kind string, done int)) (Counts, error) {
	existing, err := Count(ctx, to)
	if err != nil {
		return nil, fmt.Errorf("counting the target's records: %w", err)
	}
	if n := existing.Total(); n > 0 {
		return nil, fmt.Errorf("%w: it holds %d records", ErrTargetNotEmpty, n)
	}
	c := &copier{ctx: ctx, to: to, progress: progress, done: Counts{}}
	err = from.View(ctx, func(tx gateway.Tx) error {
		steps := []struct {
			kind string
			run  func(gateway.Tx, string) error
		}{
			{KindCustomers, c.customers},
			{KindEvents, c.events},
			{KindSilences, listed(c, func(tx gateway.Tx, p gateway.Page) ([]gateway.Silence, string, error) {
				return tx.Silences(gateway.SilenceQuery{Page: p})
			}, gateway.Tx.PutSilence)},
			{KindOptOuts, listed(c, func(tx gateway.Tx, p gateway.Page) ([]gateway.OptOut, string, error) {
				return tx.OptOuts(gateway.OptOutQuery{Page: p})
			}, gateway.Tx.PutOptOut)},
			{KindIncidents, listed(c, func(tx gateway.Tx, p gateway.Page) ([]gateway.Incident, string, error) {
				return tx.Incidents(gateway.IncidentQuery{Page: p})
			}, gateway.Tx.PutIncident)},
			{KindDecisions, listed(c, func(tx gateway.Tx, p gateway.Page) ([]gateway.Decision, string, error) {
				return tx.Decisions(gateway.DecisionQuery{Page: p})
			}, gateway.Tx.PutDecision)},
			{KindContacts, walked(c, gateway.Tx.ForEachContact, gateway.Tx.PutContact)},
			{KindDeadLetters, listed(c, gateway.Tx.DeadLetters, gateway.Tx.PutDeadLetter)},
			{KindOutbox, listed(c, func(tx gateway.Tx, p gateway.Page) ([]gateway.OutboxMessage, string, error) {
				return tx.Outbox(gateway.OutboxQuery{Page: p})
			}, gateway.Tx.PutOutbox)},
			{KindSuppression, walked(c, gateway.Tx.ForEachSuppressionEntry, gateway.Tx.PutSuppressionEntry)},
			{KindDeliveries, c.deliveries},
		}
		for _, s := range steps {
			if err := s.run(tx, s.kind); err != nil {
				return fmt.Errorf("copying %s: %w", s.kind, err)
			}
		}
		return nil
	})
	return c.done, err
}

// copier batches writes into the target.
type copier struct {
	ctx      context.Context
	to       gateway.Store
	progress func(kind string, done int)
	done     Counts
	pending  []func(gateway.Tx) error
	kind     string
}

// add queues one write; a full batch is committed.
func (c *copier) add(kind string, write func(gateway.Tx) error) error {
	c.kind = kind
	c.pending = append(c.pending, write)
	if len(c.pending) >= copyBatch {
		return c.flush()
	}
	return nil
}

// flush commits the queued writes in one transaction of the target.
func (c *copier) flush() error {
	if len(c.pending) == 0 {
		return nil
	}
	writes := c.pending
	err := c.to.Update(c.ctx, func(tx gateway.Tx) error {
		for _, w := range writes {
			if err := w(tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	c.done[c.kind] += len(writes)
	c.pending = c.pending[:0]
	if c.progress != nil {
		c.progress(c.kind, c.done[c.kind])
	}
	return nil
}

func (c *copier) customers(tx gateway.Tx, kind string) error {
	err := tx.ForEachCustomer(func(cu *gateway.Customer) error {
		rec := *cu
		return c.add(kind, func(tx gateway.Tx) error { return tx.PutCustomer(&rec) })
	})
	if err != nil {
		return err
	}
	return c.flush()
}

// events walks every customer's events, newest first, each with its raw payload.
func (c *copier) events(tx gateway.Tx, kind string) error {
	err := tx.ForEachCustomer(func(cu *gateway.Customer) error {
		return pages(func(p gateway.Page) ([]gateway.Event, string, error) {
			return tx.Events(gateway.EventQuery{CustomerID: cu.ID, Page: p})
		}, func(e gateway.Event) error {
			raw, err := tx.EventRaw(e.CustomerID, e.Seq)
			if err != nil && !errors.Is(err, gateway.ErrNotFound) {
				return fmt.Errorf("reading the raw payload of event %d: %w", e.Seq, err)
			}
			e.Raw = slices.Clone(raw)
			return c.add(kind, func(tx gateway.Tx) error {
				ev := e // PutEvent keeps a non-zero Seq; a copy per run keeps retries alike
				return tx.PutEvent(&ev)
			})
		})
	})
	if err != nil {
		return err
	}
	return c.flush()
}

func (c *copier) deliveries(tx gateway.Tx, kind string) error {
	err := tx.ForEachDelivery(func(source, id string, at time.Time) error {
		return c.add(kind, func(tx gateway.Tx) error { return tx.PutDelivery(source, id, at) })
	})
	if err != nil {
		return err
	}
	return c.flush()
}

// listed copies a kind read through a paged listing.
func listed[T any](c *copier, list func(gateway.Tx, gateway.Page) ([]T, string, error), put func(gateway.Tx, *T) error) func(gateway.Tx, string) error {
	return func(tx gateway.Tx, kind string) error {
		err := pages(func(p gateway.Page) ([]T, string, error) { return list(tx, p) }, func(rec T) error {
			return c.add(kind, func(tx gateway.Tx) error {
				r := rec
				return put(tx, &r)
			})
		})
		if err != nil {
			return err
		}
		return c.flush()
	}
}

// walked copies a kind read through a ForEach walk.
func walked[T any](c *copier, walk func(gateway.Tx, func(*T) error) error, put func(gateway.Tx, *T) error) func(gateway.Tx, string) error {
	return func(tx gateway.Tx, kind string) error {
		err := walk(tx, func(rec *T) error {
			r := *rec
			return c.add(kind, func(tx gateway.Tx) error {
				rr := r
				return put(tx, &rr)
			})
		})
		if err != nil {
			return err
		}
		return c.flush()
	}
}

// pages follows a listing's cursors to the end.
func pages[T any](list func(gateway.Page) ([]T, string, error), fn func(T) error) error {
	p := gateway.Page{Limit: gateway.MaxPageSize}
	for {
		items, next, err := list(p)
		if err != nil {
			return err
		}
		for _, it := range items {
			if err := fn(it); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		p.Cursor = next
	}
}

// Count counts every kind of record in s, in one consistent read.
func Count(ctx context.Context, s gateway.Store) (Counts, error) {
	n := Counts{}
	err := s.View(ctx, func(tx gateway.Tx) error {
		err := tx.ForEachCustomer(func(cu *gateway.Customer) error {
			n[KindCustomers]++
			return pages(func(p gateway.Page) ([]gateway.Event, string, error) {
				return tx.Events(gateway.EventQuery{CustomerID: cu.ID, Page: p})
			}, counter[gateway.Event](n, KindEvents))
		})
		if err != nil {
			return err
		}
		for _, f := range []func() error{
			func() error {
				return pages(func(p gateway.Page) ([]gateway.Silence, string, error) {
					return tx.Silences(gateway.SilenceQuery{Page: p})
				}, counter[gateway.Silence](n, KindSilences))
			},
			func() error {
				return pages(func(p gateway.Page) ([]gateway.OptOut, string, error) {
					return tx.OptOuts(gateway.OptOutQuery{Page: p})
				}, counter[gateway.OptOut](n, KindOptOuts))
			},
			func() error {
				return pages(func(p gateway.Page) ([]gateway.Incident, string, error) {
					return tx.Incidents(gateway.IncidentQuery{Page: p})
				}, counter[gateway.Incident](n, KindIncidents))
			},
			func() error {
				return pages(func(p gateway.Page) ([]gateway.Decision, string, error) {
					return tx.Decisions(gateway.DecisionQuery{Page: p})
				}, counter[gateway.Decision](n, KindDecisions))
			},
			func() error { return tx.ForEachContact(counter[*gateway.Contact](n, KindContacts)) },
			func() error { return pages(tx.DeadLetters, counter[gateway.DeadLetter](n, KindDeadLetters)) },
			func() error {
				return pages(func(p gateway.Page) ([]gateway.OutboxMessage, string, error) {
					return tx.Outbox(gateway.OutboxQuery{Page: p})
				}, counter[gateway.OutboxMessage](n, KindOutbox))
			},
			func() error {
				return tx.ForEachSuppressionEntry(counter[*gateway.SuppressionEntry](n, KindSuppression))
			},
			func() error {
				return tx.ForEachDelivery(func(string, string, time.Time) error { n[KindDeliveries]++; return nil })
			},
		} {
			if err := f(); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

// counter counts the records it is handed under kind.
func counter[T any](n Counts, kind string) func(T) error {
	return func(T) error { n[kind]++; return nil }
}
