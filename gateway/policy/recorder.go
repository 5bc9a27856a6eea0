package policy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// The decision log of sends no frequency cap covers is written in batches, after the answer.
//
// Recording a proxied send's decisions used to cost a durable commit before the send could be
// forwarded: for a 50-recipient send, 50 audit records and an fsync on the request's path. When
// no cap applies to the send's channel and category, nothing about the answer depends on
// those writes (no slot to reserve, no customer to create), so they are queued instead, and a
// single goroutine commits whatever has queued up in one transaction, many sends at a time.
//
// What this gives up: a crash loses the decisions queued in the last moments (bounded by one
// batch); the audit log of those sends is written a few milliseconds after they were
// forwarded. Reads that must see them (a customer's timeline, the report, a backup, an
// erasure) call FlushDecisions first. Sends that a cap covers are recorded as before, in the
// transaction that reserves their slots, before they are forwarded.
//
// Backpressure: the queue is bounded (maxQueued operations); when the store cannot keep up,
// Decide waits for room instead of dropping records.

// recorder batches decision-log writes.
type recorder struct {
	store gateway.Store
	log   *slog.Logger
	queue chan recordOp

	enqueue sync.Mutex    // orders sequence numbers with the queue
	queued  atomic.Uint64 // sequence number of the last operation queued
	failed  atomic.Uint64 // commits that failed (and were retried)

	mu        sync.Mutex
	committed uint64 // sequence number of the last operation committed
	changed   chan struct{}
	closed    bool
	stop      chan struct{} // closed by close: an add waiting for room gives up

	done    chan struct{}
	abandon chan struct{} // closed when close gives up waiting: stop retrying a broken store
}

// recordOp is one Decide's decisions to write, or one Release's: contacts to delete and
// decisions to mark unsent.
type recordOp struct {
	seq       uint64
	decisions []gateway.Decision
	release   bool
}

const (
	maxQueued       = 512  // operations (one per send) waiting: tens of thousands of decisions at most
	maxBatchRecords = 8192 // decisions per transaction
	retryWait       = 200 * time.Millisecond
	maxRetryWait    = 5 * time.Second
)

func newRecorder(store gateway.Store, log *slog.Logger) *recorder {
	r := &recorder{store: store, log: log, queue: make(chan recordOp, maxQueued),
		changed: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{}), abandon: make(chan struct{})}
	go r.run()
	return r
}

// add queues an operation; it waits while the queue is full. It reports false when the
// recorder is closed (the caller writes synchronously instead).
func (r *recorder) add(ctx context.Context, op recordOp) (bool, error) {
	r.enqueue.Lock()
	defer r.enqueue.Unlock()
	r.mu.Lock()
	closed := r.closed
	r.mu.Unlock()
	if closed {
		return false, nil
	}
	op.seq = r.queued.Load() + 1
	select {
	case r.queue <- op:
		r.queued.Store(op.seq)
		return true, nil
	case <-r.stop:
		return false, nil // closing: written synchronously instead
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// stats reports the operations queued and not yet committed, and the failed commits.
func (r *recorder) stats() (int, uint64) {
	r.mu.Lock()
	committed := r.committed
	r.mu.Unlock()
	return int(r.queued.Load() - min(committed, r.queued.Load())), r.failed.Load()
}

// flush waits until every operation queued before the call is committed.
func (r *recorder) flush(ctx context.Context) error {
	want := r.queued.Load()
	for {
		r.mu.Lock()
		done, changed := r.committed >= want, r.changed
		r.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		case <-r.done:
			r.mu.Lock()
			done := r.committed >= want
			r.mu.Unlock()
			if done {
				return nil
			}
			return errors.New("decision log: stopped before writing everything queued")
		}
	}
}

// close stops taking operations, writes what is queued, and returns when it is committed
// (or ctx ends: what is left is lost, and said so).
func (r *recorder) close(ctx context.Context) error {
	// Stop before taking the queue: an add may hold it waiting for room that a failing
	// store never makes.
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		<-r.done
		return nil
	}
	r.closed = true
	close(r.stop)
	r.mu.Unlock()
	r.enqueue.Lock()
	close(r.queue)
	r.enqueue.Unlock()
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		close(r.abandon)
		return fmt.Errorf("decision log: %d operations not written before shutdown: %w", len(r.queue)+1, ctx.Err())
	}
}

// run commits queued operations in batches until the queue is closed and empty.
func (r *recorder) run() {
	defer close(r.done)
	var batch []recordOp
	for {
		op, ok := <-r.queue
		if !ok {
			return
		}
		batch = append(batch[:0], op)
		n := len(op.decisions)
	fill:
		for n < maxBatchRecords {
			select {
			case op, ok := <-r.queue:
				if !ok {
					break fill
				}
				batch = append(batch, op)
				n += len(op.decisions)
			default:
				break fill
			}
		}
		r.commit(batch)
	}
}

// commit writes a batch, retrying while the store fails: a decision log with a hole in it
// would be worse than a slow one, and a full queue slows the senders down meanwhile.
func (r *recorder) commit(batch []recordOp) {
	wait := retryWait
	for {
		err := r.store.Update(context.Background(), func(tx gateway.Tx) error {
			for i := range batch {
				if err := writeOp(tx, &batch[i]); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil {
			break
		}
		r.failed.Add(1)
		r.log.Error("writing the decision log failed; retrying", "err", err, "operations", len(batch))
		select {
		case <-time.After(wait):
		case <-r.abandon:
			r.log.Error("decision log abandoned at shutdown", "operations", len(batch))
			return
		}
		wait = min(2*wait, maxRetryWait)
	}
	r.mu.Lock()
	r.committed = batch[len(batch)-1].seq
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
}

// writeOp writes one operation in tx: the same writes recordDecisions and Release make.
func writeOp(tx gateway.Tx, op *recordOp) error {
	if op.release {
		return releaseRecorded(tx, op.decisions)
	}
	if err := resolveCustomers(tx, op.decisions); err != nil {
		return err
	}
	for i := range op.decisions {
		d := &op.decisions[i]
		if d.CustomerID == "" {
			d.ContactID = "" // a recipient hush does not know: no customer, no contact
		}
		if d.ContactID != "" {
			c := &gateway.Contact{ID: d.ContactID, CustomerID: d.CustomerID, At: d.At,
				Channel: d.Channel, Category: d.Category, Upstream: d.Upstream}
			if err := tx.PutContact(c); err != nil {
				return fmt.Errorf("recording a contact: %w", err)
			}
		}
		if err := tx.PutDecision(d); err != nil {
			return fmt.Errorf("recording a decision: %w", err)
		}
	}
	return nil
}

// releaseRecorded gives back the slot of each recorded decision and marks it unsent. It works
// on what the log holds now, not on the caller's copy: a merge since moved the decision and
// its contact to another customer, and an erasure deleted both (writing the copy back would
// bring the erased recipient back). A decision that was never recorded took no slot.
func releaseRecorded(tx gateway.Tx, decisions []gateway.Decision) error {
	for i := range decisions {
		if decisions[i].ID == "" {
			continue
		}
		rec, err := tx.Decision(decisions[i].ID)
		if errors.Is(err, gateway.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("reading a decision to release: %w", err)
		}
		if rec.ContactID != "" {
			if err := tx.DeleteContact(rec.CustomerID, rec.ContactID); err != nil && !errors.Is(err, gateway.ErrNotFound) {
				return fmt.Errorf("releasing contact %s: %w", rec.ContactID, err)
			}
		}
		rec.Unsent = true
		if err := tx.PutDecision(rec); err != nil {
			return fmt.Errorf("marking a decision unsent: %w", err)
		}
	}
	return nil
}
