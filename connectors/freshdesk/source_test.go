package freshdesk

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/hush-gateway/hush/gateway"
)

const testSecret = "s3cr3t-token-4f9a"

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func reasonOf(err error) gateway.VerifyReason {
	var v *gateway.VerifyError
	if errors.As(err, &v) {
		return v.Reason
	}
	return ""
}

func TestVerify(t *testing.T) {
	tests := []struct {
		name    string
		opts    map[string]any
		headers map[string]string
		want    gateway.VerifyReason
		mention string
	}{
		{"token header", nil, map[string]string{"X-Hush-Token": testSecret}, "", ""},
		{"token header, any case", nil, map[string]string{"x-hush-token": testSecret}, "", ""},
		{"basic, secret as password", nil, map[string]string{"Authorization": basic("freshdesk", testSecret)}, "", ""},
		{"basic, secret as user (API key form)", nil, map[string]string{"Authorization": basic(testSecret, "X")}, "", ""},
		{"basic wrong, header right", nil, map[string]string{"Authorization": basic("a", "b"), "X-Hush-Token": testSecret}, "", ""},
		{"custom header option", map[string]any{"header": "X-Freshdesk-Token"}, map[string]string{"X-Freshdesk-Token": testSecret}, "", ""},
		{"default header ignored when another is configured", map[string]any{"header": "X-Freshdesk-Token"}, map[string]string{"X-Hush-Token": testSecret}, gateway.VerifyMissingHeader, "X-Freshdesk-Token"},
		{"previous secret", map[string]any{"previous_secrets": []any{"old-token"}}, map[string]string{"X-Hush-Token": "old-token"}, "", ""},
		{"wrong token", nil, map[string]string{"X-Hush-Token": "s3cr3t-token-4f9b"}, gateway.VerifyBadSignature, ""},
		{"token with a suffix", nil, map[string]string{"X-Hush-Token": testSecret + "x"}, gateway.VerifyBadSignature, ""},
		{"basic with wrong password", nil, map[string]string{"Authorization": basic("freshdesk", "nope")}, gateway.VerifyBadSignature, ""},
		{"basic with empty password and user", nil, map[string]string{"Authorization": basic("", "")}, gateway.VerifyBadSignature, ""},
		{"bearer from a proxy, token header right", nil, map[string]string{"Authorization": "Bearer abc", "X-Hush-Token": testSecret}, "", ""},
		{"bearer from a proxy, token header wrong", nil, map[string]string{"Authorization": "Bearer abc", "X-Hush-Token": "nope"}, gateway.VerifyBadSignature, ""},
		{"nothing sent", nil, nil, gateway.VerifyMissingHeader, "X-Hush-Token"},
		{"bearer instead of basic", nil, map[string]string{"Authorization": "Bearer " + testSecret}, gateway.VerifyMalformedHeader, "basic"},
		{"basic not base64", nil, map[string]string{"Authorization": "Basic %%%"}, gateway.VerifyMalformedHeader, "base64"},
		{"basic without colon", nil, map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(testSecret))}, gateway.VerifyMalformedHeader, "user:password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := NewSource(gateway.SourceConfig{Name: "freshdesk", Kind: Kind, Secret: testSecret, Options: tt.opts})
			if err != nil {
				t.Fatal(err)
			}
			h := http.Header{}
			for k, v := range tt.headers {
				h.Set(k, v)
			}
			err = src.Verify(&gateway.WebhookRequest{Header: h, Body: []byte(`{}`)})
			if got := reasonOf(err); got != tt.want {
				t.Fatalf("Verify = %v, want reason %q", err, tt.want)
			}
			if err != nil && !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q does not mention %q", err, tt.mention)
			}
			if err != nil && strings.Contains(err.Error(), testSecret) {
				t.Errorf("error %q leaks the secret", err)
			}
		})
	}
}

func TestVerifyInsecure(t *testing.T) {
	open, err := NewSource(gateway.SourceConfig{Name: "fd", Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := open.Verify(&gateway.WebhookRequest{Header: http.Header{}}); err != nil {
		t.Fatalf("insecure without secret: %v", err)
	}
	guarded, err := NewSource(gateway.SourceConfig{Name: "fd", Insecure: true, Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	if reasonOf(guarded.Verify(&gateway.WebhookRequest{Header: http.Header{}})) != gateway.VerifyMissingHeader {
		t.Fatal("insecure with a secret accepted an unauthenticated delivery")
	}
}

func TestNewSourceErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  gateway.SourceConfig
		want string
	}{
		{"no secret", gateway.SourceConfig{Name: "fd"}, `source "fd": no secret; set secret (`},
		{"unknown option", gateway.SourceConfig{Name: "fd", Secret: "k", Options: map[string]any{"domain": "acme"}}, `unknown option "domain" for kind "freshdesk"`},
		{"header with a space", gateway.SourceConfig{Name: "fd", Secret: "k", Options: map[string]any{"header": "X Token"}}, "HTTP header name"},
		{"header Authorization", gateway.SourceConfig{Name: "fd", Secret: "k", Options: map[string]any{"header": "authorization"}}, "cannot be Authorization"},
		{"previous without current", gateway.SourceConfig{Name: "fd", Insecure: true, Options: map[string]any{"previous_secrets": []any{"old"}}}, "secret is empty"},
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
