package twilio

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/policy"
	"github.com/hush-gateway/hush/gateway/server"
	"github.com/hush-gateway/hush/storage/bolt"
)

// TestServerOptOutAndOptIn runs signed Twilio requests over HTTP through the real server,
// engine and a bbolt file, as hush runs behind a TLS proxy: Twilio signs the public https
// URL while the request arrives on a local address. STOP must make the decision API drop
// the customer on SMS; START must lift it; a redelivery is a duplicate; an unsigned request
// is refused before anything is stored.
func TestServerOptOutAndOptIn(t *testing.T) {
	const (
		token       = "e2e-auth-token"
		public      = "https://hush.example.com/webhooks/twilio"
		decideToken = "decide-token-0123456789"
	)
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	store, err := bolt.Open(filepath.Join(t.TempDir(), "hush.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	clock := func() time.Time { return now }
	engine, err := policy.New(context.Background(), store, policy.Config{DefaultRegion: "ES", Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	src, err := NewSource(gateway.SourceConfig{Name: "twilio", Kind: Kind, DefaultRegion: "ES",
		Options: map[string]any{OptionAuthToken: token, OptionPublicURL: public}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.NewServer(server.Deps{
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		Store:         store,
		Engine:        engine,
		Sources:       map[string]server.Source{"twilio": {Name: "twilio", Kind: Kind, Connector: src}},
		Tokens:        []server.Token{{Name: "crm", Token: decideToken, Role: server.RoleDecide}},
		DefaultRegion: "ES",
		Now:           clock,
	}))
	t.Cleanup(srv.Close)

	post := func(body, sig string) (int, gateway.IngestResult) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/webhooks/twilio", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if sig != "" {
			req.Header.Set(HeaderSignature, sig)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var res gateway.IngestResult
		_ = json.NewDecoder(resp.Body).Decode(&res)
		return resp.StatusCode, res
	}
	sign := func(body string) string {
		p, _ := url.ParseQuery(body)
		return independentSign(token, public, p)
	}
	smsAllowed := func() (bool, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/decisions",
			strings.NewReader(`{"channel":"sms","category":"marketing","record":false,"recipients":[{"phone":"600 111 222"}]}`))
		req.Header.Set("Authorization", "Bearer "+decideToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			Decisions []struct {
				Allowed bool   `json:"allowed"`
				Reason  string `json:"reason"`
			} `json:"decisions"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || len(out.Decisions) != 1 {
			t.Fatalf("decision answer (%d): %v %+v", resp.StatusCode, err, out)
		}
		return out.Decisions[0].Allowed, out.Decisions[0].Reason
	}

	stop := form("MessageSid", "SM0000000000000000000000000000e2e1", "From", "+34600111222", "To", "+34911234567", "Body", "Baja", "SmsStatus", "received")
	if code, _ := post(stop, ""); code != http.StatusUnauthorized {
		t.Fatalf("unsigned STOP: status %d, want 401", code)
	}
	if code, _ := post(stop, sign(stop+"&x=1")); code != http.StatusUnauthorized {
		t.Fatalf("wrongly signed STOP: status %d, want 401", code)
	}
	if ok, _ := smsAllowed(); !ok {
		t.Fatal("refused deliveries changed the decision")
	}
	if code, res := post(stop, sign(stop)); code != http.StatusOK || res.Accepted != 2 {
		t.Fatalf("STOP: status %d, %+v; want sms.inbound and consent.optout accepted", code, res)
	}
	if code, res := post(stop, sign(stop)); code != http.StatusOK || res.Duplicates != 2 || res.Accepted != 0 {
		t.Fatalf("STOP redelivered: status %d, %+v; want 2 duplicates", code, res)
	}
	if ok, reason := smsAllowed(); ok || reason != gateway.ReasonOptedOut {
		t.Fatalf("after STOP: allowed=%v reason=%q, want dropped as opted_out", ok, reason)
	}

	start := form("MessageSid", "SM0000000000000000000000000000e2e2", "From", "+34600111222", "To", "+34911234567", "Body", "START", "SmsStatus", "received")
	if code, res := post(start, sign(start)); code != http.StatusOK || res.Accepted != 2 {
		t.Fatalf("START: status %d, %+v", code, res)
	}
	if ok, reason := smsAllowed(); !ok {
		t.Fatalf("after START: still dropped (%s)", reason)
	}

	ringing := form("CallSid", "CA0000000000000000000000000000e2e3", "CallStatus", "ringing", "Direction", "inbound", "From", "+34600111222", "To", "+34911234567")
	if code, res := post(ringing, sign(ringing)); code != http.StatusOK || res.Ignored != 1 {
		t.Fatalf("ringing: status %d, %+v; want ignored", code, res)
	}
}
