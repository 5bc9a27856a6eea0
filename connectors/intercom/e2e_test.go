package intercom_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/connectors/intercom"
	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/policy"
	"github.com/hush-gateway/hush/gateway/server"
	"github.com/hush-gateway/hush/storage/bolt"
)

// TestEndToEnd sends signed Intercom notifications through the real server, store and
// policy engine: a low rating is accepted once (its redelivery is a duplicate), a forged one
// is refused, and the customer is then silenced for marketing.
func TestEndToEnd(t *testing.T) {
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	const secret, decideToken = "intercom-e2e-client-secret", "decide-token-0123456789"

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
	src, err := intercom.NewSource(gateway.SourceConfig{Name: "intercom", Kind: intercom.Kind, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.NewServer(server.Deps{
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Store:   store,
		Engine:  engine,
		Sources: map[string]server.Source{"intercom": {Name: "intercom", Kind: intercom.Kind, Connector: src}},
		Tokens:  []server.Token{{Name: "crm", Token: decideToken, Role: server.RoleDecide}},
		Now:     clock,
	}))
	t.Cleanup(srv.Close)

	post := func(sig, body string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/webhooks/intercom", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if sig != "" {
			req.Header.Set(intercom.HeaderSignature, sig)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, strings.TrimSpace(string(b))
	}

	at := now.Add(-time.Minute).Unix()
	rating := fmt.Sprintf(`{"type":"notification_event","id":"notif_e2e_1","topic":"conversation.rating.added","created_at":%d,`+
		`"data":{"type":"notification_event_data","item":{"type":"conversation","id":"901","state":"closed",`+
		`"source":{"type":"email","body":"<p>refund?</p>","author":{"type":"user","id":"c9","email":"ana@example.com"}},`+
		`"contacts":{"type":"contact.list","contacts":[{"type":"contact","id":"c9"}]},`+
		`"conversation_rating":{"rating":1,"remark":"useless","created_at":%d,"contact":{"type":"contact","id":"c9"}}}}}`, at, at)
	sig := intercom.Sign([]byte(secret), []byte(rating))

	steps := []struct {
		name   string
		sig    string
		body   string
		status int
		answer string
	}{
		{"ping is acknowledged", intercom.Sign([]byte(secret), []byte(`{"type":"notification_event","topic":"ping","id":null}`)),
			`{"type":"notification_event","topic":"ping","id":null}`, 200, `{"accepted":0,"duplicates":0,"ignored":1}`},
		{"forged", intercom.Sign([]byte("not-the-secret"), []byte(rating)), rating, 401, ""},
		{"unsigned", "", rating, 401, ""},
		{"signed rating", sig, rating, 200, `{"accepted":1,"duplicates":0,"ignored":0}`},
		{"redelivery", sig, rating, 200, `{"accepted":0,"duplicates":1,"ignored":0}`},
	}
	for _, s := range steps {
		status, answer := post(s.sig, s.body)
		if status != s.status || s.answer != "" && answer != s.answer {
			t.Fatalf("%s: %d %s, want %d %s", s.name, status, answer, s.status, s.answer)
		}
	}

	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/decisions",
		strings.NewReader(`{"channel":"email","category":"marketing","recipients":[{"email":"ana@example.com"}]}`))
	req.Header.Set("Authorization", "Bearer "+decideToken)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		Decisions []struct {
			Allowed bool   `json:"allowed"`
			Reason  string `json:"reason"`
			Rule    string `json:"rule"`
		} `json:"decisions"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || len(out.Decisions) != 1 {
		t.Fatalf("decision answer: %v %+v", err, out)
	}
	if d := out.Decisions[0]; d.Allowed || d.Reason != gateway.ReasonSilenced || d.Rule != "low-csat" {
		t.Fatalf("decision = %+v, want silenced by low-csat", d)
	}
}
