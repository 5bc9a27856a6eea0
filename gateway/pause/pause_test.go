package pause

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

var start = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func signer(t *testing.T, secret string, now *time.Time) *Signer {
	t.Helper()
	s, err := NewSigner([]byte(secret), func() time.Time { return *now })
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRoundTrip(t *testing.T) {
	now := start.Add(123 * time.Millisecond)
	s := signer(t, "pause-secret-0123456789abcdef", &now)
	tok, minted, err := s.Mint("cus_01ABC", 30*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(tok, "+/=") {
		t.Errorf("token %q is not base64url without padding", tok)
	}
	got, err := s.Verify(tok)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if got != minted {
		t.Errorf("claims %+v, minted %+v", got, minted)
	}
	if got.CustomerID != "cus_01ABC" || !got.IssuedAt.Equal(start) || !got.ExpiresAt.Equal(start.Add(30*24*time.Hour)) {
		t.Errorf("claims %+v", got)
	}
	// Two links for the same customer at the same second differ (the nonce).
	tok2, _, err := s.Mint("cus_01ABC", 30*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if tok2 == tok {
		t.Error("two minted tokens are equal")
	}
}

func TestMintRefuses(t *testing.T) {
	now := start
	s := signer(t, "pause-secret-0123456789abcdef", &now)
	for name, c := range map[string]struct {
		id  string
		ttl time.Duration
	}{
		"empty id":     {"", time.Hour},
		"long id":      {strings.Repeat("x", 256), time.Hour},
		"zero ttl":     {"cus_a", 0},
		"negative ttl": {"cus_a", -time.Hour},
	} {
		if _, _, err := s.Mint(c.id, c.ttl); err == nil {
			t.Errorf("%s: minted", name)
		}
	}
	if _, err := NewSigner([]byte("short"), nil); err == nil {
		t.Error("a 5-byte secret was accepted")
	}
}

// TestTamperEveryByte flips each bit of every byte of a token: none may verify.
func TestTamperEveryByte(t *testing.T) {
	now := start
	s := signer(t, "pause-secret-0123456789abcdef", &now)
	tok, _, err := s.Mint("cus_tamper", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		t.Fatal(err)
	}
	for i := range raw {
		for bit := range 8 {
			b := append([]byte(nil), raw...)
			b[i] ^= 1 << bit
			_, err := s.Verify(base64.RawURLEncoding.EncodeToString(b))
			if err == nil {
				t.Fatalf("byte %d bit %d changed and the token still verifies", i, bit)
			}
			if !errors.Is(err, ErrBadSignature) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("byte %d bit %d: error %v", i, bit, err)
			}
		}
	}
	// And in its text: every character replaced, the token cut, or extended.
	for i := range tok {
		c := byte('A')
		if tok[i] == 'A' {
			c = 'B'
		}
		if _, err := s.Verify(tok[:i] + string(c) + tok[i+1:]); err == nil {
			t.Fatalf("character %d changed and the token still verifies", i)
		}
		if _, err := s.Verify(tok[:i]); err == nil {
			t.Fatalf("token cut at %d verifies", i)
		}
	}
	if _, err := s.Verify(tok + "A"); err == nil {
		t.Fatal("token with a character added verifies")
	}
}

func TestExpired(t *testing.T) {
	now := start
	s := signer(t, "pause-secret-0123456789abcdef", &now)
	tok, c, err := s.Mint("cus_a", 7*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	now = c.ExpiresAt.Add(-time.Second)
	if _, err := s.Verify(tok); err != nil {
		t.Fatalf("a second before expiry: %v", err)
	}
	now = c.ExpiresAt
	if _, err := s.Verify(tok); !errors.Is(err, ErrExpired) {
		t.Fatalf("at expiry: %v, want ErrExpired", err)
	}
	now = c.ExpiresAt.Add(365 * 24 * time.Hour)
	if got, err := s.Verify(tok); !errors.Is(err, ErrExpired) || got.CustomerID != "" {
		t.Fatalf("a year later: %+v %v, want no claims and ErrExpired", got, err)
	}
}

func TestOtherSecret(t *testing.T) {
	now := start
	a := signer(t, "pause-secret-of-hush-a-0123456", &now)
	b := signer(t, "pause-secret-of-hush-b-0123456", &now)
	tok, _, err := a.Mint("cus_a", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Verify(tok); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("another hush's token: %v, want ErrBadSignature", err)
	}
}

// TestCrossCustomer rewrites the customer id of a valid token (same length and other
// lengths, MAC kept): it never verifies, so a token for cus_a can never name cus_b.
func TestCrossCustomer(t *testing.T) {
	now := start
	s := signer(t, "pause-secret-0123456789abcdef", &now)
	tok, _, err := s.Mint("cus_a", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(tok)
	tail := raw[2+len("cus_a"):]
	for _, other := range []string{"cus_b", "cus_", "cus_aa", "cus_a\x00"} {
		b := append([]byte{version, byte(len(other))}, other...)
		b = append(b, tail...)
		got, err := s.Verify(base64.RawURLEncoding.EncodeToString(b))
		if err == nil {
			t.Fatalf("token rewritten for %q verifies: %+v", other, got)
		}
	}
}

// TestSinglePurpose: a MAC computed with the secret for another purpose (or with the raw
// secret, as a console session signs with a token's secret) is not a pause token's MAC.
func TestSinglePurpose(t *testing.T) {
	now := start
	secret := "pause-secret-0123456789abcdef"
	s := signer(t, secret, &now)
	tok, _, err := s.Mint("cus_a", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(tok)
	body := raw[:len(raw)-macSize]
	for _, label := range []string{"hush console session", "hush console csrf", ""} {
		var key []byte
		if label == "" {
			key = []byte(secret)
		} else {
			k := hmac.New(sha256.New, []byte(secret))
			k.Write([]byte(label))
			key = k.Sum(nil)
		}
		m := hmac.New(sha256.New, key)
		m.Write(body)
		forged := base64.RawURLEncoding.EncodeToString(append(append([]byte(nil), body...), m.Sum(nil)...))
		if _, err := s.Verify(forged); !errors.Is(err, ErrBadSignature) {
			t.Errorf("MAC keyed for %q: %v, want ErrBadSignature", label, err)
		}
	}
}

func TestMalformed(t *testing.T) {
	now := start
	s := signer(t, "pause-secret-0123456789abcdef", &now)
	for _, tok := range []string{"", "a", "!!!!", "AQ", strings.Repeat("A", MaxTokenLength+1),
		base64.RawURLEncoding.EncodeToString(make([]byte, fixedSize+5))} {
		if _, err := s.Verify(tok); !errors.Is(err, ErrMalformed) {
			t.Errorf("Verify(%.20q): %v, want ErrMalformed", tok, err)
		}
	}
}
