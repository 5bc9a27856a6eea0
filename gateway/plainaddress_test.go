package gateway

import (
	"net/mail"
	"testing"
)

// FuzzPlainAddress holds the fast path of NormalizeEmail to net/mail's verdict: every
// address plainAddress accepts, net/mail accepts unchanged.
func FuzzPlainAddress(f *testing.F) {
	for _, s := range []string{
		"ana@example.com", "ana.maria+promo@mail.example.es", "a@b", "x_y%z-1@sub-domain.example",
		".ana@example.com", "ana.@example.com", "an..a@example.com", "ana@example..com", "ana@-x.com",
		"ana@@example.com", "@example.com", "ana@", "ana@example.com.", "ñ@example.com",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !plainAddress(s) {
			return
		}
		addr, err := mail.ParseAddress(s)
		if err != nil || addr.Address != s || addr.Name != "" {
			t.Fatalf("plainAddress(%q) but net/mail says %v, %+v", s, err, addr)
		}
	})
}

func TestPlainAddressAgreesWithTheFullParse(t *testing.T) {
	for _, tc := range []struct {
		in    string
		plain bool
	}{
		{"ana@example.com", true},
		{"ana.maria+promo@mail.example.es", true},
		{"ana@localhost", true},
		{".ana@example.com", false},
		{"ana..b@example.com", false},
		{"ana@example.com.", false},
		{"\"ana\"@example.com", false}, // valid, but for the full parse
		{"ana@[192.0.2.1]", false},
	} {
		if got := plainAddress(tc.in); got != tc.plain {
			t.Errorf("plainAddress(%q) = %v, want %v", tc.in, got, tc.plain)
		}
		// Either way NormalizeEmail decides as before.
		_, err := NormalizeEmail(tc.in)
		_, perr := mail.ParseAddress(tc.in)
		if tc.plain && (err != nil || perr != nil) {
			t.Errorf("%q: NormalizeEmail %v, net/mail %v", tc.in, err, perr)
		}
	}
}
