package pause

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"testing"
	"time"
)

// FuzzPauseToken feeds arbitrary text to Verify: it never panics, and it accepts a token
// only when the token's bytes carry this signer's MAC over the rest (checked here
// independently of Verify's own code path) and the token has not expired.
func FuzzPauseToken(f *testing.F) {
	now := start
	secret := []byte("pause-secret-0123456789abcdef")
	s, err := NewSigner(secret, func() time.Time { return now })
	if err != nil {
		f.Fatal(err)
	}
	for _, id := range []string{"cus_a", "cus_01JABCDEFGHJKMNPQRSTVWXYZ0"} {
		tok, _, err := s.Mint(id, time.Hour)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(tok)
		f.Add(tok[:len(tok)-1])
	}
	f.Add("")
	f.Add("AQ")
	f.Add("////")

	k := hmac.New(sha256.New, secret)
	k.Write([]byte(keyLabel))
	key := k.Sum(nil)

	f.Fuzz(func(t *testing.T, tok string) {
		c, err := s.Verify(tok)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrBadSignature) && !errors.Is(err, ErrExpired) {
				t.Fatalf("untyped error %v", err)
			}
			if c != (Claims{}) {
				t.Fatalf("refused token returned claims %+v", c)
			}
			return
		}
		raw, derr := base64.RawURLEncoding.DecodeString(tok)
		if derr != nil || len(raw) < macSize {
			t.Fatalf("accepted %q, which is not a token", tok)
		}
		m := hmac.New(sha256.New, key)
		m.Write(raw[:len(raw)-macSize])
		if !bytes.Equal(m.Sum(nil), raw[len(raw)-macSize:]) {
			t.Fatalf("accepted %q without this signer's MAC", tok)
		}
		if c.CustomerID == "" || !now.Before(c.ExpiresAt) {
			t.Fatalf("accepted claims %+v", c)
		}
	})
}
