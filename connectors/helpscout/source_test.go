package helpscout

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// testSecret is at most 40 characters, as Help Scout requires of webhook secrets.
const testSecret = "mZ9XbGHodX-help-scout-test-secret"

// independentSign computes the documented scheme with the standard library directly, so the
// tests do not check Sign against itself: base64(HMAC-SHA1(secret, raw body)), as in Help
// Scout's own PHP example and its SDK's IncomingWebhook.
func independentSign(secret string, body []byte) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func request(event, sig string, body []byte) *gateway.WebhookRequest {
	h := http.Header{}
	if event != "" {
		h.Set(HeaderEvent, event)
	}
	if sig != "" {
		h.Set(HeaderSignature, sig)
	}
	return &gateway.WebhookRequest{Source: "helpscout", Method: http.MethodPost, Header: h, Body: body,
		ReceivedAt: time.Date(2026, 11, 20, 9, 45, 0, 0, time.UTC)}
}

func reasonOf(err error) gateway.VerifyReason {
	var v *gateway.VerifyError
	if errors.As(err, &v) {
		return v.Reason
	}
	return ""
}

func TestVerify(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("testdata", "satisfaction.ratings~docs_example.json"))
	if err != nil {
		t.Fatal(err)
	}
	src, err := NewSource(gateway.SourceConfig{Name: "helpscout", Kind: Kind, Secret: testSecret})
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
		{"valid without padding", strings.TrimRight(good, "="), body, ""},
		{"one flipped body byte", good, flipped, gateway.VerifyBadSignature},
		{"other secret", independentSign("other", body), body, gateway.VerifyBadSignature},
		{"hex instead of base64", "0123456789abcdef0123456789abcdef01234567", body, gateway.VerifyBadSignature},
		{"missing header", "", body, gateway.VerifyMissingHeader},
		{"not base64", "%%%not-base64%%%", body, gateway.VerifyMalformedHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := src.Verify(request(EventRating, tt.sig, tt.body))
			if got := reasonOf(err); got != tt.want {
				t.Fatalf("Verify = %v, want reason %q", err, tt.want)
			}
			if err != nil && (strings.Contains(err.Error(), testSecret) || strings.Contains(err.Error(), good)) {
				t.Errorf("error %q leaks the secret or the expected signature", err)
			}
		})
	}
}

func TestVerifySecrets(t *testing.T) {
	body := []byte(`{"id":123}`)
	tests := []struct {
		name string
		cfg  gateway.SourceConfig
		sig  string
		want gateway.VerifyReason
	}{
		{"previous secret still accepted", gateway.SourceConfig{Secret: "new", Options: map[string]any{"previous_secrets": []any{"old"}}}, independentSign("old", body), ""},
		{"current secret", gateway.SourceConfig{Secret: "new", Options: map[string]any{"previous_secrets": []any{"old"}}}, independentSign("new", body), ""},
		{"unknown secret", gateway.SourceConfig{Secret: "new"}, independentSign("old", body), gateway.VerifyBadSignature},
		{"insecure without secret accepts unsigned", gateway.SourceConfig{Insecure: true}, "", ""},
		{"insecure with a secret still verifies", gateway.SourceConfig{Secret: "k", Insecure: true}, independentSign("x", body), gateway.VerifyBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Name, tt.cfg.Kind = "helpscout", Kind
			src, err := NewSource(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got := reasonOf(src.Verify(request("helpscout.test", tt.sig, body))); got != tt.want {
				t.Fatalf("Verify reason %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSign(t *testing.T) {
	body := []byte(`{"id":123}`)
	if got, want := Sign([]byte(testSecret), body), independentSign(testSecret, body); got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

func TestNewSourceErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  gateway.SourceConfig
		want string
	}{
		{"no secret", gateway.SourceConfig{Name: "hs"}, `source "hs": no secret; set secret (`},
		{"unknown option", gateway.SourceConfig{Name: "hs", Secret: "k", Options: map[string]any{"mailbox": "x"}}, `unknown option "mailbox" for kind "helpscout"`},
		{"previous without current", gateway.SourceConfig{Name: "hs", Insecure: true, Options: map[string]any{"previous_secrets": []any{"old"}}}, "secret is empty"},
		{"empty previous", gateway.SourceConfig{Name: "hs", Secret: "k", Options: map[string]any{"previous_secrets": []any{""}}}, "item 0 is empty"},
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

func TestSourceParseReadsTheEventHeader(t *testing.T) {
	src, err := NewSource(gateway.SourceConfig{Name: "support", Kind: Kind, Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := os.ReadFile(filepath.Join("testdata", "convo.status~closed.json"))
	res, err := src.Parse(request(EventConvoStatus, independentSign(testSecret, body), body))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != 1 || res.Events[0].Source != "support" || res.Events[0].Type != gateway.EventTicketSolved {
		t.Fatalf("Parse = %+v", res)
	}
	if _, err := src.Parse(request("", "", body)); err == nil || !strings.Contains(err.Error(), HeaderEvent) {
		t.Fatalf("Parse without the event header = %v", err)
	}
}
