package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// seedOutbox stores one message in each state: out_p1 and out_p2 pending, out_d delivered,
// out_x dead; created in that order, a minute apart.
func (h *harness) seedOutbox() map[string]gateway.OutboxMessage {
	h.t.Helper()
	at := func(min int) time.Time { return testStart.Add(-time.Hour + time.Duration(min)*time.Minute) }
	msg := func(id string, min int) gateway.OutboxMessage {
		return gateway.OutboxMessage{ID: id, Kind: "alert", Target: "retention", CustomerID: "cus_1", Rule: "low-csat",
			EventID: "tool:e1", Payload: json.RawMessage(`{"silence_id":"sil_1"}`), CreatedAt: at(min), NextAttempt: at(min)}
	}
	p1, p2, d, x := msg("out_p1", 0), msg("out_p2", 1), msg("out_d", 2), msg("out_x", 3)
	p2.Attempts, p2.LastError, p2.NextAttempt = 2, "503 Service Unavailable", at(30)
	d.Attempts, d.DeliveredAt = 1, ptrTime(at(3))
	x.Attempts, x.LastError, x.DeadAt, x.DeadReason = 3, "400 Bad Request", ptrTime(at(10)), "destination answered 400: not retried"
	all := map[string]gateway.OutboxMessage{}
	err := h.store.Update(context.Background(), func(tx gateway.Tx) error {
		for _, m := range []gateway.OutboxMessage{p1, p2, d, x} {
			m := m
			if err := tx.PutOutbox(&m); err != nil {
				return err
			}
			all[m.ID] = m
		}
		return nil
	})
	if err != nil {
		h.t.Fatalf("seeding the outbox: %v", err)
	}
	return all
}

func ptrTime(t time.Time) *time.Time { return &t }

func (h *harness) outboxMessage(id string) gateway.OutboxMessage {
	h.t.Helper()
	var m *gateway.OutboxMessage
	err := h.store.View(context.Background(), func(tx gateway.Tx) error {
		var err error
		m, err = tx.OutboxMessage(id)
		return err
	})
	if err != nil {
		h.t.Fatalf("reading outbox message %s: %v", id, err)
	}
	return *m
}

type outboxPage struct {
	Items      []gateway.OutboxMessage `json:"items"`
	NextCursor string                  `json:"next_cursor"`
}

func outboxIDs(items []gateway.OutboxMessage) []string {
	out := []string{}
	for _, m := range items {
		out = append(out, m.ID)
	}
	return out
}

func TestOutboxList(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.seedOutbox()
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"", []string{"out_p1", "out_p2", "out_d", "out_x"}},
		{"?state=pending", []string{"out_p1", "out_p2"}},
		{"?state=delivered", []string{"out_d"}},
		{"?state=dead", []string{"out_x"}},
	} {
		res := h.do(http.MethodGet, "/api/v1/outbox"+c.query, viewerToken, nil)
		if res.status != http.StatusOK {
			t.Fatalf("GET outbox%s: %d %s", c.query, res.status, res.body)
		}
		var page outboxPage
		res.json(t, &page)
		if got := outboxIDs(page.Items); !reflect.DeepEqual(got, c.want) {
			t.Errorf("GET outbox%s: %v, want %v", c.query, got, c.want)
		}
	}

	// Page by page, every message once and in order.
	var walked []string
	cursor := ""
	for i := 0; i < 10; i++ {
		res := h.do(http.MethodGet, "/api/v1/outbox?limit=1&cursor="+cursor, viewerToken, nil)
		if res.status != http.StatusOK {
			t.Fatalf("GET outbox page %d: %d %s", i, res.status, res.body)
		}
		var page outboxPage
		res.json(t, &page)
		walked = append(walked, outboxIDs(page.Items)...)
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if want := []string{"out_p1", "out_p2", "out_d", "out_x"}; !reflect.DeepEqual(walked, want) {
		t.Errorf("paged outbox: %v, want %v", walked, want)
	}

	for _, c := range []struct {
		name, path, token string
		status            int
		code              string
	}{
		{"unknown state", "/api/v1/outbox?state=stuck", viewerToken, http.StatusBadRequest, "invalid"},
		{"bad limit", "/api/v1/outbox?limit=0", viewerToken, http.StatusBadRequest, "invalid"},
		{"bad cursor", "/api/v1/outbox?cursor=%21%21%21", viewerToken, http.StatusBadRequest, "invalid"},
		{"no token", "/api/v1/outbox", "", http.StatusUnauthorized, "unauthorized"},
		{"decide role", "/api/v1/outbox", decideToken, http.StatusForbidden, "forbidden"},
	} {
		res := h.do(http.MethodGet, c.path, c.token, nil)
		if res.status != c.status || res.errorCode(t) != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.name, res.status, res.body, c.status, c.code)
		}
	}
}

func TestOutboxGet(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	seeded := h.seedOutbox()
	res := h.do(http.MethodGet, "/api/v1/outbox/out_x", viewerToken, nil)
	if res.status != http.StatusOK {
		t.Fatalf("GET outbox/out_x: %d %s", res.status, res.body)
	}
	var got gateway.OutboxMessage
	res.json(t, &got)
	want := seeded["out_x"]
	if got.ID != want.ID || got.DeadAt == nil || !got.DeadAt.Equal(*want.DeadAt) || got.DeadReason != want.DeadReason ||
		got.Attempts != want.Attempts || string(got.Payload) != string(want.Payload) {
		t.Errorf("GET outbox/out_x: %+v, want %+v", got, want)
	}
	// The wire names the agreed fields.
	var raw map[string]any
	res.json(t, &raw)
	for _, k := range []string{"dead_at", "dead_reason", "payload", "attempts", "next_attempt"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("GET outbox/out_x: no %q in %s", k, res.body)
		}
	}

	res = h.do(http.MethodGet, "/api/v1/outbox/out_missing", viewerToken, nil)
	if res.status != http.StatusNotFound || res.errorCode(t) != "not_found" {
		t.Errorf("GET a missing outbox message: %d %s", res.status, res.body)
	}
	res = h.do(http.MethodGet, "/api/v1/outbox/out_x", decideToken, nil)
	if res.status != http.StatusForbidden {
		t.Errorf("GET outbox/out_x with the decide role: %d %s", res.status, res.body)
	}
}

func TestOutboxRetry(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	seeded := h.seedOutbox()
	now := testStart.Add(5 * time.Minute)
	h.clock.Set(now)

	// A dead message comes back to life, due now, with its history kept.
	res := h.do(http.MethodPost, "/api/v1/outbox/out_x/retry", adminToken, nil)
	if res.status != http.StatusOK {
		t.Fatalf("retry out_x: %d %s", res.status, res.body)
	}
	var answered gateway.OutboxMessage
	res.json(t, &answered)
	stored := h.outboxMessage("out_x")
	if stored.DeadAt != nil || stored.DeadReason != "" || !stored.NextAttempt.Equal(now) ||
		stored.Attempts != seeded["out_x"].Attempts || stored.LastError != seeded["out_x"].LastError {
		t.Errorf("out_x after retry: %+v", stored)
	}
	if answered.DeadAt != nil || !answered.NextAttempt.Equal(now) {
		t.Errorf("retry answer: %+v, want the message as stored", answered)
	}
	var page outboxPage
	h.do(http.MethodGet, "/api/v1/outbox?state=pending", viewerToken, nil).json(t, &page)
	if got, want := outboxIDs(page.Items), []string{"out_p1", "out_p2", "out_x"}; !reflect.DeepEqual(got, want) {
		t.Errorf("pending after the retry: %v, want %v", got, want)
	}
	var due []gateway.OutboxMessage
	if err := h.store.View(context.Background(), func(tx gateway.Tx) error {
		var err error
		due, _, err = tx.Outbox(gateway.OutboxQuery{PendingOnly: true, DueBy: now})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got, want := outboxIDs(due), []string{"out_p1", "out_p2", "out_x"}; !reflect.DeepEqual(got, want) {
		t.Errorf("due for the worker after the retry: %v, want %v", got, want)
	}

	// A pending message waiting for its backoff is made due now.
	res = h.do(http.MethodPost, "/api/v1/outbox/out_p2/retry", adminToken, nil)
	if res.status != http.StatusOK {
		t.Fatalf("retry out_p2: %d %s", res.status, res.body)
	}
	if got := h.outboxMessage("out_p2"); !got.NextAttempt.Equal(now) || got.Attempts != 2 {
		t.Errorf("out_p2 after retry: next %v attempts %d, want %v and 2", got.NextAttempt, got.Attempts, now)
	}

	// Refusals change nothing.
	for _, c := range []struct {
		name, id, token string
		status          int
		code            string
	}{
		{"delivered", "out_d", adminToken, http.StatusConflict, "conflict"},
		{"missing", "out_missing", adminToken, http.StatusNotFound, "not_found"},
		{"viewer", "out_p1", viewerToken, http.StatusForbidden, "forbidden"},
		{"no token", "out_p1", "", http.StatusUnauthorized, "unauthorized"},
	} {
		res := h.do(http.MethodPost, "/api/v1/outbox/"+c.id+"/retry", c.token, nil)
		if res.status != c.status || res.errorCode(t) != c.code {
			t.Errorf("retry %s: %d %s, want %d %s", c.name, res.status, res.body, c.status, c.code)
		}
	}
	if got, want := h.outboxMessage("out_d"), seeded["out_d"]; !got.NextAttempt.Equal(want.NextAttempt) || got.DeliveredAt == nil {
		t.Errorf("out_d after a refused retry: %+v", got)
	}
	if got, want := h.outboxMessage("out_p1"), seeded["out_p1"]; !got.NextAttempt.Equal(want.NextAttempt) {
		t.Errorf("out_p1 after refused retries: next %v, want %v", got.NextAttempt, want.NextAttempt)
	}
}
