package aircall_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hush-gateway/hush/connectors/aircall"
	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/policy"
	"github.com/hush-gateway/hush/gateway/server"
	"github.com/hush-gateway/hush/storage/bolt"
)

// The end-to-end test runs real Aircall deliveries through the real server, policy engine
// and bbolt store, wired as gateway/server's harness does.

const (
	e2eToken  = "58ffd2bc5f3113f7bebf210a49299a1b" // the captured deliveries' webhook token
	e2eAdmin  = "admin-token-0123456789"
	e2eCaller = "+44 330 818 6690" // raw_digits of the captured call
)

var e2eNow = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// repeatedContacts is the seed rule of DESIGN §6.
var repeatedContacts = gateway.RuleSpec{
	Name:    "repeated-contacts",
	When:    `contacts_about(event.topic, duration("24h")) >= 3`,
	Silence: &gateway.SilenceSpec{UntilResolved: true, Then: gateway.Duration(7 * 24 * time.Hour)},
}

type e2e struct {
	t     *testing.T
	store *bolt.Store
	srv   *httptest.Server
}

func newE2E(t *testing.T) *e2e {
	t.Helper()
	store, err := bolt.Open(filepath.Join(t.TempDir(), "hush.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	rules, err := policy.CompileRules([]gateway.RuleSpec{repeatedContacts})
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return e2eNow }
	engine, err := policy.New(context.Background(), store, policy.Config{Rules: rules, DefaultRegion: "GB", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	src, err := aircall.NewSource(gateway.SourceConfig{Name: "phones", Kind: aircall.Kind, Secret: e2eToken, DefaultRegion: "GB"})
	if err != nil {
		t.Fatal(err)
	}
	handler := server.NewServer(server.Deps{
		Logger:        slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Store:         store,
		Engine:        engine,
		Sources:       map[string]server.Source{"phones": {Name: "phones", Kind: aircall.Kind, Connector: src}},
		Tokens:        []server.Token{{Name: "ops", Token: e2eAdmin, Role: server.RoleAdmin}},
		DefaultRegion: "GB",
		Now:           now,
	})
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return &e2e{t: t, store: store, srv: srv}
}

// callEnded is the real captured call.ended with another call id and times: it started at
// `at`, rang for 20 s, and ended (answered after 20 s for 60 s when answered is set).
func (h *e2e) callEnded(id int, at time.Time, reason string, answered bool) []byte {
	h.t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "call_ended_inbound_missed.json"))
	if err != nil {
		h.t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		h.t.Fatal(err)
	}
	d := doc["data"].(map[string]any)
	d["id"], d["started_at"], d["ended_at"], d["missed_call_reason"] = id, at.Unix(), at.Unix()+20, reason
	if answered {
		d["answered_at"], d["ended_at"], d["missed_call_reason"], d["voicemail"] = at.Unix()+20, at.Unix()+80, nil, nil
	}
	doc["timestamp"] = d["ended_at"].(int64) + 30 // call.ended comes about 30 s after the hang-up
	b, err := json.Marshal(doc)
	if err != nil {
		h.t.Fatal(err)
	}
	return b
}

type answer struct {
	status int
	body   map[string]any
}

func (h *e2e) post(path, token string, body []byte) answer {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var a answer
	a.status = resp.StatusCode
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &a.body); err != nil {
		h.t.Fatalf("answer is not JSON: %s", b)
	}
	return a
}

func (h *e2e) deliver(body []byte, want map[string]float64) {
	h.t.Helper()
	a := h.post("/webhooks/phones", "", body)
	if a.status != http.StatusOK {
		h.t.Fatalf("delivery answered %d %v", a.status, a.body)
	}
	for k, v := range want {
		if a.body[k] != v {
			h.t.Fatalf("delivery answered %v, want %s = %v", a.body, k, v)
		}
	}
}

// silences lists the rule's silences on the caller's topic.
func (h *e2e) silences() []gateway.Silence {
	h.t.Helper()
	var out []gateway.Silence
	err := h.store.View(context.Background(), func(tx gateway.Tx) error {
		s, _, err := tx.Silences(gateway.SilenceQuery{Rule: repeatedContacts.Name, Page: gateway.Page{Limit: 100}})
		out = s
		return err
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return out
}

func (h *e2e) allowed(channel, category string) (bool, string) {
	h.t.Helper()
	body, _ := json.Marshal(map[string]any{"channel": channel, "category": category, "record": false,
		"recipients": []map[string]string{{"phone": "+443308186690"}}})
	a := h.post("/api/v1/decisions", e2eAdmin, body)
	if a.status != http.StatusOK {
		h.t.Fatalf("decision answered %d %v", a.status, a.body)
	}
	d := a.body["decisions"].([]any)[0].(map[string]any)
	reason, _ := d["reason"].(string)
	return d["allowed"].(bool), reason
}

func TestEndToEndThreeCallsInADaySilenceTheCaller(t *testing.T) {
	h := newE2E(t)
	one := map[string]float64{"accepted": 1, "duplicates": 0, "ignored": 0}

	// A call two days ago is outside the 24 h window; the call.created and call.hungup of a
	// call are acknowledged, not counted.
	h.deliver(h.callEnded(9001, e2eNow.Add(-50*time.Hour), "no_available_agent", false), one)
	created, err := os.ReadFile(filepath.Join("testdata", "call_created_inbound.json"))
	if err != nil {
		t.Fatal(err)
	}
	h.deliver(created, map[string]float64{"accepted": 0, "ignored": 1})

	h.deliver(h.callEnded(9002, e2eNow.Add(-5*time.Hour), "agents_did_not_answer", false), one)
	h.deliver(h.callEnded(9003, e2eNow.Add(-3*time.Hour), "short_abandoned", false), one)
	if s := h.silences(); len(s) != 0 {
		t.Fatalf("two calls in 24 h silenced the caller: %+v", s)
	}
	if ok, _ := h.allowed("voice", "marketing"); !ok {
		t.Fatal("caller withheld after two calls")
	}

	third := h.callEnded(9004, e2eNow.Add(-1*time.Hour), "no_available_agent", false)
	h.deliver(third, one)
	// Aircall retries a delivery it thinks failed: the same call.ended is a duplicate.
	h.deliver(third, map[string]float64{"accepted": 0, "duplicates": 1})

	s := h.silences()
	if len(s) != 1 {
		t.Fatalf("want one silence after the third call, got %+v", s)
	}
	sil := s[0]
	wantStart := e2eNow.Add(-time.Hour + 50*time.Second) // the third call.ended's timestamp
	if sil.Topic != "aircall:caller:443308186690" || !sil.UntilResolved || sil.End != nil || !sil.Start.Equal(wantStart) {
		t.Fatalf("silence %+v; want until resolved on the caller's topic from %v", sil, wantStart)
	}
	if ok, reason := h.allowed("voice", "marketing"); ok || reason != "silenced" {
		t.Fatalf("caller allowed (%v, %q) after three calls in 24 h", ok, reason)
	}

	// A wrong token stores nothing.
	forged := bytes.Replace(h.callEnded(9005, e2eNow.Add(-30*time.Minute), "", true), []byte(e2eToken), []byte("00000000000000000000000000000000"), 1)
	if a := h.post("/webhooks/phones", "", forged); a.status != http.StatusUnauthorized {
		t.Fatalf("forged delivery answered %d %v", a.status, a.body)
	}

	// The caller finally gets through: the topic is resolved and only the 7-day grace remains.
	h.deliver(h.callEnded(9006, e2eNow.Add(-30*time.Minute), "", true), one)
	s = h.silences()
	if len(s) != 1 || s[0].End == nil {
		t.Fatalf("answered call did not resolve the caller's topic: %+v", s)
	}
	if want := e2eNow.Add(-30*time.Minute + 110*time.Second).Add(7 * 24 * time.Hour); !s[0].End.Equal(want) {
		t.Errorf("silence ends %v, want %v (resolution + 7 d)", s[0].End, want)
	}
}
