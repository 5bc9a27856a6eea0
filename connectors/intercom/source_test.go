package intercom

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

const testSecret = "intercom-client-secret-for-tests"

// independentSign computes the documented scheme with the standard library directly, so the
// tests do not check Sign against itself: "sha1=" + hex(HMAC-SHA1(client_secret, body)).
func independentSign(secret string, body []byte) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write(body)
	return "sha1=" + hex.EncodeToString(m.Sum(nil))
}

func request(sig string, body []byte) *gateway.WebhookRequest {
	h := http.Header{}
	if sig != "" {
		h.Set(HeaderSignature, sig)
	}
	return &gateway.WebhookRequest{Source: "intercom", Method: http.MethodPost, Header: h, Body: body,
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
	body, err := os.ReadFile(filepath.Join("testdata", "conversation_user_created.json"))
	if err != nil {
		t.Fatal(err)
	}
	src, err := NewSource(gateway.SourceConfig{Name: "intercom", Kind: Kind, Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	good := independentSign(testSecret, body)
	flipped := append([]byte(nil), body...)
	flipped[len(flipped)/2] ^= 0x01
	hexOnly := strings.TrimPrefix(good, "sha1=")

	tests := []struct {
		name string
		sig  string
		body []byte
		want gateway.VerifyReason
	}{
		{"valid", good, body, ""},
		{"upper-case hex and prefix", "SHA1=" + strings.ToUpper(hexOnly), body, ""},
		{"one flipped body byte", good, flipped, gateway.VerifyBadSignature},
		{"other secret", independentSign("other", body), body, gateway.VerifyBadSignature},
		{"truncated", good[:31], body, gateway.VerifyBadSignature},
		{"missing header", "", body, gateway.VerifyMissingHeader},
		{"not hex", "sha1=zz" + hexOnly[2:], body, gateway.VerifyMalformedHeader},
		{"other algorithm", "sha256=" + hexOnly, body, gateway.VerifyMalformedHeader},
		{"prefix only", "sha1=", body, gateway.VerifyMalformedHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := src.Verify(request(tt.sig, tt.body))
			if got := reasonOf(err); got != tt.want {
				t.Fatalf("Verify = %v, want reason %q", err, tt.want)
			}
			if err != nil && (strings.Contains(err.Error(), testSecret) || strings.Contains(err.Error(), hexOnly)) {
				t.Errorf("error %q leaks the secret or the expected signature", err)
			}
		})
	}
}

func TestVerifySecrets(t *testing.T) {
	body := []byte(`{"type":"notification_event","topic":"ping"}`)
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
			tt.cfg.Name, tt.cfg.Kind = "intercom", Kind
			src, err := NewSource(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got := reasonOf(src.Verify(request(tt.sig, body))); got != tt.want {
				t.Fatalf("Verify reason %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSign(t *testing.T) {
	body := []byte(`{"type":"notification_event"}`)
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
		{"no secret", gateway.SourceConfig{Name: "ic"}, `source "ic": no secret; set secret (`},
		{"unknown option", gateway.SourceConfig{Name: "ic", Secret: "k", Options: map[string]any{"public_url": "x"}}, `unknown option "public_url" for kind "intercom"`},
		{"previous without current", gateway.SourceConfig{Name: "ic", Insecure: true, Options: map[string]any{"previous_secrets": []any{"old"}}}, "secret is empty"},
		{"empty previous", gateway.SourceConfig{Name: "ic", Secret: "k", Options: map[string]any{"previous_secrets": []any{""}}}, "item 0 is empty"},
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

func TestSourceParse(t *testing.T) {
	src, err := NewSource(gateway.SourceConfig{Name: "support", Kind: Kind, Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := os.ReadFile(filepath.Join("testdata", "conversation_user_replied.json"))
	res, err := src.Parse(request(independentSign(testSecret, body), body))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != 1 || res.Events[0].Source != "support" || res.Events[0].ID != "notif_2c71fff0-65ef-46be-bbfe-dbf637bbff15" {
		t.Fatalf("Parse = %+v", res)
	}
}
