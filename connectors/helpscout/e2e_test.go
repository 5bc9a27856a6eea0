package helpscout_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/connectors/connectortest"
	"github.com/hush-gateway/hush/connectors/helpscout"
	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/server"
)

// TestEndToEnd sends signed Help Scout webhooks through the real server, store and
// policy engine: a low rating is accepted once (its redelivery is a duplicate), a forged one
// is refused, and the customer is then silenced for marketing.
func TestEndToEnd(t *testing.T) {
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	const secret, decideToken = "helpscout-e2e-secret", "decide-token-0123456789"

	src, err := helpscout.NewSource(gateway.SourceConfig{Name: "helpscout", Kind: helpscout.Kind, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	srv := connectortest.NewServer(t, src, connectortest.Options{
		Name: "helpscout", Kind: helpscout.Kind, DefaultRegion: "ES", Now: now,
		Rules: []gateway.RuleSpec{{
			Name:    "low-csat",
			When:    `event.type == "survey.response" && has(event.csat) && event.csat <= 2`,
			Silence: &gateway.SilenceSpec{For: gateway.Duration(15 * 24 * time.Hour)},
		}},
		Tokens: []server.Token{{Name: "crm", Token: decideToken, Role: server.RoleDecide}},
	})

	post := func(event, sig, body string) (int, string) {
		h := http.Header{}
		if event != "" {
			h.Set(helpscout.HeaderEvent, event)
		}
		if sig != "" {
			h.Set(helpscout.HeaderSignature, sig)
		}
		status, b := srv.Post("/webhooks/helpscout", h, []byte(body))
		return status, strings.TrimSpace(string(b))
	}

	at := now.Add(-time.Minute).Format(time.RFC3339)
	rating := fmt.Sprintf(`{"id":77,"customer":{"id":449379,"firstName":"Ana","emails":[{"value":"ana@example.com"}]},`+
		`"ticketId":901,"rating":"Bad","comments":"useless","createdAt":%q,"modifiedAt":%q}`, at, at)
	sig := helpscout.Sign([]byte(secret), []byte(rating))
	test := `{"id":123}`

	steps := []struct {
		name   string
		event  string
		sig    string
		body   string
		status int
		answer string
	}{
		{"test event is acknowledged", "helpscout.test", helpscout.Sign([]byte(secret), []byte(test)), test, 200, `{"accepted":0,"duplicates":0,"ignored":1}`},
		{"forged", helpscout.EventRating, helpscout.Sign([]byte("not-the-secret"), []byte(rating)), rating, 401, ""},
		{"unsigned", helpscout.EventRating, "", rating, 401, ""},
		{"signed without the event header", "", sig, rating, 400, ""},
		{"signed rating", helpscout.EventRating, sig, rating, 200, `{"accepted":1,"duplicates":0,"ignored":0}`},
		{"redelivery", helpscout.EventRating, sig, rating, 200, `{"accepted":0,"duplicates":1,"ignored":0}`},
	}
	for _, s := range steps {
		status, answer := post(s.event, s.sig, s.body)
		if status != s.status || s.answer != "" && answer != s.answer {
			t.Fatalf("%s: %d %s, want %d %s", s.name, status, answer, s.status, s.answer)
		}
	}

	d := srv.Decide(decideToken, `{"channel":"email","category":"marketing","recipients":[{"email":"ana@example.com"}]}`)
	if d.Allowed || d.Reason != gateway.ReasonSilenced || d.Rule != "low-csat" {
		t.Fatalf("decision = %+v, want silenced by low-csat", d)
	}
}
