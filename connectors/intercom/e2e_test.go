package intercom_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/connectors/connectortest"
	"github.com/hush-gateway/hush/connectors/intercom"
	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/server"
)

// TestEndToEnd sends signed Intercom notifications through the real server, store and
// policy engine: a low rating is accepted once (its redelivery is a duplicate), a forged one
// is refused, and the customer is then silenced for marketing.
func TestEndToEnd(t *testing.T) {
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	const secret, decideToken = "intercom-e2e-client-secret", "decide-token-0123456789"

	src, err := intercom.NewSource(gateway.SourceConfig{Name: "intercom", Kind: intercom.Kind, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	srv := connectortest.NewServer(t, src, connectortest.Options{
		Name: "intercom", Kind: intercom.Kind, DefaultRegion: "ES", Now: now,
		Rules: []gateway.RuleSpec{{
			Name:    "low-csat",
			When:    `event.type == "survey.response" && has(event.csat) && event.csat <= 2`,
			Silence: &gateway.SilenceSpec{For: gateway.Duration(15 * 24 * time.Hour)},
		}},
		Tokens: []server.Token{{Name: "crm", Token: decideToken, Role: server.RoleDecide}},
	})

	post := func(sig, body string) (int, string) {
		h := http.Header{}
		if sig != "" {
			h.Set(intercom.HeaderSignature, sig)
		}
		status, b := srv.Post("/webhooks/intercom", h, []byte(body))
		return status, strings.TrimSpace(string(b))
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

	d := srv.Decide(decideToken, `{"channel":"email","category":"marketing","recipients":[{"email":"ana@example.com"}]}`)
	if d.Allowed || d.Reason != gateway.ReasonSilenced || d.Rule != "low-csat" {
		t.Fatalf("decision = %+v, want silenced by low-csat", d)
	}
}
