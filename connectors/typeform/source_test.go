package typeform

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

const testSecret = "tf-webhook-secret-for-tests"

// Typeform's own test vector (Typeform/js-api-client, tests/unit/verify-signature.test.ts).
const (
	vectorSecret    = "my-webook-secret"
	vectorBody      = `{"foo":"bar"}`
	vectorSignature = "sha256=X2b3nUhiGjaWHxmPO/YQzUvHXBNac4gPjZ5/bjXrhQY="
)

func newTestSource(t testing.TB, cfg gateway.SourceConfig) *Source {
	t.Helper()
	if cfg.Name == "" {
		cfg.Name = "typeform"
	}
	cfg.Kind = Kind
	s, err := NewSource(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func request(sig string, body []byte) *gateway.WebhookRequest {
	h := http.Header{}
	if sig != "" {
		h.Set(HeaderSignature, sig)
	}
	return &gateway.WebhookRequest{Source: "typeform", Method: "POST", Header: h, Body: body,
		ReceivedAt: time.Date(2026, 11, 20, 9, 45, 0, 0, time.UTC)}
}

func independentSign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func reasonOf(err error) gateway.VerifyReason {
	var v *gateway.VerifyError
	if errors.As(err, &v) {
		return v.Reason
	}
	return ""
}

func TestVerifyPublishedVector(t *testing.T) {
	src := newTestSource(t, gateway.SourceConfig{Secret: vectorSecret})
	if err := src.Verify(request(vectorSignature, []byte(vectorBody))); err != nil {
		t.Fatalf("Typeform's published vector refused: %v", err)
	}
	if got := Sign([]byte(vectorSecret), []byte(vectorBody)); got != vectorSignature {
		t.Fatalf("Sign = %s, want %s", got, vectorSignature)
	}
	if err := src.Verify(request("sha256=foobar123", []byte(vectorBody))); err == nil {
		t.Fatal("the vector's wrong signature accepted")
	}
}

func TestVerify(t *testing.T) {
	body, err := os.ReadFile("testdata/form_response_incoming_webhook.json")
	if err != nil {
		t.Fatal(err)
	}
	good := independentSign(testSecret, body)
	flipped := append([]byte(nil), body...)
	flipped[len(flipped)/2] ^= 0x01
	digest := strings.TrimPrefix(good, "sha256=")
	raw, _ := base64.StdEncoding.DecodeString(digest)

	tests := []struct {
		name string
		sig  string
		body []byte
		want gateway.VerifyReason
	}{
		{"valid", good, body, ""},
		{"valid, unpadded base64", "sha256=" + strings.TrimRight(digest, "="), body, ""},
		{"one flipped body byte", good, flipped, gateway.VerifyBadSignature},
		{"signed with another secret", independentSign("other", body), body, gateway.VerifyBadSignature},
		{"hex instead of base64", "sha256=" + strings.Repeat("ab", 32), body, gateway.VerifyBadSignature},
		{"truncated digest", "sha256=" + base64.StdEncoding.EncodeToString(raw[:16]), body, gateway.VerifyBadSignature},
		{"missing header", "", body, gateway.VerifyMissingHeader},
		{"no sha256= prefix", digest, body, gateway.VerifyMalformedHeader},
		{"other algorithm", "sha1=" + digest, body, gateway.VerifyMalformedHeader},
		{"not base64", "sha256=!!!not-base64!!!", body, gateway.VerifyMalformedHeader},
		{"prefix only", "sha256=", body, gateway.VerifyMalformedHeader},
	}
	src := newTestSource(t, gateway.SourceConfig{Secret: testSecret})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := src.Verify(request(tt.sig, tt.body))
			if got := reasonOf(err); got != tt.want {
				t.Fatalf("Verify = %v, want reason %q", err, tt.want)
			}
			if err != nil && (strings.Contains(err.Error(), testSecret) || strings.Contains(err.Error(), digest)) {
				t.Fatalf("error %q leaks the secret or the expected signature", err)
			}
		})
	}
}

func TestVerifyInsecure(t *testing.T) {
	body := []byte(vectorBody)
	if err := newTestSource(t, gateway.SourceConfig{Insecure: true}).Verify(request("", body)); err != nil {
		t.Fatalf("insecure source without secret refused an unsigned delivery: %v", err)
	}
	err := newTestSource(t, gateway.SourceConfig{Secret: testSecret, Insecure: true}).Verify(request("", body))
	if reasonOf(err) != gateway.VerifyMissingHeader {
		t.Fatalf("insecure source with a secret accepted an unsigned delivery: %v", err)
	}
}

func TestNewSourceErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  gateway.SourceConfig
		want string
	}{
		{"no secret", gateway.SourceConfig{Name: "tf"}, `source "tf" has no secret`},
		{"unknown option", gateway.SourceConfig{Name: "tf", Secret: "k", Options: map[string]any{"score_ref": "q1"}}, `unknown option "score_ref"`},
		{"ref not a string", gateway.SourceConfig{Name: "tf", Secret: "k", Options: map[string]any{"csat_ref": 3}}, `"csat_ref"`},
		{"bad id kind", gateway.SourceConfig{Name: "tf", Secret: "k", Options: map[string]any{"id_kind": "email"}}, `"id_kind"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewSource(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewSource = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
