package delivery

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hush-gateway/hush/connectors/mailgun"
	"github.com/hush-gateway/hush/connectors/mandrill"
	"github.com/hush-gateway/hush/connectors/postmark"
	"github.com/hush-gateway/hush/connectors/sendgrid"
	"github.com/hush-gateway/hush/connectors/suppress/suppresstest"
	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/policy"
	"github.com/hush-gateway/hush/storage/bolt"
)

// syncVendor builds one vendor's suppression-list client pointed at its stand-in.
type syncVendor struct {
	name  string
	build func(t *testing.T) (gateway.SuppressionList, suppresstest.Standin)
}

func syncVendors() []syncVendor {
	list := func(t *testing.T, l gateway.SuppressionList, err error) gateway.SuppressionList {
		t.Helper()
		if err != nil {
			t.Fatalf("building the suppression list: %v", err)
		}
		return l
	}
	return []syncVendor{
		{"sendgrid", func(t *testing.T) (gateway.SuppressionList, suppresstest.Standin) {
			st := suppresstest.NewSendGrid(t, "SG.sync-test-key", 4242)
			l, err := sendgrid.NewSuppressionList(gateway.UpstreamConfig{Name: "sendgrid", Kind: "sendgrid", URL: st.URL(), Sync: true,
				Options: map[string]any{"api_key": "SG.sync-test-key", "group_id": int64(4242)}})
			return list(t, l, err), st
		}},
		{"postmark", func(t *testing.T) (gateway.SuppressionList, suppresstest.Standin) {
			st := suppresstest.NewPostmark(t, "pm-server-token", "broadcast")
			l, err := postmark.NewSuppressionList(gateway.UpstreamConfig{Name: "postmark", Kind: "postmark", URL: st.URL(), Sync: true,
				Options: map[string]any{"server_token": "pm-server-token"}})
			return list(t, l, err), st
		}},
		{"mailgun", func(t *testing.T) (gateway.SuppressionList, suppresstest.Standin) {
			st := suppresstest.NewMailgun(t, "key-sync-test", "mg.example.com", "hush")
			l, err := mailgun.NewSuppressionList(gateway.UpstreamConfig{Name: "mailgun", Kind: "mailgun", URL: st.URL(), Sync: true,
				Options: map[string]any{"api_key": "key-sync-test", "domain": "mg.example.com"}})
			return list(t, l, err), st
		}},
		{"mandrill", func(t *testing.T) (gateway.SuppressionList, suppresstest.Standin) {
			st := suppresstest.NewMandrill(t, "md-sync-test-key", "marketing")
			l, err := mandrill.NewSuppressionList(gateway.UpstreamConfig{Name: "mandrill", Kind: "mandrill", URL: st.URL(), Sync: true,
				Options: map[string]any{"api_key": "md-sync-test-key", "subaccount": "marketing"}})
			return list(t, l, err), st
		}},
	}
}

// syncRig is a policy engine and a worker on one real bbolt file, with a test clock, for
// one synced upstream.
type syncRig struct {
	t      *testing.T
	path   string
	clock  *syncClock
	store  *bolt.Store
	engine *policy.Engine
	worker *Worker
	list   gateway.SuppressionList
	name   string
}

type syncClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *syncClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *syncClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newSyncRig(t *testing.T, name string, list gateway.SuppressionList) *syncRig {
	r := &syncRig{t: t, path: filepath.Join(t.TempDir(), "hush.db"), list: list, name: name,
		clock: &syncClock{t: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}}
	r.open()
	t.Cleanup(func() { _ = r.store.Close() })
	return r
}

// open (re)opens the store, the engine and the worker, as a process start does.
func (r *syncRig) open() {
	r.t.Helper()
	s, err := bolt.Open(r.path, bolt.Options{NoSync: true})
	if err != nil {
		r.t.Fatal(err)
	}
	r.store = s
	r.engine, err = policy.New(context.Background(), s, policy.Config{SyncUpstreams: []string{r.name}, Now: r.clock.Now})
	if err != nil {
		r.t.Fatal(err)
	}
	r.worker, err = New(Config{
		Store: s, Lists: map[string]SyncTarget{r.name: {List: r.list, Category: gateway.CategoryMarketing}},
		Now: r.clock.Now, RetryMax: -1, Rate: 1000, Burst: 1000,
		// A hung vendor costs a test 300 ms, not the production 15 s.
		HTTPClient: &http.Client{Timeout: 300 * time.Millisecond},
	})
	if err != nil {
		r.t.Fatal(err)
	}
	r.worker.jitter = func(time.Duration) time.Duration { return 0 }
}

func (r *syncRig) restart() {
	r.t.Helper()
	if err := r.store.Close(); err != nil {
		r.t.Fatal(err)
	}
	r.open()
}

// drain runs passes, moving the clock past each retry's wait, until no sync job is due
// within a minute or the passes run out. It returns the number of passes.
func (r *syncRig) drain() int {
	r.t.Helper()
	for pass := 1; pass <= 20; pass++ {
		if _, _, _, err := r.worker.DeliverDue(context.Background()); err != nil {
			r.t.Fatalf("pass %d: %v", pass, err)
		}
		if len(r.pending(r.clock.Now().Add(time.Minute))) == 0 {
			return pass
		}
		r.clock.Add(2 * time.Second) // past a Retry-After of 1 s and the zero-jitter backoff
	}
	r.t.Fatalf("sync jobs still pending after 20 passes: %+v", r.pending(time.Time{}))
	return 0
}

// pending lists the pending sync jobs due by due (zero: all).
func (r *syncRig) pending(due time.Time) []gateway.OutboxMessage {
	r.t.Helper()
	var out []gateway.OutboxMessage
	err := r.store.View(context.Background(), func(tx gateway.Tx) error {
		ms, _, err := tx.Outbox(gateway.OutboxQuery{State: gateway.OutboxPending, DueBy: due, Page: gateway.Page{Limit: 1000}})
		for _, m := range ms {
			if m.Kind == gateway.OutboxSync {
				out = append(out, m)
			}
		}
		return err
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return out
}

func (r *syncRig) syncJobs(state string) []gateway.OutboxMessage {
	r.t.Helper()
	var out []gateway.OutboxMessage
	err := r.store.View(context.Background(), func(tx gateway.Tx) error {
		ms, _, err := tx.Outbox(gateway.OutboxQuery{State: state, Page: gateway.Page{Limit: 1000}})
		for _, m := range ms {
			if m.Kind == gateway.OutboxSync {
				out = append(out, m)
			}
		}
		return err
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return out
}

func (r *syncRig) entry(address string) *gateway.SuppressionEntry {
	r.t.Helper()
	var e *gateway.SuppressionEntry
	err := r.store.View(context.Background(), func(tx gateway.Tx) error {
		var err error
		e, err = tx.SuppressionEntry(r.name, address)
		if errors.Is(err, gateway.ErrNotFound) {
			e, err = nil, nil
		}
		return err
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return e
}

func (r *syncRig) silence(address string, d time.Duration) *gateway.Silence {
	r.t.Helper()
	s, err := r.engine.CreateSilence(context.Background(), gateway.SilenceInput{
		Identity: gateway.Identity("email:" + address), For: d, Reason: "test", CreatedBy: "admin:test"})
	if err != nil {
		r.t.Fatal(err)
	}
	return s
}

func (r *syncRig) lift(s *gateway.Silence) {
	r.t.Helper()
	if _, err := r.engine.LiftSilence(context.Background(), s.ID, "admin:test", "wrong"); err != nil {
		r.t.Fatal(err)
	}
}

func TestSyncArrivesExactlyOnceThroughFailures(t *testing.T) {
	for _, v := range syncVendors() {
		t.Run(v.name, func(t *testing.T) {
			list, st := v.build(t)
			r := newSyncRig(t, v.name, list)
			const ana, bea = "ana+promo@example.com", "bea@example.com"
			st.SeedOwn(bea) // bea unsubscribed herself before hush knew her

			// Every kind of failure before anything gets through: a 500, a 429 with
			// Retry-After, a hang past the client's timeout, then another 500.
			st.Faults().Add(suppresstest.Fail500, suppresstest.Fail429, suppresstest.Hang, suppresstest.Fail500)
			sa := r.silence(ana, 15*24*time.Hour)
			sb := r.silence(bea, 15*24*time.Hour)
			r.drain()
			if st.Faults().Pending() != 0 {
				t.Fatalf("%d injected failures never served", st.Faults().Pending())
			}
			if !st.HushListed(ana) || st.Calls("add", ana) != 1 {
				t.Fatalf("ana: hush-listed %v, added %d times; want listed once", st.HushListed(ana), st.Calls("add", ana))
			}
			if e := r.entry(ana); e == nil || !e.Owned || !e.Synced {
				t.Fatalf("ledger for ana = %+v, want owned and synced", e)
			}
			if st.Calls("add", bea) != 0 || st.HushListed(bea) {
				t.Fatalf("bea was already unsubscribed; hush added her %d times", st.Calls("add", bea))
			}
			if e := r.entry(bea); e == nil || e.Owned {
				t.Fatalf("ledger for bea = %+v, want not owned", e)
			}
			if n := len(r.syncJobs(gateway.OutboxDead)); n != 0 {
				t.Fatalf("%d sync jobs died on retryable failures", n)
			}

			// Both silences are lifted: hush takes off what it added, and only that.
			st.Faults().Add(suppresstest.Fail429, suppresstest.Fail500)
			r.lift(sa)
			r.lift(sb)
			r.drain()
			if st.HushListed(ana) || st.Suppressed(ana) || st.Calls("remove", ana) != 1 {
				t.Fatalf("ana after the lift: listed %v, suppressed %v, removed %d times",
					st.HushListed(ana), st.Suppressed(ana), st.Calls("remove", ana))
			}
			if !st.Suppressed(bea) || st.Calls("remove", bea) != 0 {
				t.Fatalf("bea's own unsubscribe: suppressed %v, removes %d; hush must leave it", st.Suppressed(bea), st.Calls("remove", bea))
			}
			if r.entry(ana) != nil || r.entry(bea) != nil {
				t.Fatal("the ledger still holds entries after the silences ended")
			}
			if st.Calls("add", ana) != 1 {
				t.Fatalf("ana added %d times in all", st.Calls("add", ana))
			}
		})
	}
}

func TestSyncRefusalIsNotRetried(t *testing.T) {
	v := syncVendors()[0]
	list, st := v.build(t)
	r := newSyncRig(t, v.name, list)
	st.Faults().Add(suppresstest.Fail400)
	r.silence("ana@example.com", 24*time.Hour)
	r.drain()
	dead := r.syncJobs(gateway.OutboxDead)
	if len(dead) != 1 || !strings.Contains(dead[0].DeadReason, "400") || dead[0].Attempts != 0 {
		t.Fatalf("dead jobs = %+v, want the one job dead after a 400", dead)
	}
	if strings.Contains(dead[0].DeadReason, "ana") {
		t.Fatalf("the dead reason names the address: %q", dead[0].DeadReason)
	}
	for range 3 {
		r.clock.Add(time.Hour)
		r.drain()
	}
	if st.Faults().Injected() != 1 || st.Calls("contains", "ana@example.com") != 0 {
		t.Fatalf("a refused job was tried again (%d failures served)", st.Faults().Injected())
	}
	// An operator fixes the cause and replays it: it goes through.
	if err := r.store.Update(context.Background(), func(tx gateway.Tx) error {
		m := dead[0]
		m.DeadAt, m.DeadReason, m.NextAttempt = nil, "", r.clock.Now()
		return tx.PutOutbox(&m)
	}); err != nil {
		t.Fatal(err)
	}
	r.drain()
	if !st.HushListed("ana@example.com") {
		t.Fatalf("the replayed job did not add the address: %+v", r.syncJobs(""))
	}
}

func TestSyncRestartLosesNothing(t *testing.T) {
	for _, v := range syncVendors() {
		t.Run(v.name, func(t *testing.T) {
			list, st := v.build(t)
			r := newSyncRig(t, v.name, list)
			st.Faults().Add(suppresstest.Fail500)
			r.silence("ana@example.com", time.Hour)
			if _, nFailed, _, err := r.worker.DeliverDue(context.Background()); err != nil || nFailed != 1 {
				t.Fatalf("first pass: failed %d, err %v; want the one job failed", nFailed, err)
			}
			r.restart()
			r.clock.Add(2 * time.Second)
			r.drain()
			if !st.HushListed("ana@example.com") || st.Calls("add", "ana@example.com") != 1 {
				t.Fatalf("after the restart: listed %v, added %d times", st.HushListed("ana@example.com"), st.Calls("add", "ana@example.com"))
			}

			// hush stopped after recording its add and before the vendor answered: the
			// next job adds again, and still takes it off at the end (it is hush's).
			const bea = "bea@example.com"
			if err := r.store.Update(context.Background(), func(tx gateway.Tx) error {
				return tx.PutSuppressionEntry(&gateway.SuppressionEntry{Upstream: v.name, Address: bea, CustomerID: "cus_x",
					Owned: true, CreatedAt: r.clock.Now(), UpdatedAt: r.clock.Now()})
			}); err != nil {
				t.Fatal(err)
			}
			sb := r.silence(bea, time.Hour)
			r.drain()
			if !st.HushListed(bea) || st.Calls("contains", bea) != 0 {
				t.Fatalf("interrupted add: listed %v, asked %d times (an owned entry must not be asked about)", st.HushListed(bea), st.Calls("contains", bea))
			}
			r.lift(sb)
			r.drain()
			if st.Suppressed(bea) {
				t.Fatal("hush's interrupted add was never taken off")
			}
		})
	}
}

func TestSyncRemovesAtTheSilencesEnd(t *testing.T) {
	v := syncVendors()[2]
	list, st := v.build(t)
	r := newSyncRig(t, v.name, list)
	const ana = "ana@example.com"
	s := r.silence(ana, 2*time.Hour)
	r.drain()
	if !st.HushListed(ana) {
		t.Fatal("not added")
	}
	scheduled := r.pending(time.Time{})
	if len(scheduled) != 1 || !scheduled[0].DueAt.After(*s.End) || scheduled[0].DueAt.After(s.End.Add(time.Minute)) {
		t.Fatalf("scheduled jobs = %+v, want one just after the end %v", scheduled, s.End)
	}
	// Another job for the same silence finds the same end and schedules nothing new.
	r.silence(ana, time.Hour) // a shorter, second silence: the earliest end is now in 1h
	r.drain()
	if n := len(r.pending(time.Time{})); n != 2 {
		t.Fatalf("pending after a second silence = %d, want the two ends", n)
	}
	r.clock.Add(time.Hour + 2*time.Second)
	r.drain()
	if !st.HushListed(ana) {
		t.Fatal("removed while the longer silence is still in force")
	}
	r.clock.Add(time.Hour)
	r.drain()
	if st.HushListed(ana) || st.Calls("remove", ana) != 1 {
		t.Fatalf("after the last end: listed %v, removed %d times", st.HushListed(ana), st.Calls("remove", ana))
	}
}

func TestSyncAfterErasure(t *testing.T) {
	v := syncVendors()[1]
	list, st := v.build(t)
	r := newSyncRig(t, v.name, list)
	const ana = "ana@example.com"
	r.silence(ana, 24*time.Hour)
	r.drain()
	if err := r.engine.EraseCustomer(context.Background(), gateway.Identity("email:"+ana)); err != nil {
		t.Fatal(err)
	}
	r.drain()
	if st.HushListed(ana) || r.entry(ana) != nil {
		t.Fatalf("an erased customer's entry stays: listed %v, ledger %+v", st.HushListed(ana), r.entry(ana))
	}
}

func TestReconcileQueuesWhatDiffers(t *testing.T) {
	v := syncVendors()[3]
	list, st := v.build(t)
	r := newSyncRig(t, v.name, list)
	ctx := context.Background()
	const ana, bea = "ana@example.com", "bea@example.com"
	r.silence(ana, time.Hour)
	r.drain()
	// While hush was down: ana's silence ended (its job is lost with a broken outbox, say),
	// and bea was silenced by a version of hush that did not sync.
	if err := r.store.Update(ctx, func(tx gateway.Tx) error {
		ms, _, err := tx.Outbox(gateway.OutboxQuery{State: gateway.OutboxPending, Page: gateway.Page{Limit: 1000}})
		for _, m := range ms {
			now := r.clock.Now()
			m.DeadAt, m.DeadReason = &now, "lost"
			if err := tx.PutOutbox(&m); err != nil {
				return err
			}
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	r.clock.Add(2 * time.Hour)
	noSync, err := policy.New(ctx, r.store, policy.Config{Now: r.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := noSync.CreateSilence(ctx, gateway.SilenceInput{Identity: gateway.Identity("email:" + bea), For: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if n := len(r.pending(time.Time{})); n != 0 {
		t.Fatalf("%d jobs pending before the reconcile", n)
	}

	n, err := r.worker.Reconcile(ctx)
	if err != nil || n != 2 {
		t.Fatalf("Reconcile queued %d jobs (err %v), want 2: ana off, bea on", n, err)
	}
	if n, err := r.worker.Reconcile(ctx); err != nil || n != 0 {
		t.Fatalf("a second Reconcile queued %d jobs (err %v): the first ones are pending", n, err)
	}
	r.drain()
	if st.HushListed(ana) || !st.HushListed(bea) {
		t.Fatalf("after the reconcile: ana listed %v, bea listed %v", st.HushListed(ana), st.HushListed(bea))
	}
	if n, err := r.worker.Reconcile(ctx); err != nil || n != 0 {
		t.Fatalf("Reconcile of a list in step queued %d jobs (err %v)", n, err)
	}
}

func TestSyncJobForAnUnknownUpstreamDies(t *testing.T) {
	v := syncVendors()[0]
	list, _ := v.build(t)
	r := newSyncRig(t, v.name, list)
	if err := r.store.Update(context.Background(), func(tx gateway.Tx) error {
		return tx.PutOutbox(&gateway.OutboxMessage{ID: gateway.NewID("out", r.clock.Now()), Kind: gateway.OutboxSync, Target: "gone",
			CustomerID: "cus_1", Payload: []byte(`{}`), CreatedAt: r.clock.Now(), NextAttempt: r.clock.Now()})
	}); err != nil {
		t.Fatal(err)
	}
	r.drain()
	if dead := r.syncJobs(gateway.OutboxDead); len(dead) != 1 || !strings.Contains(dead[0].DeadReason, `"gone"`) {
		t.Fatalf("dead = %+v", dead)
	}
}

// Sync jobs have their own pace per upstream: past the burst, the rest wait for a later pass
// (not a failed attempt) while alerts keep theirs.
func TestSyncJobsArePaced(t *testing.T) {
	v := syncVendors()[0]
	list, st := v.build(t)
	r := newSyncRig(t, v.name, list)
	for i := range 5 {
		r.silence(fmt.Sprintf("c%d@example.com", i), 24*time.Hour)
	}
	w, err := New(Config{Store: r.store, Lists: map[string]SyncTarget{v.name: {List: list, Category: gateway.CategoryMarketing}},
		Now: r.clock.Now, RetryMax: -1, SyncRate: 0.001, SyncBurst: 2})
	if err != nil {
		t.Fatal(err)
	}
	d, f, x, err := w.DeliverDue(context.Background())
	if err != nil || d != 2 || f != 0 || x != 0 {
		t.Fatalf("first pass: delivered %d, failed %d, dead %d, %v; want 2 of 5 (the burst)", d, f, x, err)
	}
	if n := len(r.pending(r.clock.Now())); n != 3 {
		t.Fatalf("%d jobs still due, want 3 waiting for their turn", n)
	}
	added := 0
	for i := range 5 {
		added += st.Calls("add", fmt.Sprintf("c%d@example.com", i))
	}
	if added != 2 {
		t.Fatalf("the vendor saw %d adds in the first pass, want 2", added)
	}
	for _, m := range r.pending(r.clock.Now()) {
		if m.Attempts != 0 || m.LastError != "" {
			t.Fatalf("a paced job counts as a failed attempt: %+v", m)
		}
	}
}
