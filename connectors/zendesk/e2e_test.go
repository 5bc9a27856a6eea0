package zendesk_test

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

	"github.com/hush-gateway/hush/connectors/zendesk"
	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/policy"
	"github.com/hush-gateway/hush/gateway/server"
	"github.com/hush-gateway/hush/storage/bolt"
)

// TestEndToEnd runs a signed Zendesk delivery through the real server, policy engine and
// bbolt store (wired as gateway/server's harness does): a bad rating silences the requester,
// a retry is a duplicate, and a forged delivery stores nothing.
func TestEndToEnd(t *testing.T) {
	now := time.Date(2026, 11, 22, 8, 4, 0, 0, time.UTC)
	store, err := bolt.Open(filepath.Join(t.TempDir(), "hush.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	rules, err := policy.CompileRules([]gateway.RuleSpec{{
		Name:    "low-csat",
		When:    `event.type == "survey.response" && has(event.csat) && event.csat <= 2`,
		Silence: &gateway.SilenceSpec{For: gateway.Duration(15 * 24 * time.Hour)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return now }
	engine, err := policy.New(context.Background(), store, policy.Config{Rules: rules, DefaultRegion: "ES", Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	src, err := zendesk.NewSource(gateway.SourceConfig{Name: "zendesk", Kind: zendesk.Kind, Secret: zendesk.TestSigningSecret})
	if err != nil {
		t.Fatal(err)
	}
	const admin = "admin-token-0123456789"
	srv := httptest.NewServer(server.NewServer(server.Deps{
		Logger:        slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Store:         store,
		Engine:        engine,
		Sources:       map[string]server.Source{"zendesk": {Name: "zendesk", Kind: zendesk.Kind, Connector: src}},
		Tokens:        []server.Token{{Name: "ops", Token: admin, Role: server.RoleAdmin}},
		DefaultRegion: "ES",
		Now:           clock,
	}))
	t.Cleanup(srv.Close)

	body, err := os.ReadFile(filepath.Join("testdata", "template_satisfaction_bad.json"))
	if err != nil {
		t.Fatal(err)
	}
	post := func(secret string) (int, map[string]int) {
		ts := now.Add(-time.Second).Format(time.RFC3339)
		sig := zendesk.Sign([]byte(secret), ts, body)
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/webhooks/zendesk", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(zendesk.HeaderTimestamp, ts)
		req.Header.Set(zendesk.HeaderSignature, sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var counts map[string]int
		_ = json.NewDecoder(resp.Body).Decode(&counts)
		return resp.StatusCode, counts
	}

	if status, _ := post("not-the-webhook-secret"); status != http.StatusUnauthorized {
		t.Fatalf("forged delivery: status %d, want 401", status)
	}
	if status, c := post(zendesk.TestSigningSecret); status != http.StatusOK || c["accepted"] != 1 {
		t.Fatalf("first delivery: %d %v", status, c)
	}
	if status, c := post(zendesk.TestSigningSecret); status != http.StatusOK || c["duplicates"] != 1 || c["accepted"] != 0 {
		t.Fatalf("retry: %d %v, want a duplicate", status, c)
	}

	// The requester, named by the email in the template, is silenced for marketing.
	q := `{"channel":"email","category":"marketing","recipients":[{"email":"ana@example.com"},{"id":"zendesk:8841"}]}`
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/decisions", bytes.NewReader([]byte(q)))
	req.Header.Set("Authorization", "Bearer "+admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Decisions []struct {
			Allowed bool   `json:"allowed"`
			Reason  string `json:"reason"`
			Rule    string `json:"rule"`
		} `json:"decisions"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || len(out.Decisions) != 2 {
		t.Fatalf("decisions: %v %+v", err, out)
	}
	for i, d := range out.Decisions {
		if d.Allowed || d.Reason != "silenced" || d.Rule != "low-csat" {
			t.Errorf("recipient %d: %+v, want silenced by low-csat", i, d)
		}
	}
}
