package console

import (
	"errors"
	"testing"
	"time"
)

// FuzzSessionVerify: any cookie value a browser presents is either a session signed with a
// configured token's secret or one of the typed refusals; nothing panics, a refused value has
// no CSRF token, and an accepted one is refused once any of its bytes changes. (The seed
// session is issued afresh in every fuzz worker, with its own random part, so the test
// cannot compare against one value.)
func FuzzSessionVerify(f *testing.F) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	s := NewSessions(func(name string) (string, bool) {
		return "secret-of-" + name, name == "ops" || name == "lead"
	}, func() time.Time { return now }, time.Hour)
	valid, _, err := s.Issue("ops")
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{valid, "", ".", "..", "b3Bz.1.x", valid + "x", "b3Bz." + valid, "bGVhZA.99999999999.abc"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, value string) {
		name, err := s.Verify(value)
		switch {
		case err == nil:
			if name != "ops" {
				t.Fatalf("Verify(%q) accepted a session for %q, which was never issued", value, name)
			}
			for i := range len(value) {
				tampered := []byte(value)
				tampered[i] ^= 1
				if _, err := s.Verify(string(tampered)); err == nil {
					t.Fatalf("Verify accepted %q, %q with byte %d changed", tampered, value, i)
				}
			}
		case errors.Is(err, ErrNoSession), errors.Is(err, ErrSessionInvalid), errors.Is(err, ErrSessionExpired):
			if s.CSRF(value) != "" || s.CheckCSRF(value, "") {
				t.Fatalf("refused session %q still has a CSRF token", value)
			}
		default:
			t.Fatalf("Verify(%q): untyped error %v", value, err)
		}
	})
}

// FuzzNegotiate: any Accept-Language header and language cookie give one of the console's
// languages, and a cookie naming one always wins.
func FuzzNegotiate(f *testing.F) {
	for _, seed := range [][2]string{
		{"es-ES,es;q=0.9,en;q=0.8", ""}, {"en-GB", ""}, {"fr-FR, de;q=0.5", ""}, {"*", ""},
		{"en;q=0", "es"}, {"", "EN"}, {"es-419", "xx"}, {";;;q=abc,", ""}, {"zh-Hant-TW;q=0.7", "en-US"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, accept, cookie string) {
		got := Negotiate(accept, cookie, English)
		if got != Spanish && got != English {
			t.Fatalf("Negotiate(%q, %q) = %q", accept, cookie, got)
		}
		if want, ok := ParseLang(cookie); ok && got != want {
			t.Fatalf("Negotiate(%q, %q) = %q, want the cookie's %q", accept, cookie, got, want)
		}
	})
}
