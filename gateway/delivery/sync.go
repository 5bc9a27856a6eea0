package delivery

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// Suppression-list sync (see gateway/suppression.go for the model). A sync job names an
// upstream and a customer; running it brings every address involved in step:
//
//   - the customer's email addresses, and the addresses the ledger holds for the customer
//     (an erased customer has no addresses left, only ledger entries);
//   - an address should be listed while its current owner has an enforced silence in force
//     that covers email in the upstream's category.
//
// Per address, from the ledger entry:
//
//	should be listed, no entry     → Contains: listed already → entry{owned: false} (the
//	                                  customer's own; never removed); else entry{owned,
//	                                  not synced} committed, Add, entry synced
//	should be listed, owned, not synced → Add, entry synced (an add interrupted earlier)
//	should not be listed, owned    → Remove, entry deleted
//	should not be listed, not owned → entry deleted (forget it; it stays on the list)
//
// Each step is committed as soon as the vendor answered, so a job that fails half way (or a
// restart) repeats no step that succeeded. After the job, the next moment the answer changes
// (the earliest end of a silence in force) gets its own job.

// SyncTarget is one upstream with `sync: true`.
type SyncTarget struct {
	List gateway.SuppressionList
	// Category is the upstream's category: silences that cover email in it are synced.
	Category gateway.Category
}

// DefaultReconcileInterval is how often Run compares every synced list with the silences.
const DefaultReconcileInterval = time.Hour

// syncStep is what one address needs.
type syncStep struct {
	address  string
	owner    string // the customer the address belongs to now ("" when nobody)
	listed   bool   // should be on the list
	entry    *gateway.SuppressionEntry
	customer string // the job's customer, for a new entry when the address has no owner
}

// syncPlan is what a job found in the store.
type syncPlan struct {
	steps []syncStep
	// nextChange is the earliest end of a synced silence of the job's customer still in
	// force (zero: none has an end).
	nextChange time.Time
}

// sync runs one sync job (an OutboxSync message) and records its outcome.
func (w *Worker) sync(ctx context.Context, m *gateway.OutboxMessage) (outcome, error) {
	now := w.cfg.Now()
	target, ok := w.cfg.Lists[m.Target]
	if !ok {
		return w.die(ctx, m.ID, now, fmt.Sprintf("no upstream named %q syncs a suppression list", m.Target))
	}
	if ok, o, err := w.admit(ctx, m, now, w.syncs); !ok {
		return o, err
	}
	plan, err := w.planSync(ctx, m.Target, target.Category, m.CustomerID, now)
	if err != nil {
		return skipped, err
	}
	doer := w.client.StandardClient()
	for i := range plan.steps {
		if err := w.syncAddress(ctx, doer, m.Target, target.List, &plan.steps[i], now); err != nil {
			if ctx.Err() != nil {
				return skipped, ctx.Err()
			}
			return w.syncFailed(ctx, m, err)
		}
	}
	now = w.cfg.Now()
	var o outcome
	err = w.cfg.Store.Update(ctx, func(tx gateway.Tx) error {
		o = skipped
		rec, err := tx.OutboxMessage(m.ID)
		if errors.Is(err, gateway.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if rec.State() != gateway.OutboxPending {
			return nil
		}
		rec.Attempts++
		rec.DeliveredAt, rec.LastError = &now, ""
		if err := tx.PutOutbox(rec); err != nil {
			return err
		}
		o = delivered
		if plan.nextChange.IsZero() {
			return nil
		}
		return scheduleSync(tx, m.Target, m.CustomerID, plan.nextChange, now)
	})
	if err != nil {
		return skipped, fmt.Errorf("record sync job %s: %w", m.ID, err)
	}
	if o == delivered {
		w.cfg.Logger.Info("suppression sync done", "outbox_id", m.ID, "upstream", m.Target, "addresses", len(plan.steps))
	}
	return o, nil
}

// scheduleSync queues the job that takes a customer off the list when a silence ends. Its
// id is derived from the upstream, customer and time, so the job is written once however
// many jobs before it find the same end.
func scheduleSync(tx gateway.Tx, upstream, customerID string, at, now time.Time) error {
	// A moment after the end: at the end itself the silence is over (ActiveAt is false at End).
	at = at.Add(time.Second)
	id := gateway.StableID("out", at, upstream+"\x00"+customerID)
	if _, err := tx.OutboxMessage(id); err == nil {
		return nil
	} else if !errors.Is(err, gateway.ErrNotFound) {
		return err
	}
	return tx.PutOutbox(&gateway.OutboxMessage{
		ID: id, Kind: gateway.OutboxSync, Target: upstream, CustomerID: customerID,
		Payload: []byte(`{}`), CreatedAt: now, NextAttempt: at, DueAt: at,
	})
}

// syncFailed records a failed job: a vendor's permanent refusal kills it (an operator can
// retry it once the cause is fixed), anything else is tried again on the persisted schedule.
func (w *Worker) syncFailed(ctx context.Context, m *gateway.OutboxMessage, err error) (outcome, error) {
	now := w.cfg.Now()
	var se *gateway.SyncError
	switch {
	case errors.As(err, &se) && se.Permanent:
		return w.die(ctx, m.ID, now, truncate(se.Error(), 300))
	case errors.As(err, &se):
		return w.retryLater(ctx, m, now, truncate(se.Error(), 300), se.RetryAfter, se.RetryAfter > 0)
	case isStoreError(err):
		return skipped, err
	default:
		return w.retryLater(ctx, m, now, errorClass(err), 0, false)
	}
}

// storeError marks a failure of hush's own store in the middle of a job: nothing about the
// vendor, so the job stays as it is and is tried again.
type storeError struct{ err error }

func (e *storeError) Error() string { return "store: " + e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }

func isStoreError(err error) bool {
	var se *storeError
	return errors.As(err, &se)
}

// planSync reads, in one view, every address the job is about and what it needs.
func (w *Worker) planSync(ctx context.Context, upstream string, cat gateway.Category, customerID string, now time.Time) (*syncPlan, error) {
	plan := &syncPlan{}
	err := w.cfg.Store.View(ctx, func(tx gateway.Tx) error {
		plan.steps, plan.nextChange = plan.steps[:0], time.Time{}
		var addresses []string
		c, err := tx.Customer(customerID)
		switch {
		case errors.Is(err, gateway.ErrNotFound):
		case err != nil:
			return fmt.Errorf("read customer: %w", err)
		default:
			for _, id := range c.Identities {
				if id.IsEmail() {
					addresses = append(addresses, id.Value())
				}
			}
			_, end, err := syncedSilence(tx, customerID, cat, now)
			if err != nil {
				return err
			}
			plan.nextChange = end
		}
		entries, err := allLedger(tx, gateway.SuppressionQuery{Upstream: upstream, CustomerID: customerID})
		if err != nil {
			return err
		}
		for _, e := range entries {
			if !slices.Contains(addresses, e.Address) {
				addresses = append(addresses, e.Address)
			}
		}
		slices.Sort(addresses)
		for _, a := range addresses {
			st, err := addressState(tx, upstream, cat, a, now)
			if err != nil {
				return err
			}
			st.customer = customerID
			plan.steps = append(plan.steps, st)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("plan suppression sync of %s: %w", upstream, err)
	}
	return plan, nil
}

// addressState reads whether address should be listed on upstream now, and its ledger entry.
func addressState(tx gateway.Tx, upstream string, cat gateway.Category, address string, now time.Time) (syncStep, error) {
	st := syncStep{address: address}
	c, err := tx.CustomerByIdentity(gateway.Identity(gateway.KindEmail + ":" + address))
	switch {
	case errors.Is(err, gateway.ErrNotFound):
	case err != nil:
		return st, fmt.Errorf("look up an address's customer: %w", err)
	default:
		st.owner = c.ID
		if st.listed, _, err = syncedSilence(tx, c.ID, cat, now); err != nil {
			return st, err
		}
	}
	e, err := tx.SuppressionEntry(upstream, address)
	switch {
	case errors.Is(err, gateway.ErrNotFound):
	case err != nil:
		return st, fmt.Errorf("read the suppression ledger: %w", err)
	default:
		st.entry = e
	}
	return st, nil
}

// syncedSilence reports whether the customer has an enforced silence in force covering email
// in cat, and the earliest end among those that have one.
func syncedSilence(tx gateway.Tx, customerID string, cat gateway.Category, now time.Time) (bool, time.Time, error) {
	q := gateway.SilenceQuery{CustomerID: customerID, ActiveAt: now, Page: gateway.Page{Limit: 1000}}
	var (
		found bool
		next  time.Time
	)
	for {
		silences, cursor, err := tx.Silences(q)
		if err != nil {
			return false, time.Time{}, fmt.Errorf("read the silences of a customer: %w", err)
		}
		for _, s := range silences {
			if !s.Enforced() || !s.ActiveAt(now) || !s.Covers(gateway.ChannelEmail, cat) {
				continue
			}
			found = true
			if s.End != nil && (next.IsZero() || s.End.Before(next)) {
				next = *s.End
			}
		}
		if cursor == "" || len(silences) == 0 {
			return found, next, nil
		}
		q.Cursor = cursor
	}
}

// allLedger reads every ledger entry q selects.
func allLedger(tx gateway.Tx, q gateway.SuppressionQuery) ([]gateway.SuppressionEntry, error) {
	q.Limit = 1000
	var out []gateway.SuppressionEntry
	for {
		page, next, err := tx.SuppressionEntries(q)
		if err != nil {
			return nil, fmt.Errorf("read the suppression ledger: %w", err)
		}
		out = append(out, page...)
		if next == "" || len(page) == 0 {
			return out, nil
		}
		q.Cursor = next
	}
}

// syncAddress makes one address's step: the vendor call, then the ledger, each committed
// as soon as it is known.
func (w *Worker) syncAddress(ctx context.Context, doer gateway.Doer, upstream string, list gateway.SuppressionList, st *syncStep, now time.Time) error {
	e := st.entry
	switch {
	case st.listed && e == nil:
		present, err := list.Contains(ctx, doer, st.address)
		if err != nil {
			return err
		}
		e = &gateway.SuppressionEntry{
			Upstream: upstream, Address: st.address, CustomerID: cmpOr(st.owner, st.customer),
			Owned: !present, Synced: present, CreatedAt: now, UpdatedAt: now,
		}
		// Recorded before the add: if hush stops between the two, the next job finds an
		// owned entry to add again instead of mistaking hush's entry for the customer's.
		if err := w.putEntry(ctx, e); err != nil || present {
			return err
		}
		fallthrough
	case st.listed && e.Owned && !e.Synced:
		if err := list.Add(ctx, doer, st.address); err != nil {
			return err
		}
		e.Synced, e.UpdatedAt = true, w.cfg.Now()
		return w.putEntry(ctx, e)
	case st.listed:
		if st.owner != "" && e.CustomerID != st.owner {
			e.CustomerID, e.UpdatedAt = st.owner, now // merged into another customer
			return w.putEntry(ctx, e)
		}
		return nil
	case e != nil && e.Owned:
		if err := list.Remove(ctx, doer, st.address); err != nil {
			return err
		}
		return w.deleteEntry(ctx, upstream, st.address)
	case e != nil:
		return w.deleteEntry(ctx, upstream, st.address)
	default:
		return nil
	}
}

func (w *Worker) putEntry(ctx context.Context, e *gateway.SuppressionEntry) error {
	if err := w.cfg.Store.Update(ctx, func(tx gateway.Tx) error { return tx.PutSuppressionEntry(e) }); err != nil {
		return &storeError{fmt.Errorf("record a suppression ledger entry: %w", err)}
	}
	return nil
}

func (w *Worker) deleteEntry(ctx context.Context, upstream, address string) error {
	if err := w.cfg.Store.Update(ctx, func(tx gateway.Tx) error { return tx.DeleteSuppressionEntry(upstream, address) }); err != nil {
		return &storeError{fmt.Errorf("delete a suppression ledger entry: %w", err)}
	}
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Reconcile compares every synced list's ledger with the silences in force and queues a
// sync job for each customer whose entries differ (one not yet listed, one listed no
// longer silenced, an add left half done), except customers that already have a sync job
// pending for that upstream. Run calls it at start and every ReconcileInterval; it is what
// catches anything a job could not do (a job that died, an upstream newly set to sync).
// It reports the jobs queued.
func (w *Worker) Reconcile(ctx context.Context) (int, error) {
	names := make([]string, 0, len(w.cfg.Lists))
	for name := range w.cfg.Lists {
		names = append(names, name)
	}
	slices.Sort(names)
	total := 0
	var errs []error
	for _, name := range names {
		n, err := w.reconcile(ctx, name, w.cfg.Lists[name].Category)
		total += n
		if err != nil {
			errs = append(errs, fmt.Errorf("reconcile the suppression list of %s: %w", name, err))
		}
	}
	return total, errors.Join(errs...)
}

func (w *Worker) reconcile(ctx context.Context, upstream string, cat gateway.Category) (int, error) {
	now := w.cfg.Now()
	var need []string
	err := w.cfg.Store.View(ctx, func(tx gateway.Tx) error {
		need = need[:0]
		// What should be listed: the addresses of customers with a synced silence in force.
		want := map[string]string{} // address → customer
		q := gateway.SilenceQuery{ActiveAt: now, Page: gateway.Page{Limit: 1000}}
		checked := map[string]bool{}
		for {
			silences, cursor, err := tx.Silences(q)
			if err != nil {
				return fmt.Errorf("list the silences in force: %w", err)
			}
			for _, s := range silences {
				if checked[s.CustomerID] || !s.Enforced() || !s.ActiveAt(now) || !s.Covers(gateway.ChannelEmail, cat) {
					continue
				}
				checked[s.CustomerID] = true
				c, err := tx.Customer(s.CustomerID)
				if errors.Is(err, gateway.ErrNotFound) {
					continue
				}
				if err != nil {
					return fmt.Errorf("read customer: %w", err)
				}
				for _, id := range c.Identities {
					if id.IsEmail() {
						want[id.Value()] = c.ID
					}
				}
			}
			if cursor == "" || len(silences) == 0 {
				break
			}
			q.Cursor = cursor
		}
		customers := map[string]bool{}
		entries, err := allLedger(tx, gateway.SuppressionQuery{Upstream: upstream})
		if err != nil {
			return err
		}
		for _, e := range entries {
			owner, listed := want[e.Address]
			switch {
			case !listed:
				customers[e.CustomerID] = true // comes off (or is forgotten)
			case e.Owned && !e.Synced:
				customers[owner] = true // an add left half done
			}
			delete(want, e.Address)
		}
		for _, owner := range want {
			customers[owner] = true // not on the list yet
		}
		if len(customers) == 0 {
			return nil
		}
		pending, err := pendingSyncs(tx, upstream)
		if err != nil {
			return err
		}
		for id := range customers {
			if !pending[id] {
				need = append(need, id)
			}
		}
		slices.Sort(need)
		return nil
	})
	if err != nil || len(need) == 0 {
		return 0, err
	}
	for batch := range slices.Chunk(need, 500) {
		err := w.cfg.Store.Update(ctx, func(tx gateway.Tx) error {
			for _, id := range batch {
				m := &gateway.OutboxMessage{
					ID: gateway.NewID("out", now), Kind: gateway.OutboxSync, Target: upstream, CustomerID: id,
					Payload: []byte(`{"reconcile":true}`), CreatedAt: now, NextAttempt: now,
				}
				if err := tx.PutOutbox(m); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return 0, fmt.Errorf("queue sync jobs: %w", err)
		}
	}
	w.cfg.Logger.Info("suppression reconcile queued jobs", "upstream", upstream, "jobs", len(need))
	w.cfg.Metrics.reconcileJobs(upstream, len(need))
	w.Wake()
	return len(need), nil
}

// pendingSyncs lists the customers with a sync job for upstream pending and due now.
func pendingSyncs(tx gateway.Tx, upstream string) (map[string]bool, error) {
	out := map[string]bool{}
	q := gateway.OutboxQuery{State: gateway.OutboxPending, Page: gateway.Page{Limit: 1000}}
	for {
		page, next, err := tx.Outbox(q)
		if err != nil {
			return nil, fmt.Errorf("list pending outbox messages: %w", err)
		}
		for _, m := range page {
			// A job scheduled for a silence's end does not cover a difference found now.
			if m.Kind == gateway.OutboxSync && m.Target == upstream && m.DueAt.IsZero() {
				out[m.CustomerID] = true
			}
		}
		if next == "" || len(page) == 0 {
			return out, nil
		}
		q.Cursor = next
	}
}
