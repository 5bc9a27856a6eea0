package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/hush-gateway/hush/configs"
	"github.com/hush-gateway/hush/gateway"
)

// activeRules lists the rules behind an identity's active silences, sorted.
func activeRules(h *hushProcess, identity string) []string {
	var rules []string
	for _, s := range h.silences(identity, true) {
		rules = append(rules, s.Rule)
	}
	slices.Sort(rules)
	return rules
}

// textEvent is a chat message with nothing but its text: no score, no vendor sentiment.
func textEvent(id, addr, text string) map[string]any {
	return map[string]any{"id": id, "type": "chat.message", "customer": customerOf(addr), "text": text}
}

// TestSentimentEndToEnd: texts arrive through the signed generic webhook with no score at
// all; the binary's built-in scorer reads them (Spanish and English), the shipped seed rules
// act on the score and the cues, and the customer's timeline shows why.
func TestSentimentEndToEnd(t *testing.T) {
	clock := newTestClock(t0)
	h := startHush(t, clock, hushOptions{})

	h.event(textEvent("s1", ana, "Es la tercera vez que llamo y nadie me soluciona nada. Estoy harta, una vergüenza."))
	if got, want := activeRules(h, anaID), []string{"frustration-cues", "negative-sentiment"}; !slices.Equal(got, want) {
		t.Errorf("silences after an angry Spanish chat: %v, want %v", got, want)
	}
	v := h.customer(anaID)
	var scored *gateway.Sentiment
	for _, it := range v.Timeline.Items {
		if it.Event != nil && it.Event.ID == "s1" {
			scored = it.Event.Sentiment
		}
	}
	if scored == nil || scored.Source != gateway.SentimentBuiltin || scored.Label != "negative" || scored.Language != "es" ||
		!slices.Contains(scored.Cues, "repeat_contact") {
		t.Errorf("the timeline's event sentiment: %+v", scored)
	}

	h.event(textEvent("s2", neighbour, "Claro que sí, no hay problema. Gracias, todo perfecto"))
	if got := activeRules(h, "email:"+neighbour); len(got) != 0 {
		t.Errorf("a polite chat silenced the neighbour: %v", got)
	}
	const carl = "carl@example.com"
	h.event(textEvent("s3", carl, "I'm cancelling my account and switching to another provider, I'll report you to Ofcom"))
	if got := activeRules(h, "email:"+carl); !slices.Contains(got, "frustration-cues") {
		t.Errorf("silences after an English churn threat: %v", got)
	}
}

// TestExternalSentimentScorer: with sentiment.url set, intake asks the service; when the
// service fails, the built-in score is used and the event is still accepted.
func TestExternalSentimentScorer(t *testing.T) {
	var calls atomic.Int32
	var down atomic.Bool
	svc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		var req struct{ Text, Language string }
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &req); err != nil || req.Text == "" || r.Header.Get("Authorization") != "Bearer svc-token" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if down.Load() {
			http.Error(w, "overloaded", http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, `{"score": -0.9, "label": "negative"}`)
	}))
	t.Cleanup(svc.Close)
	config := filepath.Join(t.TempDir(), "hush.yaml")
	text := string(configs.DefaultYAML()) + "\nsentiment:\n  url: \"" + svc.URL + "\"\n  timeout: 1s\n  headers: {Authorization: \"Bearer ${SVC_TOKEN}\"}\n"
	if err := os.WriteFile(config, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	h := startHush(t, newTestClock(t0), hushOptions{config: config, env: map[string]string{"SVC_TOKEN": "svc-token"}})

	// The service finds anger in a text the built-in scorer reads as neutral.
	h.event(textEvent("x1", ana, "Llamo por lo de la factura"))
	if got := activeRules(h, anaID); !slices.Equal(got, []string{"negative-sentiment"}) || calls.Load() != 1 {
		t.Errorf("with the external scorer: silences %v, %d calls", got, calls.Load())
	}
	down.Store(true)
	h.event(textEvent("x2", neighbour, "Llamo por lo de la factura"))
	if got := activeRules(h, "email:"+neighbour); len(got) != 0 {
		t.Errorf("with the service down: silences %v; want the built-in neutral score", got)
	}
	for _, it := range h.customer("email:" + neighbour).Timeline.Items {
		if it.Event != nil && (it.Event.Sentiment == nil || it.Event.Sentiment.Source != gateway.SentimentBuiltin) {
			t.Errorf("fallback sentiment: %+v", it.Event.Sentiment)
		}
	}
}
