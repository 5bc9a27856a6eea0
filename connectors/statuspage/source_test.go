package statuspage

import (
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hush-gateway/hush/gateway"
)

const testSecret = "9f2c1e7a54b3d8e0a6c4f1b2d3e5a7c9"

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// request is a delivery to /webhooks/sp with the raw query given.
func request(rawQuery string, body []byte) *gateway.WebhookRequest {
	return &gateway.WebhookRequest{
		Source: "sp", Method: http.MethodPost, Header: http.Header{"Content-Type": {"application/json"}},
		URL: &url.URL{Path: "/webhooks/sp", RawQuery: rawQuery}, Body: body, ReceivedAt: goldenReceivedAt,
	}
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
	cfg.Name, cfg.Kind = "sp", Kind
	src, err := NewSource(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func TestVerifyQuerySecret(t *testing.T) {
	body := readTestdata(t, "incident_created.json")
	tests := []struct {
		name  string
		cfg   gateway.SourceConfig
		query string
		want  gateway.VerifyReason
	}{
		{"secret in the query", gateway.SourceConfig{Secret: testSecret}, "secret=" + testSecret, ""},
		{"beside other parameters", gateway.SourceConfig{Secret: testSecret}, "utm=x&secret=" + testSecret + "&b=2", ""},
		{"percent-encoded secret", gateway.SourceConfig{Secret: "a b&c/d"}, "secret=" + url.QueryEscape("a b&c/d"), ""},
		{"custom parameter name", gateway.SourceConfig{Secret: testSecret, Options: map[string]any{"param": "token"}}, "token=" + testSecret, ""},
		{"custom name: default name not read", gateway.SourceConfig{Secret: testSecret, Options: map[string]any{"param": "token"}}, "secret=" + testSecret, gateway.VerifyMissingHeader},
		{"wrong secret", gateway.SourceConfig{Secret: testSecret}, "secret=" + strings.Repeat("0", len(testSecret)), gateway.VerifyBadSignature},
		{"one character off", gateway.SourceConfig{Secret: testSecret}, "secret=" + testSecret[:len(testSecret)-1] + "x", gateway.VerifyBadSignature},
		{"a prefix of the secret", gateway.SourceConfig{Secret: testSecret}, "secret=" + testSecret[:8], gateway.VerifyBadSignature},
		{"no query", gateway.SourceConfig{Secret: testSecret}, "", gateway.VerifyMissingHeader},
		{"empty value", gateway.SourceConfig{Secret: testSecret}, "secret=", gateway.VerifyMissingHeader},
		{"repeated parameter", gateway.SourceConfig{Secret: testSecret}, "secret=" + testSecret + "&secret=" + testSecret, gateway.VerifyMalformedHeader},
		{"half-broken query keeps the good pair", gateway.SourceConfig{Secret: testSecret}, "x=%zz&secret=" + testSecret, ""},
		{"insecure without secret accepts", gateway.SourceConfig{Insecure: true}, "", ""},
		{"insecure with a secret still checks", gateway.SourceConfig{Secret: testSecret, Insecure: true}, "secret=nope", gateway.VerifyBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := newSource(t, tt.cfg).Verify(request(tt.query, body))
			if got := reasonOf(err); got != tt.want {
				t.Fatalf("Verify = %v, want reason %q", err, tt.want)
			}
			if err != nil && (strings.Contains(err.Error(), testSecret[:8]) || strings.Contains(err.Error(), "nope")) {
				t.Errorf("error %q echoes a secret", err)
			}
		})
	}
	// A request without a URL at all (a caller that did not set it) is a missing secret.
	req := request("", body)
	req.URL = nil
	if err := newSource(t, gateway.SourceConfig{Secret: testSecret}).Verify(req); reasonOf(err) != gateway.VerifyMissingHeader {
		t.Fatalf("nil URL: %v", err)
	}
}

func TestNewSourceErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  gateway.SourceConfig
		want string
	}{
		{"no secret", gateway.SourceConfig{}, `source "sp" has no secret; set secret or insecure: true`},
		{"unknown option", gateway.SourceConfig{Secret: "k", Options: map[string]any{"services": "x"}}, `unknown option "services" for kind "statuspage"`},
		{"bad scope", gateway.SourceConfig{Secret: "k", Options: map[string]any{"scope": "everyone"}}, `"all" or "tag:<tag>"`},
		{"empty param", gateway.SourceConfig{Secret: "k", Options: map[string]any{"param": " "}}, `option "param" for kind "statuspage" is empty`},
		{"maintenance not a bool", gateway.SourceConfig{Secret: "k", Options: map[string]any{"maintenance": "yes"}}, `option "maintenance" for kind "statuspage": want true or false`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Name, tt.cfg.Kind = "sp", Kind
			_, err := NewSource(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewSource = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
