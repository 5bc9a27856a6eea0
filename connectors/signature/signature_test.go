package signature

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

func reason(err error) gateway.VerifyReason {
	var v *gateway.VerifyError
	if errors.As(err, &v) {
		return v.Reason
	}
	return ""
}

// independentHMAC computes the expected value with the standard library directly, so the
// tests do not check HMAC.Sign against itself.
func independentHMAC(secret, msg string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func TestHMACVerify(t *testing.T) {
	const secret, body = "s3cret", `{"hello":"world"}`
	sum := independentHMAC(secret, body)
	hexSig := hex.EncodeToString(sum)
	b64 := base64.StdEncoding.EncodeToString(sum)
	flipped := append([]byte(nil), sum...)
	flipped[0] ^= 1

	tests := []struct {
		name     string
		scheme   HMAC
		received string
		secret   string
		want     gateway.VerifyReason // "" means accepted
	}{
		{"hex", HMAC{Hash: sha256.New, Encoding: Hex}, hexSig, secret, ""},
		{"hex upper case", HMAC{Hash: sha256.New, Encoding: Hex}, strings.ToUpper(hexSig), secret, ""},
		{"hex with prefix", HMAC{Hash: sha256.New, Encoding: Hex, Prefix: "sha256="}, "sha256=" + hexSig, secret, ""},
		{"prefix is optional", HMAC{Hash: sha256.New, Encoding: Hex, Prefix: "sha256="}, hexSig, secret, ""},
		{"prefix case-insensitive", HMAC{Hash: sha256.New, Encoding: Hex, Prefix: "sha256="}, "SHA256=" + hexSig, secret, ""},
		{"base64", HMAC{Hash: sha256.New, Encoding: Base64}, b64, secret, ""},
		{"base64 unpadded", HMAC{Hash: sha256.New, Encoding: Base64}, strings.TrimRight(b64, "="), secret, ""},
		{"base64url", HMAC{Hash: sha256.New, Encoding: Base64URL}, base64.RawURLEncoding.EncodeToString(sum), secret, ""},
		{"nil hash is sha256", HMAC{Encoding: Hex}, hexSig, secret, ""},
		{"flipped bit", HMAC{Hash: sha256.New, Encoding: Hex}, hex.EncodeToString(flipped), secret, gateway.VerifyBadSignature},
		{"wrong secret", HMAC{Hash: sha256.New, Encoding: Hex}, hexSig, "other", gateway.VerifyBadSignature},
		{"other hash", HMAC{Hash: sha512.New, Encoding: Hex}, hexSig, secret, gateway.VerifyBadSignature},
		{"truncated", HMAC{Hash: sha256.New, Encoding: Hex}, hexSig[:40], secret, gateway.VerifyBadSignature},
		{"not hex", HMAC{Hash: sha256.New, Encoding: Hex}, "zz" + hexSig[2:], secret, gateway.VerifyMalformedHeader},
		{"hex given to base64 scheme", HMAC{Hash: sha256.New, Encoding: Base64}, hexSig, secret, gateway.VerifyBadSignature},
		{"empty signature", HMAC{Hash: sha256.New, Encoding: Hex}, "", secret, gateway.VerifyMissingHeader},
		{"prefix only", HMAC{Hash: sha256.New, Encoding: Hex, Prefix: "sha256="}, "sha256=", secret, gateway.VerifyMalformedHeader},
		{"no secret", HMAC{Hash: sha256.New, Encoding: Hex}, hexSig, "", gateway.VerifyMissingSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.scheme.Verify([]byte(tt.secret), tt.received, []byte(body))
			if got := reason(err); got != tt.want {
				t.Fatalf("Verify() = %v, want reason %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), hexSig) || err != nil && strings.Contains(err.Error(), tt.secret) && tt.secret != "" {
				t.Fatalf("error %q leaks the signature or the secret", err)
			}
		})
	}
}

func TestHMACVerifyMessageParts(t *testing.T) {
	// Timestamp + body schemes pass the parts separately; they must be hashed as one string.
	s := HMAC{Hash: sha256.New, Encoding: Hex}
	sig := hex.EncodeToString(independentHMAC("k", "v0:1700000000:body"))
	if err := s.Verify([]byte("k"), sig, []byte("v0:"), []byte("1700000000"), []byte(":body")); err != nil {
		t.Fatalf("parts: %v", err)
	}
	if err := s.Verify([]byte("k"), sig, []byte("v0:1700000001:body")); reason(err) != gateway.VerifyBadSignature {
		t.Fatalf("another timestamp accepted: %v", err)
	}
}

func TestHMACVerifyAnyRotation(t *testing.T) {
	s := HMAC{Hash: sha256.New, Encoding: Base64}
	msg := []byte("payload")
	oldSig := base64.StdEncoding.EncodeToString(independentHMAC("old", "payload"))
	newSig := base64.StdEncoding.EncodeToString(independentHMAC("new", "payload"))
	tests := []struct {
		name     string
		secrets  []string
		received []string
		want     gateway.VerifyReason
	}{
		{"sender signs with both, receiver knows new", []string{"new"}, []string{oldSig, newSig}, ""},
		{"sender signs with old, receiver knows both", []string{"new", "old"}, []string{oldSig}, ""},
		{"garbage then valid", []string{"new"}, []string{"!!!", newSig}, ""},
		{"neither matches", []string{"third"}, []string{oldSig, newSig}, gateway.VerifyBadSignature},
		{"nothing received", []string{"new"}, nil, gateway.VerifyMissingHeader},
		{"only blanks received", []string{"new"}, []string{"", " "}, gateway.VerifyMissingHeader},
		{"only empty secrets", []string{"", ""}, []string{newSig}, gateway.VerifyMissingSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var secrets [][]byte
			for _, s := range tt.secrets {
				secrets = append(secrets, []byte(s))
			}
			if got := reason(s.VerifyAny(secrets, tt.received, msg)); got != tt.want {
				t.Fatalf("reason = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestStandardWebhooksVector(t *testing.T) {
	// The test vector published with the Standard Webhooks reference libraries: secret
	// whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw (base64 after the prefix), this id, timestamp
	// and body, signed "id.timestamp.body".
	key, err := base64.StdEncoding.DecodeString("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	s := HMAC{Hash: sha256.New, Encoding: Base64}
	got := "v1," + s.Sign(key, []byte("msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330."), []byte(`{"test": 2432232314}`))
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

func TestTwilioVector(t *testing.T) {
	// The example in Twilio's request-validation documentation: auth token 12345, this URL
	// and these five POST parameters.
	params := url.Values{
		"CallSid": {"CA1234567890ABCDE"},
		"Caller":  {"+14158675309"},
		"Digits":  {"1234"},
		"From":    {"+14158675309"},
		"To":      {"+18005551212"},
	}
	const u = "https://mycompany.com/myapp.php?foo=1&bar=2"
	const want = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
	if got := TwilioSign([]byte("12345"), u, params); got != want {
		t.Fatalf("TwilioSign = %s, want %s", got, want)
	}
	if err := VerifyTwilio([]byte("12345"), u, params, want); err != nil {
		t.Fatalf("VerifyTwilio: %v", err)
	}
	// An independent computation of the documented string-to-sign.
	m := hmac.New(sha1.New, []byte("12345"))
	m.Write([]byte(u + "CallSidCA1234567890ABCDECaller+14158675309Digits1234From+14158675309To+18005551212"))
	if got := base64.StdEncoding.EncodeToString(m.Sum(nil)); got != want {
		t.Fatalf("independent computation = %s", got)
	}

	tampered := url.Values{}
	for k, v := range params {
		tampered[k] = v
	}
	tampered.Set("Digits", "9999")
	tests := []struct {
		name   string
		token  string
		url    string
		params url.Values
		sig    string
		want   gateway.VerifyReason
	}{
		{"tampered parameter", "12345", u, tampered, want, gateway.VerifyBadSignature},
		{"other URL", "12345", "https://mycompany.com/myapp.php?foo=1", params, want, gateway.VerifyBadSignature},
		{"other token", "54321", u, params, want, gateway.VerifyBadSignature},
		{"missing signature", "12345", u, params, "", gateway.VerifyMissingHeader},
		{"no token configured", "", u, params, want, gateway.VerifyMissingSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyTwilio([]byte(tt.token), tt.url, tt.params, tt.sig)
			if got := reason(err); got != tt.want {
				t.Fatalf("reason = %q (%v), want %q", got, err, tt.want)
			}
		})
	}
}

func TestCheckTimestamp(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	tests := []struct {
		name string
		ts   time.Time
		ok   bool
	}{
		{"now", now, true},
		{"4m59s old", now.Add(-299 * time.Second), true},
		{"exactly the tolerance", now.Add(-5 * time.Minute), true},
		{"5m01s old", now.Add(-301 * time.Second), false},
		{"4m in the future", now.Add(4 * time.Minute), true},
		{"6m in the future", now.Add(6 * time.Minute), false},
		{"years old", time.Unix(0, 0), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckTimestamp(tt.ts, now, 5*time.Minute)
			if tt.ok != (err == nil) {
				t.Fatalf("CheckTimestamp = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && reason(err) != gateway.VerifyStaleTimestamp {
				t.Fatalf("reason = %q", reason(err))
			}
		})
	}
}

func TestParseUnixSeconds(t *testing.T) {
	tests := []struct {
		in   string
		want gateway.VerifyReason
	}{
		{"1614265330", ""},
		{" 1614265330 ", ""},
		{"", gateway.VerifyMissingHeader},
		{"1614265330.5", gateway.VerifyMalformedHeader},
		{"-1", gateway.VerifyMalformedHeader},
		{"99999999999999999999", gateway.VerifyMalformedHeader},
		{"2021-02-25T15:02:10Z", gateway.VerifyMalformedHeader},
	}
	for _, tt := range tests {
		ts, err := ParseUnixSeconds("webhook-timestamp", tt.in)
		if got := reason(err); got != tt.want {
			t.Errorf("ParseUnixSeconds(%q) = %v, want %q", tt.in, err, tt.want)
		}
		if err == nil && ts.Unix() != 1614265330 {
			t.Errorf("ParseUnixSeconds(%q) = %d", tt.in, ts.Unix())
		}
		if err != nil && !strings.Contains(err.Error(), "webhook-timestamp") {
			t.Errorf("error %q does not name the header", err)
		}
	}
}

func TestVerifyToken(t *testing.T) {
	tests := []struct {
		expected, received string
		want               gateway.VerifyReason
	}{
		{"tok-123", "tok-123", ""},
		{"tok-123", "tok-124", gateway.VerifyBadSignature},
		{"tok-123", "tok-1234", gateway.VerifyBadSignature},
		{"tok-123", "", gateway.VerifyMissingHeader},
		{"", "tok-123", gateway.VerifyMissingSecret},
	}
	for _, tt := range tests {
		if got := reason(VerifyToken(tt.expected, tt.received)); got != tt.want {
			t.Errorf("VerifyToken(%q, %q) = %q, want %q", tt.expected, tt.received, got, tt.want)
		}
	}
}

func TestParseList(t *testing.T) {
	tests := []struct {
		in   string
		want []Entry
		err  gateway.VerifyReason
	}{
		{"v1,abc", []Entry{{"v1", "abc"}}, ""},
		{"v1,abc= v1,def==", []Entry{{"v1", "abc="}, {"v1", "def=="}}, ""},
		{"v1,abc  v1a,xyz", []Entry{{"v1", "abc"}, {"v1a", "xyz"}}, ""},
		{"v1=a,v1=b", []Entry{{"v1", "a"}, {"v1", "b"}}, ""},
		{"t=1492774577,v1=5257a8,v0=6ffbb5", []Entry{{"t", "1492774577"}, {"v1", "5257a8"}, {"v0", "6ffbb5"}}, ""},
		{"v1=abc==,v1=d", []Entry{{"v1", "abc=="}, {"v1", "d"}}, ""},
		{"", nil, gateway.VerifyMissingHeader},
		{"   ", nil, gateway.VerifyMissingHeader},
		{"abc", nil, gateway.VerifyMalformedHeader},
		{"v1,", nil, gateway.VerifyMalformedHeader},
		{",abc", nil, gateway.VerifyMalformedHeader},
		{"v1=a,junk", nil, gateway.VerifyMalformedHeader},
	}
	for _, tt := range tests {
		got, err := ParseList(tt.in)
		if r := reason(err); r != tt.err {
			t.Errorf("ParseList(%q) error = %v, want %q", tt.in, err, tt.err)
			continue
		}
		if len(got) != len(tt.want) {
			t.Errorf("ParseList(%q) = %v, want %v", tt.in, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("ParseList(%q)[%d] = %v, want %v", tt.in, i, got[i], tt.want[i])
			}
		}
	}
	if v := Values([]Entry{{"t", "1"}, {"v1", "a"}, {"v0", "x"}, {"v1", "b"}}, "v1"); strings.Join(v, ",") != "a,b" {
		t.Errorf("Values = %v", v)
	}
}

func FuzzParseList(f *testing.F) {
	for _, s := range []string{"v1,abc v1,def", "v1=a,v1=b", "t=1,v1=x", "", ",", "=", "v1,a=b,c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		entries, err := ParseList(s)
		if err != nil {
			if !gateway.IsVerifyError(err) {
				t.Fatalf("error is not a VerifyError: %v", err)
			}
			return
		}
		for _, e := range entries {
			if e.Version == "" || e.Value == "" || strings.ContainsAny(e.Version+e.Value, " \t\n") {
				t.Fatalf("bad entry %q from %q", e, s)
			}
		}
	})
}

func FuzzHMACVerify(f *testing.F) {
	f.Add([]byte("secret"), "sha256=00", []byte("body"))
	f.Add([]byte(""), "", []byte(""))
	f.Fuzz(func(t *testing.T, secret []byte, received string, body []byte) {
		s := HMAC{Hash: sha256.New, Encoding: Hex, Prefix: "sha256="}
		err := s.Verify(secret, received, body)
		if err != nil && !gateway.IsVerifyError(err) {
			t.Fatalf("error is not a VerifyError: %v", err)
		}
		if len(secret) == 0 && err == nil {
			t.Fatal("accepted with no secret")
		}
		// The real signature always verifies; a received value that verifies must equal it.
		good := s.Sign(secret, body)
		if len(secret) > 0 {
			if err := s.Verify(secret, good, body); err != nil {
				t.Fatalf("own signature rejected: %v", err)
			}
			if err == nil && !strings.EqualFold(strings.TrimPrefix(strings.ToLower(strings.TrimSpace(received)), "sha256="), strings.TrimPrefix(good, "sha256=")) {
				t.Fatalf("accepted %q, want only %q", received, good)
			}
		}
	})
}

func FuzzTwilio(f *testing.F) {
	f.Add([]byte("12345"), "https://example.com/h", "To=%2B1&Body=hi", "")
	f.Fuzz(func(t *testing.T, token []byte, u, form, received string) {
		params, _ := url.ParseQuery(form)
		err := VerifyTwilio(token, u, params, received)
		if err != nil && !gateway.IsVerifyError(err) {
			t.Fatalf("error is not a VerifyError: %v", err)
		}
		if len(token) > 0 {
			if err := VerifyTwilio(token, u, params, TwilioSign(token, u, params)); err != nil {
				t.Fatalf("own signature rejected: %v", err)
			}
		}
	})
}

func TestVerifyTimestamped(t *testing.T) {
	// Slack's scheme as an example: "v0:" + timestamp + ":" + body, hex, "v0=" prefix.
	s := HMAC{Hash: sha256.New, Encoding: Hex, Prefix: "v0="}
	now := time.Unix(1_700_000_000, 0)
	ts := "1700000000"
	body := []byte("token=x&team_id=T1")
	good := "v0=" + hex.EncodeToString(independentHMAC("slack", "v0:"+ts+":"+string(body)))
	tests := []struct {
		name     string
		received string
		at       time.Time
		want     gateway.VerifyReason
	}{
		{"fresh and authentic", good, now.Add(time.Minute), ""},
		{"authentic but stale", good, now.Add(10 * time.Minute), gateway.VerifyStaleTimestamp},
		{"stale and forged reports the signature", "v0=" + strings.Repeat("0", 64), now.Add(10 * time.Minute), gateway.VerifyBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.VerifyTimestamped([][]byte{[]byte("slack")}, []string{tt.received}, now, tt.at, 5*time.Minute,
				[]byte("v0:"+ts+":"), body)
			if got := reason(err); got != tt.want {
				t.Fatalf("VerifyTimestamped = %v, want %q", err, tt.want)
			}
		})
	}
}

func BenchmarkHMACVerify(b *testing.B) {
	s := HMAC{Hash: sha256.New, Encoding: Base64}
	body := []byte(strings.Repeat(`{"type":"survey.response","csat":1}`, 30))
	sig := s.Sign([]byte("key"), body)
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Verify([]byte("key"), sig, body); err != nil {
			b.Fatal(err)
		}
	}
}
