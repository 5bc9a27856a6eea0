package delivery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/storage/bolt"
)

var t0 = time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)

// clock is the fake Config.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// jsonSender is the test's AlertSender: a JSON POST carrying the outbox ID as
// Idempotency-Key. It remembers the last AlertMessage it was given.
type jsonSender struct {
	url string

	mu   sync.Mutex
	last *gateway.AlertMessage
}

func (s *jsonSender) Request(ctx context.Context, m *gateway.AlertMessage) (*http.Request, error) {
	s.mu.Lock()
	s.last = m
	s.mu.Unlock()
	body, err := json.Marshal(map[string]string{"id": m.Outbox.ID, "rule": m.Outbox.Rule})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", m.Outbox.ID)
	return req, nil
}

// receiver is a destination stand-in: its first calls follow plan (one step per call), the
// rest answer 200 (or always, when set). It counts calls and 2xx answers per key.
type receiver struct {
	srv *httptest.Server

	mu        sync.Mutex
	plan      []func(w http.ResponseWriter, r *http.Request)
	always    func(w http.ResponseWriter, r *http.Request)
	calls     int
	perKey    map[string]int // calls per idempotency key
	successes map[string]int // 2xx answers per idempotency key
}

func newReceiver(t *testing.T, plan ...func(w http.ResponseWriter, r *http.Request)) *receiver {
	rc := &receiver{plan: plan, perKey: map[string]int{}, successes: map[string]int{}}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ ID string }
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.ID != r.Header.Get("Idempotency-Key") {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		key := r.Header.Get("Idempotency-Key")
		rc.mu.Lock()
		rc.calls++
		rc.perKey[key]++
		step := rc.always
		if step == nil && len(rc.plan) > 0 {
			step, rc.plan = rc.plan[0], rc.plan[1:]
		}
		if step == nil {
			rc.successes[key]++
		}
		rc.mu.Unlock()
		if step != nil {
			step(w, r)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) stats() (calls int, successes map[string]int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	s := map[string]int{}
	for k, v := range rc.successes {
		s[k] = v
	}
	return rc.calls, s
}

func status(code int) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code) }
}

func tooMany(retryAfter string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", retryAfter)
		w.WriteHeader(http.StatusTooManyRequests)
	}
}

// hang answers nothing until the client gives up (its timeout closes the connection).
func hang(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }

func openStore(t *testing.T, path string) *bolt.Store {
	t.Helper()
	st, err := bolt.Open(path, bolt.Options{NoSync: true})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	return st
}

func newStore(t *testing.T) (*bolt.Store, string) {
	path := filepath.Join(t.TempDir(), "hush.db")
	st := openStore(t, path)
	t.Cleanup(func() { st.Close() })
	return st, path
}

// queue puts n alert messages for alert into st, created at created.
func queue(t *testing.T, st gateway.Store, alert string, n int, created time.Time) []string {
	t.Helper()
	var ids []string
	err := st.Update(context.Background(), func(tx gateway.Tx) error {
		ids = ids[:0]
		for i := range n {
			id := fmt.Sprintf("out_%s_%03d", alert, i)
			ids = append(ids, id)
			payload := fmt.Sprintf(`{"rule":"low-csat","customer_id":"cus_1","event_id":"typeform:r%d","event_type":"survey.response"}`, i)
			m := &gateway.OutboxMessage{ID: id, Kind: "alert", Target: alert, CustomerID: "cus_1",
				Rule: "low-csat", EventID: fmt.Sprintf("typeform:r%d", i), Payload: json.RawMessage(payload),
				CreatedAt: created.Add(time.Duration(i) * time.Millisecond), NextAttempt: created}
			if err := tx.PutOutbox(m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("queue: %v", err)
	}
	return ids
}

func message(t *testing.T, st gateway.Store, id string) *gateway.OutboxMessage {
	t.Helper()
	var m *gateway.OutboxMessage
	err := st.View(context.Background(), func(tx gateway.Tx) error {
		var err error
		m, err = tx.OutboxMessage(id)
		return err
	})
	if err != nil {
		t.Fatalf("read %s: %v", id, err)
	}
	return m
}

type setup struct {
	clock  *clock
	sender *jsonSender
	rc     *receiver
}

func newWorker(t *testing.T, st gateway.Store, s *setup, tweak func(*Config)) *Worker {
	t.Helper()
	cfg := Config{
		Store:      st,
		Senders:    map[string]gateway.AlertSender{"retention": s.sender},
		Now:        s.clock.Now,
		RetryMax:   -1, // the persisted schedule does the retrying, pass by pass
		HTTPClient: &http.Client{Timeout: 100 * time.Millisecond},
	}
	if tweak != nil {
		tweak(&cfg)
	}
	w, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return w
}

func newSetup(t *testing.T, plan ...func(http.ResponseWriter, *http.Request)) *setup {
	rc := newReceiver(t, plan...)
	return &setup{clock: &clock{t: t0}, sender: &jsonSender{url: rc.srv.URL}, rc: rc}
}

// drain runs passes, advancing the clock past any backoff between them, until no message
// is pending or the pass budget is spent.
func drain(t *testing.T, w *Worker, c *clock, passes int) (delivered, failed, dead int) {
	t.Helper()
	for range passes {
		d, f, x, err := w.DeliverDue(context.Background())
		if err != nil {
			t.Fatalf("DeliverDue: %v", err)
		}
		delivered, failed, dead = delivered+d, failed+f, dead+x
		if f == 0 && d == 0 && x == 0 {
			return
		}
		c.Advance(time.Hour + time.Second) // past the longest wait: 10 min backoff, 1 h Retry-After
	}
	return
}

func TestTransientFailuresDeliverExactlyOnce(t *testing.T) {
	cases := []struct {
		name       string
		plan       []func(http.ResponseWriter, *http.Request)
		wantFailed int
		lastError  string
	}{
		{"500 three times", []func(http.ResponseWriter, *http.Request){status(500), status(500), status(500)}, 3, "destination answered 500"},
		{"503 then 502", []func(http.ResponseWriter, *http.Request){status(503), status(502)}, 2, "destination answered 502"},
		{"429 with Retry-After", []func(http.ResponseWriter, *http.Request){tooMany("120")}, 1, "destination answered 429"},
		{"timeout", []func(http.ResponseWriter, *http.Request){hang}, 1, "timeout"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, _ := newStore(t)
			s := newSetup(t, tc.plan...)
			w := newWorker(t, st, s, nil)
			ids := queue(t, st, "retention", 1, t0)

			d, f, x := drain(t, w, s.clock, 10)
			if d != 1 || f != tc.wantFailed || x != 0 {
				t.Fatalf("delivered, failed, dead = %d, %d, %d; want 1, %d, 0", d, f, x, tc.wantFailed)
			}
			calls, ok := s.rc.stats()
			if calls != tc.wantFailed+1 || len(ok) != 1 || ok[ids[0]] != 1 {
				t.Fatalf("destination saw %d calls, successes %v; want %d calls and one success for %s", calls, ok, tc.wantFailed+1, ids[0])
			}
			m := message(t, st, ids[0])
			if m.State() != gateway.OutboxDelivered || m.Attempts != tc.wantFailed+1 || m.LastError != "" {
				t.Fatalf("stored: state %s attempts %d last error %q", m.State(), m.Attempts, m.LastError)
			}
		})
	}
}

func TestFailureIsScheduled(t *testing.T) {
	cases := []struct {
		name      string
		step      func(http.ResponseWriter, *http.Request)
		attempts  int // before this failure
		lastError string
		min, max  time.Duration // NextAttempt - now
	}{
		{"first 500: up to 1s", status(500), 0, "destination answered 500", 0, time.Second},
		{"fourth 500: up to 8s", status(500), 3, "destination answered 500", 0, 8 * time.Second},
		{"capped at 10 min", status(500), 15, "destination answered 500", 0, 10 * time.Minute},
		{"Retry-After seconds", tooMany("120"), 0, "destination answered 429", 120 * time.Second, 120 * time.Second},
		{"Retry-After capped at 1h", tooMany("86400"), 0, "destination answered 429", time.Hour, time.Hour},
		{"Retry-After date", tooMany(t0.Add(90 * time.Second).Format(http.TimeFormat)), 0, "destination answered 429", 90 * time.Second, 90 * time.Second},
		{"timeout", hang, 0, "timeout", 0, time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, _ := newStore(t)
			s := newSetup(t)
			s.rc.always = tc.step
			w := newWorker(t, st, s, nil)
			ids := queue(t, st, "retention", 1, t0)
			if tc.attempts > 0 {
				if err := st.Update(context.Background(), func(tx gateway.Tx) error {
					m, err := tx.OutboxMessage(ids[0])
					if err != nil {
						return err
					}
					m.Attempts = tc.attempts
					return tx.PutOutbox(m)
				}); err != nil {
					t.Fatal(err)
				}
			}
			d, f, x, err := w.DeliverDue(context.Background())
			if err != nil || d != 0 || f != 1 || x != 0 {
				t.Fatalf("DeliverDue = %d, %d, %d, %v; want one failure", d, f, x, err)
			}
			m := message(t, st, ids[0])
			wait := m.NextAttempt.Sub(t0)
			if m.State() != gateway.OutboxPending || m.Attempts != tc.attempts+1 || m.LastError != tc.lastError || wait < tc.min || wait > tc.max {
				t.Fatalf("stored: state %s attempts %d last error %q wait %v; want pending, %d, %q, wait in [%v, %v]",
					m.State(), m.Attempts, m.LastError, wait, tc.attempts+1, tc.lastError, tc.min, tc.max)
			}
			if strings.Contains(m.LastError, "127.0.0.1") || strings.Contains(m.LastError, "http") {
				t.Fatalf("last error names the destination: %q", m.LastError)
			}
			// Not due before its time: a pass now leaves it alone.
			if wait > 0 {
				s.clock.Advance(wait - time.Nanosecond)
				if d, f, x, _ := w.DeliverDue(context.Background()); d+f+x != 0 {
					t.Fatalf("tried before NextAttempt: %d, %d, %d", d, f, x)
				}
			}
		})
	}
}

func TestInProcessRetries(t *testing.T) {
	st, _ := newStore(t)
	s := newSetup(t, status(500), status(502))
	w := newWorker(t, st, s, func(c *Config) {
		c.RetryMax, c.RetryWaitMin, c.RetryWaitMax = 2, time.Millisecond, 2*time.Millisecond
	})
	ids := queue(t, st, "retention", 1, t0)
	d, f, x, err := w.DeliverDue(context.Background())
	if err != nil || d != 1 || f != 0 || x != 0 {
		t.Fatalf("DeliverDue = %d, %d, %d, %v; want delivered in one pass", d, f, x, err)
	}
	calls, ok := s.rc.stats()
	if calls != 3 || ok[ids[0]] != 1 {
		t.Fatalf("calls %d successes %v", calls, ok)
	}
	if m := message(t, st, ids[0]); m.Attempts != 1 {
		t.Fatalf("attempts %d; in-process retries are one attempt", m.Attempts)
	}
}

func TestLongRetryAfterIsNotWaitedInProcess(t *testing.T) {
	st, _ := newStore(t)
	s := newSetup(t)
	s.rc.always = tooMany("300")
	w := newWorker(t, st, s, func(c *Config) {
		c.RetryMax, c.RetryWaitMin, c.RetryWaitMax = 2, time.Millisecond, 2*time.Millisecond
	})
	ids := queue(t, st, "retention", 1, t0)
	if _, f, _, err := w.DeliverDue(context.Background()); err != nil || f != 1 {
		t.Fatalf("DeliverDue: failed %d, %v", f, err)
	}
	if calls, _ := s.rc.stats(); calls != 1 {
		t.Fatalf("%d calls; a 5-minute Retry-After must go to the persisted schedule", calls)
	}
	if m := message(t, st, ids[0]); m.NextAttempt.Sub(t0) != 300*time.Second {
		t.Fatalf("next attempt in %v", m.NextAttempt.Sub(t0))
	}
}

func TestPermanentFailuresDie(t *testing.T) {
	cases := []struct {
		name   string
		alert  string
		age    time.Duration
		step   func(http.ResponseWriter, *http.Request)
		calls  int
		reason string
	}{
		{"400", "retention", 0, status(400), 1, "destination answered 400"},
		{"404", "retention", 0, status(404), 1, "destination answered 404"},
		{"too old", "retention", 24*time.Hour + time.Second, nil, 0, "gave up after 24h"},
		{"unknown alert", "nobody", 0, nil, 0, `no alert named "nobody" is configured`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, _ := newStore(t)
			s := newSetup(t)
			s.rc.always = tc.step
			// In-process retries on: a 4xx must not use them either.
			w := newWorker(t, st, s, func(c *Config) { c.RetryMax, c.RetryWaitMin = 2, time.Millisecond })
			ids := queue(t, st, tc.alert, 1, t0.Add(-tc.age))

			d, f, x := drain(t, w, s.clock, 5)
			if d != 0 || f != 0 || x != 1 {
				t.Fatalf("delivered, failed, dead = %d, %d, %d; want 0, 0, 1", d, f, x)
			}
			if calls, _ := s.rc.stats(); calls != tc.calls {
				t.Fatalf("destination saw %d calls; want %d", calls, tc.calls)
			}
			m := message(t, st, ids[0])
			if m.State() != gateway.OutboxDead || m.DeadReason != tc.reason || m.DeadAt == nil || !m.DeadAt.Equal(t0) {
				t.Fatalf("stored: state %s reason %q dead at %v", m.State(), m.DeadReason, m.DeadAt)
			}
		})
	}
}

type failingSender struct{}

func (failingSender) Request(context.Context, *gateway.AlertMessage) (*http.Request, error) {
	return nil, errors.New("zendesk: group_id missing")
}

func TestSenderErrorDies(t *testing.T) {
	st, _ := newStore(t)
	s := newSetup(t)
	w := newWorker(t, st, s, func(c *Config) { c.Senders["broken"] = failingSender{} })
	ids := queue(t, st, "broken", 1, t0)
	if _, _, x, err := w.DeliverDue(context.Background()); err != nil || x != 1 {
		t.Fatalf("dead %d, %v", x, err)
	}
	if m := message(t, st, ids[0]); !strings.Contains(m.DeadReason, "group_id missing") {
		t.Fatalf("reason %q", m.DeadReason)
	}
}

func TestRateLimitPerAlert(t *testing.T) {
	st, _ := newStore(t)
	s := newSetup(t)
	other := newReceiver(t)
	w := newWorker(t, st, s, func(c *Config) {
		c.Rate, c.Burst = 1, 3
		c.Senders["ops"] = &jsonSender{url: other.srv.URL}
	})
	queue(t, st, "retention", 5, t0)
	queue(t, st, "ops", 2, t0)

	d, f, x, err := w.DeliverDue(context.Background())
	if err != nil || d != 5 || f != 0 || x != 0 {
		t.Fatalf("first pass = %d, %d, %d, %v; want 3 retention + 2 ops delivered", d, f, x, err)
	}
	if calls, _ := s.rc.stats(); calls != 3 {
		t.Fatalf("retention got %d calls over a burst of 3", calls)
	}
	// The two held back are untouched: not attempts, not failures.
	m := message(t, st, "out_retention_004")
	if m.State() != gateway.OutboxPending || m.Attempts != 0 || m.LastError != "" {
		t.Fatalf("held-back message: %+v", m)
	}
	if d, _, _, _ := w.DeliverDue(context.Background()); d != 0 {
		t.Fatalf("delivered %d with an empty bucket", d)
	}
	s.clock.Advance(time.Second)
	if d, _, _, _ := w.DeliverDue(context.Background()); d != 1 {
		t.Fatalf("delivered %d after one second at 1/s; want 1", d)
	}
	s.clock.Advance(time.Second)
	if d, _, _, _ := w.DeliverDue(context.Background()); d != 1 {
		t.Fatalf("delivered %d; want the last one", d)
	}
	if _, ok := s.rc.stats(); len(ok) != 5 {
		t.Fatalf("successes %v; want all 5 once", ok)
	}
}

func TestRestartLosesNothingAndDuplicatesNothing(t *testing.T) {
	st, path := newStore(t)
	s := newSetup(t, status(500), tooMany("30"), status(503))
	w := newWorker(t, st, s, nil)
	ids := queue(t, st, "retention", 6, t0)

	// First process: one pass. The destination fails the first call; the alert's other
	// messages wait for the next pass.
	if d, f, _, err := w.DeliverDue(context.Background()); err != nil || d != 0 || f != 1 {
		t.Fatalf("first pass = %d delivered, %d failed, %v", d, f, err)
	}
	s.clock.Advance(time.Hour)
	if d, f, _, err := w.DeliverDue(context.Background()); err != nil || d != 0 || f != 1 {
		t.Fatalf("second pass = %d delivered, %d failed, %v", d, f, err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	// Second process on the same file.
	st2 := openStore(t, path)
	t.Cleanup(func() { st2.Close() })
	s.clock.Advance(time.Hour)
	w2 := newWorker(t, st2, s, nil)
	d, f, x := drain(t, w2, s.clock, 10)
	if d != 6 || f != 1 || x != 0 {
		t.Fatalf("after restart: delivered, failed, dead = %d, %d, %d; want 6, 1, 0", d, f, x)
	}
	_, ok := s.rc.stats()
	for _, id := range ids {
		if ok[id] != 1 {
			t.Fatalf("%s succeeded %d times (all: %v)", id, ok[id], ok)
		}
		if m := message(t, st2, id); m.State() != gateway.OutboxDelivered {
			t.Fatalf("%s is %s", id, m.State())
		}
	}
}

// commitFails fails the first Update after a successful send, as a crash between the 2xx
// and the commit would.
type commitFails struct {
	gateway.Store
	once sync.Once
}

func (c *commitFails) Update(ctx context.Context, fn func(gateway.Tx) error) error {
	failed := false
	c.once.Do(func() { failed = true })
	if failed {
		return errors.New("disk gone")
	}
	return c.Store.Update(ctx, fn)
}

func TestLostCommitResendsWithSameKey(t *testing.T) {
	st, _ := newStore(t)
	s := newSetup(t)
	w := newWorker(t, &commitFails{Store: st}, s, nil)
	ids := queue(t, st, "retention", 1, t0)

	if _, _, _, err := w.DeliverDue(context.Background()); err == nil {
		t.Fatal("DeliverDue hid the failed commit")
	}
	if m := message(t, st, ids[0]); m.State() != gateway.OutboxPending {
		t.Fatalf("state %s after a lost commit", m.State())
	}
	if d, _, _, err := w.DeliverDue(context.Background()); err != nil || d != 1 {
		t.Fatalf("second pass delivered %d, %v", d, err)
	}
	// At least once: the destination saw the same idempotency key twice, so it can drop
	// the second.
	s.rc.mu.Lock()
	defer s.rc.mu.Unlock()
	if s.rc.calls != 2 || s.rc.perKey[ids[0]] != 2 {
		t.Fatalf("calls %d per key %v", s.rc.calls, s.rc.perKey)
	}
}

func TestResolve(t *testing.T) {
	st, _ := newStore(t)
	s := newSetup(t)
	w := newWorker(t, st, s, func(c *Config) { c.PublicURL, c.Language = "https://hush.example.com/", "en" })
	end := t0.Add(15 * 24 * time.Hour)
	err := st.Update(context.Background(), func(tx gateway.Tx) error {
		id, err := gateway.NormalizeEmail("Ana@Example.com")
		if err != nil {
			return err
		}
		if err := tx.PutCustomer(&gateway.Customer{ID: "cus_1", Identities: []gateway.Identity{id}, CreatedAt: t0, UpdatedAt: t0}); err != nil {
			return err
		}
		for i, text := range []string{"fine", "awful", "meh"} {
			ev := &gateway.Event{ID: fmt.Sprintf("r%d", i), Source: "typeform", Type: gateway.EventSurveyResponse,
				At: t0.Add(time.Duration(i) * time.Minute), CustomerID: "cus_1", Text: text}
			if err := tx.PutEvent(ev); err != nil {
				return err
			}
		}
		if err := tx.PutSilence(&gateway.Silence{ID: "sil_1", CustomerID: "cus_1", Rule: "low-csat", Start: t0, End: &end,
			Categories: []gateway.Category{gateway.CategoryMarketing}, CreatedAt: t0, UpdatedAt: t0}); err != nil {
			return err
		}
		return tx.PutOutbox(&gateway.OutboxMessage{ID: "out_1", Kind: "alert", Target: "retention", CustomerID: "cus_1",
			Rule: "low-csat", EventID: "typeform:r1", CreatedAt: t0, NextAttempt: t0,
			Payload: json.RawMessage(`{"rule":"low-csat","customer_id":"cus_1","event_id":"typeform:r1","silence_id":"sil_1"}`)})
	})
	if err != nil {
		t.Fatal(err)
	}
	if d, _, _, err := w.DeliverDue(context.Background()); err != nil || d != 1 {
		t.Fatalf("delivered %d, %v", d, err)
	}
	m := s.sender.last
	if m.Customer == nil || m.Customer.ID != "cus_1" || m.Silence == nil || m.Silence.ID != "sil_1" ||
		m.Event == nil || m.Event.Text != "awful" || m.Language != "en" ||
		m.ConsoleURL != "https://hush.example.com/console/customers/email:ana@example.com" {
		t.Fatalf("resolved: customer %v silence %v event %v language %q url %q", m.Customer, m.Silence, m.Event, m.Language, m.ConsoleURL)
	}
}

func TestResolveToleratesMissingRecords(t *testing.T) {
	st, _ := newStore(t)
	s := newSetup(t)
	w := newWorker(t, st, s, func(c *Config) { c.PublicURL = "https://hush.example.com" })
	queue(t, st, "retention", 1, t0) // customer cus_1, its event and no silence were never stored
	if d, _, _, err := w.DeliverDue(context.Background()); err != nil || d != 1 {
		t.Fatalf("delivered %d, %v", d, err)
	}
	m := s.sender.last
	if m.Customer != nil || m.Event != nil || m.Silence != nil || m.Language != "es" ||
		m.ConsoleURL != "https://hush.example.com/console/customers/cus_1" {
		t.Fatalf("resolved: %+v", m)
	}
}

func TestRunDeliversOnWake(t *testing.T) {
	st, _ := newStore(t)
	s := newSetup(t)
	done := make(chan struct{})
	s.rc.always = func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		close(done)
	}
	w := newWorker(t, st, s, func(c *Config) { c.PollInterval = time.Hour })
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error)
	go func() { ran <- w.Run(ctx) }()

	queue(t, st, "retention", 1, t0)
	w.Wake()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Wake did not start a pass")
	}
	cancel()
	if err := <-ran; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v", err)
	}
}

func TestShortDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{24 * time.Hour: "24h", 90 * time.Minute: "1h30m", 30 * time.Second: "30s", 2 * time.Minute: "2m"} {
		if got := shortDuration(d); got != want {
			t.Errorf("shortDuration(%v) = %q; want %q", d, got, want)
		}
	}
}

// An operator's retry (admin API: DeadAt cleared, NextAttempt = now) of a message past
// MaxAge gets one attempt; a failure then is final.
func TestOperatorRetryOfExpiredMessage(t *testing.T) {
	for _, tc := range []struct {
		name      string
		step      func(http.ResponseWriter, *http.Request)
		state     string
		lastError string
	}{
		{"succeeds", nil, gateway.OutboxDelivered, ""},
		{"fails again", status(500), gateway.OutboxDead, "destination answered 500"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, _ := newStore(t)
			s := newSetup(t)
			s.rc.always = tc.step
			w := newWorker(t, st, s, nil)
			ids := queue(t, st, "retention", 1, t0.Add(-48*time.Hour))
			if _, _, x, err := w.DeliverDue(context.Background()); err != nil || x != 1 {
				t.Fatalf("expired message: dead %d, %v", x, err)
			}
			if err := st.Update(context.Background(), func(tx gateway.Tx) error {
				m, err := tx.OutboxMessage(ids[0])
				if err != nil {
					return err
				}
				m.DeadAt, m.DeadReason, m.NextAttempt = nil, "", t0 // what POST /outbox/{id}/retry does
				return tx.PutOutbox(m)
			}); err != nil {
				t.Fatal(err)
			}
			drain(t, w, s.clock, 5)
			m := message(t, st, ids[0])
			if calls, _ := s.rc.stats(); calls != 1 || m.State() != tc.state || m.Attempts != 1 || m.LastError != tc.lastError {
				t.Fatalf("after retry: %d calls, state %s attempts %d last error %q", calls, m.State(), m.Attempts, m.LastError)
			}
			if tc.state == gateway.OutboxDead && m.DeadReason != "gave up after 24h" {
				t.Fatalf("reason %q", m.DeadReason)
			}
		})
	}
}

// The worker's own backoff may land past MaxAge: that attempt is made, and its failure is
// final.
func TestLastBackoffPastMaxAge(t *testing.T) {
	st, _ := newStore(t)
	s := newSetup(t)
	s.rc.always = tooMany("3600")
	w := newWorker(t, st, s, nil)
	ids := queue(t, st, "retention", 1, t0.Add(-23*time.Hour-30*time.Minute))
	if _, f, _, _ := w.DeliverDue(context.Background()); f != 1 {
		t.Fatalf("failed %d; want a rescheduled failure", f)
	}
	s.clock.Advance(time.Hour)
	if _, _, x, _ := w.DeliverDue(context.Background()); x != 1 {
		t.Fatalf("dead %d; want the attempt past MaxAge to be final", x)
	}
	if calls, _ := s.rc.stats(); calls != 2 {
		t.Fatalf("%d calls; the attempt scheduled past MaxAge must be made", calls)
	}
	if m := message(t, st, ids[0]); m.DeadReason != "gave up after 24h" || m.Attempts != 2 {
		t.Fatalf("stored: %+v", m)
	}
}

// A record-only alert (kind log, a nil sender) is marked delivered without any request.
func TestRecordOnlyAlert(t *testing.T) {
	st, _ := newStore(t)
	s := newSetup(t)
	w := newWorker(t, st, s, func(c *Config) { c.Senders["audit"] = nil })
	ids := queue(t, st, "audit", 1, t0)
	if d, f, dead, err := w.DeliverDue(context.Background()); err != nil || d != 1 || f != 0 || dead != 0 {
		t.Fatalf("DeliverDue = %d delivered, %d failed, %d dead, %v", d, f, dead, err)
	}
	if got := message(t, st, ids[0]); got.DeliveredAt == nil || got.DeadAt != nil {
		t.Errorf("record-only alert: %+v", got)
	}
	if n, _ := s.rc.stats(); n != 0 {
		t.Errorf("%d requests for a record-only alert", n)
	}
}
