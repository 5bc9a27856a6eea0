package zendesk

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// signedAt is when the test deliveries were signed, as Zendesk writes the timestamp header.
const signedAt = "2026-11-20T09:12:08Z"

var signedTime = time.Date(2026, 11, 20, 9, 12, 8, 0, time.UTC)

const testBody = `{"type":"zen:event-type:ticket.created","id":"e1","detail":{"id":"5512","requester_id":"8841"}}`

// zendeskSignature computes the signature independently of the package, from the documented
// scheme: base64(HMACSHA256(TIMESTAMP + BODY)) keyed with the secret's characters.
func zendeskSignature(secret, timestamp, body string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp + body))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func request(ts, sig, body string, at time.Time) *gateway.WebhookRequest {
	h := http.Header{}
	if ts != "" {
		h.Set(HeaderTimestamp, ts)
	}
	if sig != "" {
		h.Set(HeaderSignature, sig)
	}
	return &gateway.WebhookRequest{Source: "zendesk", Method: http.MethodPost, Header: h, Body: []byte(body), ReceivedAt: at}
}

func reasonOf(err error) gateway.VerifyReason {
	var v *gateway.VerifyError
	if errors.As(err, &v) {
		return v.Reason
	}
	return ""
}

func TestVerifyWithZendeskTestSecret(t *testing.T) {
	src, err := NewSource(gateway.SourceConfig{Name: "zendesk", Kind: Kind, Secret: TestSigningSecret})
	if err != nil {
		t.Fatal(err)
	}
	good := zendeskSignature(TestSigningSecret, signedAt, testBody)
	flipped := []byte(testBody)
	flipped[len(flipped)-5] ^= 0x01
	// The secret base64-decoded is not the key: Zendesk uses its characters.
	decodedKey, _ := base64.StdEncoding.DecodeString(TestSigningSecret)
	withDecoded := zendeskSignature(string(decodedKey), signedAt, testBody)
	// The other order (body then timestamp) is not Zendesk's scheme.
	swapped := func() string {
		m := hmac.New(sha256.New, []byte(TestSigningSecret))
		m.Write([]byte(testBody + signedAt))
		return base64.StdEncoding.EncodeToString(m.Sum(nil))
	}()
	later := signedTime.Add(30 * time.Second)

	tests := []struct {
		name    string
		ts, sig string
		body    string
		at      time.Time
		want    gateway.VerifyReason
		mention string
	}{
		{"valid", signedAt, good, testBody, later, "", ""},
		{"valid without padding", signedAt, strings.TrimRight(good, "="), testBody, later, "", ""},
		{"one flipped body byte", signedAt, good, string(flipped), later, gateway.VerifyBadSignature, ""},
		{"other timestamp than signed", "2026-11-20T09:12:09Z", good, testBody, later, gateway.VerifyBadSignature, ""},
		{"key base64-decoded", signedAt, withDecoded, testBody, later, gateway.VerifyBadSignature, ""},
		{"body before timestamp", signedAt, swapped, testBody, later, gateway.VerifyBadSignature, ""},
		{"missing signature", signedAt, "", testBody, later, gateway.VerifyMissingHeader, HeaderSignature},
		{"missing timestamp", "", good, testBody, later, gateway.VerifyMissingHeader, HeaderTimestamp},
		{"timestamp in Unix seconds", "1795165928", good, testBody, later, gateway.VerifyMalformedHeader, HeaderTimestamp},
		{"signature not base64", signedAt, "not*base64!", testBody, later, gateway.VerifyMalformedHeader, "base64"},
		{"stale: 6 minutes later", signedAt, good, testBody, signedTime.Add(6 * time.Minute), gateway.VerifyStaleTimestamp, "old"},
		{"future: 6 minutes earlier", signedAt, good, testBody, signedTime.Add(-6 * time.Minute), gateway.VerifyStaleTimestamp, "future"},
		{"stale and forged: the signature fails first", signedAt, swapped, testBody, signedTime.Add(time.Hour), gateway.VerifyBadSignature, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := src.Verify(request(tt.ts, tt.sig, tt.body, tt.at))
			if got := reasonOf(err); got != tt.want {
				t.Fatalf("Verify = %v, want reason %q", err, tt.want)
			}
			if err != nil && !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q does not mention %q", err, tt.mention)
			}
			if err != nil && (strings.Contains(err.Error(), TestSigningSecret) || strings.Contains(err.Error(), good)) {
				t.Errorf("error %q leaks the secret or the expected signature", err)
			}
		})
	}
}

func TestSignMatchesTheDocumentedScheme(t *testing.T) {
	if got, want := Sign([]byte(TestSigningSecret), signedAt, []byte(testBody)), zendeskSignature(TestSigningSecret, signedAt, testBody); got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

func TestVerifySecretsAndTolerance(t *testing.T) {
	sig := func(secret string) string { return zendeskSignature(secret, signedAt, testBody) }
	tests := []struct {
		name string
		cfg  gateway.SourceConfig
		sig  string
		at   time.Time
		want gateway.VerifyReason
	}{
		{"own secret", gateway.SourceConfig{Secret: "HRkRd4BeOAoUkfZr-mhauJT64rvBASlJRoIyPsd3zeA="}, sig("HRkRd4BeOAoUkfZr-mhauJT64rvBASlJRoIyPsd3zeA="), signedTime, ""},
		{"previous secret still accepted", gateway.SourceConfig{Secret: "new", Options: map[string]any{"previous_secrets": []any{"old"}}}, sig("old"), signedTime, ""},
		{"unknown secret", gateway.SourceConfig{Secret: "new"}, sig("old"), signedTime, gateway.VerifyBadSignature},
		{"custom tolerance accepts 9 minutes", gateway.SourceConfig{Secret: "k", Tolerance: 10 * time.Minute}, sig("k"), signedTime.Add(9 * time.Minute), ""},
		{"custom tolerance rejects 11 minutes", gateway.SourceConfig{Secret: "k", Tolerance: 10 * time.Minute}, sig("k"), signedTime.Add(11 * time.Minute), gateway.VerifyStaleTimestamp},
		{"insecure without secret accepts unsigned", gateway.SourceConfig{Insecure: true}, "", signedTime, ""},
		{"insecure with a secret still verifies", gateway.SourceConfig{Secret: "k", Insecure: true}, sig("x"), signedTime, gateway.VerifyBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Name, tt.cfg.Kind = "zendesk", Kind
			src, err := NewSource(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			ts := signedAt
			if tt.sig == "" {
				ts = ""
			}
			if got := reasonOf(src.Verify(request(ts, tt.sig, testBody, tt.at))); got != tt.want {
				t.Fatalf("Verify reason = %q, want %q", got, tt.want)
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
		{"no secret", gateway.SourceConfig{Name: "zd"}, `source "zd": no secret; set secret (`},
		{"unknown option", gateway.SourceConfig{Name: "zd", Secret: "k", Options: map[string]any{"subdomain": "acme"}}, `unknown option "subdomain" for kind "zendesk"`},
		{"previous without current", gateway.SourceConfig{Name: "zd", Insecure: true, Options: map[string]any{"previous_secrets": []any{"old"}}}, "secret is empty"},
		{"empty previous", gateway.SourceConfig{Name: "zd", Secret: "k", Options: map[string]any{"previous_secrets": []any{""}}}, "item 0 is empty"},
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
