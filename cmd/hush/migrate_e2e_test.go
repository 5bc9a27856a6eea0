package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hush-gateway/hush/gateway"
)

// TestMigrateStorage moves a stopped installation to a new store with `hush migrate-storage`
// and starts hush on the copy: the silence and the SMS opt-out still hold, the timeline is
// there, and a webhook delivered again is still a duplicate.
func TestMigrateStorage(t *testing.T) {
	const mobile = "+34600111222"
	oldData := t.TempDir()
	clock := newTestClock(t0)
	h := startHush(t, clock, hushOptions{data: oldData})
	h.event(map[string]any{"type": "survey.response", "customer": customerOf(ana), "csat": 1})
	h.event(map[string]any{"type": "consent.optout", "customer": map[string]any{"phone": mobile}, "channel": "sms", "text": "STOP"})
	redelivered := newDeliveryID()
	body := []byte(`{"type": "ticket.opened", "customer": {"email": "ben@example.com"}, "at": "2026-11-20T10:00:00Z"}`)
	if resp, b := h.signedWebhook(redelivered, body); resp.StatusCode != 200 {
		t.Fatalf("webhook: %d %s", resp.StatusCode, b)
	}
	h.decide("email", "marketing", email(ana), true)

	// While hush serves the file, the move is refused, not done half-way.
	newData := t.TempDir()
	target := "bolt:" + filepath.Join(newData, "hush.db")
	if _, _, err := runCommand(t, nil, "migrate-storage", "--from", "bolt:hush.db", "--data", oldData, "--to", target); err == nil ||
		!strings.Contains(err.Error(), "stop it first") {
		t.Fatalf("migrate-storage while hush serves: %v, want a refusal that says to stop hush", err)
	}
	h.stopped()

	stdout, stderr, err := runCommand(t, nil, "migrate-storage", "--from", "bolt:hush.db", "--data", oldData, "--to", target)
	if err != nil {
		t.Fatalf("migrate-storage: %v\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
	}
	for _, want := range []string{"customers", "events", "silences", "opt-outs", "decisions", "webhook dedupe keys", "moved "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("migrate-storage's report lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "differs") {
		t.Errorf("migrate-storage reports a difference:\n%s", stdout)
	}
	// A second run into the same target refuses: it is no longer empty.
	if _, _, err := runCommand(t, nil, "migrate-storage", "--from", "bolt:hush.db", "--data", oldData, "--to", target); err == nil ||
		!strings.Contains(err.Error(), "not empty") {
		t.Errorf("a second migrate-storage into the same target: %v, want a refusal", err)
	}

	moved := startHush(t, clock, hushOptions{data: newData})
	if d := moved.check("email", "marketing", email(ana)); d.Allowed || d.Rule != "low-csat" {
		t.Errorf("after the move, ana: %+v; want still silenced by low-csat", d)
	}
	if d := moved.check("sms", "marketing", phone(mobile)); d.Allowed || d.Reason != gateway.ReasonOptedOut {
		t.Errorf("after the move, the STOP number: %+v; want opted out", d)
	}
	v := moved.customer(anaID)
	if len(v.Timeline.Items) < 2 {
		t.Errorf("after the move, ana's timeline has %d items, want her event and the recorded decision", len(v.Timeline.Items))
	}
	var counts webhookCounts
	resp, b := moved.signedWebhook(redelivered, body)
	if resp.StatusCode != 200 {
		t.Fatalf("redelivery after the move: %d %s", resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, &counts); err != nil || counts.Duplicates != 1 {
		t.Errorf("a webhook delivered again after the move answered %s, want a duplicate", b)
	}
}
