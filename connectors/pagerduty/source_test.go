package pagerduty

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hush-gateway/hush/gateway"
)

// The test vector published with go-pagerduty's webhookv3 package: its secret, and the
// signature of testdata/go_pagerduty_priority_updated.json (its defaultBody, byte for byte).
const (
	vectorSecret    = "lDQHScfUeXUKaQRNF+8XIiDKZ7XX3itBAYzwU0TARw8lJqRnkKl2iB1anSb0Z+IK"
	vectorSignature = "v1=0c0b9495b893a39e70d1fea2fe11fbe0a825f88b9f67846f6cc07dd2bc5476cd"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sign computes X-PagerDuty-Signature from the documented scheme, independently of the code
// under test: "v1=" + hex(HMAC-SHA256(secret, body)).
func sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "v1=" + hex.EncodeToString(m.Sum(nil))
}

func request(sig string, body []byte) *gateway.WebhookRequest {
	h := http.Header{}
	if sig != "" {
		h.Set(HeaderSignature, sig)
	}
	return &gateway.WebhookRequest{Source: "pd", Method: http.MethodPost, Header: h, Body: body, ReceivedAt: goldenReceivedAt}
}

func reasonOf(err error) gateway.VerifyReason {
	var v *gateway.VerifyError
	if errors.As(err, &v) {
		return v.Reason
	}
	return ""
}

func newSource(t testing.TB, cfg gateway.SourceConfig) *Source {
	t.Helper()
	cfg.Name, cfg.Kind = "pd", Kind
	src, err := NewSource(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func TestVerifyPublishedVector(t *testing.T) {
	src := newSource(t, gateway.SourceConfig{Secret: vectorSecret})
	body := readTestdata(t, "go_pagerduty_priority_updated.json")
	if got := sign(vectorSecret, body); got != vectorSignature {
		t.Fatalf("the documented scheme gives %s, the published vector says %s", got, vectorSignature)
	}
	flipped := append([]byte(nil), body...)
	flipped[len(flipped)/2] ^= 0x01
	other := sign("another secret", body)

	tests := []struct {
		name string
		sig  string
		body []byte
		want gateway.VerifyReason
	}{
		{"published vector", vectorSignature, body, ""},
		{"rotation: valid signature second", other + "," + vectorSignature, body, ""},
		{"rotation: valid signature first", vectorSignature + "," + other, body, ""},
		{"rotation list with spaces", other + ", " + vectorSignature, body, ""},
		{"unknown versions beside v1 are skipped", "v2=abcd," + vectorSignature, body, ""},
		{"upper-case hex", "v1=" + strings.ToUpper(strings.TrimPrefix(vectorSignature, "v1=")), body, ""},
		{"one flipped body byte", vectorSignature, flipped, gateway.VerifyBadSignature},
		{"another secret's signature", other, body, gateway.VerifyBadSignature},
		{"empty body", vectorSignature, nil, gateway.VerifyBadSignature},
		{"missing header", "", body, gateway.VerifyMissingHeader},
		{"blank header", "   ", body, gateway.VerifyMissingHeader},
		{"no version", strings.TrimPrefix(vectorSignature, "v1="), body, gateway.VerifyMalformedHeader},
		{"other scheme's prefix", "sha256=" + strings.TrimPrefix(vectorSignature, "v1="), body, gateway.VerifyMalformedHeader},
		{"v1 not hex", "v1=not-hex", body, gateway.VerifyMalformedHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := src.Verify(request(tt.sig, tt.body))
			if got := reasonOf(err); got != tt.want {
				t.Fatalf("Verify = %v, want reason %q", err, tt.want)
			}
			if err != nil && (strings.Contains(err.Error(), vectorSecret[:10]) || strings.Contains(err.Error(), "0c0b9495")) {
				t.Errorf("error %q leaks the secret or the expected signature", err)
			}
		})
	}
}

func TestVerifyFixturesAndInsecure(t *testing.T) {
	body := readTestdata(t, "triggered_v3.json")
	tests := []struct {
		name string
		cfg  gateway.SourceConfig
		sig  string
		want gateway.VerifyReason
	}{
		{"fixture signed with the configured secret", gateway.SourceConfig{Secret: "s3cr3t"}, sign("s3cr3t", body), ""},
		{"insecure without secret accepts unsigned", gateway.SourceConfig{Insecure: true}, "", ""},
		{"insecure with a secret still verifies", gateway.SourceConfig{Secret: "s3cr3t", Insecure: true}, sign("x", body), gateway.VerifyBadSignature},
		{"insecure with a secret needs the header", gateway.SourceConfig{Secret: "s3cr3t", Insecure: true}, "", gateway.VerifyMissingHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := newSource(t, tt.cfg).Verify(request(tt.sig, body))
			if got := reasonOf(err); got != tt.want {
				t.Fatalf("Verify = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestNewSourceErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  gateway.SourceConfig
		want string
	}{
		{"no secret", gateway.SourceConfig{}, `source "pd" has no secret; set secret or insecure: true`},
		{"unknown option", gateway.SourceConfig{Secret: "k", Options: map[string]any{"service": "P1"}}, `unknown option "service" for kind "pagerduty"`},
		{"scope not a string", gateway.SourceConfig{Secret: "k", Options: map[string]any{"scope": 3}}, `option "scope" for kind "pagerduty": want a string`},
		{"scope neither all nor tag", gateway.SourceConfig{Secret: "k", Options: map[string]any{"scope": "segment:vip"}}, `"all" or "tag:<tag>"`},
		{"empty tag", gateway.SourceConfig{Secret: "k", Options: map[string]any{"scope": "tag: "}}, `"all" or "tag:<tag>"`},
		{"unknown urgency", gateway.SourceConfig{Secret: "k", Options: map[string]any{"urgencies": []any{"high", "urgent"}}}, `item 1 must be "high" or "low"`},
		{"empty service", gateway.SourceConfig{Secret: "k", Options: map[string]any{"services": []any{""}}}, `item 0 is empty`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Name, tt.cfg.Kind = "pd", Kind
			_, err := NewSource(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewSource = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestNewSourceOptions(t *testing.T) {
	src := newSource(t, gateway.SourceConfig{Secret: "k", Options: map[string]any{
		"scope": " tag:fibra ", "services": []any{" PA2P440 ", "Checkout"}, "urgencies": "HIGH",
	}})
	if src.scope != "tag:fibra" || strings.Join(src.services, "|") != "PA2P440|Checkout" || strings.Join(src.urgencies, "|") != "high" {
		t.Fatalf("options read as scope %q services %q urgencies %q", src.scope, src.services, src.urgencies)
	}
	if def := newSource(t, gateway.SourceConfig{Secret: "k"}); def.scope != "all" || def.services != nil || def.urgencies != nil {
		t.Fatalf("defaults: %+v", def)
	}
}
