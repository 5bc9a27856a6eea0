package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// alertReceiver stands in for Slack or a team's webhook endpoint: it fails the first
// `failures` calls with 500 and records every request it accepts.
type alertReceiver struct {
	srv      *httptest.Server
	mu       sync.Mutex
	failures int
	calls    int
	accepted []receivedAlert
}

type receivedAlert struct {
	header http.Header
	body   []byte
}

func newAlertReceiver(t *testing.T, failures int) *alertReceiver {
	r := &alertReceiver{failures: failures}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.calls++
		if r.calls <= r.failures {
			http.Error(w, "try later", http.StatusInternalServerError)
			return
		}
		r.accepted = append(r.accepted, receivedAlert{header: req.Header.Clone(), body: body})
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *alertReceiver) received() []receivedAlert {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]receivedAlert(nil), r.accepted...)
}

// waitFor polls cond until it holds or the deadline passes (the worker polls its outbox
// once a second).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestAlertsDelivered: a rule's alert leaves the binary for a Slack stand-in (which fails
// once first) and for a signed webhook, each exactly once, and the webhook's signature
// verifies with the Standard Webhooks algorithm.
func TestAlertsDelivered(t *testing.T) {
	slackSrv := newAlertReceiver(t, 1)
	hook := newAlertReceiver(t, 0)
	const secret = "e2e-alert-webhook-secret"
	config := filepath.Join(t.TempDir(), "hush.yaml")
	text := fmt.Sprintf(`public_url: "https://hush.example.com"
language: es
admin: {tokens: [{name: ops, token: "${HUSH_ADMIN_TOKEN}", role: admin}]}
sources: [{name: generic, kind: generic, secret: "${HUSH_GENERIC_SECRET}"}]
rules:
  - {name: low-csat, description: "CSAT de 1 o 2", when: 'event.type == "survey.response" && has(event.csat) && event.csat <= 2', silence: {for: 15d}, alert: retention}
  - {name: detractor-nps, when: 'event.type == "survey.response" && has(event.nps) && event.nps <= 6', silence: {for: 30d}, alert: crm}
alerts:
  - {name: retention, kind: slack, url: %q}
  - {name: crm, kind: webhook, url: %q, secret: %q}
`, slackSrv.srv.URL+"/services/T0/B0/x", hook.srv.URL+"/hooks/hush", secret)
	if err := os.WriteFile(config, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	h := startHush(t, newTestClock(t0), hushOptions{config: config})

	h.event(map[string]any{"id": "a1", "type": "survey.response", "customer": customerOf(ana), "csat": 1, "text": "Nadie me ha resuelto nada"})
	h.event(map[string]any{"id": "a2", "type": "survey.response", "customer": customerOf(neighbour), "nps": 3})
	// The same customer again: the silence is extended, nobody is alerted twice.
	h.event(map[string]any{"id": "a3", "type": "survey.response", "customer": customerOf(ana), "csat": 2})

	waitFor(t, "the Slack alert", func() bool { return len(slackSrv.received()) >= 1 })
	waitFor(t, "the webhook alert", func() bool { return len(hook.received()) >= 1 })

	got := slackSrv.received()
	if len(got) != 1 || !strings.Contains(string(got[0].body), "low-csat") || !strings.Contains(string(got[0].body), "https://hush.example.com/console/customers/") {
		t.Errorf("Slack received %d alerts: %s", len(got), got[0].body)
	}
	if !strings.Contains(string(got[0].body), "Cliente en riesgo") {
		t.Errorf("the Slack alert is not in Spanish: %s", got[0].body)
	}

	w := hook.received()
	if len(w) != 1 {
		t.Fatalf("webhook received %d alerts, want 1", len(w))
	}
	id, ts, sig := w[0].header.Get("webhook-id"), w[0].header.Get("webhook-timestamp"), w[0].header.Get("webhook-signature")
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(id + "." + ts + "." + string(w[0].body)))
	if want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)); sig != want || id == "" {
		t.Errorf("webhook signature %q does not verify (want %q)", sig, want)
	}
	var doc struct {
		Type, Rule string
		Customer   struct{ Identities []string }
	}
	if err := json.Unmarshal(w[0].body, &doc); err != nil || doc.Type != "hush.alert" || doc.Rule != "detractor-nps" ||
		len(doc.Customer.Identities) == 0 || doc.Customer.Identities[0] != "email:"+neighbour {
		t.Errorf("webhook body %s (%v)", w[0].body, err)
	}

	// Nothing more arrives: the outbox shows both alerts delivered, none dead; what waits
	// is the announcement of each silence's end, due when the silence ends.
	var list struct {
		Items []struct{ ID, Kind string }
	}
	waitFor(t, "the outbox to settle", func() bool {
		h.api(http.MethodGet, "/api/v1/outbox?state=delivered", nil, http.StatusOK, &list)
		return len(list.Items) == 2
	})
	h.api(http.MethodGet, "/api/v1/outbox?state=dead", nil, http.StatusOK, &list)
	if len(list.Items) != 0 {
		t.Errorf("%d dead outbox messages", len(list.Items))
	}
	h.api(http.MethodGet, "/api/v1/outbox?state=pending", nil, http.StatusOK, &list)
	if len(list.Items) != 2 || list.Items[0].Kind != "silence_ended" || list.Items[1].Kind != "silence_ended" {
		t.Errorf("pending outbox messages %+v, want the two silences' ends", list.Items)
	}
	if n := len(slackSrv.received()) + len(hook.received()); n != 2 {
		t.Errorf("%d alerts delivered in all, want 2", n)
	}
}
