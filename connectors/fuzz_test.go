package connectors

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// sourceKinds lists the kinds with an inbound side, in All's order.
func sourceKinds() []Kind {
	var kinds []Kind
	for _, k := range All() {
		if k.NewSource != nil {
			kinds = append(kinds, k)
		}
	}
	return kinds
}

// forgeryHeaders are the authentication headers the sources read, so that the fuzzer starts
// from deliveries that carry a signature of the right shape (and a wrong value).
var forgeryHeaders = map[string]string{
	"aircall":    "Content-Type: application/json",
	"delighted":  "X-Delighted-Webhook-Signature: sha256=00ff",
	"freshdesk":  "X-Hush-Token: guess\nAuthorization: Basic Z3Vlc3M6Z3Vlc3M=",
	"generic":    "webhook-id: msg_1\nwebhook-timestamp: 1764928800\nwebhook-signature: v1,AAAA v1a,BBBB",
	"helpscout":  "X-HelpScout-Signature: AAAA",
	"intercom":   "X-Hub-Signature: sha1=00ff",
	"pagerduty":  "X-PagerDuty-Signature: v1=00ff,v1=aa",
	"statuspage": "Content-Type: application/json",
	"twilio":     "X-Twilio-Signature: AAAA\nContent-Type: application/x-www-form-urlencoded",
	"typeform":   "Typeform-Signature: sha256=AAAA",
	"zendesk":    "X-Zendesk-Webhook-Signature: AAAA\nX-Zendesk-Webhook-Signature-Timestamp: 2026-12-05T09:00:00Z",
}

// FuzzVerifyForged: every source connector refuses a delivery it cannot authenticate. The
// secret is random per run, so no input the fuzzer makes can carry a valid signature or
// token: Verify must return a *gateway.VerifyError for all of them (a forged webhook never
// silences anyone) and must not panic on any header or body. Seeds are each connector's
// testdata fixtures with headers of the right shape.
func FuzzVerifyForged(f *testing.F) {
	kinds := sourceKinds()
	for i, k := range kinds {
		files, _ := filepath.Glob(filepath.Join(k.Name, "testdata", "*.json"))
		forms, _ := filepath.Glob(filepath.Join(k.Name, "testdata", "*.form"))
		files = append(files, forms...)
		n := 0
		for _, name := range files {
			if strings.HasSuffix(name, ".golden.json") || n == 2 {
				continue
			}
			body, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(uint8(i), forgeryHeaders[k.Name], "token=guess", body)
			n++
		}
		f.Add(uint8(i), forgeryHeaders[k.Name], "", []byte(`{}`))
	}
	secretBytes := make([]byte, 32)
	if _, err := rand.Read(secretBytes); err != nil {
		f.Fatal(err)
	}
	secret := hex.EncodeToString(secretBytes)
	sources := make([]gateway.Connector, len(kinds))
	for i, k := range kinds {
		cfg := gateway.SourceConfig{Name: "s", Kind: k.Name, Secret: secret, DefaultRegion: "ES"}
		if k.Name == "twilio" {
			cfg.Secret = ""
			cfg.Options = map[string]any{"auth_token": secret, "public_url": "https://hush.example/webhooks/s"}
		}
		src, err := Source(cfg)
		if err != nil {
			f.Fatalf("build %s source: %v", k.Name, err)
		}
		sources[i] = src
	}
	at := time.Date(2026, 12, 5, 9, 0, 30, 0, time.UTC)
	f.Fuzz(func(t *testing.T, which uint8, headers, query string, body []byte) {
		i := int(which) % len(kinds)
		h := http.Header{}
		for _, line := range strings.Split(headers, "\n") {
			if name, value, ok := strings.Cut(line, ":"); ok {
				h.Add(strings.TrimSpace(name), strings.TrimSpace(value))
			}
		}
		req := &gateway.WebhookRequest{
			Source: "s", Method: http.MethodPost, Header: h, Body: body, ReceivedAt: at,
			URL: &url.URL{Path: "/webhooks/s", RawQuery: query},
		}
		err := sources[i].Verify(req)
		if err == nil {
			t.Fatalf("%s accepted a delivery signed without the secret: headers %q, query %q", kinds[i].Name, headers, query)
		}
		if !gateway.IsVerifyError(err) {
			t.Fatalf("%s: Verify error is %T %v, want a *gateway.VerifyError", kinds[i].Name, err, err)
		}
		if strings.Contains(err.Error(), secret) {
			t.Fatalf("%s: Verify error names the secret", kinds[i].Name)
		}
	})
}
