package delighted

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

const testSecret = "dlt-webhook-secret-for-tests"

func newTestSource(t testing.TB, cfg gateway.SourceConfig) *Source {
	t.Helper()
	if cfg.Name == "" {
		cfg.Name = "delighted"
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
	return &gateway.WebhookRequest{Source: "delighted", Method: "POST", Header: h, Body: body,
		ReceivedAt: time.Date(2026, 11, 20, 9, 45, 0, 0, time.UTC)}
}

// independentSign computes the documented scheme without the package's helpers.
func independentSign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func reasonOf(err error) gateway.VerifyReason {
	var v *gateway.VerifyError
	if errors.As(err, &v) {
		return v.Reason
	}
	return ""
}

func TestVerify(t *testing.T) {
	body, err := os.ReadFile("testdata/survey_response_updated_promoter.json")
	if err != nil {
		t.Fatal(err)
	}
	good := independentSign(testSecret, body)
	flipped := append([]byte(nil), body...)
	flipped[len(flipped)/2] ^= 0x01

	tests := []struct {
		name string
		sig  string
		body []byte
		want gateway.VerifyReason
	}{
		{"valid", good, body, ""},
		{"valid, upper-case hex and prefix", "SHA256=" + strings.ToUpper(strings.TrimPrefix(good, "sha256=")), body, ""},
		{"one flipped body byte", good, flipped, gateway.VerifyBadSignature},
		{"signed with another secret", independentSign("other", body), body, gateway.VerifyBadSignature},
		{"truncated digest", good[:41], body, gateway.VerifyBadSignature},
		{"missing header", "", body, gateway.VerifyMissingHeader},
		{"no sha256= prefix", strings.TrimPrefix(good, "sha256="), body, gateway.VerifyMalformedHeader},
		{"other algorithm", "sha1=" + strings.TrimPrefix(good, "sha256="), body, gateway.VerifyMalformedHeader},
		{"not hex", "sha256=zz" + good[9:], body, gateway.VerifyMalformedHeader},
		{"prefix only", "sha256=", body, gateway.VerifyMalformedHeader},
	}
	src := newTestSource(t, gateway.SourceConfig{Secret: testSecret})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := src.Verify(request(tt.sig, tt.body))
			if got := reasonOf(err); got != tt.want {
				t.Fatalf("Verify = %v, want reason %q", err, tt.want)
			}
			if err != nil && (strings.Contains(err.Error(), testSecret) || strings.Contains(err.Error(), good[7:])) {
				t.Fatalf("error %q leaks the secret or the expected signature", err)
			}
		})
	}
}

func TestSignMatchesIndependentComputation(t *testing.T) {
	body := []byte(`{"event_type":"survey_response.created"}`)
	if got, want := Sign([]byte(testSecret), body), independentSign(testSecret, body); got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

func TestVerifyInsecure(t *testing.T) {
	body := []byte(`{"event_type":"survey_response.created"}`)
	open := newTestSource(t, gateway.SourceConfig{Insecure: true})
	if err := open.Verify(request("", body)); err != nil {
		t.Fatalf("insecure source without secret refused an unsigned delivery: %v", err)
	}
	// With a secret, insecure changes nothing: every delivery is verified.
	signed := newTestSource(t, gateway.SourceConfig{Secret: testSecret, Insecure: true})
	if err := signed.Verify(request("", body)); reasonOf(err) != gateway.VerifyMissingHeader {
		t.Fatalf("insecure source with a secret accepted an unsigned delivery: %v", err)
	}
}

func TestNewSourceErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  gateway.SourceConfig
		want string
	}{
		{"no secret", gateway.SourceConfig{Name: "nps"}, `source "nps" has no secret`},
		{"unknown option", gateway.SourceConfig{Name: "nps", Secret: "k", Options: map[string]any{"surveytype": "csat"}}, `unknown option "surveytype"`},
		{"unknown survey type", gateway.SourceConfig{Name: "nps", Secret: "k", Options: map[string]any{"survey_type": "likert"}}, `"survey_type"`},
		{"bad ces scale", gateway.SourceConfig{Name: "nps", Secret: "k", Options: map[string]any{"ces_scale": 10}}, "want 5 or 7"},
		{"ces scale not a number", gateway.SourceConfig{Name: "nps", Secret: "k", Options: map[string]any{"ces_scale": "five"}}, "whole number"},
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
