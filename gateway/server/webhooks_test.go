package server_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

func TestWebhookAcceptsAndDeduplicates(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	body := surveyEvent("d-1", "Ana@Example.com", 1)

	res := h.webhook("d-1", body, testStart, sourceKey)
	if res.status != http.StatusOK {
		t.Fatalf("first delivery: %d %s", res.status, res.body)
	}
	var got gateway.IngestResult
	res.json(t, &got)
	if got != (gateway.IngestResult{Accepted: 1}) {
		t.Errorf("first delivery: got %+v, want 1 accepted", got)
	}

	res = h.webhook("d-1", body, testStart, sourceKey)
	res.json(t, &got)
	if res.status != http.StatusOK || got != (gateway.IngestResult{Duplicates: 1}) {
		t.Errorf("redelivery: %d %+v, want 200 and 1 duplicate", res.status, got)
	}
	if n := len(h.customerEvents("email:ana@example.com")); n != 1 {
		t.Errorf("stored %d events, want 1", n)
	}
	// The rule's consequence was committed before the answer.
	if c := h.counts(); c.silences != 1 {
		t.Errorf("silences after a CSAT of 1: %d, want 1", c.silences)
	}
}

func TestWebhookRefusalsStoreNothing(t *testing.T) {
	big := bytes.Repeat([]byte(" "), 2048)
	good := surveyEvent("d-1", "ana@example.com", 1)
	tests := []struct {
		name   string
		send   func(h *harness) response
		status int
		code   string
	}{
		{"bad signature", func(h *harness) response {
			return h.webhook("d-1", good, testStart, "another-secret")
		}, http.StatusUnauthorized, "unauthorized"},
		{"stale timestamp", func(h *harness) response {
			return h.webhook("d-1", good, testStart.Add(-10*time.Minute), sourceKey)
		}, http.StatusUnauthorized, "unauthorized"},
		{"missing signature headers", func(h *harness) response {
			return h.do(http.MethodPost, "/webhooks/tool", "", good)
		}, http.StatusUnauthorized, "unauthorized"},
		{"body signed then altered", func(h *harness) response {
			req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/webhooks/tool", bytes.NewReader(surveyEvent("d-1", "eve@example.com", 1)))
			req.Header = signedHeaders("d-1", testStart, good)
			return h.send(req)
		}, http.StatusUnauthorized, "unauthorized"},
		{"oversized body", func(h *harness) response {
			return h.webhook("d-1", append(append([]byte(nil), good...), big...), testStart, sourceKey)
		}, http.StatusRequestEntityTooLarge, "too_large"},
		{"unknown source", func(h *harness) response {
			return h.do(http.MethodPost, "/webhooks/nope", "", good)
		}, http.StatusNotFound, "not_found"},
		{"wrong method", func(h *harness) response {
			return h.do(http.MethodGet, "/webhooks/tool", "", nil)
		}, http.StatusMethodNotAllowed, "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, harnessOptions{bodyLimit: 1024})
			res := tt.send(h)
			if res.status != tt.status {
				t.Fatalf("status %d, want %d: %s", res.status, tt.status, res.body)
			}
			if code := res.errorCode(t); code != tt.code {
				t.Errorf("code %q, want %q", code, tt.code)
			}
			if c := h.counts(); c != (counts{}) {
				t.Errorf("refused delivery stored %+v", c)
			}
		})
	}
}

func TestWebhookUnparseableGoesToDeadLetters(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	broken := []byte(`{"id":"d-9","type":"survey.response","customer":{"email":"ana@example.com"},"csat":"one"`)
	res := h.webhook("d-9", broken, testStart, sourceKey)
	if res.status != http.StatusBadRequest || res.errorCode(t) != "invalid" {
		t.Fatalf("unparseable delivery: %d %s, want 400 invalid", res.status, res.body)
	}
	if c := h.counts(); c != (counts{deadletters: 1}) {
		t.Fatalf("store holds %+v, want exactly one dead letter", c)
	}

	list := h.do(http.MethodGet, "/api/v1/deadletters", viewerToken, nil)
	var page struct {
		Items []gateway.DeadLetter `json:"items"`
	}
	list.json(t, &page)
	if list.status != http.StatusOK || len(page.Items) != 1 {
		t.Fatalf("dead letters: %d %s", list.status, list.body)
	}
	dl := page.Items[0]
	if dl.Source != "tool" || !bytes.Equal(dl.Body, broken) || dl.Error == "" || dl.Attempts != 0 {
		t.Errorf("dead letter = %+v", dl)
	}
	if dl.Header["Webhook-Id"] == nil {
		t.Errorf("dead letter lost the delivery headers: %v", dl.Header)
	}

	// Replaying what still cannot be parsed fails again and counts the attempt.
	res = h.do(http.MethodPost, "/api/v1/deadletters/"+dl.ID+"/replay", adminToken, nil)
	if res.status != http.StatusBadRequest || res.errorCode(t) != "invalid" {
		t.Fatalf("replay of broken payload: %d %s", res.status, res.body)
	}
	var again gateway.DeadLetter
	h.do(http.MethodGet, "/api/v1/deadletters/"+dl.ID, viewerToken, nil).json(t, &again)
	if again.Attempts != 1 || again.ReplayedAt != nil {
		t.Errorf("after a failed replay: attempts %d replayed_at %v", again.Attempts, again.ReplayedAt)
	}
	if n := len(h.customerEvents("email:ana@example.com")); n != 0 {
		t.Errorf("failed replay stored %d events", n)
	}
}

func TestDeadLetterReplayIngests(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	// A delivery kept before the operator fixed what made it fail; its signature is long
	// stale, and replay does not verify again.
	dl := &gateway.DeadLetter{
		ID:         gateway.NewID("dlq", testStart.Add(-time.Hour)),
		Source:     "tool",
		ReceivedAt: testStart.Add(-time.Hour),
		Error:      "old error",
		Header:     map[string][]string{"Webhook-Id": {"d-7"}, "Content-Type": {"application/json"}},
		Body:       surveyEvent("d-7", "ana@example.com", 2),
	}
	if err := h.store.Update(context.Background(), func(tx gateway.Tx) error { return tx.PutDeadLetter(dl) }); err != nil {
		t.Fatal(err)
	}
	res := h.do(http.MethodPost, "/api/v1/deadletters/"+dl.ID+"/replay", adminToken, nil)
	if res.status != http.StatusOK {
		t.Fatalf("replay: %d %s", res.status, res.body)
	}
	var got struct {
		Accepted   int                 `json:"accepted"`
		DeadLetter *gateway.DeadLetter `json:"deadletter"`
	}
	res.json(t, &got)
	if got.Accepted != 1 || got.DeadLetter == nil || got.DeadLetter.ReplayedAt == nil || got.DeadLetter.Attempts != 1 {
		t.Errorf("replay answer: %s", res.body)
	}
	events := h.customerEvents("email:ana@example.com")
	if len(events) != 1 || events[0].ID != "d-7" {
		t.Fatalf("events after replay: %+v", events)
	}
	// Replaying twice is harmless: the delivery is a duplicate.
	res = h.do(http.MethodPost, "/api/v1/deadletters/"+dl.ID+"/replay", adminToken, nil)
	if res.status != http.StatusOK || !strings.Contains(string(res.body), `"duplicates":1`) {
		t.Errorf("second replay: %d %s", res.status, res.body)
	}
	if res := h.do(http.MethodPost, "/api/v1/deadletters/nope/replay", adminToken, nil); res.status != http.StatusNotFound {
		t.Errorf("replay of unknown id: %d", res.status)
	}
}

// TestDeadLetterKeepsNoQueryString: a vendor that can only authenticate with a secret in the
// URL (Statuspage) must not see it stored with a dead letter, where the admin API would
// show it to every viewer.
func TestDeadLetterKeepsNoQueryString(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	broken := []byte(`{"id":"d-8","type":"survey.response"`)
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+"/webhooks/tool?secret=url-secret-0123", bytes.NewReader(broken))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = signedHeaders("d-8", testStart, broken)
	if res := h.send(req); res.status != http.StatusBadRequest {
		t.Fatalf("unparseable delivery: %d %s", res.status, res.body)
	}
	list := h.do(http.MethodGet, "/api/v1/deadletters", viewerToken, nil)
	if list.status != http.StatusOK || !bytes.Contains(list.body, []byte(`"source":"tool"`)) {
		t.Fatalf("dead letters: %d %s", list.status, list.body)
	}
	if bytes.Contains(list.body, []byte("url-secret-0123")) {
		t.Fatalf("the query-string secret was stored with the dead letter: %s", list.body)
	}
}
