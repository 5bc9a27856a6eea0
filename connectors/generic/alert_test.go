package generic

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// withClock fixes the alert's signing clock for a test.
func withClock(a *Alert, at time.Time) *Alert {
	a.now = func() time.Time { return at }
	return a
}

func newTestAlert(t *testing.T, secret string, at time.Time) *Alert {
	t.Helper()
	a, err := NewAlert(gateway.AlertConfig{Name: "crm", Kind: AlertKind, URL: "https://hooks.example.com/hush", Options: map[string]any{"secret": secret}})
	if err != nil {
		t.Fatal(err)
	}
	return withClock(a, at)
}

func alertMessage() *gateway.AlertMessage {
	created := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	end := created.Add(15 * 24 * time.Hour)
	csat := 1.0
	return &gateway.AlertMessage{
		Outbox: gateway.OutboxMessage{
			ID: "out_01HX", Kind: "alert", Target: "retention", CustomerID: "cus_1", Rule: "low-csat",
			EventID: "zendesk:ev1", Payload: json.RawMessage(`{"rule":"low-csat"}`), CreatedAt: created, NextAttempt: created,
		},
		Customer: &gateway.Customer{ID: "cus_1", Identities: []gateway.Identity{"email:ana@example.com", "phone:+34600111222"}, Name: "Ana García", CreatedAt: created, UpdatedAt: created},
		Event: &gateway.Event{
			ID: "ev1", Source: "zendesk", Type: gateway.EventSurveyResponse, At: created.Add(-time.Minute),
			Customer: gateway.EventCustomer{Email: "ana@example.com"}, CSAT: &csat, Text: "Fatal servicio",
			Sentiment:  &gateway.Sentiment{Score: -0.8, Label: "negative", Source: "builtin", Language: "es", Cues: []string{"complaint"}},
			CustomerID: "cus_1", Raw: json.RawMessage(`{"vendor":"secret payload"}`),
		},
		Silence: &gateway.Silence{
			ID: "sil_1", CustomerID: "cus_1", Identity: "email:ana@example.com", Categories: []gateway.Category{"marketing"},
			Rule: "low-csat", CreatedBy: "rule:low-csat", Reason: "CSAT of 2 or less", EventID: "zendesk:ev1",
			Start: created, End: &end, CreatedAt: created, UpdatedAt: created,
		},
		ConsoleURL: "https://hush.example.com/console/customers/cus_1",
		Language:   "es",
	}
}

func readBody(t *testing.T, req *http.Request) []byte {
	t.Helper()
	b, err := io.ReadAll(req.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAlertBody(t *testing.T) {
	at := time.Unix(1714557600, 0)
	a := newTestAlert(t, vectorSecret, at)

	full := alertMessage()
	bare := alertMessage()
	bare.Customer, bare.Event, bare.Silence, bare.ConsoleURL = nil, nil, nil, ""

	tests := []struct {
		name string
		m    *gateway.AlertMessage
		want string
	}{
		{"full", full, `{"type":"hush.alert","id":"out_01HX","created_at":"2024-05-01T10:00:00Z","alert":"retention","rule":"low-csat",` +
			`"customer":{"id":"cus_1","identities":["email:ana@example.com","phone:+34600111222"],"name":"Ana García"},` +
			`"event":{"id":"ev1","source":"zendesk","type":"survey.response","at":"2024-05-01T09:59:00Z","customer":{"email":"ana@example.com"},` +
			`"csat":1,"text":"Fatal servicio","sentiment":{"score":-0.8,"label":"negative","source":"builtin","language":"es","cues":["complaint"]},"customer_id":"cus_1"},` +
			`"silence":{"id":"sil_1","customer_id":"cus_1","identity":"email:ana@example.com","categories":["marketing"],"rule":"low-csat",` +
			`"created_by":"rule:low-csat","reason":"CSAT of 2 or less","event_id":"zendesk:ev1","start":"2024-05-01T10:00:00Z","end":"2024-05-16T10:00:00Z",` +
			`"created_at":"2024-05-01T10:00:00Z","updated_at":"2024-05-01T10:00:00Z"},` +
			`"console_url":"https://hush.example.com/console/customers/cus_1"}`},
		{"erased customer, no event, no silence", bare, `{"type":"hush.alert","id":"out_01HX","created_at":"2024-05-01T10:00:00Z","alert":"retention",` +
			`"rule":"low-csat","customer":{"id":"cus_1","identities":[],"erased":true},"event":null,"silence":null}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := a.Request(context.Background(), tt.m)
			if err != nil {
				t.Fatal(err)
			}
			body := readBody(t, req)
			if string(body) != tt.want {
				t.Errorf("body:\n got %s\nwant %s", body, tt.want)
			}
			if bytes.Contains(body, []byte("secret payload")) {
				t.Error("the vendor's raw payload was sent")
			}
			// Another attempt of the same alert at the same time is byte for byte the same.
			again, err := a.Request(context.Background(), tt.m)
			if err != nil {
				t.Fatal(err)
			}
			if b := readBody(t, again); !bytes.Equal(b, body) || again.Header.Get(HeaderSignature) != req.Header.Get(HeaderSignature) {
				t.Error("two requests for one message at one time differ")
			}
		})
	}
}

func TestAlertRequestHeaders(t *testing.T) {
	at := time.Unix(1714557600, 0)
	a := newTestAlert(t, vectorSecret, at)
	req, err := a.Request(context.Background(), alertMessage())
	if err != nil {
		t.Fatal(err)
	}
	if req.Method != http.MethodPost || req.URL.String() != "https://hooks.example.com/hush" {
		t.Errorf("request = %s %s", req.Method, req.URL)
	}
	for h, want := range map[string]string{
		"Content-Type":  "application/json",
		HeaderID:        "out_01HX",
		HeaderTimestamp: "1714557600",
	} {
		if got := req.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if req.GetBody == nil {
		t.Error("GetBody is nil: a retrying client could not resend the body")
	}
}

// TestAlertSignatureVerifies checks the signature three ways: with the generic source's own
// verification, with an HMAC computed here from the Standard Webhooks definition, and
// against the scheme's published test vector.
func TestAlertSignatureVerifies(t *testing.T) {
	at := time.Unix(1714557600, 0)
	for _, secret := range []string{vectorSecret, "a plain shared secret"} {
		t.Run(secret[:7], func(t *testing.T) {
			a := newTestAlert(t, secret, at)
			req, err := a.Request(context.Background(), alertMessage())
			if err != nil {
				t.Fatal(err)
			}
			body := readBody(t, req)

			src, err := NewSource(gateway.SourceConfig{Name: "crm", Kind: Kind, Secret: secret})
			if err != nil {
				t.Fatal(err)
			}
			in := &gateway.WebhookRequest{Source: "crm", Method: req.Method, Header: req.Header, Body: body, ReceivedAt: at.Add(10 * time.Second)}
			if err := src.Verify(in); err != nil {
				t.Fatalf("the generic source rejects the alert: %v", err)
			}
			tampered := bytes.Replace(body, []byte("low-csat"), []byte("low-nps!"), 1)
			if err := src.Verify(&gateway.WebhookRequest{Header: req.Header, Body: tampered, ReceivedAt: at}); reasonOf(err) != gateway.VerifyBadSignature {
				t.Errorf("tampered body: err = %v, want a bad signature", err)
			}

			key := []byte(secret)
			if rest, ok := strings.CutPrefix(secret, "whsec_"); ok {
				key, _ = base64.StdEncoding.DecodeString(rest)
			}
			mac := hmac.New(sha256.New, key)
			mac.Write([]byte("out_01HX." + strconv.FormatInt(at.Unix(), 10) + "."))
			mac.Write(body)
			if want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)); req.Header.Get(HeaderSignature) != want {
				t.Errorf("webhook-signature = %s, want %s", req.Header.Get(HeaderSignature), want)
			}
		})
	}

	// The sender signs with the same function as the published vector's check.
	sent, _ := strconv.ParseInt(vectorTimestamp, 10, 64)
	a := newTestAlert(t, vectorSecret, time.Unix(sent, 0))
	if got := Sign(a.key, vectorID, a.now(), []byte(vectorBody)); got != vectorSignature {
		t.Errorf("signature of the published vector = %s, want %s", got, vectorSignature)
	}
}

// TestAlertDelivered sends the request to a receiver and verifies it there, as a receiver
// would: from the bytes on the wire.
func TestAlertDelivered(t *testing.T) {
	src, err := NewSource(gateway.SourceConfig{Name: "crm", Kind: Kind, Secret: vectorSecret})
	if err != nil {
		t.Fatal(err)
	}
	var got AlertDocument
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := src.Verify(&gateway.WebhookRequest{Header: r.Header, Body: body, ReceivedAt: time.Now()}); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		if err := json.Unmarshal(body, &got); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()

	a, err := NewAlert(gateway.AlertConfig{Name: "crm", Kind: AlertKind, URL: srv.URL, Options: map[string]any{"secret": vectorSecret}})
	if err != nil {
		t.Fatal(err)
	}
	req, err := a.Request(context.Background(), alertMessage())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("receiver answered %d", resp.StatusCode)
	}
	if got.Type != AlertType || got.ID != "out_01HX" || got.Customer.Name != "Ana García" || got.Event == nil || got.Silence == nil || got.Silence.ID != "sil_1" {
		t.Errorf("receiver read %+v", got)
	}
}

func TestNewAlertErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  gateway.AlertConfig
		want string
	}{
		{"no secret", gateway.AlertConfig{Name: "crm", URL: "https://x.example.com"}, `"secret"`},
		{"empty secret", gateway.AlertConfig{Name: "crm", URL: "https://x.example.com", Options: map[string]any{"secret": ""}}, `"secret"`},
		{"secret not a string", gateway.AlertConfig{Name: "crm", URL: "https://x.example.com", Options: map[string]any{"secret": 42}}, "want a string"},
		{"unknown option", gateway.AlertConfig{Name: "crm", URL: "https://x.example.com", Options: map[string]any{"secret": "s", "sekret": "s"}}, `unknown option "sekret"`},
		{"bad whsec", gateway.AlertConfig{Name: "crm", URL: "https://x.example.com", Options: map[string]any{"secret": "whsec_%%%"}}, "standard base64"},
		{"no url", gateway.AlertConfig{Name: "crm", Options: map[string]any{"secret": "s"}}, "url is required"},
		{"ftp url", gateway.AlertConfig{Name: "crm", URL: "ftp://x.example.com/tok3n", Options: map[string]any{"secret": "s"}}, "http"},
		{"no host", gateway.AlertConfig{Name: "crm", URL: "https:///path", Options: map[string]any{"secret": "s"}}, "no host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewAlert(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %s", err, tt.want)
			}
			if !strings.Contains(err.Error(), `"crm"`) {
				t.Errorf("err = %v does not name the alert", err)
			}
			if strings.Contains(err.Error(), "tok3n") || strings.Contains(err.Error(), "%%%") {
				t.Errorf("err = %v echoes the url or the secret", err)
			}
		})
	}
}

func TestAlertRequestNeedsID(t *testing.T) {
	a := newTestAlert(t, "s", time.Unix(1714557600, 0))
	m := alertMessage()
	m.Outbox.ID = ""
	if _, err := a.Request(context.Background(), m); err == nil {
		t.Error("a message without an id was accepted: it would have no idempotency key")
	}
	if _, err := a.Request(context.Background(), nil); err == nil {
		t.Error("a nil message was accepted")
	}
}

// The alert sender satisfies the interface the worker uses.
var _ gateway.AlertSender = (*Alert)(nil)

// TestAlertDocumentKinds checks that each outbox kind gets its own document type, that a
// scheduled message says when it was due, and that an unknown kind goes out as an alert.
func TestAlertDocumentKinds(t *testing.T) {
	due := time.Date(2024, 5, 4, 10, 0, 0, 0, time.FixedZone("CEST", 2*3600))
	tests := []struct {
		kind     string
		due      time.Time
		wantType string
		wantDue  string // "" when due_at must be absent
	}{
		{gateway.OutboxAlert, time.Time{}, "hush.alert", ""},
		{gateway.OutboxFollowUp, due, "hush.follow_up", "2024-05-04T08:00:00Z"},
		{gateway.OutboxSilenceEnded, due, "hush.silence_ended", "2024-05-04T08:00:00Z"},
		{"", time.Time{}, "hush.alert", ""},
		{"reminder_v2", due, "hush.alert", "2024-05-04T08:00:00Z"},
	}
	a := newTestAlert(t, vectorSecret, time.Unix(1714557600, 0))
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			m := alertMessage()
			m.Outbox.Kind, m.Outbox.DueAt = tt.kind, tt.due
			req, err := a.Request(context.Background(), m)
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			if err := json.Unmarshal(readBody(t, req), &doc); err != nil {
				t.Fatal(err)
			}
			if doc["type"] != tt.wantType {
				t.Errorf("type = %v, want %s", doc["type"], tt.wantType)
			}
			got, has := doc["due_at"]
			switch {
			case tt.wantDue == "" && has:
				t.Errorf("due_at = %v, want it absent", got)
			case tt.wantDue != "" && got != tt.wantDue:
				t.Errorf("due_at = %v, want %s", got, tt.wantDue)
			}
			// The rest of the document is the alert's: the same customer, event and silence.
			if c, _ := doc["customer"].(map[string]any); c["id"] != "cus_1" || doc["silence"] == nil || doc["event"] == nil {
				t.Errorf("document lost its customer, event or silence: %v", doc)
			}
		})
	}
}
