package generic

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// The test vector published with the Standard Webhooks reference libraries.
const (
	vectorSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTimestamp = "1614265330"
	vectorBody      = `{"test": 2432232314}`
	vectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func request(id, ts, sig, body string, at time.Time) *gateway.WebhookRequest {
	h := http.Header{}
	if id != "" {
		h.Set(HeaderID, id)
	}
	if ts != "" {
		h.Set(HeaderTimestamp, ts)
	}
	if sig != "" {
		h.Set(HeaderSignature, sig)
	}
	return &gateway.WebhookRequest{Source: "crm", Method: http.MethodPost, Header: h, Body: []byte(body), ReceivedAt: at}
}

func reasonOf(err error) gateway.VerifyReason {
	var v *gateway.VerifyError
	if errors.As(err, &v) {
		return v.Reason
	}
	return ""
}

func TestVerifyStandardWebhooksVector(t *testing.T) {
	src, err := NewSource(gateway.SourceConfig{Name: "crm", Kind: Kind, Secret: vectorSecret})
	if err != nil {
		t.Fatal(err)
	}
	sent, _ := strconv.ParseInt(vectorTimestamp, 10, 64)
	at := time.Unix(sent, 0).Add(30 * time.Second)

	flipped := []byte(vectorBody)
	flipped[len(flipped)-3] ^= 0x01
	otherSig := "v1," + base64.StdEncoding.EncodeToString(make([]byte, 32))

	tests := []struct {
		name          string
		id, ts, sig   string
		body          string
		at            time.Time
		want          gateway.VerifyReason
		detailMention string
	}{
		{"published vector", vectorID, vectorTimestamp, vectorSignature, vectorBody, at, "", ""},
		{"rotated list, valid one second", vectorID, vectorTimestamp, otherSig + " " + vectorSignature, vectorBody, at, "", ""},
		{"rotated list with an unknown version", vectorID, vectorTimestamp, "v1a,AAAA " + vectorSignature, vectorBody, at, "", ""},
		{"one flipped body byte", vectorID, vectorTimestamp, vectorSignature, string(flipped), at, gateway.VerifyBadSignature, ""},
		{"other id", "msg_other", vectorTimestamp, vectorSignature, vectorBody, at, gateway.VerifyBadSignature, ""},
		{"only wrong signatures", vectorID, vectorTimestamp, otherSig, vectorBody, at, gateway.VerifyBadSignature, ""},
		{"missing id", "", vectorTimestamp, vectorSignature, vectorBody, at, gateway.VerifyMissingHeader, HeaderID},
		{"missing timestamp", vectorID, "", vectorSignature, vectorBody, at, gateway.VerifyMissingHeader, HeaderTimestamp},
		{"missing signature", vectorID, vectorTimestamp, "", vectorBody, at, gateway.VerifyMissingHeader, HeaderSignature},
		{"timestamp not a number", vectorID, "2021-02-25", vectorSignature, vectorBody, at, gateway.VerifyMalformedHeader, HeaderTimestamp},
		{"signature without version", vectorID, vectorTimestamp, "g0hM9SsE+OTPJTGt", vectorBody, at, gateway.VerifyMalformedHeader, ""},
		{"only v1a signatures", vectorID, vectorTimestamp, "v1a,AAAA", vectorBody, at, gateway.VerifyMalformedHeader, "v1"},
		{"stale: 6 minutes later", vectorID, vectorTimestamp, vectorSignature, vectorBody, time.Unix(sent, 0).Add(6 * time.Minute), gateway.VerifyStaleTimestamp, "old"},
		{"future: 6 minutes earlier", vectorID, vectorTimestamp, vectorSignature, vectorBody, time.Unix(sent, 0).Add(-6 * time.Minute), gateway.VerifyStaleTimestamp, "future"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := src.Verify(request(tt.id, tt.ts, tt.sig, tt.body, tt.at))
			if got := reasonOf(err); got != tt.want {
				t.Fatalf("Verify = %v, want reason %q", err, tt.want)
			}
			if err != nil && !strings.Contains(err.Error(), tt.detailMention) {
				t.Errorf("error %q does not mention %q", err, tt.detailMention)
			}
			if err != nil && strings.Contains(err.Error(), "MfKQ9r8") {
				t.Errorf("error %q leaks the secret", err)
			}
		})
	}
}

func TestVerifySecretsAndTolerance(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	// Independent computation of a signature with a raw (non-whsec_) secret: its bytes are
	// the key as written.
	raw := func(secret, id, body string) string {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte(id + "." + ts + "." + body))
		return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
	}
	body := `{"type":"call.missed","customer":{"email":"a@x.com"}}`

	tests := []struct {
		name string
		cfg  gateway.SourceConfig
		sig  string
		at   time.Time
		want gateway.VerifyReason
	}{
		{"raw secret", gateway.SourceConfig{Secret: "plain-text-key"}, raw("plain-text-key", "m1", body), now, ""},
		{"raw secret is not base64-decoded", gateway.SourceConfig{Secret: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, raw("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "m1", body), now, ""},
		{"previous secret still accepted", gateway.SourceConfig{Secret: "new-key", Options: map[string]any{"previous_secrets": []any{"old-key"}}}, raw("old-key", "m1", body), now, ""},
		{"unknown secret", gateway.SourceConfig{Secret: "new-key"}, raw("old-key", "m1", body), now, gateway.VerifyBadSignature},
		{"custom tolerance accepts 9 minutes", gateway.SourceConfig{Secret: "k", Tolerance: 10 * time.Minute}, raw("k", "m1", body), now.Add(9 * time.Minute), ""},
		{"custom tolerance rejects 11 minutes", gateway.SourceConfig{Secret: "k", Tolerance: 10 * time.Minute}, raw("k", "m1", body), now.Add(11 * time.Minute), gateway.VerifyStaleTimestamp},
		{"insecure without secret accepts unsigned", gateway.SourceConfig{Insecure: true}, "", now, ""},
		{"insecure with a secret still verifies", gateway.SourceConfig{Secret: "k", Insecure: true}, raw("x", "m1", body), now, gateway.VerifyBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Name, tt.cfg.Kind = "crm", Kind
			src, err := NewSource(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			err = src.Verify(request("m1", ts, tt.sig, body, tt.at))
			if got := reasonOf(err); got != tt.want {
				t.Fatalf("Verify = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestSignRoundTrip(t *testing.T) {
	key, _ := DecodeSecret(vectorSecret)
	sent, _ := strconv.ParseInt(vectorTimestamp, 10, 64)
	if got := Sign(key, vectorID, time.Unix(sent, 0), []byte(vectorBody)); got != vectorSignature {
		t.Fatalf("Sign = %s, want %s", got, vectorSignature)
	}
}

func TestNewSourceErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  gateway.SourceConfig
		want string
	}{
		{"no secret", gateway.SourceConfig{Name: "crm"}, `source "crm": no secret; set secret (the sender's signing secret) or insecure: true`},
		{"bad whsec", gateway.SourceConfig{Name: "crm", Secret: "whsec_%%%notbase64"}, "standard base64"},
		{"empty whsec", gateway.SourceConfig{Name: "crm", Secret: "whsec_"}, "empty"},
		{"unknown option", gateway.SourceConfig{Name: "crm", Secret: "k", Options: map[string]any{"public_url": "x"}}, `unknown option "public_url" for kind "generic"`},
		{"previous without current", gateway.SourceConfig{Name: "crm", Insecure: true, Options: map[string]any{"previous_secrets": []any{"old"}}}, "secret is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewSource(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewSource = %v, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "notbase64") {
				t.Errorf("error %q echoes the secret", err)
			}
		})
	}
}

func TestSourceParseUsesHeaders(t *testing.T) {
	src, err := NewSource(gateway.SourceConfig{Name: "crm", Kind: Kind, Secret: "k"})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	res, err := src.Parse(request("msg_9", "1", "", `[{"type":"call.missed","customer":{"email":"a@x.com"}},{"type":"nope"}]`, at))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != 1 || res.Ignored != 1 || res.Events[0].ID != "msg_9#0" || res.Events[0].Source != "crm" || !res.Events[0].At.Equal(at) {
		t.Fatalf("Parse = %+v", res)
	}
}

func BenchmarkVerifyAndParse(b *testing.B) {
	src, err := NewSource(gateway.SourceConfig{Name: "crm", Kind: Kind, Secret: vectorSecret})
	if err != nil {
		b.Fatal(err)
	}
	key, _ := DecodeSecret(vectorSecret)
	now := time.Unix(1_800_000_000, 0)
	body := `{"type":"survey.response","customer":{"email":"ana@example.com","phone":"+34600111222"},"csat":2,"text":"slow","tags":["vip"]}`
	req := request("msg_1", strconv.FormatInt(now.Unix(), 10), Sign(key, "msg_1", now, []byte(body)), body, now)
	b.ReportAllocs()
	for b.Loop() {
		if err := src.Verify(req); err != nil {
			b.Fatal(err)
		}
		if _, err := src.Parse(req); err != nil {
			b.Fatal(err)
		}
	}
}
