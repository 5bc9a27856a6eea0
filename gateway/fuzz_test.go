package gateway_test

import (
	"math"
	"math/big"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/hush-gateway/hush/gateway"
)

// Fuzz targets of the identity normalizers and the duration reader. Identities are keys:
// a customer stored under one string is looked up again under the same string, so every
// normalizer must be a fixpoint (normalizing its own output changes nothing) and must agree
// with ParseIdentity, the door through which APIs and the console read them back.

// FuzzNormalizeEmail: NormalizeEmail(NormalizeEmail(x)) == NormalizeEmail(x); an accepted
// address is lower case, has no surrounding space, one '@' with text on both sides, fits
// the identity bound, and ParseIdentity reads the identity back unchanged.
func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{
		"ana@example.com", " Ana@Example.COM ", "ana+tag@sub.example.co.uk", `"a b"@example.com`,
		"Ana <ana@example.com>", "ana@", "@example.com", "a@b@c", "ana@[127.0.0.1]", "ÁNA@EXAMPLE.ES",
		"ana@example.com.", "a\x00@b.c", "\xff@b.c", "ana(comment)@example.com", "a@b", strings.Repeat("a", 330) + "@b.c",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		id, err := gateway.NormalizeEmail(in)
		if err != nil {
			if id != "" {
				t.Fatalf("NormalizeEmail(%q) = %q with error %v", in, id, err)
			}
			return
		}
		v := id.Value()
		if id.Kind() != gateway.KindEmail || string(id) != "email:"+v {
			t.Fatalf("NormalizeEmail(%q) = %q: not an email identity", in, id)
		}
		if len(id) > gateway.MaxIdentityLength {
			t.Fatalf("NormalizeEmail(%q) = %q: longer than %d", in, id, gateway.MaxIdentityLength)
		}
		if v != strings.ToLower(v) || v != strings.TrimSpace(v) {
			t.Fatalf("NormalizeEmail(%q) = %q: not lower case and trimmed", in, id)
		}
		if at := strings.LastIndexByte(v, '@'); at <= 0 || at == len(v)-1 {
			t.Fatalf("NormalizeEmail(%q) = %q: no local part or domain", in, id)
		}
		again, err := gateway.NormalizeEmail(v)
		if err != nil || again != id {
			t.Fatalf("not idempotent: %q → %q → %q (%v)", in, id, again, err)
		}
		back, err := gateway.ParseIdentity(string(id), "")
		if err != nil || back != id {
			t.Fatalf("ParseIdentity(%q) = %q, %v: the identity does not read back", id, back, err)
		}
	})
}

// FuzzNormalizePhone: an accepted number is "phone:+" and digits only (E.164, at most 15
// digits), normalizing its value again gives the same identity whatever the default region,
// and ParseIdentity reads it back.
func FuzzNormalizePhone(f *testing.F) {
	for _, s := range [][2]string{
		{"+34600111222", ""}, {"600 111 222", "ES"}, {"0034 600 111 222", "es"}, {"whatsapp:+14155550100", ""},
		{"tel:+44 20 7946 0958", ""}, {"(415) 555-0100", "US"}, {"+27 0000000", ""}, {"+1 800 FLOWERS", "US"},
		{"++34600111222", "ES"}, {"600111222", "ZZ"}, {"+٣٤٦٠٠١١١٢٢٢", ""}, {"+34 600 111 222 ext. 12", ""}, {"12", "ES"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, in, region string) {
		id, err := gateway.NormalizePhone(in, region)
		if err != nil {
			if id != "" {
				t.Fatalf("NormalizePhone(%q, %q) = %q with error %v", in, region, id, err)
			}
			return
		}
		v := id.Value()
		if id.Kind() != gateway.KindPhone || len(v) < 2 || len(v) > 16 || v[0] != '+' {
			t.Fatalf("NormalizePhone(%q, %q) = %q: not E.164", in, region, id)
		}
		for _, r := range v[1:] {
			if r < '0' || r > '9' {
				t.Fatalf("NormalizePhone(%q, %q) = %q: not E.164", in, region, id)
			}
		}
		for _, r2 := range []string{region, "", "US"} {
			again, err := gateway.NormalizePhone(v, r2)
			if err != nil || again != id {
				t.Fatalf("not idempotent: (%q, %q) → %q → (region %q) %q (%v)", in, region, id, r2, again, err)
			}
		}
		back, err := gateway.ParseIdentity(string(id), "")
		if err != nil || back != id {
			t.Fatalf("ParseIdentity(%q) = %q, %v: the identity does not read back", id, back, err)
		}
	})
}

// FuzzVendorIdentity: an accepted vendor id is "vendor:id" with a lower-case vendor name
// and no control character, VendorIdentity of its own parts gives it back, and
// ParseIdentity reads it back as the same vendor id (never as an email or a phone).
func FuzzVendorIdentity(f *testing.F) {
	for _, s := range [][2]string{
		{"zendesk", "8841"}, {"Intercom", " 5f1c "}, {"customerio", "cio_01HX"}, {"braze", "ext:id:with:colons"},
		{"email", "ana@example.com"}, {"phone", "+34600111222"}, {"whatsapp", "+34600111222"}, {"x", "a\x00b"},
		{"crm", "+34600111222"}, {"crm", "ana@example.com"}, {"mailto", "1"}, {"tel", "600111222"}, {"sms", "1"},
		{"a b", "1"}, {"ü", "1"}, {strings.Repeat("v", 33), "1"}, {"v", strings.Repeat("9", 320)},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, vendor, in string) {
		id, err := gateway.VendorIdentity(vendor, in)
		if err != nil {
			if id != "" {
				t.Fatalf("VendorIdentity(%q, %q) = %q with error %v", vendor, in, id, err)
			}
			return
		}
		if len(id) > gateway.MaxIdentityLength {
			t.Fatalf("VendorIdentity(%q, %q) = %q: longer than %d", vendor, in, id, gateway.MaxIdentityLength)
		}
		k, v := id.Kind(), id.Value()
		if k == "" || k != strings.ToLower(k) || k == gateway.KindEmail || k == gateway.KindPhone {
			t.Fatalf("VendorIdentity(%q, %q) = %q: bad vendor name", vendor, in, id)
		}
		if strings.IndexFunc(v, unicode.IsControl) >= 0 || v != strings.TrimSpace(v) || v == "" {
			t.Fatalf("VendorIdentity(%q, %q) = %q: bad id", vendor, in, id)
		}
		again, err := gateway.VendorIdentity(k, v)
		if err != nil || again != id {
			t.Fatalf("not idempotent: (%q, %q) → %q → %q (%v)", vendor, in, id, again, err)
		}
		back, err := gateway.ParseIdentity(string(id), "")
		if err != nil || back != id {
			t.Fatalf("ParseIdentity(%q) = %q, %v: a vendor id must read back as itself", id, back, err)
		}
	})
}

// durationPart is one number-and-unit of a duration as ParseDuration reads it.
var durationPart = regexp.MustCompile(`([0-9.]+)([^0-9.]*)`)

var durationUnits = map[string]float64{
	"ns": 1, "us": 1e3, "µs": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9, "h": 3600e9, "d": 86400e9, "w": 604800e9,
}

// FuzzParseDuration: an accepted duration is not negative and is, within float rounding,
// the exact sum of its parts (a sum that does not fit is refused, never wrapped around);
// FormatDuration writes it in a form ParseDuration reads back to the same value; and
// UnmarshalText agrees with ParseDuration.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{
		"90s", "15m", "24h", "15d", "2w", "1d12h", "0", " 1h ", "1.5h", ".5s", "1h0m0.5s", "1µs", "250ms",
		"3y", "-1h", "1", "h", "1..5s", "9223372036854775807ns", "15250w", "1e3s", "0x10s", "1h 30m",
		"7000w7000w7000w7000w7000w",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		d, err := gateway.ParseDuration(in)
		var text gateway.Duration
		if uerr := text.UnmarshalText([]byte(in)); (uerr == nil) != (err == nil) || time.Duration(text) != d {
			t.Fatalf("UnmarshalText(%q) = %v, %v; ParseDuration = %v, %v", in, text, uerr, d, err)
		}
		if err != nil {
			return
		}
		if d < 0 {
			t.Fatalf("ParseDuration(%q) = %v: negative", in, d)
		}
		want := new(big.Float)
		for _, m := range durationPart.FindAllStringSubmatch(strings.TrimSpace(in), -1) {
			n, _, err := big.ParseFloat(m[1], 10, 64, big.ToNearestEven)
			if err != nil {
				return // "0" alone has no unit; a part the regexp splits otherwise is not the point here
			}
			want.Add(want, n.Mul(n, big.NewFloat(durationUnits[m[2]])))
		}
		if got, _ := want.Float64(); math.Abs(float64(d)-got) > 1e-9*got+float64(len(in)) {
			t.Fatalf("ParseDuration(%q) = %d ns, the parts add up to %.0f ns", in, int64(d), got)
		}
		back, err := gateway.ParseDuration(gateway.FormatDuration(d))
		if err != nil || back != d {
			t.Fatalf("FormatDuration(%v) = %q reads back as %v (%v)", d, gateway.FormatDuration(d), back, err)
		}
	})
}
