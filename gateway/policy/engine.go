package policy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hush-gateway/hush/gateway"
	"github.com/nyaruka/phonenumbers"
)

// Config is what the engine needs from hush.yaml.
type Config struct {
	Rules      *RuleSet // nil: no rules
	Caps       []gateway.CapSpec
	QuietHours []gateway.QuietHoursSpec
	// Timezone is the IANA zone used when a customer's own is unknown and cannot be inferred
	// from their phone; "" is UTC.
	Timezone      string
	DefaultRegion string // for national phone numbers
	Costs         map[gateway.Channel]float64
	// Sentiment scores the text of events that arrive without a vendor's sentiment (a chat
	// message, a transcript line, a survey comment), before the rules see them; nil: texts
	// are not scored on intake (rules may still call sentiment(text)).
	Sentiment gateway.SentimentScorer
	// BatchDecisionLog writes the decisions of sends no frequency cap covers in batches after
	// the answer instead of in a commit before it (see recorder.go). The engine must then be
	// closed (Close) to write the last batch.
	BatchDecisionLog bool
	// SyncUpstreams names the upstreams with `sync: true`: every transaction that changes a
	// customer's silences (or a silenced customer's addresses) queues a sync job per upstream
	// in the outbox (gateway.OutboxSync), in the same transaction.
	SyncUpstreams []string
	// OutcomeWindow is how long after a holdout rule fired an outcome event still counts for
	// its experiment in the report; 0: DefaultOutcomeWindow (90 days).
	OutcomeWindow time.Duration
	// ScratchStore opens an empty store in dir for Simulate's scratch engine (cmd wires a
	// bbolt file without fsync; policy must not import a back end). nil: Simulate answers
	// unavailable.
	ScratchStore func(dir string) (gateway.Store, error)
	// FeedInterval is how often Follow reads a shared store's change feed when no
	// notification wakes it first; 0: 250ms.
	FeedInterval time.Duration
	Now          func() time.Time // nil: time.Now
	Logger       *slog.Logger     // nil: discard
}

// Engine is hush's core: it ingests events and their consequences, answers decisions from an
// in-memory snapshot (and the store for caps), and keeps the snapshot in step with every
// commit it makes. It implements gateway.Engine and is safe for concurrent use.
type Engine struct {
	store    gateway.Store
	rules    *RuleSet
	caps     []capRule
	quiet    []quietRule
	fallback *time.Location
	region   string
	costs    map[gateway.Channel]float64
	scorer   gateway.SentimentScorer
	// rec batches the decision log (nil: every decision is committed before Decide returns).
	rec *recorder
	// syncUpstreams get a sync job whenever a customer's silences change.
	syncUpstreams []string
	// outcomeWindow bounds the outcomes a holdout experiment counts (experiments.go).
	outcomeWindow time.Duration
	now           func() time.Time
	log           *slog.Logger

	snap atomic.Pointer[Snapshot]
	// refreshMu serializes snapshot refreshes: each one reads the store after taking it, so
	// the last refresh to run always publishes the latest committed state.
	refreshMu sync.Mutex
	// stale is set when a refresh failed after a commit: the next refresh rebuilds everything.
	stale atomic.Bool

	locations sync.Map // zone name → *time.Location

	// Following a shared store's change feed (feed.go).
	feedInterval time.Duration
	feedVersion  atomic.Uint64
	scratchStore func(dir string) (gateway.Store, error)
	feedOK       atomic.Int64 // unix nanoseconds of the last successful read
	feedFailing  atomic.Bool
}

var _ gateway.Engine = (*Engine)(nil)

// New checks the configuration and loads the snapshot from the store.
func New(ctx context.Context, store gateway.Store, cfg Config) (*Engine, error) {
	if store == nil {
		return nil, errors.New("policy: store is nil")
	}
	e := &Engine{
		store:         store,
		rules:         cfg.Rules,
		region:        cfg.DefaultRegion,
		costs:         cfg.Costs,
		scorer:        cfg.Sentiment,
		syncUpstreams: slices.Clone(cfg.SyncUpstreams),
		outcomeWindow: cfg.OutcomeWindow,
		now:           cfg.Now,
		log:           cfg.Logger,
		feedInterval:  cfg.FeedInterval,
		scratchStore:  cfg.ScratchStore,
	}
	if e.feedInterval <= 0 {
		e.feedInterval = defaultFeedInterval
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.log == nil {
		e.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	var err error
	if e.caps, err = compileCaps(cfg.Caps); err != nil {
		return nil, err
	}
	if e.quiet, err = compileQuietHours(cfg.QuietHours); err != nil {
		return nil, err
	}
	e.fallback = time.UTC
	if cfg.Timezone != "" {
		if e.fallback, err = time.LoadLocation(cfg.Timezone); err != nil {
			return nil, fmt.Errorf("timezone %q: %w", cfg.Timezone, err)
		}
	}
	if err := e.startFeed(ctx); err != nil {
		return nil, err
	}
	if err := e.rebuild(ctx); err != nil {
		return nil, err
	}
	if cfg.BatchDecisionLog {
		e.rec = newRecorder(store, e.log)
	}
	return e, nil
}

// FlushDecisions waits until every decision recorded before the call is in the store (a no-op
// unless BatchDecisionLog is on).
func (e *Engine) FlushDecisions(ctx context.Context) error {
	if e.rec == nil {
		return nil
	}
	return e.rec.flush(ctx)
}

// DecisionLogStats reports the sends queued for the batched decision log and not yet
// committed, and how many of its commits failed; zeros without BatchDecisionLog.
func (e *Engine) DecisionLogStats() (queued int, failedCommits uint64) {
	if e.rec == nil {
		return 0, 0
	}
	return e.rec.stats()
}

// Close writes what the decision log has queued; decisions recorded afterwards are committed
// one by one. It does not close the store.
func (e *Engine) Close(ctx context.Context) error {
	if e.rec == nil {
		return nil
	}
	return e.rec.close(ctx)
}

// Snapshot returns the snapshot decisions are currently answered from.
func (e *Engine) Snapshot() *Snapshot { return e.snap.Load() }

// SnapshotSize counts the silences, opt-outs and incidents in force in the snapshot, for the
// hush_snapshot_records gauge. It walks the snapshot: cheap at scrape intervals, not per
// request.
func (e *Engine) SnapshotSize() int {
	c := e.Snapshot().Counts(e.now())
	return c.ActiveSilences + c.ActiveOptOuts + c.OpenIncidents
}

// ActiveSilenceCount counts the silences the snapshot enforces now (shadow and control
// silences are recorded but enforced nowhere, so they are not in it), for the console's
// dashboard: the snapshot already holds every customer with a silence in force, so nothing
// needs reading from the store. It walks the snapshot.
func (e *Engine) ActiveSilenceCount() int { return e.Snapshot().Counts(e.now()).ActiveSilences }

// rebuild loads the whole snapshot from the store: the customers with a silence or an
// opt-out in force (the others are not in the snapshot; see Snapshot) and open incidents.
func (e *Engine) rebuild(ctx context.Context) error {
	now := e.now()
	var snap *Snapshot
	err := e.store.View(ctx, func(tx gateway.Tx) error {
		// Page by page into per-customer lists: one slice of every silence would be copied
		// over and over as it grows (a second of a 100k-silence start-up).
		silencesOf := map[string][]gateway.Silence{}
		err := eachPage(func(p gateway.Page) ([]gateway.Silence, string, error) {
			return tx.Silences(gateway.SilenceQuery{ActiveAt: now, Page: p})
		}, func(s *gateway.Silence) { silencesOf[s.CustomerID] = append(silencesOf[s.CustomerID], *s) })
		if err != nil {
			return fmt.Errorf("listing active silences: %w", err)
		}
		optOutsOf := map[string][]gateway.OptOut{}
		err = eachPage(func(p gateway.Page) ([]gateway.OptOut, string, error) {
			return tx.OptOuts(gateway.OptOutQuery{ActiveOnly: true, Page: p})
		}, func(o *gateway.OptOut) { optOutsOf[o.CustomerID] = append(optOutsOf[o.CustomerID], *o) })
		if err != nil {
			return fmt.Errorf("listing active opt-outs: %w", err)
		}
		incidents, err := e.openIncidents(tx)
		if err != nil {
			return err
		}
		ids := make([]string, 0, len(silencesOf)+len(optOutsOf))
		for id := range silencesOf {
			ids = append(ids, id)
		}
		for id := range optOutsOf {
			if _, ok := silencesOf[id]; !ok {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids) // read in key order: fewer pages touched
		states := make([]*customerState, 0, len(ids))
		for _, id := range ids {
			c, err := tx.Customer(id)
			if errors.Is(err, gateway.ErrNotFound) {
				continue
			}
			if err != nil {
				return fmt.Errorf("reading customer %s: %w", id, err)
			}
			if st := newCustomerState(c, silencesOf[id], optOutsOf[id], e.customerLocation(c), now); st.stateful() {
				states = append(states, st)
			}
		}
		snap = buildSnapshot(states, incidents)
		return nil
	})
	if err != nil {
		return fmt.Errorf("loading the policy snapshot: %w", err)
	}
	e.snap.Store(snap)
	return nil
}

// changes collects what a transaction touched, for the snapshot refresh after it commits.
type changes struct {
	customers map[string]struct{}
	incidents bool
	// sync: customers whose suppression-list entries may have to change (their enforced
	// silences or, while silenced, their addresses changed; or they were merged or erased).
	sync map[string]struct{}
}

func newChanges() *changes {
	return &changes{customers: map[string]struct{}{}, sync: map[string]struct{}{}}
}

func (c *changes) customer(id string) { c.customers[id] = struct{}{} }

func (c *changes) resync(id string) { c.sync[id] = struct{}{} }

// refresh publishes a snapshot with the changed customers and incidents reloaded. It runs after
// a successful commit; a failure cannot undo the commit, so it is logged and the next refresh
// rebuilds the whole snapshot.
func (e *Engine) refresh(ctx context.Context, ch *changes) {
	if len(ch.customers) == 0 && !ch.incidents && !e.stale.Load() {
		return
	}
	// The commit happened: finish publishing it even if the caller has gone.
	ctx = context.WithoutCancel(ctx)
	e.refreshMu.Lock()
	defer e.refreshMu.Unlock()
	if e.stale.Load() {
		if err := e.rebuild(ctx); err != nil {
			e.log.Error("policy snapshot rebuild failed; decisions use the previous snapshot", "err", err)
			return
		}
		e.stale.Store(false)
		return
	}
	now := e.now()
	var states map[string]*customerState
	var incidents []gateway.Incident
	err := e.store.View(ctx, func(tx gateway.Tx) error {
		states = make(map[string]*customerState, len(ch.customers))
		for id := range ch.customers {
			st, err := e.loadCustomerState(tx, id, now)
			if err != nil {
				return err
			}
			states[id] = st
		}
		if ch.incidents {
			var err error
			if incidents, err = e.openIncidents(tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		e.stale.Store(true)
		e.log.Error("policy snapshot refresh failed; will rebuild", "err", err)
		return
	}
	e.snap.Store(e.snap.Load().apply(states, incidents, ch.incidents, now))
}

// loadCustomerState reads one customer's state; nil when the customer no longer exists.
func (e *Engine) loadCustomerState(tx gateway.Tx, id string, now time.Time) (*customerState, error) {
	c, err := tx.Customer(id)
	if errors.Is(err, gateway.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading customer %s: %w", id, err)
	}
	silences, err := allPages(func(p gateway.Page) ([]gateway.Silence, string, error) {
		return tx.Silences(gateway.SilenceQuery{CustomerID: id, ActiveAt: now, Page: p})
	})
	if err != nil {
		return nil, fmt.Errorf("reading silences of customer %s: %w", id, err)
	}
	optOuts, err := allPages(func(p gateway.Page) ([]gateway.OptOut, string, error) {
		return tx.OptOuts(gateway.OptOutQuery{CustomerID: id, ActiveOnly: true, Page: p})
	})
	if err != nil {
		return nil, fmt.Errorf("reading opt-outs of customer %s: %w", id, err)
	}
	st := newCustomerState(c, silences, optOuts, e.customerLocation(c), now)
	if !st.stateful() {
		return nil, nil // nothing to enforce: out of the snapshot
	}
	return st, nil
}

func (e *Engine) openIncidents(tx gateway.Tx) ([]gateway.Incident, error) {
	incidents, err := allPages(func(p gateway.Page) ([]gateway.Incident, string, error) {
		return tx.Incidents(gateway.IncidentQuery{OpenOnly: true, Page: p})
	})
	if err != nil {
		return nil, fmt.Errorf("listing open incidents: %w", err)
	}
	return incidents, nil
}

// update runs fn in one store transaction and, once it committed, refreshes the snapshot with
// what fn reported as changed. fn receives a fresh change set on every run (a store may run
// it twice), so a failed run leaves nothing behind.
func (e *Engine) update(ctx context.Context, doing string, fn func(tx gateway.Tx, ch *changes) error) error {
	var ch *changes
	err := e.store.Update(ctx, func(tx gateway.Tx) error {
		ch = newChanges()
		if err := fn(tx, ch); err != nil {
			return err
		}
		return e.queueSync(tx, ch)
	})
	if err != nil {
		return storeError(err, doing)
	}
	e.refresh(ctx, ch)
	return nil
}

// storeError passes API errors through and reports everything else as the store failing,
// so that webhooks answer 503 and vendors retry.
func storeError(err error, doing string) error {
	var apiErr *gateway.Error
	if errors.As(err, &apiErr) {
		return err
	}
	if errors.Is(err, gateway.ErrNotFound) {
		return &gateway.Error{Code: gateway.CodeNotFound, Message: "not found", Err: err}
	}
	return &gateway.Error{Code: gateway.CodeUnavailable, Message: "storage is unavailable", Err: fmt.Errorf("%s: %w", doing, err)}
}

// pageLimit is the page size for internal listings (the most a store gives at once).
const pageLimit = gateway.MaxPageSize

// eachPage follows cursors until the listing ends, handing every item to fn.
func eachPage[T any](fetch func(gateway.Page) ([]T, string, error), fn func(*T)) error {
	p := gateway.Page{Limit: pageLimit}
	for {
		items, next, err := fetch(p)
		if err != nil {
			return err
		}
		for i := range items {
			fn(&items[i])
		}
		if next == "" || len(items) == 0 {
			return nil
		}
		p.Cursor = next
	}
}

// allPages follows cursors until the listing ends.
func allPages[T any](fetch func(gateway.Page) ([]T, string, error)) ([]T, error) {
	var all []T
	p := gateway.Page{Limit: pageLimit}
	for {
		items, next, err := fetch(p)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if next == "" || len(items) == 0 {
			return all, nil
		}
		p.Cursor = next
	}
}

// location loads a zone by name, cached: time.LoadLocation reads the zone database.
func (e *Engine) location(name string) *time.Location {
	if name == "" {
		return nil
	}
	if l, ok := e.locations.Load(name); ok {
		return l.(*time.Location)
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil
	}
	e.locations.Store(name, l)
	return l
}

// customerLocation is the customer's own timezone, else their first phone's country zone;
// nil when neither is known.
func (e *Engine) customerLocation(c *gateway.Customer) *time.Location {
	if l := e.location(c.Timezone); l != nil {
		return l
	}
	for _, id := range c.Identities {
		if id.IsPhone() {
			if l := e.phoneLocation(id); l != nil {
				return l
			}
		}
	}
	return nil
}

// phoneLocation infers a zone from a phone number's country and area (the first zone
// libphonenumber lists for it); nil when unknown.
func (e *Engine) phoneLocation(id gateway.Identity) *time.Location {
	num, err := phonenumbers.Parse(id.Value(), e.region)
	if err != nil {
		return nil
	}
	zones, err := phonenumbers.GetTimezonesForNumber(num)
	if err != nil || len(zones) == 0 || zones[0] == phonenumbers.UNKNOWN_TIMEZONE {
		return nil
	}
	return e.location(zones[0])
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
