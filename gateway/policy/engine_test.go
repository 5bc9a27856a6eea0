package policy

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/storage/bolt"
)

// engineStart is the test clock's start: a whole second, so cap windows round exactly.
var engineStart = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// harness is an engine on a real bbolt file with an injected clock.
type harness struct {
	t     *testing.T
	path  string
	cfg   Config
	clock *testClock
	store *bolt.Store
	e     *Engine
}

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	h := &harness{t: t, path: filepath.Join(t.TempDir(), "hush.db"), cfg: cfg, clock: &testClock{t: engineStart}}
	h.cfg.Now = h.clock.Now
	if h.cfg.ScratchStore == nil {
		h.cfg.ScratchStore = scratchBolt
	}
	h.open()
	t.Cleanup(func() { _ = h.store.Close() })
	return h
}

func (h *harness) open() {
	h.t.Helper()
	s, err := bolt.Open(h.path, bolt.Options{NoSync: true})
	if err != nil {
		h.t.Fatalf("opening store: %v", err)
	}
	h.store = s
	if h.e, err = New(context.Background(), s, h.cfg); err != nil {
		h.t.Fatalf("New: %v", err)
	}
}

// restart closes the store and builds a new engine on the same file, as a process restart does.
func (h *harness) restart() {
	h.t.Helper()
	if err := h.store.Close(); err != nil {
		h.t.Fatalf("closing store: %v", err)
	}
	h.open()
}

func (h *harness) ingest(events ...gateway.Event) gateway.IngestResult {
	h.t.Helper()
	res, err := h.e.Ingest(context.Background(), events, 0)
	if err != nil {
		h.t.Fatalf("Ingest: %v", err)
	}
	return res
}

func (h *harness) decideAt(at time.Time, ch gateway.Channel, cat gateway.Category, record bool, ids ...gateway.Identity) []gateway.Decision {
	h.t.Helper()
	ds, err := h.e.Decide(context.Background(), gateway.DecisionRequest{Channel: ch, Category: cat, Recipients: ids, Record: record, At: at})
	if err != nil {
		h.t.Fatalf("Decide: %v", err)
	}
	return ds
}

// decide1 asks, without recording, about one recipient now.
func (h *harness) decide1(ch gateway.Channel, cat gateway.Category, id gateway.Identity) gateway.Decision {
	h.t.Helper()
	return h.decideAt(time.Time{}, ch, cat, false, id)[0]
}

func (h *harness) view(fn func(tx gateway.Tx) error) {
	h.t.Helper()
	if err := h.store.View(context.Background(), fn); err != nil {
		h.t.Fatalf("View: %v", err)
	}
}

func (h *harness) customer(id gateway.Identity) *gateway.Customer {
	h.t.Helper()
	var c *gateway.Customer
	h.view(func(tx gateway.Tx) error {
		var err error
		c, err = tx.CustomerByIdentity(id)
		if errors.Is(err, gateway.ErrNotFound) {
			c, err = nil, nil
		}
		return err
	})
	return c
}

func (h *harness) silences(customerID string) []gateway.Silence {
	h.t.Helper()
	var out []gateway.Silence
	h.view(func(tx gateway.Tx) error {
		var err error
		out, _, err = tx.Silences(gateway.SilenceQuery{CustomerID: customerID, Page: gateway.Page{Limit: 1000}})
		return err
	})
	return out
}

// outboxOf is the outbox messages of one kind.
func (h *harness) outboxOf(kind string) []gateway.OutboxMessage {
	h.t.Helper()
	var out []gateway.OutboxMessage
	for _, m := range h.outbox() {
		if m.Kind == kind {
			out = append(out, m)
		}
	}
	return out
}

func (h *harness) outbox() []gateway.OutboxMessage {
	h.t.Helper()
	var out []gateway.OutboxMessage
	h.view(func(tx gateway.Tx) error {
		var err error
		out, _, err = tx.Outbox(gateway.OutboxQuery{Page: gateway.Page{Limit: 1000}})
		return err
	})
	return out
}

func (h *harness) decisions() []gateway.Decision {
	h.t.Helper()
	var out []gateway.Decision
	h.view(func(tx gateway.Tx) error {
		var err error
		out, err = allPages(func(p gateway.Page) ([]gateway.Decision, string, error) {
			return tx.Decisions(gateway.DecisionQuery{Page: p})
		})
		return err
	})
	return out
}

func mustRules(t *testing.T, specs ...gateway.RuleSpec) *RuleSet {
	t.Helper()
	rs, err := CompileRules(specs)
	if err != nil {
		t.Fatalf("CompileRules: %v", err)
	}
	return rs
}

func dayDur(n int) gateway.Duration { return gateway.Duration(time.Duration(n) * 24 * time.Hour) }

func fptr(v float64) *float64 { return &v }

// event builds a valid event about a customer named by email (and optionally phone).
func event(id, typ string, at time.Time, email string, mods ...func(*gateway.Event)) gateway.Event {
	ev := gateway.Event{ID: id, Source: "test", Type: typ, At: at, Customer: gateway.EventCustomer{Email: email}}
	for _, m := range mods {
		m(&ev)
	}
	return ev
}

func withTopic(topic string) func(*gateway.Event) {
	return func(e *gateway.Event) { e.Topic = topic }
}

func withCSAT(v float64) func(*gateway.Event) {
	return func(e *gateway.Event) { e.CSAT = fptr(v) }
}

func withChannel(ch gateway.Channel) func(*gateway.Event) {
	return func(e *gateway.Event) { e.Channel = ch }
}

func email(s string) gateway.Identity { return gateway.Identity("email:" + s) }

func phone(s string) gateway.Identity { return gateway.Identity("phone:" + s) }

func wantReason(t *testing.T, d gateway.Decision, reason string) {
	t.Helper()
	if reason == "" {
		if !d.Allowed || d.Reason != "" {
			t.Fatalf("decision for %s: allowed=%v reason=%q, want allowed", d.Recipient, d.Allowed, d.Reason)
		}
		return
	}
	if d.Allowed || d.Reason != reason {
		t.Fatalf("decision for %s: allowed=%v reason=%q, want dropped for %q", d.Recipient, d.Allowed, d.Reason, reason)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"cap without max", Config{Caps: []gateway.CapSpec{{Channel: "voice", Category: "sales", Per: dayDur(30)}}}},
		{"cap without window", Config{Caps: []gateway.CapSpec{{Channel: "voice", Category: "sales", Max: 3}}}},
		{"cap on unknown channel", Config{Caps: []gateway.CapSpec{{Channel: "fax", Category: "sales", Max: 3, Per: dayDur(30)}}}},
		{"cap on transactional", Config{Caps: []gateway.CapSpec{{Channel: "any", Category: "transactional", Max: 3, Per: dayDur(30)}}}},
		{"quiet hours bad time", Config{QuietHours: []gateway.QuietHoursSpec{{From: "9pm", To: "09:00"}}}},
		{"quiet hours empty window", Config{QuietHours: []gateway.QuietHoursSpec{{From: "09:00", To: "09:00"}}}},
		{"quiet hours bad action", Config{QuietHours: []gateway.QuietHoursSpec{{From: "21:00", To: "09:00", Action: "skip"}}}},
		{"unknown timezone", Config{Timezone: "Mars/Olympus"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := bolt.Open(filepath.Join(t.TempDir(), "hush.db"), bolt.Options{NoSync: true})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if _, err := New(context.Background(), s, tt.cfg); err == nil {
				t.Fatal("New accepted an invalid configuration")
			}
		})
	}
}

// scratchBolt opens a simulation's scratch store, as cmd/hush wires it.
func scratchBolt(dir string) (gateway.Store, error) {
	return bolt.Open(filepath.Join(dir, "simulate.db"), bolt.Options{NoSync: true, MaxBatchSize: 1})
}
